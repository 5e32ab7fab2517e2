"""Enrollment and Overview in Chromium: clicking a site bar on either filters every tab; whole site
names on the axis; the Enrollment tab reads its numbers out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

SITE_BARS_TITLE = "Randomized per site"
OVERVIEW_BARS_TITLE = "Patients by site"

# Screen position of a site's bar in the Bokeh figure titled SITE_BARS_TITLE (categorical y axis).
BAR_POSITION_JS = """
([title, index]) => {
  const view = Bokeh.index.query_one(v => v.model && v.model.title && v.model.title.text
                                          && v.model.title.text.startsWith(title) && v.frame);
  if (!view) return null;
  view.el.scrollIntoView({block: "center"});
  const factors = view.frame.y_range.factors;
  const factor = factors[factors.length - 1 - index];
  const y = view.frame.y_scale.compute(view.frame.y_range.synthetic(factor));
  const x = view.frame.bbox.left + 4;
  const box = view.el.getBoundingClientRect();
  return {x: box.left + x, y: box.top + y, factor: factor, count: factors.length, factors: [...factors]};
}
"""


def bar_position(page, index: int = 0, title: str = SITE_BARS_TITLE) -> dict:
    """Where a site bar is on screen, once the layout has settled (two readings agree)."""
    last = None
    for _ in range(50):
        here = page.evaluate(BAR_POSITION_JS, [title, index])
        if here and last and (here["x"], here["y"]) == (last["x"], last["y"]):
            return here
        last = here
        page.wait_for_timeout(300)
    raise AssertionError(f"site bars did not settle: {last}")


def patient_count(page) -> str:
    return page.locator(".patient-count").first.inner_text()


def tab(page, title: str):
    """The tab header of a dashboard tab (Bokeh tabs, inside shadow roots)."""
    return page.locator(".bk-tab", has_text=re.compile(rf"^{re.escape(title)}$"))


def open_enrollment(page, url):
    page.goto(url)
    tab(page, "Enrollment").click()
    page.get_by_text("Click a site's bar").wait_for(timeout=60_000)
    page.wait_for_function(
        "(t) => window.Bokeh && Bokeh.index.query_one(v => v.model && v.model.title && v.model.title.text "
        "&& v.model.title.text.startsWith(t) && v.frame)", arg=SITE_BARS_TITLE, timeout=60_000)


def test_clicking_a_site_bar_filters_every_tab(page, app_url):
    open_enrollment(page, app_url)
    total = int(re.search(r"of (\d+)", patient_count(page)).group(1))
    assert patient_count(page).startswith(f"{total} of {total}")
    top = bar_position(page)
    assert top["count"] >= 2
    page.mouse.click(top["x"], top["y"])
    page.get_by_text("in every tab; other sites are faded").wait_for(timeout=30_000)
    count = patient_count(page)
    shown = int(count.split(" ")[0])
    assert 0 < shown < total, count
    expected = f"{shown} of {total} patients"
    assert page.get_by_text(re.compile(rf"{expected}.*randomized")).first.is_visible()
    site_id = top["factor"].split(" ")[0]
    assert page.locator(".tabulator-cell", has_text=re.compile(rf"^{site_id}$")).count() == 1
    for title in ("Arm balance", "Adverse events"):
        header = tab(page, title)
        if header.count() == 0:
            continue
        header.first.click()
        page.get_by_text(expected).first.wait_for(timeout=60_000)
    tab(page, "Enrollment").click()
    bar_position(page)  # the tab has re-rendered and settled
    page.wait_for_timeout(1000)  # a re-shown tab swaps its DOM once more right after drawing
    page.get_by_role("button", name="Show all sites").click()
    expect(page.locator(".patient-count").first).to_contain_text(f"{total} of {total} patients", timeout=30_000)


def test_enrollment_tab_states_plan_forecast_and_flow(page, app_url):
    open_enrollment(page, app_url)
    for pattern in (r"(behind|ahead of) plan on \d{4}-\d{2}-\d{2}|On plan on",
                    r"Target (reached|of \d+ forecast)|Too little data",
                    r"Poisson-gamma recruitment model",
                    r"Assessed for eligibility \(n = \d+\)",
                    r"Allocated to .+ \(n = \d+\)"):
        expect(page.get_by_text(re.compile(pattern)).first).to_be_visible(timeout=30_000)
    for ext in ("CSV", "XLSX"):
        with page.expect_download() as info:
            page.get_by_role("button", name=f"Site performance ({ext})").click()
        assert re.search(rf"_site_performance_cut\d{{4}}-\d{{2}}-\d{{2}}\.{ext.lower()}$", info.value.suggested_filename)


def test_clicking_a_site_bar_on_the_overview_filters_every_tab_like_enrollment(page, app_url):
    page.goto(app_url)
    page.get_by_text("Click a site's bar").first.wait_for(timeout=60_000)
    page.wait_for_function(
        "(t) => window.Bokeh && Bokeh.index.query_one(v => v.model && v.model.title && v.model.title.text "
        "&& v.model.title.text.startsWith(t) && v.frame)", arg=OVERVIEW_BARS_TITLE, timeout=60_000)
    total = int(re.search(r"of (\d+)", patient_count(page)).group(1))
    top = bar_position(page, title=OVERVIEW_BARS_TITLE)
    assert not any("…" in f for f in top["factors"]), top["factors"]  # whole names, never cut
    assert len({f.partition(" · ")[2] for f in top["factors"]}) == top["count"]  # no two sites read alike
    page.mouse.click(top["x"], top["y"])
    page.get_by_text("in every tab; other sites are faded").first.wait_for(timeout=30_000)
    site_id = top["factor"].split(" ")[0]
    expect(page).to_have_url(re.compile(rf"\?sites={site_id}$"), timeout=30_000)
    shown = int(patient_count(page).split(" ")[0])
    assert 0 < shown < total
    tab(page, "Enrollment").click()
    page.get_by_text(re.compile(rf"{shown} of {total} patients.*randomized")).first.wait_for(timeout=60_000)
