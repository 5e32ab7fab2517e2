"""Sampling helpers that make small synthetic trials hit published counts exactly.

Counts are allocated by largest-remainder quotas and handed to subjects by rank of a noisy risk
score (so categories stay correlated with covariates); times use stratified uniforms so a sample
of 99 follows its target distribution closely.
"""

from __future__ import annotations

import numpy as np


def quota(n: int, weights) -> np.ndarray:
    """Integer counts summing to n, proportional to weights (largest remainder; exact when the
    weights are integer counts summing to n)."""
    w = np.asarray(weights, dtype=float)
    if n <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=int)
    if w.sum() == n and np.all(w == np.round(w)):
        return w.astype(int)
    raw = w / w.sum() * n
    base = np.floor(raw + 1e-9).astype(int)
    order = np.argsort(-(raw - base), kind="stable")
    base[order[: n - base.sum()]] += 1
    return base


def allocate(rng: np.random.Generator, n: int, categories, weights) -> np.ndarray:
    """n values holding exactly `quota(n, weights)` of each category, in random order."""
    values = np.repeat(np.asarray(categories, dtype=object), quota(n, weights))
    rng.shuffle(values)
    return values


def by_rank(score: np.ndarray, categories, counts) -> np.ndarray:
    """Categories handed out in order to subjects sorted by descending score (counts sum to len)."""
    out = np.empty(len(score), dtype=object)
    out[np.argsort(-np.asarray(score, dtype=float), kind="stable")] = np.repeat(
        np.asarray(categories, dtype=object), counts
    )
    return out


def top(score: np.ndarray, k: int, eligible: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the k highest-scoring (eligible) subjects."""
    score = np.asarray(score, dtype=float).copy()
    if eligible is not None:
        score[~eligible] = -np.inf
        k = min(k, int(eligible.sum()))
    mask = np.zeros(len(score), dtype=bool)
    if k > 0:
        mask[np.argsort(-score, kind="stable")[:k]] = True
    return mask


def stratified_uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """n uniforms, one in each of n equal slices of (0, 1), in random order."""
    return (rng.permutation(n) + rng.random(n)) / max(n, 1)


def piecewise_quantile(u: np.ndarray, knots) -> np.ndarray:
    """Values of a piecewise-linear quantile function given as (u, value) knots."""
    xs, ys = zip(*knots)
    return np.interp(u, xs, ys)


def exact_sample(rng: np.random.Generator, n: int, knots) -> np.ndarray:
    """n whole numbers from a quantile function, in random order, with the knots' minimum and
    maximum attained exactly (stratified so medians and cut-points land where the knots put them)."""
    if n == 0:
        return np.zeros(0)
    u = np.sort(stratified_uniform(rng, n))
    values = np.floor(piecewise_quantile(u, knots))
    values[0] = np.floor(knots[0][1])
    if n > 1:
        values[-1] = np.floor(knots[-1][1])
    return values[rng.permutation(n)]


def truncated_times(rng: np.random.Generator, n: int, low, high, median: float, sigma: float = 0.8) -> np.ndarray:
    """n whole-day times from a lognormal with the given median, truncated to [low, high]
    (scalars or per-subject arrays), stratified over the truncated range."""
    from scipy.stats import norm

    if n == 0:
        return np.zeros(0)
    low = np.broadcast_to(np.asarray(low, dtype=float), (n,))
    high = np.maximum(np.broadcast_to(np.asarray(high, dtype=float), (n,)), low)
    mu = np.log(max(median, 1.0))
    lo = norm.cdf((np.log(np.maximum(low, 1e-9)) - mu) / sigma)
    hi = norm.cdf((np.log(np.maximum(high, 1e-9)) - mu) / sigma)
    u = lo + stratified_uniform(rng, n) * (hi - lo)
    t = np.exp(mu + sigma * norm.ppf(np.clip(u, 1e-12, 1 - 1e-12)))
    return np.clip(np.floor(t), low, high)


def choice(rng: np.random.Generator, mapping, n: int) -> np.ndarray:
    """n independent draws from a {value: weight} mapping."""
    keys = list(mapping)
    p = np.asarray([mapping[k] for k in keys], dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]
