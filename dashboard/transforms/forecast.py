"""Enrollment forecast: when will the target be reached? Poisson-gamma recruitment model, simulated.

Model (Anisimov & Fedorov 2007, Statistics in Medicine 26:4958): site i recruits as a Poisson
process with rate lambda_i from its activation date, and the rates vary between sites as
Gamma(alpha, beta). Given k_i patients over tau_i months active, lambda_i has the posterior
Gamma(alpha + k_i, beta + tau_i). Here alpha and beta are not fixed at point estimates: their
likelihood (negative binomial over sites) is evaluated on a grid with a flat prior on log alpha and
log mean rate, so uncertainty about the recruitment rate itself widens the bands when there are few
sites or few patients. Sites not yet active start at their activation date with a rate drawn from
Gamma(alpha, beta). Completion is the date the remaining patients are recruited, by simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import gammaln

from ..config import (DAYS_PER_MONTH, FORECAST_LEVELS, FORECAST_MIN_MONTHS, FORECAST_MIN_PATIENTS,
                      FORECAST_SIMULATIONS)

MODEL_NAME = "Poisson-gamma recruitment model (Anisimov & Fedorov 2007)"
MODEL_HELP = (
    "Forecast: " + MODEL_NAME + ". Each site recruits as a Poisson process from its activation date; "
    "site rates vary as a gamma distribution whose parameters are estimated from all sites (with their "
    "uncertainty), each site's rate is updated by its own patients and months active, and sites not yet "
    "active join at their activation date. {n} simulated futures give the median completion date and "
    "the 80% and 95% prediction bands. It assumes recruitment continues as observed: no new sites "
    "beyond those listed and no pauses."
)
HORIZON_MONTHS = 600.0
STATUS_FORECAST, STATUS_REACHED, STATUS_INSUFFICIENT = "forecast", "reached", "insufficient"
_ALPHA_GRID = np.geomspace(0.25, 1000.0, 41)
_BAND_POINTS = 60


def _quantiles() -> tuple[float, ...]:
    qs = {0.5}
    for level in FORECAST_LEVELS:
        qs |= {round((1 - level) / 2, 4), round(1 - (1 - level) / 2, 4)}
    return tuple(sorted(qs))


@dataclass(frozen=True)
class EnrollmentForecast:
    """Result of `forecast_completion`: status, message, completion-date quantiles and accrual bands."""

    status: str
    message: str
    target: int
    current: int
    cutoff: pd.Timestamp
    completion: pd.Series = field(default_factory=lambda: pd.Series(dtype="datetime64[ns]"))
    bands: pd.DataFrame = field(default_factory=pd.DataFrame)
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    mean_rate: float | None = None
    rate_cv: float | None = None
    reached_on: pd.Timestamp | None = None
    simulations: int = 0
    seed: int | None = None

    def interval(self, level: float) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Prediction interval of the completion date at `level` (e.g. 0.8)."""
        lo, hi = round((1 - level) / 2, 4), round(1 - (1 - level) / 2, 4)
        return self.completion[lo], self.completion[hi]

    @property
    def median(self) -> pd.Timestamp | None:
        return self.completion.get(0.5)

    draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    """Simulated completion times (months after the cut), sorted."""

    def probability_by(self, date) -> float | None:
        """Share of simulated futures reaching the target by `date` (None without a forecast)."""
        if self.status != STATUS_FORECAST:
            return None
        months = (pd.Timestamp(date) - self.cutoff).days / DAYS_PER_MONTH
        return float(np.searchsorted(self.draws, months, side="right") / len(self.draws))


def _site_table(subjects: pd.DataFrame, activation: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    rand = subjects.loc[subjects["RANDDT"].notna() & (subjects["RANDDT"] <= cutoff)]
    counts = rand["SITEID"].astype(str).value_counts()
    sites = activation.loc[activation["ACTIVDT"].notna(), ["SITEID", "ACTIVDT"]].copy()
    sites["SITEID"] = sites["SITEID"].astype(str)
    # A site with patients before its recorded activation date started at its first patient.
    first = rand.groupby(rand["SITEID"].astype(str))["RANDDT"].min()
    sites["ACTIVDT"] = sites[["ACTIVDT"]].assign(F=sites["SITEID"].map(first)).min(axis=1)
    sites["N"] = sites["SITEID"].map(counts).fillna(0).astype(int)
    sites["MONTHS_ACTIVE"] = ((cutoff - sites["ACTIVDT"]).dt.days.clip(lower=0) / DAYS_PER_MONTH).astype(float)
    sites["STARTS_IN"] = ((sites["ACTIVDT"] - cutoff).dt.days.clip(lower=0) / DAYS_PER_MONTH).astype(float)
    return sites.reset_index(drop=True)


def rate_posterior_grid(counts: np.ndarray, months: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid posterior of (alpha, beta) under a flat prior on log alpha and log mean rate.

    `counts` and `months` are per active site. Returns (alpha, beta, weight) arrays over the grid;
    weights sum to 1. The likelihood is the Poisson-gamma (negative binomial) marginal of each site.
    """
    k = np.asarray(counts, dtype=float)
    tau = np.asarray(months, dtype=float)
    total_k, total_tau = k.sum(), tau.sum()
    centre = np.log(max(total_k, 0.5) / total_tau)
    spread = 6.0 / np.sqrt(max(total_k, 1.0)) + 0.5
    means = np.exp(np.linspace(centre - spread, centre + spread, 81))
    alpha = np.repeat(_ALPHA_GRID, len(means))
    mean = np.tile(means, len(_ALPHA_GRID))
    beta = alpha / mean
    a, b = alpha[:, None], beta[:, None]
    loglik = (gammaln(a + k) - gammaln(a) - gammaln(k + 1) + a * np.log(b / (b + tau))
              + k * np.log(np.where(tau > 0, tau, 1.0) / (b + tau))).sum(axis=1)
    weight = np.exp(loglik - loglik.max())
    return alpha, beta, weight / weight.sum()


def forecast_completion(subjects: pd.DataFrame, activation: pd.DataFrame, cutoff, target: int, *,
                        simulations: int = FORECAST_SIMULATIONS, seed: int = 0) -> EnrollmentForecast:
    """Forecast the date `target` randomized patients are reached, with prediction bands.

    Requires SITEID, RANDDT in `subjects` (randomized patients of the sites forecast) and SITEID,
    ACTIVDT in `activation` (one row per site; see `enrollment.site_activation`). Honest states:
    status 'reached' (with the date the target-th patient was randomized) when the target is met,
    'insufficient' when fewer than FORECAST_MIN_PATIENTS patients or FORECAST_MIN_MONTHS months of
    recruitment exist. Seeded: the same inputs and seed give the same forecast.
    """
    for frame, columns, what in ((subjects, ("SITEID", "RANDDT"), "subjects"),
                                 (activation, ("SITEID", "ACTIVDT"), "activation")):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(f"forecast_completion ({what}) needs column(s) {', '.join(missing)}")
    if target is None or int(target) <= 0:
        raise ValueError(f"forecast_completion needs a positive enrollment target, got {target!r}")
    target = int(target)
    cutoff = pd.Timestamp(cutoff).normalize()
    dates = subjects.loc[subjects["RANDDT"].notna() & (subjects["RANDDT"] <= cutoff), "RANDDT"].sort_values()
    current = len(dates)
    base = dict(target=target, current=current, cutoff=cutoff)
    if current >= target:
        reached = dates.iloc[target - 1]
        return EnrollmentForecast(
            STATUS_REACHED,
            f"Target reached: the {target}th patient was randomized on {reached.date()} "
            f"({current} randomized by the data cut {cutoff.date()}); no forecast needed.",
            reached_on=reached, **base)
    sites = _site_table(subjects, activation, cutoff)
    active = sites.loc[sites["MONTHS_ACTIVE"] > 0]
    months = float((cutoff - sites["ACTIVDT"].min()).days / DAYS_PER_MONTH) if len(sites) else 0.0
    if current < FORECAST_MIN_PATIENTS or months < FORECAST_MIN_MONTHS or active.empty:
        return EnrollmentForecast(
            STATUS_INSUFFICIENT,
            f"Too little data to forecast: {current} patient{'s' if current != 1 else ''} over {months:.1f} "
            f"months of recruitment by {cutoff.date()} (a forecast needs at least {FORECAST_MIN_PATIENTS} "
            f"patients and {FORECAST_MIN_MONTHS:g} months).",
            sites=sites, **base)

    rng = np.random.default_rng(seed)
    alpha, beta, weight = rate_posterior_grid(active["N"].to_numpy(), active["MONTHS_ACTIVE"].to_numpy())
    pick = rng.choice(len(weight), size=simulations, p=weight)
    a, b = alpha[pick][:, None], beta[pick][:, None]
    k, tau = sites["N"].to_numpy(float), sites["MONTHS_ACTIVE"].to_numpy(float)
    rates = rng.gamma(a + k, 1.0 / (b + tau))  # (simulations, sites), patients per month
    starts = sites["STARTS_IN"].to_numpy(float)

    remaining = target - current
    need = rng.gamma(remaining, 1.0, size=simulations)  # cumulative intensity of the remaining-th arrival
    t_done = _inverse_intensity(rates, starts, need)
    t_done = np.minimum(t_done, HORIZON_MONTHS)

    quantiles = _quantiles()
    q_months = np.quantile(t_done, quantiles)
    completion = pd.Series([_to_date(cutoff, m) for m in q_months], index=list(quantiles))
    horizon = float(min(max(q_months[-1], 1.0) * 1.05, HORIZON_MONTHS))
    grid = np.linspace(0.0, horizon, _BAND_POINTS)
    intensity = rates @ np.clip(grid[None, :] - starts[:, None], 0.0, None)  # (simulations, grid)
    counts = np.minimum(current + rng.poisson(intensity), target)
    band_q = np.quantile(counts, quantiles, axis=0)
    bands = pd.DataFrame({"DATE": [_to_date(cutoff, m) for m in grid]})
    for q, row in zip(quantiles, band_q):
        bands[f"Q{q:g}"] = row
    mean_rate = float(np.sum(weight * alpha / beta))
    cv = float(np.sum(weight / np.sqrt(alpha)))
    posterior = sites.assign(RATE_MEAN=rates.mean(axis=0).round(3))
    lo80, hi80 = completion[quantiles[1]], completion[quantiles[-2]]
    beyond = " (beyond the 50-year horizon)" if q_months[-1] >= HORIZON_MONTHS else ""
    message = (f"Target of {target} forecast for {completion[0.5].date()} (80% prediction band "
               f"{lo80.date()} to {hi80.date()}; 95% band {completion[quantiles[0]].date()} to "
               f"{completion[quantiles[-1]].date()}{beyond}), from {current} patients at {len(active)} "
               f"active site{'s' if len(active) != 1 else ''} by {cutoff.date()}.")
    return EnrollmentForecast(STATUS_FORECAST, message, completion=completion, bands=bands, sites=posterior,
                              mean_rate=mean_rate, rate_cv=cv, simulations=simulations, seed=seed,
                              draws=np.sort(t_done), **base)


def _inverse_intensity(rates: np.ndarray, starts: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Months after the cut at which each simulation's cumulative intensity reaches `need`.

    Intensity of simulation s at t months is sum_i rates[s, i] * max(0, t - starts[i]): piecewise
    linear with breakpoints at the site start times.
    """
    breaks = np.unique(np.concatenate([[0.0], starts]))
    slope = np.stack([(rates * (starts <= t)).sum(axis=1) for t in breaks], axis=1)  # (sims, segments)
    widths = np.diff(breaks)
    cum = np.concatenate([np.zeros((len(rates), 1)), np.cumsum(slope[:, :-1] * widths, axis=1)], axis=1)
    segment = (cum <= need[:, None]).sum(axis=1) - 1
    rows = np.arange(len(rates))
    s = slope[rows, segment]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = breaks[segment] + (need - cum[rows, segment]) / s
    return np.where(s > 0, t, np.inf)


def _to_date(cutoff: pd.Timestamp, months: float) -> pd.Timestamp:
    return (cutoff + pd.Timedelta(days=float(months) * DAYS_PER_MONTH)).normalize()
