"""Enrollment transforms: accrual over time and by site, plan gap, monthly rate, CONSORT flow, site map.

Every function takes ADSL-shaped frames (randomized `subjects`, all `screened` subjects) and returns a
new frame; inputs are never modified. Counts are patients; months are calendar months of
365.25/12 days where a duration is needed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..config import ACCRUAL_ROLLING_MONTHS, DAYS_PER_MONTH
from .filtering import FilterSpec
from .columns import require_columns
from .flags import is_yes
from .formatting import plural

ALL_ARMS = "All arms"


def _randomized(subjects: pd.DataFrame) -> pd.DataFrame:
    return subjects.loc[subjects["RANDDT"].notna()]


def natural_site_key(value) -> tuple:
    """Sort key that orders site ids 2 < 10 and keeps text ids after numeric ones."""
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def enrollment_by_site(subjects: pd.DataFrame, site_ids=(), arms=()) -> pd.DataFrame:
    """Randomized patients per site and arm, long: SITEID, ARM, N, SITE_TOTAL.

    Requires SITEID, ARM. Every site of `site_ids` (plus any in `subjects`) gets a row for every arm
    of `arms` (plus any in `subjects`), zeros included; sorted by SITE_TOTAL (largest first), then
    site id.
    """
    require_columns(subjects, ["SITEID", "ARM"], "enrollment_by_site")
    sites = list(dict.fromkeys([*map(str, site_ids), *subjects["SITEID"].astype(str)]))
    arm_list = list(dict.fromkeys([*arms, *subjects["ARM"].dropna()]))
    counts = subjects.groupby([subjects["SITEID"].astype(str), "ARM"], observed=True).size()
    grid = pd.MultiIndex.from_product([sites, arm_list], names=["SITEID", "ARM"])
    out = counts.reindex(grid, fill_value=0).rename("N").reset_index()
    out["N"] = out["N"].astype(int)
    out["SITE_TOTAL"] = out.groupby("SITEID")["N"].transform("sum").astype(int)
    order = sorted(sites, key=lambda s: (-int(out.loc[out["SITEID"] == s, "N"].sum()), natural_site_key(s)))
    out["_site"] = pd.Categorical(out["SITEID"], categories=order, ordered=True)
    out["_arm"] = pd.Categorical(out["ARM"], categories=arm_list, ordered=True)
    return out.sort_values(["_site", "_arm"]).drop(columns=["_site", "_arm"]).reset_index(drop=True)


def site_activation(adsl: pd.DataFrame, sites: pd.DataFrame | None = None) -> pd.DataFrame:
    """Activation date per site: SITEID, ACTIVDT, ACTIVDT_SOURCE.

    Requires SITEID in `adsl` (all screened subjects, unfiltered); uses sites.ACTIVDT when given,
    else the site's first screening date (SCRNDT), else its first randomization date (RANDDT).
    ACTIVDT_SOURCE says which one was used.
    """
    require_columns(adsl, ["SITEID"], "site_activation")
    ids = [str(s) for s in adsl["SITEID"].dropna().unique()]
    if sites is not None:
        require_columns(sites, ["SITEID"], "site_activation (sites table)")
        ids = list(dict.fromkeys([*map(str, sites["SITEID"]), *ids]))
    out = pd.DataFrame({"SITEID": ids})
    out["ACTIVDT"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out["ACTIVDT_SOURCE"] = pd.Series(pd.NA, index=out.index, dtype="string")
    site_key = adsl["SITEID"].astype(str)
    candidates = []
    if sites is not None and "ACTIVDT" in sites.columns:
        candidates.append(("sites table", sites.set_index(sites["SITEID"].astype(str))["ACTIVDT"]))
    for column, label in (("SCRNDT", "first screening"), ("RANDDT", "first randomization")):
        if column in adsl.columns:
            candidates.append((label, adsl[column].groupby(site_key).min()))
    for label, dates in candidates:
        fill = out["ACTIVDT"].isna()
        found = out["SITEID"].map(dates)
        use = fill & found.notna()
        out.loc[use, "ACTIVDT"] = pd.to_datetime(found[use])
        out.loc[use, "ACTIVDT_SOURCE"] = label
    return out


def enrollment_closed(randomization_dates: pd.Series, target: int | None) -> pd.Timestamp | None:
    """The trial's last randomization date once `target` patients are randomized (None before, or
    without a target). Pass the randomization dates of the whole trial, not of a filtered subset."""
    dates = pd.to_datetime(randomization_dates).dropna()
    return dates.max() if target and len(dates) >= target else None


def recruitment_end(randomization_dates: pd.Series, target: int | None, cutoff) -> tuple[pd.Timestamp, str]:
    """When recruitment stopped, for per-site rates, and why: the trial's last randomization once the
    target is reached ('enrollment closed') or when the trial records no target ('last randomization
    in the trial'); else the data cut ('enrollment still open'). Whole-trial dates, as
    `enrollment_closed`."""
    cutoff = pd.Timestamp(cutoff)
    closed = enrollment_closed(randomization_dates, target)
    if closed is not None:
        return min(closed, cutoff), f"enrollment closed on {closed.date()} (target of {target} reached)"
    dates = pd.to_datetime(randomization_dates).dropna()
    if not target and len(dates):
        last = min(dates.max(), cutoff)
        return last, f"the trial's last randomization on {last.date()} (no enrollment target recorded)"
    return cutoff, f"the data cut {cutoff.date()} (enrollment still open)"


def activation_at(activation: pd.DataFrame, site_ids=()) -> pd.DataFrame:
    """The activation rows (see `site_activation`) of the chosen sites; every site when `site_ids` is empty."""
    require_columns(activation, ["SITEID"], "activation_at")
    return activation.loc[activation["SITEID"].isin(site_ids)] if len(site_ids) else activation


def plan_scope(target: int | None, spec: FilterSpec, sites: pd.DataFrame | None) -> tuple[int | None, str]:
    """The enrollment target that applies to the patients the filters `spec` leave, with a note; or None
    and the reason no plan is drawn. The trial's `target` counts all randomized patients: filters other
    than sites hide the plan; a site filter uses the sum of the chosen sites' TARGET (sites table)."""
    if not target:
        return None, "No enrollment target is set for this trial, so actual accrual is shown without a plan."
    others = [name for name, value in (("arm", spec.arms), ("sex", spec.sexes), ("grade", spec.grades),
                                       ("diagnosis", spec.diagnoses), ("age", spec.age_range),
                                       ("randomization date", spec.randomization_dates)) if value]
    if spec.population_flag != "ITTFL":
        others.append("population")
    if others:
        return None, (f"The target of {target} counts all randomized patients; plan and forecast are hidden "
                      f"while {', '.join(others)} filters restrict the patients shown.")
    if not spec.sites:
        return int(target), ""
    if sites is None or "TARGET" not in sites.columns:
        return None, (f"The target of {target} is for the whole trial and per-site targets are not recorded, "
                      "so plan and forecast are hidden while a site filter is on.")
    chosen = sites.loc[sites["SITEID"].astype(str).isin(spec.sites), "TARGET"]
    if chosen.isna().any() or chosen.sum() <= 0:
        return None, "Some selected sites have no recorded target, so plan and forecast are hidden."
    return int(chosen.sum()), f"Target for the selected sites: {int(chosen.sum())} (sum of site targets)."


def plan_period(start, end, activation: pd.DataFrame, site_ids=()) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(start, end) of the plan line: the planned start, or the first activation among the chosen sites when
    later; None without both dates or when the end is not after the start. Requires SITEID, ACTIVDT."""
    if not start or not end:
        return None
    begin = pd.Timestamp(start)
    if len(site_ids):
        require_columns(activation, ["SITEID", "ACTIVDT"], "plan_period")
        chosen = activation_at(activation, site_ids)["ACTIVDT"].dropna()
        if len(chosen):
            begin = max(begin, chosen.min())
    end = pd.Timestamp(end)
    return (begin, end) if end > begin else None


def accrual_vs_plan(randomization_dates: pd.Series, target: int, start, end, cutoff) -> str:
    """`accrual_gap_statement` on the data cut, or on the planned completion once it has passed (the gap
    that matters then), counting the given randomization dates up to that day."""
    on = min(pd.Timestamp(cutoff), pd.Timestamp(end))
    actual = int((pd.to_datetime(randomization_dates) <= on).sum())
    return accrual_gap_statement(actual, target, start, end, on)


def closed_without_forecast(closed, trial_target: int, randomized: int, scope: int) -> str:
    """Why chosen sites get no forecast once the trial has closed enrollment, with their share of their target."""
    return (f"Enrollment closed on {pd.Timestamp(closed).date()}, when the trial reached its target of "
            f"{trial_target}; the selected sites randomized {randomized} of their {scope} "
            f"({100 * randomized / scope:.0f}%), so no forecast is made.")


def reached_vs_plan(reached_on, end) -> str:
    """'That was 12 days after the planned completion 2017-06-30.' (or 'on', 'before')."""
    end = pd.Timestamp(end)
    days = (pd.Timestamp(reached_on) - end).days
    when = "on" if days == 0 else f"{abs(days)} days {'after' if days > 0 else 'before'}"
    return f"That was {when} the planned completion {end.date()}."


def site_performance(subjects: pd.DataFrame, screened: pd.DataFrame | None, activation: pd.DataFrame,
                     cutoff, arms=(), sites: pd.DataFrame | None = None, until=None) -> pd.DataFrame:
    """One row per site with recruitment performance up to the data cut.

    Requires SITEID, ARM, RANDDT in `subjects` (randomized); SITEID, RANDFL in `screened` (all
    screened subjects, or None when screening data is absent); SITEID, ACTIVDT in `activation`
    (see `site_activation`). Columns: SITEID, SITENAME, CITY, one count column per arm, RANDOMIZED,
    SCREENED, SCREEN_FAILURES, SF_RATE (%), ACTIVDT, MONTHS_ACTIVE (activation to `until`, the end
    of recruitment from `recruitment_end`; default and at most the data cut), RATE_PER_MONTH
    (randomized per site-month active), FIRST_RANDDT, DAYS_TO_FIRST (activation to first
    randomization). Sites are those of `activation`; sorted by RANDOMIZED (largest first).
    """
    require_columns(subjects, ["SITEID", "ARM", "RANDDT"], "site_performance (subjects)")
    require_columns(activation, ["SITEID", "ACTIVDT"], "site_performance (activation)")
    cutoff = pd.Timestamp(cutoff)
    end = cutoff if until is None else min(pd.Timestamp(until), cutoff)
    by_site = enrollment_by_site(subjects, activation["SITEID"], arms)
    wide = by_site.pivot(index="SITEID", columns="ARM", values="N")
    arm_cols = list(dict.fromkeys(by_site["ARM"]))
    out = activation[["SITEID", "ACTIVDT"]].copy()
    out["SITEID"] = out["SITEID"].astype(str)
    names = _site_names(subjects if screened is None else screened, sites)
    out["SITENAME"] = out["SITEID"].map(names["SITENAME"])
    out["CITY"] = out["SITEID"].map(names["CITY"])
    for arm in arm_cols:
        out[arm] = out["SITEID"].map(wide[arm]).fillna(0).astype(int)
    out["RANDOMIZED"] = out[arm_cols].sum(axis=1).astype(int) if arm_cols else 0
    if screened is not None:
        require_columns(screened, ["SITEID", "RANDFL"], "site_performance (screened)")
        key = screened["SITEID"].astype(str)
        out["SCREENED"] = out["SITEID"].map(key.value_counts()).fillna(0).astype(int)
        failures = key[~is_yes(screened["RANDFL"])].value_counts()
        out["SCREEN_FAILURES"] = out["SITEID"].map(failures).fillna(0).astype(int)
        out["SF_RATE"] = (100 * out["SCREEN_FAILURES"] / out["SCREENED"].where(out["SCREENED"] > 0)).round(1)
    else:
        out["SCREENED"] = np.nan
        out["SCREEN_FAILURES"] = np.nan
        out["SF_RATE"] = np.nan
    active_days = (end - out["ACTIVDT"]).dt.days.clip(lower=0)
    out["MONTHS_ACTIVE"] = (active_days / DAYS_PER_MONTH).round(1)
    out["RATE_PER_MONTH"] = (out["RANDOMIZED"] / (active_days / DAYS_PER_MONTH).where(active_days > 0)).round(2)
    rand = _randomized(subjects)
    first = rand.groupby(rand["SITEID"].astype(str))["RANDDT"].min()
    out["FIRST_RANDDT"] = out["SITEID"].map(first)
    out["DAYS_TO_FIRST"] = (out["FIRST_RANDDT"] - out["ACTIVDT"]).dt.days.astype("Int64")
    columns = ["SITEID", "SITENAME", "CITY", *arm_cols, "RANDOMIZED", "SCREENED", "SCREEN_FAILURES", "SF_RATE",
               "ACTIVDT", "MONTHS_ACTIVE", "RATE_PER_MONTH", "FIRST_RANDDT", "DAYS_TO_FIRST"]
    out = out[columns]
    out["_key"] = out["SITEID"].map(natural_site_key)
    out = out.sort_values(["RANDOMIZED", "_key"], ascending=[False, True])
    return out.drop(columns="_key").reset_index(drop=True)


def _site_names(adsl: pd.DataFrame, sites: pd.DataFrame | None) -> pd.DataFrame:
    key = adsl["SITEID"].astype(str)
    names = pd.DataFrame(index=pd.Index(key.unique(), name="SITEID"))
    names["SITENAME"] = adsl["SITENAME"].groupby(key).first() if "SITENAME" in adsl else pd.NA
    names["CITY"] = adsl["SITECITY"].groupby(key).first() if "SITECITY" in adsl else pd.NA
    if sites is not None:
        table = sites.set_index(sites["SITEID"].astype(str))
        names = names.reindex(names.index.union(table.index))
        for column, source in (("SITENAME", "SITENAME"), ("CITY", "CITY")):
            if source in table:
                names[column] = table[source].reindex(names.index).fillna(names[column])
    return names


def accrual_over_time(subjects: pd.DataFrame, cutoff, arms=(), total: bool = True) -> pd.DataFrame:
    """Cumulative randomized patients over calendar time: DATE, ARM, N_CUM (a step series per arm).

    Requires ARM, RANDDT. Each arm's series starts at 0 on the first randomization date of the
    frame and ends at the data cut; with `total`, an ALL_ARMS series is added.
    """
    require_columns(subjects, ["ARM", "RANDDT"], "accrual_over_time")
    cutoff = pd.Timestamp(cutoff)
    rand = _randomized(subjects)
    arm_list = list(dict.fromkeys([*arms, *rand["ARM"]]))
    if rand.empty:
        return pd.DataFrame({"DATE": pd.Series(dtype="datetime64[ns]"), "ARM": pd.Series(dtype=object),
                             "N_CUM": pd.Series(dtype=int)})
    start = rand["RANDDT"].min() - pd.Timedelta(days=1)
    groups = [(arm, rand.loc[rand["ARM"] == arm, "RANDDT"]) for arm in arm_list]
    if total:
        groups.append((ALL_ARMS, rand["RANDDT"]))
    frames = []
    for arm, dates in groups:
        daily = dates.value_counts().sort_index().cumsum()
        frame = pd.DataFrame({"DATE": [start, *daily.index, cutoff], "N_CUM": [0, *daily.values, len(dates)]})
        frame["ARM"] = arm
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)[["DATE", "ARM", "N_CUM"]]
    out["N_CUM"] = out["N_CUM"].astype(int)
    return out


def planned_accrual(target: int, start, end, until=None) -> pd.DataFrame:
    """The enrollment plan as a line: DATE, N_PLANNED (0 at `start`, `target` at `end`, flat to `until`)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        raise ValueError(f"planned enrollment end {end.date()} must be after its start {start.date()}")
    dates, values = [start, end], [0.0, float(target)]
    if until is not None and pd.Timestamp(until) > end:
        dates.append(pd.Timestamp(until))
        values.append(float(target))
    return pd.DataFrame({"DATE": dates, "N_PLANNED": values})


def planned_by(date, target: int, start, end) -> float:
    """Patients the linear plan expects randomized by `date`."""
    start, end, date = pd.Timestamp(start), pd.Timestamp(end), pd.Timestamp(date)
    fraction = (date - start) / (end - start)
    return float(target) * min(max(fraction, 0.0), 1.0)


def accrual_gap_statement(actual: int, target: int, start, end, on) -> str:
    """The actual-vs-plan gap in words, e.g. '12 patients (6% of the 200 target) behind plan on 2017-06-30'."""
    planned = planned_by(on, target, start, end)
    day = pd.Timestamp(on).date().isoformat()
    gap = round(actual - planned)
    detail = f"{actual} randomized vs {planned:.0f} planned by then"
    if gap == 0:
        return f"On plan on {day}: {detail}."
    word = "ahead of" if gap > 0 else "behind"
    pct = 100 * abs(gap) / target
    return (f"{abs(gap)} patient{'s' if abs(gap) != 1 else ''} ({pct:.0f}% of the {target} target) "
            f"{word} plan on {day}: {detail}.")


def monthly_accrual(subjects: pd.DataFrame, cutoff, arms=()) -> pd.DataFrame:
    """Randomized patients per calendar month and arm, long: MONTH (first day), ARM, N.

    Requires ARM, RANDDT. Months run from the first randomization month to the data-cut month,
    zero months included (pauses stay visible).
    """
    require_columns(subjects, ["ARM", "RANDDT"], "monthly_accrual")
    rand = _randomized(subjects)
    arm_list = list(dict.fromkeys([*arms, *rand["ARM"]]))
    if rand.empty:
        return pd.DataFrame({"MONTH": pd.Series(dtype="datetime64[ns]"), "ARM": pd.Series(dtype=object),
                             "N": pd.Series(dtype=int)})
    months = pd.period_range(rand["RANDDT"].min().to_period("M"), pd.Timestamp(cutoff).to_period("M"), freq="M")
    counts = rand.groupby([rand["RANDDT"].dt.to_period("M"), "ARM"]).size()
    grid = pd.MultiIndex.from_product([months, arm_list], names=["MONTH", "ARM"])
    out = counts.reindex(grid, fill_value=0).rename("N").reset_index()
    out["MONTH"] = out["MONTH"].dt.to_timestamp()
    out["N"] = out["N"].astype(int)
    return out


def accrual_rate(monthly: pd.DataFrame, cutoff, window: int = ACCRUAL_ROLLING_MONTHS) -> pd.DataFrame:
    """Total monthly accrual with a rolling rate: MONTH, N, ROLLING_RATE, PAUSE, PARTIAL.

    Requires MONTH, N (from `monthly_accrual`). ROLLING_RATE is the mean of the last `window` months
    (patients/month, fewer months at the start); PAUSE marks months without randomization; PARTIAL
    marks the data-cut month when the cut falls before its last day.
    """
    require_columns(monthly, ["MONTH", "N"], "accrual_rate")
    total = monthly.groupby("MONTH", sort=True)["N"].sum().astype(int).reset_index()
    total["ROLLING_RATE"] = total["N"].rolling(window, min_periods=1).mean().round(2)
    total["PAUSE"] = total["N"] == 0
    cutoff = pd.Timestamp(cutoff)
    total["PARTIAL"] = (total["MONTH"] == cutoff.to_period("M").to_timestamp()) & (not cutoff.is_month_end)
    return total


def recruitment_pauses(rate: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive months without randomization: START, END (first day of last month), MONTHS.

    Requires MONTH, PAUSE (from `accrual_rate`).
    """
    require_columns(rate, ["MONTH", "PAUSE"], "recruitment_pauses")
    runs = []
    start = None
    rows = list(rate.sort_values("MONTH")[["MONTH", "PAUSE"]].itertuples(index=False))
    for i, (month, pause) in enumerate(rows):
        if pause and start is None:
            start = i
        if start is not None and (not pause or i == len(rows) - 1):
            end = i if pause else i - 1
            runs.append((rows[start].MONTH, rows[end].MONTH, end - start + 1))
            start = None
    return pd.DataFrame(runs, columns=["START", "END", "MONTHS"])


def accrual_statement(rate: pd.DataFrame, closed) -> str:
    """Mean monthly accrual, enrollment close and the months without randomization in words. Requires
    MONTH, N, PAUSE (from `accrual_rate`); `closed` from `enrollment_closed` (None while open)."""
    require_columns(rate, ["MONTH", "N", "PAUSE"], "accrual_statement")
    text = f"Mean {rate['N'].mean():.1f} patients per month over {plural(len(rate), 'month')}."
    if closed is not None:
        text += f" Enrollment closed in {pd.Timestamp(closed):%Y-%m} (target reached); later months are not shown."
    pauses = recruitment_pauses(rate)
    if pauses.empty:
        return text + " No month without randomization."
    runs = "; ".join(f"{s:%Y-%m}" + ("" if m == 1 else f" to {e:%Y-%m}") + f" ({plural(m, 'month')})"
                     for s, e, m in pauses.itertuples(index=False))
    return text + f" Months without randomization: {runs}."


def has_screening_data(screened: pd.DataFrame) -> bool:
    """Whether the frame records screening: screen failures present or a screening date recorded."""
    require_columns(screened, ["RANDFL"], "has_screening_data")
    failures = (~is_yes(screened["RANDFL"])).any()
    dated = "SCRNDT" in screened.columns and screened["SCRNDT"].notna().any()
    return bool(failures or dated)


STATUS_PRECEDENCE = (("Completed", "COMPLETED"), ("Died", "DIED"), ("Withdrawn", "DISCONTINUED"),
                     ("Ongoing", "ONGOING"))


def screening_funnel(screened: pd.DataFrame, arms=()) -> pd.DataFrame:
    """CONSORT flow counts: STAGE, ARM, DETAIL, N.

    Requires RANDFL, ARM in `screened` (all screened subjects); uses SFREAS, SAFFL (or TRTSDT),
    EOSSTT, DCSREAS, DTHFL and EFFFL when present (stages whose column is missing are left out).
    Stages: 'Screened'; 'Excluded' (DETAIL = screen-failure reason, '' for the total); then per arm
    'Randomized', 'Treated', 'Not treated', 'Completed', 'Discontinued' (DETAIL = reason, '' for the
    total), 'Ongoing', 'Died', 'Analysed', 'Not analysed'. Within an arm Treated + Not treated,
    Completed + Discontinued + Ongoing and Analysed + Not analysed each equal Randomized;
    Screened = Excluded + all Randomized. 'Died' counts deaths at any time (not a partition).
    With both EOSSTT and DTHFL, 'Status' partitions each arm with death taking precedence (DETAIL
    'Completed', 'Died', 'Withdrawn', 'Ongoing', as the Overview's study status) and 'Withdrawn'
    gives the reasons of the living discontinued patients (DETAIL = reason).
    """
    require_columns(screened, ["RANDFL", "ARM"], "screening_funnel")
    rows: list[tuple[str, str, str, int]] = []
    randomized_flag = is_yes(screened["RANDFL"])
    randomized = screened.loc[randomized_flag]
    failures = screened.loc[~randomized_flag]
    rows.append(("Screened", "", "", len(screened)))
    rows.append(("Excluded", "", "", len(failures)))
    if len(failures):
        reasons = _reasons(failures, "SFREAS")
        rows += [("Excluded", "", reason, int(n)) for reason, n in reasons.items()]
    arm_list = list(dict.fromkeys([*arms, *randomized["ARM"]]))
    for arm in arm_list:
        group = randomized.loc[randomized["ARM"] == arm]
        n = len(group)
        rows.append(("Randomized", arm, "", n))
        treated = _treated(group)
        if treated is not None:
            rows += [("Treated", arm, "", int(treated.sum())), ("Not treated", arm, "", int(n - treated.sum()))]
        if "EOSSTT" in group.columns:
            status = group["EOSSTT"].fillna("ONGOING")
            completed = int((status == "COMPLETED").sum())
            discontinued = group.loc[status == "DISCONTINUED"]
            rows.append(("Completed", arm, "", completed))
            rows.append(("Discontinued", arm, "", len(discontinued)))
            if len(discontinued):
                rows += [("Discontinued", arm, r, int(c)) for r, c in _reasons(discontinued, "DCSREAS").items()]
            rows.append(("Ongoing", arm, "", n - completed - len(discontinued)))
        if "DTHFL" in group.columns:
            died = is_yes(group["DTHFL"])
            rows.append(("Died", arm, "", int(died.sum())))
            if "EOSSTT" in group.columns:
                status = group["EOSSTT"].fillna("ONGOING").where(~died, "DIED")
                for detail, code in STATUS_PRECEDENCE:
                    rows.append(("Status", arm, detail, int((status == code).sum())))
                withdrawn = group.loc[status == "DISCONTINUED"]
                if len(withdrawn):
                    rows += [("Withdrawn", arm, r, int(c)) for r, c in _reasons(withdrawn, "DCSREAS").items()]
        if "EFFFL" in group.columns:
            analysed = int(is_yes(group["EFFFL"]).sum())
            rows += [("Analysed", arm, "", analysed), ("Not analysed", arm, "", n - analysed)]
    out = pd.DataFrame(rows, columns=["STAGE", "ARM", "DETAIL", "N"])
    out["N"] = out["N"].astype(int)
    return out


def _treated(group: pd.DataFrame) -> pd.Series | None:
    if "SAFFL" in group.columns:
        return is_yes(group["SAFFL"])
    if "TRTSDT" in group.columns:
        return group["TRTSDT"].notna()
    return None


def _reasons(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series({"Reason not recorded": len(frame)})
    reasons = frame[column].astype("string").str.strip().replace("", pd.NA).fillna("Reason not recorded")
    return reasons.value_counts().sort_index().sort_values(ascending=False, kind="stable")


def funnel_missing(screened: pd.DataFrame) -> list[str]:
    """What the CONSORT flow cannot show for this frame, one sentence per gap (empty when complete)."""
    require_columns(screened, ["RANDFL"], "funnel_missing")
    gaps = []
    if not has_screening_data(screened):
        gaps.append("No screening data: the dataset holds randomized patients only (no screen failures with "
                    "RANDFL='N' and no screening dates), so the flow starts at randomization.")
    elif (~is_yes(screened["RANDFL"])).any() and "SFREAS" not in screened.columns:
        gaps.append("Screen-failure reasons (SFREAS) are not recorded.")
    if "SAFFL" not in screened.columns and "TRTSDT" not in screened.columns:
        gaps.append("Treatment start (SAFFL/TRTSDT) is not recorded, so 'treated' is not shown.")
    if "EOSSTT" not in screened.columns:
        gaps.append("End-of-study status (EOSSTT) is not recorded, so completion and withdrawal are not shown.")
    if "EFFFL" not in screened.columns:
        gaps.append("The evaluable flag (EFFFL) is not recorded, so 'analysed' is not shown.")
    return gaps


def flow_notes(screened: pd.DataFrame, spec: FilterSpec) -> list[str]:
    """What the CONSORT flow of `screened` cannot show (`funnel_missing`), and which filters `spec` it
    ignores: arm, randomization date and population apply after randomization."""
    notes = funnel_missing(screened)
    if spec.arms or spec.randomization_dates or spec.population_flag != "ITTFL":
        notes.append("The flow follows the site, sex, age, grade and diagnosis filters; arm, randomization-date "
                     "and population filters apply after randomization, so every arm is counted here.")
    return notes


def site_locations(sites: pd.DataFrame, randomized_by_site: pd.Series) -> pd.DataFrame:
    """Sites with coordinates for a tile-free map: SITEID, SITENAME, CITY, LAT, LON, X, Y, RANDOMIZED.

    Requires SITEID, LAT, LON in `sites`; `randomized_by_site` maps SITEID to patients. X, Y are an
    equirectangular projection centred on the sites' mean latitude (X = longitude x cos(mean
    latitude), Y = latitude, both in degrees), so distances look right without map tiles. Sites
    without coordinates are left out.
    """
    require_columns(sites, ["SITEID", "LAT", "LON"], "site_locations")
    out = sites.loc[sites["LAT"].notna() & sites["LON"].notna()].copy()
    out["SITEID"] = out["SITEID"].astype(str)
    for column in ("SITENAME", "CITY"):
        if column not in out.columns:
            out[column] = pd.NA
    scale = math.cos(math.radians(float(out["LAT"].mean()))) if len(out) else 1.0
    out["X"] = out["LON"].astype(float) * scale
    out["Y"] = out["LAT"].astype(float)
    counts = pd.Series(randomized_by_site)
    counts.index = counts.index.astype(str)
    out["RANDOMIZED"] = out["SITEID"].map(counts).fillna(0).astype(int)
    return out[["SITEID", "SITENAME", "CITY", "LAT", "LON", "X", "Y", "RANDOMIZED"]].reset_index(drop=True)


def locations_by_city(locations: pd.DataFrame) -> pd.DataFrame:
    """Sites grouped by city (one map marker per city): CITY, LAT, LON, X, Y, RANDOMIZED, SITES, SITEIDS.

    Requires SITEID, CITY, LAT, LON, X, Y, RANDOMIZED (from `site_locations`); a site without a city
    stands alone under its id. Coordinates are the mean of the city's sites; RANDOMIZED is summed.
    """
    require_columns(locations, ["SITEID", "CITY", "LAT", "LON", "X", "Y", "RANDOMIZED"], "locations_by_city")
    key = locations["CITY"].astype("string").fillna(locations["SITEID"].astype(str))
    grouped = locations.assign(CITY=key).groupby("CITY", sort=False)
    out = grouped.agg(LAT=("LAT", "mean"), LON=("LON", "mean"), X=("X", "mean"), Y=("Y", "mean"),
                      RANDOMIZED=("RANDOMIZED", "sum"), SITES=("SITEID", "size"),
                      SITEIDS=("SITEID", lambda s: ", ".join(sorted(map(str, s), key=natural_site_key))))
    return out.reset_index().sort_values("RANDOMIZED", ascending=False, kind="stable").reset_index(drop=True)
