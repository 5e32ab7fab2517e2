"""The Overview's executive summary: how the trial is going for the current filters, in plain sentences,
each line with a link to the tab holding the details. Numbers come from `transforms.summary`; this
module only formats them (every data value escaped)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import param

from ..config import AE_SIGNAL_MAX_TERMS, INFECTION_SOC, SEVERE_GRADE
from ..store import TrialStore
from ..transforms.formatting import format_p, format_proportion
from ..transforms.overview import ALL_ARMS
from ..transforms.response import primary_population
from ..transforms.safety import grade_basis
from ..transforms.summary import (
    PACE_BEHIND,
    PACE_NO_TARGET,
    PACE_ON_TRACK,
    PACE_REACHED,
    EnrollmentPace,
    ExecutiveSummary,
    Omitted,
    executive_summary,
    trial_enrollment,
)
from .safety import prepared_adae
from .escape import escape_html

SUMMARY_CSS = """
:host { width: 100%; }
.line { display: grid; grid-template-columns: 10.5rem 1fr; column-gap: 12px; font-size: 0.92rem; line-height: 1.4; }
.what { font-weight: 600; }
.omitted { opacity: 0.8; font-style: italic; }
.caveat { font-style: italic; }
.nb { white-space: nowrap; }
"""
HEAD_CSS = """
:host { width: 100%; }
.head { font-size: 1.05rem; font-weight: 600; }
.head .cut { font-weight: 400; font-size: 0.9rem; opacity: 0.85; margin-left: 8px; }
"""
BOX_STYLES = {"border": "1px solid rgba(128, 128, 128, 0.45)", "border-radius": "8px", "padding": "4px 4px 6px 4px"}
LINK_WIDTH = 180  # px: the "… tab" buttons at the end of each line


class ExecutiveSummaryView(pn.viewable.Viewer):
    """Plain-language summary at the top of the Overview: enrollment, primary endpoint, deaths, serious
    AEs, severe infections and AE signals for the current filters, each linking to its tab."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's filter store (single source of truth).")
    subjects = param.DataFrame(default=None, allow_refs=True,
                               doc="The filtered subjects to summarise: a reference such as the Overview's "
                                   "gated `filtered_subjects`, so the summary follows the filters.")

    def summarize(self, subjects: pd.DataFrame) -> ExecutiveSummary:
        """The summary's numbers for the filtered subjects (kept in the store's memo per filter setting)."""
        store, dataset = self.store, self.store.dataset

        def compute(_) -> ExecutiveSummary:
            primary, _recorded = primary_population(dataset.info.primary_population,
                                                    store.param.population.objects, store.population)
            enrollment = trial_enrollment(dataset.randomized, dataset.cutoff, dataset.info)
            adae = prepared_adae(store) if dataset.has("adae") else dataset.adae
            return executive_summary(subjects, dataset.cutoff, dataset.info, dataset.arms, enrollment=enrollment,
                                     adrs=dataset.adrs, adae=adae, primary_subjects=store.subjects_in(primary),
                                     primary_population=primary)

        return store.memo("executive summary", compute)

    def __panel__(self) -> pn.viewable.Viewable:
        summary = self.param.subjects.rx().rx.pipe(self.summarize)
        dataset = self.store.dataset
        severity_only = dataset.adae is not None and grade_basis(dataset.adae) == "severity"
        infections = "Severe infections" if severity_only else f"Grade ≥ {SEVERE_GRADE} infections"
        deaths_tab = "Response" if dataset.has("adtte") and (dataset.adtte["PARAMCD"] == "OS").any() else "Enrollment"
        lines = [
            ("Enrollment", "enrollment", self.enrollment_html, "Enrollment"),
            ("Primary endpoint", "primary", self.primary_html, "Response"),
            ("Deaths", "deaths", self.deaths_html, deaths_tab),
            ("Serious adverse events", "serious", self.serious_html, "Adverse events"),
            (infections, "infections", self.infections_html, "Adverse events"),
            ("Adverse event signals", "signals", self.signals_html, "Adverse events"),
        ]
        rows = [pn.pane.HTML(summary.rx.pipe(self.head_html), stylesheets=[HEAD_CSS], margin=(4, 10, 2, 10),
                             sizing_mode="stretch_width")]
        for label, part, render, tab in lines:
            text = pn.pane.HTML(summary.rx.pipe(lambda s, label=label, render=render: _line(label, render(s))),
                                stylesheets=[SUMMARY_CSS], margin=(2, 10), sizing_mode="stretch_width")
            rows.append(pn.Row(text, self._link(tab, summary.rx.pipe(
                lambda s, part=part: not isinstance(getattr(s, part), Omitted))), sizing_mode="stretch_width"))
        return pn.Column(*rows, sizing_mode="stretch_width", styles=BOX_STYLES, margin=(5, 10),
                         css_classes=["exec-summary"])

    def _link(self, tab: str, has_numbers) -> pn.widgets.Button:
        """A button opening `tab` (shown only when the app shows that tab and the line has numbers)."""
        button = pn.widgets.Button(label=f"{tab} tab →", color="primary", variant="outline",
                                   width=LINK_WIDTH, height=30, margin=(2, 10), align="center",
                                   description=f"Open the {tab} tab")
        button.visible = has_numbers if tab in (self.store.param.tab.objects or []) else False
        button.on_click(lambda event: setattr(self.store, "tab", tab))
        return button

    # --- lines (HTML; every data value escaped) ------------------------------------------------

    def head_html(self, s: ExecutiveSummary) -> str:
        """Title line: the question answered, the data cut and whom the numbers cover."""
        store = self.store
        return (f'<div class="head">How is the trial going?<span class="cut">Data cut {s.cutoff.date().isoformat()} · '
                f"{escape_html(store.population)} population, {escape_html(store.summary())} "
                f"(current filters)</span></div>")

    def enrollment_html(self, s: ExecutiveSummary) -> str:
        """Randomized vs target, when the target was or will be reached, and the pace."""
        pace = s.enrollment
        if isinstance(pace, Omitted):
            return _omitted(pace)
        filtered = s.patients != pace.randomized
        text = "Whole trial: " if filtered else ""
        if pace.target:
            text += f"<b>{pace.randomized}</b> randomized of the target of {pace.target} ({pace.pct_of_target:.1f}%)."
        else:
            text += f"<b>{pace.randomized}</b> randomized; no enrollment target is recorded."
        text += " " + _pace_sentence(pace)
        if filtered:
            text += (f" {s.patients} patients of the {escape_html(self.store.population)} population match the "
                     "current filters.")
        return text

    def primary_html(self, s: ExecutiveSummary) -> str:
        """Responders per arm and each comparison with its CI and test, naming the population."""
        result = s.primary
        if isinstance(result, Omitted):
            return _omitted(result)
        population, planned = escape_html(s.primary_population), self.store.dataset.info.primary_population
        if planned == s.primary_population:
            where = f"in the {population} population (the trial's primary analysis population)"
        elif planned:
            where = (f"in the {population} population (the trial's primary analysis population, "
                     f"{escape_html(planned)}, is not flagged in these data)")
        else:
            where = f"in the {population} population (no primary analysis population is recorded for this trial)"
        rows = result.by_arm
        if rows.empty:
            return f"No patient of the {population} population matches the filters."
        arms = " vs ".join(f"{self._arm(r.ARM)} <b>{format_proportion(r.responders, r.evaluated)}</b>"
                           for r in rows.itertuples())
        text = f"Overall response (CR or PR) at {escape_html(result.visit)} {where}: {arms}."
        for c in result.comparisons.itertuples():
            vs = f" ({self._arm(c.TREATMENT)} vs {self._arm(c.CONTROL)})" if len(result.comparisons) > 1 else ""
            if np.isnan(c.DIFF):
                text += f" No comparison{vs}: an arm has nobody evaluated yet."
                continue
            text += (f" Difference{vs} <b>{c.DIFF:+.1f}</b> percentage points "
                     f"(95% {result.ci_method} CI {c.DIFF_LOW:+.1f} to {c.DIFF_HIGH:+.1f})")
            text += f"; {result.test} {escape_html(format_p(c.P))}." if not np.isnan(c.P) else "."
        if result.comparisons.empty:
            text += " Only one arm matches the filters: no comparison."
        pending = int(rows["pending"].sum())
        if pending:
            text += f" {pending} patient{'s' if pending != 1 else ''} not yet due at the data cut are not counted."
        return text

    def deaths_html(self, s: ExecutiveSummary) -> str:
        """Deaths per arm up to the data cut."""
        if isinstance(s.deaths, Omitted):
            return _omitted(s.deaths)
        counts = self._per_arm(s.deaths, "n", "N", s.arms)
        return f"Died by the data cut: {counts} ({escape_html(self.store.population)} population)."

    def serious_html(self, s: ExecutiveSummary) -> str:
        """Patients with a serious adverse event per arm."""
        if isinstance(s.serious, Omitted):
            return _omitted(s.serious)
        kind = "treatment-emergent serious adverse event" if s.treatment_emergent else "serious adverse event"
        return f"Patients with ≥ 1 {kind}: {self._per_arm(s.serious, 'patients', 'N', s.arms)} (safety population)."

    def infections_html(self, s: ExecutiveSummary) -> str:
        """Patients with a grade >= 3 (or severe) infection per arm."""
        if isinstance(s.infections, Omitted):
            return _omitted(s.infections)
        grade = f"grade ≥ {SEVERE_GRADE}" if s.grade_basis == "CTCAE" else "severe"
        scope = escape_html(INFECTION_SOC) + (", treatment-emergent" if s.treatment_emergent else "")
        if s.grade_basis != "CTCAE":
            scope += "; AE severity, as the data have no CTCAE grades"
        counts = self._per_arm(s.infections, "SUBJECTS", "N", s.arms)
        return f"Patients with ≥ 1 {grade} infection ({scope}): {counts} (safety population)."

    def signals_html(self, s: ExecutiveSummary) -> str:
        """Preferred terms flagged by the unadjusted Fisher screen, with the caveat."""
        screen = s.signals
        if isinstance(screen, Omitted):
            return _omitted(screen)
        caveat = '<span class="caveat">unadjusted screen, not evidence of harm</span>'
        control = self._arm(screen.control)
        others = " or ".join(self._arm(a) for a in s.arms if a != screen.control)
        found = screen.flagged
        test = f"Fisher exact p &lt; {screen.threshold:g}"
        if found.empty:
            return (f"No preferred term differs between {others} and {control} at {test} "
                    f"({screen.terms_screened} terms screened; {caveat}).")
        shown = [f"{escape_html(str(r.AEDECOD))} ({self._arm(r.ARM)} {_share(r.N_A, r.D_A)} vs "
                 f"{control} {_share(r.N_B, r.D_B)}, {escape_html(format_p(r.P))})"
                 for r in found.head(AE_SIGNAL_MAX_TERMS).itertuples()]
        more = len(found) - len(shown)
        listed = "; ".join(shown) + (f"; and {more} more" if more else "")
        terms = found["AEDECOD"].nunique()
        if len(s.arms) == 2:
            count = f"<b>{terms}</b> of {screen.terms_screened} preferred terms differ between {others} and {control}"
        else:
            count = (f"<b>{len(found)}</b> differences from {control} in {terms} of {screen.terms_screened} "
                     f"preferred terms")
        return f"{count} at {test} ({caveat}): {listed}."

    def _arm(self, arm: str) -> str:
        """The arm's short label (escaped)."""
        return escape_html(self.store.dataset.info.arm_short_labels.get(arm, arm))

    def _per_arm(self, frame: pd.DataFrame, n: str, total: str, arms) -> str:
        """'MSC 39/101 (38.6%), Control 50/102 (49.0%)' for the arms shown (no "All arms" row)."""
        rows = frame.loc[frame["ARM"].isin(arms) & (frame["ARM"] != ALL_ARMS)].set_index("ARM")
        return ", ".join(f"{self._arm(a)} <b>{format_proportion(rows.loc[a, n], rows.loc[a, total])}</b>"
                         for a in arms if a in rows.index)


def _pace_sentence(pace: EnrollmentPace) -> str:
    """When the target was reached or where enrollment is heading, and the rate (HTML-safe: no data text)."""
    if pace.status == PACE_REACHED:
        text = f"Target reached on {_date(pace.target_reached_on)}"
        if pace.planned_end is not None:
            days = (pace.target_reached_on - pace.planned_end).days
            when = "on" if days == 0 else f"{abs(days)} days {'after' if days > 0 else 'before'}"
            text += f", {when} the planned end of enrollment ({_date(pace.planned_end)})"
        return text + "." + _average(pace)
    recent, window = "", f"the last {pace.window_months} complete months before the cut"
    if pace.recent_rate == 0:
        recent = f" No patient was randomized in {window}."
    elif pace.recent_rate is not None:
        recent = f" Recent pace {pace.recent_rate:.1f} patients/month ({window})."
    if pace.status == PACE_NO_TARGET:
        return _average(pace).strip() + recent
    heading = ""
    if pace.projected_completion is not None:
        heading = f" At that pace the target is reached around {pace.projected_completion.strftime('%B %Y')}."
    if pace.status in (PACE_ON_TRACK, PACE_BEHIND):
        end = _date(pace.planned_end)
        plan = f" ({pace.planned_by_cut:.0f} planned by the cut)" if pace.planned_by_cut is not None else ""
        verdict = (f" <b>On track</b> for the planned end of enrollment ({end}){plan}." if pace.status == PACE_ON_TRACK
                   else f" <b>Behind plan</b>: the planned end of enrollment is {end}{plan}.")
        return recent.strip() + heading + verdict
    return recent.strip() + heading + " No planned end of enrollment is recorded."


def _average(pace: EnrollmentPace) -> str:
    if pace.average_rate is None:
        return ""
    return (f" Randomized {_date(pace.first_randomized)} to {_date(pace.last_randomized)}, "
            f"{pace.average_rate:.1f} patients/month on average.")


def _share(n, total) -> str:
    """'10/101 (10%)': whole percentages keep the signal list short."""
    return f"{int(n)}/{int(total)} ({100 * n / total:.0f}%)" if total else f"{int(n)}/0"


def _date(value: pd.Timestamp) -> str:
    """An ISO date that never breaks across lines."""
    return f'<span class="nb">{value.date().isoformat()}</span>'


def _line(label: str, body: str) -> str:
    return f'<div class="line"><span class="what">{escape_html(label)}</span><span class="text">{body}</span></div>'


def _omitted(part: Omitted) -> str:
    return f'<span class="omitted">{escape_html(part.reason)}</span>'
