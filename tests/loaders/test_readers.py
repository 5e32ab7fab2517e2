"""Readers: bytes from SAS transport, IBM-float zeros, empty strings, CSV kept as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat

from dashboard.loaders.readers import clean_frame, read_table


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
