"""A series of data cuts in Chromium: the "as of" selector changes the numbers, the Changes tab lists a late death.

Expected numbers come from stores computed in this process on the same bundled series.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.loaders.cuts import load_series
from dashboard.store import TrialStore
from dashboard.transforms.changes import DEATHS, change_listing
from dashboard.transforms.overview import ALL_ARMS, study_status_by_arm

from .conftest import ROOT, served
from .contrast import text_contrast
from .pages import open_tab

SERIES = ROOT / "data" / "nct02241018_cuts"
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def series():
    return load_series(SERIES)


@pytest.fixture(scope="module")
def series_url():
    with served(str(SERIES)) as url:
        yield url


def card_value(page, label: str):
    card = page.locator(".card").filter(has=page.locator(".label", has_text=re.compile(f"^{label}$", re.I)))
    return card.locator(".value")


def header_select(page, label: str):
    return page.locator(".bk-input-group").filter(has=page.locator("label", has_text=re.compile(f"^{label}$"))) \
        .locator("select")


def expect_cut(page, series, cut: str) -> None:
    dataset = series.at(cut)
    store = TrialStore(dataset, series=series)
    died = study_status_by_arm(store.subjects(), dataset.arms).set_index(["ARM", "STATUS"]).loc[(ALL_ARMS, "Died"), "n"]
    before = series.at(store.compare) if store.compare else None
    expect(page.locator(".banner")).to_contain_text(f"data cut {cut}", timeout=TIMEOUT)
    randomized = len(store.subjects())
    if before is None:
        expect(card_value(page, "Randomized")).to_have_text(str(randomized), timeout=TIMEOUT)
    else:
        earlier = TrialStore(before).subjects()
        then = study_status_by_arm(earlier, before.arms).set_index(["ARM", "STATUS"]).loc[(ALL_ARMS, "Died"), "n"]
        expect(card_value(page, "Randomized")).to_have_text(f"{randomized} ({randomized - len(earlier):+d})",
                                                            timeout=TIMEOUT)
        expect(card_value(page, "Died")).to_have_text(f"{died} ({died - then:+d})", timeout=TIMEOUT)


def test_switching_the_cut_changes_the_numbers(page, series_url, series):
    page.goto(series_url)
    latest = series.dates[-1]
    expect(header_select(page, "As of")).to_have_value(latest, timeout=TIMEOUT)
    expect_cut(page, series, latest)
    header_select(page, "As of").select_option("2017-06-30")
    page.wait_for_url(re.compile(r"cut=2017-06-30"), timeout=TIMEOUT)
    expect(header_select(page, "As of")).to_have_value("2017-06-30", timeout=TIMEOUT)
    expect_cut(page, series, "2017-06-30")
    expect(header_select(page, "Compare with")).to_have_value("2016-06-30")


@pytest.mark.parametrize("theme", ["default", "dark"])
def test_the_cut_selectors_read_in_both_themes(page, series_url, theme):
    page.goto(f"{series_url}?theme={theme}")
    expect(header_select(page, "Compare with")).to_have_value(re.compile(r"\d{4}-\d{2}-\d{2}"), timeout=TIMEOUT)
    failures = [f for f in text_contrast(page)["failures"] if f["where"].startswith(("select", "label"))]
    assert failures == []


def test_changes_tab_lists_a_late_recorded_death(page, series_url, series):
    before, after = series.at("2016-06-30"), series.at("2017-06-30")
    listing = change_listing(before.tables(), after.tables(), after.info.primary_visit_day)
    deaths = listing.loc[(listing["CATEGORY"] == DEATHS) & (listing["CHANGE"] == "new")]
    late = deaths.loc[deaths["DATE"] <= before.cutoff, "USUBJID"]
    assert len(late), "the bundled series has a death recorded after the cut it happened before"
    page.goto(f"{series_url}?cut=2017-06-30")
    open_tab(page, "Changes")
    listing_select = page.locator(".bk-input-group").filter(has=page.locator("label", has_text="Listing")).locator("select")
    listing_select.select_option(DEATHS)
    table = page.locator(".tabulator").filter(has_text="Record date")
    expect(table).to_contain_text(late.iloc[0], timeout=TIMEOUT)
    expect(table).not_to_contain_text("Patients randomized")
