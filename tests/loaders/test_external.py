"""The public CDISC pilot datasets load, with figures checked against an independent plain read."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pyreadstat
import pytest

from dashboard.cli import main
from dashboard.loaders import load_dataset, validate_path


def _snapshot(folder):
    """Every file's (size, mtime_ns, sha256) and the folder listing."""
    import hashlib

    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def pilot(pilot_dir):
    before = _snapshot(pilot_dir)
    ds = load_dataset(pilot_dir)
    assert _snapshot(pilot_dir) == before, "input files or folder listing changed"
    return ds


@pytest.fixture(scope="module")
def onco(onco_dir):
    before = _snapshot(onco_dir)
    ds = load_dataset(onco_dir)
    assert _snapshot(onco_dir) == before, "input files or folder listing changed"
    return ds


def test_pilot_subjects_per_arm_and_site(pilot, pilot_dir):
    raw, _ = pyreadstat.read_xport(str(pilot_dir / "adsl.xpt"))
    assert len(pilot.adsl) == len(raw) == 254
    assert pilot.randomized["ARM"].value_counts().to_dict() == raw["ARM"].value_counts().to_dict()
    assert len(pilot.arms) == 3
    assert pilot.adsl["SITEID"].value_counts().to_dict() == raw["SITEID"].value_counts().to_dict()
    assert (pilot.adsl["ITTFL"] == "Y").sum() == (raw["ITTFL"] == "Y").sum()
    assert (pilot.adsl["EFFFL"] == "Y").sum() == (raw["EFFFL"] == "Y").sum()


def test_pilot_ae_subjects_by_body_system(pilot, pilot_dir):
    raw, _ = pyreadstat.read_xport(str(pilot_dir / "adae.xpt"))
    expected = raw.groupby("AEBODSYS")["USUBJID"].nunique().to_dict()
    got = pilot.adae.groupby("AEBODSYS")["USUBJID"].nunique().to_dict()
    assert got == expected and len(got) > 10
    assert pilot.adae["AESEV"].value_counts().to_dict() == raw["AESEV"].value_counts().to_dict()


def test_pilot_tte_events_and_censoring(pilot, pilot_dir):
    raw, _ = pyreadstat.read_xport(str(pilot_dir / "adtte.xpt"))
    got = pilot.adtte.groupby(["PARAMCD", "CNSR"]).size().to_dict()
    expected = raw.groupby(["PARAMCD", raw["CNSR"].astype(int)]).size().to_dict()
    assert got == expected
    assert pilot.adtte["AVAL"].sum() == pytest.approx(raw["AVAL"].sum())


def test_pilot_missing_optional_data_and_notices(pilot):
    assert pilot.adrs is None and pilot.adex is None
    rules = {(f.column, f.rule.split(":")[0]) for f in pilot.report.warnings}
    assert ("RANDDT", "randomization date missing") in rules
    ignored = [f for f in pilot.report.warnings if f.source and f.source.endswith("adqscibc.xpt")]
    assert ignored and "not use" in ignored[0].rule


def test_onco_screen_failures_kept_out_of_itt(onco, onco_dir):
    raw = pd.read_csv(onco_dir / "adsl.csv", dtype=str, keep_default_na=False)
    screen_failures = (raw["ARM"] == "Screen Failure").sum()
    assert len(onco.adsl) == len(raw)
    assert (onco.adsl["RANDFL"] == "N").sum() == screen_failures == 52
    assert (onco.adsl.loc[onco.adsl["RANDFL"] == "N", "ITTFL"] == "N").all()
    assert onco.randomized["ARM"].value_counts().to_dict() == raw.loc[raw["ARM"] != "Screen Failure", "ARM"].value_counts().to_dict()


def test_onco_responses_and_tte_with_suffixed_file_names(onco, onco_dir):
    rs = pd.read_csv(onco_dir / "adrs_onco.csv", dtype=str, keep_default_na=False)
    kept = rs[rs["AVALC"] != ""]
    assert onco.adrs.groupby(["PARAMCD", "AVALC"]).size().to_dict() == kept.groupby(["PARAMCD", "AVALC"]).size().to_dict()
    tte = pd.read_csv(onco_dir / "adtte_onco.csv", dtype={"CNSR": int})
    assert onco.adtte.groupby(["PARAMCD", "CNSR"]).size().to_dict() == tte.groupby(["PARAMCD", "CNSR"]).size().to_dict()
    assert set(onco.provenance["files"]) == {"adsl", "adrs", "adtte"}


def _copy(src, dst):
    shutil.copytree(src, dst)
    for p in dst.iterdir():
        os.chmod(p, 0o644)
    return dst


def test_broken_pilot_copy_gives_a_specific_report_and_still_loads(pilot_dir, tmp_path):
    folder = _copy(pilot_dir, tmp_path / "broken")
    adae, meta = pyreadstat.read_xport(str(folder / "adae.xpt"))
    orphan = adae.iloc[[0]].assign(USUBJID="99-999-9999")
    adae = pd.concat([adae, orphan], ignore_index=True)
    pyreadstat.write_xport(adae, str(folder / "adae.xpt"), file_format_version=5, table_name="ADAE")
    adsl, _ = pyreadstat.read_xport(str(folder / "adsl.xpt"))
    adsl = pd.concat([adsl, adsl.iloc[[0]]], ignore_index=True)
    pyreadstat.write_xport(adsl, str(folder / "adsl.xpt"), file_format_version=5, table_name="ADSL")
    report = validate_path(folder)
    assert report.ok
    dup = [f for f in report.row_level if f.column == "USUBJID" and f.rule_id == "duplicate-subject"]
    assert dup and dup[0].source.endswith("adsl.xpt") and "01-701-1015" in " ".join(dup[0].examples)
    orphan = [f for f in report.row_level if f.rule_id == "orphan-record"]
    assert orphan and orphan[0].source.endswith("adae.xpt") and "99-999-9999" in orphan[0].examples[0]
    ds = load_dataset(folder)
    assert len(ds.adsl) == 254 and len(ds.adae) == len(adae) - 1


def test_broken_onco_copy_reports_orphans_and_categories(onco_dir, tmp_path, capsys):
    folder = _copy(onco_dir, tmp_path / "broken")
    rs = pd.read_csv(folder / "adrs_onco.csv", dtype=str, keep_default_na=False)
    rs.loc[0, "USUBJID"] = "NOT-IN-ADSL"
    rs.to_csv(folder / "adrs_onco.csv", index=False)
    sl = pd.read_csv(folder / "adsl.csv", dtype=str, keep_default_na=False)
    sl.loc[1, "SEX"] = "<b>X</b>"
    sl.to_csv(folder / "adsl.csv", index=False)
    code = main(["validate", str(folder), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"] is True and out["left_out"] == {"adrs": 1}
    orphan = [f for f in out["findings"] if f["table"] == "adrs" and f["rule_id"] == "orphan-record"]
    assert orphan and orphan[0]["count"] == 1 and "NOT-IN-ADSL" in orphan[0]["examples"][0]
    sex = [f for f in out["findings"] if f["column"] == "SEX"]
    assert sex and sex[0]["severity"] == "row-level" and sex[0]["action"] == "value set to missing"
    assert sex[0]["source"].endswith("adsl.csv")
    assert main(["validate", str(folder), "--strict"]) == 1


def test_cli_validate_text_exit_zero_on_clean_data(onco_dir, capsys):
    assert main(["validate", str(onco_dir)]) == 0
    text = capsys.readouterr().out
    assert "0 blocking, 0 row-level" in text and "adrs_onco.csv" in text and "OK: the trial loads." in text
    assert "(source: latest date in the data)" in text
