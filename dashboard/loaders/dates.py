"""Dates as real exports hold them, converted to calendar dates with partial dates imputed.

Accepted: SAS numeric dates (days since 1960-01-01; values above 1e6 are SAS datetimes, seconds
since 1960-01-01), date/datetime objects, ISO 8601 text (``2014-01-02``, ``2014-01-02T11:45``),
partial ISO 8601 (``2014-01``, ``2014``, ``2014---02``), SAS DATE9 text (``02JAN2014``),
``YYYYMMDD`` numbers or text (``20140902``) and day/month/year or month/day/year text
(``02/09/2014``, also with ``.`` or ``-``).

Formats that could be read two ways are decided once per column, never per value: a column whose
numbers are all eight digits between 18500101 and 22001231 is ``YYYYMMDD`` (not SAS days); slash
dates are day first when some first part is above 12, month first when some second part is, and
refused (set missing, with a note asking for the format in the mapping) when no value decides.
The result says which format was found (`DateConversion.format`) and, when it was guessed from the
column or refused, a sentence for the load report (`DateConversion.note`).

Partial dates follow the ADaM convention of admiral's ``derive_vars_dt`` (highest imputation "M"):
start dates (event onset, first dose, death, randomization) take the *first* day of the missing
part (``2014-03`` -> 2014-03-01, ``2014`` -> 2014-01-01); end dates take the *last* day
(``2014-02`` -> 2014-02-28, ``2014`` -> 2014-12-31). The imputation flag (ADaM ``--DTF``) is "D"
(day imputed) or "M" (month and day imputed). A date without a year is left missing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SAS_EPOCH = pd.Timestamp("1960-01-01")
SAS_DATETIME_THRESHOLD = 1e6  # more days than this (2700 years) means the number is seconds
START, END = "start", "end"
# Names of the formats `to_dates` recognises (DateConversion.format joins those found with " + ").
ISO, PARTIAL_ISO, YYYYMMDD, DMY, MDY = "ISO 8601", "partial ISO 8601", "YYYYMMDD", "DD/MM/YYYY", "MM/DD/YYYY"
DATE9, SAS_NUMBER, DATE_VALUES, OTHER = "DATE9", "SAS date number", "date values", "other values"
_FULL_ISO = r"^\d{4}-\d{2}-\d{2}(?:T.*)?$"
_ISO = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2}|-)(?:-(?P<d>\d{2}|-))?)?(?:T.*)?$")
_NUMBER = r"^-?\d+(?:\.\d+)?$"
_YEAR_ONLY = r"^\d{4}$"
_SLASH = r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[T ].*)?$"
_DATE9 = r"^\d{1,2}[A-Z]{3}\d{4}$"
_EARLIEST = pd.Timestamp("1850-01-01")
_LATEST = pd.Timestamp("2200-12-31")
_YYYYMMDD_RANGE = (18500101, 22001231)


@dataclass(frozen=True)
class DateConversion:
    """Converted dates, which rows were imputed (flag D/M) or unreadable, and the format found.

    `note` is a sentence for the load report when the format was decided from the whole column
    (YYYYMMDD, day or month first) or refused as ambiguous; `noted` marks the rows it is about.
    """

    dates: pd.Series
    flags: pd.Series
    invalid: pd.Series
    format: str = ""
    note: str | None = None
    noted: pd.Series | None = field(default=None, compare=False)

    @property
    def imputed(self) -> pd.Series:
        return self.flags.notna()


def to_dates(values: pd.Series, rule: str = START, fmt: str | None = None) -> DateConversion:
    """Convert one column to dates (datetime64, midnight); `rule` is START or END for partial dates;
    `fmt` (a strptime pattern such as ``%d/%m/%Y``, e.g. from the mapping file) overrides detection."""
    if rule not in (START, END):
        raise ValueError(f"rule must be {START!r} or {END!r}, got {rule!r}")
    conv = _convert(values.reset_index(drop=True), rule, fmt)
    relabel = {name: getattr(conv, name).set_axis(values.index) for name in ("dates", "flags", "invalid")}
    noted = None if conv.noted is None else conv.noted.set_axis(values.index)
    return DateConversion(**relabel, format=conv.format, note=conv.note, noted=noted)


def _convert(values: pd.Series, rule: str, fmt: str | None) -> DateConversion:
    flags = pd.Series(pd.NA, index=values.index, dtype="string")
    if fmt:
        return _with_format(values, fmt, flags)
    if pd.api.types.is_object_dtype(values):
        values = _date_objects(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values.dt.tz_localize(None) if values.dt.tz is not None else values
        dates = dates.dt.normalize().astype("datetime64[ns]")
        bad = _out_of_range(dates)
        return DateConversion(dates.where(~bad), flags, bad, DATE_VALUES)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return _from_numbers(values.astype("float64"), flags)
    return _from_text(values.astype(object), rule, flags)


def _date_objects(values: pd.Series) -> pd.Series:
    """A column of date/datetime objects (pyreadstat's SAS dates) converted at once; anything else as is."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("date", "datetime", "datetime64"):
        return values
    try:
        converted = pd.to_datetime(values, errors="coerce")
    except (ValueError, TypeError):  # e.g. time zones mixed with naive times: left to the per-value parser
        return values
    whole = pd.api.types.is_datetime64_any_dtype(converted) and converted.notna().equals(values.notna())
    return converted if whole else values


def _with_format(values: pd.Series, fmt: str, flags: pd.Series) -> DateConversion:
    text = values.astype(object).map(_as_text)
    dates = pd.to_datetime(text, format=fmt, errors="coerce").dt.normalize().astype("datetime64[ns]")
    bad = (text.notna() & dates.isna()) | _out_of_range(dates)
    return DateConversion(dates.where(~bad), flags, bad, f"mapping format {fmt}")


def _as_text(value):
    """A value as the text a date format applies to (20140902.0 -> '20140902'); missing stays missing."""
    if isinstance(value, (int, float, np.number)) and not pd.isna(value) and float(value).is_integer():
        return format(int(value), "d")
    if pd.isna(value) or str(value).strip() == "":
        return np.nan
    return str(value).strip()


def _from_numbers(numbers: pd.Series, flags: pd.Series) -> DateConversion:
    """SAS days/seconds, or YYYYMMDD when every number of the column has that shape."""
    present = numbers.notna()
    if present.any() and _all_yyyymmdd(numbers[present]):
        dates = _parse_yyyymmdd(numbers.where(present))
        bad = present & dates.isna()
        note = _format_note(YYYYMMDD, numbers[present].iloc[0])
        return DateConversion(dates, flags, bad, YYYYMMDD, note, present)
    dates = _from_sas_number(numbers)
    bad = _out_of_range(dates) | (present & dates.isna())
    return DateConversion(dates.where(~bad), flags, bad, SAS_NUMBER if present.any() else "")


def _all_yyyymmdd(numbers: pd.Series) -> bool:
    low, high = _YYYYMMDD_RANGE
    return bool(((numbers == np.floor(numbers)) & numbers.between(low, high)).all())


def _parse_yyyymmdd(numbers: pd.Series) -> pd.Series:
    text = numbers.dropna().astype("int64").astype(str)
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    return parsed.reindex(numbers.index).astype("datetime64[ns]")


def _from_text(values: pd.Series, rule: str, flags: pd.Series) -> DateConversion:
    """Text (or mixed objects): each value classified by its shape, each shape parsed vectorised."""
    index = values.index
    invalid = pd.Series(False, index=index)
    present = values.notna()
    if pd.api.types.infer_dtype(values[present], skipna=True) in ("string", "empty"):
        strings = present
    else:
        strings = present & values.map(lambda v: isinstance(v, str))
    raw = values.where(strings)
    dates = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")  # the common case, in C
    done = dates.notna()
    raw = raw[strings & ~done]
    found: dict[str, int] = {ISO: int(done.sum())}
    notes: list[str] = []
    noted = pd.Series(False, index=index)
    text = raw.astype(str).str.strip().str.upper()
    text = text[text != ""]
    full = text.str.match(_FULL_ISO)
    if full.any():
        iso = pd.to_datetime(text[full].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        dates[iso.index] = iso
        invalid[iso.index] = iso.isna()
        found[ISO] += int(full.sum())
    rest = text[~full]
    number = rest.str.match(_NUMBER) & ~rest.str.match(_YEAR_ONLY)
    if number.any():
        conv = _from_numbers(pd.to_numeric(rest[number]).astype("float64"), flags.reindex(rest[number].index))
        dates[conv.dates.index] = conv.dates
        invalid[conv.invalid.index] = conv.invalid
        found[conv.format] = int(number.sum())
        if conv.note:
            notes.append(conv.note)
            noted[conv.noted.index] = conv.noted
    rest = rest[~number]
    slash = rest.str.extract(_SLASH).dropna()
    if len(slash):
        order, note = _day_month_order(slash, rest)
        parsed = _parse_slash(slash.astype(int), order)
        dates[slash.index] = parsed
        invalid[slash.index] = parsed.isna()
        found[order or "day/month order undecided"] = len(slash)
        if note:
            notes.append(note)
            noted[slash.index] = True
    rest = rest.drop(slash.index)
    date9 = rest.str.match(_DATE9)
    if date9.any():
        parsed = pd.to_datetime(rest[date9], format="%d%b%Y", errors="coerce")
        dates[parsed.index] = parsed
        invalid[parsed.index] = parsed.isna()
        found[DATE9] = int(date9.sum())
    others = pd.concat([rest[~date9], values[present & ~strings]])
    if len(others):
        parsed = [_parse_one(v, rule) for v in others]
        dates[others.index] = [p[0] for p in parsed]
        flags[others.index] = [p[1] for p in parsed]
        invalid[others.index] = [p[2] for p in parsed]
        found[PARTIAL_ISO if flags.notna().any() else OTHER] = len(others)
    invalid |= _out_of_range(dates)
    kinds = " + ".join(k for k, n in sorted(found.items(), key=lambda kv: -kv[1]) if n)
    return DateConversion(dates.where(~invalid), flags.where(~invalid), invalid, kinds,
                          "; ".join(notes) or None, noted if notes else None)


def _day_month_order(slash: pd.DataFrame, text: pd.Series) -> tuple[str | None, str | None]:
    """(DMY, MDY or None when undecidable, note) for a column's slash dates, decided from all of them."""
    first, second = slash[0].astype(int), slash[1].astype(int)
    day_first, month_first = first > 12, second > 12
    if day_first.any() and month_first.any():
        a, b = text[day_first[day_first].index[0]], text[month_first[month_first].index[0]]
        return None, (f"day/month order is inconsistent: {a!r} has a first part above 12 and {b!r} a second "
                      "part above 12; these dates are set to missing; name the column's date format in the "
                      "mapping file (e.g. '%d/%m/%Y')")
    if day_first.any():
        return DMY, _format_note(DMY, text[day_first[day_first].index[0]])
    if month_first.any():
        return MDY, _format_note(MDY, text[month_first[month_first].index[0]])
    if (first == second).all():
        return DMY, None  # 01/01/2014 reads the same either way
    example = text[(first != second)[first != second].index[0]]
    return None, (f"day/month order cannot be decided: every date written like {example!r} could be day/month "
                  "or month/day; these dates are set to missing; name the column's date format in the mapping "
                  "file (e.g. '%d/%m/%Y' or '%m/%d/%Y')")


def _parse_slash(parts: pd.DataFrame, order: str | None) -> pd.Series:
    """Dates from (first, second, year) parts in the column's order; all missing when it is undecided."""
    if order is None:
        return pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    day, month = (parts[0], parts[1]) if order == DMY else (parts[1], parts[0])
    return pd.to_datetime(pd.DataFrame({"year": parts[2], "month": month, "day": day}), errors="coerce")


def _format_note(fmt: str, example) -> str:
    if fmt == YYYYMMDD:
        example = format(int(float(example)), "d")
        return f"dates written YYYYMMDD (e.g. {example!r}) read as year, month, day (decided for the whole column)"
    part = "first" if fmt == DMY else "second"
    return (f"dates read as {fmt}, decided for the whole column: {example!r} has a {part} part above 12, "
            "so it must be the day")


def _out_of_range(dates: pd.Series) -> pd.Series:
    """Dates before 1850 or after 2200 are typing errors, not dates."""
    return dates.notna() & ((dates < _EARLIEST) | (dates > _LATEST))


def _from_sas_number(days: pd.Series) -> pd.Series:
    seconds = days.abs() > SAS_DATETIME_THRESHOLD
    days = days.where(~seconds, np.floor(days / 86400.0))
    valid = days.notna() & (days.abs() < 200 * 366)
    out = pd.Series(pd.NaT, index=days.index, dtype="datetime64[ns]")
    out[valid] = SAS_EPOCH + pd.to_timedelta(np.floor(days[valid]), unit="D")
    return out


def _parse_one(value, rule: str):
    """(Timestamp or NaT, imputation flag or NA, invalid?) for one value not in a vectorised format."""
    if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return (stamp.tz_localize(None) if stamp.tzinfo else stamp).normalize(), pd.NA, False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _from_sas_number(pd.Series([float(value)])).iloc[0], pd.NA, False
    text = str(value).strip().upper()
    match = _ISO.match(text)
    if not match:
        try:
            stamp = pd.Timestamp(text)
        except (ValueError, TypeError, OverflowError):
            return pd.NaT, pd.NA, True
        return (stamp.tz_localize(None) if stamp.tzinfo else stamp).normalize(), pd.NA, False
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
