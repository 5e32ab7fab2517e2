"""The loader's validation report: findings by severity and the text/JSON that `validate` prints.

Findings are collected in a `FindingLog` (see `dashboard.model.validation`): blocking findings stop
the trial from loading, row-level findings leave rows out (or set values missing), informational
ones change nothing; each names the file, column, rule, count and example rows.
"""

from __future__ import annotations

import json

from ..model.rules import BLOCKING, INFORMATIONAL, ROW_LEVEL, VALUE_SET_MISSING
from ..model.validation import ERROR, WARNING, FindingLog, ValidationReport, row_examples

SECTIONS = (
    (BLOCKING, "Blocking (the trial cannot be loaded)"),
    (ROW_LEVEL, "Row-level (rows left out or values set to missing)"),
    (INFORMATIONAL, "Informational (nothing left out)"),
)


def passes(report: ValidationReport, strict: bool = False) -> bool:
    """Whether `validate` succeeds: the trial loads (and, with `strict`, there is no finding at all)."""
    return report.ok and not (strict and report.findings)


def format_text(report: ValidationReport, files=(), dataset=None, strict: bool = False) -> str:
    """The report as plain text: files read, data cut, counts, one section per severity, the verdict."""
    lines = []
    if files:
        lines.append("Files read:")
        lines += [f"  {f['path']}  ({f.get('role', '?')}, sha256 {f['sha256'][:12]})" for f in files]
    if dataset is not None:
        lines.append(f"Data cut: {dataset.cutoff.date().isoformat()} (source: {dataset.cutoff_source})")
    lines.append(f"{len(report.blocking)} blocking, {len(report.row_level)} row-level, "
                 f"{len(report.informational)} informational finding(s)")
    for severity, title in SECTIONS:
        findings = report.of(severity)
        if not findings:
            continue
        lines.append(f"{title}:")
        for f in findings:
            where = f.source or f.table
            col = f", column {f.column}" if f.column else ""
            rule_id = f"[{f.rule_id}] " if f.rule_id else ""
            action = f"; {f.action}" if f.action and severity == ROW_LEVEL else ""
            lines.append(f"  - {rule_id}{where}{col}: {f.rule} [{f.count} row{'s' if f.count != 1 else ''}{action}]")
            lines += [f"      {e}" for e in f.examples]
    suggestions = list(dict.fromkeys(f.suggestion for f in report.blocking if f.suggestion))
    if suggestions:
        lines.append("Suggested fix: save this as mapping.yaml and pass --mapping mapping.yaml")
        lines += suggestions
    lines.append(_verdict(report, dataset, strict))
    return "\n".join(lines)


def _verdict(report: ValidationReport, dataset, strict: bool) -> str:
    if not report.ok:
        return "BLOCKED: the trial cannot be loaded."
    left = ""
    if dataset is not None and len(dataset.quarantine):
        missing = int((dataset.quarantine["action"] == VALUE_SET_MISSING).sum())
        left = (f" {dataset.left_out()} record(s) left out, {missing} value(s) set to missing "
                "(listed in the Data quality tab).")
    if strict and report.findings:
        return f"FAILED (--strict): the trial loads, but with {len(report.findings)} finding(s).{left}"
    return f"OK: the trial loads.{left}"


def format_json(report: ValidationReport, files=(), dataset=None, strict: bool = False) -> str:
    """The report as JSON: verdict, counts by severity, data cut, rows left out, files and findings."""
    return json.dumps(
        {
            "ok": passes(report, strict),
            "loads": report.ok,
            "strict": strict,
            "blocking": len(report.blocking),
            "row_level": len(report.row_level),
            "informational": len(report.informational),
            "cutoff": None if dataset is None else dataset.cutoff.date().isoformat(),
            "cutoff_source": None if dataset is None else dataset.cutoff_source,
            "left_out": {} if dataset is None else dict(dataset.left_out_counts),
            "files": list(files),
            "findings": [f.as_dict() for f in report.findings],
        },
        indent=2,
    )


__all__ = ["ERROR", "WARNING", "FindingLog", "format_json", "format_text", "passes", "row_examples"]
