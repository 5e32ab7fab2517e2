"""What the browser tests do to the served dashboard: what is on screen, wait for the page to settle,
open every tab and sub-tab, change filters, check that the page still answers, and find elements
injected from data.

Bokeh hides inactive tab panes with `visibility: hidden; opacity: 0` on the pane's host while the
pane's own content may still compute as visible, so "on screen" is decided here by walking every
ancestor across shadow roots (Playwright's `is_visible` ignores opacity).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard.app import built_tab_class

SETTLE_TIMEOUT = 120_000  # ms: a tab built on a 2-core CI machine running two test workers; speed is benchmarked, not tested
# ms: a page that takes longer to run one line of script has stopped answering. The freeze this
# guards against lasted minutes; the heaviest filter change (Enrollment) keeps the renderer busy
# for up to ~6-9 s on the shared 2-core test machine, hence the margin.
ANSWER_TIMEOUT = 15_000

# JS function source: whether an element is on screen (no ancestor, across shadow hosts, hidden).
SHOWN_JS = """(el) => {
  const rect = el.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0) return false;
  if (getComputedStyle(el).visibility === 'hidden') return false;
  for (let node = el; node; ) {
    if (node.nodeType === 1) {
      const style = getComputedStyle(node);
      if (style.display === 'none' || parseFloat(style.opacity) === 0) return false;
    }
    node = node.parentNode || null;
    if (node && node.nodeType === 11) node = node.host;
  }
  return true;
}"""

# Every element matching a selector in the document and in every open shadow root.
DEEP_QUERY_JS = """(selector) => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.matches(selector)) found.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
}"""

# Count of elements and characters of text across the document and every open shadow root: the page
# has settled when this stops changing.
PAGE_SIZE_JS = """() => {
  let nodes = 0, chars = 0;
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      nodes += 1;
      if (el.shadowRoot) walk(el.shadowRoot);
    }
    chars += (root.textContent || '').length;
  };
  walk(document);
  return nodes * 1000003 + chars;
}"""

# Whether the template's busy indicator spins (the server is still working on an update).
BUSY_JS = "() => document.querySelector('.pn-busy-container .loader.spin, .loader.spin') !== null"

SHOWN_TEXTS_JS = f"""(selector) => {{
  const shown = {SHOWN_JS};
  return ({DEEP_QUERY_JS})(selector).filter(shown).map((el) => el.textContent.trim());
}}"""

# Text of every text node on screen (document and shadow roots), one string per node.
SHOWN_TEXT_NODES_JS = f"""() => {{
  const shown = {SHOWN_JS};
  const texts = [];
  const walk = (root) => {{
    const nodes = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let t = nodes.nextNode(); t; t = nodes.nextNode()) {{
      const el = t.parentElement, text = t.textContent.trim();
      if (text && el && !['SCRIPT', 'STYLE', 'TEMPLATE'].includes(el.tagName) && shown(el)) texts.push(text);
    }}
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
  }};
  walk(document);
  return texts;
}}"""

CLICK_SHOWN_JS = f"""([selector, text]) => {{
  const shown = {SHOWN_JS};
  const el = ({DEEP_QUERY_JS})(selector).find((e) => shown(e) && e.textContent.trim() === text);
  if (!el) return false;
  el.click();
  return true;
}}"""


def shown_texts(page, selector: str) -> list[str]:
    """Texts of the elements matching `selector` that are on screen (shadow roots included)."""
    return page.evaluate(SHOWN_TEXTS_JS, selector)


def shown_text(page) -> list[str]:
    """Every text on screen (shadow roots included), one string per text node."""
    return page.evaluate(SHOWN_TEXT_NODES_JS)


def wait_until_quiet(page, quiet: float = 1.5, timeout: float = 120.0) -> None:
    """Wait until the page (shadow roots included) stops changing for `quiet` seconds, the server is
    not busy and no tab placeholder is on screen."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        size = page.evaluate(PAGE_SIZE_JS)
        if size != last:
            last, since = size, time.monotonic()
        elif (time.monotonic() - since >= quiet and not shown_texts(page, ".building")
              and not page.evaluate(BUSY_JS)):
            return
        page.wait_for_timeout(250)
    raise TimeoutError("the page kept changing")


def click_tab(page, name: str) -> None:
    """Click the on-screen tab header called `name` and wait for the page to settle."""
    if not page.evaluate(CLICK_SHOWN_JS, [".bk-tab", name]):
        raise LookupError(f"no tab {name!r} on screen")
    wait_until_quiet(page)


def open_every_tab(page) -> Iterator[str]:
    """Open each top-level tab and each of its sub-tabs in turn; yields 'Tab' or 'Tab - Sub-tab' once
    each is on screen and settled."""
    page.locator(".bk-tab").first.wait_for(timeout=90_000)
    wait_until_quiet(page)
    top = shown_texts(page, ".bk-tab")
    for name in top:
        click_tab(page, name)
        subs = [t for t in shown_texts(page, ".bk-tab") if t not in top]
        if not subs:
            yield name
        for sub in subs:
            click_tab(page, sub)
            yield f"{name} - {sub}"

# Whether an element of CSS class `name` is on screen (e.g. a built tab's view, `app.built_tab_class`:
# a tab is built after its header is first clicked).
SHOWN_CLASS_JS = f"(name) => ({DEEP_QUERY_JS})('.' + name).some((el) => el.getClientRects().length > 0)"

# Elements and attributes that only an injected payload would create (searched through shadow roots).
INJECTED_JS = """
() => {
  const found = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      if (tag === "img" && el.getAttribute("src") === "x") found.push("img[src=x]");
      if (tag === "script" && /alert\\(/.test(el.textContent)) found.push("script: " + el.textContent.slice(0, 80));
      for (const attr of el.attributes) {
        if (attr.name.startsWith("on") && /alert/.test(attr.value)) found.push(`${tag}[${attr.name}]`);
        if (/^\\s*javascript:/i.test(attr.value)) found.push(`${tag}[${attr.name}=javascript:...]`);
      }
      if (el.shadowRoot) visit(el.shadowRoot);
    }
  };
  visit(document);
  return found;
}
"""

# Whether a Bokeh root view's `ready` promise was rejected: an error in an update of any model
# (e.g. an invalid colour array) that otherwise surfaces nowhere. Panel's Tabulator waits on that
# promise and, rejected, kept the page busy for minutes.
REJECTED_READY_JS = """
async () => {
  const views = [...Bokeh.index.roots];
  const states = await Promise.all(views.map(v => Promise.race([
    Promise.resolve(v.ready).then(() => null, (e) => String(e)),
    new Promise(r => setTimeout(() => r(null), 50)),
  ])));
  return states.filter(s => s !== null);
}
"""


def answers_within(page: Page, timeout_ms: int = ANSWER_TIMEOUT) -> float:
    """Seconds the page takes to run one line of script; fails if it does not within `timeout_ms`."""
    start = time.monotonic()
    try:
        page.wait_for_function("() => true", timeout=timeout_ms)
    except PlaywrightTimeoutError as exc:  # the renderer is busy
        raise AssertionError(f"the page stopped answering (no reply within {timeout_ms / 1000:.0f} s)") from exc
    return time.monotonic() - start


def stays_responsive(page: Page, seconds: float = 4.0) -> float:
    """Probe the page for `seconds` (a freeze can start seconds after a change); the slowest reply."""
    slowest, end = 0.0, time.monotonic() + seconds
    while time.monotonic() < end:
        slowest = max(slowest, answers_within(page))
        page.wait_for_timeout(250)
    rejected = page.evaluate(REJECTED_READY_JS)
    assert not rejected, f"a Bokeh update failed in the browser: {rejected}"
    return slowest


def settle(page: Page, title: str | None = None) -> None:
    """Wait until top-level tab `title` is built (its view is on screen, no placeholder) and the page answers."""
    if title:
        page.wait_for_function(SHOWN_CLASS_JS, arg=built_tab_class(title), timeout=SETTLE_TIMEOUT)
        expect(page.get_by_text(f"Building the {title} tab")).to_have_count(0, timeout=SETTLE_TIMEOUT)
    answers_within(page)
    page.wait_for_timeout(500)


def tab(page: Page, name: str):
    return page.locator(".bk-tab").filter(has_text=re.compile(f"^{re.escape(name)}$")).first


def open_tab(page: Page, name: str) -> None:
    """Click top-level tab `name` and wait until it is built and the page answers."""
    tab(page, name).click()
    settle(page, name)


def filter_group(page: Page, label: str):
    """The sidebar filter widget whose label is `label`."""
    return page.locator(".bk-input-group").filter(has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")))


def choose(page: Page, label: str, option: str | None = None) -> str:
    """Pick `option` (default: the first) in the sidebar multi-select `label`; returns its text."""
    filter_group(page, label).locator(".choices").click()
    options = page.get_by_role("option")
    choice = options.filter(has_text=option).first if option else options.first
    text = choice.inner_text()
    choice.click()
    page.keyboard.press("Escape")
    return text


def injected_elements(page: Page) -> list[str]:
    return page.evaluate(INJECTED_JS)


def hover_plots(page: Page, steps: tuple[int, int] = (9, 5), expect_plots: bool = False) -> int:
    """Sweep the mouse over every visible plot canvas (shows hover tooltips); returns the plots
    hovered. With `expect_plots`, wait for plots to be drawn and fail if none is."""
    deadline = time.monotonic() + SETTLE_TIMEOUT / 1000
    while not (hovered := _hover_canvases(page, steps)) and expect_plots:
        assert time.monotonic() < deadline, "no plot was drawn"
        page.wait_for_timeout(1_000)
    return hovered


def _hover_canvases(page: Page, steps: tuple[int, int]) -> int:
    hovered = 0
    for canvas in page.locator(".bk-Canvas:visible, .bk-Figure canvas:visible").all():
        try:
            canvas.scroll_into_view_if_needed(timeout=5_000)
            box = canvas.bounding_box()
        except PlaywrightError:  # replaced by an update while we looked: skip it
            continue
        if not box or box["width"] < 50 or box["height"] < 50:
            continue
        hovered += 1
        for i in range(1, steps[0] + 1):
            for j in range(1, steps[1] + 1):
                page.mouse.move(box["x"] + box["width"] * i / (steps[0] + 1),
                                box["y"] + box["height"] * j / (steps[1] + 1))
                page.wait_for_timeout(15)
    page.mouse.move(1, 1)
    return hovered


class DashboardPage:
    """One served dashboard in the browser, driven as a user would (like teal's app driver): open it (with a
    link's query), set a filter, choose the population, open a tab, wait until it has settled, read text."""

    def __init__(self, page: Page, url: str):
        self.page, self.url = page, url

    def open(self, query: str = "") -> "DashboardPage":
        """Load the app (`query` as in a shared link, e.g. '?sites=01') and wait for the patient count."""
        self.page.goto(f"{self.url}{query}")
        self.patient_count().wait_for(timeout=SETTLE_TIMEOUT)
        settle(self.page)
        return self

    def choose(self, label: str, option: str | None = None) -> str:
        """Pick `option` (default: the first) in the sidebar filter `label`; returns the option's text."""
        chosen = choose(self.page, label, option)
        settle(self.page)
        return chosen

    def population(self, name: str) -> None:
        """Switch the analysis population (ITT, Safety, Evaluable)."""
        self.page.get_by_role("button", name=name, exact=True).click()
        settle(self.page)

    def open_tab(self, name: str) -> None:
        """Open the top-level tab `name` and wait until it is built and the page answers."""
        open_tab(self.page, name)

    def patient_count(self):
        """The sidebar's '87 of 203 patients' line."""
        return self.page.locator(".patient-count")

    def text(self, selector: str) -> str:
        """The visible text of the first element matching `selector`."""
        element = self.page.locator(selector).first
        element.wait_for(timeout=SETTLE_TIMEOUT)
        return element.inner_text()
