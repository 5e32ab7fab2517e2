"""Playwright fixtures: the served app in a subprocess and a Chromium page that fails on console errors.

Uses Debian's /usr/bin/chromium (never a downloaded browser build); skips loudly where none exists.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Console messages that are not application errors (Bokeh dev warnings about websockets closing at teardown).
IGNORED_CONSOLE = ("WebSocket connection to", "[bokeh] Lost websocket")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ui" in str(item.fspath):
            item.add_marker(pytest.mark.ui)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(data: str | None = None):
    """Start `trial-dashboard serve [data]` on 127.0.0.1 and return (process, base URL)."""
    port = _free_port()
    cmd = [sys.executable, "-m", "dashboard", "serve", "--port", str(port), "--address", "127.0.0.1"]
    if data:
        cmd.insert(4, data)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{proc.stdout.read()}")
        try:
            urllib.request.urlopen(url, timeout=60)  # a page builds a whole session: slow on a busy machine
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"server did not answer at {url} within 180 s")


@pytest.fixture(scope="session")
def app_url():
    """URL of the dashboard served on the bundled trial for the whole test session."""
    proc, url = serve_app()
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def page(browser):
    """A fresh 1366x768 page; the test fails if the page logs a console error or throws."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and not m.text.startswith(IGNORED_CONSOLE) and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"
