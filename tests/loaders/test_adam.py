"""ADaM -> model on tiny messy frames written to a temporary folder (hand-checked answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from dashboard.loaders import load_dataset, validate_path
from dashboard.loaders.adam import upper_text

ADSL = pd.DataFrame({
    "STUDYID": ["S"] * 5,
    "USUBJID": ["S-1", "S-2", "S-3", "S-4", "S-5"],
    "SITEID": [701.0, 701.0, 702.0, 703.0, 703.0],  # numeric site ids
    "ARM": ["Dose A", "Dose B", "Placebo", "Screen Failure", ""],
    "ARMCD": ["A", "B", "P", "SCRNFAIL", "NOTASSGN"],
    "TRTSDT": [19725.0, 19730.0, 19740.0, None, None],
    "SAFFL": ["Y", "Y", "Y", "", ""],
    "AGE": [60.0, 70.0, 65.0, 50.0, 55.0],
    "SEX": ["MALE", "F", "F", "M", "F"],
    "DCDECOD": ["COMPLETED", "ADVERSE EVENT", "", "", ""],
})


def _write(folder, **tables):
    folder.mkdir(exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_messy_adsl_three_arms_screen_failures_and_derivations(tmp_path):
    ds = load_dataset(_write(tmp_path / "d", adsl=ADSL.assign(TRT01P=ADSL["ARM"])))
    a = ds.adsl.set_index("USUBJID")
    assert a["SITEID"].tolist() == ["701", "701", "702", "703", "703"]
    assert a["RANDFL"].tolist() == ["Y", "Y", "Y", "N", "N"]
    assert a["ITTFL"].tolist() == ["Y", "Y", "Y", "N", "N"]
    assert a.loc["S-5", "ARM"] == "Screen Failure"
    assert a.loc["S-1", "TRT01P"] == "Dose A" and a.loc[["S-4", "S-5"], "TRT01P"].isna().all()
    assert ds.arms == ["Dose A", "Dose B", "Placebo"]
    assert a.loc["S-1", "RANDDT"] == pd.Timestamp("2014-01-02")  # TRTSDT fallback, SAS day 19725
    assert a["EOSSTT"].tolist() == ["COMPLETED", "DISCONTINUED", "ONGOING", "NOT RANDOMIZED", "NOT RANDOMIZED"]
    assert a.loc["S-2", "DCSREAS"] == "ADVERSE EVENT" and a.loc["S-1", "SEX"] == "M"
    warned = {f.column for f in ds.report.warnings}
    assert {"RANDFL", "RANDDT", "ITTFL", "EOSSTT"} <= warned


def test_adae_text_grades_partial_dates_and_out_of_range(tmp_path):
    adae = pd.DataFrame({"USUBJID": ["S-1", "S-1", "S-2"], "AESEQ": [1, 2, 1], "AEDECOD": ["Rash", "Fever", "Cough"],
                         "AEBODSYS": ["Skin", "General", "Resp"], "ATOXGR": ["Grade 3", "2", "7"],
                         "AESTDTC": ["2014-01", "2014-01-05", "2014"], "TRTEMFL": ["Y", "Y", "N"]})
    report = validate_path(_write(tmp_path / "d", adsl=ADSL, adae=adae))
    grade = [f for f in report.row_level if f.column == "ATOXGR"]
    assert grade and grade[0].count == 1 and "'7'" in grade[0].examples[0] and grade[0].source.endswith("adae.csv")
    assert report.ok and grade[0].action == "value set to missing"
    ds = load_dataset(_write(tmp_path / "e", adsl=ADSL, adae=adae.assign(ATOXGR=["Grade 3", "2", "5"])))
    assert ds.adae["AETOXGRN"].tolist() == [3, 2, 5]
    assert ds.adae["ASTDT"].dt.strftime("%Y-%m-%d").tolist() == ["2014-01-01", "2014-01-05", "2014-01-01"]
    assert ds.adae["ASTDTF"].tolist()[0] == "D"
    imputed = [f for f in ds.report.warnings if f.column == "ASTDT" and "partial" in f.rule]
    assert imputed and imputed[0].count == 2


def test_adtte_in_months_is_converted_to_days_and_bad_censor_is_left_out(tmp_path):
    tte = pd.DataFrame({"USUBJID": ["S-1", "S-2"], "PARAMCD": ["OS", "OS"], "AVAL": [2.0, 12.0],
                        "AVALU": ["MONTHS", "MONTHS"], "CNSR": [0, 1]})
    ds = load_dataset(_write(tmp_path / "d", adsl=ADSL, adtte_final=tte))
    assert ds.adtte["AVAL"].tolist() == pytest.approx([2 * 30.4375, 12 * 30.4375])
    bad = load_dataset(_write(tmp_path / "e", adsl=ADSL, adtte=tte.assign(CNSR=[0, 2])))
    assert [(f.column, f.action) for f in bad.report.row_level] == [("CNSR", "row left out")]
    assert bad.adtte["USUBJID"].tolist() == ["S-1"]


def test_missing_required_column_suggests_a_mapping_and_mapping_fixes_it(tmp_path):
    renamed = ADSL.rename(columns={"USUBJID": "SUBJECT_ID", "SITEID": "CENTRE"})
    folder = _write(tmp_path / "d", adsl=renamed)
    report = validate_path(folder)
    missing = [f for f in report.errors if f.column in ("USUBJID", "SITEID")]
    assert len(missing) == 2
    assert "USUBJID: SUBJECT_ID" in missing[0].suggestion and "SITEID: CENTRE" in missing[0].suggestion
    yaml_file = tmp_path / "mapping.yaml"
    yaml_file.write_text(missing[0].suggestion + "\n")
    assert len(load_dataset(folder, mapping=yaml_file).adsl) == 5
    toml_file = tmp_path / "mapping.toml"
    toml_file.write_text('[adsl]\nUSUBJID = "SUBJECT_ID"\nSITEID = "CENTRE"\n')
    assert load_dataset(folder, mapping=toml_file).adsl["SITEID"].tolist()[0] == "701"


def test_files_role_from_mapping_and_sas_member_name(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    ADSL.to_csv(folder / "patients.csv", index=False)
    # neither its name nor its columns (no TRT01P, RFSTDTC) say ADSL: blocked, and the finding says why
    (blocking,) = validate_path(folder).errors
    assert blocking.table == "files" and "no subject-level dataset found" in blocking.rule
    assert "patients.csv" in blocking.rule
    ADSL.assign(TRT01P=ADSL["ARM"]).to_csv(folder / "patients.csv", index=False)
    assert validate_path(folder).ok  # TRT01P (planned treatment) is what marks it as ADSL
    ADSL.to_csv(folder / "patients.csv", index=False)
    assert len(load_dataset(folder, mapping={"files": {"patients.csv": "adsl"}}).adsl) == 5
    xpt = tmp_path / "x"
    xpt.mkdir()
    frame = ADSL.assign(SAFFL=ADSL["SAFFL"].fillna(""), DCDECOD=ADSL["DCDECOD"].fillna(""))
    pyreadstat.write_xport(frame, str(xpt / "export1.xpt"), file_format_version=5, table_name="ADSL")
    assert len(load_dataset(xpt).adsl) == 5


def test_non_time_parameters_are_left_out_with_a_warning_naming_them(tmp_path):
    tte = pd.DataFrame({"USUBJID": ["S-1", "S-2", "S-1", "S-2", "S-1", "S-2"],
                        "PARAMCD": ["OS", "OS", "PFS", "PFS", "NUMEVT", "NUMEVT"],
                        "PARAM": ["Overall survival", "Overall survival", "PFS", "PFS", "Number of events",
                                  "Number of events"],
                        "AVAL": [100, 200, 1.0, 2.0, 3, 4], "AVALU": ["DAYS", "DAYS", "MONTHS", "MONTHS", "COUNT", "COUNT"],
                        "CNSR": [0, 1, 0, 1, 0, 0]})
    ds = load_dataset(_write(tmp_path / "d", adsl=ADSL, adtte=tte))
    assert sorted(set(ds.adtte["PARAMCD"])) == ["OS", "PFS"]
    assert ds.adtte.loc[ds.adtte["PARAMCD"] == "PFS", "AVAL"].tolist() == pytest.approx([30.4375, 60.875])
    skipped = [f for f in ds.report.warnings if f.column == "AVALU" and "not a time" in f.rule]
    assert len(skipped) == 1 and skipped[0].count == 2
    assert all(word in skipped[0].rule for word in ("NUMEVT", "Number of events", "COUNT"))


def test_optional_columns_blank_in_every_row_load(tmp_path):
    blank = {"AESEV": "", "AEREL": "", "AEOUT": "", "AETOXGR": "", "TRTEMFL": ""}
    adae = pd.DataFrame({"USUBJID": ["S-1", "S-2"], "AESEQ": [1, 1], "AEDECOD": ["Rash", "Cough"],
                         "AEBODSYS": ["Skin", "Resp"], "AESTDTC": ["2014-01-05", "2014-01-09"], **blank})
    tte = pd.DataFrame({"USUBJID": ["S-1", "S-2"], "PARAMCD": ["OS", "OS"], "AVAL": [10, 20], "AVALU": ["", ""],
                        "CNSR": [0, 1]})
    adsl = ADSL.assign(ARMCD="", AGEU="", DTHFL="", EFFFL="")
    folder = _write(tmp_path / "d", adsl=adsl, adae=adae, adtte=tte)
    ds = load_dataset(folder)
    assert ds.adae["AESEV"].isna().all() and ds.adae["TRTEMFL"].tolist() == ["N", "N"]
    assert ds.adtte["AVAL"].tolist() == [10, 20] and ds.randomized["ARM"].nunique() == 3
    assert "EFFFL" not in ds.adsl  # a population flag blank in every row is absent, not "nobody"
    assert any(f.column == "EFFFL" and "every row" in f.rule for f in ds.report.warnings)
    xpt = tmp_path / "x"
    xpt.mkdir()
    pyreadstat.write_xport(adae.astype({"AESEQ": float}), str(xpt / "adae.xpt"), file_format_version=5,
                           table_name="ADAE")
    adsl.to_csv(xpt / "adsl.csv", index=False)
    assert load_dataset(xpt).adae["AEREL"].isna().all()


def test_upper_text_on_all_missing_and_mixed_columns():
    assert upper_text(pd.Series([np.nan, None], dtype=object)).isna().all()
    assert upper_text(pd.Series([" mild", np.nan, 3.0])).tolist()[::2] == ["MILD", "3"]
    assert upper_text(None, pd.RangeIndex(2)).isna().all()


def test_y_blank_flags_read_as_n_and_y_n_flags_report_their_blanks(tmp_path):
    adsl = ADSL.assign(DTHFL=["Y", "", "", "", ""], ITTFL=["Y", "Y", "", "N", "maybe"])
    adae = pd.DataFrame({"USUBJID": ["S-1", "S-1", "S-2"], "AESEQ": [1, 2, 1], "AEDECOD": ["Rash", "Fever", "Cough"],
                         "AEBODSYS": ["Skin", "General", "Resp"], "AESER": ["Y", "", "N"], "TRTEMFL": ["Y", "", "Y"]})
    ds = load_dataset(_write(tmp_path / "d", adsl=adsl, adae=adae))
    assert ds.adsl["DTHFL"].tolist() == ["Y", "N", "N", "N", "N"]
    assert ds.adsl["ITTFL"].tolist() == ["Y", "Y", "N", "N", "N"]
    assert ds.adae["AESER"].tolist() == ["Y", "N", "N"] and ds.adae["TRTEMFL"].tolist() == ["Y", "N", "Y"]
    warned = {(f.column, f.count) for f in ds.report.warnings if "blank: read as 'N'" in f.rule}
    assert any(f.column == "ITTFL" and "'maybe'" in f.examples[0] for f in ds.report.warnings)
    # Y/N flags (SAFFL is blank for the two screen failures); DTHFL and TRTEMFL are Y/blank by convention
    assert warned == {("ITTFL", 1), ("SAFFL", 2), ("AESER", 1)}


def test_pilot_death_flag_is_y_for_three_and_n_for_the_rest(pilot_dir):
    raw, _ = pyreadstat.read_xport(str(pilot_dir / "adsl.xpt"))
    assert (raw["DTHFL"] == "Y").sum() == 3 and (raw["DTHFL"].str.strip() == "").sum() == len(raw) - 3
    ds = load_dataset(pilot_dir)
    assert ds.adsl["DTHFL"].value_counts().to_dict() == {"N": len(raw) - 3, "Y": 3}
    assert set(ds.adae["TRTEMFL"]) <= {"Y", "N"} and ds.adae["TRTEMFL"].notna().all()


def test_fallback_screening_date_never_follows_randomization(tmp_path):
    adsl = ADSL.assign(RANDDT=["2014-01-02", "2014-01-05", "2014-01-10", "", ""],
                       DMDTC=["2013-12-20", "2014-01-09", "2014-01-01", "2014-01-03", "2014-01-03"])
    ds = load_dataset(_write(tmp_path / "d", adsl=adsl))
    a = ds.adsl.set_index("USUBJID")
    assert a.loc["S-2", "SCRNDT"] == pd.Timestamp("2014-01-05") and a.loc["S-1", "SCRNDT"] == pd.Timestamp("2013-12-20")
    capped = [f for f in ds.report.warnings if f.column == "SCRNDT" and "fell after RANDDT" in f.rule]
    assert capped and capped[0].count == 1 and "'S-2'" in capped[0].examples[0] and "DMDTC" in capped[0].examples[0]
