"""Response by visit: per-subject visit outcomes, counts, overall response with CIs, comparisons,
transitions, swimmer lanes and subgroup differences. Category-agnostic (order from config)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..config import (
    CONTROL_ARM_WORDS,
    EXTRA_RESPONSE_COLORS,
    RESPONDER_CATEGORIES,
    RESPONSE_COLORS,
    RESPONSE_DIED,
    RESPONSE_MISSING,
    RESPONSE_ORDER,
    RESPONSE_PARAMCDS,
    RESPONSE_PENDING,
    SWIMMER_TTE_EVENTS,
)

from .flags import is_yes
from .columns import require_columns
from .formatting import format_proportion

NOT_ASSESSED = (RESPONSE_DIED, RESPONSE_MISSING, RESPONSE_PENDING)


def response_parameter(adrs: pd.DataFrame) -> str:
    """The ADRS PARAMCD holding per-visit overall response (first of config.RESPONSE_PARAMCDS present,
    else the parameter assessed at the most visits). Requires PARAMCD, AVALC."""
    require_columns(adrs, ["PARAMCD", "AVALC"], "ADRS")
    codes = set(adrs["PARAMCD"].dropna().unique())
    for code in RESPONSE_PARAMCDS:
        if code in codes:
            return code
    if not codes:
        raise ValueError("ADRS has no rows, so no response parameter")
    if "AVISIT" in adrs.columns:
        return str(adrs.groupby("PARAMCD")["AVISIT"].nunique().idxmax())
    return str(sorted(codes)[0])


def category_order(categories) -> list[str]:
    """Display order: config.RESPONSE_ORDER assessed categories, then unknown ones (sorted), then
    Died / No assessment / Pending."""
    present = {str(c) for c in categories}
    known = [c for c in RESPONSE_ORDER if c in present and c not in NOT_ASSESSED]
    extra = sorted(present - set(RESPONSE_ORDER))
    tail = [c for c in NOT_ASSESSED if c in present]
    return known + extra + tail


def category_colors(categories) -> dict[str, str]:
    """Colour per category: config.RESPONSE_COLORS, unknown categories from EXTRA_RESPONSE_COLORS."""
    order = category_order(categories)
    extra = iter(EXTRA_RESPONSE_COLORS * (1 + len(order) // len(EXTRA_RESPONSE_COLORS)))
    return {c: RESPONSE_COLORS[c] if c in RESPONSE_COLORS else next(extra) for c in order}


def primary_visit(visits: pd.DataFrame, day: int | None) -> str:
    """The visit (of `response_visits`) at the protocol's primary day, else the one with the latest nominal day."""
    if day is not None and (visits["DAY"] == day).any():
        return str(visits.loc[visits["DAY"] == day, "AVISIT"].iloc[0])
    return str(visits["AVISIT"].iloc[-1])


def transition_visits(visits: pd.DataFrame, primary_day: int | None, durable_day: int | None) -> tuple[str, str]:
    """The (from, to) visits a transition matrix opens with: the primary visit to the durability visit,
    else the visit before the primary one to it."""
    names = visits["AVISIT"].tolist()
    end = primary_visit(visits, durable_day)
    start = primary_visit(visits, primary_day)
    if start == end:
        start = names[max(0, names.index(end) - 1)]
    return start, end


def response_visits(adrs: pd.DataFrame, paramcd: str | None = None, windows=None) -> pd.DataFrame:
    """Scheduled response visits, ordered: AVISIT, DAY (nominal study day: AVISITN, else the median
    ADY) and WINDOW_END (the last study day of the visit's window: DAY + `windows[DAY]` when the
    mapping of nominal day -> days either side has the visit, else the latest ADY observed at the
    visit, never before DAY). Requires PARAMCD, AVISIT and one of AVISITN / ADY."""
    require_columns(adrs, ["PARAMCD", "AVISIT"], "ADRS")
    paramcd = paramcd or response_parameter(adrs)
    rows = adrs.loc[(adrs["PARAMCD"] == paramcd) & adrs["AVISIT"].notna()]
    if "AVISITN" in rows.columns and rows["AVISITN"].notna().any():
        day = rows.groupby("AVISIT")["AVISITN"].median()
    elif "ADY" in rows.columns and rows["ADY"].notna().any():
        day = rows.groupby("AVISIT")["ADY"].median()
    else:
        raise KeyError("ADRS needs AVISITN or ADY to place visits in time")
    out = day.rename("DAY").reset_index().dropna(subset=["DAY"])
    out["DAY"] = out["DAY"].astype(float)
    latest = (pd.to_numeric(rows["ADY"], errors="coerce").groupby(rows["AVISIT"]).max()
              if "ADY" in rows.columns else pd.Series(dtype=float))
    observed = np.fmax(out["AVISIT"].map(latest).astype(float).to_numpy(), out["DAY"].to_numpy())
    half_width = dict(windows or {})
    planned = out["DAY"].map(lambda d: half_width.get(int(round(d)))).astype(float)
    out["WINDOW_END"] = (out["DAY"] + planned).fillna(pd.Series(observed, index=out.index))
    out["AVISIT"] = out["AVISIT"].astype(str)
    return out.sort_values(["DAY", "AVISIT"]).reset_index(drop=True)


def response_status_by_visit(
    subjects: pd.DataFrame, adrs: pd.DataFrame, cutoff, paramcd: str | None = None, windows=None
) -> pd.DataFrame:
    """One row per subject and scheduled visit: USUBJID, ARM, AVISIT, DAY, STATUS.

    STATUS is the assessed response (AVALC; the last assessment when a visit has several); without an
    assessment it is "Died" (death before the visit's nominal date RANDDT + DAY - 1), "Pending" (the
    visit's window, to RANDDT + WINDOW_END - 1, closes after the data cut and the patient was alive
    at the cut: the assessment can still come) or "No assessment" (the window has closed). `windows`:
    see `response_visits`. Every subject appears at every visit.
    Requires ADSL USUBJID, ARM, RANDDT (DTHDT used when present); ADRS USUBJID, PARAMCD, AVISIT, AVALC.
    """
    require_columns(subjects, ["USUBJID", "ARM", "RANDDT"], "ADSL")
    require_columns(adrs, ["USUBJID", "PARAMCD", "AVISIT", "AVALC"], "ADRS")
    paramcd = paramcd or response_parameter(adrs)
    visits = response_visits(adrs, paramcd, windows)
    # The grid subject x visit in subject-major order, addressed by position (subject * visits + visit).
    n_visits = len(visits)
    subject_at = pd.Index(subjects["USUBJID"])
    rows = adrs.loc[(adrs["PARAMCD"] == paramcd) & adrs["USUBJID"].isin(subject_at)]
    sort_cols = [c for c in ("ADT", "ADY") if c in rows.columns]
    rows = rows.sort_values(sort_cols) if sort_cols else rows
    cell = (subject_at.get_indexer(rows["USUBJID"]) * n_visits
            + pd.Index(visits["AVISIT"]).get_indexer(rows["AVISIT"].astype(str)))
    known = cell >= 0 if n_visits else np.zeros(len(rows), dtype=bool)  # rows at unscheduled visits match no cell
    last = ~pd.Series(cell[known]).duplicated(keep="last").to_numpy()  # the last assessment of a visit
    codes, values = pd.factorize(rows["AVALC"].to_numpy(dtype=object)[known][last], use_na_sentinel=False)
    assessed = np.full(len(subjects) * n_visits, None, dtype=object)
    assessed[cell[known][last]] = np.array([str(v).strip() for v in values] + [None], dtype=object)[codes]
    randomized = np.repeat(pd.to_datetime(subjects["RANDDT"]).to_numpy(dtype="datetime64[ns]"), n_visits)
    death = np.repeat((pd.to_datetime(subjects["DTHDT"]) if "DTHDT" in subjects.columns
                       else pd.Series(pd.NaT, index=subjects.index)).to_numpy(dtype="datetime64[ns]"), n_visits)
    one_day = np.timedelta64(1, "D")
    day = np.tile(visits["DAY"].to_numpy(dtype=float), len(subjects))
    visit_date = randomized + ((day - 1) * one_day.astype("timedelta64[ns]").astype(float)).astype("timedelta64[ns]")
    window_end = np.tile(visits["WINDOW_END"].to_numpy(dtype=float), len(subjects))
    window_closes = randomized + ((window_end - 1) * one_day.astype("timedelta64[ns]").astype(float)).astype("timedelta64[ns]")
    dead = ~np.isnat(death)
    died = dead & (death < visit_date)
    cut = np.datetime64(pd.Timestamp(cutoff).to_datetime64(), "ns")
    pending = (window_closes > cut) & ~(dead & (death <= cut))
    status = np.select([assessed != None, died, pending],  # noqa: E711 (element-wise)
                       [assessed, RESPONSE_DIED, RESPONSE_PENDING], RESPONSE_MISSING)
    return pd.DataFrame({
        "USUBJID": subjects["USUBJID"].repeat(n_visits).reset_index(drop=True),
        "ARM": subjects["ARM"].repeat(n_visits).reset_index(drop=True),
        "AVISIT": np.tile(visits["AVISIT"].to_numpy(dtype=object), len(subjects)),
        "DAY": day,
        "STATUS": pd.Series(status, dtype=object).astype(str),
    })


def response_by_visit(status: pd.DataFrame, arms=None) -> pd.DataFrame:
    """Counts per arm, visit and category: ARM, AVISIT, DAY, STATUS, n, N (all filtered subjects of
    the arm), pct (100 n / N). Categories never seen stay out; zero cells are kept for seen ones.
    Requires the columns of `response_status_by_visit`."""
    require_columns(status, ["USUBJID", "ARM", "AVISIT", "DAY", "STATUS"], "response status")
    arms = list(arms) if arms is not None else list(pd.unique(status["ARM"]))
    visits = status[["AVISIT", "DAY"]].drop_duplicates().sort_values("DAY")
    cats = category_order(status["STATUS"].unique())
    index = pd.MultiIndex.from_product([arms, visits["AVISIT"], cats], names=["ARM", "AVISIT", "STATUS"])
    counts = status.groupby(["ARM", "AVISIT", "STATUS"]).size().reindex(index, fill_value=0).rename("n")
    out = counts.reset_index().merge(visits, on="AVISIT")
    denom = status.drop_duplicates("USUBJID").groupby("ARM").size().reindex(arms, fill_value=0)
    out["N"] = out["ARM"].map(denom).astype(int)
    out["pct"] = np.where(out["N"] > 0, 100 * out["n"] / out["N"].where(out["N"] > 0, 1), np.nan)
    out["STATUS"] = pd.Categorical(out["STATUS"], categories=cats, ordered=True)
    out["ARM"] = pd.Categorical(out["ARM"], categories=arms, ordered=True)
    return out.sort_values(["ARM", "DAY", "STATUS"]).reset_index(drop=True)[
        ["ARM", "AVISIT", "DAY", "STATUS", "n", "N", "pct"]
    ]


def wilson_interval(count, nobs, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a proportion (NaN when nobs is 0)."""
    from statsmodels.stats.proportion import proportion_confint

    if nobs == 0:
        return (np.nan, np.nan)
    lo, hi = proportion_confint(count, nobs, alpha=alpha, method="wilson")
    return float(lo), float(hi)


def overall_response_by_visit(status: pd.DataFrame, arms=None) -> pd.DataFrame:
    """Overall response (CR+PR, config.RESPONDER_CATEGORIES) per arm and visit: ARM, AVISIT, DAY,
    responders, evaluated (subjects whose visit is due: N minus pending; died / no assessment count as
    non-responders), pending, N, pct, ci_low, ci_high (95% Wilson, percent), label ("82/99 (82.8%)").
    Requires the columns of `response_status_by_visit`."""
    require_columns(status, ["USUBJID", "ARM", "AVISIT", "DAY", "STATUS"], "response status")
    arms = list(arms) if arms is not None else list(pd.unique(status["ARM"]))
    flags = status.assign(
        responders=status["STATUS"].isin(RESPONDER_CATEGORIES).astype(int),
        pending=(status["STATUS"] == RESPONSE_PENDING).astype(int),
        N=1,
    )
    visits = status[["AVISIT", "DAY"]].drop_duplicates().sort_values("DAY")
    index = pd.MultiIndex.from_product([arms, visits["AVISIT"]], names=["ARM", "AVISIT"])
    out = (
        flags.groupby(["ARM", "AVISIT"])[["responders", "pending", "N"]].sum()
        .reindex(index, fill_value=0).reset_index().merge(visits, on="AVISIT")
    )
    out["evaluated"] = out["N"] - out["pending"]
    cis = [wilson_interval(r, e) for r, e in zip(out["responders"], out["evaluated"])]
    out["pct"] = np.where(out["evaluated"] > 0, 100 * out["responders"] / out["evaluated"].clip(lower=1), np.nan)
    out["ci_low"] = [100 * c[0] for c in cis]
    out["ci_high"] = [100 * c[1] for c in cis]
    out["label"] = [format_proportion(r, e) for r, e in zip(out["responders"], out["evaluated"])]
    out["ARM"] = pd.Categorical(out["ARM"], categories=arms, ordered=True)
    return out.sort_values(["ARM", "DAY"]).reset_index(drop=True)[
        ["ARM", "AVISIT", "DAY", "responders", "evaluated", "pending", "N", "pct", "ci_low", "ci_high", "label"]
    ]


def responders_at(status: pd.DataFrame, visit: str, arm: str) -> tuple[int, int]:
    """(responders, patients whose visit is due) of one arm at one visit: CR+PR over everyone but the
    pending. Requires ARM, AVISIT, STATUS (from `response_status_by_visit`)."""
    require_columns(status, ["ARM", "AVISIT", "STATUS"], "response status")
    at = status.loc[(status["AVISIT"] == visit) & (status["ARM"] == arm) & (status["STATUS"] != RESPONSE_PENDING)]
    return int(at["STATUS"].isin(RESPONDER_CATEGORIES).sum()), len(at)


def compare_response(status: pd.DataFrame, visit: str, treatment: str, control: str) -> dict:
    """Overall response at one visit, treatment vs control: counts, Wilson CIs, difference with the
    Newcombe (hybrid score) 95% CI, odds ratio with the Wald (Woolf, log scale) 95% CI and the Pearson
    chi-square p-value. Values are NaN when an arm has nobody evaluated. Requires the columns of
    `response_status_by_visit`."""
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    require_columns(status, ["ARM", "AVISIT", "STATUS"], "response status")
    at = status.loc[(status["AVISIT"] == visit) & (status["STATUS"] != RESPONSE_PENDING)]
    out = {"visit": visit, "treatment": treatment, "control": control}
    for key, arm in (("t", treatment), ("c", control)):
        rows = at.loc[at["ARM"] == arm, "STATUS"]
        out[f"n_{key}"] = int(rows.isin(RESPONDER_CATEGORIES).sum())
        out[f"N_{key}"] = int(len(rows))
        out[f"ci_{key}"] = wilson_interval(out[f"n_{key}"], out[f"N_{key}"])
    out["pending"] = int(((status["AVISIT"] == visit) & (status["STATUS"] == RESPONSE_PENDING)).sum())
    n1, N1, n2, N2 = out["n_t"], out["N_t"], out["n_c"], out["N_c"]
    nan2 = (np.nan, np.nan)
    out.update(diff=np.nan, diff_ci=nan2, odds_ratio=np.nan, or_ci=nan2, p_value=np.nan)
    if N1 == 0 or N2 == 0:
        return out
    out["diff"] = n1 / N1 - n2 / N2
    out["diff_ci"] = tuple(float(v) for v in confint_proportions_2indep(n1, N1, n2, N2, method="newcomb", compare="diff"))
    cells = np.array([[n1, N1 - n1], [n2, N2 - n2]], dtype=float)
    if (cells > 0).all():
        log_or = np.log(cells[0, 0] * cells[1, 1] / (cells[0, 1] * cells[1, 0]))
        se = np.sqrt((1 / cells).sum())
        out["odds_ratio"] = float(np.exp(log_or))
        out["or_ci"] = (float(np.exp(log_or - 1.959964 * se)), float(np.exp(log_or + 1.959964 * se)))
    if cells.sum(axis=0).all():
        out["p_value"] = float(stats.chi2_contingency(cells, correction=False)[1])
    return out


def comparison_sentence(cmp: dict, labels=None) -> str:
    """The comparison of `compare_response` in words, naming each interval's method."""
    labels = labels or {}
    t, c = labels.get(cmp["treatment"], cmp["treatment"]), labels.get(cmp["control"], cmp["control"])

    def arm_text(key, name):
        lo, hi = cmp[f"ci_{key}"]
        ci = "" if np.isnan(lo) else f"; 95% Wilson CI {100 * lo:.1f}–{100 * hi:.1f}%"
        return f"{format_proportion(cmp[f'n_{key}'], cmp[f'N_{key}'])} of {name}{ci}"

    text = f"At {cmp['visit']}, overall response (CR or PR) was {arm_text('t', t)}, vs {arm_text('c', c)}."
    if not np.isnan(cmp["diff"]):
        lo, hi = cmp["diff_ci"]
        text += (f" Difference {100 * cmp['diff']:+.1f} percentage points "
                 f"(95% Newcombe CI {100 * lo:+.1f} to {100 * hi:+.1f}).")
    if not np.isnan(cmp["odds_ratio"]):
        lo, hi = cmp["or_ci"]
        text += f" Odds ratio {cmp['odds_ratio']:.2f} (95% Wald CI {lo:.2f} to {hi:.2f})."
    if not np.isnan(cmp["p_value"]):
        text += f" Pearson chi-square p = {cmp['p_value']:.3f}."
    if cmp["pending"]:
        text += f" {cmp['pending']} patient(s) not yet due at the data cut are pending and not counted."
    return text


def response_transitions(status: pd.DataFrame, from_visit: str, to_visit: str, arms=None) -> pd.DataFrame:
    """Counts of subjects moving from each category at `from_visit` to each at `to_visit`, per arm:
    ARM, FROM, TO, n, pct_of_from (percent of that arm's subjects in FROM). Every category pair seen
    in either visit is listed (zeros kept). Requires the columns of `response_status_by_visit`."""
    require_columns(status, ["USUBJID", "ARM", "AVISIT", "STATUS"], "response status")
    arms = list(arms) if arms is not None else list(pd.unique(status["ARM"]))
    a = status.loc[status["AVISIT"] == from_visit, ["USUBJID", "ARM", "STATUS"]].rename(columns={"STATUS": "FROM"})
    b = status.loc[status["AVISIT"] == to_visit, ["USUBJID", "STATUS"]].rename(columns={"STATUS": "TO"})
    pairs = a.merge(b, on="USUBJID", how="inner")
    cats = category_order(pd.concat([pairs["FROM"], pairs["TO"]]).unique())
    index = pd.MultiIndex.from_product([arms, cats, cats], names=["ARM", "FROM", "TO"])
    out = pairs.groupby(["ARM", "FROM", "TO"]).size().reindex(index, fill_value=0).rename("n").reset_index()
    row_tot = out.groupby(["ARM", "FROM"])["n"].transform("sum")
    out["pct_of_from"] = np.where(row_tot > 0, 100 * out["n"] / row_tot.clip(lower=1), np.nan)
    for col in ("FROM", "TO"):
        out[col] = pd.Categorical(out[col], categories=cats, ordered=True)
    return out


def best_response(status: pd.DataFrame) -> pd.DataFrame:
    """Best assessed response per subject over all visits (first in category order): USUBJID, BEST
    ("No assessment" / "Pending" / "Died" when never assessed). Requires USUBJID, STATUS."""
    require_columns(status, ["USUBJID", "STATUS"], "response status")
    cats = category_order(status["STATUS"].unique())
    rank = status["STATUS"].map({c: i for i, c in enumerate(cats)})
    best = status.assign(rank=rank).sort_values("rank").drop_duplicates("USUBJID")
    return best[["USUBJID", "STATUS"]].rename(columns={"STATUS": "BEST"}).reset_index(drop=True)


def _days_since(dates: pd.Series, randdt: pd.Series) -> pd.Series:
    return (pd.to_datetime(dates) - pd.to_datetime(randdt)).dt.days


def swimmer_lanes(subjects: pd.DataFrame, cutoff, status: pd.DataFrame | None = None,
                  adtte: pd.DataFrame | None = None, compared_cut=None) -> pd.DataFrame:
    """One lane per subject: USUBJID, ARM, SITEID, END (days from randomization to death, end of
    study, last known alive or the data cut, whichever applies first), END_STATUS (Died /
    Discontinued / Completed / Ongoing), BEST (best response when `status` is given), EVENTS (flags
    from ADTTE events listed in config.SWIMMER_TTE_EVENTS, e.g. "cGVHD onset, Relapse"). With an earlier
    `compared_cut`: NEW (randomized after it) and COMPARED_DAY (its day on the lane; NaN for new lanes).
    Requires ADSL USUBJID, ARM, RANDDT (SITEID, DTHDT, EOSDT, EOSSTT, LSTALVDT used when present)."""
    require_columns(subjects, ["USUBJID", "ARM", "RANDDT"], "ADSL")
    cut = pd.Timestamp(cutoff)

    def col(name):
        return subjects[name] if name in subjects.columns else pd.Series(pd.NaT, index=subjects.index)

    dead = col("DTHDT").notna()
    end_date = col("DTHDT").where(dead, col("EOSDT").where(col("EOSDT").notna(), col("LSTALVDT")))
    end_date = pd.to_datetime(end_date).fillna(cut).clip(upper=cut)
    eosstt = subjects["EOSSTT"].astype(object) if "EOSSTT" in subjects.columns else pd.Series(None, index=subjects.index, dtype=object)
    end_status = np.where(dead, "Died", np.where(eosstt == "DISCONTINUED", "Discontinued",
                                                 np.where(eosstt == "COMPLETED", "Completed", "Ongoing")))
    out = pd.DataFrame({
        "USUBJID": subjects["USUBJID"].astype(str).to_numpy(),
        "ARM": subjects["ARM"].astype(str).to_numpy(),
        "SITEID": subjects["SITEID"].astype(str).to_numpy() if "SITEID" in subjects.columns else "",
        "END": _days_since(end_date, subjects["RANDDT"]).clip(lower=0).to_numpy(),
        "END_STATUS": end_status,
    })
    if status is not None:
        out = out.merge(best_response(status), on="USUBJID", how="left")
    events = swimmer_tte_events(subjects, adtte) if adtte is not None else None
    if events is not None and len(events):
        flags = events.groupby("USUBJID")["LABEL"].agg(lambda s: ", ".join(sorted(set(s))))
        out["EVENTS"] = out["USUBJID"].map(flags).fillna("")
    else:
        out["EVENTS"] = ""
    if compared_cut is not None:
        day = _days_since(pd.Series(pd.Timestamp(compared_cut), index=subjects.index), subjects["RANDDT"]).to_numpy()
        out["NEW"] = ~(day >= 0)
        out["COMPARED_DAY"] = np.where(day >= 0, day, np.nan)
    return out


def swimmer_tte_events(subjects: pd.DataFrame, adtte: pd.DataFrame) -> pd.DataFrame:
    """Time-to-event occurrences shown on lanes: USUBJID, DAY (days from randomization), LABEL, for
    events (CNSR == 0) of the ADTTE parameters in config.SWIMMER_TTE_EVENTS; when the data have none of
    those (a trial the configuration does not know), of every parameter, labelled by its PARAM without
    a leading "Time to" (else PARAMCD). Requires ADTTE USUBJID, PARAMCD, AVAL, CNSR."""
    require_columns(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "ADTTE")
    known = adtte["PARAMCD"].isin(list(SWIMMER_TTE_EVENTS))
    rows = adtte.loc[(known if known.any() else True) & (adtte["CNSR"] == 0)
                     & adtte["USUBJID"].isin(subjects["USUBJID"])]
    if known.any():
        labels = rows["PARAMCD"].map(SWIMMER_TTE_EVENTS)
    else:
        names = rows["PARAM"].fillna(rows["PARAMCD"]) if "PARAM" in rows.columns else rows["PARAMCD"]
        labels = names.astype(str).str.replace(r"^time to (the )?", "", case=False, regex=True).str.strip()
        labels = labels.str[:1].str.upper() + labels.str[1:]
    return pd.DataFrame({
        "USUBJID": rows["USUBJID"].astype(str).to_numpy(),
        "DAY": rows["AVAL"].astype(float).to_numpy(),
        "LABEL": labels.astype(str).to_numpy(),
    })


def swimmer_events(subjects: pd.DataFrame, adrs: pd.DataFrame | None = None, adex: pd.DataFrame | None = None,
                   adae: pd.DataFrame | None = None, adtte: pd.DataFrame | None = None,
                   paramcd: str | None = None) -> pd.DataFrame:
    """Markers on the swimmer lanes: USUBJID, DAY (days from randomization), KIND (Response /
    Exposure / Serious AE / the ADTTE labels / Death), LABEL, DETAIL. Uses whichever tables are given.
    Requires ADSL USUBJID, RANDDT (DTHDT, DTHCAUS when present); ADRS USUBJID, PARAMCD, AVALC, ADT or
    ADY; ADEX USUBJID, EXTRT, ASTDT or ASTDY; ADAE USUBJID, AEDECOD, AESER, ASTDT or ASTDY."""
    require_columns(subjects, ["USUBJID", "RANDDT"], "ADSL")
    rand = subjects.set_index("USUBJID")["RANDDT"]
    ids = set(subjects["USUBJID"])
    parts = []

    def day_of(rows, date_col, day_col):
        if date_col in rows.columns and rows[date_col].notna().any():
            days = _days_since(rows[date_col], rows["USUBJID"].map(rand))
            if day_col in rows.columns:
                days = days.fillna(rows[day_col] - 1)
            return days
        if day_col in rows.columns:
            return rows[day_col].astype(float) - 1
        raise KeyError(f"needs {date_col} or {day_col}")

    if adrs is not None and len(adrs):
        code = paramcd or response_parameter(adrs)
        rows = adrs.loc[(adrs["PARAMCD"] == code) & adrs["USUBJID"].isin(ids)]
        visit = rows["AVISIT"].astype(str) if "AVISIT" in rows.columns else ""
        parts.append(pd.DataFrame({"USUBJID": rows["USUBJID"], "DAY": day_of(rows, "ADT", "ADY"),
                                   "KIND": "Response", "LABEL": rows["AVALC"].astype(str),
                                   "DETAIL": visit + ": " + rows["AVALC"].astype(str)}))
    if adex is not None and len(adex):
        rows = adex.loc[adex["USUBJID"].isin(ids)]
        dose = (rows["EXDOSE"].map(lambda v: "" if pd.isna(v) else f" {v:g}") + " " + rows["EXDOSU"].fillna("").astype(str)
                if "EXDOSE" in rows.columns and "EXDOSU" in rows.columns else "")
        parts.append(pd.DataFrame({"USUBJID": rows["USUBJID"], "DAY": day_of(rows, "ASTDT", "ASTDY"),
                                   "KIND": "Exposure", "LABEL": rows["EXTRT"].astype(str),
                                   "DETAIL": rows["EXTRT"].astype(str) + dose}))
    if adae is not None and len(adae) and "AESER" in adae.columns:
        rows = adae.loc[is_yes(adae["AESER"]) & adae["USUBJID"].isin(ids)]
        grade = (" (grade " + rows["AETOXGRN"].astype("Int64").astype(str) + ")") if "AETOXGRN" in rows.columns else ""
        parts.append(pd.DataFrame({"USUBJID": rows["USUBJID"], "DAY": day_of(rows, "ASTDT", "ASTDY"),
                                   "KIND": "Serious AE", "LABEL": rows["AEDECOD"].astype(str),
                                   "DETAIL": rows["AEDECOD"].astype(str) + grade}))
    if adtte is not None and len(adtte):
        ev = swimmer_tte_events(subjects, adtte)
        parts.append(ev.assign(KIND=ev["LABEL"], DETAIL=ev["LABEL"] + " (day " + ev["DAY"].astype(int).astype(str) + ")"))
    if "DTHDT" in subjects.columns:
        rows = subjects.loc[subjects["DTHDT"].notna()]
        cause = rows["DTHCAUS"].fillna("cause not recorded").astype(str) if "DTHCAUS" in rows.columns else "cause not recorded"
        parts.append(pd.DataFrame({"USUBJID": rows["USUBJID"], "DAY": _days_since(rows["DTHDT"], rows["RANDDT"]),
                                   "KIND": "Death", "LABEL": "Death", "DETAIL": "Death: " + cause}))
    cols = ["USUBJID", "DAY", "KIND", "LABEL", "DETAIL"]
    parts = [p[cols] for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["USUBJID"] = out["USUBJID"].astype(str)
    out["DAY"] = out["DAY"].astype(float)
    return out.sort_values(["USUBJID", "DAY"]).reset_index(drop=True)


def subgroup_response_differences(status: pd.DataFrame, subjects: pd.DataFrame, visit: str,
                                  treatment: str, control: str, subgroups, min_level_size: int = 0) -> pd.DataFrame:
    """Overall response difference (treatment - control) at one visit within each level of each
    baseline subgroup: SUBGROUP (label), VARIABLE, LEVEL, n_t, N_t, n_c, N_c, diff, diff_low,
    diff_high (95% Newcombe, proportions), p_interaction (likelihood-ratio test of arm x subgroup in a
    binomial logistic regression, statsmodels; one value per subgroup). Pending subjects are left out.
    `subgroups` maps ADSL column -> label; columns absent or with one level are skipped.
    ESTIMABLE is False for a level with no patient in an arm or fewer than `min_level_size` patients:
    its diff/CI are NaN and it is left out of the interaction test (NaN with fewer than two estimable levels).
    Requires the columns of `response_status_by_visit` and ADSL USUBJID plus the subgroup columns."""
    from scipy import stats
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from statsmodels.stats.proportion import confint_proportions_2indep

    require_columns(status, ["USUBJID", "ARM", "AVISIT", "STATUS"], "response status")
    at = status.loc[(status["AVISIT"] == visit) & (status["STATUS"] != RESPONSE_PENDING)
                    & status["ARM"].isin([treatment, control])]
    at = at.assign(resp=at["STATUS"].isin(RESPONDER_CATEGORIES).astype(int), trt=(at["ARM"] == treatment).astype(int))
    rows = []
    for column, label in dict(subgroups).items():
        if column not in subjects.columns:
            continue
        data = at.merge(subjects[["USUBJID", column]], on="USUBJID").dropna(subset=[column])
        data = data.assign(level=data[column].astype(str))
        levels = sorted(data["level"].unique())
        if len(levels) < 2:
            continue
        sizes = data.groupby(["level", "trt"]).size().unstack(fill_value=0).reindex(columns=[0, 1], fill_value=0)
        estimable = {lvl: bool(r[0] > 0 and r[1] > 0 and r[0] + r[1] >= min_level_size) for lvl, r in sizes.iterrows()}
        fit_data = data.loc[data["level"].map(estimable)]
        # Responders and non-responders per level and arm: the binomial fit of these counts has the
        # same estimates and likelihood-ratio statistic as one row per patient, at any trial size.
        cells = fit_data.groupby(["level", "trt"], as_index=False)["resp"].agg(resp="sum", total="size")
        cells["fail"] = cells["total"] - cells["resp"]
        p_int = np.nan
        if fit_data["level"].nunique() >= 2:
            try:
                fam = sm.families.Binomial()
                with warnings.catch_warnings():  # separation in small subgroups: the LR statistic is still defined
                    warnings.simplefilter("ignore")
                    full = smf.glm("resp + fail ~ trt * C(level)", data=cells, family=fam).fit()
                    reduced = smf.glm("resp + fail ~ trt + C(level)", data=cells, family=fam).fit()
                df = full.df_model - reduced.df_model
                if df > 0:
                    p_int = float(stats.chi2.sf(max(reduced.deviance - full.deviance, 0.0), df))
            except (ValueError, np.linalg.LinAlgError):
                p_int = np.nan
        for level in levels:
            sub = data.loc[data["level"] == level]
            t, c = sub.loc[sub["trt"] == 1, "resp"], sub.loc[sub["trt"] == 0, "resp"]
            rec = {"SUBGROUP": label, "VARIABLE": column, "LEVEL": level, "n_t": int(t.sum()), "N_t": len(t),
                   "n_c": int(c.sum()), "N_c": len(c), "diff": np.nan, "diff_low": np.nan, "diff_high": np.nan,
                   "ESTIMABLE": estimable[level], "p_interaction": p_int}
            if estimable[level]:
                rec["diff"] = t.mean() - c.mean()
                lo, hi = confint_proportions_2indep(int(t.sum()), len(t), int(c.sum()), len(c),
                                                    method="newcomb", compare="diff")
                rec["diff_low"], rec["diff_high"] = float(lo), float(hi)
            rows.append(rec)
    cols = ["SUBGROUP", "VARIABLE", "LEVEL", "n_t", "N_t", "n_c", "N_c", "diff", "diff_low", "diff_high", "ESTIMABLE",
            "p_interaction"]
    return pd.DataFrame(rows, columns=cols)


def forest_plot_rows(status: pd.DataFrame, subjects: pd.DataFrame, visit: str, treatment: str, control: str,
                     subgroups, min_level_size: int = 0) -> pd.DataFrame:
    """The subgroup forest plot's rows: 'All patients' (from `compare_response`; LEVEL and VARIABLE empty,
    p_interaction NaN) then `subgroup_response_differences`, with its columns. Empty when no subgroup has
    two levels."""
    sub = subgroup_response_differences(status, subjects, visit, treatment, control, subgroups,
                                        min_level_size=min_level_size)
    if sub.empty:
        return sub
    overall = compare_response(status, visit, treatment, control)
    low, high = overall["diff_ci"]
    everyone = pd.DataFrame([{
        "SUBGROUP": "All patients", "VARIABLE": "", "LEVEL": "", "n_t": overall["n_t"], "N_t": overall["N_t"],
        "n_c": overall["n_c"], "N_c": overall["N_c"], "diff": overall["diff"], "diff_low": low, "diff_high": high,
        "ESTIMABLE": bool(overall["N_t"] and overall["N_c"]), "p_interaction": np.nan}], columns=sub.columns)
    return pd.concat([everyone, sub], ignore_index=True)


def primary_population(planned: str | None, available, chosen: str) -> tuple[str, bool]:
    """The population of the primary endpoint and whether it is the trial's own: `planned` (the trial's
    primary analysis population from its metadata) when it is among the `available` populations the data
    flag, with True; else the population `chosen` in the sidebar, with False."""
    if planned is not None and planned in available:
        return planned, True
    return chosen, False


def control_arm(arms) -> str | None:
    """The comparator among `arms` (protocol order): the last whose name has a word of
    config.CONTROL_ARM_WORDS, else the last arm; None without arms."""
    arms = list(arms)
    marked = [a for a in arms if any(w in str(a).lower() for w in CONTROL_ARM_WORDS)]
    return (marked or arms or [None])[-1]
