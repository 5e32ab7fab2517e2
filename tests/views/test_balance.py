"""BalanceView without a browser: build it on a dataset, set store filters, inspect panes and exports."""


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


def table1(layout) -> pd.DataFrame:
    """The frame the Table 1 Tabulator shows."""
    return next(t for t in layout.select(pn.widgets.Tabulator) if "Statistic" in t.value.columns).value


def table1_caption(layout) -> str:
    panes = [p for p in layout.select(pn.pane.HTML) if "Table 1." in str(p.object)]
    assert len(panes) == 1
    return panes[0].object


def test_table1_column_n_follows_the_site_filter(tiny):
    store, view, layout = rendered(tiny)
    # tiny ITT: MSC = S1, S3, S5; control = S2, S4
    assert list(table1(layout).columns[2:5]) == [f"{MSC} (N = 3)", f"{CONTROL} (N = 2)", "Total (N = 5)"]
    assert "data cut 2017-06-30" in table1_caption(layout)
    store.sites = ["02"]
    assert list(table1(layout).columns[2:4]) == [f"{MSC} (N = 1)", f"{CONTROL} (N = 1)"]
    assert "2 of 5 patients" in layout[0].object and "2 of 5 patients" in table1_caption(layout)


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
    assert table1(layout)["SMD"].tolist() == ["0.830*", "", ""]
    view.threshold = 1.0
    assert table1(layout)["SMD"].tolist() == ["0.830", "", ""]
    assert "p" not in table1(layout).columns
    view.show_pvalues = True
    assert table1(layout)["p"].tolist() == ["0.400", "", ""]  # Wilcoxon rank-sum, exact for 3 vs 2


def test_exports_carry_cut_date_counts_and_escaped_text(tiny):
    adsl = tiny.adsl.copy()
    adsl["DIAG"] = adsl["DIAG"].replace({"MDS": "MDS <b>x</b>"})
    dataset = TrialDataset.create(adsl, cutoff="2017-06-30", info=NCT02241018)
    store, view, layout = rendered(dataset)
    downloads = {d.filename: d for d in layout.select(pn.widgets.FileDownload)}
    csv = downloads["NCT02241018_table1_cut2017-06-30.csv"].callback().getvalue()
    lines = csv.splitlines()
    assert lines[:3] == ["# Trial: NCT02241018: " + NCT02241018.title, "# Table: Table 1", "# Data cut: 2017-06-30"]
    assert "# Population: ITT population, 5 of 5 patients" in lines
    frame = pd.read_csv(pd.io.common.StringIO(csv), comment="#")
    assert list(frame.columns[:4]) == ["Variable", "Statistic", f"{MSC} (N = 3)", f"{CONTROL} (N = 2)"]
    assert "MDS <b>x</b>" in set(frame["Statistic"])  # files hold the text as written
    assert "NCT02241018_table1_cut2017-06-30.xlsx" in downloads
    doc = downloads["NCT02241018_table1_cut2017-06-30.html"].callback().getvalue()
    assert doc.startswith("<!DOCTYPE html>") and "MDS &lt;b&gt;x&lt;/b&gt;" in doc and "<b>x</b>" not in doc
    assert "data cut 2017-06-30" in doc


def test_allocation_and_strata_panes(tiny):
    store, view, layout = rendered(tiny)
    assert view.factors == ["SITEID"]  # STRATGR is absent from the tiny trial
    sites, strata = [t for t in layout.select(pn.widgets.Tabulator) if "Statistic" not in t.value.columns]
    assert sites.value.empty and strata.value.empty  # hidden sub-tabs: no work yet
    layout[3].active = 2  # open "Allocation"
    # Site 03 has one MSC patient and no control one: a difference of 1 that 1 patient cannot avoid.
    assert sites.value[["Site", MSC, CONTROL, "Total", "Ratio", "Difference"]].values.tolist() == [
        ["01", 1, 1, 2, "1:1", 0], ["02", 1, 1, 2, "1:1", 0], ["03", 1, 0, 1, "1:0", 1]]
    assert set(sites.value["Largest avoidable imbalance"]) == {""}
    view.factors = ["SITEID", "SEX"]
    assert strata.value.empty
    layout[3].active = 3  # open "Stratification factors"
    assert list(strata.value.columns[:2]) == ["Site", "Sex"]
    assert strata.value[["Total"]].sum().item() == 5
    over_time = view._drift(store.subjects(), [MSC, CONTROL])
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
    frame = table1(layout)
    for arm, n in (("Placebo", 86), ("Xanomeline High Dose", 84), ("Xanomeline Low Dose", 84)):
        assert f"{arm} (N = {n})" in frame.columns
    assert "Race" in set(frame["Variable"])
    notes = " ".join(str(p.object) for p in layout.select(pn.pane.HTML))
    assert "largest over all pairs of arms" in notes
    assert view._strata_note().startswith("The protocol's stratification factors are not recorded")
    plot = view._love(store.subjects(), store.dataset.arms, ["AGE", "SEX"], 0.1)
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
    frame = table1(layout)
    liver = frame[frame["Variable"] == variable_label("LIVERFL")]
    assert len(liver) == 1  # one row: no "Missing" row for the blanks
    row = liver.iloc[0]
    assert (row["Statistic"], row[f"{MSC} (N = 3)"], row[f"{CONTROL} (N = 2)"]) == ("Yes (Y; blank = No)", "2 (66.7%)",
                                                                                  "1 (50.0%)")
    p1, p2 = 2 / 3, 1 / 2
    smd = (p1 - p2) / ((p1 * (1 - p1) + p2 * (1 - p2)) / 2) ** 0.5
    assert row["SMD"] == f"{smd:.3f}*"  # 0.343 > 0.1: flagged, no longer 0.000
    assert (row["Test"], row["p"]) == ("Fisher's exact", "1.000")  # the flag's 2x2 table
    assert "Wilcoxon rank-sum" in set(frame["Test"])  # AGE
