"""TrialStore.from_url reopens a shared link's filters in a notebook (the dashboard's own link parser)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.links import filters_to_query
from dashboard.store import TrialStore
from tests.conftest import CONTROL, MSC, tiny_dataset


def test_a_full_link_restores_the_filters_and_ignores_other_fields():
    store = TrialStore.from_url(tiny_dataset(), "http://127.0.0.1:5006/?arms=MSC&sites=01,02&population=Safety&theme=dark")
    assert (store.arms, store.sites, store.population) == ([MSC], ["01", "02"], "Safety")
    assert list(store.subjects()["USUBJID"]) == ["S1", "S3"]  # S4 (site 02, control) and S2 are not MSC


def test_the_query_alone_round_trips_every_filter():
    dataset = tiny_dataset()
    original = TrialStore(dataset, arms=[CONTROL], sexes=["M"], age_range=(25, 50),
                          randomization_dates=(dt.date(2015, 1, 10), dt.date(2016, 9, 1)))
    query = "&".join(f"{k}={v}" for k, v in filters_to_query(original).items())
    restored = TrialStore.from_url(dataset, f"?{query}")
    assert restored.filter_spec == original.filter_spec
    assert list(restored.subjects()["USUBJID"]) == ["S4"]


def test_unknown_values_warn_like_the_dashboard_and_are_skipped():
    with pytest.warns(UserWarning, match="unknown value 'XX'"):
        store = TrialStore.from_url(tiny_dataset(), "sites=01,XX")
    assert store.sites == ["01"]
