"""What each role's session is built with (no browser): tabs, arm filter, pooled data, listings,
profiles, data downloads, the Audit tab, and the audit of tabs, filters and exports."""

from __future__ import annotations

import json
import re

import panel as pn
import pytest

from dashboard.app import VIEWS, available_views, build_app
from dashboard.auth.audit import AuditLog, SessionAudit
from dashboard.auth.roles import AUDIT_TAB, ROLES
from dashboard.model.pooling import pooled
from dashboard.store import TrialStore
from dashboard.views.downloads import DataDownloadView
from tests.conftest import main_tabs

PATIENT_LEVEL_TEXT = ("Per-patient adverse events", "Event listing", "Swimmer plot", "Patient profile")


def tab_titles(store: TrialStore) -> list[str]:
    """The session's tab titles (the app keeps the store's tab choices equal to the tabs built)."""
    return list(store.param.tab.objects)


def open_every_tab(template) -> pn.Tabs:
    tabs = main_tabs(template)
    for index in range(len(tabs)):
        tabs.active = index
    return tabs


def texts(component) -> str:
    """Every text, name, label and title in a component tree (what the document would carry)."""
    parts = []
    for obj in component.select(lambda o: True):
        for attr in ("name", "label", "title", "object", "placeholder"):
            value = getattr(obj, attr, None)
            if isinstance(value, str):
                parts.append(value)
    return "\n".join(parts)


@pytest.fixture
def audit(tmp_path, tiny):
    return SessionAudit(AuditLog(tmp_path / "audit.jsonl", data_cut="2017-06-30"), "alice", "closed", "s-1")


def test_role_tab_titles_name_real_views():
    titles = {view.title for view in VIEWS} | {AUDIT_TAB}
    for role in ROLES.values():
        assert set(role.tabs or ()) <= titles, role.name


@pytest.mark.parametrize("name", list(ROLES))
def test_each_role_gets_only_its_tabs(tiny, name):
    role = ROLES[name]
    shown, _ = available_views(tiny, role)
    store = TrialStore(tiny)
    template = build_app(tiny, store=store, role=role)
    assert tab_titles(store) == [view.title for view in shown] and len(main_tabs(template)) == len(shown)
    assert all(role.allows_tab(title) for title in tab_titles(store))
    if role.tabs is None:
        assert tab_titles(store) == [view.title for view in available_views(tiny)[0]]


def test_the_open_role_sees_pooled_figures_without_arm_filter_listings_or_profiles(tiny):
    data = pooled(tiny)
    store = TrialStore(data)
    template = build_app(data, store=store, role=ROLES["open"])
    assert data.arms == ["All patients"] or len(data.arms) == 1
    assert store.param.arms.objects == []
    tabs = open_every_tab(template)
    sidebar = pn.Column(*template.sidebar)
    assert "Arm" not in [w.name for w in sidebar.select(pn.widgets.MultiChoice)]
    shown = texts(tabs) + texts(sidebar)
    for text in PATIENT_LEVEL_TEXT:
        assert text not in shown
    for arm in tiny.arms:
        assert arm not in shown
    assert not sidebar.select(DataDownloadView) and not tabs.select(pn.widgets.AutocompleteInput)
    assert "Download meeting pack" in [b.label for b in sidebar.select(pn.widgets.Button)]


def test_the_open_roles_pack_is_pooled_and_lists_no_patient(tiny):
    from dashboard.report.pack import pack_html
    from dashboard.report.sections import NO_LISTINGS

    def ids_in(html):
        return [s for s in tiny.adsl["USUBJID"] if re.search(rf"\b{re.escape(s)}\b", html)]

    open_pack = pack_html(pooled(tiny), sections=["safety", "quality"], listings=False)
    assert ids_in(open_pack) == [] and NO_LISTINGS in open_pack and "OPEN</span> REPORT" in open_pack
    assert ids_in(pack_html(pooled(tiny), sections=["safety", "quality"]))  # listings name patients


def test_the_closed_role_sees_listings_and_profiles_but_no_data_downloads(tiny):
    template = build_app(tiny, role=ROLES["closed"])
    shown = texts(open_every_tab(template))
    assert "Per-patient adverse events" in shown and "Event listing" in shown
    sidebar = pn.Column(*template.sidebar)
    assert "Arm" in [w.name for w in sidebar.select(pn.widgets.MultiChoice)]
    assert [w.label for w in sidebar.select(pn.widgets.FileDownload)] == ["Save meeting pack"]  # no data downloads


def test_the_analyst_downloads_the_filtered_data_with_cut_and_filters(tiny, audit):
    store = TrialStore(tiny)
    template = build_app(tiny, store=store, role=ROLES["analyst"], audit=audit)
    store.sites = ["01"]
    downloads = {d.label: d for d in pn.Column(*template.sidebar).select(pn.widgets.FileDownload)}
    assert set(downloads) == {"Subjects (ADSL)", "Adverse events (ADAE)", "Responses (ADRS)", "Save meeting pack"}
    text = downloads["Subjects (ADSL)"].callback().getvalue()
    assert "# Data cut 2017-06-30" in text and "sites=01" in text
    rows = [line for line in text.splitlines() if not line.startswith("#")][1:]
    assert sorted(r.split(",")[1] for r in rows) == ["S1", "S2"]
    downloads["Adverse events (ADAE)"]._clicks += 1
    last = json.loads(audit.log.path.read_text().splitlines()[-1])
    assert last["event"] == "export" and last["file"] == downloads["Adverse events (ADAE)"].filename
    downloads["Save meeting pack"]._clicks += 1  # the pack is audited as every other export
    last = json.loads(audit.log.path.read_text().splitlines()[-1])
    assert last["event"] == "export" and last["file"] == downloads["Save meeting pack"].filename


def test_the_data_manager_sees_data_quality_and_the_audit_trail_only(tiny, audit):
    audit.log.record("sign-in-failed", user="mallory", role=None)
    role = ROLES["data-manager"]
    store = TrialStore(tiny)
    template = build_app(tiny, store=store, role=role, audit=SessionAudit(audit.log, "dora", role.name, "s-2"))
    assert tab_titles(store) == ["Enrollment", "Data quality", AUDIT_TAB]
    tabs = open_every_tab(template)
    (table,) = [t for t in tabs.select(pn.widgets.Tabulator) if t.name == "audit-trail"]
    assert "mallory" in set(table.value["user"]) and "sign-in-failed" in set(table.value["event"])


def test_tabs_filters_and_exports_are_audited(tiny, audit):
    store = TrialStore(tiny)
    template = build_app(tiny, store=store, role=ROLES["closed"], audit=audit)
    tabs = main_tabs(template)
    tabs.active = tab_titles(store).index("Adverse events")
    store.sites = ["02"]
    download = tabs[tabs.active].select(pn.widgets.FileDownload)[0]  # the incidence table's CSV
    download._clicks += 1
    events = [json.loads(line) for line in audit.log.path.read_text().splitlines()]
    assert [e["event"] for e in events] == ["session-start", "tab-opened", "filters-applied", "export"]
    assert events[1]["tab"] == "Adverse events" and events[2]["filters"] == {"sites": "02"}
    assert events[3]["file"] == download.filename
    assert all(e["user"] == "alice" and e["session"] == "s-1" and e["data_cut"] == "2017-06-30" for e in events)
