"""Data text is never markup: how a value from a data file reaches each kind of sink safely.

Every view passes data values through these functions where they land: HTML panes and attributes,
Markdown panes and alerts, Tabulator column titles, multi-select option labels (Choices.js renders
them as HTML), plot titles (HoloViews formats them with `str.format`), hover tooltips (Bokeh parses
a tooltip template as HTML with `@`/`$` fields), download file names, and spreadsheet cells of CSV
exports (formula injection).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

# Characters that make inline Markdown (markdown-it "gfm-like" with Panel's plugins: links, images,
# emphasis, code, emoji, linkify, footnotes, tables) or HTML; a value's first character, when not a
# letter or digit, can also start a block (heading, list, quote, code), and a '.' before a letter
# makes a domain name linkify turns into a link.
MARKDOWN_INLINE = frozenset("\\`*_[]<>&!~|:{}^@")
# MathJax finds TeX between $$..$$, \(..\) and \[..\] in a rendered Markdown pane's HTML: an empty
# element after each '$' and '\\' keeps data from ever forming a delimiter.
TEX_CHARACTERS = frozenset("$\\")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_html(value) -> str:
    """Text for HTML element content or a quoted attribute value."""
    return html.escape(str(value), quote=True)


def escape_html_content(value) -> str:
    """Text for HTML element content only (quotes kept as typed: "People's Hospital")."""
    return html.escape(str(value), quote=False)


def escape_markdown(value) -> str:
    """Text for a Markdown pane or alert, shown as written: Markdown- and HTML-significant characters
    become numeric character references (Markdown shows them as characters, never as syntax), TeX
    delimiters are broken up, and line breaks become spaces (a line break can start a block)."""
    text = re.sub(r"[\r\n]+", " ", str(value))
    out = []
    for i, c in enumerate(text):
        if c in TEX_CHARACTERS:
            out.append(f"&#{ord(c)};<span></span>")
        elif (c in MARKDOWN_INLINE or (i == 0 and not c.isalnum()) or (c in ".)" and text[:i].isdigit())
              or (c == "." and text[i + 1:i + 2].isalpha())):
            out.append(f"&#{ord(c)};")
        else:
            out.append(c)
    return "".join(out)


def plot_title(value) -> str:
    """Text for a HoloViews title option (formatted with `str.format`: braces are doubled)."""
    return str(value).replace("{", "{{").replace("}", "}}")


def tooltip_field(column: str) -> str:
    """A Bokeh hover-tooltip value showing `column` of the hovered point: the tooltip template holds
    the column reference, never the data value (Bokeh escapes the value it substitutes)."""
    return f"@{{{column}}}"


def choice_options(options: Mapping[str, object] | Iterable[str]) -> dict[str, object]:
    """Options for a `MultiChoice` (label -> value) with the labels escaped: Bokeh's Choices.js
    widget inserts labels as HTML (its `allowHTML` default), so an escaped label shows as text."""
    pairs = options.items() if isinstance(options, Mapping) else ((o, o) for o in options)
    return {escape_html_content(label): value for label, value in pairs}


def table_titles(columns: Iterable[str]) -> dict[str, str]:
    """Tabulator column titles (rendered as HTML by Tabulator) that show each column name as text."""
    return {column: escape_html_content(column) for column in columns}


def safe_filename(value) -> str:
    """A download file name part: letters, digits, '.', '-' and '_' only (others become '_')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).strip("._") or "data"


def is_formula_text(value) -> bool:
    """Whether a spreadsheet would read `value` as a formula: text starting with = + - @ tab or CR
    (OWASP CSV injection) that is not just a number such as '-0.5'."""
    return (isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_START)
            and not NUMBER.fullmatch(value.strip()))


def spreadsheet_cell(value):
    """A cell a spreadsheet shows as text: formula-like text (`is_formula_text`) gets a leading
    single quote (OWASP); other values stay as they are."""
    return "'" + value if is_formula_text(value) else value


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are `spreadsheet_cell`s (numeric columns untouched)."""
    out = frame.rename(columns=lambda c: spreadsheet_cell(str(c)))
    for i, column in enumerate(out.columns):
        series = out.iloc[:, i]
        if series.dtype == object or isinstance(series.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            out.isetitem(i, series.astype(object).map(spreadsheet_cell))
    return out


def csv_download(frame: pd.DataFrame, comments: Iterable[str] = ()) -> io.StringIO:
    """A CSV export (for `FileDownload`): '# ' comment lines (trial, data cut, filters), then the
    table, every text cell safe to open in a spreadsheet."""
    buffer = io.StringIO()
    for line in comments:
        buffer.write(_comment_line(line))
    spreadsheet_frame(frame).to_csv(buffer, index=False)
    buffer.seek(0)
    return buffer


def xlsx_download(frame: pd.DataFrame, header: Iterable[tuple[str, str]] = (), sheet: str = "Table") -> io.BytesIO:
    """An XLSX export (for `FileDownload`): a header block of (label, text) rows (trial, data cut,
    filters), a blank row, then the table with bold column names. Every text cell is stored as text
    (never a formula); formula-like text also gets Excel's quote prefix, so editing it keeps it text."""
    book = Workbook()
    worksheet = book.active
    worksheet.title = safe_filename(sheet)[:31]
    bold = Font(bold=True)
    row = 0
    for row, (label, text) in enumerate(header, start=1):
        _text_cell(worksheet, row, 1, label).font = bold
        _text_cell(worksheet, row, 2, text)
    row += 2 if row else 1
    for column, name in enumerate(frame.columns, start=1):
        _text_cell(worksheet, row, column, name).font = bold
    for values in frame.itertuples(index=False, name=None):
        row += 1
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                _text_cell(worksheet, row, column, value)
            elif not _missing(value):
                worksheet.cell(row, column, value.item() if hasattr(value, "item") else value)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def _text_cell(sheet, row: int, column: int, text: str):
    """A worksheet cell holding `text` as text, whatever its first character."""
    cell = sheet.cell(row, column)
    cell.value = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", str(text))  # characters XML cannot hold
    cell.data_type = "s"
    cell.quotePrefix = is_formula_text(cell.value)
    return cell


def _missing(value) -> bool:
    """Whether a table value is missing (None, NaN, NaT, pd.NA): written as an empty cell."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _comment_line(text: str) -> str:
    """'# text' on one line; a spreadsheet splits it at commas, so each piece is made safe too."""
    pieces = re.sub(r"[\r\n]+", " ", str(text)).split(",")
    pieces = [pieces[0], *[_comment_piece(p) for p in pieces[1:]]]
    return "# " + ",".join(pieces) + "\n"


def _comment_piece(piece: str) -> str:
    """A comma-separated piece of a comment line as a `spreadsheet_cell` (also when it opens a quote)."""
    return "'" + piece if piece.lstrip(" ").startswith('"') else spreadsheet_cell(piece)
