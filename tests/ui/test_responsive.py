"""The page keeps answering: with every tab and sub-tab opened once, change the arm, site and
population filters on every tab and fail if the page stops running script for 10 s, if the
patient count never reaches the filtered number, or if a Bokeh update fails in the browser.

Runs in the dark theme, where choosing one arm on the Adverse events tab used to freeze Chromium
for minutes (issue 12, item 0b: an empty volcano frame sent a float colour column; Bokeh rejected
the update and Panel's Tabulator resize loop spun on the rejected promise).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.app import available_views
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import load_bundled
from dashboard.config import POPULATIONS
from dashboard.store import TrialStore
from dashboard.transforms.labels import site_labels
from tests.ui.pages import (
    SETTLE_TIMEOUT,
    choose,
    open_every_tab,
    open_tab,
    settle,
    stays_responsive,
)

MSC = NCT02241018.arm_order[0]


@pytest.fixture(scope="module")
def dataset():
    return load_bundled()


def expect_count(page, store: TrialStore) -> None:
    total = int((store.dataset.adsl[POPULATIONS[store.population]] == "Y").sum())
    expect(page.locator(".patient-count")).to_contain_text(f"{len(store.subjects())} of {total} patients",
                                                           timeout=SETTLE_TIMEOUT)


def test_filter_changes_on_every_tab_leave_the_page_answering(page, app_url, dataset):
    page.goto(f"{app_url}?theme=dark")
    expect_count(page, TrialStore(dataset))
    titles = [view.title for view in available_views(dataset)[0]]
    opened = list(open_every_tab(page))
    assert any(" - " in label for label in opened)  # sub-tabs were opened too
    site = TrialStore(dataset).param.sites.objects[0]
    site_label = site_labels(dataset.adsl, dataset.sites)[site]
    slowest = {}
    for title in titles:
        open_tab(page, title)
        steps = [
            ("one arm", lambda: choose(page, "Arm", f"{MSC} ("), {"arms": [MSC]}),
            ("one site", lambda: choose(page, "Site", site_label), {"arms": [MSC], "sites": [site]}),
            ("population", lambda: page.get_by_role("button", name="Evaluable", exact=True).click(),
             {"arms": [MSC], "sites": [site], "population": "Evaluable"}),
            ("reset", lambda: page.get_by_role("button", name="Reset filters").click(), {}),
        ]
        for name, change, filters in steps:
            change()
            expect_count(page, TrialStore(dataset, **filters))
            slowest[(title, name)] = stays_responsive(page)
        settle(page)
    print("slowest reply (s) after each filter change:",
          {f"{t} / {n}": round(s, 2) for (t, n), s in slowest.items()})
