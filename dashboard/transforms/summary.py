"""Executive summary: how the trial is going for the current filters, as numbers a sentence can state.

Every function reuses the tab transforms (enrollment, overview, response, safety) rather than
recomputing, and returns a new frame or a frozen dataclass; inputs are never modified.
`executive_summary` gathers the parts, turning one the data cannot answer into `Omitted(reason)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..config import ACCRUAL_ROLLING_MONTHS, AE_SIGNAL_P, DAYS_PER_MONTH, INFECTION_SOC, SEVERE_GRADE, TrialInfo
from .enrollment import accrual_rate, monthly_accrual, planned_by
from .overview import serious_ae_by_arm, study_status_by_arm
from .response import compare_response, control_arm, overall_response_by_visit, response_status_by_visit, response_visits
from .safety import ae_incidence_by_arm, grade_basis, risk_difference_by_term, select_events, subjects_with_event

# The methods of `response.compare_response`, named on screen next to its numbers.
PRIMARY_TEST = "Pearson chi-square test"
DIFFERENCE_CI = "Newcombe"  # hybrid score interval
# Enrollment pace at the data cut.
PACE_REACHED = "target reached"
PACE_ON_TRACK = "on track"
PACE_BEHIND = "behind plan"
PACE_NO_PLAN = "no planned end"
PACE_NO_TARGET = "no target"


@dataclass(frozen=True)
class Omitted:
    """A summary part the data cannot answer, and why (one short sentence)."""

    reason: str


@dataclass(frozen=True)
class EnrollmentPace:
    """Randomized patients against the target and the planned end of enrollment at the data cut.

    Rates are patients per month (365.25/12 days). `recent_rate` covers the last `window_months`
    complete calendar months before the cut; `average_rate` runs from the first randomization to the
    last. `projected_completion` is when the target is
    reached at the recent rate (open enrollment only); `planned_by_cut` is what a straight line from
    the planned start to the planned end expects by the cut.
    """

    randomized: int
    target: int | None
    first_randomized: pd.Timestamp | None
    last_randomized: pd.Timestamp | None
    target_reached_on: pd.Timestamp | None
    planned_end: pd.Timestamp | None
    planned_by_cut: float | None
    recent_rate: float | None
    window_months: int
    average_rate: float | None
    projected_completion: pd.Timestamp | None
    status: str

    @property
    def pct_of_target(self) -> float | None:
        """Randomized as a percentage of the target (None without a target)."""
        return 100 * self.randomized / self.target if self.target else None


def enrollment_pace(randomized: pd.DataFrame, cutoff, target: int | None = None, planned_start=None,
                    planned_end=None, window: int = ACCRUAL_ROLLING_MONTHS) -> EnrollmentPace:
    """How enrollment stands at the cut: count vs target, recent and average monthly rate, and the
    status (PACE_*): target reached; else on track / behind plan by whether the recent rate reaches
    the target by the planned end; else no planned end / no target. Requires ARM, RANDDT
    (`monthly_accrual`); rows without RANDDT are not counted."""
    cutoff = pd.Timestamp(cutoff)
    dates = randomized["RANDDT"].dropna().sort_values()
    n = len(dates)
    target = int(target) if target else None
    end = pd.Timestamp(planned_end) if planned_end else None
    reached_on = dates.iloc[target - 1] if target and n >= target else None
    recent, months = None, 0
    if n:
        rate = accrual_rate(monthly_accrual(randomized, cutoff), cutoff, window)
        complete = rate.loc[~rate["PARTIAL"]]
        if len(complete):
            recent, months = float(complete["ROLLING_RATE"].iloc[-1]), min(window, len(complete))
    span = (dates.iloc[-1] - dates.iloc[0]).days / DAYS_PER_MONTH if n else 0.0
    average = n / span if span > 0 else None
    projected = None
    if target and reached_on is None and recent:
        projected = cutoff + pd.Timedelta(days=(target - n) / recent * DAYS_PER_MONTH)
    if not target:
        status = PACE_NO_TARGET
    elif reached_on is not None:
        status = PACE_REACHED
    elif end is None:
        status = PACE_NO_PLAN
    else:
        status = PACE_ON_TRACK if projected is not None and projected <= end else PACE_BEHIND
    planned = planned_by(cutoff, target, planned_start, end) if target and planned_start and end is not None else None
    return EnrollmentPace(
        randomized=n, target=target, first_randomized=dates.iloc[0] if n else None,
        last_randomized=dates.iloc[-1] if n else None, target_reached_on=reached_on, planned_end=end,
        planned_by_cut=planned, recent_rate=recent, window_months=months, average_rate=average,
        projected_completion=projected, status=status,
    )


@dataclass(frozen=True)
class PrimaryEndpoint:
    """Overall response (CR+PR) at the primary visit per arm, and each other arm against the control.

    `by_arm`: ARM, responders, evaluated (visit due), pending, pct, ci_low, ci_high (percent, 95%
    Wilson). `comparisons`: TREATMENT, CONTROL, DIFF, DIFF_LOW, DIFF_HIGH (percentage points, 95%
    Newcombe), P (`test`); one row per non-control arm, none with a single arm.
    """

    visit: str
    by_arm: pd.DataFrame
    comparisons: pd.DataFrame
    test: str = PRIMARY_TEST
    ci_method: str = DIFFERENCE_CI


def primary_endpoint_result(subjects: pd.DataFrame, adrs: pd.DataFrame, cutoff, visit_day: int,
                            arms=()) -> PrimaryEndpoint:
    """Overall response at the visit on `visit_day` for the given subjects (the analysis population),
    from `response_status_by_visit`, `overall_response_by_visit` and `compare_response`; the control
    is `control_arm` of the arms present. Requires the columns of `response_status_by_visit`.
    Raises ValueError when ADRS has no visit on `visit_day`."""
    visits = response_visits(adrs)
    at_day = visits.loc[visits["DAY"] == visit_day, "AVISIT"]
    if at_day.empty:
        raise ValueError(f"ADRS has no response visit on day {visit_day}; its visits are {', '.join(visits['AVISIT'])}")
    visit = str(at_day.iloc[0])
    present = [a for a in dict.fromkeys([*arms, *subjects["ARM"].dropna()]) if a in set(subjects["ARM"])]
    columns = ["ARM", "responders", "evaluated", "pending", "pct", "ci_low", "ci_high"]
    comparison_columns = ["TREATMENT", "CONTROL", "DIFF", "DIFF_LOW", "DIFF_HIGH", "P"]
    if not present:
        return PrimaryEndpoint(visit, pd.DataFrame(columns=columns), pd.DataFrame(columns=comparison_columns))
    at_visit = adrs.loc[adrs["AVISIT"].astype("string") == visit]  # only the visit's rows: faster
    status = response_status_by_visit(subjects, at_visit, cutoff)
    overall = overall_response_by_visit(status, present)
    by_arm = overall.loc[overall["AVISIT"] == visit, columns].assign(ARM=lambda f: f["ARM"].astype(str))
    control = control_arm(present)
    rows = []
    for arm in (a for a in present if a != control):
        cmp = compare_response(status, visit, arm, control)
        rows.append({"TREATMENT": arm, "CONTROL": control, "DIFF": 100 * cmp["diff"],
                     "DIFF_LOW": 100 * cmp["diff_ci"][0], "DIFF_HIGH": 100 * cmp["diff_ci"][1], "P": cmp["p_value"]})
    return PrimaryEndpoint(visit, by_arm.reset_index(drop=True), pd.DataFrame(rows, columns=comparison_columns))


def deaths_by_arm(subjects: pd.DataFrame, arms=()) -> pd.DataFrame:
    """Patients who died (DTHFL 'Y' or DTHDT set) per arm, then "All arms": ARM, n, N (patients of the
    arm), pct; the "Died" rows of `study_status_by_arm`. Requires USUBJID, ARM."""
    status = study_status_by_arm(subjects, arms)
    return status.loc[status["STATUS"] == "Died", ["ARM", "n", "N", "pct"]].reset_index(drop=True)


def has_infection_soc(adae: pd.DataFrame, soc: str = INFECTION_SOC) -> bool:
    """Whether any event's body system (AEBODSYS) is the infection body system (case-insensitive)."""
    return "AEBODSYS" in adae.columns and bool(adae["AEBODSYS"].astype("string").str.casefold().eq(soc.casefold()).any())


def severe_infections_by_arm(events: pd.DataFrame, subjects: pd.DataFrame, arms=None, *, soc: str = INFECTION_SOC,
                             min_grade: int = SEVERE_GRADE) -> pd.DataFrame:
    """Patients with >= 1 event in the infection body system at analysis grade >= `min_grade`, per arm
    of the safety population: the `subjects_with_event` columns (ARM, SUBJECTS, EVENTS, N, PCT, TEXT).
    `events` from `select_events` (AEBODSYS, GRADE)."""
    infection = events["AEBODSYS"].astype("string").str.casefold().eq(soc.casefold()).fillna(False)
    severe = (events["GRADE"] >= min_grade).fillna(False)
    return subjects_with_event(events.loc[(infection & severe).to_numpy(dtype=bool)], subjects, arms=arms)


@dataclass(frozen=True)
class SignalScreen:
    """Preferred terms whose any-grade incidence differs between an arm and the control at an
    unadjusted two-sided Fisher exact p below `threshold`: a screen, not evidence of harm.

    `flagged`: ARM, CONTROL, AEBODSYS, AEDECOD, N_A, D_A (arm patients with the term / safety
    patients), N_B, D_B (control), RD, RD_LOW, RD_HIGH (percentage points, 95% Newcombe), P; sorted
    by P. `terms_screened`: distinct terms with >= 1 patient in a compared pair.
    """

    flagged: pd.DataFrame
    terms_screened: int
    control: str
    threshold: float


def ae_signal_screen(events: pd.DataFrame, subjects: pd.DataFrame, arms, *, threshold: float = AE_SIGNAL_P) -> SignalScreen:
    """Screen every preferred term, each arm against `control_arm(arms)`, with `ae_incidence_by_arm`
    and `risk_difference_by_term`. `events` from `select_events`; `arms` the arms to compare (those
    present). Raises ValueError with fewer than two arms."""
    arms = list(arms)
    if len(arms) < 2:
        raise ValueError("comparing adverse events needs at least two arms")
    control = control_arm(arms)
    incidence = ae_incidence_by_arm(events, subjects, arms=arms)
    columns = ["ARM", "CONTROL", "AEBODSYS", "AEDECOD", "N_A", "D_A", "N_B", "D_B", "RD", "RD_LOW", "RD_HIGH", "P"]
    frames = []
    for arm in (a for a in arms if a != control):
        risk = risk_difference_by_term(incidence, arm, control)
        frames.append(risk.loc[risk["N_A"] + risk["N_B"] > 0].assign(ARM=arm, CONTROL=control))
    screened = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    flagged = screened.loc[screened["P"] < threshold, columns].sort_values(["P", "AEDECOD"], kind="stable")
    terms = screened[["AEBODSYS", "AEDECOD"]].drop_duplicates()
    return SignalScreen(flagged.reset_index(drop=True), len(terms), control, threshold)


@dataclass(frozen=True)
class ExecutiveSummary:
    """Everything the Overview's plain-language summary states for one filter state.

    `arms`: arms of the filtered patients (protocol order). Adverse-event parts count
    treatment-emergent events only when ADAE has TRTEMFL (`treatment_emergent`); `grade_basis` says
    whether grades are CTCAE grades or severities. A part the data cannot answer is `Omitted`.
    """

    cutoff: pd.Timestamp
    patients: int
    arms: tuple[str, ...]
    enrollment: EnrollmentPace | Omitted
    primary: PrimaryEndpoint | Omitted
    primary_population: str
    deaths: pd.DataFrame | Omitted
    serious: pd.DataFrame | Omitted
    infections: pd.DataFrame | Omitted
    signals: SignalScreen | Omitted
    treatment_emergent: bool
    grade_basis: str


def trial_enrollment(randomized: pd.DataFrame, cutoff, info: TrialInfo) -> EnrollmentPace | Omitted:
    """`enrollment_pace` of the whole trial (`randomized`: every randomized subject) against the
    trial's target and plan; Omitted without randomization dates."""
    if "RANDDT" not in randomized.columns or randomized["RANDDT"].isna().all():
        return Omitted("The data have no randomization dates (RANDDT), so the pace cannot be shown.")
    return enrollment_pace(randomized, cutoff, info.target_enrollment, info.planned_enrollment_start,
                           info.planned_enrollment_end)


def executive_summary(subjects: pd.DataFrame, cutoff, info: TrialInfo, arms, *,
                      enrollment: EnrollmentPace | Omitted, adrs: pd.DataFrame | None = None,
                      adae: pd.DataFrame | None = None, primary_subjects: pd.DataFrame | None = None,
                      primary_population: str = "") -> ExecutiveSummary:
    """The summary's numbers: the trial's `enrollment` (from `trial_enrollment`, the same for every
    filter), the primary endpoint in `primary_subjects` (the filtered primary analysis population,
    named `primary_population`; default the filtered `subjects`), and deaths, serious AEs, severe
    infections and the AE signal screen of the filtered `subjects`. `arms`: protocol order."""
    present = tuple(a for a in arms if a in set(subjects["ARM"]))
    te = adae is not None and "TRTEMFL" in adae.columns
    events = None
    if adae is not None and len(adae):
        try:
            events = select_events(adae, subjects, treatment_emergent_only=te)
        except KeyError as exc:
            events = Omitted(f"Adverse events cannot be counted: {exc}")
    return ExecutiveSummary(
        cutoff=pd.Timestamp(cutoff),
        patients=len(subjects),
        arms=present,
        enrollment=enrollment,
        primary=_primary(subjects if primary_subjects is None else primary_subjects, adrs, cutoff, info, present),
        primary_population=primary_population,
        deaths=_deaths(subjects, present),
        serious=_serious(subjects, adae, present),
        infections=_infections(events, subjects, adae, present),
        signals=_signals(events, subjects, present),
        treatment_emergent=te,
        grade_basis=grade_basis(adae) if adae is not None else "none",
    )


def _primary(subjects, adrs, cutoff, info, arms) -> PrimaryEndpoint | Omitted:
    if adrs is None or adrs.empty:
        return Omitted("The data have no response assessments (ADRS).")
    if info.primary_visit_day is None:
        return Omitted("The trial's primary endpoint (its visit day) is not configured.")
    try:
        return primary_endpoint_result(subjects, adrs, cutoff, info.primary_visit_day, arms)
    except (KeyError, ValueError) as exc:
        return Omitted(f"Primary endpoint unavailable: {exc}")


def _deaths(subjects, arms) -> pd.DataFrame | Omitted:
    if "DTHFL" not in subjects.columns and "DTHDT" not in subjects.columns:
        return Omitted("The data record no deaths (neither DTHFL nor DTHDT).")
    return deaths_by_arm(subjects, arms)


def _serious(subjects, adae, arms) -> pd.DataFrame | Omitted:
    if adae is None or adae.empty:
        return Omitted("The data have no adverse events (ADAE).")
    try:
        return serious_ae_by_arm(subjects, adae, arms)
    except KeyError as exc:
        return Omitted(f"Serious adverse events cannot be counted: {exc}")


def _infections(events, subjects, adae, arms) -> pd.DataFrame | Omitted:
    if events is None:
        return Omitted("The data have no adverse events (ADAE).")
    if isinstance(events, Omitted):
        return events
    if not has_infection_soc(adae):
        return Omitted(f"No adverse event is coded to the body system '{INFECTION_SOC}'.")
    if grade_basis(adae) == "none":
        return Omitted("The adverse events have neither CTCAE grades nor severities.")
    return severe_infections_by_arm(events, subjects, list(arms))


def _signals(events, subjects, arms) -> SignalScreen | Omitted:
    if events is None:
        return Omitted("The data have no adverse events (ADAE).")
    if isinstance(events, Omitted):
        return events
    if len(arms) < 2:
        return Omitted("Only one arm matches the filters: nothing to compare.")
    return ae_signal_screen(events, subjects, arms)
