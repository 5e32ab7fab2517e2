"""KRIs: hand-computed funnel scores on small site tables, flags at the documented thresholds, and per-site counts."""

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.transforms.kri import (AMBER, AMBER_Z, GREEN, KRIS, NOT_ASSESSED, RED, RED_Z, funnel_limits,
                                      funnel_scores, kri_heat_table, site_kris)

D = pd.Timestamp


def test_rate_scores_by_hand():
    """mu = 100 events / 40 patient-years = 2.5. Unadjusted z: A (30/10 = 3): (3 - 2.5) / sqrt(2.5/10) = 1;
    B (10/10 = 1): -1.5 / 0.5 = -3; C (60/20 = 3): 0.5 / sqrt(2.5/20) = sqrt(2). phi = (1 + 9 + 2) / 3 = 4,
    so z = z0 / 2."""
    scores = funnel_scores(pd.DataFrame({"SITEID": ["A", "B", "C"], "NUMERATOR": [30, 10, 60],
                                         "DENOMINATOR": [10, 10, 20]}), "rate")
    assert scores["EXPECTED"].iloc[0] == pytest.approx(2.5)
    assert scores["PHI"].iloc[0] == pytest.approx(4.0)
    assert scores["Z"].tolist() == pytest.approx([0.5, -1.5, math.sqrt(2) / 2])
    assert scores["FLAG"].tolist() == [GREEN, GREEN, GREEN]


def test_binary_scores_by_hand():
    """mu = 27/70. Unadjusted z: A 2/10 -> (0.2 - mu) / sqrt(mu (1 - mu) / 10) = -1.206500; B 5/20 -> -1.246874;
    C 20/40 -> 1.484923; phi = mean of squares = 1.738444."""
    scores = funnel_scores(pd.DataFrame({"SITEID": ["A", "B", "C"], "NUMERATOR": [2, 5, 20],
                                         "DENOMINATOR": [10, 20, 40]}), "binary")
    phi = 1.738444
    assert scores["PHI"].iloc[0] == pytest.approx(phi, abs=1e-6)
    assert scores["Z"].tolist() == pytest.approx([v / math.sqrt(phi) for v in (-1.206500, -1.246874, 1.484923)],
                                                 abs=1e-6)


def test_over_dispersion_never_narrows_the_limits():
    """Sites closer to mu than chance gives (phi < 1) keep the plain binomial limits (phi floored at 1)."""
    scores = funnel_scores(pd.DataFrame({"SITEID": ["A", "B"], "NUMERATOR": [50, 51], "DENOMINATOR": [100, 100]}),
                           "binary")
    assert scores["PHI"].iloc[0] == 1.0


def test_flags_switch_at_the_documented_thresholds():
    """19 sites at the expected rate and one site with more and more events: the flag turns amber when
    |z| reaches 2 and red when it reaches 3, and never before."""
    previous = None
    switches = {}
    for events in range(100, 200):
        scores = funnel_scores(pd.DataFrame({"SITEID": [f"S{i}" for i in range(20)],
                                             "NUMERATOR": [100] * 19 + [events], "DENOMINATOR": [100] * 20}), "rate")
        z, flag = scores["Z"].iloc[-1], scores["FLAG"].iloc[-1]
        assert flag == (RED if abs(z) >= RED_Z else AMBER if abs(z) >= AMBER_Z else GREEN)
        if previous is not None and flag != previous[1]:
            switches[flag] = (previous[0], z)
        previous = (z, flag)
    assert switches[AMBER][0] < AMBER_Z <= switches[AMBER][1]
    assert switches[RED][0] < RED_Z <= switches[RED][1]


def test_zero_denominator_is_not_assessed():
    scores = funnel_scores(pd.DataFrame({"SITEID": ["A", "B", "C"], "NUMERATOR": [1, 2, 0],
                                         "DENOMINATOR": [10, 10, 0]}), "binary")
    assert scores["FLAG"].tolist()[2] == NOT_ASSESSED and np.isnan(scores["METRIC"].iloc[2])
    assert scores["EXPECTED"].iloc[0] == pytest.approx(3 / 20)


def test_funnel_limits_follow_the_formula():
    scores = funnel_scores(pd.DataFrame({"SITEID": ["A", "B", "C"], "NUMERATOR": [30, 10, 60],
                                         "DENOMINATOR": [10, 10, 20]}), "rate")
    limits = funnel_limits(scores, "rate", points=5)
    row = limits.iloc[2]
    se = math.sqrt(4.0 * 2.5 / row["DENOMINATOR"])
    assert row["UPPER_3"] == pytest.approx(2.5 + 3 * se) and row["LOWER_2"] == pytest.approx(max(0, 2.5 - 2 * se))


# --- KRIs from subject-level tables -------------------------------------------------------------


SUBJECTS = pd.DataFrame({
    "USUBJID": ["P1", "P2", "P3"], "SITEID": ["01", "01", "02"],
    "RANDDT": [D("2020-01-01"), D("2020-07-01"), D("2020-01-01")],
    "EOSSTT": ["ONGOING", "DISCONTINUED", "DISCONTINUED"], "EOSDT": [pd.NaT, D("2020-08-30"), D("2020-03-01")],
    "DCSREAS": [None, "Withdrawal by subject", "Death"], "DTHFL": ["N", "N", "Y"],
    "DTHDT": [pd.NaT, pd.NaT, D("2020-03-01")],
})
ADAE = pd.DataFrame({"USUBJID": ["P1", "P1", "P2", "P3"], "AEDECOD": ["Sepsis", "Nausea", "Rash", "Sepsis"],
                     "ASTDT": [D("2020-02-01"), D("2020-03-01"), D("2020-07-10"), D("2020-02-01")],
                     "AESER": ["Y", "N", "N", "Y"]})
ADRS = pd.DataFrame({"USUBJID": ["P1", "P1", "P2", "P3"], "PARAMCD": ["OVRLRESP"] * 4,
                     "AVISITN": [28.0, 56.0, 28.0, 28.0],
                     "ADT": [D("2020-01-29"), D("2020-02-26"), D("2020-07-29"), D("2020-01-29")]})
CUT = D("2020-12-31")


def _kri(results, kri, site):
    return results.set_index(["KRI", "SITEID"]).loc[(kri, site)]


def test_site_kris_by_hand():
    results = site_kris(SUBJECTS, ADAE, ADRS, CUT, visit_days=(28, 56), visit_windows={28: 1, 56: 3})
    # Follow-up: P1 2020-01-01..12-31 = 366 days; P2 07-01..08-30 = 61 days; P3 01-01..03-01 = 61 days.
    ae = _kri(results, "ae_rate", "01")
    assert (ae["NUMERATOR"], ae["DENOMINATOR"]) == (3, pytest.approx((366 + 61) / 365.25))
    assert _kri(results, "sae_rate", "02")["NUMERATOR"] == 1
    # Discontinuation: P2 withdrew; P3 died (not a withdrawal).
    assert _kri(results, "discontinuation", "01")[["NUMERATOR", "DENOMINATOR"]].tolist() == [1, 2]
    assert _kri(results, "discontinuation", "02")[["NUMERATOR", "DENOMINATOR"]].tolist() == [0, 1]
    # Due visits (day 56 closes 3 days after): P1 days 28 and 56; P2 days 28 and 56 (on study until 08-30,
    # day 56 = 08-26); P3 days 28 and 56 (died 03-01, day 56 = 02-26), day 56 not recorded.
    assert _kri(results, "completeness", "01")[["NUMERATOR", "DENOMINATOR"]].tolist() == [3, 4]
    assert _kri(results, "completeness", "02")[["NUMERATOR", "DENOMINATOR"]].tolist() == [1, 2]
    assert "entry_lag" not in set(results["KRI"]) and "query_rate" not in set(results["KRI"])
    text = _kri(results, "discontinuation", "01")["TEXT"]
    assert text.startswith("Discontinuation 50.00 % of patients randomized withdrew (not death) (1 / 2)")


def test_ae_rate_counts_only_the_collection_window():
    results = site_kris(SUBJECTS, ADAE, None, CUT, ae_collection_days=30)
    # Each patient contributes at most 31 days (day 0 to day 30 inclusive).
    assert _kri(results, "ae_rate", "01")["DENOMINATOR"] == pytest.approx(62 / 365.25)


def test_late_entry_queries_and_deviations():
    previous = {"adae": ADAE.iloc[:2], "adrs": ADRS.iloc[:3]}
    queries = pd.DataFrame({"USUBJID": ["P1", "P1", "P3"]})
    deviations = pd.DataFrame({"USUBJID": ["P2"]})
    results = site_kris(SUBJECTS, ADAE, ADRS, CUT, previous=previous, previous_cutoff=D("2020-07-20"),
                        queries=queries, deviations=deviations)
    # New since the previous cut: P2's AE (07-10, before 07-20: late), P3's AE and assessment (both late).
    assert _kri(results, "entry_lag", "01")[["NUMERATOR", "DENOMINATOR"]].tolist() == [1, 1]
    assert _kri(results, "entry_lag", "02")[["NUMERATOR", "DENOMINATOR"]].tolist() == [2, 2]
    # Queries per record: site 01 has 3 AEs + 3 assessments.
    assert _kri(results, "query_rate", "01")[["NUMERATOR", "DENOMINATOR"]].tolist() == [2, 6]
    assert _kri(results, "deviation_rate", "01")["NUMERATOR"] == 1
    heat = kri_heat_table(results)
    assert list(heat.columns) == ["SITEID", *[KRIS[k].label for k in KRIS if k not in ("completeness",)]]


def test_bundled_series_kris(series):
    latest, previous = series.latest, series.cuts[-2]
    info = latest.info
    results = site_kris(latest.randomized, latest.adae, latest.adrs, latest.cutoff, visit_days=info.visit_days,
                        visit_windows=info.visit_window_days, ae_collection_days=info.ae_collection_days,
                        previous=previous.tables(), previous_cutoff=previous.cutoff)
    ae = results.loc[results["KRI"] == "ae_rate"]
    assert ae["NUMERATOR"].sum() == len(latest.adae)
    assert results.loc[results["KRI"] == "discontinuation", "DENOMINATOR"].sum() == len(latest.randomized)
    assert set(results["FLAG"]) <= {GREEN, AMBER, RED, NOT_ASSESSED}
