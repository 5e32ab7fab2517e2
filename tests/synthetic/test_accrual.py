"""Accrual models: the bundled trial keeps the published window; other draws recruit stochastically."""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from dashboard.synthetic import calibration as cal
from dashboard.synthetic.generator import accrual_mode, simulate_history, simulate_trial


@cache
def completions(seeds=tuple(range(1, 21))) -> pd.Series:
    """Date of the last randomization of stochastic 203-patient trials, by seed."""
    out = {}
    for seed in seeds:
        s = simulate_history(seed, cal.DEFAULT_SUBJECTS).subjects
        out[seed] = s.loc[s["RANDFL"] == "Y", "RANDDT"].max()
    return pd.Series(out)


def test_only_the_bundled_draw_is_conditioned_on_the_published_window():
    assert accrual_mode(cal.DEFAULT_SEED, cal.DEFAULT_SUBJECTS) == cal.ACCRUAL_PUBLISHED
    assert accrual_mode(1, cal.DEFAULT_SUBJECTS) == cal.ACCRUAL_STOCHASTIC
    assert accrual_mode(cal.DEFAULT_SEED, 500) == cal.ACCRUAL_STOCHASTIC
    assert accrual_mode(1, 50, cal.ACCRUAL_PUBLISHED) == cal.ACCRUAL_PUBLISHED
    with pytest.raises(ValueError, match="accrual must be one of"):
        accrual_mode(1, 50, "uniform")


def test_published_window_pins_first_and_last_randomization_for_any_seed():
    for seed in (1, 2):
        s = simulate_history(seed, cal.DEFAULT_SUBJECTS, cal.ACCRUAL_PUBLISHED).subjects
        rand = s.loc[s["RANDFL"] == "Y", "RANDDT"]
        assert (rand.min(), rand.max()) == (pd.Timestamp(cal.FIRST_RANDOMIZATION), pd.Timestamp(cal.LAST_RANDOMIZATION))
        assert (s["RANDFL"] == "N").sum() == round(cal.DEFAULT_SUBJECTS * cal.SCREEN_FAILURES_PER_RANDOMIZED)


def test_stochastic_completion_varies_between_seeds_around_the_published_month():
    dates = completions()
    assert dates.nunique() == len(dates)
    assert dates.max() - dates.min() > pd.Timedelta(days=365)
    assert abs(dates.median() - pd.Timestamp(cal.LAST_RANDOMIZATION)) < pd.Timedelta(days=200)


def test_stochastic_trial_randomizes_exactly_n_after_site_activation():
    h = simulate_history(4, 300)
    s = h.subjects
    rand = s.loc[s["RANDFL"] == "Y"]
    assert len(rand) == 300
    activation = s["SITEID"].map(h.sites.set_index("SITEID")["ACTIVDT"])
    assert (s["SCRNDT"] >= activation).all()
    assert (s["SCRNDT"] <= rand["RANDDT"].max()).all(), "screening after recruitment closed"
    gap = (rand["RANDDT"] - rand["SCRNDT"]).dt.days
    assert gap.between(*cal.SCREEN_TO_RANDOMIZATION_DAYS).all()


def test_stochastic_screen_failures_average_the_assumed_rate():
    s = simulate_history(11, 2000).subjects
    share = (s["RANDFL"] == "N").sum() / 2000
    assert share == pytest.approx(cal.SCREEN_FAILURES_PER_RANDOMIZED, abs=0.03)


def test_a_late_stochastic_trial_is_cut_after_complete_follow_up_and_says_how_it_recruited():
    late = completions().idxmax()
    ds = simulate_trial(seed=int(late))
    assert ds.provenance["accrual"] == cal.ACCRUAL_STOCHASTIC
    assert ds.cutoff >= pd.Timestamp(cal.DEFAULT_CUTOFF)
    assert (ds.randomized["EOSSTT"] != "ONGOING").all()
    assert len(ds.randomized) == cal.DEFAULT_SUBJECTS
