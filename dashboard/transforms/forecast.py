"""Enrollment forecast: when will the target be reached? Poisson-gamma recruitment model, simulated.

Model (Anisimov & Fedorov 2007, Statistics in Medicine 26:4958): site i recruits as a Poisson
process with rate lambda_i from its activation date, and the rates vary between sites as
Gamma(alpha, beta). Given k_i patients over tau_i months active, lambda_i has the posterior
Gamma(alpha + k_i, beta + tau_i). Two extensions: a start-up period (a site's rate in its first
FORECAST_RAMP_UP_MONTHS is rho * lambda_i, so its exposure is rho * tau_ramp + tau_after, with rho
estimated from every site's early and later patients; rho = 1 is the plain model), and parameter
uncertainty: alpha, beta and rho are not fixed at point estimates but weighted by their likelihood
(negative binomial over sites) on a grid with flat priors on log alpha, log mean rate and log rho,
so the bands widen when there are few sites or few patients. Recruitment that is burstier than
Poisson from month to month (seasons, holidays, staff changes) is allowed for by a quasi-Poisson
dispersion phi >= 1 estimated from the sites' monthly counts (Pearson statistic): counts and
exposures enter the rate posteriors divided by phi, and future recruitment has variance phi times
its mean. Sites not yet active start at their activation date with a rate drawn from
Gamma(alpha, beta). Completion is the date the remaining patients are recruited, by simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import (DAYS_PER_MONTH, FORECAST_LEVELS, FORECAST_MIN_MONTHS, FORECAST_MIN_PATIENTS,
                      FORECAST_RAMP_UP_MONTHS, FORECAST_SIMULATIONS)
from .enrollment import activation_at

MODEL_NAME = "Poisson-gamma recruitment model (Anisimov & Fedorov 2007)"
MODEL_HELP = (
    "Forecast: " + MODEL_NAME + ". Each site recruits as a Poisson process from its activation date; "
    "site rates vary as a gamma distribution whose parameters are estimated from all sites (with their "
    "uncertainty), each site's rate is updated by its own patients and months active, a site's first "
    f"{FORECAST_RAMP_UP_MONTHS:g} months recruit at a start-up fraction of its rate estimated from all sites, "
    "month-to-month variation beyond Poisson (estimated from the sites' monthly counts) widens the bands, and "
    "sites not yet active join at their activation date. {n} simulated futures give the median completion date and "
    "the 80% and 95% prediction bands. It assumes recruitment continues as observed: no new sites "
    "beyond those listed and no pauses."
)
HORIZON_MONTHS = 600.0
STATUS_FORECAST, STATUS_REACHED, STATUS_INSUFFICIENT = "forecast", "reached", "insufficient"
_ALPHA_GRID = np.geomspace(0.25, 1000.0, 41)
_RHO_GRID = np.geomspace(0.2, 1.5, 12)
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
    ramp_rate: float | None = None
    dispersion: float | None = None
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
    months_in = (rand["RANDDT"] - rand["SITEID"].astype(str).map(sites.set_index("SITEID")["ACTIVDT"])).dt.days
    early = rand.loc[months_in.to_numpy() / DAYS_PER_MONTH < FORECAST_RAMP_UP_MONTHS, "SITEID"].astype(str)
    sites["N_RAMP"] = sites["SITEID"].map(early.value_counts()).fillna(0).astype(int)
    sites["MONTHS_RAMP"] = sites["MONTHS_ACTIVE"].clip(upper=FORECAST_RAMP_UP_MONTHS)
    return sites.reset_index(drop=True)


def rate_posterior_grid(counts: np.ndarray, months: np.ndarray, ramp_counts: np.ndarray | None = None,
                        ramp_months: np.ndarray | None = None, dispersion: float = 1.0) -> tuple[np.ndarray, ...]:
    """Grid posterior of (alpha, beta, rho) under flat priors on log alpha, log mean rate and log rho.

    Per active site: `counts` patients over `months` active, of which `ramp_counts` over the first
    `ramp_months` (the start-up period, rate rho * lambda). Without the ramp arguments rho is 1.
    Counts and months are divided by `dispersion` (quasi-likelihood). Returns (alpha, beta, rho,
    weight) arrays over the grid; weights sum to 1. The likelihood is the Poisson-gamma (negative
    binomial) marginal of each site.
    """
    from scipy.special import gammaln
    phi = float(dispersion)
    k = np.asarray(counts, dtype=float) / phi
    tau = np.asarray(months, dtype=float) / phi
    k_r = np.zeros_like(k) if ramp_counts is None else np.asarray(ramp_counts, dtype=float) / phi
    tau_r = np.zeros_like(tau) if ramp_months is None else np.asarray(ramp_months, dtype=float) / phi
    rhos = np.ones(1) if ramp_counts is None else _RHO_GRID
    total_k, total_tau = k.sum(), tau.sum()
    centre = np.log(max(total_k, 0.5) / total_tau)
    spread = 6.0 / np.sqrt(max(total_k, 1.0)) + 0.5
    means = np.exp(np.linspace(centre - spread, centre + spread, 81))
    alpha, mean, rho = (g.ravel() for g in np.meshgrid(_ALPHA_GRID, means, rhos, indexing="ij"))
    beta = alpha / mean
    a, b, r = alpha[:, None], beta[:, None], rho[:, None]
    exposure = r * tau_r + (tau - tau_r)
    loglik = (gammaln(a + k) - gammaln(a) + a * np.log(b) - (a + k) * np.log(b + exposure)
              + k_r * np.log(r)).sum(axis=1)
    weight = np.exp(loglik - loglik.max())
    return alpha, beta, rho, weight / weight.sum()


def dispersion(subjects: pd.DataFrame, sites: pd.DataFrame, cutoff: pd.Timestamp, rho: float = 1.0) -> float:
    """Quasi-Poisson dispersion (>= 1) of the active sites' monthly randomization counts.

    `sites` is the site table of `forecast_completion` (SITEID, ACTIVDT, N, MONTHS_ACTIVE). Each
    site's whole months since activation are compared with its own constant rate (rho times it in
    the start-up months) by the Pearson statistic over degrees of freedom; 1 when there is too
    little to tell.
    """
    full = sites.loc[sites["MONTHS_ACTIVE"] >= 1].set_index("SITEID")
    if full.empty:
        return 1.0
    rand = subjects.loc[subjects["RANDDT"].notna() & (subjects["RANDDT"] <= cutoff)]
    site = rand["SITEID"].astype(str)
    rand = rand.loc[site.isin(full.index)]
    site = site.loc[rand.index]
    month = ((rand["RANDDT"] - site.map(full["ACTIVDT"])).dt.days / DAYS_PER_MONTH).astype(float)
    n_months = np.floor(full["MONTHS_ACTIVE"].to_numpy()).astype(int)
    index = np.concatenate([[0], np.cumsum(n_months)])
    position = full.index.get_indexer(site)
    inside = month.to_numpy() < n_months[position]
    cell = index[position[inside]] + np.floor(month.to_numpy()[inside]).astype(int)
    observed = np.bincount(cell, minlength=index[-1]).astype(float)
    j = np.concatenate([np.arange(m) for m in n_months]).astype(float)
    ramp = np.clip(FORECAST_RAMP_UP_MONTHS - j, 0.0, 1.0)
    weight = rho * ramp + (1.0 - ramp)
    site_of = np.repeat(np.arange(len(full)), n_months)
    rate = np.bincount(site_of, observed) / np.bincount(site_of, weight)
    expected = rate[site_of] * weight
    use = expected > 0
    df = int(use.sum()) - int((rate > 0).sum()) - 1
    if df < 1:
        return 1.0
    pearson = float(np.sum((observed[use] - expected[use]) ** 2 / expected[use]))
    return max(1.0, pearson / df)


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
    data = [active[c].to_numpy() for c in ("N", "MONTHS_ACTIVE", "N_RAMP", "MONTHS_RAMP")]
    alpha, beta, rho, weight = rate_posterior_grid(*data)
    phi = dispersion(subjects, sites, cutoff, float(np.sum(weight * rho)))
    if phi > 1.0:
        alpha, beta, rho, weight = rate_posterior_grid(*data, dispersion=phi)
    pick = rng.choice(len(weight), size=simulations, p=weight)
    a, b, r = alpha[pick][:, None], beta[pick][:, None], rho[pick]
    k, tau = sites["N"].to_numpy(float), sites["MONTHS_ACTIVE"].to_numpy(float)
    tau_r = sites["MONTHS_RAMP"].to_numpy(float)
    exposure = r[:, None] * tau_r + tau - tau_r
    rates = rng.gamma(a + k / phi, 1.0 / (b + exposure / phi))  # (simulations, sites), per month
    starts = sites["STARTS_IN"].to_numpy(float)
    ramp_ends = starts + FORECAST_RAMP_UP_MONTHS - tau_r  # when each site leaves its start-up period

    remaining = target - current
    # cumulative intensity of the remaining-th arrival (mean `remaining`, variance phi * remaining)
    need = rng.gamma(remaining / phi, phi, size=simulations)
    t_done = _inverse_intensity(rates, r, starts, ramp_ends, need)
    t_done = np.minimum(t_done, HORIZON_MONTHS)

    quantiles = _quantiles()
    q_months = np.quantile(t_done, quantiles)
    completion = pd.Series([_to_date(cutoff, m) for m in q_months], index=list(quantiles))
    horizon = float(min(max(q_months[-1], 1.0) * 1.05, HORIZON_MONTHS))
    grid = np.linspace(0.0, horizon, _BAND_POINTS)
    intensity = _intensity(rates, r, starts, ramp_ends, grid)  # (simulations, grid)
    if phi > 1.0:
        intensity = rng.gamma(intensity / (phi - 1.0) + 1e-12, phi - 1.0)  # negative binomial counts
    counts = np.minimum(current + rng.poisson(intensity), target)
    band_q = np.quantile(counts, quantiles, axis=0)
    bands = pd.DataFrame({"DATE": [_to_date(cutoff, m) for m in grid]})
    for q, row in zip(quantiles, band_q):
        bands[f"Q{q:g}"] = row
    mean_rate = float(np.sum(weight * alpha / beta))
    cv = float(np.sum(weight / np.sqrt(alpha)))
    posterior = sites.assign(RATE_MEAN=rates.mean(axis=0).round(3))
    ramp_rate = float(np.sum(weight * rho))
    lo80, hi80 = completion[quantiles[1]], completion[quantiles[-2]]
    beyond = " (beyond the 50-year horizon)" if q_months[-1] >= HORIZON_MONTHS else ""
    message = (f"Target of {target} forecast for {completion[0.5].date()} (80% prediction band "
               f"{lo80.date()} to {hi80.date()}; 95% band {completion[quantiles[0]].date()} to "
               f"{completion[quantiles[-1]].date()}{beyond}), from {current} patients at {len(active)} "
               f"active site{'s' if len(active) != 1 else ''} by {cutoff.date()}.")
    return EnrollmentForecast(STATUS_FORECAST, message, completion=completion, bands=bands, sites=posterior,
                              mean_rate=mean_rate, rate_cv=cv, ramp_rate=ramp_rate, dispersion=phi,
                              simulations=simulations, seed=seed,
                              draws=np.sort(t_done), **base)


def _intensity(rates: np.ndarray, rho: np.ndarray, starts: np.ndarray, ramp_ends: np.ndarray,
               t: np.ndarray) -> np.ndarray:
    """Cumulative intensity (simulations, times) at `t` months after the cut: site i recruits at
    rho * rate from `starts[i]` to `ramp_ends[i]`, then at its full rate."""
    t = np.asarray(t, dtype=float)[None, :]
    ramp = np.clip(np.minimum(t, ramp_ends[:, None]) - starts[:, None], 0.0, None)
    after = np.clip(t - np.maximum(ramp_ends, starts)[:, None], 0.0, None)
    return rho[:, None] * (rates @ ramp) + rates @ after


def _inverse_intensity(rates: np.ndarray, rho: np.ndarray, starts: np.ndarray, ramp_ends: np.ndarray,
                       need: np.ndarray) -> np.ndarray:
    """Months after the cut at which each simulation's cumulative intensity reaches `need`.

    The intensity is piecewise linear with breakpoints at the sites' start and ramp-end times.
    """
    breaks = np.unique(np.concatenate([[0.0], starts, ramp_ends[ramp_ends > 0]]))
    in_ramp = (starts[None, :] <= breaks[:, None]) & (breaks[:, None] < ramp_ends[None, :])  # (segments, sites)
    full = (starts[None, :] <= breaks[:, None]) & (breaks[:, None] >= ramp_ends[None, :])
    slope = rho[:, None] * (rates @ in_ramp.T) + rates @ full.T  # (simulations, segments)
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


def forecast_for_sites(subjects: pd.DataFrame, activation: pd.DataFrame, site_ids, cutoff, target: int,
                       closed=None) -> EnrollmentForecast | None:
    """`forecast_completion` for the patients of the chosen sites (every site when `site_ids` is empty);
    None for a subset of sites once the trial has closed enrollment (`closed`, see
    `enrollment.enrollment_closed`): their remaining patients will never come."""
    if len(site_ids) and closed is not None:
        return None
    return forecast_completion(subjects, activation_at(activation, site_ids), cutoff, target)
