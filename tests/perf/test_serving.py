"""Serving at scale, checked functionally (no timings): several processes, and every asset local."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.net import free_port
from tests.ui.pages import open_every_tab, wait_until_quiet
from tests.ui.conftest import serve_app

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    """The process's direct children (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1][0] != "Z"


@pytest.mark.slow
def test_num_procs_2_serves_the_dashboard_from_two_worker_processes(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"  # a file, not an unread pipe (a full pipe blocks the server)
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "serve", "--num-procs", "2", "--port", str(port)],
                            cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline, page = time.monotonic() + 240, None
        while page is None and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                page = urllib.request.urlopen(url, timeout=120).read().decode()
            except OSError:
                time.sleep(0.5)
        assert page is not None, "no answer within 240 s"
        assert "NCT02241018" in page
        assert urllib.request.urlopen(url + "liveness", timeout=60).status == 200  # the proxy's health check
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        # both workers answer: more requests than one process would take in turn all succeed
        for _ in range(4):
            assert urllib.request.urlopen(url, timeout=120).status == 200
        assert all(_alive(w) for w in workers)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    output = log.read_text(errors="replace")
    # the data were loaded once, before the processes started: one "serving" line, one launch per worker
    assert output.count("trial-dashboard: serving on") == 1 and output.count("Launching server") == 2, output
    time.sleep(1)
    assert not [w for w in workers if _alive(w)], "worker processes outlived the server"


@pytest.mark.ui
def test_no_request_leaves_127_0_0_1_with_every_tab_open(page):
    proc, url = serve_app()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(url)
        page.locator(".patient-count").first.wait_for(timeout=120_000)
        opened = list(open_every_tab(page))
        page.locator("button", has_text="Dark theme").first.click()  # the other theme's stylesheets too
        page.locator(".patient-count").first.wait_for(timeout=120_000)
        wait_until_quiet(page)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(opened) >= 5 and requests
    # blob: and data: URLs are made in the page; every other request goes to the server
    outside = {u for u in requests if urlsplit(u).scheme not in ("blob", "data") and urlsplit(u).hostname != "127.0.0.1"}
    assert outside == set()


@pytest.mark.slow
def test_container_image_builds():
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed on this machine: the Dockerfile's build is not tested here")
    daemon = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if daemon.returncode != 0:
        pytest.skip(f"no docker daemon reachable (`docker info`: {daemon.stderr.strip().splitlines()[-1]}): "
                    "the Dockerfile's build is not tested here")
    result = subprocess.run(["docker", "build", "-q", "-t", "trial-dashboard-test", str(ROOT)],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr
