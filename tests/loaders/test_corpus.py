"""A corpus of broken or awkward trials, built here from copies of the CDISC pilot (no committed files).

Each case runs `python -m dashboard validate` in a subprocess and checks the exit code (0 loads,
1 blocked, 2 usage error), that the output names the file, column and rule, that no traceback
reaches the user and that no input file changed. For the trials that load, the numbers must exclude
exactly the rows left out (expected figures computed here from the raw copies) and the app must render.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable

import pandas as pd
import panel as pn
import pyreadstat
import pytest

from dashboard.app import build_app
from dashboard.model.dataset import METADATA_FILE, write_dataset
from dashboard.loaders import load_dataset

from tests.conftest import shared_path

from .conftest import PILOT

ROOT = Path(__file__).resolve().parents[2]
DEAD, SECOND = "01-701-1015", "01-701-1023"  # two pilot subjects with several adverse events


@cache
def _pilot(name: str) -> pd.DataFrame:
    frame, _ = pyreadstat.read_xport(str(shared_path("data", "external", "cdiscpilot01_adam", f"{name}.xpt")))
    return frame


def pilot(name: str) -> pd.DataFrame:
    """A fresh copy of a pilot dataset (dates as datetime.date, as pyreadstat reads them)."""
    return _pilot(name).copy()


def write_csv(folder: Path, **frames: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


def pilot_csv(folder: Path, **changes: pd.DataFrame | None) -> None:
    """The pilot's ADSL, ADAE and ADTTE as CSV, with some replaced (None: file not written)."""
    frames = {"adsl": pilot("adsl"), "adae": pilot("adae"), "adtte": pilot("adtte"), **changes}
    write_csv(folder, **{k: v for k, v in frames.items() if v is not None})


@cache
def _clean_cutoff() -> pd.Timestamp:
    return load_dataset(PILOT).cutoff


def model_folder(folder: Path) -> None:
    """The pilot written as our own model folder (parquet + metadata.json)."""
    write_dataset(load_dataset(PILOT), folder, "parquet")


def edit_metadata(folder: Path, change: Callable[[dict], dict | str]) -> None:
    meta = json.loads((folder / METADATA_FILE).read_text())
    new = change(meta)
    (folder / METADATA_FILE).write_text(new if isinstance(new, str) else json.dumps(new))


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- the cases --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One input: how to build it in a folder, the expected exit code, words the report must contain,
    and (for inputs that load) a check of the loaded numbers."""

    id: str
    build: Callable[[Path], list[str]]  # writes the input, returns the validate arguments after the folder
    code: int
    words: tuple[str, ...]
    check: Callable | None = None
    every_tab: bool = False


def header_only_adsl(folder):
    pilot_csv(folder, adsl=pilot("adsl").iloc[0:0])
    return []


def zero_byte_adsl(folder):
    pilot_csv(folder, adsl=None)
    (folder / "adsl.csv").write_bytes(b"")
    return []


def all_screen_failures(folder):
    pilot_csv(folder, adsl=pilot("adsl").assign(ARM="Screen Failure", TRT01P="Screen Failure"))
    return []


def every_subject_id_blank(folder):
    pilot_csv(folder, adsl=pilot("adsl").assign(USUBJID=""))
    return []


def orphan_ae_rows(folder):
    ae = pilot("adae")
    orphans = ae.iloc[:3].assign(USUBJID=["99-999-0001", "99-999-0002", "<img src=x onerror=alert(1)>"])
    pilot_csv(folder, adae=pd.concat([ae, orphans], ignore_index=True))
    return []


def check_orphans(ds, folder):
    assert len(ds.adae) == len(pilot("adae")) and ds.left_out("adae") == 3
    assert set(ds.quarantine["USUBJID"]) == {"99-999-0001", "99-999-0002", "<img src=x onerror=alert(1)>"}


def _with_death(adsl: pd.DataFrame, subject: str, death: dt.date) -> pd.DataFrame:
    out = adsl.copy()
    out["DTHDT"] = None
    out.loc[out["USUBJID"] == subject, ["DTHFL", "DTHDT"]] = ["Y", death]
    return out


def death_before_randomization(folder):
    adsl = pilot("adsl")
    first_dose = adsl.loc[adsl["USUBJID"] == DEAD, "TRTSDT"].iloc[0]  # the pilot's randomization date
    pilot_csv(folder, adsl=_with_death(adsl, DEAD, first_dose - dt.timedelta(days=10)))
    return []


def check_death_before_randomization(ds, folder):
    ae = pilot("adae")
    assert len(ds.adsl) == 253 and DEAD not in set(ds.adsl["USUBJID"])
    assert len(ds.adae) == len(ae) - (ae["USUBJID"] == DEAD).sum() and DEAD not in set(ds.adtte["USUBJID"])
    assert ds.left_out("adsl") == 1


def ae_after_death(folder):
    ae = pilot("adae")
    onsets = sorted(d for d in ae.loc[ae["USUBJID"] == DEAD, "ASTDT"] if isinstance(d, dt.date))
    death = onsets[-1] - dt.timedelta(days=1)
    pilot_csv(folder, adsl=_with_death(pilot("adsl"), DEAD, death))
    return []


def check_ae_after_death(ds, folder):
    ae = pilot("adae")
    adsl = pd.read_csv(folder / "adsl.csv", dtype=str)
    death = pd.Timestamp(adsl.loc[adsl["USUBJID"] == DEAD, "DTHDT"].iloc[0])
    after = (ae["USUBJID"] == DEAD) & (pd.to_datetime(ae["ASTDT"]) > death)
    assert after.sum() >= 1 and len(ds.adae) == len(ae) - after.sum() and ds.left_out("adae") == after.sum()
    assert len(ds.adsl) == 254 and set(ds.subject_findings(DEAD)["rule_id"]) == {"record-after-death"}


def last_alive_after_death(folder):
    adsl = _with_death(pilot("adsl"), SECOND, _date("2014-01-01"))
    adsl["LSTALVDT"] = adsl["TRTEDT"]
    adsl.loc[adsl["USUBJID"] == SECOND, "LSTALVDT"] = _date("2014-02-01")
    ae = pilot("adae")
    pilot_csv(folder, adsl=adsl, adae=ae.loc[ae["USUBJID"] != SECOND])
    return []


def check_last_alive_after_death(ds, folder):
    row = ds.adsl.loc[ds.adsl["USUBJID"] == SECOND].iloc[0]
    assert pd.isna(row["LSTALVDT"]) and row["DTHDT"] == pd.Timestamp("2014-01-01") and len(ds.adsl) == 254


def death_flag_without_date(folder):
    adsl = pilot("adsl")
    adsl["DTHDT"] = None
    pilot_csv(folder, adsl=adsl)
    return []


def duplicate_subject_exact(folder):
    adsl = pilot("adsl")
    pilot_csv(folder, adsl=pd.concat([adsl, adsl.iloc[[0]]], ignore_index=True))
    return []


def check_duplicate_exact(ds, folder):
    assert len(ds.adsl) == 254 and ds.left_out("adsl") == 1 and len(ds.adae) == len(pilot("adae"))


def duplicate_subject_conflicting(folder):
    adsl = pilot("adsl")
    copy = adsl.iloc[[0]].assign(AGE=adsl["AGE"].iloc[0] + 1)
    pilot_csv(folder, adsl=pd.concat([adsl, copy], ignore_index=True))
    return []


def check_duplicate_conflicting(ds, folder):
    subject = pilot("adsl")["USUBJID"].iloc[0]
    ae = pilot("adae")
    assert len(ds.adsl) == 253 and subject not in set(ds.adsl["USUBJID"]) and ds.left_out("adsl") == 2
    assert len(ds.adae) == len(ae) - (ae["USUBJID"] == subject).sum()


def blank_subject_ids(folder):
    adsl = pilot("adsl")
    adsl.loc[[5, 6], "USUBJID"] = ""
    pilot_csv(folder, adsl=adsl)
    return []


def check_blank_subject_ids(ds, folder):
    ids = set(pilot("adsl")["USUBJID"].iloc[[5, 6]])
    ae = pilot("adae")
    assert len(ds.adsl) == 252 and len(ds.adae) == len(ae) - ae["USUBJID"].isin(ids).sum()


def ae_onset_in_2150(folder):
    ae = pilot("adae")
    ae.loc[0, "ASTDT"] = _date("2150-01-01")
    pilot_csv(folder, adae=ae)
    return []


def check_2150(ds, folder):
    assert ds.cutoff == _clean_cutoff() and ds.cutoff.year < 2100
    assert "1 implausible date left out" in ds.cutoff_source and len(ds.adae) == len(pilot("adae")) - 1


def ae_onset_far_beyond_the_bulk(folder):
    ae = pilot("adae")
    ae.loc[0, "ASTDT"] = _date("2023-06-01")  # in the past, but eight years after every other date
    pilot_csv(folder, adae=ae)
    return []


def check_far_beyond(ds, folder):
    assert ds.cutoff == _clean_cutoff() and len(ds.adae) == len(pilot("adae")) - 1


def mapping_cutoff(folder):
    pilot_csv(folder / "data")
    (folder / "mapping.yaml").write_text("cutoff: 2014-06-30\n")
    return ["--mapping", str(folder / "mapping.yaml")]


def _expected_by_cut(cut: pd.Timestamp) -> tuple[int, int]:
    """Subjects and adverse events of the pilot that the cut keeps (independent of the loader)."""
    adsl, ae = pilot("adsl"), pilot("adae")
    entered = pd.Series(True, index=adsl.index)
    for column in ("TRTSDT", "VISIT1DT"):  # the pilot's randomization and screening dates
        dates = pd.to_datetime(adsl[column])
        entered &= dates.isna() | dates.le(cut)
    kept = set(adsl.loc[entered, "USUBJID"])
    onset = pd.to_datetime(ae["ASTDT"])
    return len(kept), int((ae["USUBJID"].isin(kept) & (onset.isna() | onset.le(cut))).sum())


def check_mapping_cut(ds, folder):
    cut = pd.Timestamp("2014-06-30")
    assert ds.cutoff == cut and ds.cutoff_source.startswith("mapping file")
    assert (len(ds.adsl), len(ds.adae)) == _expected_by_cut(cut)


def cut_column_in_adsl(folder):
    pilot_csv(folder, adsl=pilot("adsl").assign(DCUTDT="2014-06-30"))
    return []


def check_cut_column(ds, folder):
    cut = pd.Timestamp("2014-06-30")
    assert ds.cutoff == cut and ds.cutoff_source == "column DCUTDT of adsl.csv"
    assert (len(ds.adsl), len(ds.adae)) == _expected_by_cut(cut)


def dates_after_metadata_cut(folder):
    model_folder(folder)
    edit_metadata(folder, lambda m: {**m, "cutoff": "2013-06-30"})
    return []


def check_metadata_cut(ds, folder):
    cut = pd.Timestamp("2013-06-30")
    assert ds.cutoff == cut and ds.cutoff_source == METADATA_FILE
    assert (len(ds.adsl), len(ds.adae)) == _expected_by_cut(cut)
    assert (ds.adae["ASTDT"].dropna() <= cut).all() and (ds.adae["AENDT"].dropna() <= cut).all()


def metadata_without_cutoff(folder):
    model_folder(folder)
    edit_metadata(folder, lambda m: {k: v for k, v in m.items() if k != "cutoff"})
    return []


def check_cut_from_data(ds, folder):
    assert ds.cutoff == _clean_cutoff() and ds.cutoff_source == "latest date in the data" and len(ds.adsl) == 254


def metadata_not_json(folder):
    model_folder(folder)
    edit_metadata(folder, lambda m: "{ this is not json")
    return []


def metadata_in_the_future(folder):
    model_folder(folder)
    edit_metadata(folder, lambda m: {**m, "cutoff": "2150-01-01"})
    return []


def unreadable_parquet_ae(folder):
    model_folder(folder)
    (folder / "adae.parquet").write_bytes(b"PAR1 this is not a parquet file")
    return []


def check_no_ae(ds, folder):
    assert ds.adae is None and len(ds.adsl) == 254


def unreadable_parquet_adsl(folder):
    model_folder(folder)
    (folder / "adsl.parquet").write_bytes(b"\x00" * 64)
    return []


def empty_ae_file(folder):
    pilot_csv(folder, adae=None)
    (folder / "adae.csv").write_bytes(b"")
    return []


def header_only_ae(folder):
    pilot_csv(folder, adae=pilot("adae").iloc[0:0])
    return []


def adsl_without_arm(folder):
    pilot_csv(folder, adsl=pilot("adsl").drop(columns=["ARM", "TRT01P"]))
    return []


def ae_without_preferred_term(folder):
    pilot_csv(folder, adae=pilot("adae").drop(columns=["AEDECOD"]))
    return []


def non_data_files(folder):
    pilot_csv(folder)
    (folder / "README.txt").write_text("exported 2015-03-06\n")
    (folder / ".DS_Store").write_bytes(os.urandom(64))
    (folder / "define.xml").write_text("<ODM/>")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(32))
    return []


def check_all_pilot(ds, folder):
    assert len(ds.adsl) == 254 and len(ds.adae) == len(pilot("adae")) and ds.left_out() == 0


def unknown_csv_next_to_the_data(folder):
    pilot_csv(folder)
    write_csv(folder, notes=pd.DataFrame({"WHO": ["dm"], "WHAT": ["check site 704"]}))
    return []


def only_non_data_files(folder):
    folder.mkdir()
    (folder / "README.txt").write_text("nothing here\n")
    return []


def bad_censoring(folder):
    tte = pilot("adtte").astype({"CNSR": object})
    tte.loc[[0, 1], "CNSR"] = [7, "censored"]
    pilot_csv(folder, adtte=tte)
    return []


def check_bad_censoring(ds, folder):
    tte = pilot("adtte")
    assert len(ds.adtte) == len(tte) - 2 and not set(tte["USUBJID"].iloc[:2]) & set(ds.adtte["USUBJID"])
    assert len(ds.adsl) == 254


def negative_time_to_event(folder):
    tte = pilot("adtte")
    tte.loc[3, "AVAL"] = -5
    pilot_csv(folder, adtte=tte)
    return []


def check_negative_time(ds, folder):
    assert len(ds.adtte) == len(pilot("adtte")) - 1 and ds.left_out() == 1


def conflicting_time_to_event_rows(folder):
    tte = pilot("adtte")
    copy = tte.iloc[[0]].assign(AVAL=tte["AVAL"].iloc[0] + 30)
    pilot_csv(folder, adtte=pd.concat([tte, copy], ignore_index=True))
    return []


def check_conflicting_tte(ds, folder):
    assert len(ds.adtte) == len(pilot("adtte")) - 1 and ds.left_out("adtte") == 2


def impossible_ages(folder):
    adsl = pilot("adsl").astype({"AGE": object})
    adsl.loc[0, "AGE"] = 250
    adsl.loc[1, "AGE"] = "old"
    pilot_csv(folder, adsl=adsl)
    return []


def check_ages(ds, folder):
    assert len(ds.adsl) == 254 and ds.adsl["AGE"].isna().sum() == 2
    assert ds.adsl["AGE"].dropna().tolist() == pilot("adsl")["AGE"].iloc[2:].tolist()


def ae_grade_out_of_range_and_bad_dates(folder):
    ae = pilot("adae")
    ae["AETOXGR"] = "2"
    ae.loc[0, "AETOXGR"] = "7"
    ae.loc[1, "ASTDT"] = "not a date"
    pilot_csv(folder, adae=ae)
    return []


def check_grades_and_dates(ds, folder):
    assert len(ds.adae) == len(pilot("adae")) and ds.adae["AETOXGRN"].isna().sum() == 1
    assert ds.adae["ASTDT"].isna().sum() == pd.isna(pilot("adae")["ASTDT"]).sum() + 1


def two_subject_files(folder):
    pilot_csv(folder)
    write_csv(folder, adsl_old=pilot("adsl"))
    return []


def two_ae_files(folder):
    pilot_csv(folder)
    write_csv(folder, adae_v2=pilot("adae"))
    return []


def missing_path(folder):
    return [str(folder / "does-not-exist")]


def broken_mapping_file(folder):
    pilot_csv(folder / "data")
    (folder / "mapping.yaml").write_text("adsl: [unclosed\n")
    return ["--mapping", str(folder / "mapping.yaml")]


def strict_on_the_pilot(folder):
    pilot_csv(folder)
    return ["--strict"]


def strict_on_a_clean_model_folder(folder):
    model_folder(folder)
    return ["--strict"]


CASES = [
    Case("header-only ADSL", header_only_adsl, 1, ("adsl.csv", "no-randomized-subjects", "header only")),
    Case("zero-byte ADSL csv", zero_byte_adsl, 1, ("adsl.csv", "file-unreadable", "no-subject-table")),
    Case("every subject a screen failure", all_screen_failures, 1,
         ("adsl.csv", "RANDFL", "no-randomized-subjects", "screen failure")),
    Case("every subject id blank", every_subject_id_blank, 1,
         ("adsl.csv", "USUBJID", "value-missing", "no-randomized-subjects", "254 subject row(s) left out")),
    Case("orphan AE rows", orphan_ae_rows, 0, ("adae.csv", "USUBJID", "orphan-record", "99-999-0001"), check_orphans),
    Case("death before randomization", death_before_randomization, 0,
         ("adsl.csv", "DTHDT", "death-before-randomization", DEAD, "subject-left-out"),
         check_death_before_randomization, every_tab=True),
    Case("AE after death", ae_after_death, 0, ("adae.csv", "ASTDT", "record-after-death", DEAD), check_ae_after_death,
         every_tab=True),
    Case("last alive after death", last_alive_after_death, 0, ("adsl.csv", "LSTALVDT", "alive-after-death", SECOND),
         check_last_alive_after_death),
    Case("death flag without a date", death_flag_without_date, 0, ("adsl.csv", "DTHDT", "death-flag-without-date"),
         check_all_pilot),
    Case("duplicate USUBJID rows, exact copy", duplicate_subject_exact, 0,
         ("adsl.csv", "USUBJID", "duplicate-subject", "exact copy"), check_duplicate_exact),
    Case("duplicate USUBJID rows, conflicting", duplicate_subject_conflicting, 0,
         ("adsl.csv", "USUBJID", "duplicate-subject", "all left out", "subject-left-out"), check_duplicate_conflicting,
         every_tab=True),
    Case("blank subject ids", blank_subject_ids, 0, ("adsl.csv", "USUBJID", "value-missing", "orphan-record"),
         check_blank_subject_ids),
    Case("one AE onset in 2150", ae_onset_in_2150, 0, ("adae.csv", "ASTDT", "date-implausible", "2150-01-01"),
         check_2150, every_tab=True),
    Case("one AE onset far beyond the bulk", ae_onset_far_beyond_the_bulk, 0,
         ("adae.csv", "ASTDT", "date-implausible", "2023-06-01"), check_far_beyond),
    Case("cut from a mapping file", mapping_cutoff, 0, ("adae.csv", "ASTDT", "date-after-cut", "mapping file"),
         check_mapping_cut),
    Case("cut from an ADSL cut column", cut_column_in_adsl, 0, ("adae.csv", "ASTDT", "date-after-cut", "DCUTDT"),
         check_cut_column),
    Case("dates after the metadata cut", dates_after_metadata_cut, 0,
         ("adae.parquet", "ASTDT", "date-after-cut", "adsl.parquet", "RANDDT", "source: metadata.json"),
         check_metadata_cut, every_tab=True),
    Case("metadata.json without the cut", metadata_without_cutoff, 0,
         ("metadata.json", "cutoff", "metadata-unreadable", "latest date in the data"), check_cut_from_data),
    Case("metadata.json not JSON", metadata_not_json, 0, ("metadata.json", "metadata-unreadable", "not valid JSON"),
         check_cut_from_data),
    Case("metadata cut in the future", metadata_in_the_future, 0, ("cut-implausible", "2150-01-01", "in the future"),
         check_cut_from_data),
    Case("unreadable AE parquet", unreadable_parquet_ae, 0, ("adae.parquet", "file-unreadable"), check_no_ae),
    Case("unreadable ADSL parquet", unreadable_parquet_adsl, 1,
         ("adsl.parquet", "file-unreadable", "no-subject-table")),
    Case("empty AE file", empty_ae_file, 0, ("adae.csv", "file-unreadable"), check_no_ae),
    Case("header-only AE file", header_only_ae, 0, ("adae.csv", "empty-table"), check_no_ae),
    Case("ADSL without an arm", adsl_without_arm, 1, ("adsl.csv", "ARM", "subject-column-missing")),
    Case("AE file without preferred terms", ae_without_preferred_term, 0,
         ("adae.csv", "AEDECOD", "table-column-missing"), check_no_ae),
    Case("non-data files in the folder", non_data_files, 0, ("OK: the trial loads",), check_all_pilot),
    Case("unknown CSV next to the data", unknown_csv_next_to_the_data, 0, ("notes.csv", "file-ignored"),
         check_all_pilot),
    Case("only non-data files", only_non_data_files, 1, ("no-subject-table", "among: none")),
    Case("censoring not 0/1", bad_censoring, 0, ("adtte.csv", "CNSR", "value-out-of-range", "value-unreadable"),
         check_bad_censoring),
    Case("negative time to event", negative_time_to_event, 0, ("adtte.csv", "AVAL", "value-out-of-range", ">= 0"),
         check_negative_time),
    Case("conflicting time-to-event rows", conflicting_time_to_event_rows, 0,
         ("adtte.csv", "PARAMCD", "duplicate-record"), check_conflicting_tte),
    Case("impossible ages", impossible_ages, 0, ("adsl.csv", "AGE", "value-out-of-range", "value-unreadable", "'old'"),
         check_ages),
    Case("AE grade 7 and an unreadable onset", ae_grade_out_of_range_and_bad_dates, 0,
         ("adae.csv", "AETOXGR", "ASTDT", "value-out-of-range", "value-unreadable", "not a date"),
         check_grades_and_dates),
    Case("two subject-level files", two_subject_files, 1, ("adsl_old.csv", "several-subject-tables")),
    Case("two AE files", two_ae_files, 0, ("adae_v2.csv", "several-files-one-role"), check_no_ae),
    Case("path that does not exist", missing_path, 2, ("does-not-exist",)),
    Case("mapping file that is not YAML", broken_mapping_file, 2, ("mapping.yaml", "not a valid YAML")),
    Case("--strict on the pilot (informational findings)", strict_on_the_pilot, 1, ("FAILED (--strict)", "derived")),
    Case("--strict on a clean model folder", strict_on_a_clean_model_folder, 0, ("OK: the trial loads",)),
]


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _validate(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "dashboard", "validate", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)


def render_app(dataset, every_tab: bool) -> None:
    """Build the app as `serve` does and render its first tab (or every tab); no view may fail."""
    template = build_app(dataset)
    pn.panel(template)
    for component in [*template.header, *template.sidebar, *template.main]:
        component.get_root()
    tabs = next(c for c in template.main if isinstance(c, pn.Tabs))
    for index in range(len(tabs)) if every_tab else [0]:
        tabs.active = index
        shown = tabs[index]
        shown.get_root()
        failed = isinstance(shown, pn.pane.Alert) and shown.alert_type == "danger"
        assert not failed, shown.object


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(case, tmp_path):
    folder = tmp_path / "trial"
    extra = case.build(folder)
    data = folder / "data" if (folder / "data").is_dir() else folder
    args = extra if extra and not extra[0].startswith("--") else [str(data), *extra]
    before = _hashes(tmp_path)
    result = _validate(args)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == case.code, output
    for word in case.words:
        assert word in output, f"{word!r} not in:\n{output}"
    if case.check is not None:
        dataset = load_dataset(data, mapping=dict(zip(extra[::2], extra[1::2])).get("--mapping"))
        case.check(dataset, data)
        render_app(dataset, case.every_tab)
    assert _hashes(tmp_path) == before, "an input file changed"


def test_json_report_of_a_loadable_trial_lists_what_was_left_out(tmp_path):
    orphan_ae_rows(tmp_path / "trial")
    result = _validate([str(tmp_path / "trial"), "--json"])
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["loads"] and report["left_out"] == {"adae": 3}
    assert report["row_level"] == 1 and report["cutoff_source"] == "latest date in the data"
    (orphans,) = [f for f in report["findings"] if f["rule_id"] == "orphan-record"]
    assert orphans["severity"] == "row-level" and orphans["action"] == "row left out" and orphans["count"] == 3

