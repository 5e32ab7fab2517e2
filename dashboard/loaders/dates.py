"""Dates as real exports hold them, converted to calendar dates with partial dates imputed.

Accepted: SAS numeric dates (days since 1960-01-01; values above 1e6 are SAS datetimes, seconds
since 1960-01-01), date/datetime objects, ISO 8601 text (``2014-01-02``, ``2014-01-02T11:45``),
partial ISO 8601 (``2014-01``, ``2014``, ``2014---02``) and SAS DATE9 text (``02JAN2014``).

Partial dates follow the ADaM convention of admiral's ``derive_vars_dt`` (highest imputation "M"):
start dates (event onset, first dose, death, randomization) take the *first* day of the missing
part (``2014-03`` -> 2014-03-01, ``2014`` -> 2014-01-01); end dates take the *last* day
(``2014-02`` -> 2014-02-28, ``2014`` -> 2014-12-31). The imputation flag (ADaM ``--DTF``) is "D"
(day imputed) or "M" (month and day imputed). A date without a year is left missing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

SAS_EPOCH = pd.Timestamp("1960-01-01")
SAS_DATETIME_THRESHOLD = 1e6  # more days than this (2700 years) means the number is seconds
START, END = "start", "end"
_ISO = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2}|-)(?:-(?P<d>\d{2}|-))?)?(?:T.*)?$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_DATE9 = re.compile(r"^\d{1,2}[A-Z]{3}\d{4}$")
_EARLIEST = pd.Timestamp("1850-01-01")
_LATEST = pd.Timestamp("2200-12-31")


@dataclass(frozen=True)
class DateConversion:
    """Converted dates plus which rows were imputed (flag D/M) and which could not be read."""

    dates: pd.Series
    flags: pd.Series
    invalid: pd.Series

    @property
    def imputed(self) -> pd.Series:
        return self.flags.notna()


def to_dates(values: pd.Series, rule: str = START) -> DateConversion:
    """Convert one column to dates (datetime64, midnight); `rule` is START or END for partial dates."""
    if rule not in (START, END):
        raise ValueError(f"rule must be {START!r} or {END!r}, got {rule!r}")
    index = values.index
    flags = pd.Series(pd.NA, index=index, dtype="string")
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = pd.to_datetime(values).dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
        return DateConversion(dates.dt.normalize().astype("datetime64[ns]"), flags, _out_of_range(dates))
    if pd.api.types.is_numeric_dtype(values):
        dates = _from_sas_number(values.astype("float64"))
        return DateConversion(dates, flags, _out_of_range(dates) | (values.notna() & dates.isna()))
    parsed = [_in_range(*_parse_one(v, rule)) for v in values]
    dates = pd.Series([p[0] for p in parsed], index=index, dtype="datetime64[ns]")
    flags = pd.Series([p[1] for p in parsed], index=index, dtype="string")
    invalid = pd.Series([p[2] for p in parsed], index=index, dtype=bool) | _out_of_range(dates)
    return DateConversion(dates.where(~invalid), flags.where(~invalid), invalid)


def _out_of_range(dates: pd.Series) -> pd.Series:
    return dates.notna() & ((dates < _EARLIEST) | (dates > _LATEST))


def _from_sas_number(days: pd.Series) -> pd.Series:
    seconds = days.abs() > SAS_DATETIME_THRESHOLD
    days = days.where(~seconds, np.floor(days / 86400.0))
    valid = days.notna() & (days.abs() < 200 * 366)
    out = pd.Series(pd.NaT, index=days.index, dtype="datetime64[ns]")
    out[valid] = SAS_EPOCH + pd.to_timedelta(np.floor(days[valid]), unit="D")
    return out


def _in_range(stamp, flag, invalid):
    """Dates before 1850 or after 2200 are typing errors, not dates (and overflow pandas' ns range)."""
    if pd.notna(stamp) and not (_EARLIEST <= stamp <= _LATEST):
        return pd.NaT, pd.NA, True
    return stamp, flag, invalid


def _parse_one(value, rule: str):
    """(Timestamp or NaT, imputation flag or NA, invalid?) for one value."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return pd.NaT, pd.NA, False
    if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).normalize().tz_localize(None), pd.NA, False
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = pd.Series([float(value)])
        return _from_sas_number(number).iloc[0], pd.NA, False
    text = str(value).strip().upper()
    if _NUMBER.match(text) and not (text.isdigit() and len(text) == 4):  # '19725' or '19725.0': SAS days
        return _from_sas_number(pd.Series([float(text)])).iloc[0], pd.NA, False
    if _DATE9.match(text):
        try:
            return pd.Timestamp(dt.datetime.strptime(text, "%d%b%Y")), pd.NA, False
        except ValueError:
            return pd.NaT, pd.NA, True
    match = _ISO.match(text)
    if not match:
        try:
            return pd.Timestamp(text).normalize().tz_localize(None), pd.NA, False
        except (ValueError, TypeError):
            return pd.NaT, pd.NA, True
    year = int(match["y"])
    month = match["m"] if match["m"] not in (None, "-") else None
    day = match["d"] if match["d"] not in (None, "-") else None
    try:
        if month is None:
            return pd.Timestamp(year, 1 if rule == START else 12, 1 if rule == START else 31), "M", False
        month = int(month)
        if day is None:
            stamp = pd.Timestamp(year, month, 1)
            return (stamp if rule == START else stamp + pd.offsets.MonthEnd(0)), "D", False
        return pd.Timestamp(year, month, int(day)), pd.NA, False
    except ValueError:
        return pd.NaT, pd.NA, True


def study_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """CDISC study day: date - reference + 1 on or after the reference, date - reference before (no day 0)."""
    delta = (dates - reference).dt.days
    return delta.where(delta < 0, delta + 1).astype("Int64")
