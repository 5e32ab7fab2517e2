"""Every tab view, and every sub-tab inside it, renders on each real dataset without raising.

Real CDISC exports repeat ADSL variables (ARM, AGE, SEX...) in their BDS datasets; views must not
trip over those. Runs on the bundled trial, every public CDISC folder in ../shared, and the
generator's exports read back through the loaders: SAS transport and Dataset-JSON as ADaM folders
(no metadata.json, so the CDISC path reads them) and a raw EDC extract with its mapping file.
"""


import panel as pn
import pytest

from dashboard.app import available_views
from dashboard.model import load_bundled
from dashboard.model.dataset import METADATA_FILE, write_dataset
from dashboard.synthetic.generator import simulate_trial
from dashboard.synthetic.raw_edc import write_raw_edc
from dashboard.store import TrialStore
from tests.conftest import EXTERNAL, shared_path

SHARED = sorted(p.name for p in shared_path("data", "external").iterdir() if p.is_dir())
GENERATED = ["generated-xpt", "generated-dataset-json", "generated-raw-edc"]
SUBJECTS = 60


@pytest.fixture(scope="module", params=["bundled", *SHARED, *GENERATED])
def dataset(request, tmp_path_factory):
    from dashboard.loaders import load_dataset

    if request.param == "bundled":
        return load_bundled()
    if request.param in SHARED:
        return load_dataset(EXTERNAL / request.param)
    folder = tmp_path_factory.mktemp(request.param)
    fmt = request.param.removeprefix("generated-")
    trial = simulate_trial(subjects=SUBJECTS)
    if fmt == "raw-edc":
        write_raw_edc(trial, folder)
    else:
        write_dataset(trial, folder, fmt=fmt)
        (folder / METADATA_FILE).unlink()
    return load_dataset(folder)


def test_the_shared_cdisc_studies_are_all_here():
    assert {"cdiscpilot01_adam", "pharmaverse_onco_adam"} <= set(SHARED), f"../shared/data/external holds {SHARED}"


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
