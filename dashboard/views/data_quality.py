"""Data quality tab: the findings about the loaded data, the records left out, the data cut and the files read."""

from __future__ import annotations

from pathlib import PurePath

import pandas as pd
import panel as pn

from ..model.dataset import OPTIONAL_TABLES, TrialDataset
from ..model.rules import INFORMATIONAL, ROW_LEVEL, SEVERITIES, VALUE_SET_MISSING
from ..model.validation import ValidationReport
from ..transforms.labels import column_label
from .base import TabView
from .escape import escape_html
from .tables import DataTable

NOTE_CSS = """
.muted { opacity: 0.8; font-size: 0.88rem; margin: 2px 0; }
"""
TABLE_ROLES = {"sites": "sites", "adrs": "response (ADRS)", "adae": "adverse events (ADAE)",
               "adtte": "time to event (ADTTE)", "adex": "exposure (ADEX)"}
FINDING_COLUMNS = ("Severity", "Rule id", "File", "Column", "Label", "Rule", "Rows", "Effect", "Examples")
LEFT_OUT_COLUMNS = ("Subject", "Dataset", "File", "Column", "Label", "Rule", "Value", "Effect")
WRAPPED = {"type": "textarea"}  # Tabulator's plain-text formatter with line wrapping (escapes HTML)


def _file_name(path) -> str:
    return PurePath(str(path)).name if path else ""


def findings_frame(report: ValidationReport, labels=None) -> pd.DataFrame:
    """One row per finding (blocking, then row-level, then informational) with file names, not paths, and
    each column's label (the dataset's own from `labels`, i.e. `TrialInfo.column_labels`, else the model's)."""
    rows = [
        {"Severity": f.severity, "Rule id": f.rule_id or "", "File": _file_name(f.source) or f.table,
         "Column": f.column or "", "Label": _label(f.table, f.column, labels), "Rule": f.rule, "Rows": f.count, "Effect": f.action or "",
         "Examples": "\n".join(f.examples)}
        for severity in SEVERITIES for f in report.of(severity)
    ]
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def _label(table, column, labels) -> str:
    """A variable's label for the Label column ('' when there is no column or no label beyond its name)."""
    if not isinstance(column, str) or not column:
        return ""
    label = column_label(str(table or ""), column, labels)
    return "" if label == column else label


def left_out_frame(dataset: TrialDataset) -> pd.DataFrame:
    """The quarantine for people: one row per record left out (or value set to missing) and rule."""
    q = dataset.quarantine
    labels = dataset.info.column_labels
    return pd.DataFrame({
        "Subject": q["USUBJID"], "Dataset": q["table"].str.upper(), "File": q["file"].map(_file_name),
        "Column": q["column"], "Label": [_label(t, c, labels) for t, c in zip(q["table"], q["column"])], "Rule": q["rule"], "Value": q["value"], "Effect": q["action"],
    }, columns=list(LEFT_OUT_COLUMNS)).reset_index(drop=True)


def provenance_frame(dataset: TrialDataset) -> pd.DataFrame:
    """Files read (dataset, file name, format, SHA-256); columns empty for every file are dropped."""
    files = dataset.provenance.get("files") or {}
    frame = pd.DataFrame(
        [{"Dataset": str(role).upper(), "File": _file_name(f.get("path")), "Format": str(f.get("format") or ""),
          "SHA-256": str(f.get("sha256") or "")} for role, f in files.items()],
        columns=["Dataset", "File", "Format", "SHA-256"])
    return frame[[c for c in frame.columns if frame[c].astype(bool).any()]]


def status_text(dataset: TrialDataset) -> tuple[str, str]:
    """(Markdown summary of the report, alert type): said once, whether or not there are findings."""
    report = dataset.report
    if not report.findings:
        return "**No findings**: every validation rule passed.", "success"
    row_level, info = len(report.of(ROW_LEVEL)), len(report.of(INFORMATIONAL))
    missing = int((dataset.quarantine["action"] == VALUE_SET_MISSING).sum())
    parts = []
    if row_level:
        parts.append(f"{row_level} row-level finding(s): {dataset.left_out()} record(s) left out of every figure, "
                     f"{missing} value(s) set to missing")
    if info:
        parts.append(f"{info} informational note(s) (derivations, imputations, files not used)")
    return (f"**These data load** with {' and '.join(parts)}. Each finding names the file, column, rule, "
            "rows and examples.", "warning" if row_level else "info")


def data_notes_html(dataset: TrialDataset) -> str:
    """The data cut and where it came from, the provenance line, and the datasets these data lack."""
    lines = [f'<p class="muted">Data cut <b>{dataset.cutoff.date().isoformat()}</b> '
             f"(source: {escape_html(dataset.cutoff_source)})</p>"]
    standard = dataset.provenance.get("standard")
    lines.append(f'<p class="muted">{escape_html(dataset.provenance_text())}'
                 + (f" · standard: {escape_html(str(standard))}" if standard else "") + "</p>")
    absent = [TABLE_ROLES[t] for t in OPTIONAL_TABLES if not dataset.has(t)]
    if absent:
        lines.append(f'<p class="muted">Not in these data: {escape_html(", ".join(absent))}. '
                     "Tabs and panels that need them say so.</p>")
    return "".join(lines)


class DataQualityView(TabView):
    """Data quality tab: the report by severity, the records left out, the data cut and the files read."""

    title = "Data quality"
    reads_tables = ()

    def __panel__(self) -> pn.viewable.Viewable:
        dataset = self.store.dataset
        text, kind = status_text(dataset)
        parts: list = [pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width")]
        if dataset.report.findings:
            parts += [pn.pane.Markdown("#### Findings"),
                      self._table(findings_frame(dataset.report, dataset.info.column_labels), "data_quality_findings",
                                  "Data quality findings", wrapped=("Rule", "Examples"), pagination="local",
                                  page_size=15)]
        if len(dataset.quarantine):
            parts += [pn.pane.Markdown(f"#### Records left out or changed ({len(dataset.quarantine)})"),
                      self._table(left_out_frame(dataset), "records_left_out", "Records left out or changed",
                                  wrapped=("Rule",), pagination="remote", page_size=20, header_filters=True)]
        parts += [pn.pane.Markdown("#### Data cut and provenance"),
                  pn.pane.HTML(data_notes_html(dataset), stylesheets=[NOTE_CSS], sizing_mode="stretch_width")]
        files = provenance_frame(dataset)
        if len(files):
            parts.append(self._table(files, "files_read", "Files read"))
        return pn.Column(*parts, sizing_mode="stretch_width")

    def _table(self, frame: pd.DataFrame, name: str, title: str, wrapped=(), **options) -> DataTable:
        """A table of the report with its downloads; `wrapped` columns wrap their text."""
        return DataTable(frame, store=self.store, name_in_file=name, title=title,
                         formatters={c: WRAPPED for c in wrapped if c in frame.columns}, **options)
