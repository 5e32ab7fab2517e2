"""Browser helpers shared by the page-wide checks: what is on screen, wait for the page to settle, open
every tab and sub-tab.

Bokeh hides inactive tab panes with `visibility: hidden; opacity: 0` on the pane's host while the
pane's own content may still compute as visible, so "on screen" is decided here by walking every
ancestor across shadow roots (Playwright's `is_visible` ignores opacity).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

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


def settle(page, quiet: float = 1.5, timeout: float = 120.0) -> None:
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
    settle(page)


def open_every_tab(page) -> Iterator[str]:
    """Open each top-level tab and each of its sub-tabs in turn; yields 'Tab' or 'Tab - Sub-tab' once
    each is on screen and settled."""
    page.locator(".bk-tab").first.wait_for(timeout=90_000)
    settle(page)
    top = shown_texts(page, ".bk-tab")
    for name in top:
        click_tab(page, name)
        subs = [t for t in shown_texts(page, ".bk-tab") if t not in top]
        if not subs:
            yield name
        for sub in subs:
            click_tab(page, sub)
            yield f"{name} - {sub}"
