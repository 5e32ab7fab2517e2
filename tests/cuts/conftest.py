"""The bundled series of data cuts (data/nct02241018_cuts), loaded once per test session."""

from pathlib import Path

import pytest

SERIES_DIR = Path(__file__).resolve().parents[2] / "data" / "nct02241018_cuts"


@pytest.fixture(scope="session")
def series():
    from dashboard.loaders.cuts import load_series

    return load_series(SERIES_DIR)
