"""The app's side of the meeting pack: a button building it for the session's filters off the event
loop (other sessions keep working), with progress; and the header a printed tab starts with."""

from __future__ import annotations

import asyncio
import io
from functools import partial
from importlib import resources
from urllib.parse import urlencode

import panel as pn
import param

from ..links import filters_to_query
from ..store import TrialStore
from ..views.escape import escape_html
from .pack import FORMATS, SECTION_NAMES, is_open, pack_filename, pack_html, pack_pdf

PROGRESS_POLL_SECONDS = 0.25
PRINT_ONLY_CSS = """
:host { display: none !important; }
@media print { :host { display: block !important; } }
.print-head { font-size: 10pt; border-bottom: 1px solid #888; padding-bottom: 4px; }
"""


def print_stylesheet() -> str:
    """The served page's print stylesheet: the whole tab, no sidebar, the filters and data cut on top."""
    return resources.files(__package__).joinpath("print.css").read_text(encoding="utf-8")


def query_of(store: TrialStore) -> str:
    """The store's filters as the URL query the pack (and a shared link) reads."""
    return urlencode(filters_to_query(store), safe=",")


def pack_bytes(dataset, *, query: str, fmt: str, closed: bool, listings: bool = True, progress=None) -> bytes:
    """The pack of the dataset for the URL `query`'s filters, as PDF or HTML bytes (its own store: the
    session's filters may change while it builds); without `listings`, no patient-level listing."""
    html = pack_html(dataset, query=query, sections=SECTION_NAMES, closed=closed, listings=listings,
                     progress=progress)
    return pack_pdf(html) if fmt == "pdf" else html.encode("utf-8")


class MeetingPackView(pn.viewable.Viewer):
    """Sidebar block: choose open/closed and PDF/HTML, build the pack for the current filters, save it."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's filter store (single source of truth).")
    fmt = param.Selector(default="pdf", objects=list(FORMATS), doc="File format of the pack.")
    closed = param.Boolean(default=True, doc="Closed report (results by arm); off: open report, pooled figures.")
    patient_level = param.Boolean(default=True, constant=True,
                                  doc="Whether the pack may hold patient-level listings (the session's role may see them).")

    def __init__(self, **params):
        super().__init__(**params)
        if is_open(self.store.dataset):
            self.closed = False
            self.param.closed.constant = True

    def __panel__(self):
        self._button = pn.widgets.Button(label="Download meeting pack", color="primary",
                                         sizing_mode="stretch_width",
                                         description="Build the committee pack for the current filters")
        self._progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width")
        self._status = pn.pane.HTML("", sizing_mode="stretch_width", styles={"font-size": "0.8rem"})
        self._save = pn.widgets.FileDownload(label="Save meeting pack", visible=False, color="success",
                                             sizing_mode="stretch_width", filename="meeting-pack.pdf")
        self._button.on_click(self._build)
        kind = pn.widgets.Checkbox.from_param(self.param.closed, label="Closed report (results by arm)",
                                              disabled=is_open(self.store.dataset))
        fmt = pn.widgets.RadioButtonGroup.from_param(self.param.fmt, options={"PDF": "pdf", "HTML": "html"},
                                                     sizing_mode="stretch_width")
        return pn.Column(pn.pane.HTML("<b>Meeting pack</b>", margin=(10, 10, 0, 10)), kind, fmt, self._button,
                         self._progress, self._status, self._save, sizing_mode="stretch_width")

    async def _build(self, event=None) -> None:
        """Build the pack in a worker thread, showing its progress; then offer the file."""
        self._button.disabled, self._save.visible = True, False
        self._progress.param.update(value=0, visible=True)
        state = {"fraction": 0.0, "what": "Starting"}

        def report(fraction: float, what: str) -> None:  # called from the worker thread
            state.update(fraction=fraction, what=what)

        fmt, closed = self.fmt, self.closed
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(None, partial(pack_bytes, self.store.dataset, query=query_of(self.store), fmt=fmt,
                                                 closed=closed, listings=self.patient_level, progress=report))
        try:
            while not job.done():
                self._progress.value = int(100 * state["fraction"])
                self._status.object = f"Building: {escape_html(state['what'])}…"
                await asyncio.sleep(PROGRESS_POLL_SECONDS)
            data = job.result()
        except Exception as exc:  # shown to the user; the session goes on
            self._status.object = f"The meeting pack could not be built: {escape_html(exc)}"
            return
        finally:
            self._button.disabled, self._progress.visible = False, False
        self._save.param.update(file=io.BytesIO(data), filename=pack_filename(self.store.dataset, closed=closed, fmt=fmt),
                                visible=True)
        self._status.object = f"Ready for {escape_html(self.store.summary())}, data cut {self.store.cutoff.isoformat()}."


class PrintHeaderView(pn.viewable.Viewer):
    """A line shown only on paper: trial, data cut, population and the filters of the printed tab."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's filter store (single source of truth).")

    def __panel__(self):
        deps = [self.store.param[name] for name in TrialStore.FILTERS]
        return pn.pane.HTML(pn.bind(self._text, *deps), stylesheets=[PRINT_ONLY_CSS], sizing_mode="stretch_width",
                            css_classes=["print-head-pane"], margin=(0, 10))

    def _text(self, *_) -> str:
        store, info = self.store, self.store.dataset.info
        filters = "; ".join(f"{k} = {v}" for k, v in filters_to_query(store).items()) or "none (all patients)"
        return (f'<div class="print-head"><b>{escape_html(info.registry_id)} · {escape_html(info.short_name)}</b> · '
                f"data cut <b>{store.cutoff.isoformat()}</b> · {escape_html(store.population)} population, "
                f"{escape_html(store.summary())} · filters: {escape_html(filters)}</div>")
