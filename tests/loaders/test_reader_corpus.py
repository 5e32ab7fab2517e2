"""A corpus of broken and awkward files, built in tmp_path from copies of the CDISC pilot, each run
through `python -m dashboard validate --json` as a user would. Every case asserts the exit code
(0 = the trial loads, 1 = blocked), that a finding names the file (and column) and the rule, that no
traceback reaches the user and that the input files are unchanged (sha256 and listing).

File-level outcomes are what is asserted (the severity model of data/README.md): a broken subject-level
file (ADSL) blocks; a broken optional dataset the load would use (ADAE) is left out with a row-level
finding and the trial loads; a broken file it does not use (a trial-design dataset, a questionnaire)
is informational."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from dashboard.loaders import load_dataset
from dashboard.loaders.dataset_json import write_dataset_json

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pilot(pilot_dir):
    """The pilot's ADSL and ADAE frames (dates as date objects) with their variable labels."""
    adsl, adsl_meta = pyreadstat.read_xport(str(pilot_dir / "adsl.xpt"))
    adae, adae_meta = pyreadstat.read_xport(str(pilot_dir / "adae.xpt"))
    return {"dir": pilot_dir, "adsl": adsl, "adae": adae,
            "labels": {"adsl": adsl_meta.column_names_to_labels, "adae": adae_meta.column_names_to_labels}}


def _snapshot(folder: Path) -> dict:
    """Every entry's sha256 (or symlink target): what must not change when the folder is validated."""
    out = {}
    for path in sorted(folder.iterdir()):
        out[path.name] = f"-> {os.readlink(path)}" if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def validate(folder: Path) -> tuple[int, dict]:
    """(exit code, JSON report) of `python -m dashboard validate --json folder`; no traceback, files untouched."""
    before = _snapshot(folder)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "dashboard", "validate", "--json", str(folder)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-3000:]
    assert _snapshot(folder) == before
    return run.returncode, json.loads(run.stdout)


def finding(report: dict, file_name: str, *words: str, column: str | None = None) -> dict:
    """The one finding about `file_name` (and `column`) whose rule contains every word."""
    found = [f for f in report["findings"] if (f["source"] or "").endswith(file_name)
             and all(w in f["rule"] for w in words) and (column is None or f["column"] == column)]
    assert len(found) == 1, [(f["source"], f["column"], f["rule"]) for f in report["findings"]]
    return found[0]


def role(report: dict, file_name: str) -> dict:
    return next(f for f in report["files"] if f["path"].endswith(file_name))


def _folder(tmp_path: Path, pilot, *copies: str) -> Path:
    folder = tmp_path / "study"
    folder.mkdir()
    for name in copies:
        shutil.copy(pilot["dir"] / name, folder / name)
    return folder


def _truncate(source: Path, target: Path, fraction: float) -> None:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])


def _iso(dates: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime(fmt)


# --- encodings ----------------------------------------------------------------------------------

def test_cp1252_bytes_in_trial_design_files_are_decoded_and_do_not_block(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    ts = pd.DataFrame({"STUDYID": ["CDISCPILOT01"] * 2, "TSPARMCD": ["TITLE", "SPONSOR"],
                       "TSVAL": ["Xanomeline~s effect on Alzheimer~s disease", "Eli Lilly"]})
    pyreadstat.write_xport(ts, str(folder / "ts.xpt"), file_format_version=5, table_name="TS")
    (folder / "ts.xpt").write_bytes((folder / "ts.xpt").read_bytes().replace(b"~", b"\x92"))
    (folder / "te.csv").write_bytes("STUDYID,ETCD,ELEMENT\nCDISCPILOT01,SCRN,Screening \u2013 visit 1\n".encode("cp1252"))
    code, report = validate(folder)
    assert code == 0 and role(report, "ts.xpt")["role"] == "ts" and role(report, "te.csv")["role"] == "ignored"
    assert load_dataset(folder).info.title == "Xanomeline\u2019s effect on Alzheimer\u2019s disease"
    hit = finding(report, "ts.xpt", "read as cp1252", column="TSVAL")
    assert hit["severity"] == "informational" and "\u2019" in hit["examples"][0]
    assert finding(report, "te.csv", "read as cp1252", "byte 0x96 at line 2")["severity"] == "informational"


def test_utf16_csv_with_bom_loads(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    pilot["adae"].to_csv(folder / "adae.csv", index=False, encoding="utf-16")
    code, report = validate(folder)
    assert code == 0 and role(report, "adae.csv") | {"sha256": ""} == {
        "path": str(folder / "adae.csv"), "sha256": "", "format": "csv", "role": "adae", "encoding": "utf-16"}
    assert finding(report, "adae.csv", "utf-16 (byte-order mark)")["severity"] == "informational"


def test_utf8_bom_csv_loads_without_a_note(tmp_path, pilot):
    folder = _folder(tmp_path, pilot)
    pilot["adsl"].to_csv(folder / "adsl.csv", index=False, encoding="utf-8-sig")
    code, report = validate(folder)
    assert code == 0 and role(report, "adsl.csv")["encoding"] == "utf-8-sig"
    assert not [f for f in report["findings"] if "read as" in f["rule"] or "required column" in f["rule"]]


def test_latin1_csv_is_read_and_said_not_to_be_utf8(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    adae = pilot["adae"].copy()
    adae.loc[3, "AETERM"] = "\u00e9ryth\u00e8me cutan\u00e9"
    adae.to_csv(folder / "adae.csv", index=False, encoding="latin-1")
    code, report = validate(folder)
    hit = finding(report, "adae.csv", "byte 0xe9 at line 5 is not UTF-8", column="AETERM")
    assert code == 0 and hit["examples"] == ["row 4: AETERM='\u00e9ryth\u00e8me cutan\u00e9'"]


def test_cp1252_byte_in_a_used_csv_is_decoded_and_noted(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    adae = pilot["adae"].copy()
    adae.loc[0, "AETERM"] = "PATIENT\u2019S RASH"
    adae.to_csv(folder / "adae.csv", index=False, encoding="cp1252")
    code, report = validate(folder)
    assert code == 0 and finding(report, "adae.csv", "read as cp1252", "byte 0x92 at line 2")["column"] == "AETERM"


# --- broken files -------------------------------------------------------------------------------

def test_truncated_adsl_blocks(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adae.xpt")
    _truncate(pilot["dir"] / "adsl.xpt", folder / "adsl.xpt", 0.5)
    code, report = validate(folder)
    hit = finding(report, "adsl.xpt", "truncated", "only 118 rows could be read")
    assert code == 1 and hit["severity"] == "blocking"


def test_truncated_adae_is_left_out(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    _truncate(pilot["dir"] / "adae.xpt", folder / "adae.xpt", 0.7)
    code, report = validate(folder)
    hit = finding(report, "adae.xpt", "could not be read whole", "truncated", "the dataset is left out")
    assert code == 0 and hit["severity"] == "row-level" and hit["rule_id"] == "file-unreadable"
    assert load_dataset(folder).adae is None


def test_truncated_unused_file_does_not_block(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    _truncate(pilot["dir"] / "adqscibc.xpt", folder / "adqscibc.xpt", 0.5)
    code, report = validate(folder)
    hit = finding(report, "adqscibc.xpt", "truncated", "does not block loading")
    assert code == 0 and hit["severity"] == "informational"


def test_unused_file_cut_inside_its_header_does_not_block(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    _truncate(pilot["dir"] / "adqscibc.xpt", folder / "adqscibc.xpt", 0.005)
    code, report = validate(folder)
    hit = finding(report, "adqscibc.xpt", "cannot read file", "truncated")
    assert code == 0 and hit["severity"] == "informational"


def test_dangling_symlink_for_ae_is_reported_not_silently_absent(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    os.symlink(tmp_path / "elsewhere" / "adae.xpt", folder / "adae.xpt")
    code, report = validate(folder)
    hit = finding(report, "adae.xpt", "broken symlink", "does not exist")
    assert code == 0 and hit["severity"] == "row-level" and hit["action"] == "dataset left out"


def test_looping_symlink_of_an_unused_name_is_a_warning(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    os.symlink(folder / "listing.csv", folder / "listing.csv")
    code, report = validate(folder)
    assert code == 0 and finding(report, "listing.csv", "broken symlink", "loop")["severity"] == "informational"


def test_usubjid_and_lowercase_usubjid_with_different_ids_block(tmp_path, pilot):
    folder = _folder(tmp_path, pilot)
    adsl = pilot["adsl"].copy()
    adsl.insert(3, "usubjid", adsl["USUBJID"].str.replace("01-7", "02-7"))
    adsl.to_csv(folder / "adsl.csv", index=False)
    code, report = validate(folder)
    hit = finding(report, "adsl.csv", "differ only by case", "different subject ids", column="USUBJID")
    assert code == 1 and hit["severity"] == "blocking"


def test_a_second_age_column_differing_by_case_is_named_and_the_first_kept(tmp_path, pilot):
    folder = _folder(tmp_path, pilot)
    adsl = pilot["adsl"].copy()
    adsl["age"] = adsl["AGE"] + 100
    adsl.to_csv(folder / "adsl.csv", index=False)
    code, report = validate(folder)
    assert code == 0 and finding(report, "adsl.csv", "the first is used", column="AGE")["severity"] == "informational"
    assert not [f for f in report["findings"] if f["column"] == "AGE" and "range" in f["rule"]]  # ages of 160+ not used


# --- dates --------------------------------------------------------------------------------------

def test_yyyymmdd_numbers_in_an_xpt_are_dates_not_1960(tmp_path, pilot):
    folder = _folder(tmp_path, pilot)
    adsl = pilot["adsl"].copy()
    for col in ("TRTSDT", "TRTEDT"):
        adsl[col] = _iso(adsl[col], "%Y%m%d").astype(float)
    pyreadstat.write_xport(adsl, str(folder / "adsl.xpt"), file_format_version=5, table_name="ADSL")
    code, report = validate(folder)
    assert code == 0 and "YYYYMMDD" in finding(report, "adsl.xpt", "YYYYMMDD", column="TRTSDT")["rule"]
    loaded = load_dataset(folder).adsl
    expected = pd.to_datetime(pilot["adsl"]["TRTSDT"])
    assert dict(zip(loaded["USUBJID"], loaded["TRTSDT"])) == dict(zip(pilot["adsl"]["USUBJID"], expected))


def test_yyyymmdd_text_in_a_csv(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    adae = pilot["adae"].copy()
    adae["ASTDT"] = _iso(adae["ASTDT"], "%Y%m%d")
    adae.to_csv(folder / "adae.csv", index=False)
    code, report = validate(folder)
    assert code == 0 and finding(report, "adae.csv", "YYYYMMDD", column="ASTDT")["count"] == adae["ASTDT"].notna().sum()


def test_day_month_year_is_read_day_first_even_when_the_day_is_12_or_less(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    adae = pilot["adae"].copy()
    adae["ASTDT"] = _iso(adae["ASTDT"], "%d/%m/%Y")
    adae.to_csv(folder / "adae.csv", index=False)
    code, report = validate(folder)
    assert code == 0 and "decided for the whole column" in finding(report, "adae.csv", "DD/MM/YYYY", column="ASTDT")["rule"]
    loaded = load_dataset(folder).adae
    expected = pd.to_datetime(pilot["adae"]["ASTDT"])
    assert (expected.dt.day <= 12).sum() > 100  # the dates the old per-value parser read month first
    assert sorted(zip(loaded["USUBJID"], loaded["ASTDT"].astype(str))) == sorted(
        zip(pilot["adae"]["USUBJID"], expected.astype(str)))


def test_slash_dates_no_row_decides_are_refused_asking_for_a_format(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    adae = pilot["adae"][pd.to_datetime(pilot["adae"]["ASTDT"]).dt.day <= 12].copy()
    adae["ASTDT"] = _iso(adae["ASTDT"], "%d/%m/%Y")
    adae.to_csv(folder / "adae.csv", index=False)
    code, report = validate(folder)
    hit = finding(report, "adae.csv", "cannot be decided", "mapping file", column="ASTDT")
    assert code == 0 and hit["count"] == adae["ASTDT"].notna().sum() and hit["examples"]


# --- Dataset-JSON -------------------------------------------------------------------------------

def _write_json(folder: Path, pilot, name: str, suffix: str = ".json") -> Path:
    return write_dataset_json(pilot[name], folder / f"{name}{suffix}", name.upper(), pilot["labels"][name])


def test_pilot_as_dataset_json_and_ndjson_loads(tmp_path, pilot):
    folder = _folder(tmp_path, pilot)
    _write_json(folder, pilot, "adsl")
    _write_json(folder, pilot, "adae", ".ndjson")
    code, report = validate(folder)
    assert code == 0 and report["blocking"] == 0
    assert [(role(report, n)["role"], role(report, n)["format"]) for n in ("adsl.json", "adae.ndjson")] == [
        ("adsl", "dataset-json"), ("adae", "dataset-json")]


def _edit_json(path: Path, **changes) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({k: v for k, v in {**doc, **changes}.items() if v is not None}), encoding="utf-8")


def test_dataset_json_of_another_version_is_refused_naming_the_version(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    _edit_json(_write_json(folder, pilot, "adae"), datasetJSONVersion="1.0.0")
    code, report = validate(folder)
    hit = finding(report, "adae.json", "cannot read file", "datasetJSONVersion '1.0.0' is not supported")
    assert code == 0 and hit["severity"] == "row-level"


def test_dataset_json_without_column_metadata_is_refused(tmp_path, pilot):
    folder = _folder(tmp_path, pilot)
    _edit_json(_write_json(folder, pilot, "adsl"), columns=None)
    code, report = validate(folder)
    assert code == 1 and finding(report, "adsl.json", "no 'columns' metadata")["severity"] == "row-level"
    assert "unreadable: adsl.json" in finding(report, "", "no subject-level dataset")["rule"]


def test_empty_ndjson_is_named(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    (folder / "adae.ndjson").write_bytes(b"")
    code, report = validate(folder)
    assert code == 0 and finding(report, "adae.ndjson", "cannot read file", "empty file")["severity"] == "row-level"


def test_ndjson_with_fewer_rows_than_its_records_blocks(tmp_path, pilot):
    folder = _folder(tmp_path, pilot)
    path = _write_json(folder, pilot, "adsl", ".ndjson")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:119]), encoding="utf-8")
    code, report = validate(folder)
    assert code == 1 and finding(report, "adsl.ndjson", "declares 254 records but holds 118")["severity"] == "blocking"


def test_a_json_file_that_is_not_dataset_json_is_ignored(tmp_path, pilot):
    folder = _folder(tmp_path, pilot, "adsl.xpt")
    (folder / "export_settings.json").write_text('{"exported_by": "EDC", "tables": 4}')
    code, report = validate(folder)
    hit = finding(report, "export_settings.json", "no datasetJSONVersion")
    assert code == 0 and hit["severity"] == "informational"
