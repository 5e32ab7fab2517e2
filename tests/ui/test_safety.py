"""Adverse events tab in real Chromium: 'serious only' updates the counts; text from data stays text."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from dashboard.model.dataset import write_dataset
from dashboard.transforms.formatting import format_proportion
from tests.conftest import TINY_ADAE, shared_path, tiny_dataset
from tests.ui.conftest import serve_app
from tests.ui.pages import DashboardPage

HOSTILE_TERM = "<b>bold</b><img src=x onerror=alert(1)>"
HOSTILE_SOC = "<script>alert(1)</script>Body system"


def _summary(page):
    """The 'Patients with at least one ... event' line above the incidence table."""
    return page.locator(".ae-summary").first


def _open_tab(page, url) -> DashboardPage:
    dashboard = DashboardPage(page, url).open()
    dashboard.open_tab("Adverse events")
    _summary(page).wait_for(timeout=30_000)
    return dashboard


def _published_sae(arm: str) -> tuple[int, int]:
    records = json.loads(shared_path("reference", "nct02241018_published.json").read_text())["records"]
    hit = [r for r in records if r["measure"] == "serious_adverse_event" and r["arm"] == arm
           and r["category"] == "any serious adverse event"]
    return hit[0]["value"], hit[0]["denominator"]


def test_serious_only_updates_the_counts(page, app_url):
    dashboard = _open_tab(page, app_url)
    dashboard.population("Evaluable")  # the publication's analysed patients
    expect(_summary(page)).to_contain_text("/99 (", timeout=30_000)
    expect(_summary(page)).to_contain_text(re.compile(r"at least one (treatment-emergent )?event"))
    page.locator(".bk-Checkbox").filter(has_text="Serious only").locator("input").first.click()
    msc, control = _published_sae("MSC"), _published_sae("CONTROL")
    expect(_summary(page)).to_contain_text(f"MSC {format_proportion(*msc)}", timeout=30_000)
    expect(_summary(page)).to_contain_text(f"Control {format_proportion(*control)}")
    expect(_summary(page)).to_contain_text(re.compile(r"at least one serious (treatment-emergent )?event"))
    # The table follows too: its overall row now shows the serious-event count.
    expect(page.get_by_text(f"{msc[0]} ({msc[0] / msc[1] * 100:.1f}%)").first).to_be_visible(timeout=30_000)


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    """The tiny trial served with a preferred term and a body system that contain HTML."""
    folder = tmp_path_factory.mktemp("hostile")
    dataset = tiny_dataset()
    adae = TINY_ADAE.assign(AEDECOD=TINY_ADAE["AEDECOD"].replace("Pneumonia", HOSTILE_TERM),
                            AEBODSYS=TINY_ADAE["AEBODSYS"].replace("Infections and infestations", HOSTILE_SOC))
    from dataclasses import replace

    write_dataset(replace(dataset, adae=adae), folder)
    proc, url = serve_app(str(folder))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_terms_with_html_are_shown_as_text(page, hostile_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open_tab(page, hostile_url)
    expect(page.get_by_text(HOSTILE_TERM, exact=True).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"Body system: {HOSTILE_SOC}").first).to_be_visible()
    assert page.locator(".tabulator b").count() == 0  # no element was injected from the term
    assert page.locator(".tabulator img").count() == 0
    assert not dialogs
