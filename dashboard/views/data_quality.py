"""Data quality tab: the validation report of the loaded data and where the data came from."""

from __future__ import annotations

import html
from pathlib import PurePath

import panel as pn

from ..data.dataset import OPTIONAL_TABLES, TrialDataset
from ..data.validation import ValidationReport
from .base import TabView

TABLE_CSS = """
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
caption { caption-side: top; text-align: left; font-weight: 600; font-size: 1rem; padding: 4px 0 6px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid rgba(128, 128, 128, 0.3); text-align: left; vertical-align: top; }
thead th { font-weight: 600; border-bottom: 2px solid rgba(128, 128, 128, 0.5); }
td.num { text-align: right; white-space: nowrap; }
td.sev { font-weight: 600; white-space: nowrap; }
td.sev::before { content: "● "; }
td.sev.error::before { color: var(--danger-text-color, #b02a37); }
td.sev.warning::before { color: var(--warning-text-color, #997404); }
code { font-size: 0.82rem; word-break: break-all; }
ul.ex { margin: 0; padding-left: 1.1em; font-size: 0.82rem; }
.muted { opacity: 0.75; font-size: 0.85rem; }
"""
TABLE_ROLES = {"sites": "sites", "adrs": "response (ADRS)", "adae": "adverse events (ADAE)",
               "adtte": "time to event (ADTTE)", "adex": "exposure (ADEX)"}


def _file_name(path) -> str:
    return PurePath(str(path)).name


def findings_html(report: ValidationReport) -> str:
    """The report's findings as an HTML table (errors first), every data-derived text escaped."""
    findings = report.errors + report.warnings
    if not findings:
        return '<p class="muted">No findings: every rule passed.</p>'
    rows = []
    for f in findings:
        where = _file_name(f.source) if f.source else f.table
        examples = "".join(f"<li>{html.escape(e)}</li>" for e in f.examples)
        examples = f'<ul class="ex">{examples}</ul>' if examples else ""
        rows.append(
            f'<tr><td class="sev {html.escape(f.severity)}">{html.escape(f.severity)}</td>'
            f"<td>{html.escape(where)}</td><td>{html.escape(f.column or '')}</td>"
            f"<td>{html.escape(f.rule)}</td><td class=\"num\">{f.count}</td>"
            f"<td>{examples}</td></tr>"
        )
    return (
        f"<table><caption>Validation findings: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        "</caption><thead><tr><th>Severity</th><th>File</th><th>Column</th><th>Rule</th><th>Rows</th>"
        f"<th>Examples</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def provenance_html(dataset: TrialDataset) -> str:
    """Files read (name, role, format, sha256) and which optional tables the data lack."""
    prov = dataset.provenance
    files = prov.get("files") or {}
    if files:
        rows = "".join(
            f"<tr><td>{html.escape(str(role).upper())}</td><td>{html.escape(_file_name(f['path']))}</td>"
            f"<td>{html.escape(str(f.get('format', '')))}</td><td><code>{html.escape(str(f['sha256']))}</code></td></tr>"
            for role, f in files.items()
        )
        table = ("<table><caption>Provenance: files read</caption><thead><tr><th>Dataset</th><th>File</th>"
                 f"<th>Format</th><th>SHA-256</th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        table = f"<p><b>Provenance:</b> {html.escape(dataset.provenance_text())}</p>"
    standard = prov.get("standard")
    lines = [f"<p class=\"muted\">{html.escape(dataset.provenance_text())}"
             + (f" · standard: {html.escape(str(standard))}" if standard else "")
             + f" · data cut {dataset.cutoff.date().isoformat()}</p>"]
    absent = [TABLE_ROLES[t] for t in OPTIONAL_TABLES if not dataset.has(t)]
    if absent:
        lines.append(f"<p class=\"muted\">Not in these data: {html.escape(', '.join(absent))}. "
                     "Views that need them are hidden (listed in the sidebar).</p>")
    return table + "".join(lines)


class DataQualityView(TabView):
    """Data quality tab: validation findings (errors vs warnings) and provenance of the loaded files."""

    title = "Data quality"

    def __panel__(self) -> pn.viewable.Viewable:
        dataset = self.store.dataset
        report = dataset.report
        status = (f"**{len(report.warnings)} warning(s)** about these data; none blocks loading. "
                  "Each names the file, column, rule, the number of rows and examples.") if report.findings else \
            "**No findings**: every validation rule passed."
        return pn.Column(
            pn.pane.Alert(status, alert_type="warning" if report.warnings else "success", sizing_mode="stretch_width"),
            pn.pane.HTML(findings_html(report), stylesheets=[TABLE_CSS], sizing_mode="stretch_width"),
            pn.pane.HTML(provenance_html(dataset), stylesheets=[TABLE_CSS], sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
