"""The per-session store without a browser: filters narrow the data, reset, summary, links, isolation."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from dashboard.links import apply_query, filters_to_query
from dashboard.store import MEMO_ENTRIES, TrialStore
from dashboard.synthetic.calibration import NCT02241018
from dashboard.transforms.filtering import filter_subjects

MSC, CONTROL = NCT02241018.arm_order


def ids(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["USUBJID"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["S1", "S2", "S3", "S4", "S5"]),
        ({"sites": ["01"]}, ["S1", "S2"]),
        ({"arms": [MSC]}, ["S1", "S3", "S5"]),
        ({"sites": ["02"], "arms": [MSC]}, ["S3"]),
        ({"sexes": ["F"]}, ["S2", "S3"]),
        ({"grades": ["III", "IV"]}, ["S2", "S3", "S5"]),
        ({"diagnoses": ["ALL"]}, ["S2", "S5"]),
        ({"age_range": (25, 35)}, ["S1", "S4"]),
        ({"randomization_dates": (dt.date(2015, 1, 10), dt.date(2015, 12, 31))}, ["S1", "S2"]),
        ({"population": "Safety"}, ["S1", "S2", "S3", "S5"]),
        ({"population": "Evaluable", "sexes": ["M"]}, ["S1", "S5"]),
    ],
)
def test_filters_narrow_the_subjects(tiny, filters, expected):
    store = TrialStore(tiny, **filters)
    assert ids(store.subjects()) == expected


def test_screened_ignores_arm_and_keeps_screen_failures(tiny):
    store = TrialStore(tiny, sites=["03"], arms=[CONTROL])
    assert ids(store.screened()) == ["S5", "SF1"]
    assert ids(store.subjects()) == []


def test_event_tables_follow_the_filters(tiny):
    store = TrialStore(tiny, arms=[MSC])
    assert sorted(store.table("adae")["AEDECOD"]) == ["Nausea", "Pneumonia", "Sepsis"]
    store.sites = ["02"]
    assert list(store.table("adae")["AEDECOD"]) == ["Sepsis"]
    assert store.table("adtte") is None


def test_summary_counts_the_population(tiny):
    store = TrialStore(tiny)
    assert store.summary() == "5 of 5 patients"
    store.sites = ["01", "03"]
    assert store.summary() == "3 of 5 patients"
    store.population = "Evaluable"
    assert store.summary() == "3 of 4 patients"


def test_empty_selection_is_an_empty_frame_not_an_error(tiny):
    store = TrialStore(tiny, sites=["03"], arms=[CONTROL])
    assert store.subjects().empty and "USUBJID" in store.subjects().columns
    assert store.summary() == "0 of 5 patients"
    assert store.table("adae").empty


def test_reset_restores_every_default(tiny):
    store = TrialStore(tiny)
    defaults = {name: getattr(store, name) for name in TrialStore.FILTERS}
    store.param.update(sites=["02"], arms=[CONTROL], sexes=["M"], grades=["II"], diagnoses=["MDS"],
                       age_range=(25, 30), population="Safety",
                       randomization_dates=(dt.date(2016, 1, 1), dt.date(2016, 12, 31)))
    assert store.subjects().empty
    store.reset()
    assert {name: getattr(store, name) for name in TrialStore.FILTERS} == defaults
    assert len(store.subjects()) == 5


def test_reactive_subjects_follow_the_filters(tiny):
    store = TrialStore(tiny)
    assert len(store.filtered_subjects.rx.value) == 5
    store.arms = [CONTROL]
    assert ids(store.filtered_subjects.rx.value) == ["S2", "S4"]


def test_two_stores_on_one_dataset_are_independent(tiny):
    first, second = TrialStore(tiny), TrialStore(tiny)
    first.sites = ["01"]
    assert ids(first.subjects()) == ["S1", "S2"]
    assert len(second.subjects()) == 5 and second.sites == []
    second.population = "Evaluable"
    assert first.population == "ITT"


def test_filtering_never_modifies_the_dataset(tiny):
    before = {name: df.copy() for name, df in tiny.tables().items()}
    store = TrialStore(tiny, sites=["01"], arms=[MSC], age_range=(26, 40))
    store.subjects(), store.screened(), store.table("adae"), store.table("adrs")
    store.reset()
    for name, df in tiny.tables().items():
        pd.testing.assert_frame_equal(df, before[name])


def test_default_filters_make_an_empty_link(tiny):
    assert filters_to_query(TrialStore(tiny)) == {}


def test_link_round_trip_reopens_the_same_filters(tiny):
    store = TrialStore(tiny, sites=["01", "03"], arms=[MSC], sexes=["M"], grades=["II", "III"],
                       diagnoses=["AML"], age_range=(26, 55), population="Evaluable",
                       randomization_dates=(dt.date(2015, 1, 10), dt.date(2016, 12, 31)))
    query = filters_to_query(store)
    assert query["arms"] == "MSC" and query["sites"] == "01,03"
    assert query["randomization_dates"] == "2015-01-10..2016-12-31"
    reopened = TrialStore(tiny)
    assert apply_query(reopened, query) == []
    assert reopened.filter_spec == store.filter_spec
    assert ids(reopened.subjects()) == ["S1"]


def test_link_accepts_full_arm_names_and_reports_unknown_values(tiny):
    store = TrialStore(tiny)
    problems = apply_query(store, {"arms": f"{CONTROL},Placebo", "sites": "02,99", "age_range": "10-20",
                                   "population": "PP", "theme": "dark"})
    assert store.arms == [CONTROL] and store.sites == ["02"]
    assert ids(store.subjects()) == ["S4"]
    assert len(problems) == 4
    assert any("'Placebo'" in p for p in problems) and any("'99'" in p for p in problems)
    assert any("age_range" in p for p in problems) and any("'PP'" in p for p in problems)


def test_bundled_trial_counts_every_randomized_patient(bundled, published):
    store = TrialStore(bundled)
    randomized = published("randomized")
    assert store.summary() == f"{randomized} of {randomized} patients"
    store.arms = [bundled.arms[0]]
    assert len(store.subjects()) == published("randomized", "MSC")


def test_counts_are_the_filtered_and_all_patients_of_the_population(tiny):
    store = TrialStore(tiny, sites=["01", "03"])
    assert store.counts() == (3, 5) and store.counts().shown == 3 and store.counts().total == 5
    store.population = "Evaluable"
    assert store.counts() == (len(store.subjects()), 4)


def test_memo_computes_once_per_filter_spec_and_key(tiny):
    store = TrialStore(tiny)
    calls = []

    def compute(spec):
        calls.append(spec)
        return len(filter_subjects(tiny.adsl, spec))

    assert store.memo("n", compute) == 5 and store.memo("n", compute) == 5
    store.sites = ["01"]
    assert store.memo("n", compute) == 2
    store.sites = []
    assert store.memo("n", compute) == 5  # back to a spec seen before: no recomputation
    assert len(calls) == 2 and calls[0] == store.filter_spec
    assert store.memo("other key", compute) == 5 and len(calls) == 3


def test_memo_drops_the_least_recently_used_values(tiny):
    store = TrialStore(tiny)
    for i in range(MEMO_ENTRIES + 1):
        store.memo(i, lambda spec, value=i: value)
    assert len(store._memo) == MEMO_ENTRIES
    assert store.memo(0, lambda spec: "recomputed") == "recomputed"


def test_subjects_in_another_population_keep_every_other_filter(tiny):
    store = TrialStore(tiny, sexes=["M"])
    assert ids(store.subjects_in("Evaluable")) == ["S1", "S5"]
    assert ids(store.subjects_in("ITT")) == ids(store.subjects())
    assert store.population == "ITT"


def test_subjects_at_every_site_ignore_only_the_site_filter(tiny):
    store = TrialStore(tiny, sites=["01"], arms=[MSC])
    assert ids(store.subjects()) == ["S1"]
    assert ids(store.subjects_at_every_site()) == ["S1", "S3", "S5"]


def test_dataset_arms_scan_adsl_once(tiny):
    dataset = replace(tiny)
    first = dataset.arms
    first.append("changed by a caller")
    dataset.arm_colors.clear()
    assert dataset.arms == [MSC, CONTROL] and list(dataset.arm_colors) == [MSC, CONTROL]
    assert dataset._arm_colors is dataset._arm_colors
