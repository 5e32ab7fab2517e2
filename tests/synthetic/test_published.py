"""The bundled trial reproduces the published figures from its patient-level rows."""

from __future__ import annotations

import pytest

from dashboard.synthetic import calibration as cal

from . import estimates as est


def _id(t) -> str:
    return f"{t.ref}-{t.arm}"


@pytest.mark.parametrize("target", cal.POPULATION_TARGETS + cal.BASELINE_TARGETS, ids=_id)
def test_counts_exact(bundled, target):
    assert est.count(bundled, target) == target.value


@pytest.mark.parametrize("target", cal.STAT_TARGETS, ids=_id)
def test_summary_statistics_exact(bundled, target):
    assert est.statistic(bundled, target) == target.value


@pytest.mark.parametrize("target", cal.RESPONSE_TARGETS, ids=_id)
def test_response_counts_exact(bundled, target):
    assert est.responders(bundled, target) == target.value


@pytest.mark.parametrize("target", cal.AE_TARGETS, ids=_id)
def test_severe_ae_counts_exact(bundled, target):
    assert est.severe_ae_patients(bundled, target) == target.value


@pytest.mark.parametrize("target", cal.SAE_TARGETS, ids=_id)
def test_serious_ae_counts_exact(bundled, target):
    assert est.sae_patients(bundled, target) == target.value


@pytest.mark.parametrize("target", cal.TTE_TARGETS, ids=lambda t: f"{t.ref}-{t.paramcd}-{t.kind}-{t.arm}")
def test_time_to_event_within_tolerance(bundled, target):
    estimate = est.tte_estimate(bundled, target)
    if target.kind == "hr":
        assert target.ci_low <= estimate <= target.ci_high, f"HR {estimate:.2f} outside the published 95% CI"
    else:
        assert abs(estimate - target.value) <= target.tolerance, f"{estimate:.2f} vs published {target.value}"


def test_trial_totals(bundled):
    randomized = bundled.adsl["RANDFL"] == "Y"
    assert randomized.sum() == cal.TOTAL_TARGETS["randomized"][1]
    assert (bundled.adsl["EFFFL"] == "Y").sum() == cal.TOTAL_TARGETS["analysed"][1]
    assert len(bundled.sites) == bundled.adsl["SITEID"].nunique() == cal.TOTAL_TARGETS["centres"][1]


def test_non_evaluable_patients_withdrew_early_with_reasons(bundled):
    adsl = bundled.adsl
    out = adsl.loc[(adsl["RANDFL"] == "Y") & (adsl["EFFFL"] == "N")]
    assert out["EOSSTT"].eq("DISCONTINUED").all()
    assert set(out["DCSREAS"]) <= set(cal.WITHDRAWAL_REASONS)
    assert ((out["EOSDT"] - out["RANDDT"]).dt.days <= cal.WITHDRAWAL_DAYS[1]).all()
    assert not bundled.adrs.loc[bundled.adrs["PARAMCD"] == "OVRLRESP", "USUBJID"].isin(out["USUBJID"]).any()


@pytest.mark.parametrize("visit", ["Day 28", "Day 56"])
def test_patients_without_a_visit_row_died_before_it(bundled, visit):
    """A missing visit row means death before the visit, so counting CR/PR rows counts them as non-responders."""
    day = int(visit.split()[1])
    ev = bundled.adsl.loc[bundled.adsl["EFFFL"] == "Y"].set_index("USUBJID")
    seen = bundled.adrs.loc[(bundled.adrs["PARAMCD"] == "OVRLRESP") & (bundled.adrs["AVISIT"] == visit), "USUBJID"]
    missing = ev.loc[~ev.index.isin(seen)]
    assert len(missing) > 0
    died_by = (missing["DTHDT"] - missing["RANDDT"]).dt.days + 1 <= day + cal.VISIT_WINDOW_DAYS[day]
    assert died_by.all(), f"{(~died_by).sum()} evaluable patients lack a {visit} row without having died"
