"""Paths to the public CDISC pilot data (../shared relative to the repo root) for the loader tests."""

from __future__ import annotations

from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "external"
PILOT = EXTERNAL / "cdiscpilot01_adam"
ONCO = EXTERNAL / "pharmaverse_onco_adam"


def _need(folder: Path) -> Path:
    if not folder.exists():
        pytest.skip(f"public CDISC data not found at {folder} (../shared absent)")
    return folder


@pytest.fixture(scope="session")
def pilot_dir() -> Path:
    """cdiscpilot01_adam: ADSL/ADAE/ADTTE/ADQSCIBC as SAS transport files, 3 arms."""
    return _need(PILOT)


@pytest.fixture(scope="session")
def onco_dir() -> Path:
    """pharmaverse_onco_adam: ADSL with screen failures, ADRS and ADTTE as CSV (suffix _onco)."""
    return _need(ONCO)
