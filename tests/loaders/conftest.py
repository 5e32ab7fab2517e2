"""The public CDISC studies in ../shared/data/external for the loader tests (fail when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PILOT, SHARED, shared_path


@pytest.fixture(scope="session")
def pilot_dir() -> Path:
    """cdiscpilot01_adam: ADSL/ADAE/ADTTE/ADQSCIBC as SAS transport files, 3 arms."""
    return shared_path(*PILOT.relative_to(SHARED).parts)


@pytest.fixture(scope="session")
def onco_dir() -> Path:
    """pharmaverse_onco_adam: ADSL with screen failures, ADRS and ADTTE as CSV (suffix _onco)."""
    return shared_path("data", "external", "pharmaverse_onco_adam")
