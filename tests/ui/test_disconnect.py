"""When the server goes away, an open page says so and its controls stop pretending to work (issue 17,
hardening): every button, input and select is disabled, and the disconnect notification is shown."""

from __future__ import annotations

from tests.ui.conftest import serve_app
from tests.ui.pages import DEEP_QUERY_JS, SETTLE_TIMEOUT

# The page's buttons, inputs and selects (shadow DOMs included): how many, and how many are enabled.
CONTROLS_JS = f"""() => {{
  const controls = ({DEEP_QUERY_JS})('button, input, select, textarea');
  return {{count: controls.length, enabled: controls.filter((c) => !c.disabled).map((c) => c.outerHTML.slice(0, 80))}};
}}"""


def test_a_page_whose_server_stopped_disables_its_controls_and_says_so(browser):
    proc, url = serve_app()
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(url)
        page.locator(".patient-count").wait_for(timeout=SETTLE_TIMEOUT)
        before = page.evaluate(CONTROLS_JS)
        assert before["count"] >= 10 and len(before["enabled"]) >= 10, before
        assert not errors, errors
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    try:
        page.get_by_text("Connection to the server lost").wait_for(timeout=30_000)
        after = page.evaluate(CONTROLS_JS)
    finally:
        context.close()
    assert after["count"] >= before["count"] and after["enabled"] == [], after
