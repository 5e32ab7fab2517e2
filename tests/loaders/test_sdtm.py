"""SDTM -> model: randomization from DS (RFSTDTC fallback), screen failures, study days, derived OS,
SUPP-- qualifiers, and derived dates that never contradict each other."""

from __future__ import annotations

import pandas as pd
import pyreadstat

from dashboard.loaders import load_dataset
from dashboard.loaders.report import FindingLog
from dashboard.loaders.sdtm import merge_supp

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


def _write_sdtm(tmp_path, **frames):
    folder = tmp_path / "s"
    folder.mkdir()
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_supp_qualifiers_merge_into_their_parent_by_idvar_or_subject(tmp_path):
    suppae = pd.DataFrame({"STUDYID": "S", "RDOMAIN": "AE", "USUBJID": ["S-1", "S-3", "S-3"],
                           "IDVAR": ["AESEQ", "AESEQ", "AESEQ"], "IDVARVAL": ["2", "1", "9"],
                           "QNAM": ["INFTYPE", "INFTYPE", "INFTYPE"], "QVAL": ["Bacterial", "CMV", "orphan"]})
    suppds = pd.DataFrame({"STUDYID": "S", "RDOMAIN": "DS", "USUBJID": ["S-4"], "IDVAR": [""], "IDVARVAL": [""],
                           "QNAM": ["SFCRIT"], "QVAL": ["IC3"]})
    suppdm = pd.DataFrame({"STUDYID": "S", "RDOMAIN": "DM", "USUBJID": ["S-1", "S-2", "S-3", "S-4"],
                           "IDVAR": "", "IDVARVAL": "", "QNAM": "EFFICACY", "QVAL": ["Y", "N", "Y", "N"]})
    ds = load_dataset(_write_sdtm(tmp_path, dm=DM, ds=DS, ae=AE, suppae=suppae, suppds=suppds, suppdm=suppdm))
    ae = ds.adae.set_index(["USUBJID", "AESEQ"])
    assert ae.loc[("S-1", 2), "INFTYPE"] == "Bacterial" and ae.loc[("S-3", 1), "INFTYPE"] == "CMV"
    assert pd.isna(ae.loc[("S-1", 1), "INFTYPE"])
    assert ds.adsl.set_index("USUBJID")["EFFFL"].tolist() == ["Y", "N", "Y", "N"]
    orphan = [f for f in ds.report.warnings if f.column == "IDVARVAL"]
    assert orphan and orphan[0].count == 1 and "'9'" in orphan[0].examples[0]
    assert not any("SUPP" in f.rule and "not used" in f.rule for f in ds.report.warnings)


def test_merge_supp_subject_level_record_level_and_parent_columns_kept():
    parent = pd.DataFrame({"USUBJID": ["A", "A", "B"], "DSSEQ": [1.0, 2.0, 1.0], "DSTERM": ["x", "y", "z"]})
    supp = pd.DataFrame({"USUBJID": ["A", "B", "B"], "IDVAR": [None, "DSSEQ", "DSSEQ"], "IDVARVAL": [None, "1", "1"],
                         "QNAM": ["REASSP", "dsterm", "REASSP"], "QVAL": ["moved", "ignored", "lost"]})
    log = FindingLog()
    out = merge_supp(parent, supp, log)
    assert out["REASSP"].tolist() == ["moved", "moved", "lost"]
    assert out["DSTERM"].tolist() == ["x", "y", "z"] and list(parent.columns) == ["USUBJID", "DSSEQ", "DSTERM"]
    assert any("DSTERM" in f.rule and "kept" in f.rule for f in log.findings)


def test_last_known_alive_never_after_death_and_source_conflicts_are_findings(tmp_path):
    dm = DM.assign(DTHFL=["", "Y", "Y", ""], DTHDTC=["", "2020-06", "2020-08-01", ""])
    sv = pd.DataFrame({"STUDYID": "S", "DOMAIN": "SV", "USUBJID": ["S-1", "S-2", "S-3", "S-3"], "VISITNUM": [1, 1, 1, 2],
                       "SVSTDTC": ["2020-07-01", "2020-06-20", "2020-07-15", "2020-08-02"]})
    ds_ = pd.concat([DS, pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["DS"], "USUBJID": ["S-3"],
                                       "DSCAT": ["DISPOSITION EVENT"], "DSDECOD": ["WITHDRAWAL BY SUBJECT"],
                                       "DSTERM": ["WITHDREW"], "DSSTDTC": ["2020-08-05"]})])
    ds = load_dataset(_write_sdtm(tmp_path, dm=dm, ds=ds_, ae=AE, sv=sv))
    a = ds.adsl.set_index("USUBJID")
    # S-2: death known only as 2020-06, alive on 2020-06-20: death imputed to that day, not before it
    assert a.loc["S-2", "DTHDT"] == a.loc["S-2", "LSTALVDT"] == pd.Timestamp("2020-06-20")
    # S-3: a visit and a withdrawal after a complete death date: capped at death and reported by subject
    assert a.loc["S-3", "LSTALVDT"] == a.loc["S-3", "EOSDT"] == a.loc["S-3", "DTHDT"] == pd.Timestamp("2020-08-01")
    assert (a["DTHFL"] == "Y").sum() == 2 and a.loc["S-1", "DTHFL"] == "N"
    capped = {f.column: f for f in ds.report.warnings if "contradict" in f.rule}
    assert set(capped) == {"LSTALVDT", "EOSDT"} and capped["LSTALVDT"].count == 1
    # the latest source date (the withdrawal on 2020-08-05) is named with the subject
    assert "USUBJID='S-3', LSTALVDT=2020-08-05, DTHDT=2020-08-01, SOURCE='DS.DSSTDTC'" in capped["LSTALVDT"].examples[0]
    assert ds.report.ok and ds.adtte.set_index("USUBJID").loc["S-3", "CNSR"] == 0


def test_screening_from_a_fallback_never_follows_randomization(tmp_path):
    dm = DM.drop(columns="RFICDTC").assign(DMDTC=["2020-01-09", "2020-01-31", "2020-03-01", "2020-03-01"])
    ds = load_dataset(_write_sdtm(tmp_path, dm=dm, ds=DS))
    a = ds.adsl.set_index("USUBJID")
    assert a.loc["S-1", "SCRNDT"] == pd.Timestamp("2020-01-08")  # DMDTC 01-09 came after randomization 01-08
    assert a.loc["S-3", "SCRNDT"] == pd.Timestamp("2020-03-01")
    assert any(f.column == "SCRNDT" and "'S-1'" in f.examples[0] for f in ds.report.warnings)


def test_treatment_emergence_without_a_start_date_and_blank_optional_columns(tmp_path):
    ae = AE.assign(AESTDTC=["", "2020-01-09", ""], AEENDTC=["2020-01-05", "", ""], AESEV="", AEREL="", AEOUT="",
                   AESER=["Y", "", "N"])
    dm = DM.assign(ARMCD=["", "", "", ""], DTHFL="")
    ds = load_dataset(_write_sdtm(tmp_path, dm=dm, ds=DS, ae=ae))
    # ended before the first dose: not emergent; before the dose: no; unknown start and end: emergent
    assert ds.adae["TRTEMFL"].tolist() == ["N", "N", "Y"]
    assert ds.adae["AESER"].tolist() == ["Y", "N", "N"] and ds.adae["AESEV"].isna().all()
    assert (ds.adsl["DTHFL"] == "N").all()
