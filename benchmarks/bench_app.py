"""Time the app shell on the bundled trial.

    python benchmarks/bench_app.py            # in-process: build + first render, overview update (median of 20)
    python benchmarks/bench_app.py --cold     # also: server start to overview rendered in Chromium,
                                              # against a one-line Panel app served the same way

In-process figures exclude loading the dataset (done once per server process, timed separately).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = 20


def median_ms(samples: list[float]) -> str:
    return f"{1000 * statistics.median(samples):.0f} ms (median of {len(samples)}, min {1000 * min(samples):.0f}, max {1000 * max(samples):.0f})"


def in_process() -> None:
    import panel as pn
    from bokeh.document import Document

    from dashboard.app import build_app
    from dashboard.model.dataset import load_bundled
    from dashboard.store import TrialStore

    start = time.perf_counter()
    dataset = load_bundled()
    print(f"load + validate bundled dataset: {1000 * (time.perf_counter() - start):.0f} ms (once per process)")

    builds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        template = build_app(dataset, store=TrialStore(dataset))
        template.server_doc(Document())
        builds.append(time.perf_counter() - start)
    print(f"build_app + first render of the overview: {median_ms(builds)}")

    store = TrialStore(dataset)
    build_app(dataset, store=store).server_doc(Document())
    print(f"overview update after a filter change (arm + sites): {median_ms(filter_changes(store))}")

    store = TrialStore(dataset)
    template = build_app(dataset, store=store)
    template.server_doc(Document())
    tabs = next(t for item in template.main for t in pn.panel(item).select(pn.Tabs) if t.name == "tabs")
    for index in range(len(tabs)):  # open every tab once, as a committee member would
        tabs.active = index
    tabs.active = 0
    print(f"update after a filter change with every tab opened once (overview shown): {median_ms(filter_changes(store))}")


def filter_changes(store) -> list[float]:
    """Seconds taken by RUNS arm + site filter changes on a rendered app."""
    arms, sites = store.dataset.arms, store.param.sites.objects
    updates = []
    for i in range(RUNS):
        change = {"arms": [arms[i % 2]], "sites": sites[: 1 + i % 3]}
        start = time.perf_counter()
        store.param.update(**change)
        updates.append(time.perf_counter() - start)
    return updates


def cold_start(command: list[str], url_path: str, ready_selector: str, cwd: Path) -> float:
    """Seconds from launching the server process to `ready_selector` visible in Chromium."""
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.net import free_port
    from playwright.sync_api import sync_playwright

    port = free_port()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        start = time.perf_counter()
        proc = subprocess.Popen([*command, "--port", str(port)], cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}{url_path}", timeout=5000)
                    break
                except Exception:
                    if time.perf_counter() - start > 120:
                        raise
                    time.sleep(0.1)
            page.locator(ready_selector).first.wait_for(timeout=120_000)
            return time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            browser.close()


def cold(repeats: int) -> None:
    dashboard = [sys.executable, "-m", "dashboard", "serve", "--address", "127.0.0.1"]
    with tempfile.TemporaryDirectory() as tmp:
        one_line = Path(tmp) / "hello.py"
        one_line.write_text('import panel as pn\npn.panel("Hello from a one-line Panel app").servable()\n')
        baseline = [sys.executable, "-m", "panel", "serve", str(one_line), "--address", "127.0.0.1"]
        ours = [cold_start(dashboard, "/", ".card .value", ROOT) for _ in range(repeats)]
        theirs = [cold_start(baseline, "/hello", "text=Hello from a one-line Panel app", Path(tmp))
                  for _ in range(repeats)]
    print(f"cold start, server launch to overview cards rendered in Chromium: {median_ms(ours)}")
    print(f"cold start, server launch to a one-line Panel app rendered:       {median_ms(theirs)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="also measure cold start in Chromium")
    parser.add_argument("--cold-repeats", type=int, default=3, help="cold starts per app (default 3)")
    args = parser.parse_args()
    in_process()
    if args.cold:
        cold(args.cold_repeats)
