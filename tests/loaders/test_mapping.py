"""The mapping file: its schema and named errors, joins, recodes, date formats and constants, and the
suggested mapping of a raw export (tiny inline tables, hand-checked answers)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard.loaders import load_dataset, validate_path
from dashboard.loaders.mapping import (
    ColumnRule, Join, MappingError, RoleMapping, build_table, guess_date_format, load_mapping, mapping_from_dict,
    suggest_export_mapping,
)
from dashboard.loaders.readers import RawTable, clean_frame
from dashboard.loaders.report import FindingLog

README = Path(__file__).resolve().parents[2] / "README.md"


def _raw(name: str, frame: pd.DataFrame) -> RawTable:
    """A file as the readers return it (upper-case names, text cleaned), without touching the disk."""
    return RawTable(Path(f"/export/{name}"), clean_frame(frame), "csv", "0" * 64)


SCREENING = _raw("screening_log.csv", pd.DataFrame({
    "subjid": ["001", "002", "003"], "siteid": ["10", "10", "20"], "icf_dt": ["31/01/2015", "01/02/2015", "03/02/2015"],
}))
RANDOMIZATION = _raw("randomization_list.csv", pd.DataFrame({
    "subjid": ["001", "003", "003", "009"], "rand_dt": ["02-FEB-2015", "05-MAR-2015", "06-MAR-2015", "07-MAR-2015"],
    "trt_code": ["1", "2", "2", "1"],
}))


def _section(yaml_text: str, tmp_path) -> RoleMapping:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml_text)
    return load_mapping(path).roles["adsl"]


# ---- reading the file ---------------------------------------------------------------------------------


def test_full_form_reads_joins_rules_and_yes_no_as_text(tmp_path):
    section = _section("""
adsl:
  file: screening_log.csv
  join:
    - {file: randomization_list.csv, on: subjid}
    - {file: ixrs.csv, on: {subjid: subject_no}}
  columns:
    USUBJID: subjid
    STUDYID: {value: ABC-1}
    ARM: {column: trt_code, recode: {1: Drug, 2.0: Placebo, UNK: null}}
    AESER: {column: aeser, recode: {Yes: Y, No: N}}
    RANDDT: {column: rand_dt, format: "%d-%b-%Y"}
""", tmp_path)
    assert section.file == "screening_log.csv" and not section.renames_only
    assert section.joins == (Join("randomization_list.csv", (("SUBJID", "SUBJID"),)),
                             Join("ixrs.csv", (("SUBJID", "SUBJECT_NO"),)))
    assert section.columns["USUBJID"] == ColumnRule(column="SUBJID")
    assert section.columns["STUDYID"].value == "ABC-1"
    assert dict(section.columns["ARM"].recode) == {"1": "Drug", "2": "Placebo", "UNK": None}
    assert dict(section.columns["AESER"].recode) == {"Yes": "Y", "No": "N"}  # not {True: 'Y', False: 'N'}
    assert section.columns["RANDDT"].date_format == "%d-%b-%Y"


def test_short_form_still_only_renames(tmp_path):
    mapping = mapping_from_dict({"adsl": {"USUBJID": "subject_id"}, "files": {"p.csv": "adsl"}})
    assert mapping.roles["adsl"].renames_only and mapping.renames("adsl") == {"SUBJECT_ID": "USUBJID"}
    assert mapping.built == {} and mapping.role_of("p.csv") == "adsl"


@pytest.mark.parametrize("section, named", [
    ({"file": "a.csv", "columns": {"RANDDT": {"column": "d", "format": "dd/mm/yyyy"}}}, "bad date format 'dd/mm/yyyy'"),
    ({"file": "a.csv", "columns": {"RANDDT": {"column": "d", "format": "%d/%Q/%Y"}}}, "bad date format '%d/%Q/%Y'"),
    ({"file": "a.csv", "columns": {"ARM": {"column": "t", "recode": {"1": "<arm name for code 1>"}}}},
     "placeholder not filled in"),
    ({"file": "a.csv", "USUBJID": "subjid"}, "unknown key 'USUBJID'"),
    ({"file": "a.csv", "columns": {"ARM": {"column": "t", "recod": {}}}}, "unknown key 'recod'"),
    ({"file": "a.csv", "columns": {"ARM": {"column": "t", "value": "Drug"}}}, "either column"),
    ({"join": [{"file": "b.csv", "on": "id"}]}, "join needs a base file"),
    ({"file": "a.csv", "join": [{"file": "b.csv"}]}, "a join is {file"),
])
def test_mapping_mistakes_are_named(section, named):
    with pytest.raises(MappingError, match=re.escape(named)):
        mapping_from_dict({"adsl": section}, source="m.yaml")


# ---- building a role's table ------------------------------------------------------------------------------


def test_left_join_keeps_every_base_row_and_warns_about_repeated_and_unmatched_keys():
    section = RoleMapping("screening_log.csv", (Join("randomization_list.csv", (("SUBJID", "SUBJID"),)),), {})
    log = FindingLog()
    frame = build_table("adsl", section, SCREENING, [(section.joins[0], RANDOMIZATION)], log)
    assert frame["SUBJID"].tolist() == ["001", "002", "003"]
    assert frame["RAND_DT"].tolist()[0] == "02-FEB-2015" and pd.isna(frame["RAND_DT"][1])
    assert frame["RAND_DT"][2] == "05-MAR-2015"  # the first row of a repeated key
    repeated, unmatched = log.findings
    assert repeated.count == 1 and repeated.source.endswith("randomization_list.csv")
    assert repeated.examples == ("row 3: SUBJID='003'",)
    assert unmatched.count == 1 and "match no row" in unmatched.rule and unmatched.examples == ("row 4: SUBJID='009'",)
    assert "SUBJID" in SCREENING.frame and len(SCREENING.frame.columns) == 3  # inputs untouched


def test_rules_rename_recode_parse_dates_and_add_constants():
    section = mapping_from_dict({"adsl": {
        "file": "screening_log.csv", "join": [{"file": "randomization_list.csv", "on": "SUBJID"}],
        "columns": {"USUBJID": "subjid", "STUDYID": {"value": "ABC-1"},
                    "ARM": {"column": "trt_code", "recode": {"1": "Drug", "2": "Placebo"}},
                    "SCRNDT": {"column": "icf_dt", "format": "%d/%m/%Y"},
                    "RANDDT": {"column": "rand_dt", "format": "%d-%b-%Y"}}}}).roles["adsl"]
    frame = build_table("adsl", section, SCREENING, [(section.joins[0], RANDOMIZATION)], FindingLog())
    assert list(frame.columns[:5]) == ["USUBJID", "STUDYID", "ARM", "SCRNDT", "RANDDT"]
    assert frame["USUBJID"].tolist() == ["001", "002", "003"] and "SUBJID" not in frame  # a rule renames
    assert frame["STUDYID"].tolist() == ["ABC-1"] * 3
    assert frame["ARM"].tolist()[::2] == ["Drug", "Placebo"] and pd.isna(frame["ARM"][1])
    assert frame["SCRNDT"].dt.strftime("%Y-%m-%d").tolist() == ["2015-01-31", "2015-02-01", "2015-02-03"]
    assert frame["RANDDT"][2] == pd.Timestamp("2015-03-05")
    assert {"SITEID", "TRT_CODE"} - set(frame.columns) == {"TRT_CODE"}  # unmapped SITEID passes through


def test_unlisted_codes_are_kept_and_dates_off_format_are_reported_on_their_own_file_rows():
    rand = _raw("randomization_list.csv", pd.DataFrame({
        "subjid": ["001", "002", "003"], "rand_dt": ["02-FEB-2015", "2015-02-09", None], "trt_code": ["1", "3", "x"]}))
    section = mapping_from_dict({"adsl": {
        "file": "screening_log.csv", "join": [{"file": "randomization_list.csv", "on": "subjid"}],
        "columns": {"USUBJID": "subjid", "ARM": {"column": "trt_code", "recode": {"1": "Drug", "X": None}},
                    "RANDDT": {"column": "rand_dt", "format": "%d-%b-%Y"}}}}).roles["adsl"]
    log = FindingLog()
    frame = build_table("adsl", section, SCREENING, [(section.joins[0], rand)], log)
    assert frame["ARM"][0] == "Drug" and frame["ARM"][1] == "3" and pd.isna(frame["ARM"][2])  # 'x' -> null
    codes, dates = log.findings
    assert codes.severity == "informational" and codes.column == "ARM" and "'3'" in codes.rule and codes.count == 1
    assert dates.severity == "informational" and dates.column == "RANDDT" and dates.source.endswith("randomization_list.csv")
    assert dates.examples == ("row 2: SUBJID='002', RAND_DT='2015-02-09'",)
    assert pd.isna(frame["RANDDT"][1])


def test_a_format_no_value_matches_is_a_bad_date_format_error():
    section = mapping_from_dict({"adsl": {"file": "screening_log.csv",
                                          "columns": {"SCRNDT": {"column": "icf_dt", "format": "%m-%d-%Y"}}}})
    log = FindingLog()
    build_table("adsl", section.roles["adsl"], SCREENING, [], log)
    assert [(f.severity, f.count) for f in log.findings] == [("blocking", 3)]
    assert log.findings[0].rule.startswith("bad date format: no value matches")


# ---- through the loader ---------------------------------------------------------------------------


def _export(folder: Path) -> Path:
    folder.mkdir()
    pd.DataFrame({"subjid": ["001", "002"], "siteid": ["10", "20"], "sex": ["1", "2"]}).to_csv(
        folder / "subjects.csv", index=False)
    pd.DataFrame({"subjid": ["001"], "arm": ["Drug"], "rand_dt": ["31/01/2015"]}).to_csv(
        folder / "randomization_list.csv", index=False)
    return folder


MAPPING = {"adsl": {"file": "subjects", "join": [{"file": "randomization_list.csv", "on": "subjid"}],
                    "columns": {"USUBJID": "subjid", "STUDYID": {"value": "ABC-1"}, "SEX": {"column": "sex",
                                "recode": {"1": "M", "2": "F"}}, "RANDDT": {"column": "rand_dt", "format": "%d/%m/%Y"}}}}


def test_loader_builds_adsl_from_joined_files(tmp_path):
    ds = load_dataset(_export(tmp_path / "d"), mapping=MAPPING)
    a = ds.adsl.set_index("USUBJID")
    assert a["SEX"].tolist() == ["M", "F"] and a["RANDFL"].tolist() == ["Y", "N"]
    assert a.loc["001", "RANDDT"] == pd.Timestamp("2015-01-31") and a.loc["002", "ARM"] == "Screen Failure"
    assert ds.provenance["files"]["adsl"]["path"].endswith("subjects.csv")


@pytest.mark.parametrize("change, column, named", [
    (lambda m: m["adsl"]["join"][0].update(file="randomisation.csv"), None, "unknown table"),
    (lambda m: m["adsl"]["join"][0].update(on="patient"), "PATIENT", "unknown column"),
    (lambda m: m["adsl"]["columns"].update(SEX={"column": "gender"}), "SEX", "unknown column"),
])
def test_mapping_that_does_not_fit_the_files_blocks_with_a_named_error(tmp_path, change, column, named):
    mapping = {"adsl": {**MAPPING["adsl"], "join": [dict(MAPPING["adsl"]["join"][0])],
                        "columns": dict(MAPPING["adsl"]["columns"])}}
    change(mapping)
    report = validate_path(_export(tmp_path / "d"), mapping=mapping)
    errors = [f for f in report.errors if f.rule.startswith(named)]
    assert errors and errors[0].column == column and not report.ok


def test_section_without_file_recodes_the_file_identified_as_its_role(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    pd.DataFrame({"STUDYID": ["S"] * 2, "USUBJID": ["1", "2"], "SITEID": ["9", "9"], "ARM": ["A", "B"],
                  "SEX": ["1", "2"]}).to_csv(folder / "adsl.csv", index=False)
    ds = load_dataset(folder, mapping={"adsl": {"SEX": {"column": "SEX", "recode": {"1": "M", "2": "F"}}}})
    assert ds.adsl["SEX"].tolist() == ["M", "F"]


def test_mapping_yaml_in_the_folder_is_used_and_a_bad_one_is_refused(tmp_path):
    folder = _export(tmp_path / "d")
    (folder / "mapping.yaml").write_text(
        "adsl:\n  file: subjects.csv\n  join: [{file: randomization_list.csv, on: subjid}]\n"
        "  columns: {USUBJID: subjid, STUDYID: {value: ABC-1}}\n")
    assert len(load_dataset(folder).randomized) == 1
    (folder / "mapping.yaml").write_text("adsl:\n  file: subjects.csv\n  columns: {RANDDT: {column: x, format: dd/mm/yyyy}}\n")
    with pytest.raises(MappingError, match="bad date format"):
        load_dataset(folder)


def test_readme_example_is_a_valid_mapping(tmp_path):
    text = README.read_text()
    section = text[text.index("## Loading a raw EDC export"):]
    block = section[section.index("```yaml") + len("```yaml"):section.index("```", section.index("```yaml") + 7)]
    path = tmp_path / "mapping.yaml"
    path.write_text(block)
    mapping = load_mapping(path)
    assert set(mapping.built) == {"adsl", "adae"} and mapping.cutoff == "2024-03-31"
    assert dict(mapping.roles["adsl"].columns["ARM"].recode) == {"1": "MSC + basiliximab + CNI", "2": "Basiliximab + CNI"}


# ---- suggestions -------------------------------------------------------------------------------------


def test_guess_date_format_reads_the_values_and_admits_when_it_cannot_tell():
    assert guess_date_format(pd.Series(["31/01/2015", "02/02/2015"])) == "%d/%m/%Y"
    assert guess_date_format(pd.Series(["05-MAR-2015"])) == "%d-%b-%Y"
    assert guess_date_format(pd.Series(["01/02/2015", "03/04/2015"])) == "<%d/%m/%Y or %m/%d/%Y: the values fit both>"
    assert guess_date_format(pd.Series(["first of May"])).startswith("<strptime format of values like")


def test_suggested_export_mapping_leaves_only_what_cannot_be_guessed():
    ae = _raw("ae_form.csv", pd.DataFrame({
        "subjid": ["001", "001", "003"], "aeterm_pt": ["Rash", "Fever", "Cough"],
        "aeterm_soc": ["Skin", "General", "Respiratory"], "aest_dt": ["01/03/2015", "13/03/2015", "02/04/2015"]}))
    sites = _raw("site_list.csv", pd.DataFrame({"siteid": ["10", "20"], "site_name": ["North", "South"]}))
    rand = _raw("randomization_list.csv", RANDOMIZATION.frame.drop_duplicates("SUBJID").head(2))
    text = suggest_export_mapping([ae, rand, SCREENING, sites])
    placeholders = re.findall(r'"(<[^"]*>)"', text)
    assert placeholders == ["<study identifier>", "<arm name for code 1>", "<arm name for code 2>"]
    assert "  file: screening_log.csv\n  join:\n    - {file: randomization_list.csv, on: SUBJID}" in text
    assert "    RANDDT: {column: RAND_DT, format: \"%d-%b-%Y\"}" in text
    assert "    SCRNDT: {column: ICF_DT, format: \"%d/%m/%Y\"}" in text
    assert "    ASTDT: {column: AEST_DT, format: \"%d/%m/%Y\"}" in text
    assert "    AEDECOD: AETERM_PT" in text and "    AEBODSYS: AETERM_SOC" in text
    assert "sites:\n  file: site_list.csv" in text


def test_suggested_mapping_with_placeholders_filled_loads(tmp_path):
    folder = _export(tmp_path / "d")
    report = validate_path(folder)
    suggestion = next(f.suggestion for f in report.errors if f.suggestion)
    assert "<study identifier>" in suggestion and "join:\n    - {file: randomization_list.csv, on: SUBJID}" in suggestion
    filled = suggestion.replace('"<study identifier>"', "ABC-1")
    (tmp_path / "mapping.yaml").write_text(filled)
    ds = load_dataset(folder, mapping=tmp_path / "mapping.yaml")
    assert ds.adsl.set_index("USUBJID")["SEX"].tolist() == ["M", "F"]  # ISO 5218 codes guessed
    assert ds.adsl.set_index("USUBJID").loc["001", "RANDDT"] == pd.Timestamp("2015-01-31")
