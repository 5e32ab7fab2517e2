"""The executive summary in Chromium: at the top of the Overview and inside a 1366x768 viewport, and its
links switch the main tabs. The page fixture fails a test on any browser console error."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.ui.pages import tab

TIMEOUT = 60_000


def test_summary_is_at_the_top_of_the_overview_within_a_laptop_viewport(page, app_url):
    page.goto(app_url)
    summary = page.locator(".exec-summary")
    expect(summary).to_be_visible(timeout=TIMEOUT)
    expect(summary).to_contain_text("How is the trial going?")
    expect(summary).to_contain_text("Data cut 2024-03-31")
    expect(summary).to_contain_text("MSC 82/99 (82.8%) vs Control 70/99 (70.7%)", timeout=TIMEOUT)
    box = summary.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    # Nothing of the Overview comes before it: the first card sits below the summary.
    card = page.locator(".card").first.bounding_box()
    assert card["y"] >= box["y"] + box["height"], (card, box)
    expect(tab(page, "Overview")).to_have_class(re.compile(r"\bbk-active\b"))


def test_summary_links_open_their_tabs(page, app_url):
    page.goto(app_url)
    summary = page.locator(".exec-summary")
    expect(summary).to_be_visible(timeout=TIMEOUT)
    summary.get_by_role("button", name="Adverse events tab →").first.click()
    expect(tab(page, "Adverse events")).to_have_class(re.compile(r"\bbk-active\b"), timeout=TIMEOUT)
    expect(tab(page, "Incidence and signals")).to_be_visible(timeout=TIMEOUT)
    tab(page, "Overview").click()
    expect(summary).to_be_visible(timeout=TIMEOUT)
    summary.get_by_role("button", name="Enrollment tab →").click()
    expect(tab(page, "Enrollment")).to_have_class(re.compile(r"\bbk-active\b"), timeout=TIMEOUT)
    expect(tab(page, "Overview")).not_to_have_class(re.compile(r"\bbk-active\b"))
