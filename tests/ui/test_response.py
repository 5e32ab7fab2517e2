"""Response tab in real Chromium: the primary endpoint in its population, the sidebar's as sensitivity."""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.ui.pages import tab

COUNTS = re.compile(r"was (\d+)/(\d+) \([\d.]+%\) of MSC.*?vs (\d+)/(\d+) \([\d.]+%\) of Control")


def _primary(page):
    """The primary-endpoint sentence (Panel renders into shadow DOM; get_by_text pierces it)."""
    return page.get_by_text(re.compile(r"overall response \(CR or PR\) was")).first


def _primary_counts(page) -> tuple[int, ...]:
    sentence = _primary(page)
    sentence.wait_for(timeout=30_000)
    match = COUNTS.search(sentence.inner_text())
    assert match, sentence.inner_text()
    return tuple(int(g) for g in match.groups())


def test_primary_endpoint_uses_the_trials_population_with_the_sidebars_as_sensitivity(page, app_url):
    page.goto(app_url)
    page.get_by_text("Response", exact=True).first.click()
    expect(page.get_by_text("Primary endpoint, Evaluable population").first).to_be_visible(timeout=30_000)
    evaluable = _primary_counts(page)
    assert evaluable == (82, 99, 70, 99)  # the trial's primary analysis (Zhao et al. 2022)
    expect(_primary(page)).to_contain_text("Sensitivity, ITT population")
    page.get_by_role("button", name="Safety", exact=True).click()
    expect(_primary(page)).to_contain_text("Sensitivity, Safety population", timeout=30_000)
    assert _primary_counts(page) == evaluable
    page.get_by_role("button", name="Evaluable", exact=True).click()
    expect(_primary(page)).not_to_contain_text("Sensitivity", timeout=30_000)
    assert _primary_counts(page) == evaluable


def test_swimmer_lane_click_opens_profile(page, app_url):
    page.goto(app_url)
    tab(page, "Response").click()
    tab(page, "Swimmer plot").click()  # the tab, not Show code's option of the same name
    page.get_by_text("Click a lane or choose a patient").wait_for(timeout=30_000)
    canvas = page.locator(".swimmer-plot canvas").first
    canvas.wait_for(state="visible", timeout=30_000)  # drawn and laid out, so it has a box
    box = canvas.bounding_box()
    bottom = min(box["y"] + box["height"], page.viewport_size["height"]) - 30  # a lane below the legend, in view
    heading = page.get_by_role("heading", name=re.compile(r"^Patient \S+"))
    for _ in range(5):  # the first click can land before Bokeh has wired the tap callback
        page.mouse.click(box["x"] + box["width"] * 0.3, bottom)
        try:
            heading.first.wait_for(timeout=4_000)
            break
        except PlaywrightTimeout:
            continue
    expect(heading.first).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Timeline (days from randomization)")).to_be_visible()
