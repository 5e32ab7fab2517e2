"""Panel widgets are live in JupyterLab: a real `jupyter lab` on 127.0.0.1, the notebook opened and run in
Chromium, a widget changed in the page updates the store in the kernel and the view, and a change made in
the kernel updates the widget and the view in the page (bi-directional)."""

from __future__ import annotations

import json
import re
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from dashboard.model import load_bundled
from dashboard.store import TrialStore
from tests.net import free_port

pytestmark = [pytest.mark.ui, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
# Offline, Panel 1.9 still asks the CDN for a few component stylesheets in a notebook even with
# pn.extension(inline=True) (theme/default.css, markdown.css...): cosmetic only, the widgets work (asserted below).
OFFLINE_CDN_CSS = re.compile(r"https://cdn\.holoviz\.org/panel/[^ ]+\.css(\?v=[0-9.]+)?$")
CELLS = [
    'import panel as pn\nfrom dashboard.model import load_bundled\nfrom dashboard.store import TrialStore\n\n'
    'pn.extension(inline=True)  # Bokeh and Panel JavaScript from the package, not a CDN (works offline)\n'
    'store = TrialStore(load_bundled())',
    'population = pn.widgets.Select.from_param(store.param.population, name="Population")\n'
    'pn.Column(population, pn.pane.Markdown(store.summary, css_classes=["patients"]))',
]


@pytest.fixture
def lab(tmp_path):
    """`jupyter lab` serving a folder with the test notebook; yields (base URL, token)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "live.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = tmp_path / "jupyterlab.log"  # a file, not an unread pipe (a full pipe blocks the server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root",
         "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--ServerApp.open_browser=False"],
        cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited:\n{log.read_text(errors='replace')}")
            try:
                status = json.load(urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=10))
                if "started" in status:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_panel_widgets_are_live_both_ways_in_jupyterlab(lab, browser):
    from playwright.sync_api import expect

    store = TrialStore(load_bundled())
    expected = {}
    for population in ("ITT", "Evaluable", "Safety"):
        store.population = population
        expected[population] = store.summary()
    assert len(set(expected.values())) == 3  # each change shows a different count

    base, token = lab
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    try:
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(f"{m.text} {m.location.get('url', '')}"))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
        page.goto(f"{base}/lab/tree/live.ipynb?token={token}")
        page.locator(".jp-Notebook").first.wait_for(timeout=120_000)
        expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=120_000)  # kernel ready
        page.get_by_text("Run", exact=True).first.click()
        page.get_by_text("Run All Cells", exact=True).click()

        select = page.locator(".jp-OutputArea select")
        expect(select).to_have_value("ITT", timeout=120_000)
        patients = page.locator(".jp-OutputArea .patients")
        expect(patients).to_contain_text(expected["ITT"], timeout=60_000)

        select.select_option("Evaluable")  # page -> kernel -> view
        expect(patients).to_contain_text(expected["Evaluable"], timeout=60_000)

        # kernel -> page: a new cell below the last one sets the store
        page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").last.click()
        page.keyboard.press("Escape")  # command mode
        page.keyboard.press("b")  # insert a cell below
        page.keyboard.press("Enter")  # edit it
        page.keyboard.type('store.population = "Safety"')
        page.keyboard.press("Shift+Enter")
        expect(select).to_have_value("Safety", timeout=60_000)
        expect(patients).to_contain_text(expected["Safety"], timeout=60_000)
        page.screenshot(path=str(Path(os.environ.get("TRIAL_DASHBOARD_NOTEBOOK_HTML", "/tmp")) / "jupyterlab_live.png"))
    finally:
        context.close()
    assert [e for e in errors if not OFFLINE_CDN_CSS.search(e)] == []
