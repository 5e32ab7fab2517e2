"""`panel serve notebooks/<name>.ipynb`: the notebooks that end in a servable view (the whole dashboard, the
Changes tab) serve it as an app; read in Chromium (the page fixture fails on console errors and dialogs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.net import free_port, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]
SERVED = ("01_quick_tour.ipynb", "06_compare_cuts.ipynb")
TIMEOUT = 120_000  # ms: the notebook runs top to bottom for each session, on a busy 2-core machine


@pytest.fixture(scope="module")
def notebooks_url(tmp_path_factory):
    """`panel serve` of the servable notebooks on 127.0.0.1; yields the base URL."""
    log = tmp_path_factory.mktemp("panel-serve") / "server.log"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as output:
        proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", *SERVED, "--address", "127.0.0.1",
                                 "--port", str(port)], cwd=ROOT / "notebooks", stdout=output,
                                stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_until_answers(proc, f"{url}/01_quick_tour", log)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_the_quick_tour_serves_the_whole_dashboard(page, notebooks_url):
    page.goto(f"{notebooks_url}/01_quick_tour")
    expect(page.locator(".patient-count")).to_contain_text("203 of 203 patients", timeout=TIMEOUT)
    expect(page).to_have_title(re.compile(r"^NCT02241018"))
    expect(page.get_by_role("button", name="Reset filters")).to_be_visible()


def test_the_compare_cuts_notebook_serves_the_changes_of_its_two_cuts(page, notebooks_url):
    page.goto(f"{notebooks_url}/06_compare_cuts")
    expect(page.get_by_text(re.compile(r"Changes from data cut 2018-06-30 to data cut 2019-06-30"))).to_be_visible(
        timeout=TIMEOUT)
    expect(page.get_by_role("gridcell", name="Patients randomized", exact=True).first).to_be_visible(timeout=TIMEOUT)
