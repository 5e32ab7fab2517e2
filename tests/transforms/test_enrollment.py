"""Enrollment transforms on tiny inline frames whose answers are worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.transforms.enrollment import (ALL_ARMS, accrual_gap_statement, accrual_over_time, accrual_rate,
                                             accrual_statement, accrual_vs_plan, activation_at,
                                             closed_without_forecast, enrollment_by_site, enrollment_closed,
                                             flow_notes, funnel_missing, has_screening_data, locations_by_city,
                                             monthly_accrual, plan_period, plan_scope, planned_accrual, planned_by,
                                             reached_vs_plan, recruitment_end, recruitment_pauses,
                                             screening_funnel, site_activation, site_locations, site_performance)
from dashboard.transforms.filtering import FilterSpec

A, B, C = "Arm A", "Arm B", "Arm C"
CUT = pd.Timestamp("2020-06-30")

# 7 screened at 3 sites: 5 randomized (A, B, A at site 1; C, B at site 2), 2 screen failures (site 1, 3).
SCREENED = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5", "F1", "F2"],
        "SITEID": ["1", "1", "1", "2", "2", "1", "3"],
        "SITENAME": ["North", "North", "North", "South", "South", "North", "East"],
        "ARM": [A, B, A, C, B, "Screen Failure", "Screen Failure"],
        "RANDFL": ["Y", "Y", "Y", "Y", "Y", "N", "N"],
        "SAFFL": ["Y", "Y", "N", "Y", "Y", "N", "N"],
        "EFFFL": ["Y", "Y", "N", "Y", "N", "N", "N"],
        "SCRNDT": pd.to_datetime(["2020-01-02", "2020-01-20", "2020-03-01", "2020-02-10", "2020-05-01",
                                  "2020-01-05", "2020-04-01"]),
        "SFREAS": [None, None, None, None, None, "Age out of range", "  "],
        "RANDDT": pd.to_datetime(["2020-01-05", "2020-01-25", "2020-03-05", "2020-02-15", "2020-05-05",
                                  None, None]),
        "EOSSTT": ["COMPLETED", "DISCONTINUED", "DISCONTINUED", "ONGOING", None, "NOT RANDOMIZED",
                   "NOT RANDOMIZED"],
        "DCSREAS": [None, "Death", "Withdrawal by subject", None, None, None, None],
        "DTHFL": ["N", "Y", "N", "N", "N", "N", "N"],
    }
)
SUBJECTS = SCREENED.loc[SCREENED["RANDFL"] == "Y"]
SITES = pd.DataFrame(
    {
        "SITEID": ["1", "2", "3", "4"],
        "SITENAME": ["North", "South", "East", "West"],
        "CITY": ["Harbin", "Guangzhou", "Shanghai", "Chengdu"],
        "LAT": [45.0, 23.0, 31.0, None],
        "LON": [126.0, 113.0, 121.0, 104.0],
        "ACTIVDT": pd.to_datetime(["2019-12-31", None, "2020-03-31", "2020-08-01"]),
    }
)


def test_enrollment_by_site_counts_every_site_and_arm_with_zeros_sorted_by_total():
    out = enrollment_by_site(SUBJECTS, site_ids=["1", "2", "3"], arms=[A, B, C])
    assert list(dict.fromkeys(out["SITEID"])) == ["1", "2", "3"]
    counts = out.set_index(["SITEID", "ARM"])["N"]
    assert counts[("1", A)] == 2 and counts[("1", B)] == 1 and counts[("1", C)] == 0
    assert counts[("2", C)] == 1 and counts[("3", A)] == 0
    assert out.groupby("SITEID")["SITE_TOTAL"].first().to_dict() == {"1": 3, "2": 2, "3": 0}
    assert len(out) == 9


def test_enrollment_by_site_with_one_site_and_no_arms_given():
    out = enrollment_by_site(SUBJECTS.loc[SUBJECTS["SITEID"] == "2"])
    assert out[["SITEID", "ARM", "N"]].values.tolist() == [["2", C, 1], ["2", B, 1]]


def test_enrollment_by_site_orders_many_sites_naturally_on_ties():
    frame = pd.DataFrame({"SITEID": [str(i) for i in range(1, 96)], "ARM": [A] * 95})
    out = enrollment_by_site(frame)
    assert out["SITEID"].tolist()[:3] == ["1", "2", "3"] and out["SITEID"].iloc[-1] == "95"


def test_site_activation_prefers_sites_table_then_first_screening():
    out = site_activation(SCREENED, SITES).set_index("SITEID")
    assert out.loc["1", "ACTIVDT"] == pd.Timestamp("2019-12-31") and out.loc["1", "ACTIVDT_SOURCE"] == "sites table"
    assert out.loc["2", "ACTIVDT"] == pd.Timestamp("2020-02-10") and out.loc["2", "ACTIVDT_SOURCE"] == "first screening"
    assert out.loc["4", "ACTIVDT"] == pd.Timestamp("2020-08-01")  # activates after the cut
    without = site_activation(SCREENED).set_index("SITEID")
    assert without.loc["1", "ACTIVDT"] == pd.Timestamp("2020-01-02")


def test_site_performance_by_hand():
    activation = site_activation(SCREENED, SITES.iloc[:3])
    out = site_performance(SUBJECTS, SCREENED, activation, CUT, arms=[A, B, C], sites=SITES).set_index("SITEID")
    assert out.index.tolist() == ["1", "2", "3"]
    north = out.loc["1"]
    assert (north[A], north[B], north[C], north["RANDOMIZED"]) == (2, 1, 0, 3)
    assert (north["SCREENED"], north["SCREEN_FAILURES"], north["SF_RATE"]) == (4, 1, 25.0)
    # 2019-12-31 to 2020-06-30 = 182 days = 5.98 months; 3 / 5.98 = 0.50 per site-month
    assert north["MONTHS_ACTIVE"] == 6.0 and north["RATE_PER_MONTH"] == 0.5
    assert north["DAYS_TO_FIRST"] == 5 and north["CITY"] == "Harbin"
    east = out.loc["3"]
    assert east["RANDOMIZED"] == 0 and east["SF_RATE"] == 100.0 and pd.isna(east["DAYS_TO_FIRST"])
    assert east["RATE_PER_MONTH"] == 0.0


def test_months_active_end_when_recruitment_ended_not_at_the_data_cut():
    activation = site_activation(SCREENED, SITES.iloc[:3])
    # The 5 patients reach a target of 5 on 2020-05-05, the last randomization: enrollment closed then.
    until, why = recruitment_end(SUBJECTS["RANDDT"], 5, CUT)
    assert until == pd.Timestamp("2020-05-05") and why == "enrollment closed on 2020-05-05 (target of 5 reached)"
    out = site_performance(SUBJECTS, SCREENED, activation, CUT, arms=[A, B, C], until=until).set_index("SITEID")
    # North: 2019-12-31 to 2020-05-05 = 126 days = 4.14 months; 3 / 4.14 = 0.72 per site-month (not 0.50).
    assert out.loc["1", "MONTHS_ACTIVE"] == 4.1 and out.loc["1", "RATE_PER_MONTH"] == 0.72
    # South, activated at its first screening 2020-02-10: 85 days = 2.79 months; 2 / 2.79 = 0.72.
    assert out.loc["2", "MONTHS_ACTIVE"] == 2.8 and out.loc["2", "RATE_PER_MONTH"] == 0.72


def test_recruitment_end_without_a_target_or_before_reaching_it():
    assert enrollment_closed(SUBJECTS["RANDDT"], 6) is None and enrollment_closed(SUBJECTS["RANDDT"], None) is None
    assert enrollment_closed(SUBJECTS["RANDDT"], 5) == pd.Timestamp("2020-05-05")
    open_until, open_why = recruitment_end(SUBJECTS["RANDDT"], 6, CUT)  # 5 of 6: still recruiting
    assert open_until == CUT and "enrollment still open" in open_why
    last, why = recruitment_end(SUBJECTS["RANDDT"], None, CUT)
    assert last == pd.Timestamp("2020-05-05") and "no enrollment target recorded" in why


def test_consort_reads_adam_y_blank_flags():
    # ADaM style: DTHFL / SAFFL / EFFFL 'Y' or blank (nullable strings), as the CDISC pilot has them.
    adam = SCREENED.assign(DTHFL=pd.array([None, "Y", None, None, None, None, None], dtype="string"),
                           SAFFL=pd.array(["Y", "Y", None, "Y", "y", None, None], dtype="string"),
                           EFFFL=pd.array(["Y", "Y", None, "Y", None, None, None], dtype="string"))
    n = {(r.STAGE, r.ARM, r.DETAIL): r.N for r in screening_funnel(adam, arms=[A, B, C]).itertuples()}
    assert [n[("Died", arm, "")] for arm in (A, B, C)] == [0, 1, 0]
    assert [n[("Status", arm, "Died")] for arm in (A, B, C)] == [0, 1, 0]  # not every patient
    assert [n[("Status", arm, "Ongoing")] for arm in (A, B, C)] == [0, 1, 1]
    assert [n[("Status", arm, "Withdrawn")] for arm in (A, B, C)] == [1, 0, 0]  # P2 discontinued by death
    assert [n[("Treated", arm, "")] for arm in (A, B, C)] == [1, 2, 1]
    assert [n[("Analysed", arm, "")] for arm in (A, B, C)] == [1, 1, 1]


def test_site_performance_without_screening_data():
    activation = site_activation(SUBJECTS)
    out = site_performance(SUBJECTS, None, activation, CUT)
    assert out["SCREENED"].isna().all() and out["SF_RATE"].isna().all()
    assert out["RANDOMIZED"].sum() == 5


def test_accrual_over_time_steps_per_arm_and_total():
    out = accrual_over_time(SUBJECTS, CUT, arms=[A, B, C])
    total = out.loc[out["ARM"] == ALL_ARMS]
    assert total["N_CUM"].tolist() == [0, 1, 2, 3, 4, 5, 5]
    assert total["DATE"].iloc[0] == pd.Timestamp("2020-01-04") and total["DATE"].iloc[-1] == CUT
    arm_a = out.loc[out["ARM"] == A]
    assert arm_a["N_CUM"].tolist() == [0, 1, 2, 2]
    assert set(out["ARM"]) == {A, B, C, ALL_ARMS}


def test_accrual_over_time_empty():
    assert accrual_over_time(SUBJECTS.iloc[:0], CUT).empty


def test_plan_line_and_gap_in_words():
    plan = planned_accrual(200, "2016-01-01", "2018-01-01", until="2019-01-01")
    assert plan["N_PLANNED"].tolist() == [0, 200, 200]
    # 2017-01-01 is 366 of 731 days into the plan: 100.1 patients planned
    assert planned_by("2017-01-01", 200, "2016-01-01", "2018-01-01") == pytest.approx(100.14, abs=0.01)
    text = accrual_gap_statement(88, 200, "2016-01-01", "2018-01-01", "2017-01-01")
    assert text == "12 patients (6% of the 200 target) behind plan on 2017-01-01: 88 randomized vs 100 planned by then."
    ahead = accrual_gap_statement(101, 200, "2016-01-01", "2018-01-01", "2017-01-01")
    assert ahead.startswith("1 patient (0% of the 200 target) ahead of plan")
    assert accrual_gap_statement(150, 100, "2016-01-01", "2018-01-01", "2019-06-01").startswith("50 patients (50%")
    with pytest.raises(ValueError, match="must be after"):
        planned_accrual(10, "2018-01-01", "2017-01-01")


def test_monthly_accrual_rate_and_pauses():
    monthly = monthly_accrual(SUBJECTS, CUT, arms=[A, B, C])
    assert len(monthly) == 6 * 3  # Jan..Jun 2020 x 3 arms
    rate = accrual_rate(monthly, CUT, window=3)
    assert rate["N"].tolist() == [2, 1, 1, 0, 1, 0]
    assert rate["ROLLING_RATE"].tolist() == [2.0, 1.5, 1.33, 0.67, 0.67, 0.33]
    assert rate["PAUSE"].tolist() == [False, False, False, True, False, True]
    assert not rate["PARTIAL"].any()  # cut on the last day of June
    pauses = recruitment_pauses(rate)
    assert pauses.values.tolist() == [[pd.Timestamp("2020-04-01"), pd.Timestamp("2020-04-01"), 1],
                                      [pd.Timestamp("2020-06-01"), pd.Timestamp("2020-06-01"), 1]]
    partial = accrual_rate(monthly_accrual(SUBJECTS, "2020-06-15"), "2020-06-15")
    assert partial["PARTIAL"].tolist() == [False] * 5 + [True]


def test_screening_funnel_counts_add_up():
    out = screening_funnel(SCREENED, arms=[A, B, C])
    n = {(r.STAGE, r.ARM, r.DETAIL): r.N for r in out.itertuples()}
    assert n[("Screened", "", "")] == 7 and n[("Excluded", "", "")] == 2
    assert n[("Excluded", "", "Age out of range")] == 1 and n[("Excluded", "", "Reason not recorded")] == 1
    assert [n[("Randomized", arm, "")] for arm in (A, B, C)] == [2, 2, 1]
    assert n[("Screened", "", "")] == n[("Excluded", "", "")] + sum(n[("Randomized", a, "")] for a in (A, B, C))
    assert (n[("Treated", A, "")], n[("Not treated", A, "")]) == (1, 1)
    assert (n[("Completed", B, "")], n[("Discontinued", B, "")], n[("Ongoing", B, "")]) == (0, 1, 1)
    assert n[("Discontinued", B, "Death")] == 1 and n[("Died", B, "")] == 1
    assert n[("Discontinued", A, "Withdrawal by subject")] == 1
    for arm in (A, B, C):
        r = n[("Randomized", arm, "")]
        assert n[("Analysed", arm, "")] + n[("Not analysed", arm, "")] == r
        assert n[("Completed", arm, "")] + n[("Discontinued", arm, "")] + n[("Ongoing", arm, "")] == r
    assert funnel_missing(SCREENED) == []


def test_funnel_without_screening_data_says_what_is_missing():
    randomized_only = SUBJECTS.drop(columns=["SCRNDT", "EOSSTT", "EFFFL"])
    assert not has_screening_data(randomized_only)
    out = screening_funnel(randomized_only)
    assert set(out["STAGE"]) == {"Screened", "Excluded", "Randomized", "Treated", "Not treated", "Died"}
    gaps = " ".join(funnel_missing(randomized_only))
    assert "No screening data" in gaps and "EOSSTT" in gaps and "EFFFL" in gaps


def test_site_locations_project_and_skip_sites_without_coordinates():
    out = site_locations(SITES, pd.Series({"1": 3, "2": 2}))
    assert out["SITEID"].tolist() == ["1", "2", "3"]
    assert out["RANDOMIZED"].tolist() == [3, 2, 0]
    # mean latitude 33 degrees: x = lon * cos(33 deg)
    assert out.loc[0, "X"] == pytest.approx(126.0 * 0.8387, rel=1e-3) and out.loc[0, "Y"] == 45.0


def test_transforms_name_missing_columns_and_leave_inputs_untouched():
    before = SCREENED.copy()
    screening_funnel(SCREENED)
    site_performance(SUBJECTS, SCREENED, site_activation(SCREENED, SITES), CUT)
    pd.testing.assert_frame_equal(SCREENED, before)
    with pytest.raises(KeyError, match="RANDDT"):
        monthly_accrual(SUBJECTS.drop(columns="RANDDT"), CUT)
    with pytest.raises(KeyError, match="LAT"):
        site_locations(SITES.drop(columns="LAT"), pd.Series(dtype=int))


def test_locations_by_city_merges_sites_of_one_city():
    sites = SITES.assign(CITY=["Harbin", "Harbin", None, "Chengdu"])
    out = locations_by_city(site_locations(sites, pd.Series({"1": 3, "2": 2, "3": 1})))
    assert out[["CITY", "SITES", "SITEIDS", "RANDOMIZED"]].values.tolist() == [["Harbin", 2, "1, 2", 5],
                                                                              ["3", 1, "3", 1]]
    assert out.loc[0, "LAT"] == 34.0 and out.loc[0, "LON"] == 119.5


def test_plan_scope_hides_the_plan_unless_only_sites_with_targets_are_filtered():
    targets = SITES.assign(TARGET=[10, 20, 5, None])
    assert plan_scope(200, FilterSpec(), targets) == (200, "")
    assert plan_scope(0, FilterSpec(), targets)[0] is None
    scope, why = plan_scope(200, FilterSpec(arms=(A,), sexes=("F",), population_flag="EFFFL"), targets)
    assert scope is None and "while arm, sex, population filters restrict" in why
    assert plan_scope(200, FilterSpec(sites=("1", "2")), targets) == (
        30, "Target for the selected sites: 30 (sum of site targets).")
    assert plan_scope(200, FilterSpec(sites=("1", "4")), targets)[0] is None  # site 4 has no target
    assert "per-site targets are not recorded" in plan_scope(200, FilterSpec(sites=("1",)), SITES)[1]


def test_plan_period_starts_at_the_first_activation_of_the_chosen_sites_if_later():
    activation = site_activation(SCREENED, SITES)
    assert plan_period("2019-06-01", "2021-01-01", activation) == (pd.Timestamp("2019-06-01"),
                                                                   pd.Timestamp("2021-01-01"))
    assert plan_period("2019-06-01", "2021-01-01", activation, ("3",))[0] == pd.Timestamp("2020-03-31")
    assert plan_period("2019-06-01", "2020-02-01", activation, ("3",)) is None  # ends before the site opened
    assert plan_period(None, "2021-01-01", activation) is None
    assert list(activation_at(activation, ("1", "3"))["SITEID"]) == ["1", "3"]
    assert len(activation_at(activation)) == len(activation)


def test_accrual_vs_plan_counts_to_the_cut_or_the_planned_end_if_earlier():
    # Plan 0 -> 100 over 2020-01-01 .. 2020-12-31; 5 randomized by the cut 2020-06-30 vs ~50 planned.
    on_cut = accrual_vs_plan(SUBJECTS["RANDDT"], 100, "2020-01-01", "2020-12-31", CUT)
    assert on_cut == accrual_gap_statement(5, 100, "2020-01-01", "2020-12-31", CUT)
    # Planned end 2020-02-01 passed: 2 randomized by then vs the full 100.
    ended = accrual_vs_plan(SUBJECTS["RANDDT"], 100, "2020-01-01", "2020-02-01", CUT)
    assert ended == "98 patients (98% of the 100 target) behind plan on 2020-02-01: 2 randomized vs 100 planned by then."


def test_enrollment_closed_and_reached_statements():
    assert closed_without_forecast(pd.Timestamp("2020-05-05"), 5, 3, 4) == (
        "Enrollment closed on 2020-05-05, when the trial reached its target of 5; the selected sites randomized 3 "
        "of their 4 (75%), so no forecast is made.")
    assert reached_vs_plan("2020-07-12", "2020-06-30") == "That was 12 days after the planned completion 2020-06-30."
    assert reached_vs_plan("2020-06-29", "2020-06-30") == "That was 1 days before the planned completion 2020-06-30."
    assert reached_vs_plan("2020-06-30", "2020-06-30") == "That was on the planned completion 2020-06-30."


def test_accrual_statement_names_mean_close_and_pauses():
    rate = accrual_rate(monthly_accrual(SUBJECTS, CUT, arms=[A, B, C]), CUT)
    # Jan 2, Feb 1, Mar 1, Apr 0, May 1, Jun 0 (partial): 5 in 6 months.
    assert accrual_statement(rate, None) == ("Mean 0.8 patients per month over 6 months. Months without "
                                             "randomization: 2020-04 (1 month); 2020-06 (1 month).")
    closed = accrual_statement(rate.iloc[:3], pd.Timestamp("2020-03-05"))
    assert closed == ("Mean 1.3 patients per month over 3 months. Enrollment closed in 2020-03 (target reached); "
                      "later months are not shown. No month without randomization.")


def test_flow_notes_say_which_filters_the_flow_ignores():
    assert flow_notes(SCREENED, FilterSpec()) == []
    assert "apply after randomization" in flow_notes(SCREENED, FilterSpec(arms=(A,)))[-1]
    assert len(flow_notes(SCREENED.drop(columns="EOSSTT"), FilterSpec(population_flag="SAFFL"))) == 2
