"""Trial identity and plan read from the data (SDTM TS/TA/TV, define.xml, trial.yaml, metadata.json)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pandas as pd
import pyreadstat

from dashboard.config import TrialInfo
from dashboard.model.dataset import BUNDLED_DIR, read_model_folder, write_dataset
from dashboard.loaders import load_dataset
from dashboard.synthetic.calibration import NCT02241018

DM = pd.DataFrame({
    "STUDYID": "ABC-101", "DOMAIN": "DM", "USUBJID": ["A-1", "A-2", "A-3"], "SITEID": ["01", "01", "02"],
    "ARM": ["Placebo", "Drug X 10 mg", "Drug X 10 mg"], "ARMCD": ["P", "X", "X"],
    "RFSTDTC": ["2021-02-01", "2021-02-03", "2021-03-01"], "RFICDTC": ["2021-01-20", "2021-01-25", "2021-02-20"],
})
AE = pd.DataFrame({"STUDYID": "ABC-101", "DOMAIN": "AE", "USUBJID": ["A-1"], "AESEQ": [1], "AEDECOD": ["Headache"],
                   "AEBODSYS": ["Nervous system disorders"], "AESTDTC": ["2021-02-05"]})
DS = pd.DataFrame({"STUDYID": "ABC-101", "DOMAIN": "DS", "USUBJID": ["A-1", "A-2", "A-3"],
                   "DSCAT": "PROTOCOL MILESTONE", "DSDECOD": "RANDOMIZED", "DSTERM": "RANDOMIZED",
                   "DSSTDTC": ["2021-01-30", "2021-02-02", "2021-02-27"]})
TITLE = ("A Randomized, Double-Blind, Placebo-Controlled Study of Drug X in Adults With a Condition Whose Name Is "
         "Long Enough That The Title Runs Past The Two Hundred Characters One TSVAL Holds, So It Continues")
TS = pd.DataFrame({
    "STUDYID": "ABC-101", "DOMAIN": "TS", "TSSEQ": [1, 1, 2, 1, 1, 1, 1],
    "TSPARMCD": ["TITLE", "REGID", "REGID", "PLANSUB", "SSTDTC", "SPONSOR", "TPHASE"],
    "TSPARM": ["Trial Title", "Registry Identifier", "Registry Identifier", "Planned Number of Subjects",
               "Study Start Date", "Clinical Study Sponsor", "Trial Phase Classification"],
    "TSVAL": [TITLE[:200], "2020-001234-56", "NCT04000001", "120", "2021-01-15", "Example Pharma", "PHASE II TRIAL"],
    "TSVAL1": [TITLE[200:], "", "", "", "", "", ""],
})
TA = pd.DataFrame({"STUDYID": "ABC-101", "DOMAIN": "TA", "ARMCD": ["X", "X", "P", "P"],
                   "ARM": ["Drug X 10 mg", "Drug X 10 mg", "Placebo", "Placebo"], "TAETORD": [1, 2, 1, 2],
                   "ETCD": ["SCRN", "X", "SCRN", "P"]})
TV = pd.DataFrame({"STUDYID": "ABC-101", "DOMAIN": "TV", "VISITNUM": [1, 2, 3, 4],
                   "VISIT": ["SCREENING", "BASELINE", "WEEK 4", "WEEK 12"], "VISITDY": [-14, 1, 29, 85]})


def _sdtm(tmp_path, **extra):
    folder = tmp_path / "sdtm"
    folder.mkdir(parents=True)
    for name, frame in {"dm": DM, "ae": AE, "ds": DS, **extra}.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_ts_ta_tv_give_title_registry_target_arm_order_and_visits(tmp_path):
    folder = _sdtm(tmp_path, ta=TA, tv=TV)
    pyreadstat.write_xport(TS, str(folder / "ts.xpt"), file_format_version=5, table_name="TS")
    info = load_dataset(folder).info
    assert info.title == TITLE  # continued in TSVAL1
    assert (info.registry_id, info.target_enrollment, info.planned_enrollment_start) == ("NCT04000001", 120, "2021-01-15")
    assert (info.sponsor, info.phase, info.short_name) == ("Example Pharma", "PHASE II TRIAL", "ABC-101")
    assert info.arm_order == ("Drug X 10 mg", "Placebo")
    assert info.visit_days == (-14, 1, 29, 85) and info.visit_names[29] == "WEEK 4"
    assert info.sources["target_enrollment"] == "TS PLANSUB (ts.xpt)" and info.sources["visit_days"] == "TV VISITDY (tv.csv)"
    assert info.sources["short_name"] == "STUDYID"


def test_trial_design_of_another_study_is_ignored_and_never_blocks(tmp_path):
    other = load_dataset(_sdtm(tmp_path / "a", ts=TS.assign(STUDYID="OTHER-9")))
    assert other.info.title == "Study ABC-101" and other.info.target_enrollment is None
    assert any(f.table == "ts" and "OTHER-9" in f.rule for f in other.report.warnings)
    bad_target = load_dataset(_sdtm(tmp_path / "b", ts=TS.assign(TSVAL=TS["TSVAL"].where(
        TS["TSPARMCD"] != "PLANSUB", "about a hundred"))))
    assert bad_target.info.target_enrollment is None and bad_target.info.registry_id == "NCT04000001"
    assert any("PLANSUB" in f.rule for f in bad_target.report.warnings)


def test_cdisc_pilot_identity_from_its_data_and_a_trial_yaml(pilot_dir, tmp_path):
    plain = load_dataset(pilot_dir).info
    assert (plain.registry_id, plain.short_name) == ("CDISCPILOT01", "CDISCPILOT01")
    assert plain.sources["short_name"].startswith("define.xml") and plain.column_labels["adsl"]["DTHFL"] == "Subject Died?"
    copy = tmp_path / "pilot"
    shutil.copytree(pilot_dir, copy)
    (copy / "trial.yaml").write_text(
        "title: Safety and Efficacy of the Xanomeline Transdermal Therapeutic System in Alzheimer's Disease\n"
        "target_enrollment: 300\nvisit_days: [1, 14, 28, 56, 84, 112, 140, 168, 182]\n"
        "arm_short_labels: {Xanomeline High Dose: High, Xanomeline Low Dose: Low}\n")
    info = load_dataset(copy).info
    assert info.title.startswith("Safety and Efficacy of the Xanomeline") and info.target_enrollment == 300
    assert info.visit_days[-1] == 182 and info.arm_short_labels["Xanomeline Low Dose"] == "Low"
    assert info.sources["title"] == info.sources["target_enrollment"] == "trial.yaml"
    for text, named in (("title: Pilot\ntarget_enrolment: 300\n", "target_enrolment"),
                        ("title: [not, a, title]\n", "title"), ("- a list\n", "expected keys")):
        (copy / "trial.yaml").write_text(text)
        broken = load_dataset(copy)
        assert broken.info.title == "Study CDISCPILOT01"
        assert any(f.table == "trial" and named in f.rule for f in broken.report.warnings), text


def test_model_folder_identity_is_its_metadata_json(tmp_path):
    bundled = read_model_folder(BUNDLED_DIR)
    assert dataclasses.replace(bundled.info, sources={}) == NCT02241018
    assert bundled.info.sources["title"] == "metadata.json"
    folder = tmp_path / "bundle"
    shutil.copytree(BUNDLED_DIR, folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["trial"]["title"] = "Renamed in metadata"
    del meta["trial"]["sae_categories"]
    (folder / "metadata.json").write_text(json.dumps(meta))
    renamed = read_model_folder(folder).info
    assert renamed.title == "Renamed in metadata" and renamed.sae_categories == ()
    del meta["trial"]
    (folder / "metadata.json").write_text(json.dumps(meta))
    assert read_model_folder(folder).info.title == "Study NCT02241018"  # no code knows this trial


def test_trial_info_round_trips_through_metadata(tmp_path):
    assert TrialInfo.from_dict(json.loads(json.dumps(NCT02241018.as_dict()))) == NCT02241018
    loaded = load_dataset(_sdtm(tmp_path, ts=TS, tv=TV))
    write_dataset(loaded, tmp_path / "out", fmt="csv")
    again = read_model_folder(tmp_path / "out").info
    assert again == loaded.info and again.sources["title"] == "TS TITLE (ts.csv)"
