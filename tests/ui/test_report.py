"""The meeting pack from the app, and printing a tab, in Chromium."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.ui.conftest import served

TIMEOUT = 60_000
BUILD_TIMEOUT = 400_000  # the whole pack on a machine shared by many test runs


@pytest.fixture(scope="module")
def app_url():
    """A server of its own: the pack is built in the server process, apart from the sessions other tests left."""
    with served() as url:
        yield url


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    text = unicodedata.normalize("NFKC", " ".join(p.extract_text() for p in reader.pages))  # ligatures as letters
    return re.sub(r"\s+", " ", text), len(reader.pages)


def test_download_button_gives_the_pack_for_the_current_filters(page, app_url, tmp_path):
    page.goto(app_url + "?population=Evaluable&sexes=F")
    button = page.get_by_role("button", name="Download meeting pack")
    expect(button).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(".exec-summary")).to_contain_text("Evaluable population", timeout=TIMEOUT)
    button.click()
    status = page.get_by_text(re.compile(r"^(Building: |Ready for |The meeting pack could not be built)"))
    expect(status, "the server never took the click").to_be_visible(timeout=TIMEOUT)
    save = page.get_by_role("button", name="Save meeting pack")
    expect(save, "no pack to save; the status line says why").to_be_visible(timeout=BUILD_TIMEOUT)
    with page.expect_download(timeout=TIMEOUT) as download:
        save.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert re.fullmatch(r"NCT02241018_meeting-pack_closed_cut2024-03-31\.pdf", path.name)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    text, pages = pdf_text(data)
    assert "Filters sexes = F; population = Evaluable" in text and pages > 10
    assert "CLOSED REPORT" in text and "Kaplan-Meier" in text


def test_printing_a_tab_gives_the_whole_tab_without_the_sidebar(page, app_url):
    page.set_viewport_size({"width": 1366, "height": 600})
    page.goto(app_url + "?population=Evaluable")
    last = page.get_by_text(re.compile(r"^Serious adverse events up to"))
    expect(last).to_be_visible(timeout=TIMEOUT)
    assert last.bounding_box()["y"] > 600  # below the fold on screen: printing the screen would lose it
    page.emulate_media(media="print")
    text, pages = pdf_text(page.pdf(format="A4", print_background=True))
    assert "How is the trial going?" in text and "Serious adverse events up to" in text
    assert "data cut 2024-03-31 · Evaluable population" in text and "filters: population = Evaluable" in text
    assert "Download meeting pack" not in text and "Meeting pack" not in text  # no sidebar
    assert pages >= 2
