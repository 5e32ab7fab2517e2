"""The served app in a subprocess for the browser tests (the browser and its page: tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.net import free_port, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ui" in str(item.fspath):
            item.add_marker(pytest.mark.ui)


def serve_app(data: str | None = None):
    """Start `trial-dashboard serve [data]` on 127.0.0.1 and return (process, base URL); what the server prints
    goes to the file `process.log_path` (an unread pipe would fill up over a test session and block it)."""
    port = free_port()
    cmd = [sys.executable, "-m", "dashboard", "serve", "--port", str(port), "--address", "127.0.0.1"]
    if data:
        cmd.insert(4, data)
    with tempfile.NamedTemporaryFile(prefix=f"dashboard-serve-{port}-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = Path(log.name)
    url = f"http://127.0.0.1:{port}/"
    wait_until_answers(proc, url, proc.log_path)
    return proc, url


@contextmanager
def served(data: str | None = None):
    """`serve_app(data)` for the duration of a `with` block; yields the base URL."""
    proc, url = serve_app(data)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_url():
    """URL of the dashboard served on the bundled trial for the whole test session."""
    with served() as url:
        yield url
