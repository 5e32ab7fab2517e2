"""The app shell without a browser: template, header, tabs of the views this dataset can show."""

from __future__ import annotations

import html

import panel as pn

from dashboard.app import VIEWS, available_views, build_app
from dashboard.store import TrialStore
from dashboard.views.overview import OverviewView


def test_overview_is_the_first_tab():
    assert VIEWS[0] is OverviewView
    assert len({view.title for view in VIEWS}) == len(VIEWS)


def test_build_app_shows_identity_data_cut_and_provenance(tiny):
    store = TrialStore(tiny)
    template = build_app(tiny, store=store)
    assert template.title == "NCT02241018 · MSC-aGVHD"
    header = "".join(str(p.object) for item in template.header for p in item.select(pn.pane.HTML))
    assert "Data cut <b>2017-06-30</b>" in header
    banner = str(template.main[0].object)
    assert tiny.info.title in banner and "data cut 2017-06-30" in banner
    assert html.escape(tiny.provenance_text()) in banner


def test_tabs_are_the_views_this_dataset_can_show(tiny):
    template = build_app(tiny)
    tabs = template.main[1]
    shown, hidden = available_views(tiny)
    assert [t.name for t in tabs] == [view.title for view in shown]
    assert all(view.unavailable_reason(tiny) is None for view in shown)
    assert set(hidden) == {view.title for view in VIEWS if view.unavailable_reason(tiny)}
    notes = "".join(str(p.object) for p in template.sidebar if isinstance(p, pn.pane.HTML))
    for title in hidden:
        assert title in notes


def test_sessions_get_their_own_store(tiny):
    first, second = TrialStore(tiny), TrialStore(tiny)
    build_app(tiny, store=first), build_app(tiny, store=second)
    first.sites = ["01"]
    assert second.sites == [] and len(second.subjects()) == 5


def test_outside_a_server_the_url_is_left_alone(tiny):
    store = TrialStore(tiny)
    build_app(tiny, store=store)
    store.sites = ["02"]
    assert pn.state.location is None or pn.state.location.search in ("", None)


class BrokenView(OverviewView):
    """A tab whose view fails to build."""

    title = "Broken"

    def __panel__(self):
        raise ValueError("column XYZ is missing")


def test_tabs_are_built_when_first_opened_and_a_broken_view_says_why(tiny, monkeypatch):
    monkeypatch.setattr("dashboard.app.VIEWS", (OverviewView, BrokenView))
    tabs = build_app(tiny).main[1]
    assert [t.name for t in tabs] == ["Overview", "Broken"]
    assert "Building the Broken tab" in str(tabs[1].select(pn.pane.HTML)[0].object)
    tabs.active = 1
    (alert,) = tabs[1].select(pn.pane.Alert)
    assert "Broken could not be shown." in alert.object and "column XYZ is missing" in alert.object
    tabs.active = 0
    assert isinstance(tabs[1], pn.pane.Alert)
