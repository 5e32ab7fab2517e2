"""The public CDISC datasets served in Chromium: tabs render without console errors, Data quality shows findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import serve_app

EXTERNAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "external"


@pytest.fixture(scope="module", params=["cdiscpilot01_adam", "pharmaverse_onco_adam"])
def external_app(request):
    folder = EXTERNAL / request.param
    if not folder.exists():
        pytest.skip(f"public CDISC data not found at {folder} (../shared absent)")
    proc, url = serve_app(str(folder))
    yield request.param, url
    proc.terminate()
    proc.wait(timeout=10)


def test_external_dataset_serves_and_shows_its_data_quality(external_app, page):
    name, url = external_app
    page.goto(url)
    page.get_by_text("Data quality", exact=True).click()
    table = page.locator("table", has_text="Validation findings")
    table.wait_for(timeout=30000)
    text = table.inner_text()
    assert "warning(s)" in text and "adsl" in text
    if name == "cdiscpilot01_adam":
        assert "adqscibc.xpt" in text and "randomization date missing" in text
        absent = page.locator("p", has_text="Not in these data").inner_text()
        assert "response (ADRS)" in absent and "exposure (ADEX)" in absent
    else:
        assert "adrs_onco.csv" in text and "ITTFL absent" in text
    provenance = page.locator("table", has_text="Provenance").inner_text()
    assert "SHA-256" in provenance and "ADSL" in provenance
