"""The loader's validation report: findings collected while reading and mapping, and their rendering.

Errors block loading, warnings do not; both name the file, column, rule, count and example rows.
`format_text` and `format_json` are what `trial-dashboard validate` prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from ..data.validation import ERROR, MAX_EXAMPLES, WARNING, Finding, ValidationReport


@dataclass
class FindingLog:
    """Collects findings for one load; `error`/`warning` take the offending rows as a boolean mask."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: str, table: str, column: str | None, rule: str, *, source=None,
            frame: pd.DataFrame | None = None, mask: pd.Series | None = None, columns=(), count: int | None = None,
            examples=(), suggestion: str | None = None) -> None:
        """Record one finding; with `frame` and `mask`, the count and examples come from those rows."""
        if frame is not None and mask is not None:
            count = int(mask.sum()) if count is None else count
            examples = examples or row_examples(frame, mask, [column, *columns] if column else list(columns))
        self.findings.append(Finding(severity, table, column, rule, int(count or 0), tuple(examples),
                                     None if source is None else str(source), suggestion))

    def error(self, table, column, rule, **kw) -> None:
        self.add(ERROR, table, column, rule, **kw)

    def warning(self, table, column, rule, **kw) -> None:
        self.add(WARNING, table, column, rule, **kw)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)


def row_examples(frame: pd.DataFrame, mask: pd.Series, columns) -> tuple[str, ...]:
    """'row 3: USUBJID='01-701-1015', AETOXGR='7'' for the first few rows of a mask (1-based file rows)."""
    cols = [c for c in dict.fromkeys(["USUBJID", *[c for c in columns if c]]) if c in frame.columns]
    rows = frame.loc[mask.reindex(frame.index, fill_value=False)].head(MAX_EXAMPLES)
    out = []
    for idx, row in rows.iterrows():
        values = ", ".join(f"{c}={_fmt(row[c])}" for c in cols)
        out.append(f"row {_file_row(idx)}: {values}")
    return tuple(out)


def _file_row(idx) -> str:
    return str(idx + 1) if isinstance(idx, int) else str(idx)


def _fmt(value) -> str:
    if value is None or (not isinstance(value, (str, bytes)) and pd.isna(value)):
        return "<missing>"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def format_text(report: ValidationReport, files=()) -> str:
    """The report as plain text: a summary line, errors, then warnings, then any suggested mapping."""
    lines = []
    if files:
        lines.append("Files read:")
        lines += [f"  {f['path']}  ({f.get('role', '?')}, sha256 {f['sha256'][:12]})" for f in files]
    lines.append(f"{len(report.errors)} error(s) (block loading), {len(report.warnings)} warning(s)")
    for title, findings in (("Errors", report.errors), ("Warnings", report.warnings)):
        if not findings:
            continue
        lines.append(f"{title}:")
        for f in findings:
            where = f.source or f.table
            col = f", column {f.column}" if f.column else ""
            lines.append(f"  - {where}{col}: {f.rule} [{f.count} row{'s' if f.count != 1 else ''}]")
            lines += [f"      {e}" for e in f.examples]
    suggestions = list(dict.fromkeys(f.suggestion for f in report.errors if f.suggestion))
    if suggestions:
        lines.append("Suggested fix: save this as mapping.yaml and pass --mapping mapping.yaml")
        lines += suggestions
    lines.append("OK: the dataset loads." if report.ok else "FAILED: errors block loading.")
    return "\n".join(lines)


def format_json(report: ValidationReport, files=()) -> str:
    """The report as JSON: ok, counts, files read (with sha256) and every finding."""
    return json.dumps(
        {
            "ok": report.ok,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "files": list(files),
            "findings": [f.as_dict() for f in report.findings],
        },
        indent=2,
    )


__all__ = ["ERROR", "WARNING", "FindingLog", "format_json", "format_text", "row_examples"]
