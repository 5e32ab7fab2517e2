"""`trial-dashboard generate` writes one file per table, readable by plain pandas in every format."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.model.dataset import read_model_folder
from dashboard.synthetic.generator import simulate_trial

TABLES = ("adsl", "sites", "adrs", "adae", "adtte", "adex")
ARGS = dict(seed=5, subjects=24, cutoff="2017-12-31")


@pytest.fixture(scope="module")
def expected():
    return simulate_trial(**ARGS)


def _generate(out, fmt):
    code = main(["generate", "--out", str(out), "--seed", str(ARGS["seed"]), "--subjects", str(ARGS["subjects"]),
                 "--cutoff", ARGS["cutoff"], "--format", fmt])
    assert code == 0


def test_parquet(tmp_path, expected):
    _generate(tmp_path, "parquet")
    for name in TABLES:
        df = pd.read_parquet(tmp_path / f"{name}.parquet")
        pd.testing.assert_frame_equal(df, getattr(expected, name), check_dtype=False)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["cutoff"] == ARGS["cutoff"] and meta["provenance"]["seed"] == ARGS["seed"]


def test_csv(tmp_path, expected):
    _generate(tmp_path, "csv")
    adsl = pd.read_csv(tmp_path / "adsl.csv", parse_dates=["RANDDT"])
    assert list(adsl["USUBJID"]) == list(expected.adsl["USUBJID"])
    assert adsl["RANDDT"].equals(expected.adsl["RANDDT"].astype("datetime64[ns]"))
    for name in TABLES:
        assert len(pd.read_csv(tmp_path / f"{name}.csv")) == len(getattr(expected, name))
    assert read_model_folder(tmp_path).report.ok


def test_xpt_readable_by_pandas_read_sas(tmp_path, expected):
    _generate(tmp_path, "xpt")
    for name in TABLES:
        df = pd.read_sas(tmp_path / f"{name}.xpt", format="xport", encoding="utf-8")
        assert len(df) == len(getattr(expected, name))
        assert all(len(c) <= 8 for c in df.columns)
        strings = df.select_dtypes(object)
        assert strings.apply(lambda s: s.str.len().max()).fillna(0).max() <= 200
    adsl = pd.read_sas(tmp_path / "adsl.xpt", format="xport", encoding="utf-8")
    randdt = pd.to_datetime(adsl["RANDDT"], unit="D", origin="1960-01-01")
    assert randdt.equals(expected.adsl["RANDDT"].astype("datetime64[ns]").rename("RANDDT"))
    assert read_model_folder(tmp_path).report.ok


def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dashboard", "generate", "--out", str(tmp_path), "--subjects", "10",
                             "--seed", "1"], capture_output=True, text=True, check=True)
    assert "wrote 7 files" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{t}.parquet" for t in TABLES] + ["metadata.json"])
