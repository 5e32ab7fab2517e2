"""Response transforms on tiny inline frames with hand-computed answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.transforms import response as rs

CUT = pd.Timestamp("2020-03-01")


def _adsl():
    return pd.DataFrame({
        "USUBJID": ["S1", "S2", "S3", "S4", "S5"],
        "ARM": ["T", "T", "T", "C", "C"],
        "SITEID": ["01", "01", "02", "02", "01"],
        "RANDDT": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01", "2020-02-20"]),
        "DTHDT": pd.to_datetime([None, None, "2020-01-10", None, None]),
        "GRADE": ["II", "III", "II", "III", "II"],
    })


def _adrs():
    # S1 CR/CR, S2 PR then NR, S3 died before day 28, S4 NR at day 7 and no day-28 row,
    # S5 randomized 2020-02-20: day 7 done (PR), day 28 (2020-03-18) after the cut -> pending.
    return pd.DataFrame({
        "USUBJID": ["S1", "S1", "S2", "S2", "S3", "S4", "S5", "S1"],
        "PARAMCD": ["OVRLRESP"] * 7 + ["OTHER"],
        "AVISIT": ["Day 7", "Day 28", "Day 7", "Day 28", "Day 7", "Day 7", "Day 7", "Day 7"],
        "AVISITN": [7, 28, 7, 28, 7, 7, 7, 7],
        "AVALC": ["CR", "CR", "PR", "NR", "NR", "NR", "PR", "XX"],
        "ADY": [7, 28, 7, 28, 7, 7, 7, 7],
    })


def _status():
    return rs.response_status_by_visit(_adsl(), _adrs(), CUT)


def test_status_marks_died_missing_and_pending():
    st = _status().set_index(["USUBJID", "AVISIT"])["STATUS"]
    assert st[("S1", "Day 28")] == "CR"
    assert st[("S2", "Day 28")] == "NR"
    assert st[("S3", "Day 28")] == "Died"
    assert st[("S4", "Day 28")] == "No assessment"
    assert st[("S5", "Day 28")] == "Pending"
    assert st[("S5", "Day 7")] == "PR"
    assert len(st) == 10  # every subject at every visit


def _window_inputs():
    # All randomized 2020-01-01 (day 28 = 2020-01-28). P1 assessed on day 31, the latest day-28 assessment;
    # P2 not assessed at day 28; P3 died on 2020-01-29 (after the nominal day) without a day-28 assessment.
    adsl = pd.DataFrame({"USUBJID": ["P1", "P2", "P3"], "ARM": ["T", "T", "C"],
                         "RANDDT": pd.to_datetime(["2020-01-01"] * 3),
                         "DTHDT": pd.to_datetime([None, None, "2020-01-29"])})
    adrs = pd.DataFrame({"USUBJID": ["P1", "P2", "P3", "P1"], "PARAMCD": "OVRLRESP",
                         "AVISIT": ["Day 7", "Day 7", "Day 7", "Day 28"], "AVISITN": [7, 7, 7, 28],
                         "ADY": [7, 8, 6, 31], "AVALC": ["PR", "SD", "SD", "CR"]})
    return adsl, adrs


def test_a_visit_whose_window_is_still_open_at_the_cut_is_pending_not_missed():
    adsl, adrs = _window_inputs()
    visits = rs.response_visits(adrs).set_index("AVISIT")
    assert visits["WINDOW_END"].to_dict() == {"Day 7": 8.0, "Day 28": 31.0}  # latest assessment day seen
    # Cut 2020-01-30 (day 30): day 28 has passed but its window (to day 31) has not closed.
    st = rs.response_status_by_visit(adsl, adrs, "2020-01-30").set_index(["USUBJID", "AVISIT"])["STATUS"]
    assert st[("P1", "Day 28")] == "CR"
    assert st[("P2", "Day 28")] == "Pending"
    assert st[("P3", "Day 28")] == "No assessment"  # dead at the cut: no assessment can still come
    overall = rs.overall_response_by_visit(rs.response_status_by_visit(adsl, adrs, "2020-01-30"), arms=["T", "C"])
    t28 = overall[(overall["ARM"] == "T") & (overall["AVISIT"] == "Day 28")].iloc[0]
    assert (t28["responders"], t28["evaluated"], t28["pending"], t28["label"]) == (1, 1, 1, "1/1 (100.0%)")
    # Once the window has closed (cut on day 31) the missing assessment is a non-response.
    closed = rs.response_status_by_visit(adsl, adrs, "2020-01-31").set_index(["USUBJID", "AVISIT"])["STATUS"]
    assert closed[("P2", "Day 28")] == "No assessment"


def test_responders_at_a_visit_leave_out_the_pending():
    adsl, adrs = _window_inputs()
    status = rs.response_status_by_visit(adsl, adrs, "2020-01-30")
    assert rs.responders_at(status, "Day 28", "T") == (1, 1)  # P1 CR; P2 pending
    assert rs.responders_at(status, "Day 28", "C") == (0, 1)  # P3 died without an assessment
    assert rs.responders_at(status, "Day 7", "T") == (1, 2)  # P1 PR, P2 SD


def test_protocol_visit_windows_override_the_observed_ones():
    adsl, adrs = _window_inputs()
    visits = rs.response_visits(adrs, windows={28: 1}).set_index("AVISIT")
    assert visits["WINDOW_END"].to_dict() == {"Day 7": 8.0, "Day 28": 29.0}  # day 7 has no protocol window
    st = rs.response_status_by_visit(adsl, adrs, "2020-01-30", windows={28: 1}).set_index(["USUBJID", "AVISIT"])
    assert st.loc[("P2", "Day 28"), "STATUS"] == "No assessment"  # the day 28 +/- 1 window closed on day 29
    no_ady = rs.response_visits(adrs.drop(columns="ADY")).set_index("AVISIT")
    assert no_ady["WINDOW_END"].to_dict() == {"Day 7": 7.0, "Day 28": 28.0}  # no window known: the nominal day


def test_response_by_visit_keeps_everyone_in_denominator():
    counts = rs.response_by_visit(_status(), arms=["T", "C"])
    d28 = counts[counts["AVISIT"] == "Day 28"].set_index(["ARM", "STATUS"])
    assert d28.loc[("T", "CR"), "n"] == 1 and d28.loc[("T", "CR"), "N"] == 3
    assert d28.loc[("C", "Pending"), "n"] == 1 and d28.loc[("C", "Pending"), "N"] == 2
    assert d28.groupby("ARM", observed=True)["n"].sum().tolist() == [3, 2]
    assert d28.loc[("T", "Died"), "pct"] == pytest.approx(100 / 3)
    assert list(counts["STATUS"].cat.categories) == ["CR", "PR", "NR", "Died", "No assessment", "Pending"]


def test_overall_response_excludes_pending_counts_died_as_non_response():
    ov = rs.overall_response_by_visit(_status(), arms=["T", "C"]).set_index(["ARM", "AVISIT"])
    t28 = ov.loc[("T", "Day 28")]
    assert (t28["responders"], t28["evaluated"], t28["pending"]) == (1, 3, 0)
    assert t28["label"] == "1/3 (33.3%)"
    c28 = ov.loc[("C", "Day 28")]
    assert (c28["responders"], c28["evaluated"], c28["pending"], c28["N"]) == (0, 1, 1, 2)
    # Wilson 95% for 1/3: centre (1 + 1.92)/(3 + 3.84), hand value 6.15% .. 79.2%
    assert t28["ci_low"] == pytest.approx(6.15, abs=0.05)
    assert t28["ci_high"] == pytest.approx(79.2, abs=0.05)


def test_compare_response_published_style_numbers():
    # 82/99 vs 70/99: difference 12.1 points, Woolf OR 2.00 (1.01-3.94), Pearson p 0.043
    rows = [("T", "CR")] * 82 + [("T", "NR")] * 17 + [("C", "PR")] * 70 + [("C", "NR")] * 29
    status = pd.DataFrame({"USUBJID": [str(i) for i in range(len(rows))], "ARM": [a for a, _ in rows],
                           "AVISIT": "Day 28", "DAY": 28.0, "STATUS": [s for _, s in rows]})
    cmp = rs.compare_response(status, "Day 28", "T", "C")
    assert (cmp["n_t"], cmp["N_t"], cmp["n_c"], cmp["N_c"]) == (82, 99, 70, 99)
    assert cmp["diff"] == pytest.approx(12 / 99)
    assert cmp["odds_ratio"] == pytest.approx(82 * 29 / (17 * 70))
    assert cmp["or_ci"][0] == pytest.approx(1.01, abs=0.005) and cmp["or_ci"][1] == pytest.approx(3.94, abs=0.005)
    assert cmp["p_value"] == pytest.approx(0.043, abs=0.0005)
    lo, hi = cmp["diff_ci"]
    assert lo < cmp["diff"] < hi and lo > 0
    text = rs.comparison_sentence(cmp, {"T": "MSC", "C": "Control"})
    assert "82/99 (82.8%) of MSC" in text and "Newcombe" in text and "Wald" in text and "Wilson" in text


def test_compare_response_undefined_without_evaluable_patients():
    cmp = rs.compare_response(_status(), "Day 28", "T", "Nobody")
    assert math.isnan(cmp["diff"]) and math.isnan(cmp["odds_ratio"])


def test_transitions_day7_to_day28():
    tr = rs.response_transitions(_status(), "Day 7", "Day 28", arms=["T", "C"]).set_index(["ARM", "FROM", "TO"])
    assert tr.loc[("T", "CR", "CR"), "n"] == 1
    assert tr.loc[("T", "PR", "NR"), "n"] == 1
    assert tr.loc[("T", "NR", "Died"), "n"] == 1
    assert tr.loc[("C", "PR", "Pending"), "n"] == 1
    assert tr["n"].sum() == 5
    assert tr.loc[("T", "PR", "NR"), "pct_of_from"] == 100


def test_best_response_uses_category_order():
    best = rs.best_response(_status()).set_index("USUBJID")["BEST"]
    assert best.to_dict() == {"S1": "CR", "S2": "PR", "S3": "NR", "S4": "NR", "S5": "PR"}


def test_unknown_oncology_categories_are_kept_after_known_ones():
    assert rs.category_order(["SD", "NON-CR/NON-PD", "Pending", "CR", "PD"]) == ["CR", "SD", "PD", "NON-CR/NON-PD", "Pending"]
    colors = rs.category_colors(["NON-CR/NON-PD", "CR"])
    assert set(colors) == {"CR", "NON-CR/NON-PD"} and colors["CR"] != colors["NON-CR/NON-PD"]


def test_visits_without_avisitn_use_median_study_day():
    adrs = pd.DataFrame({"USUBJID": ["a", "b", "a"], "PARAMCD": "OVR", "AVISIT": ["WEEK 6", "WEEK 6", "WEEK 3"],
                         "AVALC": ["PR", "SD", "SD"], "ADY": [43, 45, 22]})
    assert rs.response_parameter(adrs) == "OVR"
    visits = rs.response_visits(adrs)
    assert visits["AVISIT"].tolist() == ["WEEK 3", "WEEK 6"] and visits["DAY"].tolist() == [22, 44]


def test_status_names_missing_columns():
    with pytest.raises(KeyError, match="RANDDT"):
        rs.response_status_by_visit(_adsl().drop(columns="RANDDT"), _adrs(), CUT)


def test_swimmer_lanes_and_events():
    adsl = _adsl().assign(EOSSTT=["ONGOING", "DISCONTINUED", "COMPLETED", "ONGOING", "ONGOING"],
                          EOSDT=pd.to_datetime([None, "2020-01-21", None, None, None]))
    adtte = pd.DataFrame({"USUBJID": ["S1", "S2"], "PARAMCD": ["CGVHD", "CGVHD"], "AVAL": [40.0, 15.0], "CNSR": [0, 1]})
    adex = pd.DataFrame({"USUBJID": ["S1"], "EXTRT": ["MSC"], "ASTDT": pd.to_datetime(["2020-01-02"]),
                         "EXDOSE": [1.0], "EXDOSU": ["10^6 cells/kg"]})
    adae = pd.DataFrame({"USUBJID": ["S4", "S4"], "AEDECOD": ["Sepsis", "Rash"], "AESER": ["Y", "N"],
                         "ASTDT": pd.to_datetime(["2020-01-05", "2020-01-06"]), "AETOXGRN": [4, 1]})
    lanes = rs.swimmer_lanes(adsl, CUT, _status(), adtte).set_index("USUBJID")
    assert lanes.loc["S3", "END"] == 9 and lanes.loc["S3", "END_STATUS"] == "Died"
    assert lanes.loc["S2", "END"] == 20 and lanes.loc["S2", "END_STATUS"] == "Discontinued"
    assert lanes.loc["S1", "END"] == 60 and lanes.loc["S1", "END_STATUS"] == "Ongoing"
    assert lanes.loc["S1", "EVENTS"] == "cGVHD onset" and lanes.loc["S2", "EVENTS"] == ""
    assert lanes.loc["S1", "BEST"] == "CR"
    ev = rs.swimmer_events(adsl, _adrs(), adex, adae, adtte)
    kinds = ev.groupby("KIND").size().to_dict()
    assert kinds == {"Response": 7, "Exposure": 1, "Serious AE": 1, "cGVHD onset": 1, "Death": 1}
    assert ev.loc[ev["KIND"] == "Exposure", "DAY"].item() == 1
    assert ev.loc[ev["KIND"] == "Response", "DAY"].min() == 6  # ADT absent: ADY 7 -> 6 days after randomization


def test_swimmer_lanes_mark_the_compared_cut_and_patients_randomized_after_it():
    lanes = rs.swimmer_lanes(_adsl(), CUT, compared_cut="2020-02-10").set_index("USUBJID")
    assert lanes["NEW"].to_dict() == {"S1": False, "S2": False, "S3": False, "S4": False, "S5": True}
    assert lanes.loc["S1", "COMPARED_DAY"] == 40 and pd.isna(lanes.loc["S5", "COMPARED_DAY"])
    assert "NEW" not in rs.swimmer_lanes(_adsl(), CUT)


def test_swimmer_marks_a_trials_own_time_to_event_parameters_when_none_is_configured():
    adtte = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "PARAMCD": "TTDE",
                          "PARAM": "Time to First Dermatologic Event", "AVAL": [12.0, 30.0, 5.0], "CNSR": [0, 1, 0]})
    events = rs.swimmer_tte_events(_adsl(), adtte)
    assert events.to_dict("list") == {"USUBJID": ["S1", "S3"], "DAY": [12.0, 5.0],
                                      "LABEL": ["First Dermatologic Event"] * 2}
    configured = pd.concat([adtte, pd.DataFrame({"USUBJID": ["S2"], "PARAMCD": ["CGVHD"], "PARAM": ["cGVHD"],
                                                 "AVAL": [9.0], "CNSR": [0]})])
    assert rs.swimmer_tte_events(_adsl(), configured)["LABEL"].tolist() == ["cGVHD onset"]


def test_subgroup_differences_with_interaction_p():
    # Grade II: T 4/4 vs C 0/4 (big effect); grade III: T 2/4 vs C 2/4 (none) -> interaction
    rows = []
    for grade, t_resp, c_resp in (("II", [1, 1, 1, 1], [0, 0, 0, 0]), ("III", [1, 1, 0, 0], [1, 1, 0, 0])):
        rows += [(grade, "T", r) for r in t_resp] + [(grade, "C", r) for r in c_resp]
    ids = [f"P{i}" for i in range(len(rows))]
    subjects = pd.DataFrame({"USUBJID": ids, "GRADE": [r[0] for r in rows], "ONE": "x"})
    status = pd.DataFrame({"USUBJID": ids, "ARM": [r[1] for r in rows], "AVISIT": "Day 28", "DAY": 28.0,
                           "STATUS": ["CR" if r[2] else "NR" for r in rows]})
    out = rs.subgroup_response_differences(status, subjects, "Day 28", "T", "C", {"GRADE": "Grade", "ONE": "One", "NOPE": "x"})
    assert out["VARIABLE"].unique().tolist() == ["GRADE"]
    g = out.set_index("LEVEL")
    assert g.loc["II", "diff"] == 1.0 and g.loc["III", "diff"] == 0.0
    assert (g.loc["II", "n_t"], g.loc["II", "N_t"], g.loc["II", "n_c"], g.loc["II", "N_c"]) == (4, 4, 0, 4)
    assert g.loc["III", "diff_low"] < 0 < g.loc["III", "diff_high"]
    assert 0 < g["p_interaction"].iloc[0] < 0.05


def test_small_subgroup_levels_not_estimable_and_left_out_of_interaction():
    # Grade II 8 patients, III 8 patients, IV 3 treatment-only patients: IV never estimable (no control).
    rows = []
    for grade, t_resp, c_resp in (("II", [1, 1, 1, 1], [0, 0, 0, 0]), ("III", [1, 1, 0, 0], [1, 1, 0, 0]),
                                  ("IV", [1, 0, 1], [])):
        rows += [(grade, "T", r) for r in t_resp] + [(grade, "C", r) for r in c_resp]
    ids = [f"P{i}" for i in range(len(rows))]
    subjects = pd.DataFrame({"USUBJID": ids, "GRADE": [r[0] for r in rows]})
    status = pd.DataFrame({"USUBJID": ids, "ARM": [r[1] for r in rows], "AVISIT": "Day 28", "DAY": 28.0,
                           "STATUS": ["CR" if r[2] else "NR" for r in rows]})
    out = rs.subgroup_response_differences(status, subjects, "Day 28", "T", "C", {"GRADE": "Grade"}).set_index("LEVEL")
    assert out["ESTIMABLE"].tolist() == [True, True, False]
    assert math.isnan(out.loc["IV", "diff"]) and (out.loc["IV", "n_t"], out.loc["IV", "N_t"], out.loc["IV", "N_c"]) == (2, 3, 0)
    # IV is excluded from the interaction test: same p as with grades II and III only.
    two = rs.subgroup_response_differences(status[~subjects["GRADE"].eq("IV")], subjects, "Day 28", "T", "C",
                                           {"GRADE": "Grade"})
    assert out["p_interaction"].iloc[0] == pytest.approx(two["p_interaction"].iloc[0])
    # With a minimum of 10 patients per level no level is estimable: no interaction p.
    small = rs.subgroup_response_differences(status, subjects, "Day 28", "T", "C", {"GRADE": "Grade"}, min_level_size=10)
    assert not small["ESTIMABLE"].any() and small["diff"].isna().all() and small["p_interaction"].isna().all()


def test_inputs_not_modified():
    adsl, adrs = _adsl(), _adrs()
    a, b = adsl.copy(), adrs.copy()
    rs.response_by_visit(rs.response_status_by_visit(adsl, adrs, CUT))
    pd.testing.assert_frame_equal(adsl, a)
    pd.testing.assert_frame_equal(adrs, b)


def _reference_records() -> dict:
    import json

    from tests.conftest import shared_path

    return {r["id"]: r for r in json.loads(shared_path("reference", "nct02241018_published.json").read_text())["records"]}


def test_bundled_trial_reproduces_published_response_counts(bundled):
    """Day-28 82/99 vs 70/99 and day-56 78/99 vs 64/99 from patient rows; day-28 OR, its Wald CI and p."""
    from dashboard.store import TrialStore
    from dashboard.synthetic import calibration as cal

    records = _reference_records()
    subjects = TrialStore(bundled, population="Evaluable").subjects()
    status = rs.response_status_by_visit(subjects, bundled.adrs, bundled.cutoff)
    overall = rs.overall_response_by_visit(status).set_index(["ARM", "AVISIT"])
    for target in cal.RESPONSE_TARGETS:
        ref = records[target.ref]
        row = overall.loc[(cal.ARM_NAME[target.arm], target.visit)]
        assert ref["timepoint"] == target.visit.lower()
        assert row["responders"] == ref["value"] == target.value
        assert row["evaluated"] == ref["denominator"] and row["pending"] == 0
    cmp = rs.compare_response(status, "Day 28", cal.ARM_NAME["MSC"], cal.ARM_NAME["CONTROL"])
    odds = next(r for r in records.values() if r["measure"] == "overall_response_odds_ratio")
    assert round(cmp["odds_ratio"], 2) == odds["value"]
    assert (round(cmp["or_ci"][0], 2), round(cmp["or_ci"][1], 2)) == (odds["ci95_low"], odds["ci95_high"])
    assert round(cmp["p_value"], 3) == odds["p_value"]


def test_primary_population_is_the_trials_when_the_data_flag_it():
    assert rs.primary_population("Evaluable", ["ITT", "Safety", "Evaluable"], "ITT") == ("Evaluable", True)
    assert rs.primary_population("Evaluable", ["ITT", "Safety"], "Safety") == ("Safety", False)
    assert rs.primary_population(None, ["ITT", "Evaluable"], "ITT") == ("ITT", False)


def test_forest_plot_rows_start_with_all_patients():
    # Grade II: T 4/4 vs C 0/4; grade III: T 2/4 vs C 2/4 -> all patients T 6/8 vs C 2/8.
    rows = []
    for grade, t_resp, c_resp in (("II", [1, 1, 1, 1], [0, 0, 0, 0]), ("III", [1, 1, 0, 0], [1, 1, 0, 0])):
        rows += [(grade, "T", r) for r in t_resp] + [(grade, "C", r) for r in c_resp]
    ids = [f"P{i}" for i in range(len(rows))]
    subjects = pd.DataFrame({"USUBJID": ids, "GRADE": [r[0] for r in rows]})
    status = pd.DataFrame({"USUBJID": ids, "ARM": [r[1] for r in rows], "AVISIT": "Day 28", "DAY": 28.0,
                           "STATUS": ["CR" if r[2] else "NR" for r in rows]})
    out = rs.forest_plot_rows(status, subjects, "Day 28", "T", "C", {"GRADE": "Grade"})
    assert out["SUBGROUP"].tolist() == ["All patients", "Grade", "Grade"] and out["LEVEL"].tolist() == ["", "II", "III"]
    everyone = out.iloc[0]
    assert (everyone["n_t"], everyone["N_t"], everyone["n_c"], everyone["N_c"]) == (6, 8, 2, 8)
    assert everyone["diff"] == 0.5 and bool(everyone["ESTIMABLE"]) and math.isnan(everyone["p_interaction"])
    cmp = rs.compare_response(status, "Day 28", "T", "C")
    assert (everyone["diff_low"], everyone["diff_high"]) == pytest.approx(cmp["diff_ci"])
    pd.testing.assert_frame_equal(out.iloc[1:].reset_index(drop=True), rs.subgroup_response_differences(
        status, subjects, "Day 28", "T", "C", {"GRADE": "Grade"}), check_dtype=False)
    assert rs.forest_plot_rows(status, subjects.assign(GRADE="II"), "Day 28", "T", "C", {"GRADE": "Grade"}).empty
