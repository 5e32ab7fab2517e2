"""What every tab view shares: the store reference, availability and the 'no patients' state."""

from __future__ import annotations

import panel as pn
import param

from ..data.dataset import TrialDataset
from ..store import TrialStore


class TabView(pn.viewable.Viewer):
    """Base of the tab views: holds the session's store; subclasses set `title` and build `__panel__`."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's filter store (single source of truth).")

    title: str = ""
    required_tables: tuple[str, ...] = ()

    @classmethod
    def unavailable_reason(cls, dataset: TrialDataset) -> str | None:
        """Why this tab cannot be shown for a dataset (None when it can)."""
        missing = [t for t in cls.required_tables if not dataset.has(t)]
        if missing:
            return f"{cls.title} needs the {', '.join(m.upper() for m in missing)} dataset, which this trial's data does not include."
        return None


def no_patients_message(store: TrialStore) -> pn.pane.Alert:
    """The clear empty state shown when the filters match nobody."""
    return pn.pane.Alert(
        "**No patients match the current filters.** Widen or reset the filters in the sidebar.",
        alert_type="warning",
        sizing_mode="stretch_width",
    )
