"""Data quality tab without a browser: findings split by severity, text escaped, provenance shown."""

from __future__ import annotations

from dashboard.data.validation import ERROR, WARNING, Finding, ValidationReport
from dashboard.store import TrialStore
from dashboard.views.data_quality import DataQualityView, findings_html, provenance_html


def test_findings_table_escapes_data_text_and_lists_errors_first():
    report = ValidationReport([
        Finding(WARNING, "adsl", "SEX", "unknown category", 1, ("row 2: SEX='<script>x</script>'",), "/d/adsl.csv"),
        Finding(ERROR, "adae", "ATOXGR", "grade out of range", 3, (), "/d/adae.xpt"),
    ])
    text = findings_html(report)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert text.index("grade out of range") < text.index("unknown category")
    assert "1 error(s), 1 warning(s)" in text and "adsl.csv" in text and "/d/" not in text


def test_view_builds_on_the_tiny_trial_and_shows_provenance(tiny):
    view = DataQualityView(store=TrialStore(tiny))
    layout = view.__panel__()
    assert "No findings" in layout[0].object
    assert DataQualityView.unavailable_reason(tiny) is None
    prov = provenance_html(tiny)
    assert "Not in these data: time to event (ADTTE), exposure (ADEX)" in prov


def test_provenance_lists_each_file_with_its_sha256(tmp_path, tiny):
    import hashlib

    from dashboard.data.dataset import METADATA_FILE, write_dataset
    from dashboard.loaders import load_dataset

    write_dataset(tiny, tmp_path, "csv")
    (tmp_path / METADATA_FILE).unlink()
    prov = provenance_html(load_dataset(tmp_path))
    digest = hashlib.sha256((tmp_path / "adae.csv").read_bytes()).hexdigest()
    assert "adae.csv" in prov and digest in prov and "standard: ADaM" in prov
