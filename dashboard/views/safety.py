"""The Adverse events tab: incidence by body system and term, risk differences, onset over time,
focus panels and exposure-adjusted rates, all following the store's filters and the data cut.

Event filters (serious / related / treatment-emergent, search, minimum incidence) and the chosen
row are this view's own parameters; derived frames are kept in the store's memo per (global filters,
event filters), so the panes that share them compute them once per change.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (options below need the Bokeh backend)
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import DateFormatter, NumberFormatter

from ..config import SAFETY_FOCUS_WINDOW_DAYS, SAFETY_TOPICS, AETopic
from ..transforms.flags import is_yes
from ..transforms.formatting import format_proportion, plural
from ..transforms.response import control_arm
from ..transforms import safety as sf
from ..transforms.changes import new_events
from ..store import TrialStore
from .base import TabView, no_patients_message
from .escape import escape_html as _e, tooltip_field
from .help import help_toggle
from .tables import DataTable
from .theme import HTML_CSS, PlotInk

COUNT_OPTIONS = {"Patients": "subjects", "Events": "events"}
SORT_OPTIONS = {"Frequency": "frequency", "Risk difference": "risk difference"}
GROUP_COLUMN = "Body system"
TERM_COLUMN = "Term"
NOT_SIGNIFICANT = "#999999"
INCIDENCE_TAB, TIMELINE_TAB, FOCUS_TAB = 0, 1, 2


def prepared_adae(store: TrialStore) -> pd.DataFrame:
    """The dataset's ADAE with categorical keys (`prepare_adae`), from the store's memo."""
    return store.memo("prepared adae", lambda _: sf.prepare_adae(store.dataset.adae))


def _volcano_guides(ink: PlotInk):
    """Static guides of the volcano plot (outside its DynamicMap, so updates redraw points only)."""
    threshold = hv.HLine(-np.log10(0.05)).opts(color=ink.guide, line_dash="dashed", line_width=1)
    return threshold * hv.VLine(0).opts(color=ink.guide, line_width=1)


def _band_title(band: str) -> str:
    """Column header of a grade band: the patient's worst grade ('Worst grade 3-4'); 'Any grade' as is."""
    if band == sf.ANY_BAND:
        return band
    return f"Worst {band[0].lower()}{band[1:]}" if band.startswith("Grade") else f"Worst: {band.lower()}"



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
        self.arms = arms
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

    # ---- derived data (kept in the store's memo per global filters and event filters) -------------

    def _event_key(self) -> tuple:
        return (self.serious_only, self.related_only, self.treatment_emergent_only, self.search.strip())

    def _events_for(self, serious_only: bool, related_only: bool, treatment_emergent_only: bool, search: str):
        return self.store.memo(("ae events", serious_only, related_only, treatment_emergent_only, search),
                               lambda _: sf.select_events(
                                   prepared_adae(self.store), self.store.subjects(), serious_only=serious_only,
                                   related_only=related_only, treatment_emergent_only=treatment_emergent_only,
                                   search=search))

    def arms_shown(self, subjects: pd.DataFrame) -> list[str]:
        """Arms of the filtered subjects in protocol order."""
        return sf.arm_order(subjects, self.arms)

    def events(self) -> pd.DataFrame:
        """Safety-population events of the filtered subjects after the event filters."""
        return self._events_for(*self._event_key())

    def incidence(self) -> pd.DataFrame:
        """`ae_incidence_by_arm` of the current events (before the minimum-incidence filter)."""
        return self.store.memo(("ae incidence", *self._event_key()), lambda _: sf.ae_incidence_by_arm(
            self.events(), self.store.subjects(), arms=self.arms, bands=self.bands))

    def risk(self) -> pd.DataFrame | None:
        """Per-term risk differences for the chosen arm pair (None when the pair is not comparable)."""
        inc = self.incidence()
        arms = set(inc["ARM"])
        if self.arm_a == self.arm_b or self.arm_a not in arms or self.arm_b not in arms:
            return None
        key = ("ae risk", *self._event_key(), self.arm_a, self.arm_b)
        return self.store.memo(key, lambda _: sf.risk_difference_by_term(inc, self.arm_a, self.arm_b))

    def table_frame(self) -> pd.DataFrame:
        """The incidence table as displayed (text cells; the table component escapes the group headers)."""
        inc = sf.filter_min_incidence(self.incidence(), self.min_incidence)
        table = sf.incidence_table(inc, self.arms_shown(self.store.subjects()), count=self.count,
                                   risk=self.risk(), sort_by=self.sort_by)
        return table.assign(**{GROUP_COLUMN: table["AEBODSYS"], TERM_COLUMN: table["AEDECOD"]})

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
        header = pn.pane.HTML(pn.bind(self.header_html, subjects, self.param.treatment_emergent_only),
                              sizing_mode="stretch_width", stylesheets=[HTML_CSS])
        summary = pn.pane.HTML(self.bind_active(self._summary, subjects, *event_deps, tab=(inner, INCIDENCE_TAB)),
                               css_classes=["ae-summary"], sizing_mode="stretch_width", stylesheets=[HTML_CSS])
        table = self._incidence_table(inner, subjects, event_deps)
        incidence_tab = pn.Column(
            controls, pair, summary, table.table,
            pn.pane.HTML(self._worst_grade_note(), sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
            pn.Row(table.csv_button, table.xlsx_button),
            pn.Row(self._volcano(inner, subjects, event_deps),
                   *([self._listing(inner, subjects, event_deps)] if self.patient_level else []),
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        inner.extend([
            ("Incidence and signals", incidence_tab),
            ("Onset over time", self._timeline(inner, subjects)),
            ("Focus panels and exposure", self._focus(inner, subjects, event_deps)),
        ])
        empty = no_patients_message(store)
        empty.visible = subjects.rx.pipe(lambda s: s.empty)
        inner.visible = subjects.rx.pipe(lambda s: not s.empty)
        return pn.Column(empty, header, inner, sizing_mode="stretch_width")

    def header_html(self, subjects: pd.DataFrame, *_) -> str:
        """The tab's header line: population, safety denominators per arm and what is counted (HTML)."""
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
            f"<b>Incidence table: {_e(self.event_definition(self.treatment_emergent_only))}.</b> "
            f"{note} Arms are the randomized arms.</div>"
        )

    def _label(self, arm: str) -> str:
        return self.store.dataset.info.arm_short_labels.get(arm, arm)

    def event_definition(self, treatment_emergent_only: bool) -> str:
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
        parts = [f"{_e(self._label(r.ARM))} <b>{format_proportion(r.SUBJECTS, r.N)}</b> ({plural(r.EVENTS, 'event')})"
                 for r in overall.itertuples()]
        return f"<div>Patients with at least one {what}: " + " · ".join(parts) + "</div>"

    # ---- incidence table --------------------------------------------------------------------

    def _incidence_table(self, inner, subjects, event_deps):
        deps = (subjects, *event_deps, self.param.min_incidence, self.param.count, self.param.sort_by,
                self.param.arm_a, self.param.arm_b)
        table = DataTable(
            self.bind_active(lambda *_: self.table_frame(), *deps, tab=(inner, INCIDENCE_TAB)),
            store=self.store, name_in_file="ae_incidence", title="AE incidence", export=self.export_frame,
            notes=self.export_notes,
            groupby=[GROUP_COLUMN],
            hidden_columns=["LEVEL", "AEBODSYS", "AEDECOD", "SORT_N", GROUP_COLUMN],
            selectable=1, height=430, widths={TERM_COLUMN: 240}, sortable=False,
            titles=self.bind_active(lambda s, *_: self._titles(s), *deps, tab=(inner, INCIDENCE_TAB)),
            groups=self.bind_active(lambda s, *_: self._column_groups(s), *deps, tab=(inner, INCIDENCE_TAB)),
            formatters={
                "Risk difference (pp)": NumberFormatter(format="0.0", nan_format=""),
                "Fisher p": NumberFormatter(format="0.000", nan_format=""),
            },
            pagination=None,
            header_tooltips={"Risk difference (pp)": "Incidence difference of the compared arms, percentage points",
                             "Fisher p": "Two-sided Fisher exact test, patients with >= 1 event"},
            frozen_columns=[TERM_COLUMN],
        )
        table.table.on_click(self._on_table_click)
        return table

    def _titles(self, subjects) -> dict[str, str]:
        titles = {sf.column_label(a, b): _band_title(b) for a in self.arms
                  for b in (sf.ANY_BAND, *[x[0] for x in self.bands])}
        if self.arm_a and self.arm_b:
            titles["Risk difference (pp)"] = f"RD {self._label(self.arm_a)} − {self._label(self.arm_b)} (pp)"
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

    def export_frame(self) -> pd.DataFrame:
        """The incidence download: counts per arm, body system, term and grade band (long form), with the
        risk difference and Fisher p of the compared arms."""
        inc = sf.filter_min_incidence(self.incidence(), self.min_incidence)
        risk = self.risk()
        out = inc.rename(columns={"AEBODSYS": "BODY_SYSTEM", "AEDECOD": "TERM"})
        if risk is not None:
            r = risk.rename(columns={"AEBODSYS": "BODY_SYSTEM", "AEDECOD": "TERM"})[
                ["BODY_SYSTEM", "TERM", "RD", "RD_LOW", "RD_HIGH", "P"]]
            r = r.rename(columns={"RD": f"RD_{self._label(self.arm_a)}_MINUS_{self._label(self.arm_b)}"})
            out = out.merge(r, on=["BODY_SYSTEM", "TERM"], how="left")
        return out

    def export_notes(self) -> list[str]:
        """Notes of the incidence download: denominators, what is counted and the event filters."""
        flags = [n for n, on in (("serious only", self.serious_only), ("related only", self.related_only),
                                 ("treatment-emergent only", self.treatment_emergent_only)) if on]
        filters = "; ".join(flags + ([f"search: {self.search}"] if self.search else [])) or "none"
        return [f"Denominators: safety population (SAFFL = Y) among the filtered {self.store.population} patients",
                f"Counted: {self.event_definition(self.treatment_emergent_only)}", f"Event filters: {filters}",
                f"Minimum incidence: {self.min_incidence:g}%"]

    # ---- volcano plot -----------------------------------------------------------------------

    def _volcano(self, inner, subjects, event_deps):
        deps = (subjects, *event_deps, self.param.arm_a, self.param.arm_b)
        dmap = self.dynamic_map(lambda *_: self._volcano_points(), self.store.filtered_subjects, *deps[1:],
                                tab=(inner, INCIDENCE_TAB))
        selection = hv.streams.Selection1D(source=dmap)
        selection.param.watch(lambda event: self._on_volcano_select(dmap, event.new), "index")
        labels = self.dynamic_map(lambda *_: self._volcano_labels(), self.store.filtered_subjects, *deps[1:],
                                  tab=(inner, INCIDENCE_TAB))
        return pn.Column(
            pn.pane.HTML(self.bind_active(lambda *_: self._volcano_title(), *deps, tab=(inner, INCIDENCE_TAB)), stylesheets=[HTML_CSS]),
            pn.pane.HoloViews(dmap * labels * _volcano_guides(self.ink), width=470, height=400),
            pn.pane.HTML(self.bind_active(lambda *_: self._volcano_key(), *deps, tab=(inner, INCIDENCE_TAB)), width=470,
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
                "A_TEXT": [format_proportion(n, d) for n, d in zip(risk["N_A"], risk["D_A"])],
                "B_TEXT": [format_proportion(n, d) for n, d in zip(risk["N_B"], risk["D_B"])],
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

    def _listing(self, inner, subjects, event_deps):
        deps = (subjects, *event_deps, self.param.selected_soc, self.param.selected_term, self.store.param.compare)
        title = pn.pane.HTML(self.bind_active(lambda *_: self._listing_title(), *deps, tab=(inner, INCIDENCE_TAB)),
                             sizing_mode="stretch_width")
        table = DataTable(
            self.bind_active(lambda *_: self._listing_frame(), *deps, tab=(inner, INCIDENCE_TAB)),
            store=self.store, name_in_file="ae_listing", title="Event listing", notes=lambda: [self._listing_what()],
            pagination="remote", page_size=10, hidden_columns=["Body system", "Treatment-emergent"],
            formatters={"Onset date": DateFormatter(format="%Y-%m-%d")},
        )
        show_all = pn.widgets.Button(label="Show all events", width=150)
        show_all.on_click(lambda _: self.param.update(selected_soc=sf.OVERALL, selected_term=sf.OVERALL))
        return pn.Column(pn.Row(title, show_all), table, sizing_mode="stretch_width", min_width=450)

    def _listing_frame(self) -> pd.DataFrame:
        def compute(_):
            events = self.events()
            if not self.selected_term:
                events = events.iloc[:0]
            listing = sf.ae_listing(self._marked_new(events), soc=self.selected_soc, term=self.selected_term)
            return listing.assign(Arm=listing["Arm"].map(self._label))

        return self.store.memo(("ae listing", *self._event_key(), self.selected_soc, self.selected_term,
                                self.store.compare), compute)

    def _marked_new(self, events: pd.DataFrame) -> pd.DataFrame:
        """`events` with NEW (not in the compared data cut) when an earlier cut is compared."""
        store = self.store
        compared = store.compared
        if compared is None or compared.adae is None:
            return events
        new = store.memo_unfiltered(("new adverse events", store.cut, store.compare),
                                    lambda: new_events(compared.adae, store.dataset.adae))
        return events.assign(NEW=new.reindex(events.index, fill_value=False).to_numpy())

    def _new_note(self, listing: pd.DataFrame) -> str:
        """What the "New" column means and how many events it marks (empty without a compared cut)."""
        if "New" not in listing:
            return ""
        return (f"{(listing['New'] == 'New').sum()} new since data cut {self.store.compare} (New: not in that "
                "cut's data, matched by patient, term, onset and occurrence)")

    def _listing_what(self) -> str:
        """Which events the listing shows, as plain text (for its download)."""
        new = self._new_note(self._listing_frame()) if self.selected_term else ""
        if self.selected_term == sf.OVERALL:
            what = "all events"
        elif self.selected_term == sf.SOC_TOTAL:
            what = f"body system {self.selected_soc}"
        else:
            what = f"{self.selected_term} ({self.selected_soc})" if self.selected_term else ""
        return f"Events listed: {what}" + (f"; {new}" if new else "") if what else "No events chosen"

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
        new = self._new_note(self._listing_frame())
        return f"<b>Event listing</b>: {what}, {plural(n, 'event')}" + (f"; {_e(new)}" if new else "")

    # ---- onset over time --------------------------------------------------------------------

    def _timeline(self, inner, subjects):
        if self.topic is None:
            return pn.pane.Alert("The data have no categories, grades or seriousness to draw onset curves from.",
                                 alert_type="info")
        topic_select = pn.widgets.Select.from_param(self.param.topic, label="Events", width=320)
        plot = pn.pane.HoloViews(self.bind_active(self._onset_plot, subjects, self.param.topic, tab=(inner, TIMELINE_TAB)),
                                 sizing_mode="stretch_width",
                                 height=380)
        curves = [
            topic_select,
            pn.pane.HTML(
                "<p class='note'>Cumulative proportion of safety-population patients with a first event by study day "
                f"(crude: patients with a first event by day t / N, no censoring adjustment). The dashed line "
                f"marks day {SAFETY_FOCUS_WINDOW_DAYS}, the focus-panel window. Counted: "
                f"{_e(self.event_definition(self.te_flag))}. Global filters apply; the incidence-table event filters "
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
        listing = DataTable(
            self.bind_active(lambda subjects, patient, _compare: self._patient_listing(subjects, patient), subjects,
                             self.param.patient, self.store.param.compare, tab=(inner, TIMELINE_TAB)),
            store=self.store, name_in_file="patient_ae_listing", title="Per-patient AE listing",
            notes=lambda: [f"Patient: {self.patient}"], export=lambda: self._patient_listing(
                self.store.subjects(), self.patient),
            pagination="remote", page_size=12, hidden_columns=["Patient", "Arm"],
            formatters={"Onset date": DateFormatter(format="%Y-%m-%d")},
        )
        note = pn.pane.HTML(self.bind_active(self._patient_note, subjects, self.param.patient, tab=(inner, TIMELINE_TAB)),
                            sizing_mode="stretch_width", stylesheets=[HTML_CSS])
        return pn.Column(
            *curves, pn.pane.HTML("<b>Per-patient adverse events</b>", margin=(20, 10, 0, 10)), patient, note, listing,
            sizing_mode="stretch_width",
        )

    def _topic(self, label: str) -> AETopic:
        return next(t for t in SAFETY_TOPICS if t.label == label)

    def all_events(self) -> pd.DataFrame:
        """Events of the timeline, focus panels and rates: treatment-emergent ones when the data flag them."""
        return self._events_for(False, False, self.te_flag, "")

    def _onset_plot(self, subjects, topic_label):
        topic = self._topic(topic_label)
        events = sf.topic_events(self.all_events(), topic)
        curve = sf.ae_onset_cumulative_incidence(events, subjects, arms=self.arms)
        colors = self.arm_colors
        last_day = int(max(curve["DAY"].max(), SAFETY_FOCUS_WINDOW_DAYS)) if len(curve) else SAFETY_FOCUS_WINDOW_DAYS
        overlays = []
        for arm, part in curve.groupby("ARM", sort=False):
            extended = pd.concat([part, part.tail(1).assign(DAY=last_day)], ignore_index=True)
            extended["TEXT"] = [format_proportion(n, d) for n, d in zip(extended["SUBJECTS"], extended["N"])]
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
            return sf.ae_listing(self.all_events().iloc[:0])
        events = sf.select_events(prepared_adae(self.store), subjects[subjects["USUBJID"] == patient])
        return sf.ae_listing(self._marked_new(events), subject=patient)

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
                f"{plural(n, 'adverse event')}{recorded}.")

    # ---- focus panels and exposure-adjusted rates -------------------------------------------

    def _focus(self, inner, subjects, event_deps):
        focus = DataTable(
            self.bind_active(self.focus_frame, subjects, tab=(inner, FOCUS_TAB)), store=self.store,
            name_in_file="ae_focus_panels", title="AE focus panels", notes=lambda: [self.focus_counted()],
            groupby=list(sf.FOCUS_COLUMNS[:1]), hidden_columns=list(sf.FOCUS_COLUMNS[:1]),
            right_aligned=[self._label(a) for a in self.arms], frozen_columns=["Row"], sortable=False)
        exposure = DataTable(
            self.bind_active(self.exposure_frame, subjects, *event_deps, tab=(inner, FOCUS_TAB)), store=self.store,
            name_in_file="ae_exposure_adjusted_rates", title="Exposure-adjusted AE rates",
            notes=lambda: [self._exposure_method()], groupby=[sf.EXPOSURE_SET_COLUMN],
            hidden_columns=[sf.EXPOSURE_SET_COLUMN, "EVENTS_OUTSIDE"], right_aligned=list(sf.RATE_TEXT_COLUMNS[1:]),
            frozen_columns=[sf.RATE_TEXT_COLUMNS[0]], sortable=False)
        return pn.Column(
            pn.pane.HTML(self.bind_active(self._focus_note, subjects, tab=(inner, FOCUS_TAB)),
                         sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
            focus,
            pn.pane.HTML("<div class='table-title'>Exposure-adjusted rates per 100 patient-months next to crude "
                         "incidence</div>", sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
            exposure,
            pn.pane.HTML(self.bind_active(self.exposure_note, subjects, *event_deps, tab=(inner, FOCUS_TAB)),
                         sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
            sizing_mode="stretch_width",
        )

    def focus_frame(self, subjects) -> pd.DataFrame:
        """The focus panels (`safety_focus_table`) of the filtered subjects."""
        dataset = self.store.dataset
        arms = self.arms_shown(subjects)
        return sf.safety_focus_table(
            self.all_events(), subjects, arms, adae=dataset.adae, topics=SAFETY_TOPICS,
            sae_categories=dataset.info.sae_categories,
            sae_title=dataset.info.captions.get("sae_categories", "Serious adverse events by the trial's categories"),
            window_days=SAFETY_FOCUS_WINDOW_DAYS, labels={a: self._label(a) for a in arms})

    def focus_counted(self) -> str:
        """What the focus panels count, in words."""
        return (f"Patients with at least one event, n/N (%), N = safety population of the filtered patients. "
                f"Counted: {self.event_definition(self.te_flag)}. Global filters apply; the incidence-table event "
                "filters do not.")

    def _focus_note(self, subjects) -> str:
        note = f"<p class='note'>{_e(self.focus_counted())}</p>"
        if self.store.dataset.info.sae_categories and self.store.population != "Evaluable":
            note += ("<p class='caution'>The publication counts the analysed (evaluable) patients: choose the "
                     "<b>Evaluable</b> population in the sidebar to compare with its figures.</p>")
        return note

    def exposure_frame(self, subjects, *_) -> pd.DataFrame:
        """Exposure-adjusted rates (`exposure_rate_table`) of the incidence-table events and of each safety topic."""
        def compute(_):
            arms = self.arms_shown(subjects)
            sets = [(f"Events matching the incidence-table filters: {self.event_definition(self.treatment_emergent_only)}",
                     self.events())]
            sets += [(topic.label, sf.topic_events(self.all_events(), topic)) for topic in SAFETY_TOPICS
                     if sf.topic_available(self.store.dataset.adae, topic)]
            return sf.exposure_rate_table(sets, subjects, self.store.dataset.cutoff, window_days=self.collection_days,
                                          arms=arms, labels={a: self._label(a) for a in arms})

        return self.store.memo(("ae exposure rates", *self._event_key()), compute)

    def _exposure_method(self) -> str:
        window = (f"the end of adverse-event collection, study day {self.collection_days} ({self.collection_source}),"
                  if self.collection_days is not None else "the data cut (no adverse-event onset days in the data),")
        return ("Person-time per patient (safety population): from first treatment (else randomization) to "
                f"{window} or death, last known alive, end of study or the data cut if earlier. Incidence rate: "
                "patients with a first event / patient-months at risk (to the first event, else to the end of "
                "their person-time); exact Poisson (Garwood) 95% CI. Event rate: all events, repeated events of a "
                "patient included / patient-months; 95% CI from the robust (sandwich) variance, which allows for "
                "repeated events in the same patient (a plain Poisson CI would not), widened to the exact Poisson "
                f"CI where that is wider (few events or patients). Topic rows count {self.event_definition(self.te_flag)}.")

    def exposure_note(self, subjects, *_) -> str:
        """The exposure-adjusted rates' note: events left out of the rates, and why (HTML)."""
        outside = int(self.exposure_frame(subjects)["EVENTS_OUTSIDE"].sum())
        left_out = (f" {plural(outside, 'event')} with an onset outside the person-time or unknown are left out of "
                    "the rates." if outside else "")
        return f"<p class='note'>{_e(self._exposure_method())}{left_out}</p>"


def _empty_frame(numbers: list[str], texts: list[str]) -> pd.DataFrame:
    """A plot frame with no rows whose text columns stay text: an empty float colour column makes
    Bokeh reject the update ("invalid color array"), which left Panel's Tabulator resize loop
    spinning and froze the page (issue 12, item 0b)."""
    return pd.DataFrame({**{c: pd.Series(dtype="float64") for c in numbers},
                         **{c: pd.Series(dtype="object") for c in texts}})
