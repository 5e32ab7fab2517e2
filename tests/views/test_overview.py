"""OverviewView without a browser: build it on the tiny trial, change the store, read the panes."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import pytest

from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.views.overview import OverviewView
from dashboard.views.sites import OTHER_SITES

MSC, CONTROL = NCT02241018.arm_order


def html_text(layout) -> str:
    """The markup of every HTML pane currently in the layout."""
    return "\n".join(str(p.object) for p in layout.select(pn.pane.HTML))


def table(layout, first_column: str) -> pd.DataFrame:
    """The frame of the Tabulator whose second column is `first_column` (indexed by arm)."""
    frame = next(t.value for t in layout.select(pn.widgets.Tabulator) if t.value.columns[1:2].tolist() == [first_column])
    return frame.set_index("Arm")


@pytest.fixture
def store(tiny):
    return TrialStore(tiny)


def test_overview_shows_counts_with_denominators(store):
    layout = OverviewView(store=store).__panel__()
    text = html_text(layout)
    assert '<div class="label">Randomized</div><div class="value">5</div>' in text
    assert "of 200 targeted (2.5%)" in text
    assert table(layout, "Patients").loc[MSC].tolist() == ["3 (60.0%)", "1/3 (33.3%)", "1/3 (33.3%)", "1/3 (33.3%)",
                                                           "0/3 (0.0%)"]
    # Day 28: S1, S2, S3 evaluable and due and assessed; S5 not yet due (randomized 10 days before the cut).
    assert table(layout, "Evaluable").loc["All arms"].tolist() == [4, "3/3 (100.0%)", 0, 0, 1]
    # Serious AEs: S1 and S3 (MSC) of 4 safety patients.
    assert table(layout, "Safety population").loc["All arms"].tolist() == [4, "2/4 (50.0%)", 2]


def test_overview_follows_the_store_filters(store):
    layout = OverviewView(store=store).__panel__()
    store.arms = [CONTROL]
    text = html_text(layout)
    assert '<div class="label">Randomized</div><div class="value">2</div>' in text
    assert "of 5 randomized (40.0%); target 200" in text
    assert '<div class="label">Died</div><div class="value">1</div><div class="detail">of 2 patients (50.0%)' in text
    store.param.update(arms=[], sites=["02"])
    serious = table(layout, "Safety population")
    assert serious.loc[MSC].tolist() == [1, "1/1 (100.0%)", 1]  # S3's serious event
    assert serious.loc[CONTROL].tolist() == [0, "0/0", 0]  # S4 never treated


def test_overview_shows_no_patients_state_for_an_empty_selection(store):
    layout = OverviewView(store=store).__panel__()
    alert, content = layout.objects
    assert not alert.visible and content.visible
    store.param.update(sites=["03"], arms=[CONTROL])
    assert alert.visible and not content.visible
    assert "No patients match" in alert.object
    pn.panel(OverviewView(store=store)).get_root()  # a session opened on the empty selection renders too
    store.reset()
    assert not alert.visible and content.visible


def test_overview_explains_missing_tables(tiny):
    bare = TrialDataset.create(tiny.adsl.copy(), cutoff=tiny.cutoff, info=tiny.info)
    text = html_text(OverviewView(store=TrialStore(bare)).__panel__())
    assert "no response assessments (ADRS)" in text
    assert "no adverse events (ADAE)" in text


def test_overview_escapes_text_from_the_data(tiny):
    adsl = tiny.adsl.copy()
    adsl["ARM"] = adsl["ARM"].astype(object).replace({MSC: "<b>Arm A</b>"})
    dataset = TrialDataset.create(adsl, cutoff=tiny.cutoff, info=tiny.info, adae=tiny.adae.copy())
    layout = OverviewView(store=TrialStore(dataset)).__panel__()
    text = html_text(layout)
    assert "<b>Arm A</b>" not in text
    # Table cells are Tabulator's plain text (escaped by Tabulator): the frame holds the name as written.
    assert "<b>Arm A</b>" in table(layout, "Patients").index


def test_overview_site_chart_lists_the_largest_site_on_top_and_a_click_filters_every_tab(store):
    layout = OverviewView(store=store).__panel__()
    layout.get_root()
    (plot,) = layout.select(pn.pane.HoloViews)
    bars = plot.object[()]
    # Bars are drawn bottom-up: the last value is the top bar (largest site, ties by site id); whole
    # institution names, never cut, the city in the hover text.
    assert bars.get_dimension("Site").values == [
        "03 · Union Hospital", "02 · Peking Univ. People's Hospital", "01 · Nanfang Hospital"]
    assert bars.data.groupby("Site")["Patients"].sum().tolist() == [2, 2, 1]
    assert "01 · Nanfang Hospital (Guangzhou)" in set(bars.data["Name"])
    tap = next(s for s in hv.streams.Stream.registry.get(plot.object, []) if isinstance(s, hv.streams.Tap))
    tap.event(x=1, y="03 · Union Hospital")
    assert store.sites == ["03"]  # the same as a click in Enrollment: a global filter
    bars = plot.object[()].data
    assert set(bars["SITEID"]) == {"01", "02", "03"}  # every site stays clickable, the others faded
    assert bars.loc[bars["SITEID"] != "03", "Arm"].str.endswith(OTHER_SITES).all()
    tap.event(x=1, y="03 · Union Hospital")
    assert store.sites == []


def test_trial_without_a_primary_visit_says_so_instead_of_day_none(tiny):
    from dataclasses import replace

    layout = OverviewView(store=TrialStore(tiny.with_info(replace(tiny.info, primary_visit_day=None)))).__panel__()
    text = html_text(layout)
    assert "visit not configured" in text and "day None" not in text


def test_overview_reads_adam_y_blank_flags_and_names_the_ae_definition(tiny):
    # ADaM flags: 'Y' or blank. S4 died; S1's serious pneumonia is not treatment-emergent (blank TRTEMFL).
    adsl = tiny.adsl.assign(DTHFL=pd.array([None, None, None, "Y", None, None], dtype="string"))
    adae = tiny.adae.assign(TRTEMFL=pd.array([None, "Y", "Y", "Y"], dtype="string"))
    dataset = TrialDataset.create(adsl, cutoff=tiny.cutoff, info=tiny.info, adrs=tiny.adrs.copy(), adae=adae)
    layout = OverviewView(store=TrialStore(dataset)).__panel__()
    text = html_text(layout)
    assert '<div class="label">Died</div><div class="value">1</div><div class="detail">of 5 patients (20.0%)' in text
    assert "Serious adverse events up to 2017-06-30: treatment-emergent AEs (as flagged in the data)" in text
    assert table(layout, "Safety population").loc["All arms"].tolist() == [4, "1/4 (25.0%)", 1]  # S3 only
    # The day-28 visit is due once its protocol window (28 +/- 1 days) has closed.
    assert "day 28 to day 29 (randomization = day 1), has closed by the data cut" in text


def test_overview_without_a_treatment_emergent_flag_says_it_counts_every_serious_event(store):
    text = html_text(OverviewView(store=store).__panel__())
    assert "Serious adverse events up to 2017-06-30: all recorded AEs (the data have no treatment-emergent flag" in text
