"""Each role signed in through the real sign-in page in Chromium: what it sees, and what it cannot
reach, also by crafted URLs and in the Bokeh document sent to the browser (not only what is visible)."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from dashboard.app import available_views
from dashboard.auth.roles import AUDIT_TAB, ROLES
from dashboard.model.dataset import load_bundled
from tests.ui.pages import injected_elements, open_every_tab, settle, tab

from .conftest import PASSWORD, USERS

pytestmark = pytest.mark.ui
TIMEOUT = 60_000

# Every string the Bokeh document holds: model attributes, and the columns of data sources (tables).
DOCUMENT_TEXT_JS = """() => {
  const out = [];
  const add = (v) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v) || ArrayBuffer.isView(v)) { for (const x of v) if (typeof x === 'string') out.push(x); }
    else if (v instanceof Map) { for (const x of v.values()) add(x); }
  };
  for (const doc of Bokeh.documents) for (const model of doc.all_models)
    for (const [name, value] of Object.entries(model.attributes ?? {})) add(value);
  return out.join('\\n');
}"""


@pytest.fixture(scope="module")
def dataset():
    return load_bundled()


def sign_in_as(page, server, name: str, path: str = "/") -> None:
    page.goto(server.url + "/login?next=" + path, timeout=TIMEOUT)
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".role")).to_have_text(f"{name} · role: {USERS[name]}", timeout=TIMEOUT)


def tab_names(page) -> list[str]:
    return page.locator(".bk-tab").all_inner_texts()


def document_text(page) -> str:
    return page.evaluate(DOCUMENT_TEXT_JS)


def test_open_role_sees_pooled_tabs_and_no_patient_or_arm_data_anywhere(server, page, dataset):
    sign_in_as(page, server, "olive")
    expected = [v.title for v in available_views(dataset, ROLES["open"])[0]]
    settle(page, expected[0])
    assert tab_names(page)[:len(expected)] == expected
    list(open_every_tab(page))
    text = document_text(page) + page.content()
    assert "Swimmer plot" not in text and "Per-patient adverse events" not in text and "Event listing" not in text
    leaked_ids = [s for s in dataset.adsl["USUBJID"].astype(str) if re.search(rf"\b{re.escape(s)}\b", text)]
    assert leaked_ids == []
    for arm in dataset.arms:
        assert arm not in text
    for hidden in ("Arm balance", "Data quality", AUDIT_TAB):
        assert hidden not in tab_names(page)


def test_a_link_with_an_arm_filter_is_refused_for_the_open_role(server, page, dataset):
    short = next(iter(dataset.info.arm_short_labels.values()))
    sign_in_as(page, server, "olive", path=f"/?arms={short}")
    expect(page.get_by_text("This link was refused.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("which the open role may not use")).to_be_visible()
    assert tab_names(page) == [] and "Overview" not in document_text(page)
    lines = server.audit.read_text().splitlines()
    assert any('"link-refused"' in line and '"olive"' in line for line in lines)


def test_closed_role_sees_every_tab_profiles_and_listings_but_no_data_downloads(server, page, dataset):
    sign_in_as(page, server, "carl")
    expected = [v.title for v in available_views(dataset)[0]]
    settle(page, expected[0])
    assert tab_names(page)[:len(expected)] == expected
    tab(page, "Response").click()
    settle(page, "Response")
    expect(tab(page, "Swimmer plot")).to_be_visible()
    assert "Data downloads" not in document_text(page)


def test_analyst_downloads_the_filtered_subjects_with_the_data_cut(server, page, dataset):
    sign_in_as(page, server, "anna")
    settle(page, "Overview")
    with page.expect_download(timeout=TIMEOUT) as download:
        page.get_by_role("button", name="Subjects (ADSL)").click()
    text = open(download.value.path()).read()
    assert f"# Data cut {dataset.cutoff.date().isoformat()}" in text
    assert sum(1 for line in text.splitlines() if not line.startswith("#")) == 1 + int((dataset.adsl["ITTFL"] == "Y").sum())
    page.wait_for_timeout(1000)
    assert any('"export"' in line and '"anna"' in line for line in server.audit.read_text().splitlines())


def test_data_manager_sees_data_quality_and_the_audit_trail_but_no_results_by_arm(server, page, dataset):
    hostile = "<img src=x onerror=alert(1)>"
    urllib.request.urlopen(server.url + "/login", data=urllib.parse.urlencode(
        {"username": hostile, "password": "x"}).encode(), timeout=60)  # logged as a failed sign-in
    sign_in_as(page, server, "dora")
    settle(page, "Enrollment")
    assert tab_names(page) == ["Enrollment", "Data quality", AUDIT_TAB]
    # Tabs built after a first-built Enrollment reach the browser (they once stayed "Building…" for good).
    tab(page, "Data quality").click()
    settle(page, "Data quality")
    tab(page, AUDIT_TAB).click()
    settle(page, AUDIT_TAB)
    expect(page.locator(".tabulator-cell", has_text="sign-in").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".tabulator-cell", has_text="dora").first).to_be_visible()
    expect(page.locator(".tabulator-cell", has_text=hostile).first).to_be_visible()  # shown as text
    assert injected_elements(page) == []
    text = document_text(page)
    assert "Adverse events" not in tab_names(page) and "Response by visit" not in text
