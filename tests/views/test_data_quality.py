"""Data quality tab without a browser: findings and records left out as Tabulator frames, the data cut
and its source, provenance without empty columns, and one status line whether or not there are findings."""

from __future__ import annotations

import pandas as pd
import panel as pn

from dashboard.model.dataset import TrialDataset
from dashboard.model.rules import INFORMATIONAL, ROW_LEVEL
from dashboard.model.validation import Finding, ValidationReport
from dashboard.store import TrialStore
from dashboard.views.base import left_out_note, left_out_text
from dashboard.views.data_quality import (DataQualityView, data_notes_html, findings_frame, left_out_frame,
                                          provenance_frame)
from tests.conftest import TINY_ADAE, TINY_ADSL, TINY_SITES


def _texts(layout) -> str:
    return "\n".join(str(p.object) for p in layout.select(lambda o: isinstance(o, (pn.pane.Markdown, pn.pane.HTML,
                                                                                      pn.pane.Alert))))


def _broken_tiny() -> TrialDataset:
    """The tiny trial with one orphan AE (<script> in its id) and an impossible age."""
    adae = pd.concat([TINY_ADAE, TINY_ADAE.iloc[[0]].assign(USUBJID="<script>x</script>")], ignore_index=True)
    adsl = TINY_ADSL.assign(AGE=[30.0, 45.0, 152.0, 25.0, 60.0, 40.0])
    return TrialDataset.create(adsl, cutoff="2017-06-30", sites=TINY_SITES.copy(), adae=adae,
                               sources={"adae": "/d/adae.csv", "adsl": "/d/adsl.csv"})


def test_findings_frame_lists_row_level_before_informational_with_file_names():
    report = ValidationReport([
        Finding(INFORMATIONAL, "adsl", "SEX", "derived", 1, ("row 2: SEX='<b>'",), "/d/adsl.csv"),
        Finding(ROW_LEVEL, "adae", "ATOXGR", "grade out of range", 3, (), "/d/adae.xpt", rule_id="value-out-of-range",
                action="value set to missing"),
    ])
    frame = findings_frame(report)
    assert frame[["Severity", "File", "Column", "Rows", "Effect"]].values.tolist() == [
        [ROW_LEVEL, "adae.xpt", "ATOXGR", 3, "value set to missing"], [INFORMATIONAL, "adsl.csv", "SEX", 1, ""]]
    assert frame.loc[1, "Examples"] == "row 2: SEX='<b>'"


def test_view_on_clean_data_says_no_findings_once_and_has_no_empty_columns(tiny):
    layout = DataQualityView(store=TrialStore(tiny)).__panel__()
    text = _texts(layout)
    assert text.count("No findings") == 1 and "Data cut <b>2017-06-30</b> (source: stated with the data)" in text
    assert not layout.select(pn.widgets.Tabulator)  # no findings, nothing left out, no files read
    assert "sidebar" not in text and "Not in these data: time to event (ADTTE), exposure (ADEX)" in text


def test_view_lists_findings_and_records_left_out_as_tables():
    dataset = _broken_tiny()
    layout = DataQualityView(store=TrialStore(dataset)).__panel__()
    tables = {"findings" if "Severity" in t.value else "left out": t.value for t in layout.select(pn.widgets.Tabulator)}
    assert len(tables) == len(layout.select(pn.widgets.Tabulator)) == 2
    left = tables["left out"]
    assert left[["Subject", "Dataset", "File", "Column", "Value", "Effect"]].values.tolist() == [
        ["S3", "ADSL", "adsl.csv", "AGE", "152", "value set to missing"],
        ["<script>x</script>", "ADAE", "adae.csv", "USUBJID", "<script>x</script>", "row left out"]]
    pd.testing.assert_frame_equal(left, left_out_frame(dataset))
    assert tables["findings"]["Rule id"].tolist() == ["value-out-of-range", "orphan-record"]
    assert "1 record(s) left out of every figure, 1 value(s) set to missing" in layout[0].object
    for table in layout.select(pn.widgets.Tabulator):  # data text only through Tabulator's escaping formatters
        assert all(f.get("type") in ("textarea", "plaintext") for f in table.formatters.values())


def test_left_out_note_counts_the_tables_a_view_reads():
    dataset = _broken_tiny()
    assert left_out_text(dataset, "adae") == "1 adverse-event record left out by data checks, see Data quality."
    assert left_out_text(dataset, "adrs") == "" and not left_out_note(dataset, "adrs").visible
    assert left_out_note(dataset).visible


def test_provenance_lists_each_file_with_its_sha256_and_format(tmp_path, tiny):
    import hashlib

    from dashboard.model.dataset import METADATA_FILE, write_dataset
    from dashboard.loaders import load_dataset

    write_dataset(tiny, tmp_path, "csv")
    files = provenance_frame(load_dataset(tmp_path))
    assert files.set_index("Dataset").loc["ADAE", "Format"] == "csv"
    (tmp_path / METADATA_FILE).unlink()
    loaded = load_dataset(tmp_path)
    files = provenance_frame(loaded)
    digest = hashlib.sha256((tmp_path / "adae.csv").read_bytes()).hexdigest()
    assert files.set_index("Dataset").loc["ADAE", ["File", "SHA-256"]].tolist() == ["adae.csv", digest]
    assert "standard: ADaM" in data_notes_html(loaded) and "source: latest date in the data" in data_notes_html(loaded)
