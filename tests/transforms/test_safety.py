"""Safety transforms on tiny inline frames (hand-computed answers), the CDISC pilot and the bundled trial."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.config import SAFETY_FOCUS_WINDOW_DAYS, SAFETY_TOPICS, AETopic, EventCategory
from dashboard.synthetic.calibration import NCT02241018
from dashboard.transforms import safety as s
from tests.conftest import shared_path

PILOT = ("data", "external", "cdiscpilot01_adam")

# Arm A: a, b, c (c has no events); arm B: d, e; f is in arm B but outside the safety population.
SUBJECTS = pd.DataFrame(
    {
        "USUBJID": ["a", "b", "c", "d", "e", "f"],
        "ARM": ["A", "A", "A", "B", "B", "B"],
        "SAFFL": ["Y", "Y", "Y", "Y", "Y", "N"],
        "RANDDT": pd.to_datetime(["2020-01-01"] * 6),
        "TRTSDT": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-11", "2020-01-01", "2020-01-01", None]),
        "DTHDT": pd.to_datetime([None, "2020-01-30", None, None, None, None]),
        "LSTALVDT": pd.to_datetime(["2020-03-01", "2020-01-30", "2020-12-31", "2020-02-15", "2021-06-01", None]),
        "EOSDT": pd.to_datetime([None, None, "2020-02-09", None, None, None]),
    }
)
INF, GI = "Infections and infestations", "Gastrointestinal disorders"
# a: pneumonia twice (grades 2 and 3) and nausea (1); b: sepsis grade 3 then grade 5;
# d: nausea grade 4 (serious, related); e: pneumonia grade 1; f (not safety): pneumonia grade 5.
ADAE = pd.DataFrame(
    {
        "USUBJID": ["a", "a", "a", "b", "b", "d", "e", "f"],
        "AESEQ": [1, 2, 3, 1, 2, 1, 1, 1],
        "AEBODSYS": [INF, INF, GI, INF, INF, GI, INF, INF],
        "AEDECOD": ["Pneumonia", "Pneumonia", "Nausea", "Sepsis", "Sepsis", "Nausea", "Pneumonia", "Pneumonia"],
        "AETERM": ["chest infection", "pneumonia", "nausea", "sepsis", "septic shock", "nausea", "pneumonia", "pn"],
        "AETOXGRN": [2, 3, 1, 3, 5, 4, 1, 5],
        "AESER": ["N", "Y", "N", "Y", "Y", "Y", "N", "Y"],
        "AEREL": ["NOT RELATED", "POSSIBLE", "N", "NONE", "UNLIKELY", "Related", "REMOTE", "Y"],
        "TRTEMFL": ["Y", "Y", "N", "Y", "Y", "Y", "Y", "Y"],
        "AECAT": ["INFECTION", "INFECTION", "OTHER", "INFECTION", "INFECTION", "OTHER", "INFECTION", "INFECTION"],
        "INFTYPE": ["Bacterial", "Bacterial", None, "Bacterial", "Bacterial", None, "CMV", "Fungal"],
        "ASTDY": [5, 40, 3, 10, 29, 20, 200, 2],
        "ASTDT": pd.to_datetime(["2020-01-05", "2020-02-09", "2020-01-03", "2020-01-10", "2020-01-29",
                                 "2020-01-20", "2020-07-18", "2020-01-02"]),
    }
)


def cell(inc, level, term, arm, band=s.ANY_BAND, soc=None):
    rows = inc[(inc["LEVEL"] == level) & (inc["AEDECOD"] == term) & (inc["ARM"] == arm) & (inc["BAND"] == band)]
    if soc is not None:
        rows = rows[rows["AEBODSYS"] == soc]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.fixture
def incidence():
    return s.ae_incidence_by_arm(s.select_events(ADAE, SUBJECTS), SUBJECTS, arms=["A", "B"])


def test_a_subject_with_two_events_of_the_same_term_counts_once(incidence):
    row = cell(incidence, "pt", "Pneumonia", "A")
    assert (row["SUBJECTS"], row["EVENTS"]) == (1, 2)
    soc = cell(incidence, "soc", s.SOC_TOTAL, "A", soc=INF)
    assert (soc["SUBJECTS"], soc["EVENTS"]) == (2, 4)  # a and b; 2 pneumonia + 2 sepsis events
    overall = cell(incidence, "overall", s.OVERALL, "A")
    assert (overall["SUBJECTS"], overall["EVENTS"]) == (2, 5)


def test_subjects_count_at_their_maximum_grade_events_at_their_own(incidence):
    # a's pneumonia: grades 2 and 3 -> grade 3-4 band only; b's sepsis: 3 then 5 -> grade 5 only.
    assert cell(incidence, "pt", "Pneumonia", "A", "Grade 3-4")[["SUBJECTS", "EVENTS"]].tolist() == [1, 1]
    assert cell(incidence, "pt", "Sepsis", "A", "Grade 3-4")[["SUBJECTS", "EVENTS"]].tolist() == [0, 1]
    assert cell(incidence, "pt", "Sepsis", "A", "Grade 5")[["SUBJECTS", "EVENTS"]].tolist() == [1, 1]
    # Overall in arm A: a's worst is 3, b's worst is 5.
    assert cell(incidence, "overall", s.OVERALL, "A", "Grade 3-4")["SUBJECTS"] == 1
    assert cell(incidence, "overall", s.OVERALL, "A", "Grade 5")["SUBJECTS"] == 1


def test_denominators_come_from_the_safety_population_not_the_ae_table(incidence):
    # Arm A: 3 safety patients although only 2 have events; arm B: 2 (f is not in the safety population).
    assert set(incidence.loc[incidence["ARM"] == "A", "N"]) == {3}
    assert set(incidence.loc[incidence["ARM"] == "B", "N"]) == {2}
    row = cell(incidence, "pt", "Pneumonia", "B")
    assert (row["SUBJECTS"], row["EVENTS"], row["N"]) == (1, 1, 2)  # e only: f's event is excluded
    assert row["PCT"] == pytest.approx(50.0)
    assert cell(incidence, "pt", "Pneumonia", "B", "Grade 5")["SUBJECTS"] == 0
    assert s.safety_denominators(SUBJECTS, ["B", "A", "Z"]).to_dict() == {"B": 2, "A": 3}


def test_filtered_subjects_shrink_the_denominators():
    subset = SUBJECTS[SUBJECTS["USUBJID"].isin(["a", "c", "d"])]
    inc = s.ae_incidence_by_arm(s.select_events(ADAE, subset), subset, arms=["A", "B"])
    assert cell(inc, "overall", s.OVERALL, "A")[["SUBJECTS", "N"]].tolist() == [1, 2]
    assert cell(inc, "overall", s.OVERALL, "B")[["SUBJECTS", "N"]].tolist() == [1, 1]


def test_arms_without_events_get_zero_rows():
    only_a = ADAE[ADAE["USUBJID"] == "a"]
    inc = s.ae_incidence_by_arm(s.select_events(only_a, SUBJECTS), SUBJECTS, arms=["A", "B"])
    row = cell(inc, "pt", "Pneumonia", "B")
    assert (row["SUBJECTS"], row["EVENTS"], row["N"], row["PCT"]) == (0, 0, 2, 0.0)


def test_event_filters():
    serious = s.select_events(ADAE, SUBJECTS, serious_only=True)
    assert sorted(serious["USUBJID"]) == ["a", "b", "b", "d"]
    related = s.select_events(ADAE, SUBJECTS, related_only=True)
    assert sorted(related["USUBJID"]) == ["a", "d"]  # POSSIBLE and Related (case-insensitive)
    emergent = s.select_events(ADAE, SUBJECTS, treatment_emergent_only=True)
    assert len(emergent) == 6 and "Nausea" not in set(emergent.loc[emergent["USUBJID"] == "a", "AEDECOD"])
    assert set(serious["ARM"]) == {"A", "B"} and serious["GRADE"].tolist() == [3.0, 3.0, 5.0, 4.0]


def test_treatment_emergent_is_derived_from_dates_without_trtemfl():
    adae = ADAE.drop(columns="TRTEMFL")
    subjects = SUBJECTS.assign(TRTSDT=pd.to_datetime(["2020-01-04"] * 6))
    emergent = s.select_events(adae, subjects, treatment_emergent_only=True)
    assert set(emergent["ASTDT"].dt.day) == {5, 9, 10, 29, 20, 18}  # the onsets on 3 Jan and 2 Jan are excluded


def test_search_is_case_insensitive_literal_and_covers_soc_and_reported_term():
    assert set(s.select_events(ADAE, SUBJECTS, search="PNEU")["AEDECOD"]) == {"Pneumonia"}
    assert set(s.select_events(ADAE, SUBJECTS, search="gastro")["AEDECOD"]) == {"Nausea"}
    assert set(s.select_events(ADAE, SUBJECTS, search="shock")["AESEQ"]) == {2}
    assert s.select_events(ADAE, SUBJECTS, search="(.*").empty


def test_severity_grades_are_used_when_ctcae_grades_are_absent():
    adae = ADAE.drop(columns="AETOXGRN").assign(
        AESEV=["MILD", "SEVERE", "MILD", "moderate", "MODERATE", "SEVERE", "MILD", "SEVERE"]
    )
    assert s.grade_basis(adae) == "severity"
    assert s.grade_bands("severity") == (("Severe", 3, 3),)
    inc = s.ae_incidence_by_arm(s.select_events(adae, SUBJECTS), SUBJECTS, arms=["A", "B"])
    assert set(inc["BAND"]) == {s.ANY_BAND, "Severe"}
    assert cell(inc, "pt", "Pneumonia", "A", "Severe")["SUBJECTS"] == 1
    assert cell(inc, "pt", "Sepsis", "A", "Severe")["SUBJECTS"] == 0
    # Words for readers, the variable names kept for tooltips.
    assert "severities (mild" in s.grade_basis_note("severity") and "CTCAE grades 1-5" in s.grade_basis_note("CTCAE")
    assert not any(v in s.grade_basis_note(b) for b, v in s.GRADE_VARIABLES.items())
    listing = s.ae_listing(s.select_events(adae, SUBJECTS), term="Sepsis")
    assert listing["Grade"].tolist() == ["moderate", "MODERATE"]


def test_no_grades_gives_any_grade_only():
    adae = ADAE.drop(columns="AETOXGRN")
    inc = s.ae_incidence_by_arm(s.select_events(adae, SUBJECTS), SUBJECTS, arms=["A", "B"])
    assert set(inc["BAND"]) == {s.ANY_BAND} and s.grade_basis(adae) == "none"


def test_min_incidence_keeps_terms_reaching_the_threshold_in_any_arm(incidence):
    # Any-grade %: pneumonia A 33.3 / B 50; sepsis A 33.3; nausea A 33.3 / B 50.
    kept = s.filter_min_incidence(incidence, 40)
    assert set(kept.loc[kept["LEVEL"] == "pt", "AEDECOD"]) == {"Pneumonia", "Nausea"}
    assert set(kept.loc[kept["LEVEL"] == "soc", "AEBODSYS"]) == {INF, GI}
    none = s.filter_min_incidence(incidence, 60)
    assert set(none["LEVEL"]) == {"overall"}
    assert s.filter_min_incidence(incidence, 0) is incidence


def test_risk_difference_and_fisher_p(incidence):
    rd = s.risk_difference_by_term(incidence, "A", "B").set_index("AEDECOD")
    pneu = rd.loc["Pneumonia"]
    assert (pneu["N_A"], pneu["D_A"], pneu["N_B"], pneu["D_B"], pneu["EVENTS"]) == (1, 3, 1, 2, 3)
    assert pneu["RD"] == pytest.approx(100 / 3 - 50)
    assert pneu["P"] == pytest.approx(stats.fisher_exact([[1, 2], [1, 1]]).pvalue)
    assert pneu["RR"] == pytest.approx((1 / 3) / 0.5)
    assert pneu["NEG_LOG10_P"] == pytest.approx(-math.log10(pneu["P"]), abs=1e-12)
    assert math.isnan(rd.loc["Sepsis", "RR"])  # no sepsis in arm B
    with pytest.raises(ValueError, match="different arms"):
        s.risk_difference_by_term(incidence, "A", "A")
    with pytest.raises(ValueError, match="'Z'"):
        s.risk_difference_by_term(incidence, "A", "Z")


def test_fisher_exact_p_agrees_with_scipy():
    rng = np.random.default_rng(7)
    tables = [(0, 5, 0, 5), (5, 5, 0, 5), (3, 99, 3, 99), (65, 99, 78, 99), (0, 1, 1, 1)]
    for _ in range(200):
        n1, n2 = rng.integers(1, 150, size=2)
        tables.append((int(rng.integers(0, n1 + 1)), int(n1), int(rng.integers(0, n2 + 1)), int(n2)))
    for a, n1, b, n2 in tables:
        expected = stats.fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue
        assert s.fisher_exact_p(a, n1, b, n2) == pytest.approx(expected, rel=1e-9, abs=1e-300), (a, n1, b, n2)


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998) Stat Med 17:873, example (a): 56/70 vs 48/80 -> 0.0524 to 0.3339.
    low, high = s.newcombe_interval(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_incidence_table_orders_socs_then_terms_and_toggles_counts(incidence):
    rd = s.risk_difference_by_term(incidence, "A", "B")
    table = s.incidence_table(incidence, ["A", "B"], risk=rd)
    assert table["AEDECOD"].tolist()[:4] == [s.OVERALL, s.SOC_TOTAL, "Pneumonia", "Sepsis"]
    assert table["AEBODSYS"].tolist()[1] == INF  # 3 patients with an infection vs 2 with a GI event
    first = table.iloc[2]
    assert first[s.column_label("A", s.ANY_BAND)] == "1 (33.3%)"
    assert first[s.column_label("B", "Grade 5")] == "0 (0.0%)"
    assert math.isnan(table.iloc[1]["Risk difference (pp)"])
    events = s.incidence_table(incidence, ["A", "B"], count="events")
    assert events.iloc[2][s.column_label("A", s.ANY_BAND)] == "2"
    by_rd = s.incidence_table(incidence, ["A", "B"], risk=rd, sort_by="risk difference")
    # |RD|: sepsis 33.3 (INF), nausea 16.7 (GI), pneumonia 16.7: INF first, sepsis before pneumonia.
    assert by_rd["AEDECOD"].tolist()[2:4] == ["Sepsis", "Pneumonia"]
    with pytest.raises(ValueError, match="count"):
        s.incidence_table(incidence, ["A", "B"], count="patients")


def test_topics_onset_and_cumulative_incidence():
    events = s.select_events(ADAE, SUBJECTS)
    topic = AETopic("g3-4 infection", category="INFECTION", min_grade=3, max_grade=4)
    chosen = s.topic_events(events, topic)
    assert chosen[["USUBJID", "ASTDY"]].values.tolist() == [["a", 40], ["b", 10]]
    assert s.topic_events(events, topic, window_days=30)["USUBJID"].tolist() == ["b"]
    curve = s.ae_onset_cumulative_incidence(chosen, SUBJECTS, arms=["A", "B"], max_day=180)
    a = curve[curve["ARM"] == "A"]
    assert a[["DAY", "SUBJECTS"]].values.tolist() == [[0, 0], [10, 1], [40, 2], [180, 2]]
    assert a["PCT"].iloc[-1] == pytest.approx(200 / 3)
    b = curve[curve["ARM"] == "B"]
    assert b[["DAY", "SUBJECTS", "N"]].values.tolist() == [[0, 0, 2], [180, 0, 2]]
    serious = s.topic_events(events, AETopic("SAE", serious_only=True))
    assert len(serious) == 4
    assert s.topic_available(ADAE, SAFETY_TOPICS[0])
    assert not s.topic_available(ADAE.drop(columns="AECAT"), SAFETY_TOPICS[0])


def test_subjects_with_event_by_infection_type():
    events = s.select_events(ADAE, SUBJECTS)
    infections = s.topic_events(events, AETopic("inf", category="INFECTION"))
    by_type = s.subjects_with_event(infections, SUBJECTS, arms=["A", "B"], by="INFTYPE").set_index(["ARM", "INFTYPE"])
    assert by_type.loc[("A", "Bacterial"), "TEXT"] == "2/3 (66.7%)"
    assert by_type.loc[("A", "Bacterial"), "EVENTS"] == 4
    assert by_type.loc[("B", "Bacterial"), "TEXT"] == "0/2 (0.0%)"
    assert by_type.loc[("B", "CMV"), "TEXT"] == "1/2 (50.0%)"
    assert "Fungal" not in by_type.index.get_level_values("INFTYPE")  # f is outside the safety population


def test_subjects_by_category_any_all_and_none_of_terms():
    events = s.select_events(ADAE, SUBJECTS)
    cats = (
        EventCategory("any"),
        EventCategory("pneumonia or nausea", any_of=("Pneumonia", "Nausea")),
        EventCategory("pneumonia and nausea", all_of=("Pneumonia", "Nausea")),
        EventCategory("pneumonia without nausea", any_of=("Pneumonia",), none_of=("Nausea",)),
        EventCategory("infection", category="INFECTION"),
    )
    out = s.subjects_by_category(events, SUBJECTS, cats, arms=["A", "B"]).set_index(["CATEGORY", "ARM"])["SUBJECTS"]
    # a: pneumonia + nausea; b: sepsis; d: nausea; e: pneumonia (f is outside the safety population).
    assert out.to_dict() == {
        ("any", "A"): 2, ("any", "B"): 2,
        ("pneumonia or nausea", "A"): 1, ("pneumonia or nausea", "B"): 2,
        ("pneumonia and nausea", "A"): 1, ("pneumonia and nausea", "B"): 0,
        ("pneumonia without nausea", "A"): 0, ("pneumonia without nausea", "B"): 1,
        ("infection", "A"): 2, ("infection", "B"): 1,
    }
    assert s.category_available(ADAE, cats[4]) and not s.category_available(ADAE.drop(columns="AECAT"), cats[4])
    with pytest.raises(KeyError, match="AECAT"):
        s.subjects_by_category(events.drop(columns="AECAT"), SUBJECTS, cats[4:])


DAYS_PER_MONTH = 365.25 / 12


def test_observation_period_ends_at_the_collection_window_or_earlier():
    period = s.ae_observation_period(SUBJECTS, "2020-12-31", window_days=45)
    # Day 45 from the start is 14 Feb (a, d, e) or 24 Feb (c, treated 11 Jan); b died 30 Jan; c's
    # study ended 9 Feb; f was never treated, so its period starts at randomization.
    assert period["DAYS"].to_dict() == {"a": 45, "b": 30, "c": 30, "d": 45, "e": 45, "f": 45}
    assert period.loc["c", "START"] == pd.Timestamp("2020-01-11") and period.loc["f", "START"] == pd.Timestamp("2020-01-01")
    early_cut = s.ae_observation_period(SUBJECTS, "2020-02-01", window_days=45)
    assert early_cut.loc["a", "DAYS"] == 32 and early_cut.loc["d", "END"] == pd.Timestamp("2020-02-01")
    # Without a window: follow-up to last known alive, death, end of study or the cut.
    whole = s.ae_observation_period(SUBJECTS, "2020-12-31")
    assert whole["DAYS"].to_dict() == {"a": 61, "b": 30, "c": 30, "d": 46, "e": 366, "f": 366}


def test_collection_window_from_the_trial_setting_else_the_latest_onset():
    assert s.ae_collection_days(ADAE, SUBJECTS, setting=180) == (180, "the trial's AE collection period")
    # e's pneumonia on 18 Jul is study day 200, the latest onset; without ASTDT the ASTDY column says the same.
    assert s.ae_collection_days(ADAE, SUBJECTS) == (200, "the latest adverse-event onset in the data")
    assert s.ae_collection_days(ADAE.drop(columns="ASTDT"), SUBJECTS)[0] == 200
    assert s.ae_collection_days(ADAE.drop(columns=["ASTDT", "ASTDY"]), SUBJECTS)[0] is None


def test_event_and_incidence_rates_over_the_collection_window_by_hand():
    rates = s.exposure_adjusted_rates(s.select_events(ADAE, SUBJECTS), SUBJECTS, "2020-12-31", window_days=45,
                                      arms=["A", "B"]).set_index("ARM")
    a, b = rates.loc["A"], rates.loc["B"]
    # Arm A: a 45 days (events on days 3, 5, 40), b 30 days (days 10, 29), c 30 days (none).
    assert (a["N"], a["SUBJECTS"], a["CRUDE"], a["EVENTS"], a["EVENTS_OUTSIDE"]) == (3, 2, "2/3 (66.7%)", 5, 0)
    months = 105 / DAYS_PER_MONTH
    assert a["PATIENT_MONTHS"] == pytest.approx(months)
    assert a["EVENT_RATE"] == pytest.approx(5 / months * 100)
    # Robust (sandwich) SE of the log rate: residuals y - rate * t are 3 - 45/21, 2 - 30/21, 0 - 30/21;
    # the event-rate CI is the wider of that interval and the exact Poisson one (5 events).
    se = math.sqrt(3 / 2 * ((3 - 45 / 21) ** 2 + (2 - 30 / 21) ** 2 + (30 / 21) ** 2)) / 5
    robust = (5 / months * 100 * math.exp(-1.959964 * se), 5 / months * 100 * math.exp(1.959964 * se))
    exact = (stats.chi2.ppf(0.025, 10) / 2 / months * 100, stats.chi2.ppf(0.975, 12) / 2 / months * 100)
    assert a["EVENT_RATE_LOW"] == pytest.approx(min(robust[0], exact[0]))
    assert a["EVENT_RATE_HIGH"] == pytest.approx(max(robust[1], exact[1]))
    # Incidence: 2 patients with a first event; at risk 3 (a) + 10 (b) + 30 (c) days; Garwood CI.
    at_risk = 43 / DAYS_PER_MONTH
    assert (a["FIRST_EVENTS"], a["AT_RISK_MONTHS"]) == (2, pytest.approx(at_risk))
    assert a["INCIDENCE_RATE"] == pytest.approx(2 / at_risk * 100)
    assert a["INCIDENCE_RATE_LOW"] == pytest.approx(stats.chi2.ppf(0.025, 4) / 2 / at_risk * 100)
    assert a["INCIDENCE_RATE_HIGH"] == pytest.approx(stats.chi2.ppf(0.975, 6) / 2 / at_risk * 100)
    # Arm B: d (event on day 20) and e (event on day 200, after its 45-day window: left out of the rates).
    assert (b["SUBJECTS"], b["EVENTS"], b["EVENTS_OUTSIDE"], b["FIRST_EVENTS"]) == (2, 1, 1, 1)
    assert b["PATIENT_MONTHS"] == pytest.approx(90 / DAYS_PER_MONTH)
    assert b["AT_RISK_MONTHS"] == pytest.approx((20 + 45) / DAYS_PER_MONTH)


def test_robust_event_rate_ci_agrees_with_a_poisson_glm_sandwich():
    import statsmodels.api as sm

    counts, months = np.array([3, 2, 0, 7, 1]), np.array([1.5, 1.0, 1.0, 2.0, 0.5])
    rate, low, high = s.robust_poisson_rate(counts, months, per=1)
    fit = sm.GLM(counts, np.ones((5, 1)), family=sm.families.Poisson(), offset=np.log(months)).fit(cov_type="HC0")
    se = fit.bse[0] * math.sqrt(5 / 4)  # with the small-sample factor n / (n - 1)
    assert rate == pytest.approx(math.exp(fit.params[0]))
    assert (low, high) == pytest.approx((math.exp(fit.params[0] - 1.959964 * se), math.exp(fit.params[0] + 1.959964 * se)))


def test_event_rate_ci_widens_when_events_cluster_in_one_patient_and_is_never_narrower_than_poisson():
    spread = s.robust_poisson_rate([1] * 10, [1.0] * 10, per=1)
    clustered = s.robust_poisson_rate([10] + [0] * 9, [1.0] * 10, per=1)
    exact = s.exact_poisson_rate(10, 10.0, per=1)
    assert spread[0] == clustered[0] == exact[0] == 1.0
    assert clustered[2] - clustered[1] > exact[2] - exact[1] > spread[2] - spread[1]
    # The interval shown: the robust one where events cluster, the exact Poisson one where that is wider.
    assert s.event_rate_interval([10] + [0] * 9, [1.0] * 10, per=1) == clustered
    assert s.event_rate_interval([1] * 10, [1.0] * 10, per=1) == exact
    # No events: 0 with the exact upper limit; no person-time: undefined.
    assert s.robust_poisson_rate([0, 0], [1.0, 1.0], per=1) == s.exact_poisson_rate(0, 2.0, per=1)
    assert all(math.isnan(v) for v in s.robust_poisson_rate([1], [0.0]))


def test_rate_text_carries_numerators_and_denominators():
    rates = s.exposure_adjusted_rates(s.select_events(ADAE, SUBJECTS), SUBJECTS, "2020-12-31", window_days=45,
                                      arms=["A", "B"])
    text = s.exposure_rate_text(rates).set_index("Arm")
    assert text.loc["A", "Events / patient-months"] == "5 / 3.4"  # 105 days
    assert text.loc["A", "First events / patient-months at risk"] == "2 / 1.4"  # 43 days
    assert text.loc["A", "Event rate per 100 patient-months (95% robust CI)"].startswith("144.9 (")
    assert text.loc["B", "Patients with ≥ 1 event, n/N (%)"] == "2/2 (100.0%)"
    nothing = s.exposure_adjusted_rates(s.select_events(ADAE, SUBJECTS).iloc[:0], SUBJECTS, "2020-12-31",
                                        window_days=45, arms=["A"])
    assert s.exposure_rate_text(nothing).iloc[0, 5].startswith("0 (0 to ")


def test_treatment_emergent_definition_in_words():
    assert s.has_treatment_emergent_flag(ADAE)
    assert not s.has_treatment_emergent_flag(ADAE.assign(TRTEMFL=None))  # an empty flag flags nothing
    assert s.ae_definition(True, True) == "treatment-emergent AEs (as flagged in the data)"
    assert s.ae_definition(True, False) == "all recorded AEs, treatment-emergent or not"
    assert "no treatment-emergent flag" in s.ae_definition(False, True)
    # An empty TRTEMFL column does not empty the treatment-emergent selection: dates decide.
    flagged = s.select_events(ADAE, SUBJECTS, treatment_emergent_only=True)
    derived = s.select_events(ADAE.assign(TRTEMFL=None), SUBJECTS, treatment_emergent_only=True)
    assert len(flagged) == 6  # a's nausea is flagged as not treatment-emergent
    assert len(derived) == 7  # every safety-population event starts on or after treatment start


def test_listing_filters_sorts_and_labels():
    events = s.select_events(ADAE, SUBJECTS)
    listing = s.ae_listing(events, soc=INF, term=s.SOC_TOTAL)
    assert listing["Patient"].tolist() == ["a", "a", "b", "b", "e"]
    assert listing["Grade"].tolist() == ["Grade 2", "Grade 3", "Grade 3", "Grade 5", "Grade 1"]
    assert listing["Onset date"].iloc[0] == pd.Timestamp("2020-01-05")
    assert s.ae_listing(events, term="Nausea", subject="d")["Serious"].tolist() == ["Y"]
    assert len(s.ae_listing(events, soc=s.OVERALL, term=s.OVERALL)) == 7


def test_no_subjects_gives_empty_frames_not_errors():
    nobody = SUBJECTS.iloc[:0]
    events = s.select_events(ADAE, nobody)
    inc = s.ae_incidence_by_arm(events, nobody, arms=["A", "B"])
    assert events.empty and inc.empty and s.incidence_table(inc, []).empty
    assert s.exposure_adjusted_rates(events, nobody, "2021-01-01", window_days=180).empty
    assert s.ae_onset_cumulative_incidence(events, nobody).empty
    assert s.subjects_with_event(events, nobody, by="INFTYPE").empty


def test_prepared_adae_gives_identical_results():
    prepared = s.prepare_adae(ADAE)
    assert all(isinstance(prepared[c].dtype, pd.CategoricalDtype) for c in s.KEY_COLUMNS)
    for options in ({}, {"serious_only": True}, {"search": "pneu"}, {"treatment_emergent_only": True}):
        plain, fast = (s.select_events(frame, SUBJECTS, **options) for frame in (ADAE, prepared))
        pd.testing.assert_frame_equal(s.ae_incidence_by_arm(plain, SUBJECTS, arms=["A", "B"]),
                                      s.ae_incidence_by_arm(fast, SUBJECTS, arms=["A", "B"]))
        pd.testing.assert_frame_equal(s.ae_listing(plain, soc=INF, term=s.SOC_TOTAL),
                                      s.ae_listing(fast, soc=INF, term=s.SOC_TOTAL))
        cats = (EventCategory("pneumonia", any_of=("Pneumonia",)), EventCategory("infection", category="INFECTION"))
        pd.testing.assert_frame_equal(s.subjects_by_category(plain, SUBJECTS, cats),
                                      s.subjects_by_category(fast, SUBJECTS, cats))


def test_inputs_are_never_modified():
    adae, subjects = ADAE.copy(), SUBJECTS.copy()
    events = s.select_events(adae, subjects, serious_only=True, search="sep")
    inc = s.ae_incidence_by_arm(events, subjects)
    s.incidence_table(inc, ["A", "B"], risk=s.risk_difference_by_term(inc, "A", "B"))
    s.exposure_adjusted_rates(events, subjects, "2021-01-01", window_days=30)
    pd.testing.assert_frame_equal(adae, ADAE)
    pd.testing.assert_frame_equal(subjects, SUBJECTS)


def test_missing_columns_are_named():
    with pytest.raises(KeyError, match="AEBODSYS"):
        s.select_events(ADAE.drop(columns="AEBODSYS"), SUBJECTS)
    with pytest.raises(KeyError, match="SAFFL"):
        s.select_events(ADAE, SUBJECTS.drop(columns="SAFFL"))
    with pytest.raises(KeyError, match="AESER"):
        s.select_events(ADAE.drop(columns="AESER"), SUBJECTS, serious_only=True)


def test_text_from_data_is_returned_raw_for_the_views_to_escape():
    hostile = ADAE.assign(AEDECOD=ADAE["AEDECOD"].replace("Sepsis", "<script>alert(1)</script><b>x</b>"))
    inc = s.ae_incidence_by_arm(s.select_events(hostile, SUBJECTS), SUBJECTS, arms=["A", "B"])
    table = s.incidence_table(inc, ["A", "B"])
    assert "<script>alert(1)</script><b>x</b>" in set(table["AEDECOD"])  # escaping is the renderer's job
    assert len(s.ae_listing(s.select_events(hostile, SUBJECTS), term="<script>alert(1)</script><b>x</b>")) == 2


# --- CDISC pilot (severity, 3 arms) against counts derived independently with plain pandas ---------


@pytest.fixture(scope="module")
def pilot(shared):
    import pyreadstat

    adae, _ = pyreadstat.read_xport(str(shared(*PILOT, "adae.xpt")))
    adsl, _ = pyreadstat.read_xport(str(shared(*PILOT, "adsl.xpt")))
    return adae, adsl


def test_pilot_treatment_emergent_incidence_matches_plain_pandas(pilot):
    adae, adsl = pilot
    arms = sorted(adsl["ARM"].unique())
    assert len(arms) == 3
    safety = adsl[adsl["SAFFL"] == "Y"]
    teae = adae[(adae["TRTEMFL"] == "Y") & adae["USUBJID"].isin(safety["USUBJID"])]
    teae = teae.merge(safety[["USUBJID", "ARM"]], on="USUBJID")
    n_by_arm = safety.groupby("ARM")["USUBJID"].nunique()
    expected_pt = teae.groupby(["ARM", "AEBODSYS", "AEDECOD"])["USUBJID"].nunique()
    expected_soc = teae.groupby(["ARM", "AEBODSYS"])["USUBJID"].nunique()
    expected_any = teae.groupby("ARM")["USUBJID"].nunique()
    severe = teae[teae["AESEV"] == "SEVERE"].groupby(["ARM", "AEBODSYS", "AEDECOD"])["USUBJID"].nunique()

    assert s.grade_basis(adae) == "severity"
    inc = s.ae_incidence_by_arm(s.select_events(adae, adsl, treatment_emergent_only=True), adsl, arms=arms)
    prepared = s.select_events(s.prepare_adae(adae), adsl, treatment_emergent_only=True)
    pd.testing.assert_frame_equal(inc, s.ae_incidence_by_arm(prepared, adsl, arms=arms))
    anyg = inc[inc["BAND"] == s.ANY_BAND]
    pt = anyg[anyg["LEVEL"] == "pt"].set_index(["ARM", "AEBODSYS", "AEDECOD"])["SUBJECTS"]
    assert pt[pt > 0].sort_index().to_dict() == expected_pt.sort_index().to_dict()
    soc = anyg[anyg["LEVEL"] == "soc"].set_index(["ARM", "AEBODSYS"])["SUBJECTS"]
    assert soc[soc > 0].sort_index().to_dict() == expected_soc.sort_index().to_dict()
    overall = anyg[anyg["LEVEL"] == "overall"].set_index("ARM")
    assert overall["SUBJECTS"].to_dict() == expected_any.to_dict()
    assert overall["N"].to_dict() == n_by_arm.to_dict()
    events = anyg[anyg["LEVEL"] == "overall"].set_index("ARM")["EVENTS"]
    assert events.to_dict() == teae.groupby("ARM").size().to_dict()
    sev = inc[(inc["BAND"] == "Severe") & (inc["LEVEL"] == "pt")].set_index(["ARM", "AEBODSYS", "AEDECOD"])["SUBJECTS"]
    assert sev[sev > 0].sort_index().to_dict() == severe.sort_index().to_dict()


def test_pilot_risk_difference_for_a_chosen_pair_of_three_arms(pilot):
    adae, adsl = pilot
    arms = sorted(adsl["ARM"].unique())
    high, placebo = "Xanomeline High Dose", "Placebo"
    inc = s.ae_incidence_by_arm(s.select_events(adae, adsl, treatment_emergent_only=True), adsl, arms=arms)
    rd = s.risk_difference_by_term(inc, high, placebo).set_index("AEDECOD")
    safety = adsl[adsl["SAFFL"] == "Y"]
    teae = adae[(adae["TRTEMFL"] == "Y")].merge(safety[["USUBJID", "ARM"]], on="USUBJID")
    term = "PRURITUS"
    a = teae[(teae["ARM"] == high) & (teae["AEDECOD"] == term)]["USUBJID"].nunique()
    b = teae[(teae["ARM"] == placebo) & (teae["AEDECOD"] == term)]["USUBJID"].nunique()
    na, nb = (safety["ARM"] == high).sum(), (safety["ARM"] == placebo).sum()
    assert (rd.loc[term, "N_A"], rd.loc[term, "N_B"]) == (a, b)
    assert rd.loc[term, "RD"] == pytest.approx((a / na - b / nb) * 100)
    assert rd.loc[term, "P"] == pytest.approx(stats.fisher_exact([[a, na - a], [b, nb - b]]).pvalue)


def test_pilot_loads_through_the_project_loader(pilot, shared):
    from dashboard.loaders import load_dataset

    adae, adsl = pilot
    dataset = load_dataset(shared(*PILOT))
    teae_raw = adae[adae["TRTEMFL"] == "Y"]
    inc = s.ae_incidence_by_arm(
        s.select_events(dataset.adae, dataset.adsl, treatment_emergent_only=True), dataset.adsl, arms=dataset.arms
    )
    overall = inc[(inc["LEVEL"] == "overall") & (inc["BAND"] == s.ANY_BAND)].set_index("ARM")["SUBJECTS"]
    safety = adsl[adsl["SAFFL"] == "Y"][["USUBJID", "ARM"]]
    expected = teae_raw.merge(safety, on="USUBJID").groupby("ARM")["USUBJID"].nunique()
    assert overall.to_dict() == expected.to_dict()


# --- the bundled trial against the published safety figures -------------------------------------


def _published_safety():
    reference = shared_path("reference", "nct02241018_published.json")
    return [r for r in json.loads(reference.read_text())["records"] if r["domain"] == "safety"]


def _value(records, measure, arm, category=None):
    hits = [r for r in records if r["measure"] == measure and r["arm"] == arm and r["category"] == category]
    assert len(hits) == 1, (measure, arm, category)
    return hits[0]["value"], hits[0]["denominator"]


@pytest.mark.parametrize("topic_index, measure", [
    (0, "grade3_4_infection_within_180d"),
    (1, "grade3_4_hematologic_toxicity_within_180d"),
])
def test_bundled_focus_counts_reproduce_the_publication(bundled, topic_index, measure):
    records = _published_safety()
    subjects = bundled.adsl[bundled.adsl["EFFFL"] == "Y"]  # the publication's analysed patients (99 per arm)
    events = s.select_events(bundled.adae, subjects)
    chosen = s.topic_events(events, SAFETY_TOPICS[topic_index], window_days=SAFETY_FOCUS_WINDOW_DAYS)
    counts = s.subjects_with_event(chosen, subjects, arms=bundled.arms).set_index("ARM")
    for arm, code in zip(bundled.info.arm_order, ("MSC", "CONTROL")):
        n, d = _value(records, measure, code)
        assert (counts.loc[arm, "SUBJECTS"], counts.loc[arm, "N"]) == (n, d), (arm, measure)


# Table 4 category labels in the dashboard's config -> category names in the reference file.
TABLE4 = {
    "Any serious adverse event": "any serious adverse event",
    "Haematological (total)": "hematologic (total)",
    "Haematological: platelets decreased": "hematologic: platelets decreased",
    "Haematological: platelets and neutrophils decreased": "hematologic: platelets and neutrophils both decreased",
    "Skin": "skin",
    "Gastrointestinal": "gastrointestinal",
    "Hepatobiliary or pancreatic": "hepatobiliary or pancreatic",
    "Cardiac (heart failure)": "cardiac (heart failure)",
    "Renal or genitourinary (non-infective cystitis)": "renal or genitourinary (non-infective cystitis)",
    "Vascular (thrombotic microangiopathy)": "vascular (thrombotic microangiopathy)",
    "Infections": "infections",
    "Secondary malignancy": "secondary malignancy",
}


def test_bundled_serious_events_reproduce_table_4(bundled):
    records = _published_safety()
    assert [c.label for c in NCT02241018.sae_categories] == list(TABLE4)
    subjects = bundled.adsl[bundled.adsl["EFFFL"] == "Y"]
    serious = s.topic_events(s.select_events(bundled.adae, subjects), AETopic("SAE", serious_only=True))
    counts = s.subjects_by_category(serious, subjects, NCT02241018.sae_categories, arms=bundled.arms)
    counts = counts.set_index(["CATEGORY", "ARM"])
    for label, reference in TABLE4.items():
        for arm, code in zip(bundled.info.arm_order, ("MSC", "CONTROL")):
            n, d = _value(records, "serious_adverse_event", code, reference)
            assert (counts.loc[(label, arm), "SUBJECTS"], counts.loc[(label, arm), "N"]) == (n, d), (label, arm)


def test_table_4_terms_agree_with_the_generator_calibration():
    from dashboard.synthetic import calibration

    by_label = {c.label: c for c in NCT02241018.sae_categories}
    for reference, terms in calibration.SAE_CATEGORIES.items():
        label = next(k for k, v in TABLE4.items() if v == reference)
        assert set(by_label[label].any_of) == set(terms), reference
    platelets = by_label["Haematological: platelets decreased"]
    assert platelets.any_of == (calibration.PLATELETS_DECREASED,)
    assert platelets.none_of == (calibration.NEUTROPHILS_DECREASED,)


def test_bundled_rates_stop_person_time_at_the_end_of_ae_collection(bundled):
    """Grade 3-4 infections in the ITT population: person-time to day 180 (issue 12: 17.0 vs 21.6 per
    100 patient-months, not 2.24 vs 3.04 over the whole follow-up), recomputed here with plain pandas."""
    itt = bundled.adsl[bundled.adsl["ITTFL"] == "Y"]
    topic = SAFETY_TOPICS[0]
    assert topic.label == "Grade 3-4 infection" and bundled.info.ae_collection_days == 180
    events = s.topic_events(s.select_events(bundled.adae, itt), topic)
    rates = s.exposure_adjusted_rates(events, itt, bundled.cutoff, window_days=180, arms=bundled.arms).set_index("ARM")
    safety = itt[itt["SAFFL"] == "Y"]
    ends = pd.concat([safety["TRTSDT"] + pd.Timedelta(days=179), safety["DTHDT"], safety["LSTALVDT"],
                      safety["EOSDT"], pd.Series(bundled.cutoff, index=safety.index)], axis=1).min(axis=1)
    days = ((ends - safety["TRTSDT"]).dt.days + 1).clip(lower=0)
    infections = bundled.adae[(bundled.adae["AECAT"] == "INFECTION") & bundled.adae["AETOXGRN"].between(3, 4)]
    for arm, expected in zip(bundled.info.arm_order, (17.0, 21.6)):
        mine = safety["ARM"] == arm
        n_events = infections["USUBJID"].isin(safety.loc[mine, "USUBJID"]).sum()
        by_hand = n_events / (days[mine].sum() / (365.25 / 12)) * 100
        assert rates.loc[arm, "EVENTS"] == n_events
        assert rates.loc[arm, "EVENT_RATE"] == pytest.approx(by_hand)
        assert round(rates.loc[arm, "EVENT_RATE"], 1) == expected
        low, high = rates.loc[arm, ["EVENT_RATE_LOW", "EVENT_RATE_HIGH"]]
        assert low < by_hand < high


FOCUS_TOPICS = (AETopic("Grade 3-4 infection", category="INFECTION", min_grade=3, max_grade=4),
                AETopic("Serious", serious_only=True))  # the second has no category: not a focus panel row


def test_arm_count_rows_write_n_of_N_per_arm_under_its_label():
    counts = pd.DataFrame({"ARM": ["A", "B"], "SUBJECTS": [2, 0], "N": [3, 2]})
    out = s.arm_count_rows([("x", counts), ("only A", counts.iloc[:1])], ["A", "B"], {"A": "Arm A"})
    assert out.to_dict("list") == {"Row": ["x", "only A"], "Arm A": ["2/3 (66.7%)", "2/3 (66.7%)"],
                                   "B": ["0/2 (0.0%)", ""]}


def test_focus_table_by_hand():
    events = s.select_events(ADAE, SUBJECTS)
    table = s.safety_focus_table(events, SUBJECTS, ["A", "B"], adae=ADAE, topics=FOCUS_TOPICS,
                                 sae_categories=(EventCategory("Any serious"),), sae_title="SAE table",
                                 window_days=45, labels={"A": "Arm A"})
    assert list(table.columns) == ["Panel", "Row", "Arm A", "B"]
    rows = table.set_index("Row")
    # Grade 3-4 infections by day 45: a (pneumonia day 40) and b (sepsis day 10); e's pneumonia is day 200.
    assert rows.loc["Grade 3-4 infection", ["Arm A", "B"]].tolist() == ["2/3 (66.7%)", "0/2 (0.0%)"]
    assert rows.loc["Grade 3-4 infection", "Panel"].startswith("Key safety topics within 45 days")
    # Infections by type within 45 days: bacterial only (e's CMV is on day 200, f is not in the safety population).
    assert [r for r in table["Row"] if ":" in r] == ["Bacterial: any grade", "Bacterial: grade 3-4"]
    # Serious events (a's second pneumonia, b's sepsis, d's nausea) by the trial's categories.
    assert rows.loc["Any serious", ["Arm A", "B", "Panel"]].tolist() == ["2/3 (66.7%)", "1/2 (50.0%)", "SAE table"]


def test_focus_table_lists_serious_events_by_body_system_without_categories():
    events = s.select_events(ADAE, SUBJECTS).drop(columns=["INFTYPE"])
    table = s.safety_focus_table(events, SUBJECTS, ["A", "B"], adae=ADAE.drop(columns=["AECAT"]), topics=FOCUS_TOPICS,
                                 sae_categories=(EventCategory("Infections", category="INFECTION"),), window_days=45)
    # No AECAT in the data: no key topics, no category table; body systems ordered by patients with a serious event.
    assert table["Row"].tolist() == ["Any serious adverse event", INF, GI]
    assert table[["A", "B"]].to_numpy().tolist() == [["2/3 (66.7%)", "1/2 (50.0%)"], ["2/3 (66.7%)", "0/2 (0.0%)"],
                                                     ["0/3 (0.0%)", "1/2 (50.0%)"]]
    assert set(table["Panel"]) == {"Serious adverse events by body system (whole follow-up)"}
    empty = s.safety_focus_table(events.drop(columns=["AESER"]), SUBJECTS, ["A", "B"], adae=ADAE.drop(columns=["AECAT"]),
                                 topics=FOCUS_TOPICS, window_days=45)
    assert empty.empty and list(empty.columns) == ["Panel", "Row", "A", "B"]


def test_exposure_rate_table_stacks_the_rate_text_of_each_event_set():
    events = s.select_events(ADAE, SUBJECTS)
    sets = [("All", events), ("Serious", s.topic_events(events, FOCUS_TOPICS[1]))]
    table = s.exposure_rate_table(sets, SUBJECTS, "2020-12-31", window_days=45, arms=["A", "B"], labels={"B": "Arm B"})
    assert list(table.columns) == [s.EXPOSURE_SET_COLUMN, *s.RATE_TEXT_COLUMNS, "EVENTS_OUTSIDE"]
    assert table[[s.EXPOSURE_SET_COLUMN, "Arm"]].to_numpy().tolist() == [["All", "A"], ["All", "Arm B"],
                                                                         ["Serious", "A"], ["Serious", "Arm B"]]
    for (label, chosen), part in zip(sets, (table.iloc[:2], table.iloc[2:])):
        rates = s.exposure_adjusted_rates(chosen, SUBJECTS, "2020-12-31", window_days=45, arms=["A", "B"])
        expected = s.exposure_rate_text(rates.assign(ARM=["A", "Arm B"]))
        assert part[list(s.RATE_TEXT_COLUMNS)].reset_index(drop=True).equals(expected), label
        assert part["EVENTS_OUTSIDE"].tolist() == rates["EVENTS_OUTSIDE"].tolist()
    # e's pneumonia on day 200 is after the 45-day window: one event left out of arm B's rates.
    assert table["EVENTS_OUTSIDE"].tolist() == [0, 1, 0, 0]
