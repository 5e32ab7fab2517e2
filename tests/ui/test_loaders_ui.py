"""The public CDISC datasets served in Chromium: tabs render without console errors; Data quality lists
the findings, the records left out (data text shown as text, never markup) and the files read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from tests.ui.conftest import serve_app
from tests.conftest import EXTERNAL, SHARED, shared_path

PAYLOAD = "<img src=x onerror=alert(1)>"


def _serve(folder: Path):
    return serve_app(str(shared_path(*folder.relative_to(SHARED).parts)))


@pytest.fixture(scope="module", params=["cdiscpilot01_adam", "pharmaverse_onco_adam"])
def external_app(request):
    proc, url = _serve(EXTERNAL / request.param)
    yield request.param, url
    proc.terminate()
    proc.wait(timeout=10)


def _open_data_quality(page, url):
    page.goto(url)
    page.get_by_text("Data quality", exact=True).click()
    findings = page.locator(".tabulator").filter(has=page.get_by_role("columnheader", name="Rule id", exact=True))
    findings.wait_for(timeout=60000)
    return findings


def test_external_dataset_serves_and_shows_its_data_quality(external_app, page):
    name, url = external_app
    text = _open_data_quality(page, url).inner_text()
    assert "informational" in text and "adsl" in text
    if name == "cdiscpilot01_adam":
        assert "adqscibc.xpt" in text and "randomization date missing" in text
        absent = page.locator("p", has_text="Not in these data").inner_text()
        assert "response (ADRS)" in absent and "exposure (ADEX)" in absent and "sidebar" not in absent
    else:
        assert "adrs_onco.csv" in text and "ITTFL absent" in text
    provenance = page.locator(".tabulator").filter(
        has=page.get_by_role("columnheader", name="SHA-256", exact=True)).inner_text()
    assert "ADSL" in provenance and ("xpt" in provenance or "csv" in provenance)


def test_records_left_out_are_listed_as_plain_text(tmp_path, page):
    source = shared_path("data", "external", "cdiscpilot01_adam")
    if not source.exists():
        pytest.skip(f"public CDISC data not found at {source} (../shared absent)")
    folder = tmp_path / "trial"
    folder.mkdir()
    for name in ("adsl", "adtte"):
        (folder / f"{name}.xpt").write_bytes((source / f"{name}.xpt").read_bytes())
    adae, _ = pyreadstat.read_xport(str(source / "adae.xpt"))
    pd.concat([adae, adae.iloc[[0]].assign(USUBJID=PAYLOAD)]).to_csv(folder / "adae.csv", index=False)
    proc, url = serve_app(str(folder))  # the page fixture fails the test on any dialog
    try:
        _open_data_quality(page, url)
        left_out = page.locator(".tabulator").filter(has=page.get_by_role("columnheader", name="Value", exact=True))
        left_out.wait_for(timeout=30000)
        assert PAYLOAD in left_out.inner_text() and "orphan record" in left_out.inner_text()
        assert page.locator(".tabulator img").count() == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
