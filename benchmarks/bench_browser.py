"""What a committee member feels, measured end to end in Chromium against a one-line Panel app.

    python benchmarks/bench_browser.py                       # bundled trial
    python benchmarks/bench_browser.py /tmp/big --repeats 2  # e.g. after `trial-dashboard generate
                                                             #   --subjects 100000 --out /tmp/big`
    python benchmarks/bench_browser.py --memory              # also server memory per session

Both apps are served the same way (a server process on 127.0.0.1) and timed in the same run:
- cold start: server launch to the first page rendered (the patient count / the one-line text);
- new session: page load on a warm server to the patient count (the one-line app: to its text);
- first opening of each tab, and an arm filter change on each tab with every tab opened once.
A page counts as settled when the server has answered, no tab shows its "Building…" placeholder and
neither its text (shadow DOMs included) nor the server's messages have changed for QUIET_MS; the
figure is the time of the last change. Medians over --repeats. A script, not a test.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.net import free_port  # noqa: E402

QUIET_MS = 1500
TIMEOUT_MS = 300_000
READY = ".patient-count"
HELLO = "Hello from a one-line Panel app"
# Counts websocket messages from the server (Bokeh patches) with their time: installed in every page.
WS_SPY_JS = """
(() => {
  window.__wsLast = 0;
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', () => { window.__wsLast = performance.now(); });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""
# Resolves with the ms from window.__t0 to the page's last change (text, or a server message), once
# the server has answered after t0 and both have been quiet for `quiet` ms; -1 on timeout.
SETTLE_JS = """
async ([quiet, timeout]) => {
  const textOf = (root) => {
    let s = '';
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = walker.currentNode; n; n = walker.nextNode()) {
      if (n.nodeType === 3) s += n.nodeValue;
      else if (n.shadowRoot) s += textOf(n.shadowRoot);
    }
    return s;
  };
  const t0 = window.__t0 ?? 0;
  let last = textOf(document.body), changed = t0;
  const latest = () => Math.max(changed, window.__wsLast);
  const building = () => /Building the .{1,80} tab…/.test(last);  // a tab's placeholder: its build is running
  while (window.__wsLast <= t0 || performance.now() - latest() < quiet || building()) {
    if (performance.now() - t0 > timeout) return -1;
    await new Promise(r => setTimeout(r, 50));
    const now = textOf(document.body);
    if (now !== last) { last = now; changed = performance.now(); }
  }
  return latest() - t0;
}
"""


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def start_server(command: list[str], cwd: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([*command, "--port", str(port)], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return proc, port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def mark(page) -> None:
    page.evaluate("window.__t0 = performance.now()")


def settle(page) -> float:
    """Seconds from the last mark to the page's last text change (raises when it never settles)."""
    ms = page.evaluate(SETTLE_JS, [QUIET_MS, TIMEOUT_MS])
    if ms < 0:
        raise TimeoutError("page text did not settle")
    return ms / 1000


def load_to(page, url: str, ready: str) -> float:
    """Seconds from navigation start to `ready` visible (Navigation Timing origin)."""
    page.goto(url, wait_until="commit")
    page.locator(ready).first.wait_for(timeout=TIMEOUT_MS)
    return page.evaluate("performance.now()") / 1000


def wait_until_up(browser, port: int, path: str, ready: str, started: float) -> float:
    """Seconds from `started` to `ready` on the server's first page: wait until the port accepts
    connections, then load the page (a large trial builds its first page for a long time)."""
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.perf_counter() - started > TIMEOUT_MS / 1000:  # a cold start on a loaded machine
                raise
            time.sleep(0.1)
    page = fresh_page(browser)
    try:
        page.goto(f"http://127.0.0.1:{port}{path}", wait_until="commit", timeout=TIMEOUT_MS)
        page.locator(ready).first.wait_for(timeout=TIMEOUT_MS)
        return time.perf_counter() - started
    finally:
        page.context.close()


def fresh_page(browser):
    """A page in a new browser context (a new session), 1366x768, with the websocket spy installed."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_init_script(WS_SPY_JS)
    return context.new_page()


def tab_titles(page) -> list[str]:
    return [t.strip() for t in page.locator(".bk-tab").all_inner_texts()]


def open_tab(page, title: str) -> float:
    mark(page)
    page.locator(".bk-tab", has_text=re.compile(f"^{re.escape(title)}$")).click()
    return settle(page)


def choose_arm(page, option_index: int) -> float:
    """Replace the Arm filter's selection with one option; seconds to settle."""
    group = page.locator(".bk-input-group").filter(has=page.locator("label", has_text=re.compile("^Arm$")))
    for remove in group.locator(".choices__button").all():
        remove.click()
    settle(page)
    group.locator(".choices").click()
    options = group.locator(".choices__list--dropdown .choices__item--selectable")
    option = options.nth(option_index % max(options.count(), 1))
    mark(page)
    option.click()
    page.keyboard.press("Escape")
    return settle(page)


def loaded(figure: str) -> str:
    """A figure with the machine's 1-minute load average now (the machine is shared)."""
    return f"{figure}  (load {os.getloadavg()[0]:.1f})"


class Rows(list):
    """The result rows; each is also printed to stderr when measured (a long run keeps what it has)."""

    def append(self, row: tuple[str, str]) -> None:
        print(f"  {row[0]}: {row[1]}", file=sys.stderr, flush=True)
        super().append(row)

    def __iadd__(self, rows):
        for row in rows:
            self.append(row)
        return self


def measure(data: str | None, repeats: int, memory: bool) -> None:
    from playwright.sync_api import sync_playwright

    ours_cmd = [sys.executable, "-m", "dashboard", "serve", *([data] if data else []), "--address", "127.0.0.1"]
    rows = Rows()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        hello = Path(tmp) / "hello.py"
        hello.write_text(f'import panel as pn\npn.panel("{HELLO}").servable()\n')
        base_cmd = [sys.executable, "-m", "panel", "serve", str(hello), "--address", "127.0.0.1"]
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        cold = {"ours": [], "base": []}
        for _ in range(repeats):
            for key, cmd, path, ready in (("ours", ours_cmd, "/", READY), ("base", base_cmd, "/hello", f"text={HELLO}")):
                started = time.perf_counter()
                proc, port = start_server(cmd, ROOT if key == "ours" else Path(tmp))
                try:
                    cold[key].append(wait_until_up(browser, port, path, ready, started))
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
        ratio = median(cold["ours"]) / median(cold["base"])
        rows.append(("server cold start to first page", loaded(f"{median(cold['ours']):.2f} s vs {median(cold['base']):.2f} s one-line ({ratio:.1f}x)")))

        ours, ours_port = start_server(ours_cmd, ROOT)
        base, base_port = start_server(base_cmd, Path(tmp))
        try:
            ours_url, base_url = f"http://127.0.0.1:{ours_port}/", f"http://127.0.0.1:{base_port}/hello"
            wait_until_up(browser, ours_port, "/", READY, time.perf_counter())
            wait_until_up(browser, base_port, "/hello", f"text={HELLO}", time.perf_counter())
            rss_before = rss_mb(ours.pid)
            loads = {"ours": [], "base": []}
            for _ in range(repeats):
                for key, url, ready in (("ours", ours_url, READY), ("base", base_url, f"text={HELLO}")):
                    page = fresh_page(browser)
                    loads[key].append(load_to(page, url, ready))
                    page.context.close()
            ratio = median(loads["ours"]) / median(loads["base"])
            rows.append(("new session: page load to patient count",
                         loaded(f"{median(loads['ours']):.2f} s vs {median(loads['base']):.2f} s one-line ({ratio:.1f}x)")))

            first_open: dict[str, list[float]] = {}
            load_at: dict[str, float] = {}  # 1-min load average when each figure was last measured
            filter_change: dict[str, list[float]] = {}
            for run in range(repeats):
                page = fresh_page(browser)
                page.goto(ours_url)
                page.locator(READY).wait_for(timeout=TIMEOUT_MS)
                titles = tab_titles(page)
                for title in titles[1:]:
                    first_open.setdefault(title, []).append(open_tab(page, title))
                    load_at[f"open {title}"] = os.getloadavg()[0]
                for title in titles:
                    open_tab(page, title)
                    filter_change.setdefault(title, []).append(choose_arm(page, run + 1))
                    load_at[f"filter {title}"] = os.getloadavg()[0]
                if run == 0:
                    rows.append(("server RSS before / after one session with every tab opened",
                                 loaded(f"{rss_before:.0f} MB / {rss_mb(ours.pid):.0f} MB")))
                page.context.close()
            for title, samples in first_open.items():
                rows.append((f"first opening of {title}", f"{median(samples):.2f} s  (load {load_at[f'open {title}']:.1f})"))
            for title, samples in filter_change.items():
                rows.append((f"arm filter change, {title} on screen, every tab opened",
                             f"{median(samples):.2f} s  (load {load_at[f'filter {title}']:.1f})"))
            if memory:
                rows += session_memory(browser, ours, ours_url)
        finally:
            for proc in (ours, base):
                proc.terminate()
                proc.wait(timeout=20)
        browser.close()
    width = max(len(r[0]) for r in rows)
    print(f"\ntrial-dashboard in Chromium ({data or 'bundled trial'}; median of {repeats}; settle = text quiet for {QUIET_MS} ms)")
    for what, figure in rows:
        print(f"  {what.ljust(width)}  {figure}")


def session_memory(browser, server, url: str) -> list[tuple[str, str]]:
    """RSS with 10 sessions open, and after 20 open/close cycles once Bokeh has dropped closed sessions."""
    start = rss_mb(server.pid)
    pages = []
    for _ in range(10):
        page = fresh_page(browser)
        page.goto(url)
        page.locator(READY).wait_for(timeout=TIMEOUT_MS)
        pages.append(page)
    ten = rss_mb(server.pid)
    for page in pages:
        page.context.close()
    for _ in range(20):
        page = fresh_page(browser)
        page.goto(url)
        page.locator(READY).wait_for(timeout=TIMEOUT_MS)
        page.context.close()
    gc.collect()
    time.sleep(40)  # Bokeh discards unused sessions after 15 s, checked every 17 s
    after = rss_mb(server.pid)
    return [("server RSS, 10 sessions open", f"{ten:.0f} MB ({(ten - start) / 10:.1f} MB per session over {start:.0f} MB)"),
            ("server RSS after 20 open/close cycles (+40 s)", loaded(f"{after:.0f} MB"))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", help="data folder (default: the bundled trial)")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions per figure (default 3)")
    parser.add_argument("--memory", action="store_true", help="also server memory per session and after closing")
    args = parser.parse_args()
    measure(args.data, args.repeats, args.memory)
