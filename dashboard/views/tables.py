"""The one table component of every view: a Tabulator fed by a transform's DataFrame, with CSV and
XLSX downloads that say what the table shows.

On screen: the design's light or dark colours (Panel's Bootstrap Tabulator theme reads the design's
CSS variables; frozen cells and group headers below do too), identifying columns frozen, column titles
and group headers escaped (Tabulator writes both as HTML), numeric columns right-aligned with their
headers. In the files: the trial, table, data cut, population, filters, generation time and any notes
(header rows in the CSV, a header block in the XLSX), percentages rounded, formula-like cells
neutralised, and one file name pattern `<trial>_<table>_cut<YYYY-MM-DD>.<ext>`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
import panel as pn
import param
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from ..code import software_versions
from ..links import filters_to_query
from ..store import TrialStore
from .escape import csv_download, escape_html_content, safe_filename, table_titles, xlsx_download

PERCENT_DIGITS = 1
# Compact rows, headers that wrap instead of being cut, and frozen cells and group headers painted with
# the design's colours (left transparent, scrolled cells would show through them in either theme).
TABLE_CSS = """
.tabulator, .tabulator .tabulator-row .tabulator-cell, .tabulator .tabulator-col-title { font-size: 13px !important; }
.tabulator .tabulator-row .tabulator-cell { padding: 3px 6px !important; }
.tabulator .tabulator-row .tabulator-cell, .tabulator .tabulator-row { min-height: 0 !important; }
.tabulator .tabulator-col .tabulator-col-content { padding: 4px 6px !important; }
.tabulator .tabulator-col .tabulator-col-title { white-space: normal !important; text-overflow: clip !important; }
.tabulator .tabulator-row .tabulator-cell.tabulator-frozen { background-color: inherit; }
.tabulator .tabulator-row { background-color: var(--bs-body-bg, var(--panel-background-color)); }
.tabulator .tabulator-row.tabulator-group { padding: 3px 6px !important; font-size: 13px !important;
  background-color: var(--bs-surface-bg, var(--panel-surface-color)); color: var(--bs-body-color, inherit); }
.tabulator .tabulator-row.tabulator-group span { color: inherit !important; opacity: 0.85; }
"""


def download_filename(store: TrialStore, table: str, ext: str) -> str:
    """`<trial>_<table>_cut<YYYY-MM-DD>.<ext>`: the one file-name pattern of every export."""
    return f"{safe_filename(store.dataset.info.registry_id)}_{safe_filename(table)}_cut{store.cutoff.isoformat()}.{ext}"


def label_width(label: str) -> int:
    """A button width (px) that fits `label` in the theme's font (about 8 px a character, plus padding)."""
    return 8 * len(label) + 44


def export_header(store: TrialStore, title: str, notes: Iterable[str] = (), *,
                  now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """What an export says about itself, as (label, text) rows: trial, table, data cut, population,
    filters, generation time (UTC), the package versions that made it, then one row per note."""
    info = store.dataset.info
    filters = "; ".join(f"{name}={value}" for name, value in filters_to_query(store).items())
    generated = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M:%S UTC")
    return [
        ("Trial", f"{info.registry_id}: {info.title}"),
        ("Table", title),
        ("Data cut", store.cutoff.isoformat()),
        ("Population", f"{store.population} population, {store.summary()}"),
        ("Filters", filters or "none"),
        ("Generated", generated),
        ("Software", software_versions()),
        *(("Note", note) for note in notes),
    ]


def percent_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric columns holding percentages (a '%' in the column name)."""
    return [c for c in frame.columns if "%" in str(c) and is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c])]


def rounded_percentages(frame: pd.DataFrame, digits: int = PERCENT_DIGITS) -> pd.DataFrame:
    """A copy of `frame` with its percentage columns rounded to `digits` decimals."""
    return frame.assign(**{c: frame[c].round(digits) for c in percent_columns(frame)})


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns shown right-aligned: numbers (not flags)."""
    return [c for c in frame.columns if is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c])]


class DataTable(pn.viewable.Viewer):
    """A table on screen with its CSV and XLSX downloads; every view shows its tables with this."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's store: data cut, population and filters of the files.")
    value = param.DataFrame(default=pd.DataFrame(), allow_refs=True,
                            doc="The table (a transform's DataFrame, or a reference to one that updates it).")
    name_in_file = param.String(doc="Table part of the download file names, e.g. 'ae_incidence'.")
    title = param.String(doc="The table's title in its downloads (and the download buttons' label).")
    notes = param.Parameter(default=(), doc="Footnotes written into the downloads: lines, or a function returning them.")
    export = param.Callable(default=None, allow_None=True,
                            doc="Function returning the frame the downloads write (default: the table shown, "
                                "without its hidden columns).")
    titles = param.Dict(default={}, allow_refs=True,
                        doc="Display titles of columns (column -> text, or a reference to such a dict); escaped.")
    right_aligned = param.List(default=[], item_type=str,
                               doc="Text columns that hold numbers (e.g. 'n (%)'), right-aligned like numeric ones.")
    text_columns = param.List(default=None, allow_None=True, item_type=str,
                              doc="When given, the only left-aligned columns: every other column holds figures.")

    def __init__(self, value=None, **params):
        tabulator = {k: params.pop(k) for k in list(params) if k not in self.param}
        super().__init__(**({"value": value} if value is not None else {}), **params)
        self._hidden = list(tabulator.get("hidden_columns", ()))
        self._groupby = list(tabulator.get("groupby", ()))
        options = dict(show_index=False, disabled=True, selectable=False, layout="fit_data_stretch",
                       sizing_mode="stretch_width")
        options.update(tabulator)
        options["stylesheets"] = [TABLE_CSS, *options.get("stylesheets", [])]
        self.table = pn.widgets.Tabulator(
            pn.bind(self._shown, self.param.value),
            titles=pn.bind(self._titles, self.param.value, self.param.titles),
            text_align=pn.bind(self._alignment, self.param.value),
            header_align=pn.bind(self._alignment, self.param.value),
            **options,
        )
        """The Tabulator (e.g. for `on_click`; its rows are the rows of `value`)."""
        self.csv_button = pn.widgets.FileDownload(
            callback=self.csv, filename=download_filename(self.store, self.name_in_file, "csv"),
            label=f"{self.title} (CSV)", color="primary", variant="outline", width=label_width(f"{self.title} (CSV)"))
        self.xlsx_button = pn.widgets.FileDownload(
            callback=self.xlsx, filename=download_filename(self.store, self.name_in_file, "xlsx"),
            label=f"{self.title} (XLSX)", color="primary", variant="outline", width=label_width(f"{self.title} (XLSX)"))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.table, pn.Row(self.csv_button, self.xlsx_button), sizing_mode="stretch_width")

    def _shown(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame as Tabulator gets it: group-by columns escaped (Tabulator writes group headers as HTML)."""
        return frame.assign(**{c: frame[c].map(escape_html_content) for c in self._groupby if c in frame.columns})

    def _titles(self, frame: pd.DataFrame, titles: dict[str, str]) -> dict[str, str]:
        return table_titles(frame.columns) | {c: escape_html_content(t) for c, t in titles.items()}

    def _alignment(self, frame: pd.DataFrame) -> dict[str, str]:
        if self.text_columns is not None:
            return {c: "right" for c in frame.columns if c not in self.text_columns}
        return {c: "right" for c in [*numeric_columns(frame), *self.right_aligned] if c in frame.columns}

    def frame_to_export(self) -> pd.DataFrame:
        """What the downloads write: `export()` or the table shown (hidden columns except group-by
        ones dropped, columns under their display titles), percentages rounded."""
        if self.export is not None:
            frame = self.export()
        else:
            frame = self.value.drop(columns=[c for c in self._hidden if c not in self._groupby], errors="ignore")
            frame = frame.rename(columns=self.titles)
        return rounded_percentages(frame)

    def header(self) -> list[tuple[str, str]]:
        """The header rows of the downloads (`export_header` of this table)."""
        notes = self.notes() if callable(self.notes) else self.notes
        return export_header(self.store, self.title, notes)

    def csv(self):
        """The CSV download: header rows as '# label: text' lines, then the table."""
        return csv_download(self.frame_to_export(), [f"{label}: {text}" for label, text in self.header()])

    def xlsx(self):
        """The XLSX download: a header block, a blank row, then the table."""
        return xlsx_download(self.frame_to_export(), self.header(), sheet=self.name_in_file)

