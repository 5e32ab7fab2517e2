"""The Adverse events tab: incidence by body system and term, risk differences, onset over time,
focus panels and exposure-adjusted rates, all following the store's filters and the data cut.

Event filters (serious / related / treatment-emergent, search, minimum incidence) and the chosen
row are this view's own parameters; derived frames are memoised per (global filters, event
filters) so the panes that share them compute them once per change.
"""

from __future__ import annotations

import weakref

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (options below need the Bokeh backend)
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import DateFormatter, NumberFormatter

from ..config import SAFETY_FOCUS_WINDOW_DAYS, SAFETY_TOPICS, AETopic
from ..model.dataset import TrialDataset
from ..transforms.flags import is_yes
from ..transforms.response import control_arm
from ..transforms import safety as sf
from .base import TabView, no_patients_message
from .escape import csv_download, escape_html as _e, safe_filename, tooltip_field
from .help import help_toggle
from .theme import HTML_CSS, PlotInk

COUNT_OPTIONS = {"Patients": "subjects", "Events": "events"}
SORT_OPTIONS = {"Frequency": "frequency", "Risk difference": "risk difference"}
GROUP_COLUMN = "Body system"
TERM_COLUMN = "Term"
NOT_SIGNIFICANT = "#999999"
TABLE_CSS = """
.tabulator, .tabulator .tabulator-row .tabulator-cell, .tabulator .tabulator-col-title { font-size: 13px !important; }
.tabulator .tabulator-row .tabulator-cell { padding: 3px 6px !important; }
.tabulator .tabulator-row .tabulator-cell, .tabulator .tabulator-row { min-height: 0 !important; }
.tabulator .tabulator-col .tabulator-col-content { padding: 4px 6px !important; }
.tabulator .tabulator-group { padding: 3px 6px !important; font-size: 13px !important; }
.tabulator .tabulator-row.tabulator-group span { color: inherit !important; opacity: 0.85; }
.tabulator .tabulator-col .tabulator-col-title { white-space: normal !important; text-overflow: clip !important; }
"""


INCIDENCE_TAB, TIMELINE_TAB, FOCUS_TAB = 0, 1, 2


def _gated(shown, tab: int, fn, *deps):
    """`pn.bind(fn, *deps)` that is skipped while inner tab `tab` is hidden (hidden tabs cost nothing
    on a filter change) and recomputed when it is shown again."""

    def run(active, *values):
        if active != tab:
            raise param.Skip
        return fn(*values)

    return pn.bind(run, shown, *deps)


def prepared_adae(dataset: TrialDataset) -> pd.DataFrame:
    """The dataset's ADAE with categorical keys (`prepare_adae`), built once per dataset and shared by
    every session (the dataset is immutable; the entry goes when the dataset does)."""
    key = f"dashboard.views.safety.prepared_adae:{id(dataset)}"
    hit = pn.state.cache.get(key)
    if hit is not None and hit[0]() is dataset:
        return hit[1]
    prepared = sf.prepare_adae(dataset.adae)
    pn.state.cache[key] = (weakref.ref(dataset), prepared)
    weakref.finalize(dataset, pn.state.cache.pop, key, None)
    return prepared


def _volcano_guides(ink: PlotInk):
    """Static guides of the volcano plot (outside its DynamicMap, so updates redraw points only)."""
    threshold = hv.HLine(-np.log10(0.05)).opts(color=ink.guide, line_dash="dashed", line_width=1)
    return threshold * hv.VLine(0).opts(color=ink.guide, line_width=1)


def _band_title(band: str) -> str:
    """Column header of a grade band: the patient's worst grade ('Worst grade 3-4'); 'Any grade' as is."""
    if band == sf.ANY_BAND:
        return band
    return f"Worst {band[0].lower()}{band[1:]}" if band.startswith("Grade") else f"Worst: {band.lower()}"


def _plural(n, noun: str) -> str:
    """'1 event', '3 events'."""
    return f"{int(n)} {noun}{'' if int(n) == 1 else 's'}"


class SafetyView(TabView):
    """Adverse events by arm: incidence table, volcano plot, onset timeline, focus panels and listing."""

    title = "Adverse events"
    reads_tables = ("adsl", "adae", "adex")
    required_tables = ("adae",)

    serious_only = param.Boolean(default=False, doc="Count serious events only (AESER = 'Y').")
    related_only = param.Boolean(default=False, doc="Count events related to study treatment only (AEREL).")
    treatment_emergent_only = param.Boolean(default=False, doc="Count treatment-emergent events only (TRTEMFL); on "
                                                                "by default when the data flag them.")
    min_incidence = param.Number(default=0.0, bounds=(0, 100), step=1,
                                 doc="Show terms reaching this any-grade incidence (%) in at least one arm.")
    search = param.String(default="", doc="Show events whose preferred term, body system or reported term "
                                          "contains this text.")
    count = param.Selector(default="subjects", objects=COUNT_OPTIONS, doc="Count patients (default) or events.")
    sort_by = param.Selector(default="frequency", objects=SORT_OPTIONS, doc="Order body systems and terms by this.")
    arm_a = param.Selector(default=None, objects=[], doc="First arm of the risk-difference comparison.")
    arm_b = param.Selector(default=None, objects=[], doc="Second arm (reference) of the risk-difference comparison.")
    selected_soc = param.String(default="", doc="Body system whose events the listing shows (empty: none chosen).")
    selected_term = param.String(default="", doc="Preferred term whose events the listing shows (empty: none chosen).")
    topic = param.Selector(default=None, objects=[], doc="Safety topic of the onset timeline.")
    patient = param.String(default="", doc="Patient whose adverse events the per-patient listing shows.")

    def __init__(self, **params):
        super().__init__(**params)
        dataset = self.store.dataset
        # Treatment-emergent events by default wherever the data flag them, as on the Overview.
        self.te_flag = sf.has_treatment_emergent_flag(dataset.adae)
        if "treatment_emergent_only" not in params:
            self.treatment_emergent_only = self.te_flag
        self.collection_days, self.collection_source = sf.ae_collection_days(
            dataset.adae, dataset.adsl, dataset.info.ae_collection_days)
        arms = dataset.arms
        # Arms in protocol order and their colours, read once (`dataset.arms` scans ADSL on each call).
        self.arms, self.arm_colors = arms, dataset.arm_colors
        self.param.arm_a.objects = arms
        self.param.arm_b.objects = arms
        if arms:
            self.arm_b = control_arm(arms)
            self.arm_a = next((a for a in arms if a != self.arm_b), self.arm_b)
        topics = [t.label for t in SAFETY_TOPICS if sf.topic_available(dataset.adae, t)]
        self.param.topic.objects = topics
        self.topic = topics[0] if topics else None
        self.basis = sf.grade_basis(dataset.adae)
        self.bands = sf.grade_bands(self.basis)
        self._memo: dict[str, tuple] = {}

    # ---- derived data (memoised per global filters and event filters) -------------------------

    def _remember(self, name: str, key, compute):
        hit = self._memo.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = compute()
        self._memo[name] = (key, value)
        return value

    def _event_key(self):
        return (self.store.filter_spec, self.serious_only, self.related_only, self.treatment_emergent_only,
                self.search.strip())

    def arms_shown(self, subjects: pd.DataFrame) -> list[str]:
        """Arms of the filtered subjects in protocol order."""
        return sf.arm_order(subjects, self.arms)

    def events(self) -> pd.DataFrame:
        """Safety-population events of the filtered subjects after the event filters."""
        return self._remember("events", self._event_key(), lambda: sf.select_events(
            prepared_adae(self.store.dataset), self.store.subjects(), serious_only=self.serious_only,
            related_only=self.related_only, treatment_emergent_only=self.treatment_emergent_only,
            search=self.search))

    def incidence(self) -> pd.DataFrame:
        """`ae_incidence_by_arm` of the current events (before the minimum-incidence filter)."""
        return self._remember("incidence", self._event_key(), lambda: sf.ae_incidence_by_arm(
            self.events(), self.store.subjects(), arms=self.arms, bands=self.bands))

    def risk(self) -> pd.DataFrame | None:
        """Per-term risk differences for the chosen arm pair (None when the pair is not comparable)."""
        inc = self.incidence()
        arms = set(inc["ARM"])
        if self.arm_a == self.arm_b or self.arm_a not in arms or self.arm_b not in arms:
            return None
        key = (self._event_key(), self.arm_a, self.arm_b)
        return self._remember("risk", key, lambda: sf.risk_difference_by_term(inc, self.arm_a, self.arm_b))

    def table_frame(self) -> pd.DataFrame:
        """The incidence table as displayed (text cells, grouping column escaped for Tabulator)."""
        inc = sf.filter_min_incidence(self.incidence(), self.min_incidence)
        table = sf.incidence_table(inc, self.arms_shown(self.store.subjects()), count=self.count,
                                   risk=self.risk(), sort_by=self.sort_by)
        # Tabulator writes group headers as HTML, so the grouping column carries escaped text.
        return table.assign(**{GROUP_COLUMN: table["AEBODSYS"].map(_e), TERM_COLUMN: table["AEDECOD"]})

    # ---- layout -----------------------------------------------------------------------------

    def __panel__(self):
        store = self.store
        subjects = self.filtered_subjects
        event_deps = (self.param.serious_only, self.param.related_only, self.param.treatment_emergent_only,
                      self.param.search)
        controls = pn.Row(
            pn.Column(
                pn.widgets.Checkbox.from_param(self.param.serious_only, label="Serious only", width=190),
                pn.widgets.Checkbox.from_param(self.param.related_only, label="Related only", width=190),
                pn.widgets.Checkbox.from_param(self.param.treatment_emergent_only, label="Treatment-emergent only",
                                               width=190),
                width=200, sizing_mode="fixed",
            ),
            pn.widgets.TextInput.from_param(self.param.search, label="Term search", placeholder="e.g. pneumonia",
                                            width=180),
            pn.widgets.FloatInput.from_param(self.param.min_incidence, label="Min. incidence (%)", width=120),
            pn.widgets.RadioButtonGroup.from_param(self.param.count, label="Count", width=160),
            pn.widgets.Select.from_param(self.param.sort_by, label="Sort by", width=140),
            sizing_mode="stretch_width", styles={"flex-wrap": "wrap"},
        )
        pair = pn.Row(
            pn.widgets.Select.from_param(self.param.arm_a, label="Compare arm", width=230),
            pn.widgets.Select.from_param(self.param.arm_b, label="with (reference)", width=230),
            visible=len(self.arms) > 2,
        )
        inner = pn.Tabs(dynamic=True, sizing_mode="stretch_width")
        shown = inner.param.active
        header = pn.pane.HTML(pn.bind(self._header, subjects, self.param.treatment_emergent_only),
                              sizing_mode="stretch_width", stylesheets=[HTML_CSS])
        summary = pn.pane.HTML(_gated(shown, INCIDENCE_TAB, self._summary, subjects, *event_deps),
                               css_classes=["ae-summary"], sizing_mode="stretch_width", stylesheets=[HTML_CSS])
        table = self._incidence_table(shown, subjects, event_deps)
        download = pn.widgets.FileDownload(
            callback=self._csv,
            filename=f"adverse_events_{safe_filename(store.dataset.info.registry_id)}_cut_{store.cutoff}.csv",
            label="Download incidence (CSV)", color="primary", width=230,
        )
        incidence_tab = pn.Column(
            controls, pair, summary, table,
            pn.pane.HTML(self._worst_grade_note(), sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
            download,
            pn.Row(self._volcano(shown, subjects, event_deps),
                   *([self._listing(shown, subjects, event_deps)] if self.patient_level else []),
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        inner.extend([
            ("Incidence and signals", incidence_tab),
            ("Onset over time", self._timeline(shown, subjects)),
            ("Focus panels and exposure", self._focus(shown, subjects, event_deps)),
        ])
        empty = no_patients_message(store)
        empty.visible = subjects.rx.pipe(lambda s: s.empty)
        inner.visible = subjects.rx.pipe(lambda s: not s.empty)
        return pn.Column(empty, header, inner, sizing_mode="stretch_width")

    def _header(self, subjects: pd.DataFrame, *_) -> str:
        dataset = self.store.dataset
        n = sf.safety_denominators(subjects, self.arms)
        per_arm = " · ".join(f"{_e(self._label(a))} N = {int(v)}" for a, v in n.items())
        names = ""
        short = dataset.info.arm_short_labels
        if any(a in short for a in n.index):
            names = " (" + "; ".join(f"{_e(short[a])} = {_e(a)}" for a in n.index if a in short) + ")"
        grading = sf.GRADE_VARIABLES.get(self.basis)
        note = _e(sf.grade_basis_note(self.basis))
        if grading:
            note = f'<span title="{_e(grading)}">{note}</span>'
        return (
            f"<div><b>Safety population</b> (<span title=\"SAFFL = Y\">patients who received any study "
            f"treatment</span>, among the {len(subjects)} filtered patients): {per_arm or 'no patients'}{names}. "
            f"<b>Data cut {self.store.cutoff.isoformat()}</b>. "
            f"<b>Incidence table: {_e(self._definition(self.treatment_emergent_only))}.</b> "
            f"{note} Arms are the randomized arms.</div>"
        )

    def _label(self, arm: str) -> str:
        return self.store.dataset.info.arm_short_labels.get(arm, arm)

    def _definition(self, treatment_emergent_only: bool) -> str:
        """Which adverse events are counted (`ae_definition`) for this trial's data."""
        return sf.ae_definition(self.te_flag, treatment_emergent_only)

    def _summary(self, subjects, *_):
        inc = self.incidence()
        overall = inc[(inc["LEVEL"] == "overall") & (inc["BAND"] == sf.ANY_BAND)]
        filters = [name for name, on in (("serious", self.serious_only), ("related", self.related_only),
                                         ("treatment-emergent", self.treatment_emergent_only)) if on]
        what = (" ".join(filters) + " event") if filters else "event"
        if self.search.strip():
            what += f" matching &ldquo;{_e(self.search.strip())}&rdquo;"
        parts = [f"{_e(self._label(r.ARM))} <b>{sf.n_of_N(r.SUBJECTS, r.N)}</b> ({_plural(r.EVENTS, 'event')})"
                 for r in overall.itertuples()]
        return f"<div>Patients with at least one {what}: " + " · ".join(parts) + "</div>"

    # ---- incidence table --------------------------------------------------------------------

    def _incidence_table(self, shown, subjects, event_deps):
        deps = (subjects, *event_deps, self.param.min_incidence, self.param.count, self.param.sort_by,
                self.param.arm_a, self.param.arm_b)
        table = pn.widgets.Tabulator(
            _gated(shown, INCIDENCE_TAB, lambda *_: self.table_frame(), *deps),
            groupby=[GROUP_COLUMN],
            hidden_columns=["LEVEL", "AEBODSYS", "AEDECOD", "SORT_N", GROUP_COLUMN],
            show_index=False, disabled=True, selectable=1, layout="fit_data_stretch",
            height=430, sizing_mode="stretch_width", widths={TERM_COLUMN: 240}, stylesheets=[TABLE_CSS],
            sortable=False,
            titles=_gated(shown, INCIDENCE_TAB, lambda s, *_: self._titles(s), *deps),
            groups=_gated(shown, INCIDENCE_TAB, lambda s, *_: self._column_groups(s), *deps),
            formatters={
                "Risk difference (pp)": NumberFormatter(format="0.0", nan_format="", text_align="right"),
                "Fisher p": NumberFormatter(format="0.000", nan_format="", text_align="right"),
            },
            pagination=None,
            header_tooltips={"Risk difference (pp)": "Incidence difference of the compared arms, percentage points",
                             "Fisher p": "Two-sided Fisher exact test, patients with >= 1 event"},
            header_align={"Risk difference (pp)": "right", "Fisher p": "right"},  # over their right-aligned values
            frozen_columns=[TERM_COLUMN],
        )
        table.on_click(self._on_table_click)
        return table

    def _titles(self, subjects) -> dict[str, str]:
        titles = {sf.column_label(a, b): _e(_band_title(b)) for a in self.arms
                  for b in (sf.ANY_BAND, *[x[0] for x in self.bands])}
        if self.arm_a and self.arm_b:
            titles["Risk difference (pp)"] = _e(f"RD {self._label(self.arm_a)} − {self._label(self.arm_b)} (pp)")
        return titles

    def _worst_grade_note(self) -> str:
        """Why the worst-grade columns can differ from the focus panels' grade 3-4 counts."""
        if not self.bands:
            return ""
        return ("<div class='note'>“Worst grade” columns count each patient once, at the "
                "worst grade of their events in that row over the whole follow-up (a patient whose infection "
                "became fatal counts under grade 5, not 3-4). The focus panels count any grade 3-4 event with "
                f"onset within {SAFETY_FOCUS_WINDOW_DAYS} days, so their figures can differ.</div>")

    def _column_groups(self, subjects) -> dict[str, list[str]]:
        n = sf.safety_denominators(subjects, self.arms)
        return {
            f"{_e(self._label(arm))} (N = {int(total)})": [
                sf.column_label(arm, b) for b in (sf.ANY_BAND, *[x[0] for x in self.bands])
            ]
            for arm, total in n.items()
        }

    def _on_table_click(self, event) -> None:
        frame = self.table_frame()
        if event.row is None or not 0 <= event.row < len(frame):
            return
        row = frame.iloc[event.row]
        self.param.update(selected_soc=str(row["AEBODSYS"]), selected_term=str(row["AEDECOD"]))

    def _csv(self):
        inc = sf.filter_min_incidence(self.incidence(), self.min_incidence)
        risk = self.risk()
        out = inc.rename(columns={"AEBODSYS": "BODY_SYSTEM", "AEDECOD": "TERM"})
        if risk is not None:
            r = risk.rename(columns={"AEBODSYS": "BODY_SYSTEM", "AEDECOD": "TERM"})[
                ["BODY_SYSTEM", "TERM", "RD", "RD_LOW", "RD_HIGH", "P"]]
            r = r.rename(columns={"RD": f"RD_{self._label(self.arm_a)}_MINUS_{self._label(self.arm_b)}"})
            out = out.merge(r, on=["BODY_SYSTEM", "TERM"], how="left")
        flags = [n for n, on in (("serious only", self.serious_only), ("related only", self.related_only),
                                 ("treatment-emergent only", self.treatment_emergent_only)) if on]
        out.insert(0, "EVENT_FILTERS", "; ".join(flags + ([f"search: {self.search}"] if self.search else [])) or "none")
        out.insert(0, "POPULATION", f"SAFFL = Y among the filtered {self.store.population} patients "
                                    f"({self.store.summary()})")
        out.insert(0, "DATA_CUT", self.store.cutoff.isoformat())
        return csv_download(out)

    # ---- volcano plot -----------------------------------------------------------------------

    def _volcano(self, shown, subjects, event_deps):
        deps = (subjects, *event_deps, self.param.arm_a, self.param.arm_b)
        dmap = self.dynamic_map(lambda *_: self._volcano_points(), self.store.filtered_subjects, *deps[1:])
        selection = hv.streams.Selection1D(source=dmap)
        selection.param.watch(lambda event: self._on_volcano_select(dmap, event.new), "index")
        labels = self.dynamic_map(lambda *_: self._volcano_labels(), self.store.filtered_subjects, *deps[1:])
        return pn.Column(
            pn.pane.HTML(_gated(shown, INCIDENCE_TAB, lambda *_: self._volcano_title(), *deps), stylesheets=[HTML_CSS]),
            pn.pane.HoloViews(dmap * labels * _volcano_guides(self.ink), width=470, height=400),
            pn.pane.HTML(_gated(shown, INCIDENCE_TAB, lambda *_: self._volcano_key(), *deps), width=470,
                         stylesheets=[HTML_CSS]),
            help_toggle("volcano", width=470, sizing_mode="fixed"),
            width=480,
        )

    def _volcano_key(self) -> str:
        """Colour key and caveat under the volcano plot."""
        caption = ("<div class='note'><i>Fisher exact p, unadjusted for "
                   "multiple comparisons: a screening tool, not a test.</i></div>")
        if self.risk() is None:
            return caption

        def swatch(color: str, text: str) -> str:
            return f"<span class='item'><span class='dot' style='background:{_e(color)}'></span>{text}</span>"

        a, b = self.arm_a, self.arm_b
        keys = [swatch(self.arm_colors.get(a, "#000"), f"p &lt; 0.05, higher in {_e(self._label(a))}"),
                swatch(self.arm_colors.get(b, "#000"), f"p &lt; 0.05, higher in {_e(self._label(b))}"),
                swatch(NOT_SIGNIFICANT, "p ≥ 0.05")]
        return ("<div class='key'>" + " ".join(keys) + "</div><div class='key'>Labelled: terms with p &lt; 0.05; "
                "point size: number of events.</div>" + caption)

    def _volcano_labels(self):
        """Term labels of the points with p < 0.05."""
        risk = self.risk()
        frame = _empty_frame(["RD", "NEG_LOG10_P"], ["TERM"])
        if risk is not None and not risk.empty:
            hits = risk[risk["P"] < 0.05]
            frame = pd.DataFrame({"RD": hits["RD"], "NEG_LOG10_P": hits["NEG_LOG10_P"],
                                  "TERM": hits["AEDECOD"].astype(str)})
        # Right of 0 the text runs leftwards (towards the centre) so it stays inside the plot.
        style = dict(text_font_size="8pt", text_color=self.ink.text, yoffset=0.05, text_baseline="bottom")
        left, right = frame[frame["RD"] < 0], frame[frame["RD"] >= 0]
        return (hv.Labels(left, kdims=["RD", "NEG_LOG10_P"], vdims=["TERM"]).opts(
                    text_align="left", xoffset=0.6, **style)
                * hv.Labels(right, kdims=["RD", "NEG_LOG10_P"], vdims=["TERM"]).opts(
                    text_align="right", xoffset=-0.6, **style))

    def _volcano_title(self) -> str:
        if self.risk() is None:
            return "<b>Risk difference by term</b>: choose two different arms to compare."
        a, b = _e(self._label(self.arm_a)), _e(self._label(self.arm_b))
        return (f"<b>Risk difference by term</b> ({a} − {b}, patients with ≥ 1 event). "
                f"Right of 0: more frequent in {a}. Dashed line: p = 0.05. Click a point to list its events.")

    def _volcano_points(self):
        risk = self.risk()
        a, b = self.arm_a, self.arm_b
        numbers, texts = ["RD", "NEG_LOG10_P", "EVENTS", "SIZE"], ["TERM", "SOC", "A_TEXT", "B_TEXT", "P_TEXT", "COLOR"]
        columns = numbers[:2] + texts[:5] + numbers[2:] + texts[5:]
        if risk is None or risk.empty:
            frame = _empty_frame(numbers, texts)[columns]
        else:
            colors = self.arm_colors
            frame = pd.DataFrame({
                "RD": risk["RD"], "NEG_LOG10_P": risk["NEG_LOG10_P"],
                "TERM": risk["AEDECOD"], "SOC": risk["AEBODSYS"],
                "A_TEXT": [sf.n_of_N(n, d) for n, d in zip(risk["N_A"], risk["D_A"])],
                "B_TEXT": [sf.n_of_N(n, d) for n, d in zip(risk["N_B"], risk["D_B"])],
                "P_TEXT": [f"{p:.3g}" for p in risk["P"]],
                "EVENTS": risk["EVENTS"], "SIZE": 5 + 2.5 * np.sqrt(risk["EVENTS"]),
                "COLOR": np.where(risk["P"] >= 0.05, NOT_SIGNIFICANT,
                                  np.where(risk["RD"] > 0, colors.get(a, "#000"), colors.get(b, "#000"))),
            })
        label_a, label_b = self._label(a or ""), self._label(b or "")
        hover = [("Term", "@TERM"), ("Body system", "@SOC"), (label_a, "@A_TEXT"), (label_b, "@B_TEXT"),
                 ("Risk difference (pp)", "@RD{0.0}"), ("Fisher p", "@P_TEXT"), ("Events", "@EVENTS")]
        points = hv.Points(frame, kdims=["RD", "NEG_LOG10_P"], vdims=columns[2:]).opts(
            size="SIZE", color="COLOR", alpha=0.75, line_color=self.ink.muted, tools=["hover", "tap"],
            hover_tooltips=hover, responsive=False, width=470, height=380, show_grid=True,
            xlabel="Risk difference (percentage points)", ylabel="−log10 Fisher p",
            nonselection_alpha=0.3, selection_line_width=2, toolbar="above",
        )
        return points

    def _on_volcano_select(self, dmap, index) -> None:
        if not index or dmap.last is None:
            return
        data = dmap.last.data
        if index[0] >= len(data):
            return
        row = data.iloc[index[0]]
        self.param.update(selected_soc=str(row["SOC"]), selected_term=str(row["TERM"]))

    # ---- listing ----------------------------------------------------------------------------

    def _listing(self, shown, subjects, event_deps):
        deps = (subjects, *event_deps, self.param.selected_soc, self.param.selected_term)
        title = pn.pane.HTML(_gated(shown, INCIDENCE_TAB, lambda *_: self._listing_title(), *deps),
                             sizing_mode="stretch_width")
        table = pn.widgets.Tabulator(
            _gated(shown, INCIDENCE_TAB, lambda *_: self._listing_frame(), *deps), show_index=False, disabled=True,
            pagination="remote", page_size=10, layout="fit_data_stretch", sizing_mode="stretch_width",
            hidden_columns=["Body system", "Treatment-emergent"], stylesheets=[TABLE_CSS],
            formatters={"Onset date": DateFormatter(format="%Y-%m-%d")},
        )
        show_all = pn.widgets.Button(label="Show all events", width=150)
        show_all.on_click(lambda _: self.param.update(selected_soc=sf.OVERALL, selected_term=sf.OVERALL))
        return pn.Column(pn.Row(title, show_all), table, sizing_mode="stretch_width", min_width=450)

    def _listing_frame(self) -> pd.DataFrame:
        def compute():
            events = self.events()
            if not self.selected_term:
                events = events.iloc[:0]
            listing = sf.ae_listing(events, soc=self.selected_soc, term=self.selected_term)
            return listing.assign(Arm=listing["Arm"].map(self._label))

        return self._remember("listing", (self._event_key(), self.selected_soc, self.selected_term), compute)

    def _listing_title(self) -> str:
        if not self.selected_term:
            return "<b>Event listing</b>: click a table row or a point of the plot to list its events."
        n = len(self._listing_frame())
        if self.selected_term == sf.OVERALL:
            what = "all events"
        elif self.selected_term == sf.SOC_TOTAL:
            what = f"body system <i>{_e(self.selected_soc)}</i>"
        else:
            what = f"<i>{_e(self.selected_term)}</i> ({_e(self.selected_soc)})"
        return f"<b>Event listing</b>: {what}, {_plural(n, 'event')}"

    # ---- onset over time --------------------------------------------------------------------

    def _timeline(self, shown, subjects):
        if self.topic is None:
            return pn.pane.Alert("The data have no categories, grades or seriousness to draw onset curves from.",
                                 alert_type="info")
        topic_select = pn.widgets.Select.from_param(self.param.topic, label="Events", width=320)
        plot = pn.pane.HoloViews(_gated(shown, TIMELINE_TAB, self._onset_plot, subjects, self.param.topic),
                                 sizing_mode="stretch_width",
                                 height=380)
        curves = [
            topic_select,
            pn.pane.HTML(
                "<p class='note'>Cumulative proportion of safety-population patients with a first event by study day "
                f"(crude: patients with a first event by day t / N, no censoring adjustment). The dashed line "
                f"marks day {SAFETY_FOCUS_WINDOW_DAYS}, the focus-panel window. Counted: "
                f"{_e(self._definition(self.te_flag))}. Global filters apply; the incidence-table event filters "
                "do not.</p>", stylesheets=[HTML_CSS], sizing_mode="stretch_width"),
            plot,
        ]
        if not self.patient_level:
            return pn.Column(*curves, sizing_mode="stretch_width")
        patients = sorted(self.store.dataset.adae["USUBJID"].astype(str).unique())
        patient = pn.widgets.AutocompleteInput.from_param(
            self.param.patient, label="Patient (type an id)", options=patients, min_characters=1,
            case_sensitive=False, search_strategy="includes", width=260,
        )
        listing = pn.widgets.Tabulator(
            _gated(shown, TIMELINE_TAB, self._patient_listing, subjects, self.param.patient), show_index=False,
            disabled=True,
            pagination="remote", page_size=12, layout="fit_data_stretch", sizing_mode="stretch_width",
            hidden_columns=["Patient", "Arm"], stylesheets=[TABLE_CSS],
            formatters={"Onset date": DateFormatter(format="%Y-%m-%d")},
        )
        note = pn.pane.HTML(_gated(shown, TIMELINE_TAB, self._patient_note, subjects, self.param.patient),
                            sizing_mode="stretch_width", stylesheets=[HTML_CSS])
        return pn.Column(
            *curves, pn.pane.HTML("<b>Per-patient adverse events</b>", margin=(20, 10, 0, 10)), patient, note, listing,
            sizing_mode="stretch_width",
        )

    def _topic(self, label: str) -> AETopic:
        return next(t for t in SAFETY_TOPICS if t.label == label)

    def _all_events(self) -> pd.DataFrame:
        """Events of the timeline, focus panels and rates: treatment-emergent ones when the data flag them."""
        key = self.store.filter_spec
        return self._remember("all_events", key, lambda: sf.select_events(
            prepared_adae(self.store.dataset), self.store.subjects(), treatment_emergent_only=self.te_flag))

    def _onset_plot(self, subjects, topic_label):
        topic = self._topic(topic_label)
        events = sf.topic_events(self._all_events(), topic)
        curve = sf.ae_onset_cumulative_incidence(events, subjects, arms=self.arms)
        colors = self.arm_colors
        last_day = int(max(curve["DAY"].max(), SAFETY_FOCUS_WINDOW_DAYS)) if len(curve) else SAFETY_FOCUS_WINDOW_DAYS
        overlays = []
        for arm, part in curve.groupby("ARM", sort=False):
            extended = pd.concat([part, part.tail(1).assign(DAY=last_day)], ignore_index=True)
            extended["TEXT"] = [sf.n_of_N(n, d) for n, d in zip(extended["SUBJECTS"], extended["N"])]
            label = self._label(arm)
            extended["ARM_LABEL"] = label
            overlays.append(hv.Curve(extended, "DAY", ["PCT", "TEXT", "ARM_LABEL"], label=label).opts(
                interpolation="steps-post", color=colors.get(arm, "#000"), line_width=2.5, tools=["hover"],
                hover_tooltips=[("Arm", tooltip_field("ARM_LABEL")), ("Study day", "@DAY"), ("Patients", "@TEXT")],
            ))
        window = hv.VLine(SAFETY_FOCUS_WINDOW_DAYS).opts(color=self.ink.guide, line_dash="dashed", line_width=1)
        return hv.Overlay([*overlays, window]).opts(
            xlabel="Study day (day 1 = randomization)", ylabel="Patients with a first event (%)",
            title=f"Cumulative incidence: {topic.label}", legend_position="top_left", responsive=True,
            height=360, show_grid=True, ylim=(0, None),
        )

    def _patient_listing(self, subjects, patient) -> pd.DataFrame:
        """Every recorded adverse event of one patient, treatment-emergent or not (a column says which)."""
        if not patient:
            return sf.ae_listing(self._all_events().iloc[:0])
        events = sf.select_events(prepared_adae(self.store.dataset), subjects[subjects["USUBJID"] == patient])
        return sf.ae_listing(events, subject=patient)

    def _patient_note(self, subjects, patient) -> str:
        if not patient:
            return "Type a patient id to list that patient's adverse events (onset, grade, seriousness, outcome)."
        match = subjects[subjects["USUBJID"] == patient]
        if match.empty:
            return f"Patient {_e(patient)} is not among the filtered patients."
        row = match.iloc[0]
        if not is_yes(match["SAFFL"]).iloc[0]:
            return f"Patient {_e(patient)} is not in the safety population."
        n = len(self._patient_listing(subjects, patient))
        recorded = " recorded, treatment-emergent or not (see the Treatment-emergent column)" if self.te_flag else ""
        return (f"<b>Patient {_e(patient)}</b> ({_e(self._label(row['ARM']))}): "
                f"{_plural(n, 'adverse event')}{recorded}.")

    # ---- focus panels and exposure-adjusted rates -------------------------------------------

    def _focus(self, shown, subjects, event_deps):
        return pn.Column(
            pn.pane.HTML(_gated(shown, FOCUS_TAB, self._focus_html, subjects), sizing_mode="stretch_width",
                         stylesheets=[HTML_CSS]),
            pn.pane.HTML(_gated(shown, FOCUS_TAB, self._exposure_html, subjects, *event_deps),
                         sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
            sizing_mode="stretch_width",
        )

    def _focus_html(self, subjects) -> str:
        dataset = self.store.dataset
        events = self._all_events()
        arms = self.arms_shown(subjects)
        topics = [t for t in SAFETY_TOPICS if t.category is not None and sf.topic_available(dataset.adae, t)]
        parts = []
        if topics:
            rows = []
            for topic in topics:
                chosen = sf.topic_events(events, topic, window_days=SAFETY_FOCUS_WINDOW_DAYS)
                rows.append((topic.label, sf.subjects_with_event(chosen, subjects, arms=arms)))
            parts.append(self._html_table(
                f"Key safety topics within {SAFETY_FOCUS_WINDOW_DAYS} days of randomization (onset study day "
                f"1-{SAFETY_FOCUS_WINDOW_DAYS}, grade 3-4)", rows, arms))
        if "INFTYPE" in events.columns and "AECAT" in events.columns:
            infections = sf.topic_events(events, AETopic("Infection", category="INFECTION"),
                                         window_days=SAFETY_FOCUS_WINDOW_DAYS)
            severe = sf.topic_events(infections, AETopic("Grade 3-4", min_grade=3, max_grade=4))
            any_by = sf.subjects_with_event(infections, subjects, arms=arms, by="INFTYPE")
            sev_by = sf.subjects_with_event(severe, subjects, arms=arms, by="INFTYPE")
            rows = []
            for kind in sorted(set(any_by["INFTYPE"]) | set(sev_by["INFTYPE"])):
                rows.append((f"{kind}: any grade", any_by[any_by["INFTYPE"] == kind]))
                rows.append((f"{kind}: grade 3-4", sev_by[sev_by["INFTYPE"] == kind]))
            parts.append(self._html_table(
                f"Infections by type within {SAFETY_FOCUS_WINDOW_DAYS} days (patients with ≥ 1)", rows, arms))
        categories = [c for c in dataset.info.sae_categories if sf.category_available(dataset.adae, c)]
        if "AESER" in events.columns and categories:
            serious = sf.topic_events(events, AETopic("Serious", serious_only=True))
            counts = sf.subjects_by_category(serious, subjects, categories, arms=arms)
            rows = [(c.label, counts[counts["CATEGORY"] == c.label]) for c in categories]
            caption = dataset.info.captions.get("sae_categories", "Serious adverse events by the trial's categories")
            parts.append(self._html_table(caption, rows, arms))
        elif "AESER" in events.columns:
            serious = sf.topic_events(events, AETopic("Serious", serious_only=True))
            inc = sf.ae_incidence_by_arm(serious, subjects, arms=arms, bands=())
            rows = [("Any serious adverse event", inc[(inc["LEVEL"] == "overall")])]
            soc = inc[inc["LEVEL"] == "soc"]
            order = soc.groupby("AEBODSYS")["SUBJECTS"].sum().sort_values(ascending=False).index
            rows += [(name, soc[soc["AEBODSYS"] == name]) for name in order]
            parts.append(self._html_table("Serious adverse events by body system (whole follow-up)", rows, arms))
        note = ("<p class='note'>Patients with at least one event, n/N (%), N = safety population of the "
                f"filtered patients. Counted: {_e(self._definition(self.te_flag))}. Global filters apply; the "
                "incidence-table event filters do not.</p>")
        if categories and self.store.population != "Evaluable":
            note += ("<p class='caution'>The publication counts the analysed (evaluable) patients: choose the "
                     "<b>Evaluable</b> population in the sidebar to compare with its figures.</p>")
        return note + "".join(parts)

    def _html_table(self, caption: str, rows, arms) -> str:
        header = ["", *[self._label(a) for a in arms]]
        body = []
        for label, frame in rows:
            by_arm = frame.set_index("ARM")
            body.append([label, *[sf.n_of_N(by_arm.loc[a, "SUBJECTS"], by_arm.loc[a, "N"]) if a in by_arm.index
                                  else "" for a in arms]])
        return _html_grid(caption, header, body)

    def _exposure_html(self, subjects, *_) -> str:
        arms = self.arms_shown(subjects)
        cutoff = self.store.dataset.cutoff
        incidence_filters = self._definition(self.treatment_emergent_only)
        sets = [(f"Events matching the incidence-table filters: {incidence_filters}", self.events())]
        all_events = self._all_events()
        for topic in SAFETY_TOPICS:
            if sf.topic_available(self.store.dataset.adae, topic):
                sets.append((topic.label, sf.topic_events(all_events, topic)))
        body, outside, header = [], 0, None
        for label, events in sets:
            rates = sf.exposure_adjusted_rates(events, subjects, cutoff, window_days=self.collection_days, arms=arms)
            outside += int(rates["EVENTS_OUTSIDE"].sum())
            text = sf.exposure_rate_text(rates.assign(ARM=rates["ARM"].map(self._label)))
            header = ["What is counted", *text.columns]
            body += [[label if i == 0 else "", *row] for i, row in enumerate(text.itertuples(index=False))]
        window = (f"the end of adverse-event collection, study day {self.collection_days} ({self.collection_source}),"
                  if self.collection_days is not None else "the data cut (no adverse-event onset days in the data),")
        note = ("<p class='note'>Person-time per patient (safety population): from first treatment (else "
                f"randomization) to {_e(window)} or death, last known alive, end of study or the data cut if "
                "earlier. "
                "<b>Incidence rate</b>: patients with a first event / patient-months at risk (to the first event, "
                "else to the end of their person-time); exact Poisson (Garwood) 95% CI. <b>Event rate</b>: all "
                "events, repeated events of a patient included / patient-months; 95% CI from the robust (sandwich) "
                "variance, which allows for repeated events in the same patient (a plain Poisson CI would not), "
                "widened to the exact Poisson CI where that is wider (few events or patients). "
                f"Topic rows count {_e(self._definition(self.te_flag))}."
                + (f" {_plural(outside, 'event')} with an onset outside the person-time or unknown are left out of "
                   "the rates." if outside else "") + "</p>")
        return _html_grid("Exposure-adjusted rates per 100 patient-months next to crude incidence",
                          header or [], body, text_columns=2) + note


def _empty_frame(numbers: list[str], texts: list[str]) -> pd.DataFrame:
    """A plot frame with no rows whose text columns stay text: an empty float colour column makes
    Bokeh reject the update ("invalid color array"), which left Panel's Tabulator resize loop
    spinning and froze the page (issue 12, item 0b)."""
    return pd.DataFrame({**{c: pd.Series(dtype="float64") for c in numbers},
                         **{c: pd.Series(dtype="object") for c in texts}})


def _html_grid(caption: str, header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """A small HTML table with its title above (styled by `theme.HTML_CSS`; a title wider than the table
    is not wrapped to its width, as a caption would be): the first `text_columns` columns left-aligned,
    the figures right-aligned; every cell is escaped here."""
    def cls(i: int) -> str:
        return " class='text'" if i < text_columns else ""

    head = "".join(f"<th{cls(i)}>{_e(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{_e(v)}</td>" for i, v in enumerate(row)) + "</tr>" for row in rows)
    return (f"<div class='table-title'>{_e(caption)}</div>"
            f"<table style='margin-bottom:8px'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
