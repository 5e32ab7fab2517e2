"""The served app and its notebook twin: `build_app(data=...)` composes store, filters and tabs.

Served with `panel serve dashboard/app.py` (bundled trial) or `trial-dashboard serve [DATA]`
(env TRIAL_DASHBOARD_DATA names the data). One dataset per process, cached; one store per session.
"""

from __future__ import annotations

import os

import panel as pn

from dashboard.data.dataset import TrialDataset, load_bundled
from dashboard.store import TrialStore

DATA_ENV = "TRIAL_DASHBOARD_DATA"

# Tab views in display order; a view appears only when its data is present.
VIEWS: tuple[type, ...] = ()


@pn.cache
def shared_dataset(path: str | None = None) -> TrialDataset:
    """The process-wide dataset, loaded once and shared read-only by every session."""
    if path is None:
        return load_bundled()
    from dashboard.loaders import load_dataset

    return load_dataset(path)


def build_app(data: TrialDataset | str | None = None, store: TrialStore | None = None):
    """The dashboard for one session (served or inline in a notebook)."""
    dataset = data if isinstance(data, TrialDataset) else shared_dataset(data)
    store = store or TrialStore(dataset)
    tabs = pn.Tabs(
        *[(view.title, view(store=store)) for view in VIEWS if view.unavailable_reason(dataset) is None],
        dynamic=True,
    )
    template = pn.template.FastListTemplate(
        title=f"{dataset.info.registry_id}: {dataset.info.short_name}",
        sidebar=[pn.Param(store, parameters=list(TrialStore.FILTERS))],
        main=[tabs],
    )
    return template


def serve(data=None, *, port: int = 5006, address: str = "127.0.0.1", show: bool = False) -> int:
    """Serve the dashboard on DATA (or the bundled trial); prints the URL."""
    if data is not None:
        os.environ[DATA_ENV] = str(data)
    shared_dataset(os.environ.get(DATA_ENV))  # fail before serving if the data cannot load
    print(f"trial-dashboard: serving on http://{address}:{port}/", flush=True)
    pn.serve({"": lambda: build_app(os.environ.get(DATA_ENV))}, port=port, address=address, show=show,
             websocket_origin=[f"{address}:{port}", f"localhost:{port}"], title="trial-dashboard")
    return 0


if pn.state.served:
    build_app(os.environ.get(DATA_ENV)).servable()
