"""The app shell without a browser: template, header, tabs of the views this dataset can show."""

from __future__ import annotations

import html
from dataclasses import replace

import panel as pn

from dashboard.app import VIEWS, available_views, build_app
from dashboard.model import load_bundled
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


def test_every_tab_says_how_many_of_its_records_data_checks_left_out(tmp_path):
    """A trial with an AE after death and an orphan AE row loads; the tabs reading ADAE say so."""
    import pandas as pd

    from dashboard.app import _build_view
    from dashboard.model.dataset import write_dataset
    from dashboard.loaders import load_dataset
    from dashboard.views.balance import BalanceView
    from dashboard.views.safety import SafetyView

    bundled = load_bundled()
    adae = bundled.adae.copy()
    dead = bundled.adsl.loc[bundled.adsl["DTHDT"].notna()].iloc[0]
    after_death = adae.loc[adae["USUBJID"] == dead["USUBJID"]].iloc[[0]].assign(
        ASTDT=dead["DTHDT"] + pd.Timedelta(days=3))
    orphan = adae.iloc[[0]].assign(USUBJID="NOBODY-0001")
    write_dataset(replace(bundled, adae=pd.concat([adae, after_death, orphan], ignore_index=True)), tmp_path)
    dataset = load_dataset(tmp_path)
    assert dataset.left_out("adae") == 2 and len(dataset.adae) == len(adae)
    store = TrialStore(dataset)
    for view in (OverviewView, SafetyView):
        _, component = _build_view(view, store)
        note = component[0]
        assert "2 adverse-event records left out by data checks, see Data quality." in note.object
    _, component = _build_view(BalanceView, store)
    assert not isinstance(component, pn.Column) or "left out" not in str(getattr(component[0], "object", ""))


def test_patient_profile_lists_the_subjects_data_check_findings(tmp_path):
    """The profile of a subject with a left-out AE (onset after death) lists that finding."""
    import pandas as pd

    from dashboard.model.dataset import write_dataset
    from dashboard.loaders import load_dataset
    from dashboard.views.swimmer import SwimmerView

    bundled = load_bundled()
    dead = bundled.adsl.loc[bundled.adsl["DTHDT"].notna()].iloc[0]
    after_death = bundled.adae.loc[bundled.adae["USUBJID"] == dead["USUBJID"]].iloc[[0]].assign(
        ASTDT=dead["DTHDT"] + pd.Timedelta(days=3))
    write_dataset(replace(bundled, adae=pd.concat([bundled.adae, after_death], ignore_index=True)), tmp_path)
    view = SwimmerView(store=TrialStore(load_dataset(tmp_path)))
    profile = view._profile(dead["USUBJID"])
    findings = profile.select(pn.widgets.Tabulator)[-1].value
    assert list(findings["Dataset"]) == ["ADAE"] and findings["Column"].iloc[0] == "ASTDT"
    assert "death" in findings["Rule"].iloc[0].lower()
    healthy = bundled.adsl.loc[bundled.adsl["DTHDT"].isna() & (bundled.adsl["RANDFL"] == "Y"), "USUBJID"].iloc[0]
    assert not any("Data checks" in str(getattr(p, "object", "")) for p in view._profile(healthy))
