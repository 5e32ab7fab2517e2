"""Data downloads for the analyst role: the filtered analysis tables as CSV, with trial, data cut and
filters in comment lines, every text cell safe to open in a spreadsheet."""

from __future__ import annotations

import panel as pn
import param

from ..links import filters_to_query
from ..store import TrialStore
from .escape import csv_download, safe_filename

TABLES = (("adsl", "Subjects (ADSL)"), ("adae", "Adverse events (ADAE)"), ("adrs", "Responses (ADRS)"),
          ("adtte", "Time to event (ADTTE)"))


class DataDownloadView(pn.viewable.Viewer):
    """Sidebar downloads of the filtered analysis tables (listings and data), one button per table present."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's filter store (single source of truth).")

    def __panel__(self):
        buttons = [
            pn.widgets.FileDownload(callback=lambda name=name: self._csv(name), filename=self._filename(name),
                                    label=label, sizing_mode="stretch_width")
            for name, label in TABLES if self.store.dataset.has(name)
        ]
        return pn.Column(pn.pane.HTML("<b>Data downloads</b> (filtered patients, CSV)"), *buttons,
                         sizing_mode="stretch_width", name="Data downloads")

    def _filename(self, name: str) -> str:
        info = self.store.dataset.info
        return f"{name}_{safe_filename(info.registry_id)}_cut_{self.store.cutoff}.csv"

    def _csv(self, name: str):
        store = self.store
        frame = store.subjects() if name == "adsl" else store.table(name)
        filters = ", ".join(f"{k}={v}" for k, v in filters_to_query(store).items()) or "none"
        return csv_download(frame, [
            f"{store.dataset.info.registry_id} {name.upper()}: {store.summary()}",
            f"Data cut {store.cutoff.isoformat()}", f"Filters: {filters}", store.dataset.provenance_text(),
        ])
