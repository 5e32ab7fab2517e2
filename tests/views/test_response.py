"""Response tab views without a browser: build them on the tiny trial, set store filters, read the objects."""

from __future__ import annotations


import holoviews as hv
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document

from dashboard.app import VIEWS
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.views.balance import BalanceView
from dashboard.views.response import ResponseByVisitView, ResponseView, SubgroupView, TransitionsView
from dashboard.views.survival import SurvivalView
from dashboard.views.swimmer import SwimmerView, patient_profile
from tests.conftest import TINY_ADAE, TINY_ADRS, TINY_ADSL, TINY_SITES

TINY_ADTTE = pd.DataFrame({
    "USUBJID": ["S1", "S2", "S3", "S4", "S5"] * 2,
    "PARAMCD": ["OS"] * 5 + ["CGVHD"] * 5,
    "PARAM": ["Overall survival"] * 5 + ["Chronic GVHD"] * 5,
    "AVAL": [800.0, 700, 300, 30, 10, 200, 100, 300, 30, 10],
    "CNSR": [1, 1, 1, 0, 1, 0, 0, 1, 1, 1],
    "CMPEVFL": ["N"] * 5 + ["N", "N", "N", "Y", "N"],
})
TINY_ADEX = pd.DataFrame({"USUBJID": ["S1", "S3"], "EXTRT": ["MSC", "MSC"],
                          "ASTDT": pd.to_datetime(["2015-01-11", "2016-06-16"])})


def _dataset(**tables):
    base = dict(sites=TINY_SITES.copy(), adrs=TINY_ADRS.copy(), adae=TINY_ADAE.copy(), adtte=TINY_ADTTE.copy(),
                adex=TINY_ADEX.copy())
    base.update(tables)
    return TrialDataset.create(TINY_ADSL.copy(), cutoff="2017-06-30", info=NCT02241018, **base)


@pytest.fixture
def store():
    return TrialStore(_dataset())


def _rendered(viewer):
    layout = pn.panel(viewer)
    layout.get_root(Document())
    return layout


def _texts(layout, kind=(pn.pane.Alert, pn.pane.Markdown)) -> str:
    return "\n".join(str(p.object) for p in layout.select(lambda o: isinstance(o, kind)))


def test_registered_after_arm_balance():
    assert VIEWS.index(ResponseView) == VIEWS.index(BalanceView) + 1
    assert ResponseView.title == "Response"


def test_primary_endpoint_text_and_filter_update(store):
    layout = _rendered(ResponseByVisitView(store=store))
    text = _texts(layout)
    # Day 28: MSC S1 CR + S3 PR (S5 pending at the cut); control S2 NR + S4 not assessed.
    assert "Primary endpoint" in text
    assert "2/2 (100.0%) of MSC" in text and "0/2 (0.0%) of Control" in text
    assert "1 patient(s) not yet due" in text
    store.sites = ["01"]
    text = _texts(layout)
    assert "1/1 (100.0%) of MSC" in text and "0/1 (0.0%) of Control" in text
    assert "not yet due" not in text


def test_cox_sentence_names_wald_and_efron(bundled):
    store = TrialStore(bundled)
    text = _texts(SurvivalView(store=store)._render(store.subjects(), "OS"))
    assert "Cox hazard ratio MSC vs Control: " in text and "(95% Wald CI " in text
    assert "Wald p = " in text and "Efron method for tied times" in text and "Log-rank test: p = " in text


def test_primary_endpoint_defaults_to_the_trials_primary_analysis_population(bundled):
    store = TrialStore(bundled)
    assert store.population == "ITT" and bundled.info.primary_population == "Evaluable"
    primary = [p.object for p in _rendered(ResponseByVisitView(store=store)).select(pn.pane.Alert)
               if "response-primary" in p.css_classes][0]
    heading, sensitivity = primary.split("*Sensitivity")
    assert heading.startswith("**Primary endpoint, Evaluable population (the trial's primary analysis population): "
                              "overall response (CR+PR) at Day 28.**")
    # Zhao et al. 2022: 82/99 vs 70/99, p = 0.043 in the evaluable patients (ITT: 82/101 vs 70/102, p = 0.039).
    assert "82/99 (82.8%) of MSC" in heading and "70/99 (70.7%) of Control" in heading
    assert "Pearson chi-square p = 0.043" in heading
    assert sensitivity.startswith(", ITT population (chosen in the sidebar, as the rest of this tab):*")
    assert "82/101 (81.2%) of MSC" in sensitivity and "Pearson chi-square p = 0.039" in sensitivity


def test_primary_endpoint_without_a_recorded_population_states_the_sidebars(tiny):
    from dataclasses import replace

    store = TrialStore(tiny.with_info(replace(tiny.info, primary_population=None)))
    text = _texts(_rendered(ResponseByVisitView(store=store)))
    assert ("Primary endpoint, ITT population (chosen in the sidebar; the trial's primary analysis population is "
            "not recorded)") in text
    assert "Sensitivity" not in text
    store.population = "Evaluable"
    assert "Primary endpoint, Evaluable population (chosen in the sidebar" in _texts(
        _rendered(ResponseByVisitView(store=store)))


def test_overall_table_shows_pending_and_wilson(store):
    layout = _rendered(ResponseByVisitView(store=store))
    tables = [p.object for p in layout.select(pn.pane.DataFrame)]
    table = tables[0]
    assert table.loc["Day 28", "MSC"].startswith("2/2 (100.0%) [") and table.loc["Day 28", "MSC"].endswith("; 1 pending")
    assert table.loc["Day 28", "Control"].startswith("0/2 (0.0%)")


def test_stacked_bars_share_one_legend(store):
    layout = _rendered(ResponseByVisitView(store=store))
    bars = [p.object for p in layout.select(pn.pane.HoloViews) if "STATUS" in getattr(p.object, "data", {})]
    assert len(bars) == 2 and not any(hv.Store.lookup_options("bokeh", b, "plot").kwargs.get("show_legend") for b in bars)
    legend = [p.object for p in layout.select(pn.pane.HTML) if "response-legend" in p.css_classes]
    assert len(legend) == 1 and all(f">{cat}<" in legend[0] for cat in ("CR", "PR", "SD", "NR", "No assessment", "Pending"))


def test_no_patients_message(store):
    layout = _rendered(ResponseByVisitView(store=store))
    store.arms = [NCT02241018.arm_order[0]]
    store.sites = ["02"]
    store.sexes = ["M"]
    assert "No patients match" in _texts(layout)


def test_transitions_and_subgroups_render(store):
    text = _texts(_rendered(TransitionsView(store=store)))
    assert "Rows: status at Day 7" in text
    sub = _rendered(SubgroupView(store=store))
    assert "likelihood-ratio test" in _texts(sub) and "not estimable" in _texts(sub)
    table = [p.object for p in sub.select(pn.pane.DataFrame)][0]
    # Tiny trial: 4 evaluable at Day 28, so the overall row comes first and every level (< 10 patients) is not estimable.
    assert table["Subgroup"].iloc[0] == "All patients" and table["Level"].iloc[0] == ""
    assert table[NCT02241018.arm_short_labels[NCT02241018.arm_order[0]]].iloc[0] == "2/2 (100.0%)"
    assert (table["Difference (95% CI)"].iloc[1:] == "not estimable").all()
    assert (table["p interaction"] == "").all()


def test_swimmer_profile_is_escaped_and_lanes_paginate(store):
    view = SwimmerView(store=store)
    lanes = view.lanes()
    assert len(lanes) == 5 and set(lanes["BEST"]) <= {"CR", "PR", "NR", "SD", "No assessment", "Died"}
    assert view._page(lanes, "Time on study", 1)["END"].is_monotonic_decreasing
    profile = patient_profile(store.dataset, "S3")
    text = _texts(profile, (pn.pane.HTML, pn.pane.Markdown))
    assert "People&#x27;s Hospital" in text and "People's" not in text
    # Labels for readers with the CDISC name in the tooltip; coded values in words.
    assert '<dt title="EOSSTT">End of study status</dt>' in text and "EOSSTT:" not in text
    assert '<dt title="AGVHDGR">Acute GVHD grade at entry</dt>' in text
    (events,) = [p.object for p in profile.select(pn.pane.DataFrame)]
    assert {"Response", "Exposure"} <= set(events["Event"])
    (adverse,) = profile.select(pn.widgets.Tabulator)
    assert "Sepsis" in set(adverse.value["Preferred term"])
    assert adverse.header_tooltips["Preferred term"] == "AEDECOD"


def test_swimmer_defaults_to_first_100_days_and_colours_lanes_by_arm(store):
    view = SwimmerView(store=store)
    layout = _rendered(view)
    window = [w for w in layout.select(pn.widgets.Select) if w.name == "Time window"][0]
    assert window.value == "First 100 days"
    overlay = view._plot(view.lanes(), "Arm", 1, window.value, lambda usubjid: None).object
    lanes = [el for el in overlay if isinstance(el, hv.Segments)]
    ds = store.dataset
    assert [el.label for el in lanes] == [ds.info.arm_short_labels[a] for a in ds.arms]
    assert [hv.Store.lookup_options("bokeh", el, "style").kwargs["color"] for el in lanes] == [ds.arm_colors[a] for a in ds.arms]
    assert hv.Store.lookup_options("bokeh", overlay, "plot").kwargs["xlim"][1] == pytest.approx(103)


def test_survival_uses_aalen_johansen_for_competing_events(store):
    view = SurvivalView(store=store)
    text = _texts(view._render(store.subjects(), "CGVHD"))
    assert "(Aalen-Johansen cumulative incidence), 5 patients" in text
    assert "Cause-specific log-rank test (competing events censored): p = " in text
    km_text = _texts(view._render(store.subjects(), "OS"))
    assert "Median (months, 95% CI)" in km_text
    summary = view._summary(store.subjects())
    table = [p.object for p in summary.select(pn.pane.DataFrame)][0]
    assert table.set_index("Endpoint").loc["Chronic GVHD", "Method"] == "Aalen-Johansen"
    assert table.set_index("Endpoint").loc["Overall survival", "Method"] == "Kaplan-Meier"
    methods = table.set_index("Endpoint")["HR and p"]
    assert methods["Chronic GVHD"] == "cause-specific Cox HR (Wald CI, Efron ties), cause-specific log-rank p"
    assert methods["Overall survival"] == "Cox HR (Wald CI, Efron ties), log-rank p"
    assert "HR (95% Wald CI)" in table.columns
    assert "cause-specific log-rank p" in _texts(summary) and "Efron method for tied times" in _texts(summary)


def test_without_adrs_time_to_event_leads_and_nothing_is_shown_as_unavailable():
    ds = _dataset(adrs=None)
    assert ResponseView.unavailable_reason(ds) is None
    tabs = ResponseView(store=TrialStore(ds)).__panel__()
    assert tabs._names == ["Time to event", "Swimmer plot"]


def test_unavailable_without_adrs_and_adtte():
    ds = _dataset(adrs=None, adtte=None)
    assert "ADRS" in ResponseView.unavailable_reason(ds)


def test_oncology_categories_from_pharmaverse(shared):
    from dashboard.loaders import load_dataset

    ds = load_dataset(shared("data", "external", "pharmaverse_onco_adam"))
    store = TrialStore(ds)
    layout = _rendered(ResponseByVisitView(store=store))
    assert "overall response (CR+PR)" in _texts(layout)
    bars = [p.object for p in layout.select(pn.pane.HoloViews)]
    statuses = set().union(*(set(b.data["STATUS"]) for b in bars if hasattr(b, "data") and "STATUS" in b.data))
    assert {"SD", "PD"} <= statuses


def test_swimmer_on_the_cdisc_pilot_marks_its_own_events(shared):
    from dashboard.loaders import load_dataset

    store = TrialStore(load_dataset(shared("data", "external", "cdiscpilot01_adam")))
    view = SwimmerView(store=store)
    overlay = view._plot(view.lanes(), "Arm", 1, "Whole follow-up", lambda usubjid: None).object
    markers = {el.label: len(el) for el in overlay if isinstance(el, hv.Scatter)}
    # The pilot has no ADRS or ADEX and none of the configured events: its own dermatologic events mark the lanes.
    assert markers.get("First Dermatologic Event", 0) > 0, markers
