"""What every tab view shares: the store reference, availability, on-screen gating, the empty state and
the note saying how many records data checks left out.

Hidden views skip recomputation: a view's `active` is False while its tab is not shown, and its
renders bound with `bind_active` (or to `filtered_subjects`) keep their last output until shown again.
"""

from __future__ import annotations

import io

import holoviews as hv
import nbformat
import panel as pn
import param

from .. import code
from ..model.dataset import TrialDataset
from ..store import TrialStore
from .escape import safe_filename
from .theme import PlotInk, arm_plot_colors, plot_ink


class TabView(pn.viewable.Viewer):
    """Base of the tab views: holds the session's store; subclasses set `title` and build `__panel__`."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's filter store (single source of truth).")
    active = param.Boolean(default=True, doc="Whether the view is on screen; hidden views skip recomputation.")
    patient_level = param.Boolean(default=True, doc="Whether the session may see patient-level listings and "
                                                    "profiles (False: those parts are not built at all).")

    title: str = ""
    required_tables: tuple[str, ...] = ()
    reads_tables: tuple[str, ...] = ("adsl",)  # whose left-out records the tab's note counts

    @classmethod
    def unavailable_reason(cls, dataset: TrialDataset) -> str | None:
        """Why this tab cannot be shown for a dataset (None when it can)."""
        missing = [t for t in cls.required_tables if not dataset.has(t)]
        if missing:
            return f"{cls.title} needs the {', '.join(m.upper() for m in missing)} dataset, which this trial's data does not include."
        return None

    def __init__(self, **params):
        super().__init__(**params)
        self.ink: PlotInk = plot_ink()
        """Plot colours of the session's theme (read while the session builds the view)."""
        self.arm_colors: dict[str, str] = arm_plot_colors(self.store.dataset.arm_colors, self.ink)
        """The arms' plot colours in the session's theme (`arm_plot_colors`)."""

    @property
    def filtered_subjects(self):
        """The store's reactive filtered subjects, updating only while this view is shown."""
        gated = self.__dict__.get("_gated_subjects")
        if gated is None:
            gated = pn.rx(self.bind_active(lambda subjects: subjects, self.store.filtered_subjects))
            self.__dict__["_gated_subjects"] = gated
        return gated

    def bind_active(self, function, *references, tab: tuple[pn.Tabs, int] | None = None):
        """`pn.bind(function, *references)` that skips updates while the view is hidden and, given
        `tab=(tabs, index)`, while inner tab `index` of `tabs` is not the one shown (it catches up when shown)."""
        tabs, index = tab if tab is not None else (None, None)

        def render(active, shown, *values):
            if not active or (tabs is not None and shown != index):
                raise param.Skip
            return function(*values)

        return pn.bind(render, self.param.active, tabs.param.active if tabs is not None else None, *references)

    def dynamic_map(self, function, *references, tab: tuple[pn.Tabs, int] | None = None) -> hv.DynamicMap:
        """A DynamicMap of `function(*values)` that is only redrawn while the view (and, given
        `tab=(tabs, index)`, its inner tab `index`) is shown, and only when a value changed.

        Pass ungated references (e.g. `store.filtered_subjects`): the gate is the Pipe below.
        """
        values = pn.bind(lambda *current: current, *references)
        pipe = hv.streams.Pipe(data=values())
        tabs, index = tab if tab is not None else (None, None)

        def push(active, shown, *current):
            unchanged = all(a is b for a, b in zip(current, pipe.data))
            if active and (tabs is None or shown == index) and not unchanged:
                pipe.send(current)

        pn.bind(push, self.param.active, tabs.param.active if tabs is not None else None, *references, watch=True)
        return hv.DynamicMap(lambda data: function(*data), streams=[pipe])

    def code_card(self) -> pn.Card:
        """Show code: a collapsed card with the Python reproducing each sub-tab for the current filters
        (`dashboard.code`), a copy button and a Download as notebook button."""
        parts = [part.name for part in code.parts_of(self)]
        part = pn.widgets.Select(name="Part of the tab", options=parts, value=parts[0] if parts else None, width=260,
                                 visible=len(parts) > 1)

        def script(name, *_):
            try:
                return code.view_code(self, name) if name else "# This tab has no code for these data."
            except ValueError as exc:  # data built in memory: nothing to reload
                return f"# No code: {exc}."

        settings = [self.param[p] for p in self.param if p not in ("name", "active", "store")]
        editor = pn.widgets.CodeEditor(value=self.bind_active(script, part.param.value,
                                                             *[self.store.param[f] for f in self.store.FILTERS], *settings),
                                       language="python", readonly=True, sizing_mode="stretch_width", height=300)
        copy = pn.widgets.Button(name="Copy code", button_type="primary", button_style="outline", width=120)
        copy.js_on_click(args={"editor": editor}, code="navigator.clipboard.writeText(editor.code)")

        def notebook():
            return io.StringIO(nbformat.writes(code.view_notebook(self, part.value)))

        download = pn.widgets.FileDownload(
            callback=notebook, label="Download as notebook", width=200, button_type="primary", button_style="outline",
            filename=f"{safe_filename(self.store.dataset.info.registry_id)}_{safe_filename(self.title)}.ipynb",
            disabled=code.data_source(self.store.dataset) is None)
        return pn.Card(pn.Row(part, copy, download), editor, title="Show code", collapsed=True,
                       sizing_mode="stretch_width", margin=(10, 10), css_classes=["show-code"])


def link_active(tabs: pn.Tabs, views, parent: TabView | None = None) -> None:
    """Mark the view of the shown tab active and the others hidden, now and on every change; with a
    `parent`, views are active only while the parent is too."""

    def update(*_):
        for index, view in enumerate(views):
            if isinstance(view, TabView):
                view.active = index == tabs.active and (parent is None or parent.active)

    update()
    tabs.param.watch(update, "active")
    if parent is not None:
        parent.param.watch(update, "active")


def no_patients_message(store: TrialStore) -> pn.pane.Alert:
    """The clear empty state shown when the filters match nobody."""
    return pn.pane.Alert(
        "**No patients match the current filters.** Widen or reset the filters in the sidebar.",
        alert_type="warning",
        sizing_mode="stretch_width",
    )


# What one left-out row of each table is, for the "records left out" note.
LEFT_OUT_NOUNS = {"adsl": ("subject", "subjects"), "adae": ("adverse-event record", "adverse-event records"),
                  "adrs": ("response assessment", "response assessments"),
                  "adtte": ("time-to-event record", "time-to-event records"), "adex": ("dose record", "dose records"),
                  "sites": ("site", "sites")}


def left_out_text(dataset: TrialDataset, *tables: str) -> str:
    """"3 adverse-event records left out by data checks, see Data quality" for the tables a view reads
    (every table when none is named); "" when nothing was left out."""
    counts = [(t, dataset.left_out(t)) for t in (tables or tuple(LEFT_OUT_NOUNS))]
    parts = [f"{n} {LEFT_OUT_NOUNS[t][n != 1]}" for t, n in counts if n]
    if not parts:
        return ""
    return f"{', '.join(parts)} left out by data checks, see Data quality."


def left_out_note(dataset: TrialDataset, *tables: str) -> pn.pane.Alert:
    """The `left_out_text` note as a small alert, hidden when nothing was left out (add it to any layout)."""
    text = left_out_text(dataset, *tables)
    return pn.pane.Alert(text, alert_type="secondary", visible=bool(text), sizing_mode="stretch_width",
                         margin=(0, 10, 5, 10), styles={"font-size": "0.85rem"})
