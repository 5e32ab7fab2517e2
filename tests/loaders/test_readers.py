"""Readers: bytes from SAS transport, IBM-float zeros, empty strings, CSV kept as text; encodings,
truncated files, broken symlinks and names equal but for case found and named, not guessed."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from dashboard.loaders.readers import ReadError, clean_frame, read_table, text_encoding


def test_clean_frame_decodes_bytes_zeroes_ibm_noise_and_blanks_missing():
    raw = pd.DataFrame({"usubjid": [b"01-701-1015", b"01-701-1023"], "TRT01PN": [5.397605346934028e-79, 81.0],
                        "DTHFL ": ["", "Y"], "NAME": [b"Caf\xe9", "  x "]})
    out = clean_frame(raw)
    assert list(out.columns) == ["USUBJID", "TRT01PN", "DTHFL", "NAME"]
    assert out["USUBJID"].tolist() == ["01-701-1015", "01-701-1023"]
    assert out["TRT01PN"].tolist() == [0.0, 81.0]
    assert pd.isna(out.loc[0, "DTHFL"]) and out.loc[1, "DTHFL"] == "Y"
    assert out["NAME"].tolist() == ["Café", "x"]  # Latin-1 bytes decoded, text stripped
    assert raw["TRT01PN"].iloc[0] != 0  # input untouched


def test_pandas_xport_engine_matches_pyreadstat_on_real_file(pilot_dir):
    path = pilot_dir / "adsl.xpt"
    via_pandas = read_table(path, engine="pandas").frame
    via_readstat = read_table(path).frame
    assert isinstance(via_pandas.loc[0, "USUBJID"], str)
    assert via_pandas["USUBJID"].tolist() == via_readstat["USUBJID"].tolist()
    assert (via_pandas["TRT01PN"] == 0).sum() == (via_readstat["TRT01PN"] == 0).sum() > 0
    assert via_pandas["TRT01PN"].abs().between(1e-70, 1e-60).sum() == 0


def test_xpt_written_with_blanks_reads_blanks_as_missing(tmp_path):
    frame = pd.DataFrame({"USUBJID": ["A", "B"], "DTHFL": ["", "Y"], "AGE": [np.nan, 40.0]})
    pyreadstat.write_xport(frame, str(tmp_path / "x.xpt"), file_format_version=5, table_name="ADSL")
    table = read_table(tmp_path / "x.xpt")
    assert table.member == "ADSL"
    assert table.frame["DTHFL"].isna().tolist() == [True, False]


def test_csv_is_read_as_text_keeping_leading_zeros(tmp_path):
    (tmp_path / "adsl.csv").write_text("USUBJID,SITEID,AGE\nS1,007,61\nS2,,\n")
    frame = read_table(tmp_path / "adsl.csv").frame
    assert frame["SITEID"].tolist()[0] == "007"
    assert pd.isna(frame.loc[1, "SITEID"]) and pd.isna(frame.loc[1, "AGE"])


@pytest.mark.parametrize("raw, encoding, why", [
    ("a,b\nx,\u00e9\n".encode("utf-8"), "utf-8", None),
    ("a,b\nx,\u00e9\n".encode("utf-8-sig"), "utf-8-sig", None),
    ("a,b\nx,\u00e9\n".encode("utf-16"), "utf-16", "byte-order mark"),
    ("a,b\nO\u2019Brien,1\n".encode("cp1252"), "cp1252", "byte 0x92 at line 2 is not UTF-8"),
    (b"a,b\nx\x81,1\n", "latin-1", "byte 0x81 at line 2 is not UTF-8"),  # 0x81 is not cp1252
    (b"a\n" * 5 + "\u00e9".encode("utf-8")[:1], "cp1252", "the file ends inside a character at line 6, which is not UTF-8"),
])
def test_text_encoding_is_bom_then_utf8_then_cp1252_then_latin1(tmp_path, raw, encoding, why):
    (tmp_path / "x.csv").write_bytes(raw)
    assert text_encoding(tmp_path / "x.csv") == (encoding, why)


def test_encoding_errors_are_found_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr("dashboard.loaders.readers._CHUNK", 7)
    (tmp_path / "x.csv").write_bytes("ab\u00e9\u00e9\u00e9\n\u00e9\u00e9\n".encode("utf-8") + b"ok\nno\x92\n")
    assert text_encoding(tmp_path / "x.csv") == ("cp1252", "byte 0x92 at line 4 is not UTF-8")


def test_utf16_csv_with_bom_loads_and_says_so(tmp_path):
    frame = pd.DataFrame({"USUBJID": ["S1", "S2"], "SITE": ["Z\u00fcrich", "Lyon"]})
    frame.to_csv(tmp_path / "adsl.csv", index=False, encoding="utf-16")
    table = read_table(tmp_path / "adsl.csv")
    assert table.frame["SITE"].tolist() == ["Z\u00fcrich", "Lyon"] and table.encoding == "utf-16"
    assert [i.rule for i in table.issues] == ["text read as utf-16 (byte-order mark)"]
    assert table.issues[0].examples == ("row 1: SITE='Z\u00fcrich'",) and not table.issues[0].blocking


def test_semicolon_separated_csv_is_split_on_semicolons(tmp_path):
    (tmp_path / "adsl.csv").write_text("USUBJID;AGE\nS1;61\n")
    assert read_table(tmp_path / "adsl.csv").frame.to_dict("list") == {"USUBJID": ["S1"], "AGE": ["61"]}


def _xpt_with_byte(path, byte: bytes):
    frame = pd.DataFrame({"STUDYID": ["X", "X"], "TSVAL": ["Patient~s study", "plain"]})
    pyreadstat.write_xport(frame, str(path), file_format_version=5, table_name="TS")
    raw = path.read_bytes()
    assert raw.count(b"~") == 1
    path.write_bytes(raw.replace(b"~", byte))


def test_cp1252_sas_text_is_read_as_cp1252_not_latin1(tmp_path):
    _xpt_with_byte(tmp_path / "ts.xpt", b"\x92")
    table = read_table(tmp_path / "ts.xpt")
    assert table.frame["TSVAL"].iloc[0] == "Patient\u2019s study" and table.encoding == "cp1252"
    issue, = table.issues
    assert issue.column == "TSVAL" and "cp1252" in issue.rule and not issue.blocking


def _truncated_copy(source, target, keep: int):
    target.write_bytes(source.read_bytes()[:keep])


@pytest.mark.parametrize("cut", [0.5, 0.75])
def test_truncated_xpt_is_a_blocking_issue_naming_the_rows_read(pilot_dir, tmp_path, cut):
    size = (pilot_dir / "adsl.xpt").stat().st_size
    _truncated_copy(pilot_dir / "adsl.xpt", tmp_path / "adsl.xpt", int(size * cut) // 80 * 80)  # whole records too
    table = read_table(tmp_path / "adsl.xpt")
    issue, = table.issues
    assert issue.blocking and f"only {len(table.frame)} rows could be read" in issue.rule
    assert 0 < len(table.frame) < 254


def test_whole_xpt_files_have_no_issues(pilot_dir, tmp_path):
    for path in sorted(pilot_dir.glob("*.xpt")):
        assert read_table(path).issues == (), path.name
    for rows in (1, 2, 3, 7):  # short rows (< 80 bytes) end in blank padding that is not data
        for version in (5, 8):
            frame = pd.DataFrame({"ID": [f"S{i}" for i in range(rows)], "X": [float(i) for i in range(rows)]})
            path = tmp_path / f"x{rows}v{version}.xpt"
            pyreadstat.write_xport(frame, str(path), file_format_version=version, table_name="X")
            table = read_table(path)
            assert len(table.frame) == rows and table.issues == (), path.name


def test_v8_xpt_cut_at_a_row_boundary_is_caught_by_its_row_count(tmp_path):
    frame = pd.DataFrame({"A": ["x"] * 254, "B": [1.0] * 254})  # 9-byte rows: 80 rows end on a record boundary
    pyreadstat.write_xport(frame, str(tmp_path / "whole.xpt"), file_format_version=8, table_name="T")
    raw = (tmp_path / "whole.xpt").read_bytes()
    rows_start = raw.find(b"HEADER RECORD*******OBSV8") + 80
    (tmp_path / "cut.xpt").write_bytes(raw[: rows_start + 160 * 9])
    issue, = read_table(tmp_path / "cut.xpt").issues
    assert issue.blocking and "promises 254 rows but only 160 could be read" in issue.rule


def test_xpt_cut_inside_its_header_is_a_read_error_saying_truncated(pilot_dir, tmp_path):
    _truncated_copy(pilot_dir / "adsl.xpt", tmp_path / "adsl.xpt", 3001)
    with pytest.raises(ReadError, match="not a whole number of 80-byte records: it is truncated"):
        read_table(tmp_path / "adsl.xpt")


def test_broken_and_looping_symlinks_are_read_errors(tmp_path):
    os.symlink(tmp_path / "gone.xpt", tmp_path / "adae.xpt")
    os.symlink(tmp_path / "loop.csv", tmp_path / "loop.csv")
    with pytest.raises(ReadError, match="broken symlink: it points to .*gone.xpt, which does not exist"):
        read_table(tmp_path / "adae.xpt")
    with pytest.raises(ReadError, match="broken symlink: it is a symlink loop"):
        read_table(tmp_path / "loop.csv")


def test_names_equal_but_for_case_keep_the_first_and_are_named(tmp_path):
    frame = pd.DataFrame([["S1", "S1", "61", "62", "Y", "Y"]], columns=["USUBJID", "usubjid", "AGE", "age", "SAFFL", "saffl"])
    frame.to_csv(tmp_path / "same.csv", index=False)
    table = read_table(tmp_path / "same.csv")
    assert list(table.frame.columns) == ["USUBJID", "AGE", "SAFFL"] and table.frame.loc[0, "AGE"] == "61"
    by_column = {i.column: i for i in table.issues}
    assert not by_column["USUBJID"].blocking and "same values" in by_column["USUBJID"].rule
    assert not by_column["AGE"].blocking and "the first is used" in by_column["AGE"].rule
    frame["usubjid"] = "S2"
    frame.to_csv(tmp_path / "differ.csv", index=False)
    subject, = [i for i in read_table(tmp_path / "differ.csv").issues if i.column == "USUBJID"]
    assert subject.blocking and "different subject ids" in subject.rule


def test_reading_never_changes_the_file(pilot_dir, tmp_path):
    shutil.copy(pilot_dir / "adae.xpt", tmp_path / "adae.xpt")
    before = (tmp_path / "adae.xpt").read_bytes()
    table = read_table(tmp_path / "adae.xpt")
    assert (tmp_path / "adae.xpt").read_bytes() == before and len(table.frame) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adae.xpt"]
