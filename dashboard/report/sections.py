"""The meeting pack's sections as HTML, each from the transforms and view helpers the dashboard shows.

Every section function takes a `PackContext` and returns HTML in which every data value is escaped.
Numbers are never computed here: they come from `dashboard.transforms` (directly or through the same
view objects the app builds, without rendering them), so the pack and the dashboard cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt

from ..config import DAYS_PER_MONTH, RESPONSE_SUBGROUPS, SEVERE_GRADE, SUBGROUP_MIN_LEVEL_SIZE
from ..store import TrialStore
from ..transforms import enrollment as en
from ..transforms import response as rs
from ..transforms import safety as sf
from ..transforms import survival as sv
from ..transforms.forecast import forecast_completion
from ..transforms.overview import ALL_ARMS
from ..transforms.formatting import format_p, format_proportion, short_arm_label
from ..views.balance import BalanceView
from ..views.data_quality import findings_frame, left_out_frame, provenance_frame, status_text
from ..views.enrollment import PERFORMANCE_TITLES, consort_html
from ..views.escape import escape_html
from ..views.response import response_status
from ..views.safety import SafetyView
from ..views.summary import ExecutiveSummaryView
from ..views.survival import endpoint_names, uses_competing_risks
from . import figures

_e = escape_html
# Views write some of their text as Markdown (data values escaped with `escape_markdown`): rendered
# here without raw HTML.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
# Listings longer than this show their first rows only, and say so.
LISTING_MAX_ROWS = 1000
# What the Overview's summary says when one arm is left (`ExecutiveSummaryView.primary_html`), and what
# the open report says instead.
ONE_ARM_NOTE = " Only one arm matches the filters: no comparison."
OPEN_NO_COMPARISON = "Not compared between arms in the open report."
NO_LISTINGS = ("Left out of this pack: it was built for a role that sees no patient-level data, so it holds no "
               "listing of patients or records.")


@dataclass(frozen=True)
class PackContext:
    """What every section reads: the session-like store (filters applied), whether the pack is closed and
    whether it may hold patient-level listings."""

    store: TrialStore
    closed: bool
    listings: bool = True

    @property
    def dataset(self):
        return self.store.dataset

    @cached_property
    def subjects(self) -> pd.DataFrame:
        return self.store.subjects()

    @cached_property
    def arms(self) -> list[str]:
        """Arms of the filtered patients in protocol order."""
        return [a for a in self.dataset.arms if a in set(self.subjects["ARM"])]

    def label(self, arm: str) -> str:
        return short_arm_label(arm, self.dataset.info.arm_short_labels)

    @property
    def labels(self) -> dict[str, str]:
        return {a: self.label(a) for a in self.dataset.arms}

    @cached_property
    def safety(self) -> SafetyView:
        """The Adverse events tab's view object for these filters (its numbers, never rendered)."""
        return SafetyView(store=self.store)


def markdown_html(text: str) -> str:
    """A view's Markdown text (data already Markdown-escaped) as HTML, raw HTML not allowed."""
    return _MARKDOWN.render(text)


def table_html(frame: pd.DataFrame, caption: str = "", *, text_columns: int = 1, css_class: str = "") -> str:
    """A DataFrame as an HTML table whose header repeats on every page; every cell escaped; the first
    `text_columns` columns left-aligned, the others right-aligned."""
    def cls(i: int) -> str:
        return ' class="text"' if i < text_columns else ""

    head = "".join(f"<th{cls(i)}>{_e(c)}</th>" for i, c in enumerate(frame.columns))
    rows = []
    for values in frame.itertuples(index=False):
        cells = "".join(f"<td{cls(i)}>{_e(_cell_text(v))}</td>" for i, v in enumerate(values))
        rows.append(f"<tr>{cells}</tr>")
    title = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (f'<table class="grid {css_class}">{title}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def listing_html(frame: pd.DataFrame, caption: str, where: str) -> str:
    """A listing (every column text) of at most LISTING_MAX_ROWS rows; the caption says when it is cut
    and `where` the whole listing is."""
    shown = frame.head(LISTING_MAX_ROWS)
    if len(frame) > len(shown):
        caption += f"; the first {len(shown):,} of {len(frame):,} rows, all of them in {where}"
    return ('<div class="landscape">' + table_html(shown, caption, text_columns=len(frame.columns),
                                                  css_class="long listing") + "</div>")


def _cell_text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


SECTION_TITLES = {"summary": "Executive summary", "enrollment": "Enrollment",
                  "balance": "Baseline characteristics (Table 1)", "response": "Response and time to event",
                  "safety": "Safety", "quality": "Data quality"}


def section(name: str, body: str) -> str:
    """One pack section: its level-1 heading (listed in the contents) and its body."""
    return f'<section class="chapter" id="{_e(name)}"><h1>{_e(SECTION_TITLES[name])}</h1>{body}</section>'


def _omitted(reason: str) -> str:
    return f'<p class="omitted">{_e(reason)}</p>'


# ---- executive summary ----------------------------------------------------------------------------

def summary(ctx: PackContext) -> str:
    """The Overview's plain-language summary (the same sentences), one page."""
    view = ExecutiveSummaryView(store=ctx.store)
    s = view.summarize(ctx.subjects)
    severity_only = ctx.dataset.adae is not None and sf.grade_basis(ctx.dataset.adae) == "severity"
    infections = "Severe infections" if severity_only else f"Grade ≥ {SEVERE_GRADE} infections"
    lines = [("Enrollment", view.enrollment_html), ("Primary endpoint", lambda s: _primary_html(ctx, view, s)),
             ("Deaths", view.deaths_html), ("Serious adverse events", view.serious_html),
             (infections, view.infections_html),
             ("New safety signals", view.signals_html if ctx.closed else lambda s: OPEN_NO_COMPARISON)]
    rows = "".join(f'<tr><th class="text">{_e(label)}</th><td class="text">{render(s)}</td></tr>'
                   for label, render in lines)
    pooled = ("" if ctx.closed else '<p class="open-note">Open report: every figure is pooled over the arms; '
              "no efficacy or safety result is shown by arm.</p>")
    return section("summary",
                   f'<div class="summary-head">{view.head_html(s)}</div>{pooled}'
                   f'<table class="summary">{rows}</table>')


def _primary_html(ctx: PackContext, view: ExecutiveSummaryView, s) -> str:
    """The summary's primary endpoint sentence; in the open report without the view's note that the
    filters leave one arm (the arms are pooled there on purpose)."""
    text = view.primary_html(s)
    return text if ctx.closed else text.replace(ONE_ARM_NOTE, " " + OPEN_NO_COMPARISON)


# ---- enrollment -------------------------------------------------------------------------------------

def enrollment(ctx: PackContext) -> str:
    """Accrual against the target and plan (with the forecast), site performance and the CONSORT flow."""
    store, dataset, subjects = ctx.store, ctx.dataset, ctx.subjects
    info = dataset.info
    parts = [f"<p><b>{_e(store.summary())}</b> randomized ({_e(store.population)} population) at "
             f"{subjects['SITEID'].nunique()} sites · data cut <b>{store.cutoff.isoformat()}</b>.</p>"]
    activation = en.site_activation(dataset.adsl, dataset.sites)
    target = info.target_enrollment
    whole_trial = store.filter_spec == TrialStore(dataset).filter_spec
    plan = None
    if subjects["RANDDT"].notna().any():
        if target and whole_trial and info.planned_enrollment_start and info.planned_enrollment_end:
            plan = en.planned_accrual(target, info.planned_enrollment_start, info.planned_enrollment_end,
                                      until=dataset.cutoff)
            on = min(pd.Timestamp(store.cutoff), pd.Timestamp(info.planned_enrollment_end))
            actual = int((subjects["RANDDT"] <= on).sum())
            parts.append("<p><b>Plan:</b> " + _e(en.accrual_gap_statement(
                actual, target, info.planned_enrollment_start, info.planned_enrollment_end, on)) + "</p>")
        if target and whole_trial:
            forecast = forecast_completion(subjects, activation, dataset.cutoff, target)
            parts.append(f"<p><b>Forecast:</b> {_e(forecast.message)}</p>")
        elif target:
            parts.append(f"<p>The target of {target} counts all randomized patients: plan and forecast are left out "
                         "while filters restrict the patients.</p>")
        accrual = en.accrual_over_time(subjects, dataset.cutoff, ctx.arms)
        parts.append('<figure class="figure">' + figures.accrual_figure(
            accrual, ctx.arms, dataset.arm_colors, ctx.labels, total_label=ALL_ARMS, plan=plan,
            target=target if whole_trial else None) + "<figcaption>Cumulative randomized patients by arm"
            + (", with the planned accrual and the target" if plan is not None else "") + "</figcaption></figure>")
    until, why = en.recruitment_end(dataset.randomized["RANDDT"], target, dataset.cutoff)
    screened = store.screened() if en.has_screening_data(dataset.adsl) else None
    sites_shown = activation.loc[activation["SITEID"].isin(store.sites)] if store.sites else activation
    performance = en.site_performance(subjects, screened, sites_shown, dataset.cutoff, arms=ctx.arms,
                                      sites=dataset.sites, until=until)
    display = performance.assign(**{c: performance[c].dt.strftime("%Y-%m-%d") for c in ("ACTIVDT", "FIRST_RANDDT")})
    display = display.rename(columns={**PERFORMANCE_TITLES, **ctx.labels}).dropna(axis=1, how="all")
    parts.append('<div class="landscape">' + table_html(
        display, f"Site performance up to the data cut {store.cutoff.isoformat()} (months active: from activation "
                 f"to {why}; patients per site-month = randomized / months active)", text_columns=3,
        css_class="long") + "</div>")
    funnel = en.screening_funnel(store.screened(), arms=dataset.arms)
    parts.append('<div class="consort-box">' + consort_html(
        funnel, dataset.arms, dataset.arm_colors, list(en.funnel_missing(dataset.adsl)),
        f"Patient flow (CONSORT) up to the data cut {store.cutoff.isoformat()}",
        screening=en.has_screening_data(dataset.adsl)) + "</div>")
    return section("enrollment", "".join(parts))


# ---- arm balance --------------------------------------------------------------------------------------

def balance(ctx: PackContext) -> str:
    """Table 1 as the Arm balance tab shows it (pooled: one column of all patients)."""
    view = BalanceView(store=ctx.store)
    notes = view.notes(view.arms_shown(ctx.store.arms), view.threshold, view.show_pvalues)
    body = (table_html(view.current_table1(), view.caption(), text_columns=2, css_class="long")
            + "".join(f'<p class="note">{_e(n)}</p>' for n in notes))
    return section("balance", f'<div class="table1-box">{body}</div>')


# ---- response -------------------------------------------------------------------------------------------

def response(ctx: PackContext) -> str:
    """Primary endpoint sentence, response by visit, time-to-event curves with numbers at risk, forest."""
    dataset, store, subjects = ctx.dataset, ctx.store, ctx.subjects
    parts = []
    summary_view = ExecutiveSummaryView(store=store)
    parts.append(f'<p class="primary"><b>Primary endpoint.</b> '
                 f"{_primary_html(ctx, summary_view, summary_view.summarize(subjects))}</p>")
    if dataset.has("adrs"):
        status = response_status(store)
        overall = rs.overall_response_by_visit(status, ctx.arms)
        parts.append('<figure class="figure">' + figures.response_figure(overall, ctx.arms, dataset.arm_colors,
                                                                          ctx.labels)
                     + f"<figcaption>Overall response (CR+PR) by visit, {_e(store.population)} population; "
                       "95% Wilson intervals. Pending patients (visit after the data cut) are not counted."
                       "</figcaption></figure>")
        table = overall.assign(ARM=overall["ARM"].astype(str).map(ctx.label))[["AVISIT", "ARM", "label", "pending"]]
        table = table.assign(CI=[f"{lo:.1f} to {hi:.1f}" if not np.isnan(lo) else "" for lo, hi in
                                 zip(overall["ci_low"], overall["ci_high"])])
        parts.append(table_html(table.rename(columns={"AVISIT": "Visit", "ARM": "Arm", "label": "Responders / due (%)",
                                                      "pending": "Pending", "CI": "95% Wilson CI (%)"}),
                                "Overall response (CR+PR) by visit", text_columns=2))
        if ctx.closed and len(ctx.arms) >= 2:
            parts.append(_forest(ctx, status))
    if dataset.has("adtte"):
        parts.append(_time_to_event(ctx))
    return section("response", "".join(parts))


def _forest(ctx: PackContext, status: pd.DataFrame) -> str:
    dataset, subjects = ctx.dataset, ctx.subjects
    visits = rs.response_visits(dataset.adrs)
    visit = rs.primary_visit(visits, dataset.info.primary_visit_day)
    control = rs.control_arm(ctx.arms)
    treatment = next(a for a in ctx.arms if a != control)
    sub = rs.subgroup_response_differences(status, subjects, visit, treatment, control, RESPONSE_SUBGROUPS,
                                           min_level_size=SUBGROUP_MIN_LEVEL_SIZE)
    if sub.empty:
        return _omitted("No baseline subgroup with at least two levels in the filtered patients.")
    overall = rs.compare_response(status, visit, treatment, control)
    everyone = pd.DataFrame([{"SUBGROUP": "All patients", "LEVEL": "", "n_t": overall["n_t"], "N_t": overall["N_t"],
                              "n_c": overall["n_c"], "N_c": overall["N_c"], "diff": overall["diff"],
                              "diff_low": overall["diff_ci"][0], "diff_high": overall["diff_ci"][1],
                              "ESTIMABLE": True, "p_interaction": np.nan}])
    rows = pd.concat([everyone, sub], ignore_index=True)
    estimable = rows["ESTIMABLE"].astype(bool) & rows["diff_low"].notna()
    t, c = ctx.label(treatment), ctx.label(control)
    table = pd.DataFrame({
        "Subgroup": rows["SUBGROUP"], "Level": rows["LEVEL"],
        t: [format_proportion(n, N) for n, N in zip(rows["n_t"], rows["N_t"])],
        c: [format_proportion(n, N) for n, N in zip(rows["n_c"], rows["N_c"])],
        "Difference, pp (95% CI)": [f"{100 * d:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f})" if ok else "not estimable"
                                    for d, lo, hi, ok in zip(rows["diff"], rows["diff_low"], rows["diff_high"], estimable)],
        "p interaction": rows["p_interaction"].map(lambda p: "" if pd.isna(p) else f"{p:.3f}"),
    })
    return ('<h2>Subgroups</h2><figure class="figure">'
            + figures.forest_figure(rows.loc[estimable].reset_index(drop=True), treatment=t, control=c)
            + f"<figcaption>Overall response at {_e(visit)}: difference {_e(t)} − {_e(c)} by baseline subgroup "
              "(levels not estimable are not drawn).</figcaption></figure>"
            + table_html(table, f"Subgroup differences at {visit}. Interaction p: likelihood-ratio test of arm × "
                                "subgroup (logistic regression); exploratory. Levels with no patient in an arm or fewer "
                                f"than {SUBGROUP_MIN_LEVEL_SIZE} patients are not estimable.", text_columns=2))


def _time_to_event(ctx: PackContext) -> str:
    dataset, subjects = ctx.dataset, ctx.subjects
    params = sv.tte_parameters(dataset.adtte)
    names = endpoint_names(params)
    parts = ["<h2>Time to event</h2>"]
    for p in params.itertuples():
        tte = sv.tte_data(subjects, dataset.adtte, p.PARAMCD)
        if tte.empty:
            continue
        arms = [a for a in ctx.arms if a in set(tte["ARM"])]
        competing = uses_competing_risks(params, p.PARAMCD)
        curves = sv.cumulative_incidence(tte, arms) if competing else sv.km_by_arm(tte, arms)
        max_months = float(tte["TIME"].max()) / DAYS_PER_MONTH
        step = next((s for s in (1, 3, 6, 12, 24) if max_months / s <= 10), 36)
        ticks = list(range(0, int(max_months) + 1, step))
        risk = sv.number_at_risk(tte, [t * DAYS_PER_MONTH for t in ticks], arms)
        method = ("Aalen-Johansen cumulative incidence (competing events accounted for)" if competing
                  else "Kaplan-Meier, 95% log-log pointwise CI")
        figure = figures.survival_figure(curves, risk, arms, dataset.arm_colors, ctx.labels,
                                         ylabel="Cumulative incidence" if competing else "Probability event-free",
                                         ticks_months=ticks)
        parts.append(f'<figure class="figure tte"><div class="figure-title">{_e(names[p.PARAMCD])}: {_e(method)}</div>'
                     f"{figure}<figcaption>{_e(_tte_sentence(ctx, tte, arms, competing))}</figcaption></figure>")
    return "".join(parts)


def _tte_sentence(ctx: PackContext, tte: pd.DataFrame, arms, competing: bool) -> str:
    """Events per arm, medians (Kaplan-Meier), log-rank p and Cox HR: the Time to event tab's statistics."""
    parts = [f"{len(tte)} patients; events: " + ", ".join(
        f"{ctx.label(a)} {int(((tte['ARM'] == a) & (tte['EVENT'] == sv.EVENT)).sum())}/{int((tte['ARM'] == a).sum())}"
        for a in arms) + "."]
    if not competing:
        med = sv.median_by_arm(tte, arms)
        parts.append("Median months (95% CI): " + "; ".join(
            f"{ctx.label(r.ARM)} {_months(r.median)} ({_months(r.lower)} to {_months(r.upper)})"
            for r in med.itertuples()) + ".")
    p = sv.logrank_p(tte, arms)
    if not math.isnan(p):
        parts.append(("Cause-specific log-rank test " if competing else "Log-rank test ") + f"{format_p(p)}.")
    if len(arms) >= 2:
        control = rs.control_arm(arms)
        for arm in (a for a in arms if a != control):
            cox = sv.cox_hazard_ratio(tte, arm, control)
            if np.isfinite([cox["hr"], cox["lower"], cox["upper"]]).all():
                kind = "Cause-specific Cox HR" if competing else "Cox HR"
                parts.append(f"{kind} {ctx.label(arm)} vs {ctx.label(control)} {cox['hr']:.2f} (95% Wald CI "
                             f"{cox['lower']:.2f} to {cox['upper']:.2f}), Wald {format_p(cox['p'])}; Efron ties.")
    return " ".join(parts)


def _months(days: float) -> str:
    return "not reached" if not np.isfinite(days) else f"{days / DAYS_PER_MONTH:.1f}"


# ---- safety -----------------------------------------------------------------------------------------------

def safety(ctx: PackContext) -> str:
    """AE incidence by body system and term with worst grade, SAE and death listings, focus panels and
    exposure-adjusted rates: the Adverse events tab's numbers."""
    dataset, subjects = ctx.dataset, ctx.subjects
    if not dataset.has("adae"):
        return section("safety", _omitted("The data have no adverse events (ADAE)."))
    view = ctx.safety
    parts = [f'<div class="lead">{view.header_html(subjects)}</div>']
    parts.append(_incidence(ctx, view))
    events = view.all_events()
    parts.append("<h2>Focus panels and exposure-adjusted rates</h2>")
    focus = view.focus_frame(subjects)
    for panel, rows in focus.groupby("Panel", sort=False):
        parts.append(table_html(rows.drop(columns="Panel").rename(columns={"Row": ""}), panel))
    parts.append(f'<p class="note">{_e(view.focus_counted())}</p>')
    parts.append(table_html(view.exposure_frame(subjects).drop(columns="EVENTS_OUTSIDE"),
                            "Exposure-adjusted rates per 100 patient-months next to crude incidence", text_columns=2))
    parts.append(view.exposure_note(subjects))
    if not ctx.listings:
        parts.append("<h2>Serious adverse events and deaths</h2>" + _omitted(NO_LISTINGS))
        return section("safety", "".join(parts))
    if "AESER" in events.columns:
        serious = events.loc[sf.is_yes(events["AESER"]).fillna(False).to_numpy(dtype=bool)]
        listing = sf.ae_listing(serious).drop(columns=[sf.LISTING_COLUMNS["AESER"]], errors="ignore")  # all "Y"
        arm = sf.LISTING_COLUMNS["ARM"]
        listing = listing.assign(**{arm: listing[arm].astype(str).map(ctx.label)})
        parts.append("<h2>Serious adverse events</h2>" + listing_html(
            listing, f"Listing of serious adverse events ({len(listing)} events; {view.event_definition(view.te_flag)})",
            "the dashboard's Adverse events tab"))
    parts.append(_deaths(ctx))
    return section("safety", "".join(parts))


def _incidence(ctx: PackContext, view: SafetyView) -> str:
    """The incidence table grouped by body system (overall and SOC rows bold): a column per arm and grade
    band, then the risk difference and Fisher p of the compared arms (closed report)."""
    frame = view.table_frame()
    denominators = sf.safety_denominators(ctx.subjects, view.arms)
    cells = [(arm, band, sf.column_label(arm, band)) for arm in view.arms_shown(ctx.subjects)
             for band in (sf.ANY_BAND, *[b[0] for b in view.bands]) if sf.column_label(arm, band) in frame.columns]
    head = "".join(f"<th>{_e(ctx.label(arm))} (N = {int(denominators.get(arm, 0))})<br>{_e(band)}</th>"
                   for arm, band, _ in cells)
    risk = [c for c in ("Risk difference (pp)", "Fisher p") if c in frame.columns]
    if risk:
        head += (f"<th>Risk difference {_e(ctx.label(view.arm_a))} − {_e(ctx.label(view.arm_b))} (pp)</th>"
                 "<th>Fisher exact p (unadjusted)</th>")
    rows = []
    for values in frame.to_dict("records"):
        level = values["LEVEL"]
        name = values["AEDECOD"] if level == "pt" else values["AEBODSYS"]
        text = [_cell_text(values[column]) for _, _, column in cells]
        if risk:
            rd, p = values["Risk difference (pp)"], values["Fisher p"]
            text += ["" if pd.isna(rd) else f"{rd:+.1f}", "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")]
        row = "".join(f"<td>{_e(t)}</td>" for t in text)
        rows.append(f'<tr class="{_e(level)}"><td class="text">{_e(name)}</td>{row}</tr>')
    return (f'<table class="grid long incidence"><caption>Adverse events by body system and preferred term: patients '
            f"with ≥ 1 event, n (%), and the worst grade per patient ({_e(view.event_definition(view.treatment_emergent_only))})"
            f'</caption><thead><tr><th class="text">Body system / preferred term</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _deaths(ctx: PackContext) -> str:
    subjects = ctx.subjects
    if "DTHFL" not in subjects.columns and "DTHDT" not in subjects.columns:
        return "<h2>Deaths</h2>" + _omitted("The data record no deaths (neither DTHFL nor DTHDT).")
    died = subjects.loc[sf.is_yes(subjects["DTHFL"]).fillna(False).to_numpy(dtype=bool)
                        if "DTHFL" in subjects.columns else subjects["DTHDT"].notna()]
    columns = {"USUBJID": "Patient", "ARM": "Arm", "SITEID": "Site", "RANDDT": "Randomized", "DTHDT": "Date of death",
               "DTHCAUS": "Cause of death"}
    listing = died[[c for c in columns if c in died.columns]].sort_values([c for c in ("DTHDT", "USUBJID")
                                                                           if c in died.columns])
    listing = listing.assign(ARM=listing["ARM"].astype(str).map(ctx.label)).rename(columns=columns)
    return "<h2>Deaths</h2>" + listing_html(
        listing, f"Listing of deaths up to the data cut ({len(listing)} patients, {ctx.store.population} population)",
        "the subject-level data (ADSL)")


# ---- data quality ----------------------------------------------------------------------------------------

def quality(ctx: PackContext) -> str:
    """The Data quality tab: validation status, findings, records left out and files read."""
    dataset = ctx.dataset
    text, _ = status_text(dataset)
    parts = [markdown_html(text)]
    findings = findings_frame(dataset.report)
    parts.append(table_html(findings, "Validation findings", text_columns=len(findings.columns), css_class="long")
                 if len(findings) else "<p>No validation findings.</p>")
    left_out = left_out_frame(dataset)
    if len(left_out) and not ctx.listings:
        parts.append(f"<p>{len(left_out)} records were left out or had values set to missing. {_e(NO_LISTINGS)}</p>")
    elif len(left_out):
        parts.append(listing_html(left_out, f"Records left out or values set to missing ({len(left_out)})",
                                  "the dashboard's Data quality tab"))
    files = provenance_frame(dataset)
    if len(files):
        parts.append(table_html(files, "Files read", text_columns=len(files.columns), css_class="files"))
    return section("quality", "".join(parts))


SECTIONS = {"summary": summary, "enrollment": enrollment, "balance": balance, "response": response,
            "safety": safety, "quality": quality}
