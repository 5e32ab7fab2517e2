"""Survival transforms: tiny hand-checked frames, a case where 1-KM is wrong, and the bundled trial."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.transforms import survival as sv


def _tte(times, events, arm="A"):
    return pd.DataFrame({"USUBJID": [f"{arm}{i}" for i in range(len(times))], "ARM": arm,
                         "TIME": np.asarray(times, dtype=float), "EVENT": events})


def test_tte_data_codes_events_competing_and_censoring():
    adsl = pd.DataFrame({"USUBJID": ["1", "2", "3", "4"], "ARM": ["A", "A", "B", "B"]})
    adtte = pd.DataFrame({
        "USUBJID": ["1", "2", "3", "4", "1"],
        "PARAMCD": ["CGVHD", "CGVHD", "CGVHD", "CGVHD", "OS"],
        "AVAL": [10.0, 20.0, 30.0, 40.0, 99.0],
        "CNSR": [0, 1, 1, 0, 1],
        "CMPEVFL": ["N", "Y", "N", None, "N"],
    })
    out = sv.tte_data(adsl, adtte, "CGVHD")
    assert out["EVENT"].tolist() == [sv.EVENT, sv.COMPETING, sv.CENSORED, sv.EVENT]
    assert out["TIME"].tolist() == [10, 20, 30, 40]
    params = sv.tte_parameters(adtte).set_index("PARAMCD")
    assert params.loc["CGVHD", "events"] == 2 and params.loc["CGVHD", "competing"] == 1
    assert params.loc["OS", "competing"] == 0


def test_tte_data_names_missing_columns():
    with pytest.raises(KeyError, match="CNSR"):
        sv.tte_data(pd.DataFrame({"USUBJID": ["1"], "ARM": ["A"]}),
                    pd.DataFrame({"USUBJID": ["1"], "PARAMCD": ["OS"], "AVAL": [1.0]}), "OS")


def test_km_hand_checked():
    # events at 2 and 4, censored at 3: S(2) = 3/4, S(4) = 3/4 * 1/2 = 0.375
    tte = _tte([2, 3, 4, 5], [1, 0, 1, 0])
    km = sv.km_by_arm(tte).set_index("TIME")["estimate"]
    assert km[0.0] == 1.0
    assert km[2.0] == pytest.approx(0.75)
    assert km[4.0] == pytest.approx(0.375)
    med = sv.median_by_arm(tte).iloc[0]
    assert med["median"] == 4.0 and med["events"] == 2 and med["N"] == 4


def test_aalen_johansen_differs_from_one_minus_km_with_competing_event():
    # t=1 competing, t=2 event (3 at risk), t=3 censored, t=4 event (1 at risk).
    # Aalen-Johansen: 0.75 * 1/3 = 0.25 at t=2, + 0.5 * 1 = 0.75 at t=4.
    # 1-KM (competing treated as censoring) would say 1/3 at t=2 and 1.0 at t=4: wrong.
    tte = _tte([1, 2, 3, 4], [sv.COMPETING, sv.EVENT, sv.CENSORED, sv.EVENT])
    cif = sv.cumulative_incidence(tte)
    assert sv.estimate_at(cif, 2.5)["estimate"].iloc[0] == pytest.approx(0.25, abs=1e-3)
    assert sv.estimate_at(cif, 4.0)["estimate"].iloc[0] == pytest.approx(0.75, abs=1e-3)
    one_minus_km = 1 - sv.estimate_at(sv.km_by_arm(tte), 4.0)["estimate"].iloc[0]
    assert one_minus_km == pytest.approx(1.0)


def test_cumulative_incidence_zero_when_no_events():
    cif = sv.cumulative_incidence(_tte([5, 6], [0, 2]))
    assert (cif["estimate"] == 0).all()


def test_number_at_risk_counts_subjects_with_time_at_or_after():
    tte = pd.concat([_tte([1, 5, 10], [1, 0, 1], "A"), _tte([2, 3], [0, 0], "B")])
    nar = sv.number_at_risk(tte, [0, 5, 11]).set_index(["ARM", "TIME"])["at_risk"]
    assert nar[("A", 0.0)] == 3 and nar[("A", 5.0)] == 2 and nar[("A", 11.0)] == 0
    assert nar[("B", 5.0)] == 0


def test_logrank_and_cox_separate_clearly_different_arms():
    early = _tte([1, 2, 3, 4, 5, 6, 7, 8, 9, 21], [1] * 10, "A")
    late = _tte([8, 20, 21, 22, 23, 24, 25, 26, 27, 28], [1] * 10, "B")
    tte = pd.concat([early, late])
    assert sv.logrank_p(tte) < 0.01
    cox = sv.cox_hazard_ratio(tte, "A", "B")
    assert cox["hr"] > 1 and cox["lower"] <= cox["hr"] <= cox["upper"]


def test_logrank_nan_for_one_arm():
    assert math.isnan(sv.logrank_p(_tte([1, 2], [1, 0])))
    assert math.isnan(sv.cox_hazard_ratio(_tte([1, 2], [1, 0]), "A", "B")["hr"])


def test_inputs_not_modified():
    tte = _tte([1, 2, 3, 4], [2, 1, 0, 1])
    before = tte.copy()
    sv.cumulative_incidence(tte)
    sv.km_by_arm(tte)
    pd.testing.assert_frame_equal(tte, before)


def _truncate(tte: pd.DataFrame, day: float | None) -> pd.DataFrame:
    """Follow-up cut at `day`: later events and competing events become censored at `day`."""
    if day is None:
        return tte
    late = tte["TIME"] > day
    return tte.assign(TIME=tte["TIME"].where(~late, day), EVENT=tte["EVENT"].where(~late, sv.CENSORED))


def test_bundled_trial_reproduces_published_time_to_event(bundled):
    """FFS medians/HR, cGVHD and relapse incidence, 5-year OS: within dashboard.synthetic.calibration tolerances."""
    from dashboard.config import DAYS_PER_MONTH
    from dashboard.store import TrialStore
    from dashboard.synthetic import calibration as cal

    subjects = TrialStore(bundled, population="Evaluable").subjects()
    arm_of = {key: cal.ARM_NAME[key] for key in cal.ARM_KEYS}
    checked = 0
    for target in cal.TTE_TARGETS:
        tte = sv.tte_data(subjects, bundled.adtte, target.paramcd)
        where = f"{target.ref} {target.paramcd} {target.kind} {target.arm}"
        if target.kind == "hr":
            cox = sv.cox_hazard_ratio(_truncate(tte, target.day), arm_of["MSC"], arm_of["CONTROL"])
            assert target.ci_low <= cox["hr"] <= target.ci_high, (where, cox)
        elif target.kind == "median":
            med = sv.median_by_arm(tte).set_index("ARM").loc[arm_of[target.arm], "median"] / DAYS_PER_MONTH
            assert abs(med - target.value) <= target.tolerance, (where, med)
        else:
            curves = sv.cumulative_incidence(tte) if target.kind == "cuminc" else sv.km_by_arm(tte)
            at = sv.estimate_at(curves, target.day).set_index("ARM").loc[arm_of[target.arm], "estimate"]
            assert abs(100 * at - target.value) <= target.tolerance, (where, 100 * at)
        checked += 1
    assert checked == len(cal.TTE_TARGETS) >= 10


def test_bundled_cgvhd_competing_risk_matters(bundled):
    """With deaths competing, 1-KM overstates chronic GVHD incidence on the bundled trial."""
    from dashboard.store import TrialStore

    tte = sv.tte_data(TrialStore(bundled).subjects(), bundled.adtte, "CGVHD")
    assert (tte["EVENT"] == sv.COMPETING).any()
    aj = sv.estimate_at(sv.cumulative_incidence(tte), 1826.25).set_index("ARM")["estimate"]
    one_minus_km = 1 - sv.estimate_at(sv.km_by_arm(tte), 1826.25).set_index("ARM")["estimate"]
    assert (one_minus_km > aj + 0.01).all()


def test_comparisons_with_control_match_cox_against_the_control_arm():
    early = _tte([1, 2, 3, 4, 5, 6, 7, 8, 9, 21], [1] * 10, "MSC")
    late = _tte([8, 20, 21, 22, 23, 24, 25, 26, 27, 28], [1] * 10, "Control")
    tte = pd.concat([early, late])
    out = sv.comparisons_with_control(tte, ["MSC", "Control"])
    assert list(out[["TREATMENT", "CONTROL"]].itertuples(index=False, name=None)) == [("MSC", "Control")]
    cox = sv.cox_hazard_ratio(tte, "MSC", "Control")
    assert out.iloc[0][["hr", "lower", "upper", "p"]].tolist() == pytest.approx([cox[k] for k in ("hr", "lower", "upper", "p")])
    assert bool(out.iloc[0]["ESTIMABLE"])
    assert sv.comparisons_with_control(tte, ["MSC"]).empty
    no_events = pd.concat([_tte([1, 2], [0, 0], "MSC"), _tte([1, 2], [0, 0], "Control")])
    assert not sv.comparisons_with_control(no_events, ["MSC", "Control"])["ESTIMABLE"].any()


def test_estimates_at_landmarks_stop_at_the_longest_follow_up():
    tte = pd.concat([_tte([1, 2, 3, 4], [1, 0, 1, 0], "A"), _tte([2, 5], [1, 0], "B")])
    curves = sv.km_by_arm(tte)
    out = sv.estimates_at_landmarks(curves, tte["TIME"].max(), [2, 4, 10])
    assert sorted(out["TIME"].unique()) == [2.0, 4.0]  # no follow-up reaches 10
    pd.testing.assert_frame_equal(out.loc[out["TIME"] == 4].reset_index(drop=True), sv.estimate_at(curves, 4))


def test_endpoint_events_and_tests_per_endpoint():
    adsl = pd.DataFrame({"USUBJID": [f"S{i}" for i in range(8)], "ARM": ["MSC"] * 4 + ["Control"] * 4})
    adtte = pd.DataFrame({
        "USUBJID": [f"S{i}" for i in range(8)] * 2 + ["S9"],
        "PARAMCD": ["OS"] * 8 + ["CGVHD"] * 8 + ["EFS"],
        "AVAL": [5, 9, 12, 20, 2, 3, 8, 10] + [4, 6, 7, 30, 1, 5, 6, 9] + [3],
        "CNSR": [0, 1, 0, 1, 0, 0, 0, 1] + [0, 1, 1, 1, 0, 0, 1, 0] + [0],
        "CMPEVFL": [""] * 8 + ["", "Y", "", "", "", "", "Y", ""] + [""],
    })
    events = sv.endpoint_events(adsl, adtte, ["MSC", "Control"]).set_index(["PARAMCD", "ARM"])
    assert events.loc[("OS", "MSC")].tolist() == [2, 4] and events.loc[("OS", "Control")].tolist() == [3, 4]
    assert events.loc[("CGVHD", "MSC")].tolist() == [1, 4]  # the competing event is not an event
    assert "EFS" not in events.index.get_level_values(0)  # no filtered patient has it
    tests = sv.endpoint_tests(adsl, adtte, ["MSC", "Control"]).set_index("PARAMCD")
    os_tte = sv.tte_data(adsl, adtte, "OS")
    assert tests.loc["OS", "LOGRANK_P"] == pytest.approx(sv.logrank_p(os_tte, ["MSC", "Control"]))
    assert tests.loc["OS", "hr"] == pytest.approx(sv.cox_hazard_ratio(os_tte, "MSC", "Control")["hr"])
    assert not tests.loc["OS", "COMPETING"] and tests.loc["CGVHD", "COMPETING"]
    assert sv.endpoint_tests(adsl, adtte, ["MSC"]).empty
