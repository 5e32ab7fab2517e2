"""End to end: `generate --format raw-edc` writes a non-CDISC extract of the synthetic trial that its
mapping loads back to the bundled trial's numbers; `validate` passes it, suggests a mapping without
one, and every view renders on it."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil

import pandas as pd
import pytest

from dashboard.app import available_views, build_app
from dashboard.cli import main
from dashboard.loaders import load_dataset, validate_path
from dashboard.store import TrialStore
from tests.views.test_every_view_on_real_data import render_everything


@pytest.fixture(scope="module")
def raw_edc(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw_edc")
    assert main(["generate", "--format", "raw-edc", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def loaded(raw_edc):
    return load_dataset(raw_edc, mapping=raw_edc / "mapping.yaml")


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _hashes(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_extract_is_raw_not_cdisc(raw_edc):
    screening, rand = _rows(raw_edc / "screening_log.csv"), _rows(raw_edc / "randomization_list.csv")
    subjects, ae = _rows(raw_edc / "subjects.csv"), _rows(raw_edc / "ae_log.csv")
    for name in ("screening_log.csv", "subjects.csv", "randomization_list.csv", "ae_log.csv", "end_of_study.csv"):
        header = next(csv.reader(open(raw_edc / name, encoding="utf-8")))
        assert header == [h.lower() for h in header] and "subjid" in header, name
    assert len(rand) < len(screening)  # the randomization list holds randomized patients only
    assert {r["scr_outcome"] for r in screening} == {"Randomized", "Screen failure"}
    assert all(r["sf_reason"] for r in screening if r["scr_outcome"] == "Screen failure")
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r["icf_dt"]) for r in screening)
    assert all(re.fullmatch(r"\d\d-[A-Z]{3}-\d{4}", r["rand_dt"]) for r in rand)
    assert {r["trt_code"] for r in rand} == {"1", "2"} and {r["sex"] for r in subjects} == {"1", "2"}
    assert {r["aeser"] for r in ae} == {"Yes", "No"} and all(re.fullmatch(r"Grade [1-5]", r["grade"]) for r in ae)


def _numbers(ds) -> dict[str, pd.Series]:
    """The trial's headline counts, with plain pandas on the dataset's tables."""
    adsl, adae = ds.adsl, ds.adae
    randomized = adsl[adsl["RANDFL"] == "Y"]
    failures = adsl[adsl["RANDFL"] != "Y"]
    ae = adae.merge(adsl[["USUBJID", "ARM"]], on="USUBJID")
    return {
        "randomized per arm": randomized.groupby("ARM").size(),
        "screen failures per reason": failures.groupby("SFREAS").size(),
        "screened per site": adsl.groupby("SITEID").size(),
        "randomized per site": randomized.groupby("SITEID").size(),
        "safety population per arm": randomized[randomized["SAFFL"] == "Y"].groupby("ARM").size(),
        "deaths per arm": randomized[randomized["DTHFL"] == "Y"].groupby("ARM").size(),
        "end-of-study status per arm": randomized.groupby(["ARM", "EOSSTT"]).size(),
        "AEs per arm and seriousness": ae.groupby(["ARM", "AESER"]).size(),
        "AEs per arm and grade": ae.groupby(["ARM", "AETOXGRN"]).size(),
        "subjects with a serious AE per arm": ae[ae["AESER"] == "Y"].groupby("ARM")["USUBJID"].nunique(),
        "sites": ds.sites.set_index("SITEID")["SITENAME"].sort_index(),
    }


def test_loaded_extract_has_the_bundled_trials_numbers(loaded, bundled):
    expected, got = _numbers(bundled), _numbers(loaded)
    for name, series in expected.items():
        pd.testing.assert_series_equal(got[name], series, check_dtype=False, check_names=False, obj=name)
    assert len(loaded.adsl) == len(bundled.adsl) and loaded.cutoff == bundled.cutoff
    assert loaded.adsl["STUDYID"].unique().tolist() == ["NCT02241018"]


def test_dates_and_codes_survive_per_subject_and_per_event(loaded, bundled):
    subject = bundled.adsl.set_index("SUBJID")
    got = loaded.adsl.set_index("USUBJID").loc[subject.index]
    for column in ("RANDDT", "SCRNDT", "TRTSDT", "DTHDT", "HSCTDT", "ARM", "SEX", "SITEID", "AGVHDGR", "SKINFL"):
        pd.testing.assert_series_equal(got.loc[subject["RANDFL"] == "Y", column],
                                       subject.loc[subject["RANDFL"] == "Y", column], check_dtype=False,
                                       check_names=False, obj=column)
    to_subjid = bundled.adsl.set_index("USUBJID")["SUBJID"]
    events = bundled.adae.assign(USUBJID=bundled.adae["USUBJID"].map(to_subjid)).set_index(["USUBJID", "AESEQ"])
    got_events = loaded.adae.set_index(["USUBJID", "AESEQ"]).loc[events.index]
    for column in ("ASTDT", "AENDT", "AETOXGRN", "AESER", "AEDECOD", "AEBODSYS", "ASTDY"):
        pd.testing.assert_series_equal(got_events[column], events[column], check_dtype=False, check_names=False,
                                       obj=column)


def test_cli_validate_passes_and_leaves_the_files_unchanged(raw_edc, capsys):
    before = _hashes(raw_edc)
    assert main(["validate", str(raw_edc)]) == 0  # mapping.yaml found in the folder
    out = capsys.readouterr().out
    assert "OK: the trial loads." in out and "randomization_list.csv  (adsl" in out
    assert main(["validate", str(raw_edc), "--mapping", str(raw_edc / "mapping.yaml")]) == 0
    assert _hashes(raw_edc) == before


@pytest.mark.slow
def test_every_view_renders_on_the_extract(loaded):
    app = build_app(loaded)
    app.main[1].get_root()
    shown, hidden = available_views(loaded)
    store = TrialStore(loaded)
    for view in shown:
        render_everything(view(store=store))
    assert len(shown) >= 5 and set(hidden) <= {"Survival"}  # time-to-event is derived, not in an extract


def test_without_a_mapping_validate_suggests_one_needing_only_the_unguessable(raw_edc, bundled, tmp_path, capsys):
    bare = tmp_path / "bare"
    shutil.copytree(raw_edc, bare, ignore=shutil.ignore_patterns("mapping.yaml"))
    assert main(["validate", str(bare)]) == 1
    out = capsys.readouterr().out
    suggestion = out[out.index("# Suggested mapping"):out.index("BLOCKED")]
    assert re.findall(r'"(<[^"]*>)"', suggestion) == [
        "<study identifier>", "<arm name for code 1>", "<arm name for code 2>", "<parameter code, e.g. OVRLRESP>"]
    filled = (suggestion.replace('"<study identifier>"', "NCT02241018")
              .replace('"<parameter code, e.g. OVRLRESP>"', "OVRLRESP")
              .replace('"<arm name for code 1>"', f'"{bundled.arms[0]}"')
              .replace('"<arm name for code 2>"', f'"{bundled.arms[1]}"'))
    (tmp_path / "mapping.yaml").write_text(filled)
    ds = load_dataset(bare, mapping=tmp_path / "mapping.yaml")
    expected, got = _numbers(bundled), _numbers(ds)
    for name in ("randomized per arm", "screen failures per reason", "AEs per arm and seriousness",
                 "deaths per arm", "randomized per site"):
        pd.testing.assert_series_equal(got[name], expected[name], check_dtype=False, check_names=False, obj=name)
    assert validate_path(bare, mapping=tmp_path / "mapping.yaml").ok
