"""Every tab view, and every sub-tab inside it, renders on each real dataset without raising.

Real CDISC exports repeat ADSL variables (ARM, AGE, SEX...) in their BDS datasets; views must not
trip over those. Runs on the bundled trial and the public CDISC pilot folders in ../shared.
"""

from pathlib import Path

import panel as pn
import pytest

from dashboard.app import available_views
from dashboard.data import load_bundled
from dashboard.store import TrialStore

EXTERNAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "external"
DATASETS = ["bundled", "cdiscpilot01_adam", "pharmaverse_onco_adam"]


@pytest.fixture(scope="module", params=DATASETS)
def dataset(request):
    if request.param == "bundled":
        return load_bundled()
    folder = EXTERNAL / request.param
    if not folder.exists():
        pytest.skip(f"{folder} is absent (public CDISC pilot data lives in ../shared)")
    from dashboard.loaders import load_dataset

    return load_dataset(folder)


def render_everything(viewable) -> int:
    """Render a viewable, then every tab of every Tabs inside it; returns how many tabs were shown."""
    layout = pn.panel(viewable)
    layout.get_root()
    shown = 0
    for tabs in layout.select(pn.Tabs):
        for index in range(len(tabs)):
            tabs.active = index
            tabs[index].get_root()
            shown += 1
    return shown


def test_every_view_and_sub_tab_renders(dataset):
    store = TrialStore(dataset)
    shown, _ = available_views(dataset)
    assert shown, "no view available"
    for view in shown:
        render_everything(view(store=store))
    store.sites = [store.param.sites.objects[0]]  # a filter change re-renders the shown sub-tabs
    for view in shown:
        render_everything(view(store=store))
