"""Dates: SAS numbers, ISO text, DATE9, partial dates imputed and flagged, study days without day 0."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.loaders.dates import END, START, study_day, to_dates


def test_sas_numeric_dates_are_days_since_1960_and_big_numbers_are_seconds():
    conv = to_dates(pd.Series([0.0, 19725.0, 19725 * 86400.0 + 3600, None]))
    assert conv.dates.tolist()[:3] == [pd.Timestamp("1960-01-01"), pd.Timestamp("2014-01-02"), pd.Timestamp("2014-01-02")]
    assert pd.isna(conv.dates.iloc[3]) and not conv.invalid.any()


def test_text_and_objects():
    conv = to_dates(pd.Series(["2014-01-02", "2014-01-02T11:45", "02JAN2014", dt.date(2014, 1, 2), None]))
    assert conv.dates.iloc[:4].eq(pd.Timestamp("2014-01-02")).all()
    assert not conv.imputed.any()


@pytest.mark.parametrize("rule, expected", [(START, ["2014-03-01", "2014-01-01", "2016-02-01"]),
                                            (END, ["2014-03-31", "2014-12-31", "2016-02-29"])])
def test_partial_dates_imputed_by_rule_and_flagged(rule, expected):
    conv = to_dates(pd.Series(["2014-03", "2014", "2016-02", "2014-03-05"]), rule)
    assert conv.dates.iloc[:3].dt.strftime("%Y-%m-%d").tolist() == expected
    assert conv.flags.tolist()[:3] == ["D", "M", "D"] and pd.isna(conv.flags.iloc[3])


def test_impossible_dates_are_invalid_not_guessed():
    conv = to_dates(pd.Series(["2014-02-30", "UNK", "1492-10-12", "2014-05-01"]))
    assert conv.invalid.tolist() == [True, True, True, False]
    assert conv.dates.isna().tolist() == [True, True, True, False]


def test_study_day_has_no_day_zero():
    ref = pd.Series(pd.to_datetime(["2014-01-10"] * 3))
    days = study_day(pd.Series(pd.to_datetime(["2014-01-09", "2014-01-10", "2014-01-11"])), ref)
    assert days.tolist() == [-1, 1, 2]
