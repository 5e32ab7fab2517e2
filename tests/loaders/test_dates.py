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


def test_yyyymmdd_numbers_and_text_are_calendar_dates_not_sas_days():
    numbers = to_dates(pd.Series([20140902.0, 20141231.0, None]))
    assert numbers.dates.iloc[:2].tolist() == [pd.Timestamp("2014-09-02"), pd.Timestamp("2014-12-31")]
    assert numbers.format == "YYYYMMDD" and "YYYYMMDD" in numbers.note and numbers.noted.tolist() == [True, True, False]
    text = to_dates(pd.Series(["20140902", "20141301", "2014-09-03"]))
    assert text.dates.iloc[0] == pd.Timestamp("2014-09-02") and text.dates.iloc[2] == pd.Timestamp("2014-09-03")
    assert text.invalid.tolist() == [False, True, False]  # month 13 is a bad date in a YYYYMMDD column, not 1960


def test_a_column_of_sas_day_numbers_is_not_taken_for_yyyymmdd():
    conv = to_dates(pd.Series([19725.0, 20087.0]))
    assert conv.dates.tolist() == [pd.Timestamp("2014-01-02"), pd.Timestamp("2014-12-30")]
    assert conv.note is None


@pytest.mark.parametrize("values, expected, fmt", [
    (["02/09/2014", "13/09/2014"], ["2014-09-02", "2014-09-13"], "DD/MM/YYYY"),  # day <= 12 still day first
    (["02/09/2014", "09/13/2014"], ["2014-02-09", "2014-09-13"], "MM/DD/YYYY"),
    (["02.09.2014", "25.12.2014"], ["2014-09-02", "2014-12-25"], "DD/MM/YYYY"),
])
def test_slash_dates_take_the_order_the_whole_column_shows(values, expected, fmt):
    conv = to_dates(pd.Series(values))
    assert conv.dates.dt.strftime("%Y-%m-%d").tolist() == expected
    assert conv.format == fmt and "above 12" in conv.note


@pytest.mark.parametrize("values, words", [(["02/09/2014", "03/04/2014"], "cannot be decided"),
                                           (["13/09/2014", "09/13/2014"], "inconsistent")])
def test_undecidable_slash_dates_are_refused_with_a_note_asking_for_a_format(values, words):
    conv = to_dates(pd.Series(values))
    assert conv.dates.isna().all() and conv.invalid.all()
    assert words in conv.note and "mapping" in conv.note and conv.noted.all()


def test_a_format_from_the_mapping_overrides_detection():
    conv = to_dates(pd.Series(["02/09/2014", "03/04/2014", "", None]), fmt="%m/%d/%Y")
    assert conv.dates.iloc[:2].tolist() == [pd.Timestamp("2014-02-09"), pd.Timestamp("2014-03-04")]
    assert conv.invalid.tolist() == [False, False, False, False]


def test_date_objects_and_the_index_are_kept():
    values = pd.Series([dt.date(2014, 1, 2), None, dt.datetime(2014, 1, 3, 10)], index=[10, 20, 30], dtype=object)
    conv = to_dates(values)
    assert conv.dates.index.tolist() == [10, 20, 30]
    assert conv.dates.tolist()[::2] == [pd.Timestamp("2014-01-02"), pd.Timestamp("2014-01-03")]


def test_large_iso_column_matches_the_per_value_parser():
    days = pd.Timestamp("2010-01-01") + pd.to_timedelta(range(0, 5000, 7), unit="D")
    text = pd.Series(list(days.strftime("%Y-%m-%d")) + ["2014-03", "02JAN2014", "2014-02-30", None], dtype=object)
    conv = to_dates(text)
    assert conv.dates.iloc[: len(days)].tolist() == list(days)
    assert conv.dates.iloc[len(days):].tolist()[:2] == [pd.Timestamp("2014-03-01"), pd.Timestamp("2014-01-02")]
    assert conv.flags.iloc[len(days)] == "D" and conv.invalid.sum() == 1
