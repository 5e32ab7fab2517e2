"""Arm balance tab in Chromium: filter to one site in the sidebar and read the updated Table 1 N per arm."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

HEADER_N = re.compile(r"^(.*?)\s*\(N = (\d+)\)$", re.S)


def table1(page):
    """The Table 1 Tabulator (the table with a Statistic column)."""
    return page.locator(".tabulator", has=page.locator('.tabulator-col[tabulator-field="Statistic"]')).first


def table1_counts(page) -> dict[str, int]:
    """Arm -> N as printed in the Table 1 header row."""
    heads = table1(page).locator(".tabulator-col-title").all_inner_texts()
    return {m.group(1).strip(): int(m.group(2)) for h in heads if (m := HEADER_N.match(h.strip()))}


def open_balance(page, url):
    page.goto(url)
    page.get_by_text("Arm balance", exact=True).first.click()
    table1(page).locator(".tabulator-row").first.wait_for(timeout=60_000)


@pytest.fixture(scope="module")
def bundled_dataset():
    from dashboard.model.dataset import load_bundled

    return load_bundled()


def test_site_filter_updates_table1_n_per_arm(page, app_url, bundled_dataset):
    open_balance(page, app_url)
    itt = bundled_dataset.adsl[bundled_dataset.adsl["ITTFL"] == "Y"]
    before = table1_counts(page)
    assert before == {**itt["ARM"].value_counts().to_dict(), "Total": len(itt)}

    site_box = page.locator(".choices", has=page.get_by_placeholder("All sites")).first
    site_box.click()
    option = site_box.locator(".choices__list--dropdown .choices__item--choice").first
    option.wait_for(state="visible", timeout=10_000)
    label = option.inner_text()
    option.click()
    page.keyboard.press("Escape")
    site = re.match(r"\s*(\S+)", label).group(1)
    expected = itt.loc[itt["SITEID"] == site, "ARM"].value_counts()
    want = {arm: int(expected.get(arm, 0)) for arm in before if arm != "Total"}
    want["Total"] = sum(want.values())
    total_head = table1(page).locator(".tabulator-col-title", has_text="Total")
    expect(total_head).to_contain_text(f"(N = {want['Total']})", timeout=30_000)
    assert table1_counts(page) == want
    caption = page.locator(".table-title", has_text="Table 1.").first.inner_text()
    assert f"{want['Total']} of {len(itt)} patients" in caption


def test_love_plot_and_allocation_render(page, app_url, bundled_dataset):
    open_balance(page, app_url)
    for name, title in (("Love plot", "Love plot: |SMD| by variable"), ("Allocation", "Allocation by site")):
        page.get_by_text(name, exact=True).first.click()
        page.wait_for_function(
            "(t) => window.Bokeh && Bokeh.index.query_one(v => v.model && v.model.title && v.model.title.text "
            "&& v.model.title.text.startsWith(t))", arg=title, timeout=60_000)
    assert page.locator(".table-title", has_text="Patients per arm at each site").count() == 1
    assert page.get_by_role("button", name="Patients per arm at each site (XLSX)").count() == 1
