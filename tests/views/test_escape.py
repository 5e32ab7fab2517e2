"""Data text is never markup, without a browser: every sink of every view on a trial whose text
columns all carry injection payloads, the escape helpers themselves, CSV exports and file names.

The browser twin (tests/ui/test_xss.py) serves the same kind of trial and watches for dialogs.
"""

from __future__ import annotations

import csv
import html
import io
import re
from html.parser import HTMLParser

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import (
    ContinuousColorMapper,
    GlyphRenderer,
    HoverTool,
    MultiChoice,
    Title,
)
from panel.models.markup import HTML as HTMLModel
from panel.models.tabulator import DataTabulator

from dashboard.app import available_views, build_app
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.views.balance import BalanceView
from dashboard.views.enrollment import EnrollmentView
from dashboard.views.escape import (
    FORMULA_START,
    csv_download,
    escape_markdown,
    plot_title,
    safe_filename,
    spreadsheet_frame,
)
from dashboard.views.filters import FilterPanelView
from dashboard.views.safety import SafetyView
from tests.conftest import TINY_ADAE, TINY_ADSL, TINY_SITES
from tests.hostile_data import PAYLOADS, hostile_dataset

MSC, CONTROL = NCT02241018.arm_order
DANGEROUS_TAGS = {"img", "script", "a", "iframe", "svg", "math", "object", "embed"}
FIELD_REFERENCE = re.compile(r"(@\{[A-Za-z0-9_]+\}|@[A-Za-z0-9_]+|\$[a-z_]+)(\{[^{}]*\})?")


class _Markup(HTMLParser):
    """Elements, event-handler attributes and text of an HTML fragment."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.handlers, self.text = [], [], []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.handlers += [(n, v) for n, v in attrs if n.startswith("on") or "javascript:" in (v or "").lower()]

    def handle_data(self, data):
        self.text.append(data)


def injected(fragment: str) -> list:
    """What in an HTML fragment could run or link: dangerous elements and handler / javascript: attributes."""
    markup = _Markup(fragment)
    return [t for t in markup.tags if t in DANGEROUS_TAGS] + markup.handlers


def shown_text(fragment: str) -> str:
    return "".join(_Markup(fragment).text)


@pytest.fixture(scope="module")
def hostile(bundled):
    return hostile_dataset(bundled)


def _render_all_tabs(layout, doc: Document):
    """Render `layout`, then every tab of every Tabs inside it (tabs build their content when
    opened); returns the root model."""
    root = layout.get_root(doc)
    seen = set()
    while True:
        pending = [t for t in layout.select(pn.Tabs) if id(t) not in seen]
        if not pending:
            return root
        for tabs in pending:
            seen.add(id(tabs))
            for index in range(len(tabs)):
                tabs.active = index
                tabs[index].get_root(doc)


def _models(hostile) -> list:
    """Every Bokeh model of the sidebar and of every view and sub-tab on the hostile trial, and of
    the shown ones again after a filter change (one site), so updated models are seen too."""
    store = TrialStore(hostile)
    doc = Document()
    layouts = [pn.panel(FilterPanelView(store=store))] + [pn.panel(v(store=store)) for v in available_views(hostile)[0]]
    roots = [_render_all_tabs(layout, doc) for layout in layouts]
    models = [m for root in roots for m in root.references()]
    store.sites = [store.param.sites.objects[0]]
    return models + [m for root in roots for m in root.references()]


def test_every_sink_of_every_view_shows_data_as_text(hostile):
    models = _models(hostile)
    panes = [(html.unescape(m.text), m.disable_math) for m in models if isinstance(m, HTMLModel)]
    assert any(p in shown_text(t) for t, _ in panes for p in PAYLOADS), "the payloads did not reach the panes"
    for text, no_math in panes:
        assert not injected(text), text[:300]
        assert no_math or ("$$" not in text and "\\(" not in text)  # no TeX delimiter MathJax would render
    tables = [m for m in models if isinstance(m, DataTabulator)]
    assert tables
    for table in tables:
        for column in table.columns:
            assert not injected(column.title), column.title
        groups = [c for c in table.configuration.get("columns", []) if "columns" in c]
        for group in groups:
            assert not injected(group["title"]), group["title"]
    choices = [m for m in models if isinstance(m, MultiChoice)]
    arms = next(c for c in choices if c.title == "Arm")
    assert sorted(html.unescape(o) for o in arms.options) == sorted(hostile.arms)  # escaped once, shown as written
    for choice in choices:
        for option in choice.options:
            label = option if isinstance(option, str) else option[1]
            assert not injected(label), label
    tooltips = [t for m in models if isinstance(m, HoverTool) and isinstance(m.tooltips, list) for t in m.tooltips]
    assert tooltips
    for label, value in tooltips:
        # Bokeh parses a tooltip value as an HTML template with @/$ fields: only field references are safe.
        assert FIELD_REFERENCE.search(value) and not FIELD_REFERENCE.sub("", value).strip(), (label, value)
    titles = [m.text for m in models if isinstance(m, Title) and m.text]
    assert any(payload in t for t in titles for payload in PAYLOADS)  # titles show data, braces and all


def test_template_title_is_escaped_in_the_page_header(hostile, tmp_path):
    template = build_app(hostile)
    page = tmp_path / "page.html"
    template.save(str(page), resources="cdn")
    header = re.search(r'<a class="title"[^>]*>(.*?)</a>', page.read_text(), re.DOTALL).group(1)
    assert not injected(header)
    assert shown_text(header).strip() == f"{hostile.info.registry_id} · {hostile.info.short_name}"


def test_markdown_escape_shows_every_payload_as_written():
    for payload in (*PAYLOADS, "1. list", "# heading", "- item", ":smile: www.example.com a@b.org", "| a | b |"):
        pane = pn.pane.Markdown(f"Site {escape_markdown(payload)} and {escape_markdown(payload)}")
        rendered = html.unescape(pane.get_root(Document()).text)
        assert not injected(rendered)
        assert set(_Markup(rendered).tags) <= {"p", "span"}, rendered
        assert shown_text(rendered).strip() == f"Site {payload} and {payload}"


def test_plot_titles_keep_braces_and_fields():
    for payload in PAYLOADS:
        figure = hv.render(hv.Curve([1, 2]).opts(title=plot_title(f"{payload} (N=3)")))
        assert figure.title.text == f"{payload} (N=3)"


def test_file_names_keep_letters_digits_dots_and_dashes():
    assert safe_filename("NCT02241018") == "NCT02241018"
    assert safe_filename("<img src=x onerror=alert(1)>NCT/../x") == "img_src_x_onerror_alert_1_NCT_.._x"
    assert safe_filename("../..") == "data"


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _formula_cells(text: str) -> list[str]:
    """Cells a spreadsheet would evaluate: starting with = + - @ tab or CR and not a plain number."""
    return [c for c in _cells(text) if c.lstrip(" ").startswith(FORMULA_START)
            and not re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", c)]


def test_spreadsheet_cells_are_neutralised_and_numbers_kept():
    frame = pd.DataFrame({"TERM": ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "Nausea", "-0.5", None],
                          "RD": [-0.5, 1.0, -12.25, 0.0, 2.5, np.nan, 3.0, -1.0]})
    out = spreadsheet_frame(frame)
    assert out["TERM"].tolist()[:7] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "Nausea", "-0.5"]
    assert pd.isna(out["TERM"].iloc[7])
    pd.testing.assert_series_equal(out["RD"], frame["RD"])  # numbers untouched
    assert frame["TERM"].iloc[0] == "=1+1"  # the input frame is not modified
    text = csv_download(frame, ["trial X, =cmd|' /C calc'!A0, data cut 2024-03-31"]).getvalue()
    assert text.startswith("# trial X,")
    assert not _formula_cells(text)
    assert pd.read_csv(io.StringIO(text), comment="#")["RD"].tolist()[:3] == [-0.5, 1.0, -12.25]


def test_adverse_event_csv_has_no_formula_cells_and_keeps_negative_numbers():
    terms = {"Pneumonia": '=HYPERLINK("http://example.com","click")', "Nausea": "+cmd|' /C calc'!A0",
             "Sepsis": "@SUM(1+1)*cmd|' /C calc'!A0"}
    adae = TINY_ADAE.assign(AEDECOD=TINY_ADAE["AEDECOD"].replace(terms),
                            AEBODSYS=TINY_ADAE["AEBODSYS"].replace({"Infections and infestations": "-Infections"}))
    dataset = TrialDataset.create(TINY_ADSL.copy(), cutoff="2017-06-30", info=NCT02241018, sites=TINY_SITES.copy(),
                                  adae=adae)
    view = SafetyView(store=TrialStore(dataset))
    layout = pn.panel(view)
    layout.get_root(Document())
    download = layout.select(pn.widgets.FileDownload)[0]
    text = download.callback().getvalue()
    assert "'" + terms["Pneumonia"] in _cells(text)  # the term is there, as text
    assert not _formula_cells(text)
    exported = pd.read_csv(io.StringIO(text), comment="#")  # after the header rows
    risk = view.risk()
    assert (risk["RD_LOW"] < 0).any()
    merged = exported.dropna(subset=["RD_LOW"]).drop_duplicates("TERM").set_index("TERM")
    for row in risk.itertuples():
        term = "'" + row.AEDECOD if str(row.AEDECOD).startswith(FORMULA_START) else row.AEDECOD
        assert merged.loc[term, "RD_LOW"] == pytest.approx(row.RD_LOW)  # negative numbers stay numbers


def test_site_and_table1_csvs_have_no_formula_cells(hostile):
    store = TrialStore(hostile)
    texts, names = [], []
    for view in (EnrollmentView, BalanceView):
        layout = pn.panel(view(store=store))
        layout.get_root(Document())
        for download in layout.select(pn.widgets.FileDownload):
            assert re.fullmatch(r"[A-Za-z0-9._-]+", download.filename), download.filename
            if download.filename.endswith(".csv"):
                texts.append(download.callback().getvalue())
                names.append(download.filename)
    assert any("_site_performance_" in n for n in names) and any("_table1_" in n for n in names), names
    for text, name in zip(texts, names):
        assert not _formula_cells(text), name
        if "_site_performance_" in name or "_table1_" in name:
            assert any(payload in text for payload in PAYLOADS[:2]), name


def test_one_arm_volcano_keeps_colour_columns_text():
    """The freeze of the Adverse events tab: with one arm left, the empty volcano frame had a float
    colour column, Bokeh rejected the update ("invalid color array") and Panel's table resize loop
    spun on the rejection. A colour read from a column must read text (this tab has no colour scale)."""
    dataset = TrialDataset.create(TINY_ADSL.copy(), cutoff="2017-06-30", info=NCT02241018, adae=TINY_ADAE.copy())
    view = SafetyView(store=TrialStore(dataset))
    layout = pn.panel(view)
    root = layout.get_root(Document())
    checked = 0
    for arms in ([], [MSC]):
        view.store.arms = arms
        for renderer in [m for m in root.references() if isinstance(m, GlyphRenderer)]:
            for prop in ("fill_color", "line_color"):
                spec = getattr(renderer.glyph, prop, None)
                field = getattr(spec, "field", None)
                if field is None:
                    continue  # one colour for the whole glyph
                column = np.asarray(renderer.data_source.data.get(field, []))
                assert column.dtype.kind not in "fiu", (arms, prop, column.dtype)
                assert not isinstance(spec.transform, ContinuousColorMapper), (arms, prop, spec.transform)
                checked += 1
    assert checked, "no glyph read its colour from a column"
