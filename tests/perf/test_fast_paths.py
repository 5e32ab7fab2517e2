"""The fast paths give the numbers of the slow ones: Parquet read without re-validation when its
checksum matches, Cox HR from numbers at risk, subgroup interaction test from cell counts."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from lifelines import CoxPHFitter
from scipy import stats

from dashboard.config import RESPONDER_CATEGORIES
from dashboard.model import dataset as dm
from dashboard.transforms import response as rs
from dashboard.transforms import survival as sv


def _copy_bundle(tmp_path, validated: bool = True):
    folder = tmp_path / "trial"
    shutil.copytree(dm.BUNDLED_DIR, folder)
    if not validated:
        meta = json.loads((folder / dm.METADATA_FILE).read_text())
        del meta[dm.VALIDATED]
        (folder / dm.METADATA_FILE).write_text(json.dumps(meta))
    return folder


def test_bundle_records_the_checksums_of_its_files(bundled):
    meta = json.loads((dm.BUNDLED_DIR / dm.METADATA_FILE).read_text())
    assert meta[dm.VALIDATED] == {f"{name}.parquet": dm.file_sha256(dm.BUNDLED_DIR / f"{name}.parquet")
                                  for name in bundled.tables()}


def test_unchanged_bundle_read_without_validation_equals_the_validated_read(tmp_path, monkeypatch):
    validated = dm.read_model_folder(_copy_bundle(tmp_path / "slow", validated=False))
    calls = []
    monkeypatch.setattr(dm.TrialDataset, "create", classmethod(lambda cls, *a, **k: calls.append(1)))
    fast = dm.read_model_folder(_copy_bundle(tmp_path / "fast"))
    assert calls == []  # not validated again
    assert fast.tables().keys() == validated.tables().keys()
    for name, frame in validated.tables().items():
        pd.testing.assert_frame_equal(fast.tables()[name], frame, check_exact=True, obj=name)
    assert (fast.cutoff, fast.info, fast.report.findings, fast.left_out_counts) == \
        (validated.cutoff, validated.info, [], {})
    assert {k: v for k, v in fast.provenance.items() if k != "files"} == \
        {k: v for k, v in validated.provenance.items() if k != "files"}


def test_a_changed_file_is_validated_again(tmp_path):
    folder = _copy_bundle(tmp_path)
    adae = pd.read_parquet(folder / "adae.parquet")
    adae.loc[0, "USUBJID"] = "NOT-A-PATIENT"  # an AE of nobody: a row-level finding when validated
    adae.to_parquet(folder / "adae.parquet", index=False)
    dataset = dm.read_model_folder(folder)
    assert dataset.left_out("adae") == 1
    assert any(f.table == "adae" for f in dataset.report.row_level)


def test_write_records_checksums_only_for_validated_parquet_without_findings(tmp_path, tiny):
    dm.write_dataset(tiny, tmp_path / "unchecked")
    assert dm.VALIDATED not in json.loads((tmp_path / "unchecked" / dm.METADATA_FILE).read_text())
    dm.write_dataset(tiny, tmp_path / "pq", validated=True)
    recorded = json.loads((tmp_path / "pq" / dm.METADATA_FILE).read_text())[dm.VALIDATED]
    assert set(recorded) == {f"{n}.parquet" for n in tiny.tables()}
    dm.write_dataset(tiny, tmp_path / "csv", fmt="csv", validated=True)
    assert dm.VALIDATED not in json.loads((tmp_path / "csv" / dm.METADATA_FILE).read_text())


def _lifelines_cox(tte, treatment, control):
    d = tte.loc[tte["ARM"].isin([treatment, control])]
    frame = pd.DataFrame({"T": d["TIME"], "E": (d["EVENT"] == sv.EVENT).astype(int), "trt": (d["ARM"] == treatment).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(frame, duration_col="T", event_col="E")
    lower, upper = np.exp(cph.confidence_intervals_.loc["trt"].to_numpy())
    return {"hr": cph.hazard_ratios_["trt"], "lower": lower, "upper": upper, "p": cph.summary.loc["trt", "p"]}


def test_cox_equals_lifelines_efron_on_every_bundled_endpoint(bundled):
    treatment, control = bundled.arms
    for paramcd in sv.tte_parameters(bundled.adtte)["PARAMCD"]:
        tte = sv.tte_data(bundled.adsl, bundled.adtte, paramcd)
        ours, theirs = sv.cox_hazard_ratio(tte, treatment, control), _lifelines_cox(tte, treatment, control)
        for key in ("hr", "lower", "upper", "p"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-5), (paramcd, key)


def test_cox_equals_lifelines_with_many_ties_and_competing_events():
    rng = np.random.default_rng(7)
    n = 400
    tte = pd.DataFrame({"ARM": rng.choice(["T", "C"], n), "TIME": rng.integers(1, 15, n).astype(float),
                        "EVENT": rng.choice([sv.EVENT, sv.COMPETING, sv.CENSORED], n, p=[0.5, 0.2, 0.3])})
    ours, theirs = sv.cox_hazard_ratio(tte, "T", "C"), _lifelines_cox(tte, "T", "C")
    for key in ("hr", "lower", "upper", "p"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-5), key


def test_cox_not_estimable_with_events_in_one_arm_only():
    tte = pd.DataFrame({"ARM": ["T"] * 4 + ["C"] * 4, "TIME": [1.0, 2, 3, 4, 5, 6, 7, 8], "EVENT": [1, 1, 1, 0, 0, 0, 0, 0]})
    assert np.isnan(sv.cox_hazard_ratio(tte, "T", "C")["hr"])


def test_subgroup_interaction_from_cell_counts_equals_the_per_patient_fit(bundled):
    subjects = bundled.randomized
    status = rs.response_status_by_visit(subjects, bundled.adrs, bundled.cutoff)
    visit = status["AVISIT"].iloc[0]
    treatment, control = bundled.arms
    out = rs.subgroup_response_differences(status, subjects, visit, treatment, control, {"SEX": "Sex", "AGVHDGR": "Grade"})
    at = status.loc[(status["AVISIT"] == visit) & status["ARM"].isin([treatment, control])]
    at = at.assign(resp=at["STATUS"].isin(RESPONDER_CATEGORIES).astype(int), trt=(at["ARM"] == treatment).astype(int))
    assert len(out["VARIABLE"].unique()) == 2
    for column in ("SEX", "AGVHDGR"):
        data = at.merge(subjects[["USUBJID", column]], on="USUBJID").dropna(subset=[column])
        data = data.assign(level=data[column].astype(str))
        full = smf.glm("resp ~ trt * C(level)", data=data, family=sm.families.Binomial()).fit()
        reduced = smf.glm("resp ~ trt + C(level)", data=data, family=sm.families.Binomial()).fit()
        expected = stats.chi2.sf(reduced.deviance - full.deviance, full.df_model - reduced.df_model)
        got = out.loc[out["VARIABLE"] == column, "p_interaction"].iloc[0]
        assert got == pytest.approx(expected, rel=1e-6), column
