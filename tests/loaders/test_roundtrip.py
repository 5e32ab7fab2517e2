"""Round trip: a dataset written as .xpt/.csv (with or without metadata.json) reads back unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.model.dataset import METADATA_FILE, write_dataset
from dashboard.loaders import load_dataset
from tests.conftest import tiny_dataset


def _normalised(df: pd.DataFrame, columns) -> pd.DataFrame:
    out = df[list(columns)].copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype) or out[col].dtype == object:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out.reset_index(drop=True)


def _assert_same(original, loaded):
    assert set(loaded.tables()) == set(original.tables())
    for name, table in original.tables().items():
        got = loaded.tables()[name]
        assert set(table.columns) <= set(got.columns), name
        pd.testing.assert_frame_equal(_normalised(got, table.columns), _normalised(table, table.columns),
                                      check_dtype=False, obj=name)


@pytest.mark.parametrize("fmt", ["xpt", "csv"])
def test_tiny_trial_round_trip_through_the_adam_loader(tmp_path, fmt):
    original = tiny_dataset()
    write_dataset(original, tmp_path, fmt)
    (tmp_path / METADATA_FILE).unlink()  # read as plain ADaM files, not as our model folder
    loaded = load_dataset(tmp_path)
    assert loaded.provenance["standard"] == "ADaM"
    _assert_same(original, loaded)


def test_model_folder_round_trip(tmp_path):
    original = tiny_dataset()
    write_dataset(original, tmp_path, "xpt")
    loaded = load_dataset(tmp_path)
    assert loaded.cutoff == original.cutoff
    _assert_same(original, loaded)


def test_bundled_trial_round_trip_as_xpt(bundled, tmp_path):
    write_dataset(bundled, tmp_path, "xpt")
    (tmp_path / METADATA_FILE).unlink()
    _assert_same(bundled, load_dataset(tmp_path))
