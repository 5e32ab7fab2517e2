"""Validation findings: what is wrong with a table, where, and whether it blocks loading.

Schema rules come from `schema.TABLE_SPECS` (checked with pandera); cross-table rules
(referential integrity, date logic, the data cut) are written here. Every finding names the
table, column, rule, how many rows break it and a few example rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pandera.errors as pa_errors

from .schema import TABLE_SPECS, pandera_schema

ERROR = "error"
WARNING = "warning"
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Finding:
    """One broken rule: severity, where (table, column, source file) and which rows."""

    severity: str
    table: str
    column: str | None
    rule: str
    count: int
    examples: tuple[str, ...] = ()
    source: str | None = None
    suggestion: str | None = None  # e.g. a ready-to-paste column mapping snippet

    def __str__(self) -> str:
        where = self.source or self.table
        col = f", column {self.column}" if self.column else ""
        ex = f"; e.g. {'; '.join(self.examples)}" if self.examples else ""
        return f"[{self.severity}] {where}{col}: {self.rule} ({self.count} row{'s' if self.count != 1 else ''}{ex})"

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "table": self.table,
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "examples": list(self.examples),
            "source": self.source,
            "suggestion": self.suggestion,
        }


class DatasetValidationError(ValueError):
    """Raised when a dataset breaks rules that block loading; carries every finding."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        errors = [f for f in self.findings if f.severity == ERROR]
        lines = [f"{len(errors)} validation error(s) block loading:"] + [f"  {f}" for f in errors]
        suggestions = list(dict.fromkeys(f.suggestion for f in errors if f.suggestion))
        if suggestions:
            lines += ["Suggested fix (a column mapping file, passed with --mapping):", *suggestions]
        super().__init__("\n".join(lines))


@dataclass
class ValidationReport:
    """All findings for a dataset, split into errors (block loading) and warnings (shown only)."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        if self.errors:
            raise DatasetValidationError(self.findings)


def _row_examples(df: pd.DataFrame, mask: pd.Series, columns: list[str]) -> tuple[str, ...]:
    rows = df.loc[mask]
    cols = [c for c in ["USUBJID", *columns] if c in rows.columns]
    cols = list(dict.fromkeys(cols))
    out = []
    for idx, row in rows.head(MAX_EXAMPLES).iterrows():
        values = ", ".join(f"{c}={_fmt(row[c])}" for c in cols)
        out.append(f"row {idx}: {values}")
    return tuple(out)


def _fmt(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<missing>"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def coerce_table(table: str, df: pd.DataFrame, source: str | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Coerce a table to its model dtypes and check its schema; returns the new frame and findings."""
    schema = pandera_schema(table)
    try:
        return schema.validate(df, lazy=True), []
    except pa_errors.SchemaErrors as exc:
        return df, _findings_from_pandera(table, df, exc, source)


def _findings_from_pandera(table, df, exc, source) -> list[Finding]:
    cases = exc.failure_cases
    uncoercible = set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"])
    cases = cases[~cases["column"].isin(uncoercible) | cases["check"].astype(str).str.startswith("coerce_dtype")]
    findings = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        column = None if pd.isna(column) else str(column)
        check = str(check)
        if check == "column_in_dataframe":
            rule = f"required column {group['failure_case'].iloc[0]} is missing"
            findings.append(Finding(ERROR, table, str(group["failure_case"].iloc[0]), rule, len(df), (), source))
            continue
        index = group["index"].dropna()
        if check == "not_nullable":
            rule = "value is required (missing values found)"
        elif check == "field_uniqueness":
            rule = "values must be unique (duplicates found)"
        elif check.startswith("coerce_dtype"):
            rule = f"values must be of type {check.split('(')[-1].rstrip(')')}"
        else:
            rule = f"values must be {check}"
        examples = []
        for idx, case in zip(group["index"].head(MAX_EXAMPLES), group["failure_case"].head(MAX_EXAMPLES)):
            subject = ""
            if pd.notna(idx) and column != "USUBJID" and "USUBJID" in df.columns and idx in df.index:
                subject = f"USUBJID={_fmt(df.at[idx, 'USUBJID'])}, "
            examples.append(f"row {idx}: {subject}{column}={_fmt(case)}")
        findings.append(Finding(ERROR, table, column, rule, max(len(index), len(group)), tuple(examples), source))
    return findings


def cross_table_findings(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp | None) -> list[Finding]:
    """Referential integrity, date logic and data-cut rules across the model's tables."""
    findings: list[Finding] = []
    adsl = tables["adsl"]
    subjects = set(adsl["USUBJID"])
    for name, df in tables.items():
        if name in ("adsl", "sites") or df is None or "USUBJID" not in df.columns:
            continue
        orphan = ~df["USUBJID"].isin(subjects)
        if orphan.any():
            findings.append(Finding(ERROR, name, "USUBJID", "every subject must exist in ADSL (orphan rows)",
                                    int(orphan.sum()), _row_examples(df, orphan, [])))
    sites = tables.get("sites")
    if sites is not None:
        unknown = ~adsl["SITEID"].isin(set(sites["SITEID"]))
        if unknown.any():
            findings.append(Finding(ERROR, "adsl", "SITEID", "every SITEID must exist in the sites table",
                                    int(unknown.sum()), _row_examples(adsl, unknown, ["SITEID"])))

    def date_rule(name, df, mask, columns, rule):
        if mask.any():
            findings.append(Finding(ERROR, name, columns[0], rule, int(mask.sum()), _row_examples(df, mask, columns)))

    if {"SCRNDT", "RANDDT"} <= set(adsl.columns):
        date_rule("adsl", adsl, adsl["RANDDT"] < adsl["SCRNDT"], ["RANDDT", "SCRNDT"],
                  "randomization date must not precede screening date")
    if {"DTHDT", "RANDDT"} <= set(adsl.columns):
        date_rule("adsl", adsl, adsl["DTHDT"] < adsl["RANDDT"], ["DTHDT", "RANDDT"],
                  "death date must not precede randomization date")
    if {"DTHDT", "LSTALVDT"} <= set(adsl.columns):
        date_rule("adsl", adsl, adsl["LSTALVDT"] > adsl["DTHDT"], ["LSTALVDT", "DTHDT"],
                  "last-known-alive date must not follow death date (death is last)")
    if {"DTHFL", "DTHDT"} <= set(adsl.columns):
        date_rule("adsl", adsl, (adsl["DTHFL"] == "Y") & adsl["DTHDT"].isna(), ["DTHFL", "DTHDT"],
                  "subjects flagged as dead (DTHFL='Y') need a death date")

    keyed = adsl.set_index("USUBJID")
    for name, date_col, rule_before in (("adrs", "ADT", True), ("adex", "ASTDT", True), ("adae", "ASTDT", False)):
        df = tables.get(name)
        if df is None or date_col not in df.columns:
            continue
        if rule_before and "RANDDT" in keyed.columns:
            rand = df["USUBJID"].map(keyed["RANDDT"])
            date_rule(name, df, df[date_col] < rand, [date_col],
                      f"{date_col} must not precede the subject's randomization date (RANDDT)")
        if "DTHDT" in keyed.columns:
            death = df["USUBJID"].map(keyed["DTHDT"])
            date_rule(name, df, df[date_col] > death, [date_col],
                      f"{date_col} must not follow the subject's death date (death is last)")
    if cutoff is not None:
        for name, df in tables.items():
            if df is None:
                continue
            for spec in TABLE_SPECS[name].columns:
                if spec.dtype == "date" and spec.name in df.columns and name != "sites":
                    date_rule(name, df, df[spec.name] > cutoff, [spec.name],
                              f"{spec.name} must not be after the data cut date {cutoff.date()}")
    return findings
