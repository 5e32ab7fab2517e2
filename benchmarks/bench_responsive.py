"""How long the browser stays busy after a filter change: serve the bundled trial, open a tab in
Chromium, choose one arm in the sidebar, then ask the page to run one line of script every second.

    python benchmarks/bench_responsive.py                          # Adverse events tab, dark theme
    python benchmarks/bench_responsive.py --tab Enrollment --theme default --probes 15

Prints each reply time; "no reply" means the renderer did not run the line within --limit seconds
(issue 12, item 0b: before the fix, the Adverse events tab in the dark theme never replied again).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tab", default="Adverse events", help="tab on screen when the arm is chosen")
    parser.add_argument("--theme", default="dark", choices=("dark", "default"), help="page theme")
    parser.add_argument("--probes", type=int, default=10, help="replies to time, one a second")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds after which a probe counts as no reply")
    args = parser.parse_args()

    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.ui.conftest import serve_app
    from tests.ui.pages import choose, open_tab

    proc, url = serve_app()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(f"{url}?theme={args.theme}")
            page.locator(".patient-count").wait_for(timeout=120_000)
            open_tab(page, args.tab)
            page.wait_for_timeout(3_000)
            start = time.monotonic()
            arm = choose(page, "Arm")
            print(f"{args.tab}, {args.theme} theme: chose {arm!r}")
            replies = []
            for _ in range(args.probes):
                asked = time.monotonic()
                try:
                    page.wait_for_function("() => true", timeout=args.limit * 1000)
                    replies.append(time.monotonic() - asked)
                    print(f"  t+{asked - start:5.1f} s: reply in {replies[-1]:.2f} s")
                except PlaywrightTimeoutError:
                    replies.append(float("inf"))
                    print(f"  t+{asked - start:5.1f} s: no reply within {args.limit:.0f} s")
                page.wait_for_timeout(1_000)
            print(f"slowest reply: {max(replies):.2f} s")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
