"""Validation findings and the row-level rules that quarantine rows instead of refusing a trial.

Every finding names the table, column, source file, rule (text and registry id from `rules.py`),
how many rows it touches, a few example rows and what was done to them. `FindingLog` collects the
findings of one load together with the records it left out (the quarantine); `check_tables`
applies the model's rules (column types and ranges from `schema.TABLE_SPECS`, duplicates,
subject-level date logic, the data cut, records linked to subjects) and returns the cleaned tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .rules import (BLOCKING, INFORMATIONAL, KEPT, NOT_LOADED, ROW_LEFT_OUT, ROW_LEVEL, RULES, TABLE_LEFT_OUT,
                    VALUE_SET_MISSING)
from .schema import TABLE_SPECS, ColumnSpec

ERROR = BLOCKING  # `FindingLog.error` / `.warning` and older callers use these two names
WARNING = INFORMATIONAL
_LEGACY_SEVERITY = {"error": BLOCKING, "warning": INFORMATIONAL}
MAX_EXAMPLES = 5
QUARANTINE_COLUMNS = ("table", "USUBJID", "file", "column", "rule", "value", "action", "rule_id")
SUBJECT_TABLES = ("adrs", "adae", "adtte", "adex")
# Key columns that must be unique per table (exact copies keep one row; conflicting rows are left out).
UNIQUE_KEYS = {"adsl": ("USUBJID",), "sites": ("SITEID",), "adtte": ("USUBJID", "PARAMCD")}
# The dates that place a row in time: after the data cut, the row is left out (ADSL: the subject had
# not entered the trial by the cut). Any other date after the cut is set to missing.
ROW_DATES = {"adsl": ("SCRNDT", "RANDDT"), "adae": ("ASTDT",), "adrs": ("ADT",), "adex": ("ASTDT",),
             "adtte": ("ADT",)}


@dataclass(frozen=True)
class Finding:
    """One broken rule: severity, where (table, column, source file), which rows and what was done."""

    severity: str
    table: str
    column: str | None
    rule: str
    count: int
    examples: tuple[str, ...] = ()
    source: str | None = None
    suggestion: str | None = None  # e.g. a ready-to-paste column mapping snippet
    rule_id: str | None = None  # an id of `rules.RULES`
    action: str | None = None  # what happened to the rows: row left out, value set to missing, ...

    def __post_init__(self):
        object.__setattr__(self, "severity", _LEGACY_SEVERITY.get(self.severity, self.severity))
        if self.action is None and self.rule_id in RULES and self.severity != ROW_LEVEL:
            object.__setattr__(self, "action", RULES[self.rule_id].action)

    def __str__(self) -> str:
        where = self.source or self.table
        col = f", column {self.column}" if self.column else ""
        ex = f"; e.g. {'; '.join(self.examples)}" if self.examples else ""
        act = f"; {self.action}" if self.action and self.severity == ROW_LEVEL else ""
        rule_id = f" {self.rule_id}" if self.rule_id else ""
        return (f"[{self.severity}{rule_id}] {where}{col}: {self.rule} "
                f"({self.count} row{'s' if self.count != 1 else ''}{act}{ex})")

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "rule_id": self.rule_id,
            "table": self.table,
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "action": self.action,
            "examples": list(self.examples),
            "source": self.source,
            "suggestion": self.suggestion,
        }


class DatasetValidationError(ValueError):
    """Raised when blocking findings stop a dataset from loading; carries every finding."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        blocking = [f for f in self.findings if f.severity == BLOCKING]
        lines = [f"{len(blocking)} blocking finding(s); the trial cannot be loaded:"] + [f"  {f}" for f in blocking]
        suggestions = list(dict.fromkeys(f.suggestion for f in blocking if f.suggestion))
        if suggestions:
            lines += ["Suggested fix (a column mapping file, passed with --mapping):", *suggestions]
        super().__init__("\n".join(lines))


@dataclass
class ValidationReport:
    """All findings for a dataset by severity: blocking (nothing loads), row-level, informational."""

    findings: list[Finding] = field(default_factory=list)

    def of(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def blocking(self) -> list[Finding]:
        return self.of(BLOCKING)

    @property
    def row_level(self) -> list[Finding]:
        return self.of(ROW_LEVEL)

    @property
    def informational(self) -> list[Finding]:
        return self.of(INFORMATIONAL)

    errors = blocking
    warnings = informational

    @property
    def ok(self) -> bool:
        """Whether the trial loads (no blocking finding)."""
        return not self.blocking

    def raise_for_errors(self) -> None:
        if self.blocking:
            raise DatasetValidationError(self.findings)


def row_examples(frame: pd.DataFrame, mask: pd.Series, columns) -> tuple[str, ...]:
    """"row 3: USUBJID='01-701-1015', AETOXGR='7'" for the first rows of a mask (1-based row numbers)."""
    cols = [c for c in dict.fromkeys(["USUBJID", *[c for c in columns if c]]) if c in frame.columns]
    rows = frame.loc[mask.reindex(frame.index, fill_value=False)].head(MAX_EXAMPLES)
    out = []
    for idx, row in rows.iterrows():
        values = ", ".join(f"{c}={_fmt(row[c])}" for c in cols)
        out.append(f"row {_row_number(idx)}: {values}")
    return tuple(out)


def _row_number(idx) -> str:
    return str(idx + 1) if isinstance(idx, (int, np.integer)) else str(idx)


def _fmt(value) -> str:
    if value is None or (not isinstance(value, (str, bytes)) and pd.isna(value)):
        return "<missing>"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def _plain(value) -> str:
    """A value as plain text for the quarantine table ('' when missing)."""
    if value is None or (not isinstance(value, (str, bytes)) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass
class FindingLog:
    """The findings of one load plus the quarantine: every record left out or value set to missing.

    `error`/`warning` record blocking/informational findings; `leave_out` and `set_missing` apply a
    row-level rule to a frame and return the new frame, keeping the affected records.
    """

    findings: list[Finding] = field(default_factory=list)
    quarantined: list[pd.DataFrame] = field(default_factory=list)
    left_out_counts: dict[str, int] = field(default_factory=dict)

    def copy(self) -> "FindingLog":
        return FindingLog(list(self.findings), list(self.quarantined), dict(self.left_out_counts))

    def add(self, severity: str, table: str, column: str | None, rule: str, *, source=None,
            frame: pd.DataFrame | None = None, mask: pd.Series | None = None, columns=(), count: int | None = None,
            examples=(), suggestion: str | None = None, rule_id: str | None = None, action: str | None = None) -> None:
        """Record one finding; with `frame` and `mask`, the count and examples come from those rows."""
        if frame is not None and mask is not None:
            count = int(mask.sum()) if count is None else count
            examples = examples or row_examples(frame, mask, [column, *columns] if column else list(columns))
        self.findings.append(Finding(severity, table, column, rule, int(count or 0), tuple(examples),
                                     None if source is None else str(source), suggestion, rule_id, action))

    def error(self, table, column, rule, **kw) -> None:
        """A blocking finding: no dashboard can be built."""
        self.add(BLOCKING, table, column, rule, **kw)

    def warning(self, table, column, rule, **kw) -> None:
        """An informational finding (a derivation, an imputation, a file not used)."""
        self.add(INFORMATIONAL, table, column, rule, **kw)

    def row_level(self, table: str, column: str | None, rule: str, *, frame: pd.DataFrame, mask: pd.Series,
                  action: str, rule_id: str, source=None, columns=()) -> None:
        """Record a row-level finding and its records; the caller applies `action` to its frame."""
        mask = mask.reindex(frame.index, fill_value=False).fillna(False).astype(bool)
        if not mask.any():
            return
        self.add(ROW_LEVEL, table, column, rule, source=source, frame=frame, mask=mask, columns=columns,
                 rule_id=rule_id, action=action)
        rows = frame.loc[mask]
        shown = [c for c in dict.fromkeys([column, *columns]) if c and c in rows.columns]
        if len(shown) == 1:
            value = rows[shown[0]].map(_plain)
        elif shown:
            value = rows[shown].apply(lambda r: ", ".join(f"{c}={_plain(r[c])}" for c in shown), axis=1)
        else:
            value = pd.Series("", index=rows.index)
        subject = rows["USUBJID"].map(_plain) if "USUBJID" in rows.columns else pd.Series("", index=rows.index)
        self.quarantined.append(pd.DataFrame({
            "table": table, "USUBJID": subject.to_numpy(), "file": "" if source is None else str(source),
            "column": column or "", "rule": rule, "value": value.to_numpy(dtype=object), "action": action,
            "rule_id": rule_id,
        }))

    def leave_out(self, table: str, frame: pd.DataFrame, mask: pd.Series, column: str | None, rule: str, *,
                  rule_id: str, source=None, columns=()) -> pd.DataFrame:
        """`frame` without the rows of `mask`, recorded as left out under `rule`."""
        mask = mask.reindex(frame.index, fill_value=False).fillna(False).astype(bool)
        if not mask.any():
            return frame
        self.row_level(table, column, rule, frame=frame, mask=mask, action=ROW_LEFT_OUT, rule_id=rule_id,
                       source=source, columns=columns)
        self.left_out_counts[table] = self.left_out_counts.get(table, 0) + int(mask.sum())
        return frame.loc[~mask]

    def set_missing(self, table: str, frame: pd.DataFrame, mask: pd.Series, column: str, rule: str, *,
                    rule_id: str, source=None, columns=()) -> pd.DataFrame:
        """A copy of `frame` with `column` set to missing on the rows of `mask`, recorded under `rule`."""
        mask = mask.reindex(frame.index, fill_value=False).fillna(False).astype(bool)
        if not mask.any():
            return frame
        self.row_level(table, column, rule, frame=frame, mask=mask, action=VALUE_SET_MISSING, rule_id=rule_id,
                       source=source, columns=columns)
        out = frame.copy()
        out[column] = out[column].mask(mask)
        return out

    @property
    def has_errors(self) -> bool:
        """Whether a blocking finding was recorded."""
        return any(f.severity == BLOCKING for f in self.findings)

    def quarantine(self) -> pd.DataFrame:
        """Every record left out or value set to missing (columns `QUARANTINE_COLUMNS`)."""
        if not self.quarantined:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})
        return pd.concat(self.quarantined, ignore_index=True)[list(QUARANTINE_COLUMNS)]

    def report(self) -> ValidationReport:
        return ValidationReport(list(self.findings))


# --- column types and values ----------------------------------------------------------------------

def _coerce(spec: ColumnSpec, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values at the column's model type, mask of values present but not readable as that type)."""
    present = values.notna()
    if spec.dtype == "date":
        if pd.api.types.is_datetime64_any_dtype(values):
            out = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
            return out.astype("datetime64[ns]"), pd.Series(False, index=values.index)
        if pd.api.types.is_numeric_dtype(values):  # numbers are not dates in the model (no epoch guessing)
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), present
        out = pd.to_datetime(values.astype(object), errors="coerce", format="ISO8601")
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
        return out.astype("datetime64[ns]"), present & out.isna()
    if spec.dtype in ("int", "float"):
        numbers = pd.to_numeric(values, errors="coerce") if not pd.api.types.is_numeric_dtype(values) else values
        numbers = numbers.astype("float64")
        bad = present & numbers.isna()
        if spec.dtype == "int":
            fraction = numbers.notna() & (numbers != np.round(numbers))
            bad |= fraction
            return numbers.where(~bad).round().astype("Int64"), bad
        return numbers, bad
    return values.astype("string"), pd.Series(False, index=values.index)


def _out_of_range(spec: ColumnSpec, values: pd.Series) -> tuple[pd.Series, str | None]:
    if spec.allowed is not None:
        return values.notna() & ~values.isin(spec.allowed), f"one of {', '.join(spec.allowed)}"
    if spec.min_value is None and spec.max_value is None:
        return pd.Series(False, index=values.index), None
    bad = pd.Series(False, index=values.index)
    parts = []
    if spec.min_value is not None:
        bad |= (values < spec.min_value).fillna(False).astype(bool)
        parts.append(f">= {spec.min_value:g}")
    if spec.max_value is not None:
        bad |= (values > spec.max_value).fillna(False).astype(bool)
        parts.append(f"<= {spec.max_value:g}")
    return bad, " and ".join(parts)


def conform_to_spec(table: str, df: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame | None:
    """`df` with the spec's columns at their types and values checked; None when the table is unusable.

    A missing required column blocks for ADSL and leaves an optional table out; unreadable, missing
    or out-of-range values leave the row out when the row cannot do without them (non-nullable
    columns), otherwise the value is set to missing.
    """
    spec = TABLE_SPECS[table]
    absent = [c for c in spec.required_columns if c not in df.columns]
    if absent:
        for name in absent:
            if table == "adsl":
                log.error(table, name, f"required column {name} is missing", source=source, count=len(df),
                          rule_id="subject-column-missing")
            else:
                log.add(ROW_LEVEL, table, name, f"required column {name} is missing; the {table.upper()} dataset "
                        "is left out", source=source, count=len(df), rule_id="table-column-missing",
                        action=TABLE_LEFT_OUT)
        return None
    out = df.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        values, unreadable = _coerce(col, out[col.name])
        kind = {"date": "a date", "int": "a whole number", "float": "a number"}.get(col.dtype, "text")
        out = _act(log, table, out, unreadable, col, f"value is not {kind}", "value-unreadable", source)
        out[col.name] = values.reindex(out.index)
        if not col.nullable:
            out = _act(log, table, out, out[col.name].isna(), col, "value is required (missing)", "value-missing",
                       source)
        bad, expected = _out_of_range(col, out[col.name])
        if expected:
            out = _act(log, table, out, bad, col, f"values must be {expected}", "value-out-of-range", source)
    return out


def _act(log, table, frame, mask, col: ColumnSpec, rule, rule_id, source) -> pd.DataFrame:
    if not col.nullable:
        return log.leave_out(table, frame, mask, col.name, rule, rule_id=rule_id, source=source)
    return log.set_missing(table, frame, mask, col.name, f"{rule}; set to missing", rule_id=rule_id, source=source)


def drop_duplicates(table: str, df: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """Rows sharing a unique key (`UNIQUE_KEYS`): exact copies keep one row, conflicting rows all go."""
    keys = list(UNIQUE_KEYS.get(table, ()))
    if not keys or df.empty:
        return df
    dup = df.duplicated(keys, keep=False) & df[keys].notna().all(axis=1)
    if not dup.any():
        return df
    rule_id = "duplicate-subject" if table == "adsl" else "duplicate-record"
    copies = df.duplicated(keep="first") & dup
    out = log.leave_out(table, df, copies, keys[-1], f"exact copy of another row with the same {', '.join(keys)}; "
                        "one kept", rule_id=rule_id, source=source, columns=keys)
    conflicting = out.duplicated(keys, keep=False) & out[keys].notna().all(axis=1)
    return log.leave_out(table, out, conflicting, keys[-1], f"several different rows share one {', '.join(keys)}; "
                         "all left out", rule_id=rule_id, source=source, columns=keys)


# --- subject-level dates, the data cut and linked records -------------------------------------------

def subject_date_rules(adsl: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """Death before randomization (subject left out), randomization before screening and last-alive
    after death (the later-trusted date set to missing), a death flag without a date (noted)."""
    cols = set(adsl.columns)
    if {"DTHDT", "RANDDT"} <= cols:
        adsl = log.leave_out("adsl", adsl, adsl["DTHDT"] < adsl["RANDDT"], "DTHDT",
                             "death date precedes the randomization date", rule_id="death-before-randomization",
                             source=source, columns=["RANDDT"])
    if {"SCRNDT", "RANDDT"} <= cols:
        adsl = log.set_missing("adsl", adsl, adsl["RANDDT"] < adsl["SCRNDT"], "SCRNDT",
                               "randomization date precedes the screening date; screening date set to missing",
                               rule_id="randomized-before-screening", source=source, columns=["RANDDT"])
    if {"DTHDT", "LSTALVDT"} <= cols:
        adsl = log.set_missing("adsl", adsl, adsl["LSTALVDT"] > adsl["DTHDT"], "LSTALVDT",
                               "last-known-alive date follows the death date; set to missing (death is last)",
                               rule_id="alive-after-death", source=source, columns=["DTHDT"])
    if {"DTHFL", "DTHDT"} <= cols:
        no_date = (adsl["DTHFL"] == "Y") & adsl["DTHDT"].isna()
        if no_date.any():
            log.warning("adsl", "DTHDT", "subjects flagged as dead (DTHFL='Y') have no death date", source=source,
                        frame=adsl, mask=no_date, columns=["DTHFL"], rule_id="death-flag-without-date")
    return adsl


def _date_columns(table: str, df: pd.DataFrame) -> list[str]:
    return [c.name for c in TABLE_SPECS[table].columns if c.dtype == "date" and c.name in df.columns]


def latest_plausible_date(tables: dict[str, pd.DataFrame], today: pd.Timestamp) -> tuple[pd.Timestamp | None, int]:
    """The latest date of the trial that is not an outlier, and how many dates are outliers.

    Outliers: dates after `today`, and dates beyond Q3 + 3 IQR of all the trial's dates (IQR at
    least 30 days) when they are rare (at most 1% of dates, or a single one).
    """
    parts = [df[c].dropna() for name, df in tables.items() if name != "sites" for c in _date_columns(name, df)]
    dates = pd.concat(parts, ignore_index=True) if parts else pd.Series(dtype="datetime64[ns]")
    if dates.empty:
        return None, 0
    bulk = dates[dates <= today]
    limit = today
    if len(bulk) >= 20:
        q1, q3 = bulk.quantile(0.25), bulk.quantile(0.75)
        fence = q3 + 3 * max(q3 - q1, pd.Timedelta(days=30))
        beyond = int((bulk > fence).sum())
        if 0 < beyond <= max(1, int(0.01 * len(bulk))):
            limit = fence
    kept = dates[dates <= limit]
    return (kept.max().normalize() if len(kept) else None), int((dates > limit).sum())


def cut_rules(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, log: FindingLog, sources, *,
              implausible: bool) -> dict[str, pd.DataFrame]:
    """Dates after the data cut: rows whose own date (`ROW_DATES`: event onset, assessment, dose,
    screening/randomization) is after the cut are left out; other dates after it are set to missing.
    `implausible` names them as outliers instead."""
    rule_id = "date-implausible" if implausible else "date-after-cut"
    out = {}
    for name, df in tables.items():
        if name == "sites":
            out[name] = df
            continue
        for col in _date_columns(name, df):
            after = df[col] > cutoff
            if implausible:
                rule = f"{col} lies far beyond the trial's other dates (typing error?); not used for the data cut"
            else:
                rule = f"{col} is after the data cut {cutoff.date()}"
            if col not in ROW_DATES.get(name, ()):
                df = log.set_missing(name, df, after, col, f"{rule}; set to missing", rule_id=rule_id,
                                     source=sources.get(name))
            else:
                df = log.leave_out(name, df, after, col, rule, rule_id=rule_id, source=sources.get(name))
        out[name] = df
    return out


def linked_record_rules(tables: dict[str, pd.DataFrame], all_subjects: set, log: FindingLog, sources
                        ) -> dict[str, pd.DataFrame]:
    """Records of unknown subjects (orphans) or of subjects left out of ADSL, and event dates before
    randomization (responses, doses) or after death (also adverse events). Run again after other
    rules left subjects out: only the new cases are found."""
    adsl = tables["adsl"]
    kept = set(adsl["USUBJID"])
    keyed = adsl.set_index("USUBJID")
    out = dict(tables)
    for name in SUBJECT_TABLES:
        df = out.get(name)
        if df is None:
            continue
        source = sources.get(name)
        df = log.leave_out(name, df, ~df["USUBJID"].isin(all_subjects), "USUBJID",
                           "subject not in the subject-level dataset (orphan record)", rule_id="orphan-record",
                           source=source)
        df = log.leave_out(name, df, ~df["USUBJID"].isin(kept), "USUBJID",
                           "the subject's subject-level row was left out", rule_id="subject-left-out", source=source)
        date_col = {"adrs": "ADT", "adex": "ASTDT", "adae": "ASTDT"}.get(name)
        if date_col in df.columns:
            if name != "adae" and "RANDDT" in keyed.columns:
                rand = df["USUBJID"].map(keyed["RANDDT"])
                df = log.leave_out(name, df, df[date_col] < rand, date_col,
                                   f"{date_col} precedes the subject's randomization date (RANDDT)",
                                   rule_id="record-before-randomization", source=source)
            if "DTHDT" in keyed.columns:
                death = df["USUBJID"].map(keyed["DTHDT"])
                df = log.leave_out(name, df, df[date_col] > death, date_col,
                                   f"{date_col} follows the subject's death date (DTHDT)",
                                   rule_id="record-after-death", source=source)
        out[name] = df
    return out


def site_rules(tables: dict[str, pd.DataFrame], log: FindingLog, sources) -> None:
    """Note subjects whose site is not in the sites table (kept, shown without site details)."""
    adsl, sites = tables["adsl"], tables.get("sites")
    if sites is None:
        return
    unknown = ~adsl["SITEID"].isin(set(sites["SITEID"]))
    if unknown.any():
        log.warning("adsl", "SITEID", "site not in the sites table; shown without site details",
                    source=sources.get("adsl"), frame=adsl, mask=unknown, rule_id="unknown-site")


def no_randomized_finding(adsl: pd.DataFrame, log: FindingLog, source=None) -> None:
    """Block when ADSL has no rows or nobody randomized is left; say what left the subjects out."""
    if len(adsl) and (adsl["RANDFL"] == "Y").any():
        return
    dropped = log.left_out_counts.get("adsl", 0)
    if not dropped:
        rule = ("the subject-level dataset has no rows (header only)" if not len(adsl) else
                "no randomized subject: every subject is a screen failure (RANDFL = 'N')")
    else:
        why = "; ".join(f"{f.rule_id}: {f.count}" for f in log.findings
                        if f.table == "adsl" and f.action == ROW_LEFT_OUT)
        rest = f"; the other {len(adsl)} are screen failures" if len(adsl) else ""
        rule = f"no randomized subject left: {dropped} subject row(s) left out ({why}){rest}"
    log.error("adsl", "RANDFL", rule, source=source, count=len(adsl), rule_id="no-randomized-subjects")


__all__ = [
    "BLOCKING", "ROW_LEVEL", "INFORMATIONAL", "ERROR", "WARNING", "NOT_LOADED", "ROW_LEFT_OUT",
    "VALUE_SET_MISSING", "TABLE_LEFT_OUT", "KEPT", "Finding", "FindingLog", "ValidationReport",
    "DatasetValidationError", "row_examples", "conform_to_spec", "drop_duplicates", "subject_date_rules",
    "latest_plausible_date", "cut_rules", "linked_record_rules", "site_rules", "no_randomized_finding",
]
