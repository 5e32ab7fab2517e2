"""BalanceView without a browser: build it on a dataset, set store filters, inspect panes and exports."""

import html

import holoviews as hv
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document

from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.transforms.balance import variable_label
from dashboard.views.balance import BalanceView
from tests.conftest import shared_path

MSC, CONTROL = NCT02241018.arm_order


def rendered(dataset, **params):
    store = TrialStore(dataset)
    view = BalanceView(store=store, **params)
    layout = view.__panel__()
    layout.get_root(Document())  # render, so that updates flow as in a served session
    return store, view, layout


def table1_text(layout) -> str:
    panes = [p for p in layout.select(pn.pane.HTML) if "Table 1." in str(p.object)]
    assert len(panes) == 1
    return panes[0].object


def test_table1_column_n_follows_the_site_filter(tiny):
    store, view, layout = rendered(tiny)
    text = table1_text(layout)
    # tiny ITT: MSC = S1, S3, S5; control = S2, S4
    assert f"{MSC}<br>(N = 3)" in text and f"{CONTROL}<br>(N = 2)" in text and "Total<br>(N = 5)" in text
    assert "data cut 2017-06-30" in text
    store.sites = ["02"]
    text = table1_text(layout)
    assert f"{MSC}<br>(N = 1)" in text and f"{CONTROL}<br>(N = 1)" in text
    assert "2 of 5 patients" in layout[0].object


def test_empty_filters_show_the_message_instead_of_the_table(tiny):
    store, view, layout = rendered(tiny)
    alert = layout[2]
    assert not alert.visible
    store.sites = ["03"]
    store.arms = [CONTROL]  # site 03 has no control patient
    assert alert.visible
    assert not layout[3].visible  # the tabs with Table 1, plots and strata


def test_threshold_and_pvalue_toggle(tiny):
    store, view, layout = rendered(tiny, variables=["AGE"])
    # AGE: MSC 30/52/60 (mean 47.33, SD 15.53), control 45/25 (mean 35, SD 14.14): SMD = 0.830
    assert "0.830*" in table1_text(layout)
    view.threshold = 1.0
    text = table1_text(layout)
    assert "0.830<" in text and "0.830*" not in text
    assert '<th scope="col">p</th>' not in text
    view.show_pvalues = True
    assert '<th scope="col">p</th>' in table1_text(layout)


def test_exports_carry_cut_date_counts_and_escaped_text(tiny):
    adsl = tiny.adsl.copy()
    adsl["DIAG"] = adsl["DIAG"].replace({"MDS": "MDS <b>x</b>"})
    dataset = TrialDataset.create(adsl, cutoff="2017-06-30", info=NCT02241018)
    store, view, layout = rendered(dataset)
    csv = view._csv().getvalue()
    assert csv.startswith("# Table 1. Baseline characteristics by arm, NCT02241018 (ITT population, 5 of 5 patients)")
    assert "data cut 2017-06-30" in csv.splitlines()[0]
    frame = pd.read_csv(pd.io.common.StringIO(csv), comment="#")
    assert list(frame.columns[:4]) == ["Variable", "Statistic", f"{MSC} (N = 3)", f"{CONTROL} (N = 2)"]
    doc = view._html().getvalue()
    assert doc.startswith("<!DOCTYPE html>") and "MDS &lt;b&gt;x&lt;/b&gt;" in doc and "<b>x</b>" not in doc
    assert view._filename("csv") == "NCT02241018_table1_cut2017-06-30.csv"


def test_allocation_and_strata_panes(tiny):
    store, view, layout = rendered(tiny)
    assert view.factors == ["SITEID"]  # STRATGR is absent from the tiny trial
    strata = [p for p in layout.select(pn.pane.HTML) if "Ratio" in str(p.object)]
    assert strata and all("<td>01</td>" in p.object for p in strata)
    view.factors = ["SITEID", "SEX"]
    sex_head = '<th scope="col">Sex</th>'
    assert not any(sex_head in p.object for p in layout.select(pn.pane.HTML))  # hidden sub-tab: no work yet
    layout[3].active = 3  # open "Stratification factors"
    assert any(sex_head in p.object for p in layout.select(pn.pane.HTML))
    over_time = view._drift((store.subjects(), [MSC, CONTROL]))
    assert isinstance(over_time, hv.Overlay)
    curve = over_time.get(0)
    assert curve.dimension_values(1).tolist() == [1, 0, 1, 0, 1]  # MSC, CTRL, MSC, CTRL, MSC


@pytest.fixture(scope="module")
def pilot():
    path = shared_path("data", "external", "cdiscpilot01_adam", "adsl.xpt")
    import pyreadstat

    adsl, _ = pyreadstat.read_xport(str(path))
    adsl = adsl.replace("", pd.NA).assign(RANDFL="Y", RANDDT=pd.to_datetime(adsl["TRTSDT"]))
    keep = ["STUDYID", "USUBJID", "SITEID", "ARM", "RANDFL", "ITTFL", "SAFFL", "EFFFL", "RANDDT",
            "AGE", "AGEGR1", "SEX", "RACE", "ETHNIC", "BMIBL", "WEIGHTBL", "HEIGHTBL"]
    return TrialDataset.create(adsl[keep], cutoff="2015-01-01")


def test_three_arm_cdisc_pilot(pilot):
    store, view, layout = rendered(pilot)
    text = table1_text(layout)
    for arm, n in (("Placebo", 86), ("Xanomeline High Dose", 84), ("Xanomeline Low Dose", 84)):
        assert f"{arm}<br>(N = {n})" in text
    assert ">Race<" in text and "largest over all pairs of arms" in text
    assert view._strata_note().startswith("The protocol's stratification factors are not recorded")
    plot = view._love((store.subjects(), store.dataset.arms, ["AGE", "SEX"], 0.1))
    assert len(plot) == 4  # one layer per pair of arms (3) + the threshold line
    assert sorted(len(layer) for layer in list(plot)[:3]) == [2, 2, 2]  # AGE and SEX in each


def test_every_sub_tab_renders_and_follows_filters(tiny):
    store, view, layout = rendered(tiny)
    tabs = layout[3]
    assert list(tabs._names) == ["Table 1", "Love plot", "Allocation", "Stratification factors"]
    for active in range(len(tabs)):
        tabs.active = active  # renders the plots of that sub-tab into the document
        store.sites = ["01", "02"]
        store.arms = [MSC]  # one arm: no pair of arms, SMDs undefined
        view.variables = []
        view.factors = []
        store.reset()
        view.variables = ["AGE", "SEX"]
        view.factors = ["SITEID"]
    plots = [p for p in layout.select(pn.pane.HoloViews)]
    assert len(plots) == 3 and all(p._plots for p in plots)


def test_plots_follow_filters_only_while_their_sub_tab_is_shown(tiny):
    store, view, layout = rendered(tiny)
    tabs = layout[3]
    tabs.active = 2  # Allocation: site bars, site table, cumulative difference
    bars = layout.select(pn.pane.HoloViews)[1].object
    assert sorted(bars.last.data["Site"].unique()) == ["01", "02", "03"]
    store.sites = ["02"]
    assert sorted(bars.last.data["Site"].unique()) == ["02"]
    tabs.active = 0
    store.sites = ["01"]
    assert sorted(bars.last.data["Site"].unique()) == ["02"]  # hidden: not redrawn
    tabs.active = 2
    assert sorted(bars.last.data["Site"].unique()) == ["01"]  # brought up to date when shown


def test_table1_reads_an_adam_y_blank_flag_and_names_each_test(tiny):
    # LIVERFL 'Y' or blank: MSC S1, S3 of S1/S3/S5 (2/3); control S4 of S2/S4 (1/2). Blank is 'No'.
    adsl = tiny.adsl.assign(LIVERFL=pd.array(["Y", None, "Y", "Y", None, None], dtype="string"))
    dataset = TrialDataset.create(adsl, cutoff=tiny.cutoff, info=tiny.info)
    store, view, layout = rendered(dataset, variables=["LIVERFL", "AGE"], show_pvalues=True)
    text = table1_text(layout)
    assert "<td>Yes (Y; blank = No)</td><td class=\"num\">2 (66.7%)</td><td class=\"num\">1 (50.0%)</td>" in text
    label = html.escape(variable_label("LIVERFL"))
    assert f'<th scope="row" rowspan="1">{label}</th>' in text  # one row: no "Missing" row for the blanks
    p1, p2 = 2 / 3, 1 / 2
    smd = (p1 - p2) / ((p1 * (1 - p1) + p2 * (1 - p2)) / 2) ** 0.5
    assert f">{smd:.3f}*<" in text  # 0.343 > 0.1: flagged, no longer 0.000
    assert '<th scope="col">Test</th>' in text
    assert '<td rowspan="1">Fisher&#x27;s exact</td>' in text  # the flag's 2x2 table (p = 1.000)
    assert "Wilcoxon rank-sum</td>" in text  # AGE
