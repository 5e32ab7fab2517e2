"""Bring a mapped table to the model's types: text, numbers, dates, Y/N flags and known categories.

Every value the loader cannot use is reported (file, column, rule, rows) rather than guessed:
unreadable numbers and dates, values outside a column's allowed categories (row-level: the row is
left out when it cannot do without the value, else the value is set to missing), partial dates
imputed (informational).
Identifiers stored as numbers (SITEID 701.0) become text ("701").
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..model.rules import INFORMATIONAL, VALUE_SET_MISSING
from ..model.schema import TABLE_SPECS
from .dates import END, START, to_dates
from .report import FindingLog

# Date columns holding the end of something: partial values take the last day (see dates.py).
END_DATES = frozenset({"TRTEDT", "AENDT", "EOSDT", "LSTALVDT"})
YES = frozenset({"Y", "YES", "TRUE", "1", "1.0", "T"})
NO = frozenset({"N", "NO", "FALSE", "0", "0.0", "F"})
# Unambiguous spellings of allowed categories.
CATEGORY_SYNONYMS = {
    "SEX": {"MALE": "M", "FEMALE": "F", "UNKNOWN": "U", "UNK": "U", "U": "U"},
    "EOSSTT": {"COMPLETE": "COMPLETED", "DISCONTINUE": "DISCONTINUED", "ON STUDY": "ONGOING"},
}
POPULATION_FLAGS = ("RANDFL", "ITTFL", "SAFFL", "EFFFL")
UNREADABLE, OUT_OF_RANGE = "value-unreadable", "value-out-of-range"  # rule ids (data/rules.py)


_FLOAT_INTEGER = re.compile(r"^-?\d+\.0+$")
# Value kinds (pandas.api.types.infer_dtype) whose equal values (as hashed by pd.factorize) always
# convert alike; other columns (e.g. True next to 1, which hash equal) convert value by value.
_SAFE_TO_FACTORIZE = frozenset({"empty", "string", "bytes", "floating", "integer", "mixed-integer-float",
                                "datetime", "datetime64", "date"})


def per_distinct(values: pd.Series, convert) -> pd.Series:
    """`convert` applied once per distinct present value (a column of a million rows has few), missing
    values as np.nan: an object Series on the same index."""
    if pd.api.types.infer_dtype(values, skipna=True) not in _SAFE_TO_FACTORIZE:
        return values.astype(object).map(lambda v: np.nan if _missing(v) else convert(v))
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    converted = np.empty(len(distinct) + 1, dtype=object)
    converted[:-1] = [convert(v) for v in distinct]
    converted[-1] = np.nan  # code -1: missing
    return pd.Series(converted[codes], index=values.index, dtype=object)


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def _text(value):
    """One present value as text (see `to_text`)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    text = str(value).strip()
    if _FLOAT_INTEGER.match(text):
        return text.split(".")[0]
    return text if text else np.nan


def to_text(values: pd.Series) -> pd.Series:
    """Text with identifiers stored as numbers written without '.0' (701.0 or '701.0' -> '701')."""
    return per_distinct(values, _text)


def to_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(floats, mask of values present but not numbers)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64"), pd.Series(False, index=values.index)
    text = to_text(values)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    return numbers, text.notna() & numbers.isna()


def to_flag(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(Y/N/missing, mask of values that are not a yes/no)."""
    text = to_text(values)
    out = per_distinct(text, lambda v: "Y" if v.upper() in YES else ("N" if v.upper() in NO else np.nan))
    return out, text.notna() & out.isna()


def conform(table: str, frame: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """A new frame with each model column of `table` converted to its type; problems logged.

    Values that cannot be used leave their row out when the row cannot do without them (a
    non-nullable column), otherwise they are set to missing; both are row-level findings.
    """
    spec = TABLE_SPECS[table]
    out = frame.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        raw = out[col.name]
        if col.dtype == "date":
            conv = to_dates(raw, END if col.name in END_DATES else START)
            if conv.note:  # a format decided from the whole column (YYYYMMDD, day/month order) or refused
                log.warning(table, col.name, conv.note, source=source, frame=frame, mask=conv.noted)
            out = _bad_values(log, table, col, "unreadable or impossible date", UNREADABLE, out, conv.invalid, source)
            if conv.imputed.any():
                rule = "last day of the month/year" if col.name in END_DATES else "first day of the month/year"
                log.warning(table, col.name, f"partial dates imputed to the {rule} (flag {col.name}F)",
                            source=source, frame=frame, mask=conv.imputed, rule_id="date-imputed")
                out[f"{col.name}F"] = conv.flags
            out[col.name] = conv.dates
        elif col.dtype in ("int", "float"):
            numbers, bad = to_number(raw)
            out = _bad_values(log, table, col, "value is not a number", UNREADABLE, out, bad, source)
            if col.dtype == "int":
                fraction = numbers.notna() & (numbers != np.round(numbers))
                out = _bad_values(log, table, col, "value is not a whole number", UNREADABLE, out, fraction, source)
                numbers = numbers.where(~fraction)
            out[col.name] = numbers.round().astype("Int64") if col.dtype == "int" else numbers
        elif col.allowed and set(col.allowed) <= {"Y", "N"}:
            flags, bad = to_flag(raw)
            out = _bad_values(log, table, col, "value is not Y or N", UNREADABLE, out, bad, source)
            out[col.name] = flags
        else:
            text = to_text(raw)
            if col.allowed:
                synonyms = CATEGORY_SYNONYMS.get(col.name, {})
                text = per_distinct(text, lambda v: synonyms.get(v.upper(), v.upper()))
                unknown = text.notna() & ~text.isin(col.allowed)
                out = _bad_values(log, table, col, f"unknown category (expected one of {', '.join(col.allowed)})",
                                  OUT_OF_RANGE, out, unknown, source)
                text = text.where(~unknown)
            out[col.name] = text
    return out


def _bad_values(log: FindingLog, table, col, rule, rule_id, frame, mask, source) -> pd.DataFrame:
    """Leave the rows out when the column is non-nullable, else record the values as set to missing
    (the caller writes the converted column, where they are already missing)."""
    mask = mask.reindex(frame.index, fill_value=False)
    if not col.nullable:
        return log.leave_out(table, frame, mask, col.name, rule, rule_id=rule_id, source=source)
    log.row_level(table, col.name, f"{rule}; set to missing", frame=frame, mask=mask, action=VALUE_SET_MISSING,
                  rule_id=rule_id, source=source)
    return frame


def duplicates(table: str, frame: pd.DataFrame, keys: list[str], log: FindingLog, source=None,
               severity: str = INFORMATIONAL) -> None:
    """Note rows sharing the same key columns (each duplicate row beyond the first counted); kept."""
    if not set(keys) <= set(frame.columns) or frame.empty:
        return
    dup = frame.duplicated(keys, keep=False) & frame[keys].notna().all(axis=1)
    if dup.any():
        count = int(frame.loc[dup].duplicated(keys).sum())
        log.add(severity, table, keys[-1], f"duplicate records: several rows share {', '.join(keys)}",
                source=source, frame=frame, mask=dup, columns=keys, count=count, rule_id="duplicate-event")
