"""Wide tables in Chromium: at 1366 px the identifying columns stay in view when the table is scrolled
sideways (frozen), and at 1920 px every header sits over its values."""

from __future__ import annotations

import pytest

from tests.ui.pages import DEEP_QUERY_JS, click_tab, wait_until_quiet

# The on-screen Tabulator with a column `field`.
TABLE_JS = f"""(field) => ({DEEP_QUERY_JS})('.tabulator').find((t) => t.getBoundingClientRect().width > 0
    && t.querySelector(`.tabulator-col[tabulator-field="${{field}}"]`))"""

# That table scrolled fully right; then where the column's first body cell is against the table's
# visible box, and what is drawn at the cell's centre.
FROZEN_JS = """(table) => {
  const holder = table.querySelector('.tabulator-tableholder');
  const overflow = holder.scrollWidth - holder.clientWidth;
  holder.scrollLeft = holder.scrollWidth;
  holder.dispatchEvent(new Event('scroll'));
  return new Promise((resolve) => setTimeout(() => resolve(overflow), 500));
}"""
CELL_JS = """([table, field]) => {
  const holder = table.querySelector('.tabulator-tableholder');
  const cell = [...table.querySelectorAll(`.tabulator-row .tabulator-cell[tabulator-field="${field}"]`)]
    .find((c) => c.getBoundingClientRect().height > 0);
  const box = holder.getBoundingClientRect(), rect = cell.getBoundingClientRect();
  const hit = table.getRootNode().elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
  return {scrolled: holder.scrollLeft, text: cell.textContent.trim(),
          inside: rect.left >= box.left - 1 && rect.right <= box.right + 1,
          onTop: !!hit && (hit === cell || cell.contains(hit))};
}"""

# For each column of the Tabulator with a column `field`: the horizontal span of its header title's
# text and of its values' text (first rows); returns the columns whose two spans are further apart
# than the width of a sort arrow.
HEADERS_JS = f"""([field]) => {{
  const table = ({TABLE_JS})(field);
  const span = (el) => {{  // horizontal extent of the element's text itself (not of its boxes)
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let lo = Infinity, hi = -Infinity;
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {{
      if (!t.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(t);
      const r = range.getBoundingClientRect();
      if (r.width > 0) {{ lo = Math.min(lo, r.left); hi = Math.max(hi, r.right); }}
    }}
    return hi > lo ? [lo, hi] : null;
  }};
  const SORTER = 24;  // a header's sort arrow sits between its text and the column edge
  const apart = [];
  let compared = 0;
  for (const col of table.querySelectorAll('.tabulator-headers .tabulator-col[tabulator-field]')) {{
    const name = col.getAttribute('tabulator-field');
    const title = col.querySelector('.tabulator-col-title');
    const head = title && span(title);
    const values = [...table.querySelectorAll(`.tabulator-row:not(.tabulator-group) .tabulator-cell[tabulator-field="${{name}}"]`)]
      .slice(0, 12).map(span).filter(Boolean);
    if (!head || !values.length) continue;
    compared += 1;
    const lo = Math.min(...values.map((v) => v[0])), hi = Math.max(...values.map((v) => v[1]));
    if (head[1] + SORTER < lo || head[0] - SORTER > hi) apart.push({{column: name, header: head.map(Math.round), values: [lo, hi].map(Math.round)}});
  }}
  return {{compared, apart}};
}}"""

TABLES = [("Enrollment", None, ("Site", "Name")), ("Adverse events", "Incidence and signals", ("Term",))]


def open_table(page, url, tab, sub):
    page.goto(url)
    page.locator(".bk-tab").first.wait_for(timeout=90_000)
    wait_until_quiet(page)
    click_tab(page, tab)
    if sub:
        click_tab(page, sub)


@pytest.mark.parametrize(("tab", "sub", "frozen"), TABLES)
def test_identifying_columns_stay_in_view_when_a_wide_table_scrolls(page, app_url, tab, sub, frozen):
    open_table(page, app_url, tab, sub)
    table = page.evaluate_handle(TABLE_JS, frozen[0])
    assert table.evaluate("t => !!t"), f"no table with a {frozen[0]} column on {tab}"
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # the table redraws once it comes into view
    overflow = page.evaluate(FROZEN_JS, table)
    assert overflow > 100, f"{tab} table does not overflow at 1366 px ({overflow} px)"
    for field in frozen:
        seen = page.evaluate(CELL_JS, [table, field])
        assert seen["scrolled"] > 100, seen
        assert seen["text"] and seen["inside"] and seen["onTop"], f"{field} column hidden after scrolling: {seen}"


@pytest.mark.parametrize(("tab", "sub", "frozen"), TABLES)
def test_headers_sit_over_their_values_at_1920(browser, app_url, tab, sub, frozen):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        open_table(page, app_url, tab, sub)
        result = page.evaluate(HEADERS_JS, [frozen[0]])
    finally:
        context.close()
    assert result["compared"] >= 5
    assert not result["apart"], f"headers not over their values on {tab}: {result['apart']}"


# Every shown table download button (label ending "(CSV)" or "(XLSX)"): its label's width against the
# button's, and its box; returns the buttons whose label is cut and the pairs that overlap.
BUTTONS_JS = f"""() => {{
  const buttons = ({DEEP_QUERY_JS})('button').filter((b) => /\\((CSV|XLSX)\\)$/.test(b.textContent.trim())
    && b.getBoundingClientRect().width > 0);
  const cut = buttons.filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent.trim());
  const boxes = buttons.map((b) => [b.textContent.trim(), b.getBoundingClientRect()]);
  const overlapping = [];
  boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, s]) => {{
    if (r.left < s.right - 1 && s.left < r.right - 1 && r.top < s.bottom - 1 && s.top < r.bottom - 1) overlapping.push([a, b]);
  }}));
  return {{count: buttons.length, cut, overlapping}};
}}"""


@pytest.mark.parametrize("width", [1366, 1920])
@pytest.mark.parametrize(("tab", "sub"), [("Enrollment", None), ("Arm balance", "Allocation")])
def test_table_download_buttons_show_their_whole_label_side_by_side(browser, app_url, width, tab, sub):
    context = browser.new_context(viewport={"width": width, "height": 1080})
    page = context.new_page()
    try:
        open_table(page, app_url, tab, sub)
        result = page.evaluate(BUTTONS_JS)
    finally:
        context.close()
    assert result["count"] >= 2, f"no table download buttons shown on {tab}"
    assert not result["cut"] and not result["overlapping"], result
