"""Executive-summary transforms on tiny inline frames with hand-computed answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.config import TrialInfo
from dashboard.transforms.safety import select_events
from dashboard.transforms.summary import (
    PACE_BEHIND,
    PACE_NO_PLAN,
    PACE_NO_TARGET,
    PACE_ON_TRACK,
    PACE_REACHED,
    Omitted,
    ae_signal_screen,
    deaths_by_arm,
    enrollment_pace,
    executive_summary,
    has_infection_soc,
    primary_endpoint_result,
    severe_infections_by_arm,
    trial_enrollment,
)

A, C = "Active", "Control"


def randomized(dates, arms=None) -> pd.DataFrame:
    arms = arms or [A] * len(dates)
    return pd.DataFrame({"USUBJID": [f"P{i}" for i in range(len(dates))], "ARM": arms,
                         "RANDDT": pd.to_datetime(dates)})


# --- enrollment pace ---------------------------------------------------------------------------

def test_pace_reached_states_when_and_how_late():
    # Target 3 reached by the third randomization (2020-03-10), 9 days after the planned end 2020-03-01.
    frame = randomized(["2020-01-10", "2020-02-10", "2020-03-10", "2020-03-20"])
    pace = enrollment_pace(frame, "2020-06-30", target=3, planned_start="2020-01-01", planned_end="2020-03-01")
    assert pace.status == PACE_REACHED
    assert pace.randomized == 4 and pace.pct_of_target == pytest.approx(400 / 3)
    assert pace.target_reached_on == pd.Timestamp("2020-03-10")
    assert (pace.target_reached_on - pace.planned_end).days == 9
    # 4 patients over 70 days (2020-01-10 to 2020-03-20) = 70 / (365.25 / 12) months.
    assert pace.average_rate == pytest.approx(4 / (70 / (365.25 / 12)))
    assert pace.projected_completion is None


def test_pace_on_track_and_behind_follow_the_recent_rate():
    # Two patients a month in Jan-Mar 2021; the cut 2021-04-15 leaves April partial, so the recent
    # rate is the Jan-Mar mean: 2/month. 14 remaining of 20 take 7 months -> mid-November 2021.
    dates = ["2021-01-05", "2021-01-20", "2021-02-05", "2021-02-20", "2021-03-05", "2021-03-20"]
    frame = randomized(dates)
    on_track = enrollment_pace(frame, "2021-04-15", target=20, planned_start="2021-01-01", planned_end="2021-12-31")
    assert on_track.recent_rate == 2.0 and on_track.window_months == 3
    expected = pd.Timestamp("2021-04-15") + pd.Timedelta(days=7 * 365.25 / 12)
    assert on_track.projected_completion == expected
    assert on_track.status == PACE_ON_TRACK
    # Plan: 20 patients over 2021 -> by 2021-04-15 (104 of 364 days) 20 * 104 / 364 expected.
    assert on_track.planned_by_cut == pytest.approx(20 * 104 / 364)
    behind = enrollment_pace(frame, "2021-04-15", target=20, planned_start="2021-01-01", planned_end="2021-09-30")
    assert behind.status == PACE_BEHIND
    no_plan = enrollment_pace(frame, "2021-04-15", target=20)
    assert no_plan.status == PACE_NO_PLAN and no_plan.planned_by_cut is None


def test_pace_without_recent_randomization_is_behind_and_without_target_says_so():
    frame = randomized(["2019-01-10", "2019-02-10"])
    stalled = enrollment_pace(frame, "2020-01-15", target=10, planned_start="2019-01-01", planned_end="2020-06-30")
    assert stalled.recent_rate == 0.0 and stalled.projected_completion is None
    assert stalled.status == PACE_BEHIND
    free = enrollment_pace(frame, "2020-01-15")
    assert free.status == PACE_NO_TARGET and free.pct_of_target is None


def test_pace_of_nobody():
    pace = enrollment_pace(randomized([]), "2020-01-01", target=10, planned_start="2019-01-01", planned_end="2020-06-30")
    assert pace.randomized == 0 and pace.recent_rate is None and pace.average_rate is None
    assert pace.status == PACE_BEHIND


# --- primary endpoint --------------------------------------------------------------------------

def trial_subjects() -> pd.DataFrame:
    """Active P1-P3 (CR, PR, NR at day 28), Control P4-P6 (PR, NR, no assessment), P7 Control not yet due."""
    return pd.DataFrame({
        "USUBJID": [f"P{i}" for i in range(1, 8)],
        "ARM": [A, A, A, C, C, C, C],
        "RANDDT": pd.to_datetime(["2020-01-01"] * 6 + ["2020-06-20"]),
        "SAFFL": ["Y"] * 7,
        "DTHFL": ["N", "N", "Y", "N", "N", "Y", "N"],
    })


def trial_adrs() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["P1", "P2", "P3", "P4", "P5", "P1"],
        "PARAMCD": ["OVRLRESP"] * 6,
        "AVISIT": ["Day 28"] * 5 + ["Day 7"],
        "AVISITN": [28.0] * 5 + [7.0],
        "AVALC": ["CR", "PR", "NR", "PR", "NR", "SD"],
    })


def test_primary_endpoint_counts_difference_and_test_by_hand():
    result = primary_endpoint_result(trial_subjects(), trial_adrs(), "2020-06-30", 28, [A, C])
    arms = result.by_arm.set_index("ARM")
    assert (arms.loc[A, "responders"], arms.loc[A, "evaluated"]) == (2, 3)
    # P6 has no assessment (non-responder); P7's day 28 falls after the cut (pending, not counted).
    assert (arms.loc[C, "responders"], arms.loc[C, "evaluated"], arms.loc[C, "pending"]) == (1, 3, 1)
    row = result.comparisons.iloc[0]
    assert (row["TREATMENT"], row["CONTROL"]) == (A, C)
    assert row["DIFF"] == pytest.approx(100 / 3)
    # Pearson chi-square of [[2, 1], [1, 2]]: 6 * (4 - 1)^2 / 3^4 = 2/3 on 1 df.
    assert row["P"] == pytest.approx(math.erfc(math.sqrt(2 / 3 / 2)))
    # Newcombe hybrid score: Wilson limits of 2/3 and 1/3 combined (Newcombe 1998, method 10).
    z = 1.959964
    def wilson(x, n):
        p = x / n
        centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return centre - half, centre + half
    (l1, u1), (l2, u2) = wilson(2, 3), wilson(1, 3)
    assert row["DIFF_LOW"] == pytest.approx(100 * (1 / 3 - math.sqrt((2 / 3 - l1) ** 2 + (u2 - 1 / 3) ** 2)), abs=1e-4)
    assert row["DIFF_HIGH"] == pytest.approx(100 * (1 / 3 + math.sqrt((u1 - 2 / 3) ** 2 + (1 / 3 - l2) ** 2)), abs=1e-4)
    assert result.visit == "Day 28" and result.test == "Pearson chi-square test"


def test_primary_endpoint_with_one_arm_has_no_comparison_and_unknown_day_raises():
    subjects = trial_subjects()
    only = primary_endpoint_result(subjects[subjects["ARM"] == A], trial_adrs(), "2020-06-30", 28, [A, C])
    assert list(only.by_arm["ARM"]) == [A] and only.comparisons.empty
    nobody = primary_endpoint_result(subjects.iloc[:0], trial_adrs(), "2020-06-30", 28, [A, C])
    assert nobody.by_arm.empty and nobody.comparisons.empty
    with pytest.raises(ValueError, match="no response visit on day 90"):
        primary_endpoint_result(subjects, trial_adrs(), "2020-06-30", 90, [A, C])


# --- deaths, infections, signals ----------------------------------------------------------------

def test_deaths_by_arm_counts_per_arm_and_overall():
    out = deaths_by_arm(trial_subjects(), [A, C]).set_index("ARM")
    assert out.loc[A, ["n", "N"]].tolist() == [1, 3]
    assert out.loc[C, ["n", "N"]].tolist() == [1, 4]
    assert out.loc["All arms", ["n", "N"]].tolist() == [2, 7]


def adae() -> pd.DataFrame:
    """P1: grade 3 pneumonia + grade 1 nausea; P2: grade 2 sepsis; P4: grade 4 SEPSIS (upper-case SOC)."""
    return pd.DataFrame({
        "USUBJID": ["P1", "P1", "P2", "P4"],
        "AEBODSYS": ["Infections and infestations", "Gastrointestinal disorders", "Infections and infestations",
                     "INFECTIONS AND INFESTATIONS"],
        "AEDECOD": ["Pneumonia", "Nausea", "Sepsis", "Sepsis"],
        "AETOXGRN": [3, 1, 2, 4],
        "AESER": ["Y", "N", "N", "Y"],
        "TRTEMFL": ["Y", "Y", "Y", "N"],
    })


def test_severe_infections_match_the_body_system_in_any_case_and_grade_three_up():
    subjects = trial_subjects()
    assert has_infection_soc(adae()) and not has_infection_soc(adae().iloc[[1]])
    out = severe_infections_by_arm(select_events(adae(), subjects), subjects, [A, C]).set_index("ARM")
    assert out.loc[A, ["SUBJECTS", "N"]].tolist() == [1, 3]  # P1's grade 3 pneumonia; P2's sepsis is grade 2
    assert out.loc[C, ["SUBJECTS", "N"]].tolist() == [1, 4]  # P4's grade 4 SEPSIS
    te = severe_infections_by_arm(select_events(adae(), subjects, treatment_emergent_only=True), subjects, [A, C])
    assert te.set_index("ARM").loc[C, "SUBJECTS"] == 0  # P4's event is not treatment-emergent


def test_signal_screen_flags_terms_below_the_threshold_only():
    # Rash in all 5 Active vs none of 5 Control: two-sided Fisher p = 2 / C(10, 5) = 2/252.
    # Headache in 1 of 5 in each arm: p = 1.
    subjects = pd.DataFrame({"USUBJID": [f"S{i}" for i in range(10)], "ARM": [A] * 5 + [C] * 5, "SAFFL": "Y"})
    events = pd.DataFrame({
        "USUBJID": [f"S{i}" for i in range(5)] + ["S0", "S5"],
        "AEBODSYS": ["Skin"] * 5 + ["Nervous"] * 2,
        "AEDECOD": ["Rash"] * 5 + ["Headache"] * 2,
    })
    screen = ae_signal_screen(select_events(events, subjects), subjects, [A, C])
    assert screen.terms_screened == 2 and screen.control == C
    assert screen.flagged["AEDECOD"].tolist() == ["Rash"]
    hit = screen.flagged.iloc[0]
    assert hit[["N_A", "D_A", "N_B", "D_B"]].tolist() == [5, 5, 0, 5]
    assert hit["P"] == pytest.approx(2 / 252) and hit["RD"] == pytest.approx(100.0)
    strict = ae_signal_screen(select_events(events, subjects), subjects, [A, C], threshold=2 / 252)
    assert strict.flagged.empty
    with pytest.raises(ValueError, match="two arms"):
        ae_signal_screen(select_events(events, subjects), subjects, [A])


# --- the whole summary ---------------------------------------------------------------------------

INFO = TrialInfo(title="T", registry_id="T", short_name="T", target_enrollment=10, planned_enrollment_start="2019-12-01",
                 planned_enrollment_end="2020-12-31", primary_visit_day=28, arm_order=(A, C))


def test_summary_gathers_every_part_and_leaves_inputs_alone():
    subjects, adrs, events = trial_subjects(), trial_adrs(), adae()
    before = (subjects.copy(), adrs.copy(), events.copy())
    s = executive_summary(subjects, "2020-06-30", INFO, [A, C], enrollment=trial_enrollment(subjects, "2020-06-30", INFO),
                          adrs=adrs, adae=events)
    assert s.arms == (A, C) and s.patients == 7 and s.treatment_emergent and s.grade_basis == "CTCAE"
    assert s.enrollment.randomized == 7 and s.enrollment.target == 10
    assert s.primary.comparisons["DIFF"].iloc[0] == pytest.approx(100 / 3)
    assert s.deaths.set_index("ARM").loc["All arms", "n"] == 2
    # Treatment-emergent serious events only: P1's pneumonia (P4's is not treatment-emergent).
    assert s.serious.set_index("ARM").loc[[A, C], "patients"].tolist() == [1, 0]
    assert s.infections.set_index("ARM").loc[[A, C], "SUBJECTS"].tolist() == [1, 0]
    assert s.signals.terms_screened == 3 and s.signals.flagged.empty
    for original, now in zip(before, (subjects, adrs, events)):
        pd.testing.assert_frame_equal(original, now)


def test_summary_omits_what_the_data_cannot_answer_with_a_reason():
    subjects = trial_subjects()
    bare_info = TrialInfo(title="T", registry_id="T", short_name="T")
    no_dates = trial_enrollment(subjects.drop(columns="RANDDT"), "2020-06-30", bare_info)
    assert isinstance(no_dates, Omitted) and "RANDDT" in no_dates.reason
    bare = executive_summary(subjects.drop(columns=["DTHFL"]), "2020-06-30", bare_info, [A, C], enrollment=no_dates)
    assert "(ADRS)" in bare.primary.reason
    unplanned = executive_summary(subjects, "2020-06-30", bare_info, [A, C], enrollment=no_dates, adrs=trial_adrs())
    assert "not configured" in unplanned.primary.reason
    assert "DTHFL" in bare.deaths.reason
    for part in (bare.serious, bare.infections, bare.signals):
        assert part == Omitted("The data have no adverse events (ADAE).")
    pace = trial_enrollment(subjects, "2020-06-30", INFO)
    no_infection = executive_summary(subjects, "2020-06-30", INFO, [A, C], enrollment=pace, adae=adae().iloc[[1]])
    assert "ADRS" in no_infection.primary.reason
    assert "Infections and infestations" in no_infection.infections.reason
    one_arm = executive_summary(subjects[subjects["ARM"] == A], "2020-06-30", INFO, [A, C], enrollment=pace,
                                adrs=trial_adrs(), adae=adae())
    assert one_arm.arms == (A,) and "one arm" in one_arm.signals.reason
    wrong_day = executive_summary(subjects, "2020-06-30", TrialInfo(title="T", registry_id="T", short_name="T",
                                  primary_visit_day=56), [A, C], enrollment=pace, adrs=trial_adrs())
    assert "no response visit on day 56" in wrong_day.primary.reason


def test_summary_of_nobody_does_not_raise():
    nobody = trial_subjects().iloc[:0]
    s = executive_summary(nobody, "2020-06-30", INFO, [A, C], enrollment=trial_enrollment(trial_subjects(), "2020-06-30", INFO),
                          adrs=trial_adrs(), adae=adae())
    assert s.patients == 0 and s.arms == ()
    assert s.primary.by_arm.empty
    assert s.deaths.set_index("ARM").loc["All arms", ["n", "N"]].tolist() == [0, 0]
    assert isinstance(s.signals, Omitted)
