"""`trial-dashboard validate`: exit 0 when the trial loads, 1 when blocked, 2 on a usage error, `--strict`;
one text section per severity; an unexpected failure is a finding naming its file, never a traceback."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard import loaders
from dashboard.cli import main

ADSL = pd.DataFrame({
    "STUDYID": ["S"] * 4, "USUBJID": ["S-1", "S-2", "S-3", "S-4"], "SITEID": ["01", "01", "02", "02"],
    "ARM": ["Drug", "Placebo", "Drug", "Placebo"], "TRT01P": ["Drug", "Placebo", "Drug", "Placebo"],
    "RANDDT": ["2020-01-02", "2020-01-05", "2020-02-01", "2020-02-03"],
    "RANDFL": ["Y"] * 4, "ITTFL": ["Y"] * 4, "SAFFL": ["Y"] * 4,
})
ADAE = pd.DataFrame({"USUBJID": ["S-1", "S-2", "S-9"], "AEDECOD": ["Nausea", "Rash", "Cough"],
                     "AEBODSYS": ["GI", "Skin", "Resp"], "ASTDT": ["2020-01-10", "2020-02-10", "2020-02-11"]})


def _trial(folder, **frames):
    folder.mkdir(exist_ok=True)
    for name, frame in {"adsl": ADSL, **frames}.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return str(folder)


def _run(capsys, *args) -> tuple[int, str]:
    code = main(["validate", *args])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    return code, output


def test_clean_trial_exits_zero_and_strict_too(tmp_path, capsys):
    folder = _trial(tmp_path / "t")
    assert _run(capsys, folder)[0] == 0
    code, text = _run(capsys, folder, "--strict")
    assert code == 0 and "0 blocking, 0 row-level, 0 informational" in text and text.rstrip().endswith(
        "OK: the trial loads.")


def test_row_level_findings_load_but_fail_strict(tmp_path, capsys):
    folder = _trial(tmp_path / "t", adae=ADAE)
    code, text = _run(capsys, folder)
    assert code == 0 and "Row-level (rows left out or values set to missing):" in text and "Blocking" not in text
    assert "[orphan-record]" in text and "adae.csv, column USUBJID" in text and "'S-9'" in text
    assert "OK: the trial loads. 1 record(s) left out, 0 value(s) set to missing" in text
    code, text = _run(capsys, folder, "--strict")
    assert code == 1 and "FAILED (--strict): the trial loads, but with 1 finding(s)" in text


def test_sections_come_in_severity_order(tmp_path, capsys):
    adsl = ADSL.drop(columns=["ITTFL"]).assign(AGE=[30, 200, 40, 50])
    code, text = _run(capsys, _trial(tmp_path / "t", adsl=adsl, adae=ADAE))
    assert code == 0
    assert text.index("Row-level") < text.index("Informational") and "[value-out-of-range]" in text
    screen_failures = adsl.assign(RANDFL="N", ARM="Screen Failure", TRT01P="")
    code, text = _run(capsys, _trial(tmp_path / "u", adsl=screen_failures, adae=ADAE))
    assert code == 1 and text.index("Blocking") < text.index("Row-level") < text.index("Informational")
    assert "[no-randomized-subjects]" in text and "BLOCKED: the trial cannot be loaded." in text
    code, text = _run(capsys, _trial(tmp_path / "v", adsl=adsl.drop(columns=["ARM", "TRT01P"])))
    assert code == 1 and "[subject-column-missing]" in text and "ARM or TRT01P" in text


def test_json_report(tmp_path, capsys):
    code, text = _run(capsys, _trial(tmp_path / "t", adae=ADAE), "--json", "--strict")
    report = json.loads(text)
    assert code == 1 and report["ok"] is False and report["loads"] is True and report["strict"] is True
    assert (report["blocking"], report["row_level"], report["left_out"]) == (0, 1, {"adae": 1})
    assert report["cutoff"] == "2020-02-10" and report["cutoff_source"] == "latest date in the data"


@pytest.mark.parametrize("args, words", [
    (["{tmp}/nowhere"], "no such file or folder"),
    (["{trial}", "--mapping", "{tmp}/absent.yaml"], "absent.yaml"),
    (["{trial}", "--mapping", "{tmp}/bad.toml"], "not a valid TOML file"),
    (["{trial}", "--mapping", "{tmp}/roles.yaml"], "unknown role"),
])
def test_usage_errors_exit_two(tmp_path, capsys, args, words):
    trial = _trial(tmp_path / "t")
    (tmp_path / "bad.toml").write_text("adsl = [\n")
    (tmp_path / "roles.yaml").write_text("files:\n  adsl.csv: patients\n")
    code, text = _run(capsys, *[a.format(tmp=tmp_path, trial=trial) for a in args])
    assert code == 2 and words in text


def test_argument_errors_exit_two(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["validate"])
    assert exit_info.value.code == 2


def test_a_crash_in_the_subject_derivation_is_a_blocking_finding_naming_the_file(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("unexpected shape")

    monkeypatch.setattr(loaders.adam, "adsl_from_adam", broken)
    code, text = _run(capsys, _trial(tmp_path / "t"))
    assert code == 1 and "[loader-failure]" in text and "adsl.csv" in text and "RuntimeError: unexpected shape" in text


def test_a_crash_in_an_optional_dataset_leaves_only_that_dataset_out(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("AESTDTC")

    monkeypatch.setattr(loaders.adam, "adae_from_adam", broken)
    folder = _trial(tmp_path / "t", adae=ADAE)
    code, text = _run(capsys, folder)
    assert code == 0 and "[table-unusable]" in text and "adae.csv" in text and "KeyError" in text
    assert loaders.load_dataset(folder).adae is None


def test_a_crash_anywhere_else_names_the_input(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(loaders, "_assign_roles", broken)
    folder = _trial(tmp_path / "t")
    code, text = _run(capsys, folder)
    assert code == 1 and "[loader-failure]" in text and folder in text and "MemoryError" in text


def test_serve_on_blocked_data_exits_one_with_the_findings(tmp_path, capsys):
    folder = _trial(tmp_path / "t", adsl=ADSL.iloc[0:0])
    assert main(["serve", folder]) == 1
    err = capsys.readouterr().err
    assert "[blocking no-randomized-subjects]" in err and "header only" in err and "Traceback" not in err
