"""Enrollment forecast: honest states, hand-checkable rates, seeding, and calibration of the 80% band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.config import DAYS_PER_MONTH, FORECAST_MIN_PATIENTS
from dashboard.transforms.forecast import (STATUS_FORECAST, STATUS_INSUFFICIENT, STATUS_REACHED,
                                           forecast_completion, forecast_for_sites, rate_posterior_grid)

START = pd.Timestamp("2020-01-01")


def regular_trial(sites: int, per_month: int, months: int, start=START):
    """Each site randomizes `per_month` patients evenly every month from `start` for `months` months."""
    rows = []
    for s in range(sites):
        for m in range(months):
            for j in range(per_month):
                day = pd.Timedelta(days=1 + 28 * j // per_month)
                rows.append((f"{s + 1:02d}", start + pd.DateOffset(months=m) + day))
    subjects = pd.DataFrame(rows, columns=["SITEID", "RANDDT"])
    activation = pd.DataFrame({"SITEID": [f"{s + 1:02d}" for s in range(sites)], "ACTIVDT": [start] * sites})
    return subjects, activation, start + pd.DateOffset(months=months) - pd.Timedelta(days=1)


def test_reached_target_reports_the_date_of_the_target_patient_and_no_bands():
    subjects, activation, cutoff = regular_trial(sites=2, per_month=3, months=4)  # 24 patients
    result = forecast_completion(subjects, activation, cutoff, target=20)
    assert result.status == STATUS_REACHED
    assert result.reached_on == subjects["RANDDT"].sort_values().iloc[19]
    assert "Target reached" in result.message and str(result.reached_on.date()) in result.message
    assert result.bands.empty and result.probability_by(cutoff) is None


def test_too_little_data_is_said_not_forecast():
    subjects, activation, cutoff = regular_trial(sites=1, per_month=2, months=2)  # 4 patients, 2 months
    assert len(subjects) < FORECAST_MIN_PATIENTS
    result = forecast_completion(subjects, activation, cutoff, target=100)
    assert result.status == STATUS_INSUFFICIENT
    assert "Too little data" in result.message and "4 patients" in result.message
    assert result.completion.empty


def test_short_recruitment_is_insufficient_even_with_many_patients():
    subjects, activation, cutoff = regular_trial(sites=10, per_month=5, months=2)  # 100 patients, 2 months
    result = forecast_completion(subjects, activation, cutoff, target=500)
    assert result.status == STATUS_INSUFFICIENT


def test_forecast_matches_the_observed_rate():
    # 5 sites x 2 patients/month for 12 months = 120 patients at 10/month; 120 more need ~12 months.
    subjects, activation, cutoff = regular_trial(sites=5, per_month=2, months=12)
    result = forecast_completion(subjects, activation, cutoff, target=240)
    assert result.status == STATUS_FORECAST and result.current == 120
    months_to_median = (result.median - cutoff).days / DAYS_PER_MONTH
    assert 11 <= months_to_median <= 13
    lo80, hi80 = result.interval(0.80)
    lo95, hi95 = result.interval(0.95)
    assert lo95 < lo80 < result.median < hi80 < hi95
    assert result.mean_rate == pytest.approx(2.0, rel=0.1)
    assert result.probability_by(hi80) == pytest.approx(0.9, abs=0.02)
    # bands start at the current count, never exceed the target, and widen then close at the target
    assert result.bands.iloc[0][["Q0.025", "Q0.975"]].tolist() == [120, 120]
    assert result.bands.drop(columns="DATE").to_numpy().max() <= 240
    assert (result.bands["Q0.025"] <= result.bands["Q0.975"]).all()


def test_a_site_activating_later_shortens_the_forecast():
    subjects, activation, cutoff = regular_trial(sites=5, per_month=2, months=12)
    later = pd.concat([activation, pd.DataFrame({"SITEID": ["99"], "ACTIVDT": [cutoff + pd.Timedelta(days=30)]})])
    base = forecast_completion(subjects, activation, cutoff, target=240)
    more = forecast_completion(subjects, later, cutoff, target=240)
    assert more.median < base.median
    assert base.median - more.median < pd.Timedelta(days=90)  # one extra site out of six


def test_seeded_forecast_is_reproducible_and_inputs_untouched():
    subjects, activation, cutoff = regular_trial(sites=3, per_month=2, months=8)
    before = subjects.copy(), activation.copy()
    a = forecast_completion(subjects, activation, cutoff, target=120, seed=7)
    b = forecast_completion(subjects, activation, cutoff, target=120, seed=7)
    pd.testing.assert_series_equal(a.completion, b.completion)
    pd.testing.assert_frame_equal(subjects, before[0])
    pd.testing.assert_frame_equal(activation, before[1])


def test_missing_columns_and_bad_target_are_named():
    subjects, activation, cutoff = regular_trial(sites=1, per_month=2, months=8)
    with pytest.raises(KeyError, match="RANDDT"):
        forecast_completion(subjects.drop(columns="RANDDT"), activation, cutoff, target=50)
    with pytest.raises(ValueError, match="positive enrollment target"):
        forecast_completion(subjects, activation, cutoff, target=0)


def test_rate_posterior_centres_on_the_pooled_rate():
    alpha, beta, _, weight = rate_posterior_grid(np.array([20, 40, 30]), np.array([10.0, 10.0, 10.0]))
    assert weight.sum() == pytest.approx(1.0)
    assert np.sum(weight * alpha / beta) == pytest.approx(3.0, rel=0.1)


def monthly_trial(per_month, sites: int = 5, start=START):
    """Each site randomizes per_month[m] patients, spread over days 1-28, in calendar month m."""
    rows = [(f"{s + 1:02d}", start + pd.DateOffset(months=m) + pd.Timedelta(days=1 + 28 * j // k))
            for s in range(sites) for m, k in enumerate(per_month) for j in range(k)]
    subjects = pd.DataFrame(rows, columns=["SITEID", "RANDDT"])
    activation = pd.DataFrame({"SITEID": [f"{s + 1:02d}" for s in range(sites)], "ACTIVDT": [start] * sites})
    return subjects, activation, start + pd.DateOffset(months=len(per_month)) - pd.Timedelta(days=1)


def test_bursty_recruitment_is_overdispersed_and_widens_the_band():
    even = forecast_completion(*monthly_trial([2] * 12), target=240)
    bursty = forecast_completion(*monthly_trial([4, 0] * 6), target=240)
    assert even.current == bursty.current == 120
    assert even.dispersion == 1.0  # steadier than Poisson: no narrowing below the Poisson band
    # Pearson statistic: each whole site-month is about 2 off a mean of about 2, i.e. about 2 per cell
    assert 1.8 <= bursty.dispersion <= 2.4
    width = {name: (r.interval(0.8)[1] - r.interval(0.8)[0]).days for name, r in (("even", even), ("bursty", bursty))}
    assert width["bursty"] > 1.2 * width["even"]
    assert abs((bursty.median - even.median).days) < 30


def test_slow_start_up_months_are_estimated_and_do_not_slow_the_forecast():
    # 5 sites at 1/month for 3 start-up months, then 3/month: 15 + 135 = 150 in 12 months.
    result = forecast_completion(*monthly_trial([1, 1, 1] + [3] * 9), target=300)
    assert result.current == 150
    assert 0.2 <= result.ramp_rate <= 0.6
    months_to_median = (result.median - result.cutoff).days / DAYS_PER_MONTH
    assert 9 <= months_to_median <= 11  # 150 more at the later rate of 15/month, not the average 12.5/month


def simulate_poisson_gamma(rng, sites=8, alpha=3.0, mean_rate=1.0, stagger_months=6.0, horizon=120.0):
    """A trial recruited exactly as the model assumes; returns (subjects, activation, start)."""
    starts = np.sort(rng.uniform(0, stagger_months, sites))
    rates = rng.gamma(alpha, mean_rate / alpha, sites)
    rows = []
    for i, (s, lam) in enumerate(zip(starts, rates)):
        n = rng.poisson(lam * (horizon - s))
        for t in rng.uniform(s, horizon, n):
            rows.append((f"{i + 1:02d}", START + pd.Timedelta(days=float(t) * DAYS_PER_MONTH)))
    subjects = pd.DataFrame(rows, columns=["SITEID", "RANDDT"])
    subjects["RANDDT"] = subjects["RANDDT"].dt.normalize()
    activation = pd.DataFrame({"SITEID": [f"{i + 1:02d}" for i in range(sites)],
                               "ACTIVDT": [(START + pd.Timedelta(days=float(s) * DAYS_PER_MONTH)).normalize()
                                           for s in starts]})
    return subjects, activation


def test_80_percent_band_covers_the_true_completion_when_the_model_holds():
    # 60 trials simulated from the model itself, cut after 12 months, target 150 patients.
    rng = np.random.default_rng(2024)
    covered = total = 0
    for seed in range(60):
        subjects, activation = simulate_poisson_gamma(rng)
        cutoff = START + pd.DateOffset(months=12)
        observed = subjects.loc[subjects["RANDDT"] <= cutoff]
        result = forecast_completion(observed, activation, cutoff, target=150, simulations=2000, seed=seed)
        if result.status != STATUS_FORECAST:
            continue
        truth = subjects["RANDDT"].sort_values().iloc[149]
        lo, hi = result.interval(0.80)
        covered += lo <= truth <= hi
        total += 1
    assert total >= 50
    assert 0.68 <= covered / total <= 0.92


@pytest.mark.slow
def test_80_percent_band_covers_generated_trials_cut_early():
    """Synthetic NCT02241018 trials with stochastic accrual, cut at 2016-12-31: the band holds the real date.

    Each seed is an unconditioned Poisson-gamma recruitment draw (its completion date varies from
    seed to seed). With few seeds the test only guards against a badly miscalibrated band;
    `benchmarks/bench_forecast_coverage.py` measures the coverage over many seeds.
    """
    from dashboard.synthetic.calibration import NCT02241018
    from dashboard.model.dataset import TrialDataset
    from dashboard.synthetic import calibration as cal
    from dashboard.synthetic.cut import tables_at_cutoff
    from dashboard.synthetic.generator import simulate_history
    from dashboard.transforms.enrollment import site_activation

    cutoff = pd.Timestamp("2016-12-31")
    target = NCT02241018.target_enrollment
    covered = total = 0
    truths = []
    for seed in range(1, 13):
        history = simulate_history(seed, cal.DEFAULT_SUBJECTS, cal.ACCRUAL_STOCHASTIC)
        truth = history.subjects.loc[history.subjects["RANDFL"] == "Y", "RANDDT"].sort_values().iloc[target - 1]
        truths.append(truth)
        tables = tables_at_cutoff(history, cutoff)
        early = TrialDataset.create(tables.pop("adsl"), cutoff=cutoff, info=NCT02241018, **tables)
        result = forecast_completion(early.randomized, site_activation(early.adsl, early.sites), early.cutoff,
                                     target=target, seed=seed)
        if result.status != STATUS_FORECAST:
            continue
        lo, hi = result.interval(0.80)
        covered += lo <= truth <= hi
        total += 1
    assert pd.Series(truths).max() - pd.Series(truths).min() > pd.Timedelta(days=180), "completion dates do not vary"
    assert total >= 10
    # with true coverage 0.8, 12 seeds give >= 6 covered with probability 0.996
    assert covered >= total - 6, f"80% band covered {covered}/{total} generated trials"


def test_forecast_for_sites_uses_only_the_chosen_sites_and_none_once_enrollment_closed():
    subjects, activation, cutoff = regular_trial(sites=2, per_month=3, months=4)  # 12 patients a site
    chosen = subjects.loc[subjects["SITEID"] == "01"]
    one_site = forecast_for_sites(chosen, activation, ("01",), cutoff, target=30)
    alone = forecast_completion(chosen, activation.loc[activation["SITEID"] == "01"], cutoff, target=30)
    both = forecast_completion(chosen, activation, cutoff, target=30)  # a silent second site halves the rate
    assert one_site.status == STATUS_FORECAST and one_site.median == alone.median < both.median
    assert forecast_for_sites(subjects, activation, (), cutoff, target=30).median == forecast_completion(
        subjects, activation, cutoff, target=30).median
    assert forecast_for_sites(chosen, activation, ("01",), cutoff, 30, closed=cutoff) is None
    assert forecast_for_sites(subjects, activation, (), cutoff, 20, closed=cutoff).status == STATUS_REACHED
