"""Stored XSS in real Chromium: a copy of the bundled trial whose every free-text column carries
injection payloads is served; every tab and sub-tab is opened, plots hovered, the sidebar option
lists and the patient search opened. Any dialog, any element injected from the data, any console
error (page fixture) fails the test; the trial's name still shows as written."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.app import available_views
from dashboard.model.dataset import load_bundled, write_dataset
from tests.hostile_data import hostile_dataset
from tests.ui.conftest import serve_app
from tests.ui.pages import (
    SETTLE_TIMEOUT,
    choose,
    filter_group,
    hover_plots,
    injected_elements,
    open_every_tab,
    open_tab,
    stays_responsive,
)

SIDEBAR_CHOICES = ("Site", "Arm", "Underlying disease")
PLOTTED = {"Enrollment", "Love plot", "Allocation", "Swimmer plot", "Time to event", "Onset over time"}


@pytest.fixture(scope="module")
def hostile():
    return hostile_dataset(load_bundled())


@pytest.fixture(scope="module")
def hostile_url(hostile, tmp_path_factory):
    """The hostile trial written as a model folder (parquet) and served."""
    folder = tmp_path_factory.mktemp("hostile_trial")
    write_dataset(hostile, folder)
    proc, url = serve_app(str(folder))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_data_never_runs_as_markup(page, hostile_url, hostile):
    page.goto(hostile_url)  # the page fixture fails the test on any dialog
    title = f"{hostile.info.registry_id} · {hostile.info.short_name}"
    expect(page.locator(".patient-count")).to_contain_text(f"of {len(hostile.randomized)} patients",
                                                           timeout=SETTLE_TIMEOUT)
    expect(page).to_have_title(title, timeout=SETTLE_TIMEOUT)  # the tab shows the name as written
    expect(page.locator(".app-header .title, a.title").first).to_contain_text(title)
    assert not injected_elements(page)

    for label in SIDEBAR_CHOICES:  # option lists render their labels (Choices.js inserts them as HTML)
        filter_group(page, label).locator(".choices").click()
        expect(page.get_by_role("option").first).to_be_visible()
        assert not injected_elements(page), label
        page.keyboard.press("Escape")
    arm = choose(page, "Arm")
    assert arm in hostile.arms  # the chosen arm's label shows as written
    expect(filter_group(page, "Arm").locator(".choices__list--multiple .choices__item")).to_contain_text(arm)

    def look(page, name):
        stays_responsive(page, seconds=1.0)
        hover_plots(page, expect_plots=name in PLOTTED)
        if name == "Onset over time":  # the patient search lists matching ids as you type
            search = filter_group(page, "Patient (type an id)").locator("input")
            search.press_sequentially(hostile.adae["USUBJID"].iloc[0][:4], delay=50)
            page.wait_for_timeout(1_000)
        found = injected_elements(page)
        assert not found, f"{name}: {found}"

    titles = [view.title for view in available_views(hostile)[0]]
    opened = []
    for label in open_every_tab(page):  # "Tab" or "Tab - Sub-tab"
        opened.append(label.split(" - ")[-1])
        look(page, opened[-1])
    assert {"Onset over time", "Swimmer plot", "Time to event", "Table 1"} <= set(opened)
    page.get_by_role("button", name="Reset filters").click()
    open_tab(page, titles[0])
    assert not injected_elements(page)
