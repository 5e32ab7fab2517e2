"""The committed data/nct02241018/ is exactly what the generator produces with its defaults."""

from __future__ import annotations

import json

import pandas as pd

from dashboard.model.dataset import BUNDLED_DIR
from dashboard.synthetic import calibration as cal
from dashboard.synthetic.generator import generate_to_folder

TABLES = ("adsl", "sites", "adrs", "adae", "adtte", "adex")


def test_committed_bundle_equals_a_regeneration(tmp_path, bundled):
    generate_to_folder(tmp_path)
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"),
                                      pd.read_parquet(BUNDLED_DIR / f"{name}.parquet"), obj=name)
    assert json.loads((tmp_path / "metadata.json").read_text()) == json.loads((BUNDLED_DIR / "metadata.json").read_text())


def test_bundle_records_its_provenance(bundled):
    p = bundled.provenance
    assert (p["generator"], p["seed"], p["subjects"]) == (cal.GENERATOR_NAME, cal.DEFAULT_SEED, cal.DEFAULT_SUBJECTS)
    assert str(bundled.cutoff.date()) == cal.DEFAULT_CUTOFF
    assert "seed 20140930" in bundled.provenance_text()
