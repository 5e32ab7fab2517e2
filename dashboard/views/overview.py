"""Overview tab: the steering committee's first questions for the current filters, with denominators."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import panel as pn

from ..config import POPULATIONS
from ..transforms.filtering import restrict_to_subjects
from ..transforms.overview import (
    ALL_ARMS,
    STATUS_ORDER,
    arm_status_table,
    primary_endpoint_status_by_arm,
    primary_status_table,
    randomized_by_arm,
    serious_ae_by_arm,
    serious_ae_table,
    status_changes,
    study_status_by_arm,
)
from ..transforms.flags import is_yes
from ..transforms.formatting import plural
from ..transforms.safety import ae_definition, has_treatment_emergent_flag
from .base import TabView, no_patients_message
from .response import trial_visits
from .escape import escape_html
from .sites import SiteChart
from .summary import ExecutiveSummaryView
from .tables import DataTable
from .theme import HTML_CSS

NO_TABLE = pd.DataFrame()  # a section's table when the section says why it has none (never modified)
ARM_TABLE_NOTE = "Died takes precedence over the end-of-study status; percentages of the arm's patients."
SECTION_MIN_WIDTH = 640  # px: two sections side by side on large screens, one per row on laptops
CARDS_CSS = """
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { flex: 1 1 130px; min-width: 130px; border: 1px solid rgba(128, 128, 128, 0.35);
        border-radius: 8px; padding: 8px 12px; }
.card .label { font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.03em; opacity: 0.75; }
.card .value { font-size: 1.6rem; font-weight: 600; line-height: 1.25; }
.card .detail { font-size: 0.82rem; opacity: 0.85; }
.card .change { font-size: 1rem; font-weight: 500; opacity: 0.8; }
"""


@dataclass(frozen=True)
class OverviewSummary:
    """Everything the overview shows for one filter state, computed once per change."""

    subjects: pd.DataFrame
    randomized: pd.DataFrame
    status: pd.DataFrame
    primary: pd.DataFrame | str
    sae: pd.DataFrame | str
    arm_table: pd.DataFrame
    primary_table: pd.DataFrame
    sae_table: pd.DataFrame


class OverviewView(TabView):
    """Overview tab: randomized vs target, by arm and site, study status, primary endpoint and SAEs."""

    title = "Overview"
    reads_tables = ("adsl", "adae")

    def __panel__(self) -> pn.viewable.Viewable:
        subjects = self.filtered_subjects
        summary = subjects.rx.pipe(self.summarize)
        empty = no_patients_message(self.store)
        empty.visible = subjects.rx.pipe(lambda s: s.empty)

        def html(render, css=HTML_CSS, **kwargs):
            return pn.pane.HTML(summary.rx.pipe(render), stylesheets=[css], margin=(5, 10), **kwargs)

        def table(frame, name: str, title: str, note, **kwargs):
            """A section's table (hidden when the section shows why it has none) with its downloads."""
            shown = frame.rx.pipe(lambda f: not f.empty)
            return pn.Column(DataTable(frame, store=self.store, name_in_file=name, title=title, notes=note,
                                       frozen_columns=["Arm"], text_columns=["Arm"]),
                             visible=shown, sizing_mode="stretch_width", **kwargs)

        flex = {"min_width": SECTION_MIN_WIDTH, "styles": {"flex": f"1 1 {SECTION_MIN_WIDTH}px"}}
        chart = pn.Column(SiteChart(view=self, title="Patients by site"), margin=(5, 0), **flex)
        primary = pn.Column(html(self._primary_caption, sizing_mode="stretch_width"),
                            table(summary.rx.pipe(lambda s: s.primary_table), "primary_endpoint_status",
                                  "Primary endpoint status", lambda: [self._primary_note()]),
                            html(lambda _: f"<p class='note'>{escape_html(self._primary_note())}</p>"), **flex)
        serious = pn.Column(html(self._sae_caption, sizing_mode="stretch_width"),
                            table(summary.rx.pipe(lambda s: s.sae_table), "serious_adverse_events",
                                  "Serious adverse events", lambda: [self._sae_note()]),
                            html(lambda _: f"<p class='note'>{escape_html(self._sae_note())}</p>"), **flex)
        content = pn.Column(
            ExecutiveSummaryView(store=self.store, subjects=subjects),
            pn.pane.HTML(self.bind_active(self._cards_html, summary, self.store.param.compare), stylesheets=[CARDS_CSS],
                         margin=(5, 10), sizing_mode="stretch_width"),
            pn.pane.HTML("<div class='table-title'>Patients by arm and study status</div>", stylesheets=[HTML_CSS],
                         margin=(5, 10), sizing_mode="stretch_width"),
            table(summary.rx.pipe(lambda s: s.arm_table), "patients_by_arm_and_status",
                  "Patients by arm and study status", [ARM_TABLE_NOTE]),
            pn.pane.HTML(f"<p class='note'>{escape_html(ARM_TABLE_NOTE)}</p>", stylesheets=[HTML_CSS],
                         margin=(0, 10), sizing_mode="stretch_width"),
            pn.FlexBox(primary, serious, chart, gap="12px", sizing_mode="stretch_width"),
            visible=subjects.rx.pipe(lambda s: not s.empty), sizing_mode="stretch_width",
        )
        return pn.Column(empty, content, sizing_mode="stretch_width", name=self.title)

    def summarize(self, subjects: pd.DataFrame) -> OverviewSummary:
        """The overview's numbers for the filtered subjects (transforms only, no rendering), kept in the
        store's memo per filter setting."""
        def compute(_) -> OverviewSummary:
            arms = self.store.dataset.arms
            randomized, status = randomized_by_arm(subjects, arms), study_status_by_arm(subjects, arms)
            primary, sae = self._primary(subjects), self._sae(subjects)
            day = self.store.dataset.info.primary_visit_day
            return OverviewSummary(
                subjects=subjects, randomized=randomized, status=status, primary=primary, sae=sae,
                arm_table=arm_status_table(randomized, status, arms),
                primary_table=primary_status_table(primary, day) if isinstance(primary, pd.DataFrame) else NO_TABLE,
                sae_table=serious_ae_table(sae) if isinstance(sae, pd.DataFrame) else NO_TABLE)

        return self.store.memo("overview summary", compute)

    def _primary(self, subjects: pd.DataFrame) -> pd.DataFrame | str:
        """The primary endpoint status frame, or why it cannot be shown."""
        dataset = self.store.dataset
        day = dataset.info.primary_visit_day
        if day is None:
            return "This trial's primary endpoint visit is not configured."
        if not dataset.has("adrs"):
            return "The data have no response assessments (ADRS), so the primary endpoint status is unavailable."
        try:
            return primary_endpoint_status_by_arm(subjects, dataset.adrs, dataset.cutoff, day, dataset.arms,
                                                  windows=dataset.info.visit_window_days)
        except (KeyError, ValueError) as exc:
            return f"Primary endpoint status unavailable: {exc}"

    def _sae(self, subjects: pd.DataFrame) -> pd.DataFrame | str:
        """Serious AEs per arm, or why they cannot be counted."""
        dataset = self.store.dataset
        if dataset.adae is None:
            return "The data have no adverse events (ADAE), so serious AEs cannot be counted."
        try:
            return serious_ae_by_arm(subjects, restrict_to_subjects(dataset.adae, subjects), dataset.arms)
        except KeyError as exc:
            return f"Serious AEs unavailable: {exc}"

    # --- cards -------------------------------------------------------------------------------

    def _cards_html(self, summary: OverviewSummary, compare: str | None = None) -> str:
        info = self.store.dataset.info
        then = self.store.compared_subjects()
        # With a series of cuts: each count's change since the compared cut, on the same filters.
        changes = {} if then is None else status_changes(summary.subjects, then)
        cards = [self._enrollment_card(len(summary.subjects), changes.get("Patients"))]
        total = summary.status.loc[summary.status["ARM"] == ALL_ARMS].set_index("STATUS")
        for label in STATUS_ORDER:
            if label in total.index:
                row = total.loc[label]
                cards.append(_card(label, int(row["n"]), _pct_text(row["n"], row["N"], "patients"), changes.get(label)))
        if isinstance(summary.primary, pd.DataFrame):
            row = summary.primary.set_index("ARM").loc[ALL_ARMS]
            cards.append(_card(
                f"Day {info.primary_visit_day} assessed", int(row["assessed"]),
                f"{_pct_text(row['assessed'], row['assessed_or_due'], 'due')}; {int(row['pending'])} not yet due",
            ))
        if isinstance(summary.sae, pd.DataFrame):
            row = summary.sae.set_index("ARM").loc[ALL_ARMS]
            cards.append(_card(
                "Serious AE patients", int(row["patients"]),
                f"{_pct_text(row['patients'], row['N'], 'in safety')}; {plural(int(row['events']), 'event')}",
            ))
        return f'<div class="cards">{"".join(cards)}</div>'

    def _enrollment_card(self, n: int, change: int | None = None) -> str:
        store, info = self.store, self.store.dataset.info
        total = int(is_yes(store.dataset.adsl[POPULATIONS[store.population]]).sum())
        label = "Randomized" if store.population == "ITT" else f"{store.population} population"
        target = info.target_enrollment
        if n < total:
            detail = f"of {total} {'randomized' if store.population == 'ITT' else 'in the population'} ({100 * n / total:.1f}%)"
            detail += f"; target {target}" if target else ""
        elif target:
            detail = f"of {target} targeted ({100 * n / target:.1f}%)"
        else:
            detail = "no enrollment target recorded"
        return _card(label, n, detail, change)

    # --- table captions and notes -----------------------------------------------------------------

    def _primary_caption(self, summary: OverviewSummary) -> str:
        day = self.store.dataset.info.primary_visit_day
        visit = f"at day {day}" if day is not None else "visit not configured"
        caption = f"<div class='table-title'>Primary endpoint (overall response, {visit}): status at the data cut</div>"
        return caption + (f"<p class='note'>{escape_html(summary.primary)}</p>" if isinstance(summary.primary, str) else "")

    def _primary_note(self) -> str:
        dataset = self.store.dataset
        day = dataset.info.primary_visit_day
        if day is None or not dataset.has("adrs"):
            return ""
        visits = trial_visits(self.store)
        window_end = int(visits.loc[visits["DAY"] == day, "WINDOW_END"].iloc[0])
        return (f"Evaluable patients of the current filters. The visit is due once its window, day {day} to day "
                f"{window_end} (randomization = day 1), has closed by the data cut {self.store.cutoff}; until then a "
                "missing assessment is not yet due. Overdue = window closed without an assessment.")

    def _counted(self) -> str:
        adae = self.store.dataset.adae
        flagged = adae is not None and has_treatment_emergent_flag(adae)
        return ae_definition(flagged, treatment_emergent_only=flagged)

    def _sae_caption(self, summary: OverviewSummary) -> str:
        caption = (f"<div class='table-title'>Serious adverse events up to {self.store.cutoff}: "
                   f"{escape_html(self._counted())}</div>")
        return caption + (f"<p class='note'>{escape_html(summary.sae)}</p>" if isinstance(summary.sae, str) else "")

    def _sae_note(self) -> str:
        if self.store.dataset.adae is None:
            return ""
        return (f"Safety population of the current filters; counted: serious {self._counted()}, as on the Adverse "
                "events tab.")


def _card(label: str, value: int, detail: str, change: int | None = None) -> str:
    since = "" if change is None else f' <span class="change" title="change since the compared data cut">({change:+d})</span>'
    return (f'<div class="card"><div class="label">{escape_html(label)}</div>'
            f'<div class="value">{value}{since}</div><div class="detail">{escape_html(detail)}</div></div>')


def _pct_text(n, total, of: str) -> str:
    return f"of {int(total)} {of} ({100 * n / total:.1f}%)" if total else f"of 0 {of}"

