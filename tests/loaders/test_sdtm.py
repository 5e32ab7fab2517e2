"""SDTM -> model: randomization from DS (RFSTDTC fallback), screen failures, study days, derived OS."""

from __future__ import annotations

import pandas as pd
import pyreadstat

from dashboard.loaders import load_dataset

DM = pd.DataFrame({
    "STUDYID": ["S"] * 4, "DOMAIN": ["DM"] * 4, "USUBJID": ["S-1", "S-2", "S-3", "S-4"],
    "SITEID": ["01", "01", "02", "02"], "ARM": ["Drug", "Placebo", "Drug", ""], "ARMCD": ["D", "P", "D", ""],
    "ARMNRS": ["", "", "", "SCREEN FAILURE"], "ACTARM": ["Drug", "Placebo", "Drug", ""],
    "RFSTDTC": ["2020-01-10", "2020-02-01", "2020-03-05", ""], "RFXSTDTC": ["2020-01-10", "2020-02-01", "2020-03-05", ""],
    "RFICDTC": ["2020-01-02", "2020-01-20", "2020-02-25", "2020-03-01"], "SEX": ["M", "F", "M", "F"],
    "AGE": [50, 60, 70, 40], "DTHFL": ["", "Y", "", ""], "DTHDTC": ["", "2020-06", "", ""],
})
DS = pd.DataFrame({
    "STUDYID": ["S"] * 5, "DOMAIN": ["DS"] * 5, "USUBJID": ["S-1", "S-2", "S-1", "S-2", "S-4"],
    "DSCAT": ["PROTOCOL MILESTONE", "PROTOCOL MILESTONE", "DISPOSITION EVENT", "DISPOSITION EVENT", "DISPOSITION EVENT"],
    "DSDECOD": ["RANDOMIZED", "RANDOMIZED", "COMPLETED", "DEATH", "SCREEN FAILURE"],
    "DSTERM": ["RANDOMIZED", "RANDOMIZED", "COMPLETED", "DEATH", "INCLUSION CRITERION 3 NOT MET"],
    "DSSTDTC": ["2020-01-08", "2020-01-30", "2020-07-01", "2020-06-15", "2020-03-02"],
})
AE = pd.DataFrame({
    "STUDYID": ["S"] * 3, "DOMAIN": ["AE"] * 3, "USUBJID": ["S-1", "S-1", "S-3"], "AESEQ": [1, 2, 1],
    "AETERM": ["rash", "headache", "nausea"], "AEDECOD": ["Rash", "Headache", "Nausea"],
    "AEBODSYS": ["Skin", "Nervous", "GI"], "AESTDTC": ["2020-01", "2020-01-09", "2020-03-05"],
    "AETOXGR": ["1", "2", "3"], "AESEV": ["MILD", "MODERATE", "SEVERE"], "AESER": ["N", "N", "Y"],
})
SV = pd.DataFrame({"STUDYID": ["S"] * 3, "DOMAIN": ["SV"] * 3, "USUBJID": ["S-1", "S-2", "S-3"],
                   "VISITNUM": [1, 1, 1], "SVSTDTC": ["2020-07-01", "2020-05-01", "2020-09-30"]})


def _folder(tmp_path):
    folder = tmp_path / "sdtm"
    folder.mkdir()
    for name, frame in {"dm": DM, "ds": DS, "ae": AE}.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    pyreadstat.write_xport(SV, str(folder / "sv.xpt"), file_format_version=5, table_name="SV")
    return folder


def test_sdtm_subject_level_derivations(tmp_path):
    ds = load_dataset(_folder(tmp_path))
    a = ds.adsl.set_index("USUBJID")
    assert ds.provenance["standard"] == "SDTM"
    assert a["RANDFL"].tolist() == ["Y", "Y", "Y", "N"]
    assert a["ITTFL"].tolist() == ["Y", "Y", "Y", "N"]
    assert a["RANDDT"].dt.strftime("%Y-%m-%d").fillna("").tolist() == ["2020-01-08", "2020-01-30", "2020-03-05", ""]
    fallback = [f for f in ds.report.warnings if f.column == "RANDDT" and "RFSTDTC" in f.rule]
    assert fallback and fallback[0].count == 1 and "S-3" in fallback[0].examples[0]
    assert a["EOSSTT"].tolist() == ["COMPLETED", "DISCONTINUED", "ONGOING", "NOT RANDOMIZED"]
    assert a.loc["S-4", "ARM"] == "SCREEN FAILURE" and a.loc["S-4", "SFREAS"] == "INCLUSION CRITERION 3 NOT MET"
    assert a.loc["S-2", "DTHDT"] == pd.Timestamp("2020-06-01")  # partial death date: first day of month
    assert a.loc["S-1", "SCRNDT"] == pd.Timestamp("2020-01-02")


def test_sdtm_adverse_events_days_from_rfstdtc_and_emergence(tmp_path):
    ds = load_dataset(_folder(tmp_path))
    ae = ds.adae.set_index(["USUBJID", "AESEQ"])
    # 2020-01 imputes to 2020-01-01, before the first dose in that month: moved to the first dose (admiral rule)
    assert ae.loc[("S-1", 1), "ASTDT"] == pd.Timestamp("2020-01-10") and ae.loc[("S-1", 1), "ASTDY"] == 1
    assert ae.loc[("S-1", 2), "ASTDY"] == -1  # the day before RFSTDTC: no day 0
    assert ae["TRTEMFL"].tolist() == ["Y", "N", "Y"]
    assert ae["AETOXGRN"].tolist() == [1, 2, 3]


def test_sdtm_overall_survival_derived(tmp_path):
    ds = load_dataset(_folder(tmp_path))
    os_ = ds.adtte.set_index("USUBJID")
    assert os_.loc["S-2", "CNSR"] == 0 and os_.loc["S-2", "AVAL"] == (pd.Timestamp("2020-06-01") - pd.Timestamp("2020-01-30")).days + 1
    assert os_.loc["S-3", "CNSR"] == 1 and os_.loc["S-3", "ADT"] == pd.Timestamp("2020-09-30")
    assert "S-4" not in os_.index
