"""The server log stays clean when people close pages: closing a page while the server is still
sending it updates (right after a filter change) used to print tornado WebSocketClosedError
tracebacks ("Task exception was never retrieved"), issue 12 item 14."""

from __future__ import annotations

import re
import time

from tests.ui.conftest import serve_app
from tests.ui.pages import SETTLE_TIMEOUT, choose

CLOSES = 3


def test_closing_pages_mid_update_leaves_no_traceback(browser):
    proc, url = serve_app()
    try:
        for _ in range(CLOSES):
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            page = context.new_page()
            page.goto(url)
            page.locator(".patient-count").wait_for(timeout=SETTLE_TIMEOUT)
            choose(page, "Arm")  # the server starts sending the filtered views...
            page.wait_for_timeout(50)
            context.close()  # ...to a page that is gone
        time.sleep(5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    output = proc.log_path.read_text(errors="replace")
    assert "serving on" in output, output
    assert not re.search(r"Traceback|WebSocketClosedError|never retrieved", output), output
