"""Site key risk indicators (KRIs) with funnel-plot flags, the gsm method.

Each KRI is a numerator and a denominator per site: a *rate* (events per patient-year, queries per
record) or a *binary* proportion (patients discontinued of patients randomized). Following gsm's
`Analyze_NormalApprox` (Gilead's Good Statistical Monitoring), the trial-wide value is
mu = sum(numerators) / sum(denominators), and each site's z-score is

    binary: z = (p_i - mu) / sqrt(phi * mu * (1 - mu) / n_i)
    rate:   z = (r_i - mu) / sqrt(phi * mu / n_i)

where phi, the over-dispersion factor, is the mean of the squared unadjusted z-scores (z with
phi = 1) over the sites. Unlike gsm, phi is floored at 1 (limits are widened for over-dispersion,
never narrowed; Spiegelhalter 2005, Statistics in Medicine 24:1185). Flags use gsm's default
thresholds: |z| >= 3 red, |z| >= 2 amber, else green; the funnel-plot limits are
mu +- threshold * sqrt(phi * var / n) over the range of denominators.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

RED, AMBER, GREEN, NOT_ASSESSED = "red", "amber", "green", "not assessed"
AMBER_Z, RED_Z = 2.0, 3.0  # gsm's default thresholds (-3, -2, 2, 3)
DAYS_PER_YEAR = 365.25
BINARY, RATE = "binary", "rate"


@dataclass(frozen=True)
class KRI:
    """One indicator: what it counts, per what, and how it is analysed."""

    key: str
    label: str
    kind: str  # BINARY or RATE
    unit: str  # how the metric reads, e.g. "AEs per patient-year"
    denominator: str  # what the denominator counts (a site's size on the funnel plot)
    scale: float = 1.0  # display multiplier of the metric (100 for percentages)


KRIS: Mapping[str, KRI] = MappingProxyType({k.key: k for k in (
    KRI("ae_rate", "AE rate", RATE, "AEs per patient-year", "patient-years in the AE collection window"),
    KRI("sae_rate", "SAE rate", RATE, "SAEs per patient-year", "patient-years in the AE collection window"),
    KRI("discontinuation", "Discontinuation", BINARY, "% of patients randomized withdrew (not death)",
        "patients randomized", 100),
    KRI("completeness", "Assessment completeness", BINARY, "% of due response assessments recorded",
        "response assessments due", 100),
    KRI("entry_lag", "Late data entry", BINARY, "% of new records dated before the compared cut",
        "records new since the compared cut", 100),
    KRI("query_rate", "Query rate", RATE, "queries per 100 records", "records (AEs and assessments)", 100),
    KRI("deviation_rate", "Protocol deviations", RATE, "deviations per patient-year", "patient-years on study"),
)})
RESULT_COLUMNS = ("SITEID", "KRI", "NUMERATOR", "DENOMINATOR", "METRIC", "EXPECTED", "PHI", "Z", "FLAG", "TEXT")


def funnel_scores(counts: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Per site: METRIC, EXPECTED (trial-wide mu), PHI, Z and FLAG from NUMERATOR and DENOMINATOR.

    Needs SITEID, NUMERATOR, DENOMINATOR. Sites with a zero denominator are 'not assessed' and
    left out of mu and phi. `kind` is 'binary' or 'rate'.
    """
    missing = [c for c in ("SITEID", "NUMERATOR", "DENOMINATOR") if c not in counts.columns]
    if missing:
        raise ValueError(f"funnel_scores needs columns {missing}")
    if kind not in (BINARY, RATE):
        raise ValueError(f"kind must be {BINARY!r} or {RATE!r}, got {kind!r}")
    out = counts[["SITEID", "NUMERATOR", "DENOMINATOR"]].copy()
    num, den = out["NUMERATOR"].astype(float), out["DENOMINATOR"].astype(float)
    assessed = den > 0
    out["METRIC"] = np.where(assessed, num / den.where(assessed, 1), np.nan)
    mu = num[assessed].sum() / den[assessed].sum() if assessed.any() and den[assessed].sum() > 0 else np.nan
    variance = mu * (1 - mu) if kind == BINARY else mu
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = (out["METRIC"] - mu) / np.sqrt(variance / den)
    z0 = z0.where(assessed & np.isfinite(z0), np.nan) if variance > 0 else pd.Series(0.0, index=out.index).where(assessed)
    phi = max(1.0, float(np.nanmean(z0 ** 2))) if z0.notna().any() else 1.0
    out["EXPECTED"] = mu
    out["PHI"] = phi
    out["Z"] = z0 / np.sqrt(phi)
    out["FLAG"] = np.select([~assessed, out["Z"].abs() >= RED_Z, out["Z"].abs() >= AMBER_Z], [NOT_ASSESSED, RED, AMBER],
                            GREEN)
    return out


def funnel_limits(scores: pd.DataFrame, kind: str, points: int = 100) -> pd.DataFrame:
    """The funnel-plot limits of `funnel_scores` output: DENOMINATOR, then EXPECTED and LOWER/UPPER_2,
    LOWER/UPPER_3 (mu +- 2 and 3 standard errors with over-dispersion) over the range of denominators."""
    assessed = scores.loc[scores["DENOMINATOR"] > 0]
    if assessed.empty:
        return pd.DataFrame(columns=["DENOMINATOR", "EXPECTED", "LOWER_2", "UPPER_2", "LOWER_3", "UPPER_3"])
    mu, phi = float(assessed["EXPECTED"].iloc[0]), float(assessed["PHI"].iloc[0])
    lo, hi = float(assessed["DENOMINATOR"].min()), float(assessed["DENOMINATOR"].max())
    grid = np.linspace(max(lo * 0.8, 1e-9), hi * 1.1, points)
    se = np.sqrt(phi * (mu * (1 - mu) if kind == BINARY else mu) / grid)
    out = pd.DataFrame({"DENOMINATOR": grid, "EXPECTED": mu})
    for z in (AMBER_Z, RED_Z):
        lower = mu - z * se
        upper = mu + z * se
        out[f"LOWER_{z:g}"] = np.clip(lower, 0, None)
        out[f"UPPER_{z:g}"] = np.clip(upper, None, 1) if kind == BINARY else upper
    return out


def flag_text(kri: KRI, row) -> str:
    """The flag in words: the site's value, the trial-wide value, z and the threshold it crossed."""
    if row["FLAG"] == NOT_ASSESSED:
        return f"{kri.label}: not assessed (nothing to count at this site yet)."
    value, expected = row["METRIC"] * kri.scale, row["EXPECTED"] * kri.scale
    z = row["Z"]
    side = "above" if z > 0 else "below"
    base = (f"{kri.label} {value:.2f} {kri.unit} ({int(row['NUMERATOR'])} / {row['DENOMINATOR']:.4g}) vs "
            f"{expected:.2f} trial-wide; z = {z:.2f} with over-dispersion factor {row['PHI']:.2f}")
    if row["FLAG"] == RED:
        return f"{base}: red, {side} the |z| >= {RED_Z:g} limit."
    if row["FLAG"] == AMBER:
        return f"{base}: amber, {side} the |z| >= {AMBER_Z:g} limit (red at {RED_Z:g})."
    return f"{base}: green, within |z| < {AMBER_Z:g}."


def site_kris(subjects: pd.DataFrame, adae: pd.DataFrame | None, adrs: pd.DataFrame | None, cutoff, *,
              visit_days=(), visit_windows: Mapping[int, int] | None = None, ae_collection_days: int | None = None,
              previous: Mapping[str, pd.DataFrame | None] | None = None, previous_cutoff=None,
              queries: pd.DataFrame | None = None, deviations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every KRI the data allow, per site of the randomized `subjects` (one row per site and KRI).

    subjects: ADSL rows (SITEID, USUBJID, RANDDT, EOSSTT, EOSDT, DCSREAS, DTHFL, DTHDT). AE rates
    need ADAE (USUBJID, AESER), counted over each patient's AE collection window; completeness needs
    ADRS (USUBJID, PARAMCD, AVISITN) and the visit days; late data entry needs the `previous` cut's
    tables and date; the query and deviation rates need those optional tables (USUBJID per row).
    Returns RESULT_COLUMNS; TEXT states each flag in words.
    """
    missing = [c for c in ("USUBJID", "SITEID", "RANDDT") if c not in subjects.columns]
    if missing:
        raise ValueError(f"site_kris needs ADSL columns {missing}")
    cut = pd.Timestamp(cutoff)
    subjects = subjects.loc[subjects["RANDDT"].notna()]
    sites = pd.Index(sorted(subjects["SITEID"].dropna().unique()), name="SITEID")
    site_of = subjects.set_index("USUBJID")["SITEID"]
    counts: dict[str, pd.DataFrame] = {}
    years_ae = _patient_years(subjects, cut, ae_collection_days).groupby(subjects["SITEID"]).sum()
    if adae is not None:
        ae = adae.loc[adae["USUBJID"].isin(site_of.index)]
        counts["ae_rate"] = _per_site(sites, ae["USUBJID"].map(site_of).value_counts(), years_ae)
        serious = ae.loc[ae["AESER"] == "Y"]
        counts["sae_rate"] = _per_site(sites, serious["USUBJID"].map(site_of).value_counts(), years_ae)
    if {"EOSSTT", "DCSREAS"} <= set(subjects.columns):
        withdrew = (subjects["EOSSTT"] == "DISCONTINUED") & (subjects["DCSREAS"] != "Death")
        if "DTHFL" in subjects:
            withdrew &= subjects["DTHFL"] != "Y"
        counts["discontinuation"] = _per_site(sites, subjects.loc[withdrew, "SITEID"].value_counts(),
                                              subjects["SITEID"].value_counts())
    if adrs is not None and len(visit_days):
        done, due = _assessments(subjects, adrs, cut, visit_days, visit_windows or {})
        counts["completeness"] = _per_site(sites, done, due)
    if previous is not None and previous_cutoff is not None:
        late, new = _late_entries(subjects, adae, adrs, previous, pd.Timestamp(previous_cutoff))
        counts["entry_lag"] = _per_site(sites, late, new)
    if queries is not None:
        records = pd.concat([t["USUBJID"] for t in (adae, adrs) if t is not None]) if (adae is not None or adrs is not None) \
            else pd.Series(dtype=object)
        counts["query_rate"] = _per_site(sites, queries["USUBJID"].map(site_of).value_counts(),
                                         records.map(site_of).value_counts())
    if deviations is not None:
        years = _patient_years(subjects, cut, None).groupby(subjects["SITEID"]).sum()
        counts["deviation_rate"] = _per_site(sites, deviations["USUBJID"].map(site_of).value_counts(), years)
    parts = []
    for key, frame in counts.items():
        kri = KRIS[key]
        scored = funnel_scores(frame, kri.kind)
        scored.insert(1, "KRI", key)
        scored["TEXT"] = [flag_text(kri, row) for _, row in scored.iterrows()]
        parts.append(scored)
    if not parts:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(RESULT_COLUMNS)]


def kri_heat_table(results: pd.DataFrame) -> pd.DataFrame:
    """Site x KRI table of flags (rows: sites; columns: KRI labels), from `site_kris` output."""
    table = results.pivot(index="SITEID", columns="KRI", values="FLAG")
    table = table[[k for k in KRIS if k in table.columns]]
    table.columns = [KRIS[k].label for k in table.columns]
    table.columns.name = None
    return table.reset_index()


def _per_site(sites: pd.Index, numerator: pd.Series, denominator: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"SITEID": sites,
                         "NUMERATOR": numerator.reindex(sites, fill_value=0).astype(float).to_numpy(),
                         "DENOMINATOR": denominator.reindex(sites, fill_value=0).astype(float).to_numpy()})


def _patient_years(subjects: pd.DataFrame, cut: pd.Timestamp, window_days: int | None) -> pd.Series:
    """Years each patient was followed from randomization to the earliest of end of study, death and
    the cut (and the end of the collection window, when given)."""
    end = pd.Series(cut, index=subjects.index)
    for col in ("EOSDT", "DTHDT"):
        if col in subjects:
            end = end.where(subjects[col].isna() | (subjects[col] > end), subjects[col])
    if window_days is not None:
        limit = subjects["RANDDT"] + pd.Timedelta(days=int(window_days))
        end = end.where(end <= limit, limit)
    return ((end - subjects["RANDDT"]).dt.days.clip(lower=0) + 1) / DAYS_PER_YEAR


def _assessments(subjects, adrs, cut, visit_days, windows) -> tuple[pd.Series, pd.Series]:
    """(recorded, due) overall-response assessments per site: a visit is due when its window closed by
    the cut while the patient was alive and on study; it is recorded when ADRS has it."""
    rows = []
    on_study_until = pd.Series(cut, index=subjects.index)
    for col in ("EOSDT", "DTHDT"):
        if col in subjects:
            on_study_until = on_study_until.where(subjects[col].isna() | (subjects[col] > on_study_until), subjects[col])
    for day in visit_days:
        visit = subjects["RANDDT"] + pd.Timedelta(days=int(day))
        closes = visit + pd.Timedelta(days=int(windows.get(day, 0)))
        due = (closes <= cut) & (visit <= on_study_until)
        rows.append(pd.DataFrame({"USUBJID": subjects.loc[due, "USUBJID"], "SITEID": subjects.loc[due, "SITEID"],
                                  "AVISITN": float(day)}))
    due = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["USUBJID", "SITEID", "AVISITN"])
    recorded = adrs.loc[adrs["PARAMCD"] == "OVRLRESP", ["USUBJID", "AVISITN"]].drop_duplicates()
    done = due.merge(recorded, on=["USUBJID", "AVISITN"], how="inner")
    return done["SITEID"].value_counts(), due["SITEID"].value_counts()


def _late_entries(subjects, adae, adrs, previous, previous_cut) -> tuple[pd.Series, pd.Series]:
    """(late, new) records per site: records new since the previous cut, and those among them dated on
    or before it (entered after that cut although they had happened)."""
    site_of = subjects.set_index("USUBJID")["SITEID"]
    late, new = [], []
    for name, key, date in (("adae", ["USUBJID", "AEDECOD", "ASTDT"], "ASTDT"), ("adrs", ["USUBJID", "PARAMCD", "ADT"], "ADT")):
        now = adae if name == "adae" else adrs
        before = previous.get(name)
        if now is None or before is None:
            continue
        merged = now[key].merge(before[key].drop_duplicates(), on=key, how="left", indicator=True)
        added = merged.loc[merged["_merge"] == "left_only"]
        new.append(added["USUBJID"])
        late.append(added.loc[added[date] <= previous_cut, "USUBJID"])
    if not new:
        return pd.Series(dtype=float), pd.Series(dtype=float)
    return pd.concat(late).map(site_of).value_counts(), pd.concat(new).map(site_of).value_counts()


# --- across data cuts -----------------------------------------------------------------------------


def kri_history(results_by_cut: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """`site_kris` results of several cuts in one frame (CUT first), in the order given."""
    parts = [r.assign(CUT=cut) for cut, r in results_by_cut.items()]
    if not parts:
        return pd.DataFrame(columns=["CUT", *RESULT_COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    return out[["CUT", *RESULT_COLUMNS]]


def kri_history_table(history: pd.DataFrame, kri: str) -> pd.DataFrame:
    """One KRI across cuts: a row per site, a column per cut, each cell the flag and the value."""
    kri_def = KRIS[kri]
    rows = history.loc[history["KRI"] == kri]
    cells = rows.assign(CELL=[f"{flag} ({metric * kri_def.scale:.2f})" if flag != NOT_ASSESSED else flag
                              for flag, metric in zip(rows["FLAG"], rows["METRIC"])])
    table = cells.pivot(index="SITEID", columns="CUT", values="CELL")
    table = table[[c for c in dict.fromkeys(history["CUT"]) if c in table.columns]].fillna("not in this cut")
    table.columns.name = None
    return table.reset_index()


def forecast_backtest(forecasts: Mapping[str, object], final_randomization_dates: pd.Series, target: int,
                      level: float = 0.8) -> pd.DataFrame:
    """The enrollment forecast made at each cut against what happened.

    forecasts: {cut: EnrollmentForecast}; final_randomization_dates: RANDDT of the randomized patients in
    the latest data. One row per cut: CUT, RANDOMIZED (at the cut), STATUS, MEDIAN, LOWER, UPPER (the
    `level` prediction interval), ACTUAL (date the target-th patient was randomized, NaT if not yet),
    ERROR_DAYS (median - actual) and IN_INTERVAL.
    """
    dates = pd.Series(final_randomization_dates).dropna().sort_values()
    actual = dates.iloc[target - 1] if len(dates) >= target else pd.NaT
    rows = []
    for cut, forecast in forecasts.items():
        median = forecast.median if forecast.status == "forecast" else pd.NaT
        lower, upper = forecast.interval(level) if forecast.status == "forecast" else (pd.NaT, pd.NaT)
        known = pd.notna(median) and pd.notna(actual)
        rows.append({"CUT": cut, "RANDOMIZED": forecast.current, "STATUS": forecast.status, "MEDIAN": median,
                     "LOWER": lower, "UPPER": upper, "ACTUAL": actual,
                     "ERROR_DAYS": (median - actual).days if known else np.nan,
                     "IN_INTERVAL": bool(lower <= actual <= upper) if known else None})
    return pd.DataFrame(rows, columns=["CUT", "RANDOMIZED", "STATUS", "MEDIAN", "LOWER", "UPPER", "ACTUAL",
                                       "ERROR_DAYS", "IN_INTERVAL"])
