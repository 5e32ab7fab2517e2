"""Show code: the generated script of every tab and sub-tab runs on its own (loading the files, restoring the
filters from the link) and its `data` equals what the view shows, on the bundled trial and the CDISC pilot."""

from __future__ import annotations


import nbformat
import pandas as pd
import pytest

from dashboard.app import available_views
from dashboard.code import PARTS, parts_of, view_code, view_data, view_notebook
from dashboard.loaders import load_dataset
from dashboard.model import load_bundled
from dashboard.store import TrialStore
from tests.conftest import shared_path

# A filter set per trial, as a shared link would carry it.
LINKS = {
    "bundled": "?sites=01,02,03,05&sexes=M&population=Safety",
    "cdiscpilot01": "?sexes=F&age_range=60-85",
}


@pytest.fixture(scope="module", params=list(LINKS))
def store(request):
    dataset = load_bundled() if request.param == "bundled" else load_dataset(shared_path("data", "external",
                                                                                         "cdiscpilot01_adam"))
    store = TrialStore.from_url(dataset, LINKS[request.param])
    assert 0 < len(store.subjects()) < len(dataset.randomized)  # the filters do narrow the patients
    return store


def _normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as text and a fresh index: the view draws categories as text."""
    return frame.assign(**{c: frame[c].astype(str) for c in frame.columns
                           if isinstance(frame[c].dtype, pd.CategoricalDtype)}).reset_index(drop=True)


def test_every_tab_of_both_trials_has_code(store):
    views, _ = available_views(store.dataset)
    assert {v.title for v in views} <= {p.tab for p in PARTS}
    assert all(parts_of(v(store=store)) for v in views)


def test_generated_code_reproduces_every_part(store):
    views, _ = available_views(store.dataset)
    checked = []
    for view_class in views:
        view = view_class(store=store)
        view.__panel__()
        for part in parts_of(view):
            namespace: dict = {}
            exec(compile(view_code(view, part.name), f"<{view.title}: {part.name}>", "exec"), namespace)
            generated, shown = _normalized(namespace["data"]), _normalized(view_data(view, part.name))
            assert len(shown), f"{view.title} / {part.name} shows no rows: the comparison would prove nothing"
            pd.testing.assert_frame_equal(generated[list(shown.columns)], shown, check_dtype=False,
                                          obj=f"{view.title} / {part.name}")
            checked.append((view.title, part.name))
    assert len(checked) >= (17 if store.dataset.has("adrs") else 10)


def test_download_as_notebook_has_the_provenance_header_and_runs(tmp_path):
    from nbclient import NotebookClient

    from dashboard.code import package_versions
    from dashboard.views.balance import BalanceView

    dataset = load_bundled()
    view = BalanceView(store=TrialStore.from_url(dataset, "?arms=MSC&population=Evaluable"))
    notebook = view_notebook(view, "Table 1")
    header = notebook.cells[0].source
    for f in dataset.provenance["files"].values():
        assert f["sha256"] in header
    assert "data cut **2024-03-31**" in header and "`?arms=MSC&population=Evaluable`" in header
    assert f"panel {package_versions()['panel']}" in header and "trial-dashboard 0.1.0" in header
    path = tmp_path / "table1.ipynb"
    nbformat.write(notebook, path)
    executed = nbformat.read(path, as_version=4)
    executed.cells.append(nbformat.v4.new_code_cell(f"data.to_pickle({str(tmp_path / 'data.pkl')!r})"))
    NotebookClient(executed, kernel_name="python3", timeout=300).execute()
    assert executed.cells[1].outputs[-1]["output_type"] == "execute_result"  # the table is shown
    pd.testing.assert_frame_equal(pd.read_pickle(tmp_path / "data.pkl"), view.current_table1())


def test_generated_code_follows_the_sub_tabs_own_choices():
    """A visit or endpoint chosen inside the Response tab is the one its code uses (not the default)."""
    from dashboard.views.response import ResponseView

    store = TrialStore.from_url(load_bundled(), LINKS["bundled"])
    view = ResponseView(store=store)
    transitions, subgroups, survival = (view.sections[n] for n in ("Transitions", "Subgroups", "Time to event"))
    visits = transitions.param.start.objects
    transitions.param.update(start=visits[0], end=visits[1])
    subgroups.visit = visits[0]
    survival.endpoint = next(e for e in survival.param.endpoint.objects if e != survival.endpoint)
    for name, chosen in [("Transitions", repr(visits[1])), ("Subgroups", repr(visits[0])),
                         ("Time to event", repr(survival.endpoint))]:
        code = view_code(view, name)
        assert chosen in code, name
        namespace: dict = {}
        exec(compile(code, f"<{name}>", "exec"), namespace)
        shown = _normalized(view_data(view, name))
        pd.testing.assert_frame_equal(_normalized(namespace["data"])[list(shown.columns)], shown, check_dtype=False,
                                      obj=name)
