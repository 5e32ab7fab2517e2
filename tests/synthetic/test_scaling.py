"""`--subjects N`: any size keeps the published distributions (exact counts only at the default size)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from dashboard.synthetic import calibration as cal
from dashboard.synthetic.generator import simulate_trial

from . import estimates as est
from .consistency import problems

N = 2000


@cache
def large():
    return simulate_trial(seed=11, subjects=N)


def test_large_trial_is_valid_and_consistent():
    ds = large()
    assert (ds.adsl["RANDFL"] == "Y").sum() == N
    assert problems(ds) == []


def test_arms_are_balanced_one_to_one():
    rand = large().randomized
    share = (rand["ARMCD"] == "MSC").mean()
    assert abs(share - 0.5) < 0.01
    assert abs((rand["EFFFL"] == "Y").mean() - 198 / 203) < 0.01


@pytest.mark.parametrize("target", cal.BASELINE_TARGETS, ids=lambda t: f"{t.ref}-{t.arm}")
def test_baseline_proportions_match_table1(target):
    ds = large()
    n_arm = int(((ds.adsl["EFFFL"] == "Y") & (ds.adsl["ARM"] == cal.ARM_NAME[target.arm])).sum())
    assert est.count(ds, target) / n_arm == pytest.approx(target.value / 99, abs=0.02)


@pytest.mark.parametrize("target", cal.RESPONSE_TARGETS + cal.AE_TARGETS + cal.SAE_TARGETS, ids=lambda t: f"{t.ref}-{t.arm}")
def test_outcome_proportions_match_publication(target):
    ds = large()
    n_arm = int(((ds.adsl["EFFFL"] == "Y") & (ds.adsl["ARM"] == cal.ARM_NAME[target.arm])).sum())
    measure = {cal.ResponseTarget: est.responders, cal.AeTarget: est.severe_ae_patients,
               cal.SaeTarget: est.sae_patients}[type(target)]
    assert measure(ds, target) / n_arm == pytest.approx(target.value / 99, abs=0.02)


@pytest.mark.parametrize("target", [t for t in cal.TTE_TARGETS if t.kind != "hr"], ids=lambda t: t.ref)
def test_time_to_event_estimates_match_publication(target):
    estimate = est.tte_estimate(large(), target)
    assert abs(estimate - target.value) <= target.tolerance


def test_age_and_onset_distributions_keep_their_shape():
    ev = large().adsl.loc[large().adsl["EFFFL"] == "Y"]
    for t in cal.STAT_TARGETS:
        values = ev.loc[ev["ARM"] == cal.ARM_NAME[t.arm], t.column]
        if t.stat == "median":
            assert abs(values.median() - t.value) <= 1
        else:
            assert getattr(values, t.stat)() == t.value


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_small_trials_are_valid(n):
    ds = simulate_trial(seed=n, subjects=n)
    assert (ds.adsl["RANDFL"] == "Y").sum() == n
    assert problems(ds) == []


def test_seed_changes_the_trial_but_not_its_published_counts():
    a, b = simulate_trial(seed=1), simulate_trial(seed=2)
    assert not np.array_equal(a.adsl["AGE"].to_numpy(), b.adsl["AGE"].to_numpy())
    for t in cal.RESPONSE_TARGETS:
        assert est.responders(a, t) == est.responders(b, t) == t.value
