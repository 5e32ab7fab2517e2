"""Time-to-event by arm with lifelines: Kaplan-Meier, numbers at risk, medians, log-rank, Cox HR and
Aalen-Johansen cumulative incidence with competing events (ADTTE CNSR=1 and CMPEVFL='Y')."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .columns import require_columns
from .flags import is_yes
from .response import control_arm

CENSORED, EVENT, COMPETING = 0, 1, 2


def _arms(tte: pd.DataFrame, arms) -> list[str]:
    return [a for a in (arms if arms is not None else pd.unique(tte["ARM"])) if (tte["ARM"] == a).any()]


def _km_fits(tte: pd.DataFrame, arms, alpha: float):
    """(arm, its rows, fitted lifelines KaplanMeierFitter) per arm present; competing events censor."""
    from lifelines import KaplanMeierFitter

    _check_tte(tte)
    for arm in _arms(tte, arms):
        d = tte.loc[tte["ARM"] == arm]
        yield arm, d, KaplanMeierFitter(alpha=alpha).fit(d["TIME"], d["EVENT"] == EVENT)


def tte_parameters(adtte: pd.DataFrame) -> pd.DataFrame:
    """The ADTTE parameters: PARAMCD, PARAM (label, PARAMCD when absent), events, competing (number
    of competing events: CNSR == 1 and CMPEVFL == 'Y'). Requires PARAMCD, CNSR."""
    require_columns(adtte, ["PARAMCD", "CNSR"], "ADTTE")
    comp = (adtte["CNSR"] == 1) & is_yes(adtte["CMPEVFL"]) if "CMPEVFL" in adtte.columns else False
    frame = pd.DataFrame({
        "PARAMCD": adtte["PARAMCD"].astype(str),
        "PARAM": adtte["PARAM"].fillna(adtte["PARAMCD"]).astype(str) if "PARAM" in adtte.columns else adtte["PARAMCD"].astype(str),
        "events": (adtte["CNSR"] == 0).astype(int),
        "competing": pd.Series(comp, index=adtte.index).fillna(False).astype(int),
    })
    return (frame.groupby("PARAMCD", sort=False)
            .agg(PARAM=("PARAM", "first"), events=("events", "sum"), competing=("competing", "sum"))
            .reset_index())


def default_endpoint(parameters: pd.DataFrame) -> str:
    """The endpoint (PARAMCD of `tte_parameters`) shown first: failure-free, overall or progression-free
    survival, else the first parameter."""
    codes = parameters["PARAMCD"]
    return next((c for c in ("FFS", "OS", "PFS") if c in set(codes)), codes.iloc[0])


def tte_data(subjects: pd.DataFrame, adtte: pd.DataFrame, paramcd: str) -> pd.DataFrame:
    """One row per filtered subject with the parameter: USUBJID, ARM, TIME (days), EVENT (1 event,
    2 competing event, 0 censored). Requires ADSL USUBJID, ARM; ADTTE USUBJID, PARAMCD, AVAL, CNSR
    (CMPEVFL used when present)."""
    require_columns(subjects, ["USUBJID", "ARM"], "ADSL")
    require_columns(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], "ADTTE")
    columns = [c for c in ("USUBJID", "AVAL", "CNSR", "CMPEVFL") if c in adtte.columns]
    rows = adtte.loc[adtte["PARAMCD"] == paramcd, columns]  # BDS tables often repeat ADSL columns (ARM)
    rows = rows.merge(subjects[["USUBJID", "ARM"]], on="USUBJID", how="inner")
    competing = (rows["CNSR"] == 1) & is_yes(rows["CMPEVFL"]) if "CMPEVFL" in rows.columns else False
    event = np.where(rows["CNSR"] == 0, EVENT, np.where(competing, COMPETING, CENSORED))
    return pd.DataFrame({
        "USUBJID": rows["USUBJID"].astype(str).to_numpy(),
        "ARM": rows["ARM"].astype(str).to_numpy(),
        "TIME": rows["AVAL"].astype(float).to_numpy(),
        "EVENT": event.astype(int),
    })


def _check_tte(tte: pd.DataFrame) -> None:
    require_columns(tte, ["ARM", "TIME", "EVENT"], "time-to-event data")


def km_by_arm(tte: pd.DataFrame, arms=None, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan-Meier survival per arm (competing events treated as censoring): ARM, TIME, estimate,
    lower, upper (pointwise log-log Greenwood CI from lifelines), one row per distinct time from 0.
    Requires ARM, TIME, EVENT."""
    parts = []
    for arm, _, kmf in _km_fits(tte, arms, alpha):
        ci = kmf.confidence_interval_survival_function_
        parts.append(pd.DataFrame({
            "ARM": arm,
            "TIME": kmf.survival_function_.index.to_numpy(dtype=float),
            "estimate": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "lower": ci.iloc[:, 0].to_numpy(),
            "upper": ci.iloc[:, 1].to_numpy(),
        }))
    return _concat(parts, ["ARM", "TIME", "estimate", "lower", "upper"])


def cumulative_incidence(tte: pd.DataFrame, arms=None, alpha: float = 0.05) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of EVENT == 1 with EVENT == 2 as competing risk, per arm:
    ARM, TIME, estimate, lower, upper (lifelines AalenJohansenFitter; tied times are jittered by it
    with a fixed seed, so results are reproducible). Requires ARM, TIME, EVENT."""
    from lifelines import AalenJohansenFitter

    _check_tte(tte)
    parts = []
    for arm in _arms(tte, arms):
        d = tte.loc[tte["ARM"] == arm]
        if not (d["EVENT"] == EVENT).any():
            parts.append(pd.DataFrame({"ARM": arm, "TIME": [0.0, float(d["TIME"].max())], "estimate": 0.0,
                                       "lower": 0.0, "upper": 0.0}))
            continue
        ajf = AalenJohansenFitter(alpha=alpha, seed=0, calculate_variance=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ajf.fit(d["TIME"], d["EVENT"], event_of_interest=EVENT)
        cif = ajf.cumulative_density_
        ci = ajf.confidence_interval_cumulative_density_
        parts.append(pd.DataFrame({
            "ARM": arm,
            "TIME": cif.index.to_numpy(dtype=float),
            "estimate": cif.iloc[:, 0].to_numpy(),
            "lower": ci.iloc[:, 0].to_numpy(),
            "upper": ci.iloc[:, 1].to_numpy(),
        }))
        start = parts[-1]["estimate"] == 0  # the CI is undefined (NaN) where no event has happened yet
        parts[-1].loc[start, ["lower", "upper"]] = 0.0
    return _concat(parts, ["ARM", "TIME", "estimate", "lower", "upper"])


def estimate_at(curves: pd.DataFrame, time: float) -> pd.DataFrame:
    """Step-function value of each arm's curve at `time`: ARM, TIME, estimate, lower, upper (the last
    row at or before `time`). Requires ARM, TIME, estimate, lower, upper."""
    require_columns(curves, ["ARM", "TIME", "estimate", "lower", "upper"], "curves")
    before = curves.loc[curves["TIME"] <= time].sort_values("TIME")
    out = before.groupby("ARM", sort=False).tail(1).assign(TIME=float(time))
    return out.reset_index(drop=True)


def number_at_risk(tte: pd.DataFrame, times, arms=None) -> pd.DataFrame:
    """Subjects still at risk (TIME >= t) per arm and time: ARM, TIME, at_risk. Requires ARM, TIME."""
    require_columns(tte, ["ARM", "TIME"], "time-to-event data")
    rows = [{"ARM": arm, "TIME": float(t), "at_risk": int(((tte["ARM"] == arm) & (tte["TIME"] >= t)).sum())}
            for arm in _arms(tte, arms) for t in times]
    return pd.DataFrame(rows, columns=["ARM", "TIME", "at_risk"])


def median_by_arm(tte: pd.DataFrame, arms=None, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan-Meier median time per arm with its 95% CI (lifelines median_survival_times on the
    pointwise CI): ARM, N, events, median, lower, upper (days; inf when not reached).
    Requires ARM, TIME, EVENT."""
    from lifelines.utils import median_survival_times

    rows = []
    for arm, d, kmf in _km_fits(tte, arms, alpha):
        ci = median_survival_times(kmf.confidence_interval_)
        rows.append({"ARM": arm, "N": len(d), "events": int((d["EVENT"] == EVENT).sum()),
                     "median": float(kmf.median_survival_time_),
                     "lower": float(ci.iloc[0, 0]), "upper": float(ci.iloc[0, 1])})
    return pd.DataFrame(rows, columns=["ARM", "N", "events", "median", "lower", "upper"])


def logrank_p(tte: pd.DataFrame, arms=None) -> float:
    """Log-rank test p-value across arms (lifelines logrank_test for two arms, multivariate otherwise;
    competing events censored); NaN with fewer than two arms or no events. Requires ARM, TIME, EVENT."""
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    _check_tte(tte)
    arms = _arms(tte, arms)
    d = tte.loc[tte["ARM"].isin(arms)]
    if len(arms) < 2 or not (d["EVENT"] == EVENT).any():
        return float("nan")
    if len(arms) == 2:
        a, b = (d.loc[d["ARM"] == arm] for arm in arms)
        return float(logrank_test(a["TIME"], b["TIME"], a["EVENT"] == EVENT, b["EVENT"] == EVENT).p_value)
    return float(multivariate_logrank_test(d["TIME"], d["ARM"], d["EVENT"] == EVENT).p_value)


def cox_hazard_ratio(tte: pd.DataFrame, treatment: str, control: str, alpha: float = 0.05) -> dict:
    """Cox proportional-hazards HR of treatment vs control (Efron's method for tied times, Wald 95% CI
    and Wald p, as lifelines' CoxPHFitter; with competing events censored this is the cause-specific
    HR): hr, lower, upper, p. NaN without events in both arms or when the fit does not converge.
    The arm is the model's only covariate, so the partial likelihood is computed from the numbers at
    risk and of events per arm at each event time (`_efron_binary_cox`), at any trial size.
    Requires ARM, TIME, EVENT."""
    from scipy import stats

    _check_tte(tte)
    d = tte.loc[tte["ARM"].isin([treatment, control])]
    nan = {"hr": np.nan, "lower": np.nan, "upper": np.nan, "p": np.nan}
    if d["ARM"].nunique() < 2 or not (d["EVENT"] == EVENT).any():
        return nan
    fit = _efron_binary_cox(d["TIME"].to_numpy(dtype=float), (d["EVENT"] == EVENT).to_numpy(),
                            (d["ARM"] == treatment).to_numpy())
    if fit is None:
        return nan
    beta, se = fit
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(over="ignore"):
        return {"hr": float(np.exp(beta)), "lower": float(np.exp(beta - z * se)), "upper": float(np.exp(beta + z * se)),
                "p": float(stats.chi2.sf((beta / se) ** 2, 1))}


def _efron_binary_cox(time: np.ndarray, event: np.ndarray, treated: np.ndarray,
                      max_steps: int = 50, tolerance: float = 1e-9) -> tuple[float, float] | None:
    """(log HR, its standard error) of a Cox model with one 0/1 covariate, Efron's method for ties, by
    Newton-Raphson from 0 with step halving; None when it does not converge (e.g. events in one arm)."""
    event_times, deaths = np.unique(time[event], return_counts=True)
    treated_deaths = np.bincount(np.searchsorted(event_times, time[event & treated]), minlength=len(event_times))
    control_deaths = deaths - treated_deaths
    if not treated_deaths.any() or not control_deaths.any():  # the likelihood rises without end
        return None
    # numbers at risk (time >= t) per arm at each event time
    at_risk_t = len(time[treated]) - np.searchsorted(np.sort(time[treated]), event_times, side="left")
    at_risk_c = len(time[~treated]) - np.searchsorted(np.sort(time[~treated]), event_times, side="left")
    # Efron: the l-th of the D tied deaths (l = 0..D-1) sees the risk set less l/D of the tied deaths
    which = np.repeat(np.arange(len(event_times)), deaths)
    fraction = (np.arange(len(which)) - np.repeat(np.cumsum(deaths) - deaths, deaths)) / deaths[which]
    n_t, n_c = at_risk_t[which] - fraction * treated_deaths[which], at_risk_c[which] - fraction * control_deaths[which]
    total_treated_deaths = treated_deaths.sum()

    def loglik(beta):
        r = np.exp(beta)
        denominator = n_c + n_t * r
        share = n_t * r / denominator
        return (beta * total_treated_deaths - np.log(denominator).sum(), total_treated_deaths - share.sum(),
                (share - share ** 2).sum())

    beta = 0.0
    value, score, information = loglik(beta)
    for _ in range(max_steps):
        if information <= 0:
            return None
        step = score / information
        while True:
            candidate = loglik(beta + step)
            if candidate[0] >= value - 1e-12 or abs(step) < tolerance:
                break
            step /= 2
        beta += step
        value, score, information = candidate
        if abs(step) < tolerance and np.isfinite(beta) and information > 0:
            return beta, float(1 / np.sqrt(information))
    return None


def comparisons_with_control(tte: pd.DataFrame, arms) -> pd.DataFrame:
    """Cox HR (`cox_hazard_ratio`) of every arm of `arms` against the control arm (`response.control_arm`):
    TREATMENT, CONTROL, hr, lower, upper, p, ESTIMABLE (HR and CI finite); empty with fewer than two
    arms. Requires ARM, TIME, EVENT."""
    columns = ["TREATMENT", "CONTROL", "hr", "lower", "upper", "p", "ESTIMABLE"]
    arms = list(arms)
    if len(arms) < 2:
        return pd.DataFrame(columns=columns)
    control = control_arm(arms)
    rows = []
    for arm in (a for a in arms if a != control):
        cox = cox_hazard_ratio(tte, arm, control)
        rows.append({"TREATMENT": arm, "CONTROL": control, **cox,
                     "ESTIMABLE": bool(np.isfinite([cox["hr"], cox["lower"], cox["upper"]]).all())})
    return pd.DataFrame(rows, columns=columns)


def estimates_at_landmarks(curves: pd.DataFrame, last_time: float, times) -> pd.DataFrame:
    """`estimate_at` each landmark of `times` (ascending) up to `last_time` (the longest follow-up): TIME,
    ARM, estimate, lower, upper. Requires the columns of `estimate_at`."""
    parts = [estimate_at(curves, t) for t in times if last_time >= t]
    return _concat(parts, ["ARM", "TIME", "estimate", "lower", "upper"])


def endpoint_events(subjects: pd.DataFrame, adtte: pd.DataFrame, arms) -> pd.DataFrame:
    """Events (EVENT, not censored or competing) and patients per ADTTE endpoint and arm, for the endpoints
    the subjects have data for: PARAMCD, ARM, events, N. Requires the columns of `tte_data`."""
    rows = []
    for paramcd in tte_parameters(adtte)["PARAMCD"]:
        tte = tte_data(subjects, adtte, paramcd)
        if tte.empty:
            continue
        for arm in arms:
            d = tte.loc[tte["ARM"] == arm]
            rows.append({"PARAMCD": paramcd, "ARM": arm, "events": int((d["EVENT"] == EVENT).sum()), "N": len(d)})
    return pd.DataFrame(rows, columns=["PARAMCD", "ARM", "events", "N"])


def endpoint_tests(subjects: pd.DataFrame, adtte: pd.DataFrame, arms) -> pd.DataFrame:
    """Per ADTTE endpoint the subjects have data for, the log-rank p across `arms` and each arm's Cox HR vs
    control (`comparisons_with_control`; competing events censored, so cause-specific where the endpoint has
    them): PARAMCD, COMPETING (bool), LOGRANK_P and the columns of `comparisons_with_control`, one row per
    comparison. Requires the columns of `tte_data`."""
    parts = []
    for p in tte_parameters(adtte).itertuples():
        tte = tte_data(subjects, adtte, p.PARAMCD)
        if tte.empty:
            continue
        comparisons = comparisons_with_control(tte, arms)
        parts.append(comparisons.assign(PARAMCD=p.PARAMCD, COMPETING=bool(p.competing),
                                        LOGRANK_P=logrank_p(tte, arms)))
    columns = ["PARAMCD", "COMPETING", "LOGRANK_P", "TREATMENT", "CONTROL", "hr", "lower", "upper", "p", "ESTIMABLE"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _concat(parts, cols) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
