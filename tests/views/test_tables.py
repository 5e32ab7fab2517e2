"""The shared table component: what the Tabulator gets and what its CSV and XLSX downloads contain."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import panel as pn
import pytest
from openpyxl import load_workbook

from dashboard.store import TrialStore
from dashboard.views.escape import escape_html_content
from dashboard.views.tables import DataTable, download_filename, export_header, rounded_percentages

FRAME = pd.DataFrame({
    "Body system": ["<b>Infections</b>", "<b>Infections</b>", "Skin"],
    "Term": ["=cmd|' /C calc'!A0", "Sepsis", "@SUM(A1)"],
    "Patients": [3, 1, 2],
    "Incidence (%)": [42.857142, 14.285714, 28.571428],
    "Change": ["-0.5", "+3", "-x"],
    "KEY": ["a", "b", "c"],
})


@pytest.fixture
def store(tiny):
    return TrialStore(tiny, sites=["01"])


def _table(store, **options) -> DataTable:
    return DataTable(FRAME, store=store, name_in_file="ae incidence", title="AE incidence", groupby=["Body system"],
                     hidden_columns=["KEY"], frozen_columns=["Term"], right_aligned=["Change"],
                     notes=["Incidence: % of the arm's patients."], **options)


def test_tabulator_gets_escaped_titles_and_groups_and_right_aligned_numbers(store):
    table = _table(store, titles={"Term": "Preferred <term>"}).table
    assert list(table.value["Body system"]) == [escape_html_content(v) for v in FRAME["Body system"]]
    assert list(table.value["Term"]) == list(FRAME["Term"])
    assert table.titles["Term"] == "Preferred &lt;term&gt;"
    assert table.titles["Body system"] == "Body system"
    assert table.text_align == {"Patients": "right", "Incidence (%)": "right", "Change": "right"}
    assert table.header_align == table.text_align
    assert table.frozen_columns == ["Term"] and table.groupby == ["Body system"] and table.disabled


def test_table_follows_a_reference_and_downloads_the_current_frame(store):
    pick = pn.widgets.IntSlider(start=1, end=3, value=3)
    table = DataTable(pn.bind(lambda n: FRAME.head(n), pick), store=store, name_in_file="t", title="T")
    assert len(table.table.value) == 3
    pick.value = 1
    assert len(table.table.value) == 1
    assert len(table.frame_to_export()) == 1


def test_file_names_follow_one_pattern(store):
    registry = store.dataset.info.registry_id
    cut = store.dataset.cutoff.date().isoformat()
    assert download_filename(store, "site performance", "xlsx") == f"{registry}_site_performance_cut{cut}.xlsx"
    table = _table(store)
    assert table.csv_button.filename == f"{registry}_ae_incidence_cut{cut}.csv"
    assert table.xlsx_button.filename == f"{registry}_ae_incidence_cut{cut}.xlsx"


def test_export_header_names_trial_cut_population_filters_and_time(store):
    now = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.timezone.utc)
    header = dict(export_header(store, "AE incidence", ["a note"], now=now))
    info = store.dataset.info
    assert header["Trial"] == f"{info.registry_id}: {info.title}"
    assert header["Data cut"] == store.dataset.cutoff.date().isoformat()
    assert header["Population"] == f"ITT population, {store.summary()}"
    assert header["Filters"] == "sites=01"
    assert header["Generated"] == "2026-11-27 15:00:00 UTC"
    assert header["Software"].startswith("trial-dashboard 0.1.0, panel ") and "pandas " in header["Software"]
    assert header["Note"] == "a note"
    store.sites = []
    assert dict(export_header(store, "x"))["Filters"] == "none"


def test_percentages_are_rounded_and_other_numbers_kept():
    out = rounded_percentages(FRAME)
    assert list(out["Incidence (%)"]) == [42.9, 14.3, 28.6]
    assert list(out["Patients"]) == [3, 1, 2]
    assert FRAME["Incidence (%)"].iloc[0] == 42.857142  # input untouched


def test_csv_has_header_rows_raw_groups_no_hidden_columns_and_no_formulas(store):
    text = _table(store).csv().getvalue()
    lines = text.splitlines()
    assert lines[0].startswith("# Trial: ")
    assert any(line.startswith("# Data cut: ") for line in lines)
    assert "# Filters: sites=01" in lines
    assert "# Note: Incidence: % of the arm's patients." in lines
    body = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    assert list(body.columns) == ["Body system", "Term", "Patients", "Incidence (%)", "Change"]
    assert list(body["Body system"]) == list(FRAME["Body system"])  # files hold text, not HTML escapes
    assert list(body["Term"]) == ["'=cmd|' /C calc'!A0", "Sepsis", "'@SUM(A1)"]
    assert list(body["Change"]) == ["-0.5", "+3", "'-x"]
    assert list(body["Incidence (%)"]) == ["42.9", "14.3", "28.6"]


def test_xlsx_has_header_block_text_cells_and_rounded_percentages(store):
    sheet = load_workbook(_table(store).xlsx()).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    labels = [r[0] for r in rows[:8]]
    assert labels == ["Trial", "Table", "Data cut", "Population", "Filters", "Generated", "Software", "Note"]
    assert rows[4][1] == "sites=01"
    assert rows[8] == [None] * len(rows[8])
    assert rows[9][:5] == ["Body system", "Term", "Patients", "Incidence (%)", "Change"]
    formula = sheet.cell(11, 2)
    assert formula.value == "=cmd|' /C calc'!A0" and formula.data_type == "s" and formula.quotePrefix
    assert sheet.cell(12, 2).value == "Sepsis" and not sheet.cell(12, 2).quotePrefix
    assert [sheet.cell(r, 3).value for r in (11, 12, 13)] == [3, 1, 2]
    assert [sheet.cell(r, 4).value for r in (11, 12, 13)] == [42.9, 14.3, 28.6]
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_export_function_replaces_the_shown_frame(store):
    table = DataTable(FRAME, store=store, name_in_file="t", title="T",
                      export=lambda: pd.DataFrame({"Rate (%)": [1.26]}))
    assert table.frame_to_export().to_dict("list") == {"Rate (%)": [1.3]}
