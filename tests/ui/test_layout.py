"""Layout in Chromium, read from the page and its Bokeh models: the forest plot has no empty band after
the swimmer was shown, the swimmer fills the width at 1920 px with its legend beside the lanes, and an
empty selection shows the banner without table skeletons."""

from __future__ import annotations

import datetime as dt
import time

from playwright.sync_api import expect

from dashboard.model.dataset import load_bundled
from tests.ui.pages import DEEP_QUERY_JS, SHOWN_JS, click_tab, open_every_tab, shown_text, wait_until_quiet

# Geometry of the Bokeh plot whose title starts with a text: its y range, the rows it draws (the
# largest y of its glyph data), its width, where its legend sits, and the width of the main area.
PLOT_JS = """(title) => {
  const view = Bokeh.index.query_one((v) => v.model && v.model.title && v.model.title.text
    && v.model.title.text.startsWith(title) && v.frame && v.el.getBoundingClientRect().width > 0);
  if (!view) return null;
  const m = view.model;
  let top = -Infinity;
  for (const r of m.renderers) {
    const data = r.data_source && r.data_source.data;
    for (const key of ['y', 'Row', 'Lane']) if (data && data[key]) top = Math.max(top, ...data[key]);
  }
  const where = (item) => ['center', 'left', 'right', 'above', 'below'].find((side) => m[side].includes(item));
  const legends = [...m.center, ...m.left, ...m.right, ...m.above, ...m.below]
    .filter((i) => i.constructor.__name__ === 'Legend' && i.items.length).map(where);
  return {start: m.y_range.start, end: m.y_range.end, top, width: view.el.getBoundingClientRect().width,
          main: document.querySelector('#main').getBoundingClientRect().width, legends};
}"""


def open_page(page, url):
    page.goto(url)
    page.locator(".bk-tab").first.wait_for(timeout=90_000)
    wait_until_quiet(page)


def test_forest_plot_has_no_empty_band_after_the_swimmer(page, app_url):
    open_page(page, app_url)
    click_tab(page, "Response")
    click_tab(page, "Swimmer plot")  # its 50 lanes used to stretch the forest's linked y axis
    click_tab(page, "Subgroups")
    forest = page.evaluate(PLOT_JS, "Overall response at")
    assert forest is not None
    assert forest["end"] - forest["top"] < 1, f"empty band above the forest rows: {forest}"


def test_swimmer_fills_the_width_at_1920_with_its_legend_beside_the_lanes(browser, app_url):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        open_page(page, app_url)
        click_tab(page, "Response")
        click_tab(page, "Swimmer plot")
        swimmer = page.evaluate(PLOT_JS, "Patients by arm")
    finally:
        context.close()
    assert swimmer["width"] > 0.6 * swimmer["main"], swimmer
    assert swimmer["legends"] == ["right"], swimmer


def test_empty_selection_shows_the_banner_without_table_skeletons(page, app_url):
    dataset = load_bundled()
    dates = set(dataset.randomized["RANDDT"].dt.date)
    first = min(dates)
    day = next(first + dt.timedelta(days=i) for i in range(1, 400) if first + dt.timedelta(days=i) not in dates)
    page.goto(f"{app_url}?randomization_dates={day}..{day}")
    expect(page.locator(".patient-count")).to_contain_text("0 of", timeout=60_000)
    count_shown = f"""(selector) => ({DEEP_QUERY_JS})(selector).filter({SHOWN_JS}).length"""
    opened = []
    for label in open_every_tab(page):
        if label.startswith(("Data quality", "Site risk")):  # the data and every site, not the selection
            continue
        opened.append(label)
        deadline = time.monotonic() + 60  # the server may answer the tab's first opening after the page went quiet
        while not any("No patients match the current filters." in t for t in shown_text(page)):
            assert time.monotonic() < deadline, f"no empty-selection banner on {label}"
            page.wait_for_timeout(500)
        assert page.evaluate(count_shown, "table, .tabulator") == 0, f"table skeleton under the banner on {label}"
    assert len(opened) >= 5
