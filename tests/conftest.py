"""Fixtures shared by every test tier: a tiny, hand-checkable trial, the bundled one and ../shared."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset

MSC, CONTROL = NCT02241018.arm_order

# Five randomized patients and one screen failure at three sites (data cut 2017-06-30):
# S1 MSC   site 01 M 30 II  AML completed, day-28 CR, 1 serious + 1 non-serious AE
# S2 CTRL  site 01 F 45 III ALL ongoing,   day-28 NR
# S3 MSC   site 02 F 52 IV  AML withdrew,  day-28 PR, 1 serious AE
# S4 CTRL  site 02 M 25 II  MDS died,      not evaluable, never treated, 1 non-serious AE
# S5 MSC   site 03 M 60 III ALL ongoing,   randomized 2017-06-20: day 28 not yet due
# SF1      site 03 F 40 II  AML screen failure
TINY_ADSL = pd.DataFrame(
    {
        "STUDYID": ["TINY"] * 6,
        "USUBJID": ["S1", "S2", "S3", "S4", "S5", "SF1"],
        "SITEID": ["01", "01", "02", "02", "03", "03"],
        "SITENAME": ["Nanfang Hospital", "Nanfang Hospital", "Peking Univ. People's Hospital",
                     "Peking Univ. People's Hospital", "Union Hospital", "Union Hospital"],
        "ARM": [MSC, CONTROL, MSC, CONTROL, MSC, "Screen Failure"],
        "RANDFL": ["Y", "Y", "Y", "Y", "Y", "N"],
        "ITTFL": ["Y", "Y", "Y", "Y", "Y", "N"],
        "SAFFL": ["Y", "Y", "Y", "N", "Y", "N"],
        "EFFFL": ["Y", "Y", "Y", "N", "Y", "N"],
        "SCRNDT": pd.to_datetime(["2015-01-05", "2015-02-25", "2016-06-10", "2016-08-28", "2017-06-15", "2017-06-01"]),
        "RANDDT": pd.to_datetime(["2015-01-10", "2015-03-01", "2016-06-15", "2016-09-01", "2017-06-20", None]),
        "AGE": [30.0, 45.0, 52.0, 25.0, 60.0, 40.0],
        "SEX": ["M", "F", "F", "M", "M", "F"],
        "DIAG": ["AML", "ALL", "AML", "MDS", "ALL", "AML"],
        "AGVHDGR": ["II", "III", "IV", "II", "III", "II"],
        "EOSSTT": ["COMPLETED", "ONGOING", "DISCONTINUED", "DISCONTINUED", "ONGOING", "NOT RANDOMIZED"],
        "DTHFL": ["N", "N", "N", "Y", "N", "N"],
        "DTHDT": pd.to_datetime([None, None, None, "2016-10-01", None, None]),
    }
)
TINY_SITES = pd.DataFrame(
    {
        "SITEID": ["01", "02", "03"],
        "SITENAME": ["Nanfang Hospital", "Peking Univ. People's Hospital", "Union Hospital"],
        "CITY": ["Guangzhou", "Beijing", "Wuhan"],
    }
)
TINY_ADRS = pd.DataFrame(
    {
        "USUBJID": ["S1", "S1", "S2", "S3", "S5"],
        "PARAMCD": ["OVRLRESP"] * 5,
        "AVISIT": ["Day 7", "Day 28", "Day 28", "Day 28", "Day 7"],
        "AVISITN": [7.0, 28.0, 28.0, 28.0, 7.0],
        "ADT": pd.to_datetime(["2015-01-16", "2015-02-06", "2015-03-28", "2016-07-12", "2017-06-26"]),
        "AVALC": ["PR", "CR", "NR", "PR", "SD"],
    }
)
TINY_ADAE = pd.DataFrame(
    {
        "USUBJID": ["S1", "S1", "S3", "S4"],
        "AEDECOD": ["Pneumonia", "Nausea", "Sepsis", "Rash"],
        "AEBODSYS": ["Infections and infestations", "Gastrointestinal disorders",
                     "Infections and infestations", "Skin and subcutaneous tissue disorders"],
        "AESER": ["Y", "N", "Y", "N"],
        "AETOXGRN": [3, 1, 4, 1],
        "ASTDT": pd.to_datetime(["2015-02-01", "2015-01-20", "2016-07-01", "2016-09-10"]),
    }
)


def tiny_dataset() -> TrialDataset:
    """The tiny trial above as a validated dataset (fresh copies of the frames)."""
    return TrialDataset.create(
        TINY_ADSL.copy(), cutoff="2017-06-30", info=NCT02241018, provenance={"source": "tests/conftest.py"},
        sites=TINY_SITES.copy(), adrs=TINY_ADRS.copy(), adae=TINY_ADAE.copy(),
    )


@pytest.fixture
def tiny():
    """A fresh tiny dataset (5 randomized, 1 screen failure, 3 sites)."""
    return tiny_dataset()


@pytest.fixture(scope="session")
def bundled():
    """The bundled synthetic NCT02241018 trial (committed under data/; a missing one is a failure)."""
    from dashboard.model.dataset import load_bundled

    return load_bundled()


# ../shared next to the repository: the publication's numbers and public CDISC data the tests check against.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXTERNAL = SHARED / "data" / "external"  # public CDISC studies
PILOT = EXTERNAL / "cdiscpilot01_adam"  # the CDISC pilot (ADaM, SAS transport files, three arms)


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the test fails (never skips) when it is absent, so a missing reference
    can never pass unnoticed."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} not found: ../shared (published reference numbers, public CDISC data) must sit "
                    f"next to the repository")
    return path


@pytest.fixture(scope="session")
def shared():
    """`shared("data", "external", "cdiscpilot01_adam")` -> that path under ../shared (fails when absent)."""
    return shared_path


@pytest.fixture(scope="session")
def published():
    """`published(measure, arm="ALL")` -> the value the publications report (../shared/reference)."""
    records = json.loads(shared_path("reference", "nct02241018_published.json").read_text())["records"]

    def value(measure: str, arm: str = "ALL"):
        matches = [r["value"] for r in records if r["measure"] == measure and r["arm"] == arm]
        assert len(matches) == 1, f"{len(matches)} reference records for {measure}/{arm}"
        return matches[0]

    return value


def main_tabs(template):
    """The app page's main tabs (below the print header, any data notice and the banner)."""
    import panel as pn

    return next(o for o in template.main if isinstance(o, pn.Tabs))


# Debian's Chromium (never a downloaded browser build) and its flags for tests.
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
# Console messages that are not application errors (Bokeh dev warnings about websockets closing at teardown).
IGNORED_CONSOLE = ("WebSocket connection to", "[bokeh] Lost websocket")


@pytest.fixture(scope="session")
def browser():
    """The one Chromium of the test session (Debian's; skipped loudly where none exists). Playwright's
    sync API runs an event loop while it is open, so a second one in the same worker fails: every
    browser test (ui, auth, notebooks, perf) shares this one."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"NO CHROMIUM at {CHROMIUM}: browser tests skipped (install Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh 1366x768 page; the test fails if the page logs a console error, throws, or opens a dialog
    (dismissed)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and not m.text.startswith(IGNORED_CONSOLE) and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"a {d.type} dialog: {d.message}"), d.dismiss()))
    yield page
    context.close()
    assert not errors, f"browser console errors or dialogs: {errors}"
