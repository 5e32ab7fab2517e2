"""The Show code card of a tab (no browser): code follows the filters and the chosen sub-tab; the notebook
download carries the same code."""

from __future__ import annotations

import nbformat
import panel as pn

from dashboard.model import load_bundled
from dashboard.store import TrialStore
from dashboard.views.balance import BalanceView
from dashboard.views.overview import OverviewView
from tests.conftest import tiny_dataset


def _editor(card: pn.Card) -> pn.widgets.CodeEditor:
    return card.select(pn.widgets.CodeEditor)[0]


def test_code_follows_filters_settings_and_the_chosen_part():
    store = TrialStore.from_url(load_bundled(), "?arms=MSC")
    view = BalanceView(store=store)
    card = view.code_card()
    card.get_root()
    editor, part = _editor(card), card.select(pn.widgets.Select)[0]
    assert part.options == ["Table 1", "Love plot", "Allocation", "Stratification factors"]
    assert "TrialStore.from_url(dataset, '?arms=MSC')" in editor.value and "baseline_table(" in editor.value
    store.population = "Evaluable"
    assert "'?arms=MSC&population=Evaluable'" in editor.value
    view.threshold = 0.2
    assert "threshold=0.2" in editor.value
    part.value = "Love plot"
    assert "figure = love_plot(data, 0.2, dataset.arm_colors)" in editor.value
    download = card.select(pn.widgets.FileDownload)[0]
    notebook = nbformat.reads(download.callback().getvalue(), as_version=4)
    assert notebook.cells[1].source == editor.value
    assert download.filename == "NCT02241018_Arm_balance.ipynb"


def test_data_built_in_memory_say_there_is_no_code_to_reload_them():
    card = OverviewView(store=TrialStore(tiny_dataset())).code_card()
    card.get_root()
    assert _editor(card).value.startswith("# No code: these data were built in memory")
    assert card.select(pn.widgets.FileDownload)[0].disabled
