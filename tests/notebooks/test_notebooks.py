"""Every notebook in notebooks/ runs end to end on the python3 kernel (and is stored without outputs); the
analysis notebooks also run on the CDISC pilot by changing their one DATA line, and render to HTML."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ANALYSES = ["03_efficacy.ipynb", "04_safety_review.ipynb", "05_enrollment_forecast.ipynb", "06_compare_cuts.ipynb"]
# Where the rendered HTML goes (kept for a person to look at when set, else a temporary folder).
HTML_DIR = os.environ.get("TRIAL_DASHBOARD_NOTEBOOK_HTML")
# What each analysis notebook's outputs must show on the bundled trial.
EXPECTED = {
    "03_efficacy.ipynb": ["95% Newcombe CI", "CMH, stratified by STRATGR", "Aalen-Johansen (competing risks)",
                          "Cox model", "p_interaction", "sha256"],
    "04_safety_review.ipynb": ["Safety population", "terms flagged", "AEDECOD", "sha256"],
    "05_enrollment_forecast.ipynb": ["Enrollment at the data cut", "Months active end at", "Target reached", "sha256"],
    "06_compare_cuts.ipynb": ["data cut 2019-06-30 compared with 2018-06-30", "Patients randomized",
                              "SAEs and grade >= 3 AEs", "AE rate", "Forecast at cut", "sha256"],
}


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_quick_tour.ipynb", "02_load_another_dataset.ipynb", *ANALYSES]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    assert not [c for c in notebook.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_loads_panel_javascript_from_the_package_not_a_cdn(path):
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert re.search(r"pn\.extension\([^)]*inline=True", code)


def _execute(path: Path, data: Path | None = None) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    if data is not None:  # the one line a user changes
        line = notebook.cells[1]
        assert line.source.startswith("DATA = None")
        line.source = line.source.replace("DATA = None", f"DATA = {str(data)!r}", 1)
    NotebookClient(notebook, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    return notebook


def _outputs_text(notebook) -> str:
    """What the code cells printed and displayed as text, Markdown or HTML tables."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts += [data.get(kind, "") for kind in ("text/plain", "text/markdown", "text/html")]
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_end_to_end_and_renders(path, tmp_path):
    from nbconvert import HTMLExporter

    notebook = _execute(path)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    out = Path(HTML_DIR or tmp_path) / path.with_suffix(".html").name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html)
    shown = _outputs_text(notebook)
    missing = [text for text in EXPECTED.get(path.name, []) if text not in shown]
    assert missing == [], f"the outputs of {path.name} (rendered in {out}) lack {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in ANALYSES if n != "06_compare_cuts.ipynb"])  # the pilot has one cut
def test_analysis_notebook_runs_on_the_cdisc_pilot_by_changing_one_line(name):
    notebook = _execute(ROOT / "notebooks" / name, shared_path("data", "external", "cdiscpilot01_adam"))
    text = _outputs_text(notebook)
    assert "adsl.xpt" in text  # the provenance header names the pilot's files
    if name == "03_efficacy.ipynb":  # the pilot has no response data: said, not failed
        assert "No response assessments (ADRS)" in text and "Kaplan-Meier" in text


@pytest.mark.slow
def test_compare_cuts_notebook_runs_on_another_series_by_changing_one_line(tmp_path):
    """Another trial's cuts (a generated series: another seed, size and dates) through the DATA line."""
    from dashboard.synthetic.cut_series import generate_series_to_folder

    generate_series_to_folder(tmp_path / "cuts", "2016-03-31,2017-09-30", seed=7, subjects=120)
    text = _outputs_text(_execute(ROOT / "notebooks" / "06_compare_cuts.ipynb", tmp_path / "cuts"))
    assert "data cut 2017-09-30 compared with 2016-03-31" in text and str(tmp_path / "cuts" / "2017-09-30") in text
    assert "Patients randomized" in text and "Forecast at cut" in text
