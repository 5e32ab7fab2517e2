"""The app shell without a browser: template, header, tabs of the views this dataset can show."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import panel as pn
import pytest

import dashboard
from dashboard.app import VIEWS, _build_view, available_views, build_app
from dashboard.loaders import load_dataset
from dashboard.model import load_bundled
from dashboard.model.dataset import write_dataset
from dashboard.store import TrialStore
from dashboard.views.address import AddressBar
from dashboard.views.overview import OverviewView
from tests.conftest import main_tabs


def test_overview_is_the_first_tab():
    assert VIEWS[0] is OverviewView
    assert len({view.title for view in VIEWS}) == len(VIEWS)


@pytest.fixture
def made_stores(monkeypatch) -> list[TrialStore]:
    """The stores build_app makes, in order (build_app's own TrialStore, recorded as it is built)."""
    made = []

    def record(dataset, **params):
        made.append(TrialStore(dataset, **params))
        return made[-1]

    monkeypatch.setattr("dashboard.app.TrialStore", record)
    return made


def test_build_app_shows_identity_data_cut_and_provenance(tiny):
    template = build_app(tiny)
    assert template.title == f"{tiny.info.registry_id} · {tiny.info.short_name}"
    header = "".join(str(p.object) for item in template.header for p in item.select(pn.pane.HTML))
    assert "Data cut <b>2017-06-30</b>" in header
    banner = str(_banner(template).object)
    assert tiny.info.title in banner and "data cut 2017-06-30" in banner
    assert html.escape(tiny.provenance_text()) in banner


def test_tabs_are_the_views_this_dataset_can_show(tiny):
    template = build_app(tiny)
    tabs = main_tabs(template)
    shown, hidden = available_views(tiny)
    assert [t.name for t in tabs] == [view.title for view in shown]
    assert all(view.unavailable_reason(tiny) is None for view in shown)
    assert set(hidden) == {view.title for view in VIEWS if view.unavailable_reason(tiny)}
    notes = "".join(str(p.object) for p in template.sidebar if isinstance(p, pn.pane.HTML))
    for title in hidden:
        assert title in notes


def test_sessions_get_their_own_store(tiny, made_stores):
    build_app(tiny), build_app(tiny)
    first, second = made_stores
    assert first is not second and first.dataset is second.dataset  # one shared dataset, a store per session
    first.sites = ["01"]
    assert second.sites == [] and len(second.subjects()) == 5 and len(first.subjects()) == 2


def test_outside_a_server_no_address_is_written(tiny, made_stores):
    """In a notebook there is no browser address: no AddressBar is built and the filters start at their defaults."""
    template = build_app(tiny)
    assert not [obj for item in template.header for obj in item.select(AddressBar)]
    (store,) = made_stores
    assert {name: getattr(store, name) for name in TrialStore.FILTERS} == {
        name: store.param[name].default for name in TrialStore.FILTERS}


def test_a_second_trial_brings_its_own_identity_target_and_visits(shared, tmp_path, made_stores):
    """The CDISC pilot with SDTM TS/TV next to its ADaM files: title, registry id, enrollment target and visit
    days come from those files, with no code that knows the trial."""
    folder = tmp_path / "pilot"
    shutil.copytree(shared("data", "external", "cdiscpilot01_adam"), folder)
    title = ("Safety and Efficacy of the Xanomeline Transdermal Therapeutic System (TTS) in Patients with Mild to "
             "Moderate Alzheimer's Disease")
    pd.DataFrame({"STUDYID": "CDISCPILOT01", "DOMAIN": "TS", "TSSEQ": 1, "TSPARMCD": ["TITLE", "PLANSUB", "ACRONYM"],
                  "TSVAL": [title, "300", "Xanomeline TTS"]}).to_csv(folder / "ts.csv", index=False)
    weeks = [0, 2, 4, 6, 8, 12, 16, 20, 24, 26]
    pd.DataFrame({"STUDYID": "CDISCPILOT01", "DOMAIN": "TV", "VISITNUM": range(len(weeks)),
                  "VISIT": [f"WEEK {w}" for w in weeks], "VISITDY": [7 * w + (w == 0) for w in weeks]}).to_csv(
        folder / "tv.csv", index=False)
    dataset = load_dataset(folder)
    template = build_app(dataset)
    assert template.title == "CDISCPILOT01 · Xanomeline TTS"
    assert html.escape(title) in str(_banner(template).object)
    assert dataset.info.visit_days == (1, 14, 28, 42, 56, 84, 112, 140, 168, 182)
    assert dataset.info.visit_names[182] == "WEEK 26"
    overview = _build_view(OverviewView, made_stores[0])[1]
    cards = "".join(str(p.object) for p in overview.select(pn.pane.HTML))
    assert f"of 300 targeted ({100 * len(dataset.randomized) / 300:.1f}%)" in cards


def test_no_code_outside_the_generator_names_a_trial():
    """Trial identity is data: the bundled trial's registry id appears only in the synthetic generator (which
    makes that trial) and in documentation strings, never in a branch."""
    package = Path(dashboard.__file__).parent
    for path in package.rglob("*.py"):
        if "synthetic" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            assert not re.search(r"(==|!=|\bin\b|\bif\b|\bcase\b).*['\"](NCT\d{8}|CDISCPILOT01)", code), (
                f"{path.relative_to(package)}:{number} branches on a trial: {line.strip()}")


class BrokenView(OverviewView):
    """A tab whose view fails to build."""

    title = "Broken"

    def __panel__(self):
        raise ValueError("column XYZ is missing")


def test_tabs_are_built_when_first_opened_and_a_broken_view_says_why(tiny, monkeypatch):
    monkeypatch.setattr("dashboard.app.VIEWS", (OverviewView, BrokenView))
    tabs = main_tabs(build_app(tiny))
    assert [t.name for t in tabs] == ["Overview", "Broken"]
    assert "Building the Broken tab" in str(tabs[1].select(pn.pane.HTML)[0].object)
    tabs.active = 1
    (alert,) = tabs[1].select(pn.pane.Alert)
    assert "Broken could not be shown." in alert.object and "column XYZ is missing" in alert.object
    tabs.active = 0
    assert isinstance(tabs[1], pn.pane.Alert)


def test_every_tab_says_how_many_of_its_records_data_checks_left_out(tmp_path):
    """A trial with an AE after death and an orphan AE row loads; the tabs reading ADAE say so."""
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
    from dashboard.views.swimmer import patient_profile

    bundled = load_bundled()
    dead = bundled.adsl.loc[bundled.adsl["DTHDT"].notna()].iloc[0]
    after_death = bundled.adae.loc[bundled.adae["USUBJID"] == dead["USUBJID"]].iloc[[0]].assign(
        ASTDT=dead["DTHDT"] + pd.Timedelta(days=3))
    write_dataset(replace(bundled, adae=pd.concat([bundled.adae, after_death], ignore_index=True)), tmp_path)
    dataset = load_dataset(tmp_path)
    profile = patient_profile(dataset, dead["USUBJID"])
    findings = profile.select(pn.widgets.Tabulator)[-1].value
    assert list(findings["Dataset"]) == ["ADAE"] and findings["Column"].iloc[0] == "ASTDT"
    assert "death" in findings["Rule"].iloc[0].lower()
    healthy = bundled.adsl.loc[bundled.adsl["DTHDT"].isna() & (bundled.adsl["RANDFL"] == "Y"), "USUBJID"].iloc[0]
    assert not any("Data checks" in str(getattr(p, "object", "")) for p in patient_profile(dataset, healthy))


def _banner(template):
    """The banner: the pane just above the tabs."""
    main = list(template.main)
    return main[main.index(main_tabs(template)) - 1]
