"""FilterPanelView without a browser: widgets mirror the store both ways, count text, reset."""

from __future__ import annotations

import dataclasses

import panel as pn
import pytest

from dashboard.config import FILTER_DEFINITIONS
from dashboard.links import apply_query, filters_to_query
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.transforms.filtering import FilterSpec
from dashboard.views.filters import FilterPanelView

MSC, CONTROL = NCT02241018.arm_order


@pytest.fixture
def store(tiny):
    return TrialStore(tiny)


def widgets(layout) -> dict[str, pn.widgets.Widget]:
    return {w.name: w for w in layout.select(pn.widgets.Widget)}


def count_text(layout) -> str:
    return next(str(p.object) for p in layout.select(pn.pane.HTML) if 'patient-count' in str(p.object))


def test_one_widget_per_filter_with_readable_labels(store):
    found = widgets(FilterPanelView(store=store).__panel__())
    assert list(found) == ["Reset filters", "Site", "Arm", "Sex", "aGVHD grade at entry", "Underlying disease",
                           "Age (years)", "Randomized", "Population"]
    assert found["Site"].options == {"01 · Nanfang Hospital (Guangzhou)": "01",
                                     "02 · Peking Univ. People's Hospital (Beijing)": "02",
                                     "03 · Union Hospital (Wuhan)": "03"}
    assert found["Arm"].options == {f"{MSC} (MSC)": MSC, f"{CONTROL} (Control)": CONTROL}
    assert found["Sex"].options == {"Female": "F", "Male": "M"}
    assert found["aGVHD grade at entry"].options == {"Grade II": "II", "Grade III": "III", "Grade IV": "IV"}


def test_widgets_and_store_stay_in_step(store):
    layout = FilterPanelView(store=store).__panel__()
    found = widgets(layout)
    found["Site"].value = ["01"]
    assert store.sites == ["01"] and len(store.subjects()) == 2
    assert "<b>2</b> of 5 patients" in count_text(layout)
    store.arms = [CONTROL]
    assert found["Arm"].value == [CONTROL]
    assert "<b>1</b> of 5 patients" in count_text(layout)
    found["Population"].value = "Evaluable"
    assert "<b>1</b> of 4 patients" in count_text(layout) and "evaluable for the primary endpoint" in count_text(layout)


def test_reset_button_is_enabled_only_when_a_filter_is_set(store):
    found = widgets(FilterPanelView(store=store).__panel__())
    reset = found["Reset filters"]
    assert reset.disabled
    found["Sex"].value = ["F"]
    assert not reset.disabled
    reset.clicks += 1
    assert store.sexes == [] and found["Sex"].value == [] and reset.disabled


def test_filters_the_data_cannot_answer_are_left_out(tiny):
    adsl = tiny.adsl.drop(columns=["DIAG", "AGE"])
    found = widgets(FilterPanelView(store=TrialStore(TrialDataset.create(adsl, cutoff=tiny.cutoff))).__panel__())
    assert "Underlying disease" not in found and "Age (years)" not in found
    assert "Site" in found and found["Site"].options == {"01 · Nanfang Hospital": "01",
                                                         "02 · Peking Univ. People's Hospital": "02",
                                                         "03 · Union Hospital": "03"}


def test_the_sidebar_store_spec_and_links_all_read_the_filter_table(store):
    found = widgets(FilterPanelView(store=store).__panel__())
    assert [d.label for d in FILTER_DEFINITIONS] == [n for n in found if n not in ("Reset filters", "Population")]
    assert TrialStore.FILTERS == (*(d.name for d in FILTER_DEFINITIONS), "population")
    assert [f.name for f in dataclasses.fields(FilterSpec)] == [*(d.name for d in FILTER_DEFINITIONS), "population_flag"]
    for definition in FILTER_DEFINITIONS:
        assert store.param[definition.name].doc == definition.help


def test_a_filter_whose_column_the_trial_lacks_disappears_everywhere(tiny):
    store = TrialStore(TrialDataset.create(tiny.adsl.drop(columns=["AGVHDGR"]), cutoff=tiny.cutoff))
    assert "grades" not in {d.name for d in store.filters} and store.filter_spec.grades == ()
    found = widgets(FilterPanelView(store=store).__panel__())
    assert "aGVHD grade at entry" not in found and {"Site", "Arm", "Sex", "Underlying disease"} <= set(found)
    problems = apply_query(store, {"grades": "II", "sexes": "F"})
    assert problems == ["link filter grades: this trial has no AGVHDGR to filter on; ignored"]
    assert store.sexes == ["F"] and "grades" not in filters_to_query(store)
    assert len(store.subjects()) == 2  # S2, S3: the sex filter applies, the grade in the link does not


def test_a_column_blank_in_every_row_offers_no_filter(tiny):
    adsl = tiny.adsl.assign(DIAG=None, AGE=float("nan"))
    store = TrialStore(TrialDataset.create(adsl, cutoff=tiny.cutoff))
    assert {d.name for d in store.filters} == {"sites", "arms", "sexes", "grades", "randomization_dates"}
    assert store.age_range is None and store.filter_spec.age_range is None
    assert filters_to_query(store) == {} and len(store.subjects()) == 5
