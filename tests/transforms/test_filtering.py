"""filter_subjects on a tiny ADSL: each filter, their combination, and empty results."""

import pandas as pd
import pytest

from dashboard.config import FILTER_DEFINITIONS
from dashboard.transforms.filtering import FilterSpec, filter_subjects, restrict_to_subjects

ADSL = pd.DataFrame({
    "USUBJID": ["1", "2", "3", "4", "5"],
    "SITEID": ["A", "A", "B", "B", "C"],
    "ARM": ["X", "Y", "X", "Y", "Screen Failure"],
    "SEX": ["F", "M", "M", "F", "F"],
    "AGE": [17.0, 30.0, 45.0, None, 60.0],
    "RANDDT": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01", None]),
    "ITTFL": ["Y", "Y", "Y", "Y", "N"],
})


def ids(spec):
    return filter_subjects(ADSL, spec)["USUBJID"].tolist()


def test_default_spec_is_the_itt_population():
    assert ids(FilterSpec()) == ["1", "2", "3", "4"]


def test_each_filter_and_their_combination():
    assert ids(FilterSpec(sites=("A",))) == ["1", "2"]
    assert ids(FilterSpec(arms=("Y",))) == ["2", "4"]
    assert ids(FilterSpec(sexes=("F",))) == ["1", "4"]
    assert ids(FilterSpec(age_range=(18, 50))) == ["2", "3"]  # missing age is outside a set range
    rng = (pd.Timestamp("2020-01-15"), pd.Timestamp("2020-03-01"))
    assert ids(FilterSpec(randomization_dates=rng)) == ["2", "3"]
    assert ids(FilterSpec(sites=("B",), sexes=("F",))) == ["4"]


def test_pre_randomization_filters_keep_screen_failures():
    spec = FilterSpec(sites=("C",), arms=("X",)).pre_randomization()
    assert ids(spec) == ["5"]


def test_no_match_is_an_empty_frame_with_columns():
    out = filter_subjects(ADSL, FilterSpec(sites=("A",), arms=("Z",)))
    assert out.empty and list(out.columns) == list(ADSL.columns)


def test_missing_column_is_a_clear_error():
    with pytest.raises(KeyError, match="AGVHDGR"):
        filter_subjects(ADSL, FilterSpec(grades=("II",)))


def test_restrict_events_to_subjects():
    ae = pd.DataFrame({"USUBJID": ["1", "3", "3", "9"], "AEDECOD": list("abcd")})
    out = restrict_to_subjects(ae, filter_subjects(ADSL, FilterSpec(arms=("X",))))
    assert out["AEDECOD"].tolist() == ["a", "b", "c"]


def test_screen_failures_keep_only_the_filters_marked_before_randomization():
    spec = FilterSpec(sites=("A",), arms=("X",), age_range=(18, 50),
                      randomization_dates=(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31")))
    before = spec.pre_randomization()
    for definition in FILTER_DEFINITIONS:
        kept = getattr(before, definition.name) == getattr(spec, definition.name)
        assert kept == definition.before_randomization or not getattr(spec, definition.name), definition.name
    assert before.population_flag is None
