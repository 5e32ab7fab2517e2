"""The app's meeting-pack button (without a browser) and the print-only header."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from dashboard.model.pooling import pooled
from dashboard.report.download import MeetingPackView, PrintHeaderView, print_stylesheet
from dashboard.store import TrialStore


def test_button_builds_the_pack_for_the_current_filters(tiny):
    store = TrialStore(tiny)
    store.param.update(population="Safety", sites=["01", "02"])
    view = MeetingPackView(store=store, fmt="html")
    view.__panel__()
    with ThreadPoolExecutor(1) as pool:  # own thread: an open Playwright (browser tests) runs a loop on this one
        pool.submit(asyncio.run, view._build()).result()
    assert view._save.visible and not view._button.disabled and not view._progress.visible
    assert view._save.filename == "NCT02241018_meeting-pack_closed_cut2017-06-30.html"
    html = view._save.file.getvalue().decode()
    assert "sites = 01,02; population = Safety" in html and "CLOSED report" in html
    assert f"Ready for {store.summary()}" in view._status.object


def test_open_session_can_only_build_the_open_pack(tiny):
    view = MeetingPackView(store=TrialStore(pooled(tiny)))
    assert view.closed is False and view.param.closed.constant


def test_print_header_names_cut_population_and_filters(tiny):
    store = TrialStore(tiny)
    header = PrintHeaderView(store=store)
    assert "filters: none (all patients)" in header._text()
    store.sexes = ["F"]
    text = header._text()
    assert "data cut <b>2017-06-30</b>" in text and "filters: sexes = F" in text
    assert "#sidebar" in print_stylesheet() and "@media print" in print_stylesheet()


def test_print_header_escapes_the_data(tiny):
    from ..hostile_data import hostile_dataset

    store = TrialStore(hostile_dataset(tiny))
    store.sites = [s for s in store.param.sites.objects if "<" in s]
    assert store.sites  # a site id carrying markup is in the filters line
    text = PrintHeaderView(store=store)._text()
    assert "<img" not in text and "<script" not in text and "&lt;" in text
