"""The address follows the filters without adding history entries: Back and Forward always land on an
address that reopens what is on screen (expected counts from stores computed here on the same data)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.model.dataset import load_bundled
from dashboard.links import apply_query
from dashboard.store import TrialStore
from tests.ui.pages import DashboardPage

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def dataset():
    return load_bundled()


def expect_count(page, dataset, **query) -> None:
    store = TrialStore(dataset)
    assert apply_query(store, query) == []
    total = int((dataset.adsl["ITTFL"] == "Y").sum())
    expect(page.locator(".patient-count")).to_contain_text(f"{len(store.subjects())} of {total} patients",
                                                           timeout=TIMEOUT)


def test_filter_changes_replace_the_address_and_back_forward_match_the_page(page, app_url, dataset):
    site = TrialStore(dataset).param.sites.objects[0]
    dashboard = DashboardPage(page, app_url).open()
    expect_count(page, dataset)
    entries = page.evaluate("history.length")
    dashboard.open(f"?sites={site}")
    expect_count(page, dataset, sites=site)
    dashboard.choose("Arm", "Basiliximab + CNI (Control)")
    expect(page).to_have_url(re.compile(rf"\?sites={site}&arms=Control$"), timeout=TIMEOUT)
    expect_count(page, dataset, sites=site, arms="Control")
    dashboard.population("Evaluable")
    expect(page).to_have_url(re.compile(r"&population=Evaluable$"), timeout=TIMEOUT)
    assert page.evaluate("history.length") == entries + 1  # one entry for the visit, none per filter change

    page.go_back()
    expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/$"))
    expect_count(page, dataset)  # the page before, unfiltered, as its address says
    page.go_forward()
    expect(page).to_have_url(re.compile(rf"\?sites={site}&arms=Control&population=Evaluable$"))
    total = int((dataset.adsl["EFFFL"] == "Y").sum())
    store = TrialStore(dataset)
    apply_query(store, {"sites": site, "arms": "Control", "population": "Evaluable"})
    expect(page.locator(".patient-count")).to_contain_text(f"{len(store.subjects())} of {total} patients",
                                                           timeout=TIMEOUT)


def test_a_link_with_unknown_values_is_rewritten_to_what_is_shown(page, app_url, dataset):
    DashboardPage(page, app_url).open("?arms=Nobody&theme=default")
    expect_count(page, dataset)
    expect(page).to_have_url(re.compile(r"\?theme=default$"), timeout=TIMEOUT)
