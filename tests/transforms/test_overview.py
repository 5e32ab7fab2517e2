"""Overview transforms on tiny inline frames with hand-counted answers."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.transforms.overview import (
    ALL_ARMS,
    arm_status_table,
    primary_endpoint_status_by_arm,
    primary_status_table,
    randomized_by_arm,
    serious_ae_by_arm,
    serious_ae_table,
    status_changes,
    study_status,
    study_status_by_arm,
)

A, B = "Active", "Control"


def adsl(**columns) -> pd.DataFrame:
    base = {"USUBJID": ["P1", "P2", "P3", "P4"], "ARM": [A, A, B, A]}
    return pd.DataFrame({**base, **columns})


def as_dict(frame: pd.DataFrame, key: str, value: str) -> dict:
    return dict(zip(frame[key], frame[value]))


def test_randomized_by_arm_keeps_empty_arms_and_adds_the_total():
    out = randomized_by_arm(adsl(), arms=[A, B, "Third"])
    assert list(out["ARM"]) == [A, B, "Third", ALL_ARMS]
    assert list(out["n"]) == [3, 1, 0, 4]
    assert set(out["N"]) == {4}
    assert out["pct"].round(1).tolist() == [75.0, 25.0, 0.0, 100.0]


def test_randomized_by_arm_of_nobody_has_no_percentages():
    out = randomized_by_arm(adsl().iloc[:0], arms=[A, B])
    assert list(out["n"]) == [0, 0, 0] and out["pct"].isna().all()


def test_study_status_puts_death_before_the_recorded_status():
    frame = adsl(EOSSTT=["ONGOING", "DISCONTINUED", "COMPLETED", None], DTHFL=["N", "Y", "N", "N"])
    assert list(study_status(frame)) == ["On study", "Died", "Completed", "Not recorded"]


def test_study_status_uses_death_date_without_flag():
    frame = adsl(EOSSTT=["ONGOING"] * 4, DTHDT=pd.to_datetime([None, None, "2020-01-01", None]))
    assert list(study_status(frame)) == ["On study", "On study", "Died", "On study"]


def test_status_changes_count_from_the_earlier_cut_to_the_later():
    then = adsl(EOSSTT=["ONGOING", "ONGOING", "ONGOING", "COMPLETED"], DTHFL=["N"] * 4).iloc[:3]
    now = adsl(EOSSTT=["ONGOING", "DISCONTINUED", "COMPLETED", "ONGOING"], DTHFL=["N", "Y", "N", "N"])
    assert status_changes(now, then) == {"Patients": 1, "On study": -1, "Completed": 1, "Withdrawn": 0, "Died": 1,
                                         "Not recorded": 0}


def test_study_status_by_arm_counts_with_arm_denominators():
    frame = adsl(EOSSTT=["ONGOING", "DISCONTINUED", "COMPLETED", "DISCONTINUED"], DTHFL=["N", "Y", "N", "N"])
    out = study_status_by_arm(frame, arms=[A, B]).set_index(["ARM", "STATUS"])
    assert out.loc[(A, "On study"), "n"] == 1 and out.loc[(A, "Died"), "n"] == 1
    assert out.loc[(A, "Withdrawn"), "n"] == 1 and out.loc[(A, "Withdrawn"), "N"] == 3
    assert out.loc[(B, "Completed"), ["n", "N"]].tolist() == [1, 1]
    assert out.loc[(ALL_ARMS, "Withdrawn"), ["n", "N"]].tolist() == [1, 4]
    assert "Not recorded" not in out.index.get_level_values("STATUS")


def test_study_status_by_arm_requires_arm():
    with pytest.raises(KeyError, match="ARM"):
        study_status_by_arm(pd.DataFrame({"USUBJID": ["P1"]}))


def primary_inputs():
    subjects = adsl(
        RANDDT=pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-01", "2020-02-20"]),
        EFFFL=["Y", "Y", "Y", "Y"],
        DTHDT=pd.to_datetime([None, "2020-01-15", None, None]),
    )
    adrs = pd.DataFrame(
        {
            "USUBJID": ["P1", "P1", "P3"],
            "PARAMCD": ["OVRLRESP"] * 3,
            "AVISIT": ["Day 7", "Day 28", "Day 7"],
            "AVISITN": [7, 28, 7],
            "AVALC": ["PR", "CR", "SD"],
        }
    )
    return subjects, adrs


def test_primary_endpoint_status_splits_assessed_died_missing_pending():
    subjects, adrs = primary_inputs()
    # Data cut 2020-03-01: day 28 of P4 (randomized 2020-02-20) falls on 2020-03-18, after the cut.
    out = primary_endpoint_status_by_arm(subjects, adrs, "2020-03-01", 28, arms=[A, B]).set_index("ARM")
    assert out.loc[A, ["evaluable", "assessed", "died", "missing", "pending", "assessed_or_due"]].tolist() == [3, 1, 1, 0, 1, 2]
    assert out.loc[B, ["evaluable", "assessed", "missing", "pending"]].tolist() == [1, 0, 1, 0]
    assert out.loc[ALL_ARMS, ["evaluable", "assessed", "died", "missing", "pending"]].tolist() == [4, 1, 1, 1, 1]


def test_primary_endpoint_counts_only_evaluable_patients():
    subjects, adrs = primary_inputs()
    subjects = subjects.assign(EFFFL=["Y", "N", "Y", "N"])
    out = primary_endpoint_status_by_arm(subjects, adrs, "2020-03-01", 28, arms=[A, B]).set_index("ARM")
    assert out.loc[ALL_ARMS, ["evaluable", "assessed", "died", "pending"]].tolist() == [2, 1, 0, 0]


def test_primary_endpoint_names_the_missing_visit():
    subjects, adrs = primary_inputs()
    with pytest.raises(ValueError, match="no response visit on day 56; its visits are Day 7, Day 28"):
        primary_endpoint_status_by_arm(subjects, adrs, "2020-03-01", 56)


def test_primary_endpoint_of_nobody_is_all_zero():
    subjects, adrs = primary_inputs()
    out = primary_endpoint_status_by_arm(subjects.iloc[:0], adrs, "2020-03-01", 28, arms=[A, B])
    assert list(out["ARM"]) == [A, B, ALL_ARMS] and out.drop(columns="ARM").eq(0).all().all()


def test_serious_ae_by_arm_counts_patients_and_events_in_the_safety_population():
    subjects = adsl(SAFFL=["Y", "Y", "Y", "N"])
    adae = pd.DataFrame({"USUBJID": ["P1", "P1", "P2", "P3", "P4"], "AESER": ["Y", "Y", "N", "Y", "Y"]})
    out = serious_ae_by_arm(subjects, adae, arms=[A, B]).set_index("ARM")
    assert out.loc[A, ["N", "patients", "events"]].tolist() == [2, 1, 2]
    assert out.loc[B, ["N", "patients", "events"]].tolist() == [1, 1, 1]
    assert out.loc[ALL_ARMS, ["N", "patients", "events"]].tolist() == [3, 2, 3]
    assert round(out.loc[A, "pct"], 1) == 50.0


def test_serious_ae_by_arm_keeps_only_treatment_emergent_events_when_flagged():
    subjects = adsl(SAFFL=["Y"] * 4)
    adae = pd.DataFrame({"USUBJID": ["P1", "P3"], "AESER": ["Y", "Y"], "TRTEMFL": ["N", "Y"]})
    out = serious_ae_by_arm(subjects, adae, arms=[A, B]).set_index("ARM")
    assert out["patients"].tolist() == [0, 1, 1]


def test_adam_y_blank_flags_read_blank_as_no():
    # ADaM flags are 'Y' or null: nullable-string blanks must count as "no", never as "yes" or <NA>.
    subjects = adsl(SAFFL=pd.array(["Y", "Y", "y ", None], dtype="string"),
                    DTHFL=pd.array([None, "Y", None, None], dtype="string"),
                    EOSSTT=["ONGOING", "DISCONTINUED", "COMPLETED", "ONGOING"])
    assert study_status(subjects).tolist() == ["On study", "Died", "Completed", "On study"]
    adae = pd.DataFrame({"USUBJID": ["P1", "P2", "P3"], "AESER": pd.array(["Y", None, "Y"], dtype="string"),
                         "TRTEMFL": pd.array(["Y", "Y", None], dtype="string")})
    out = serious_ae_by_arm(subjects, adae, arms=[A, B]).set_index("ARM")
    assert out.loc[A, ["N", "patients", "events"]].tolist() == [2, 1, 1]  # P4 not in safety; P2's AE not serious
    assert out.loc[B, ["N", "patients"]].tolist() == [1, 0]  # P3's serious AE is not treatment-emergent


def test_transforms_do_not_modify_their_inputs():
    subjects, adrs = primary_inputs()
    subjects = subjects.assign(SAFFL="Y", EOSSTT="ONGOING")
    adae = pd.DataFrame({"USUBJID": ["P1"], "AESER": ["Y"]})
    before = [subjects.copy(), adrs.copy(), adae.copy()]
    randomized_by_arm(subjects), study_status_by_arm(subjects), serious_ae_by_arm(subjects, adae)
    primary_endpoint_status_by_arm(subjects, adrs, "2020-03-01", 28)
    for frame, copy in zip([subjects, adrs, adae], before):
        pd.testing.assert_frame_equal(frame, copy)


def test_arm_status_table_shows_counts_over_their_denominators():
    frame = adsl(EOSSTT=["ONGOING", "DISCONTINUED", "COMPLETED", "DISCONTINUED"], DTHFL=["N", "Y", "N", "N"])
    out = arm_status_table(randomized_by_arm(frame, [A, B]), study_status_by_arm(frame, [A, B]), [A, B])
    # P1 on study, P2 died (A), P4 withdrawn (A), P3 completed (B); no "Not recorded" column.
    assert list(out.columns) == ["Arm", "Patients", "On study", "Completed", "Withdrawn", "Died"]
    assert out.set_index("Arm").to_dict("index") == {
        A: {"Patients": "3 (75.0%)", "On study": "1/3 (33.3%)", "Completed": "0/3 (0.0%)",
            "Withdrawn": "1/3 (33.3%)", "Died": "1/3 (33.3%)"},
        B: {"Patients": "1 (25.0%)", "On study": "0/1 (0.0%)", "Completed": "1/1 (100.0%)",
            "Withdrawn": "0/1 (0.0%)", "Died": "0/1 (0.0%)"},
        ALL_ARMS: {"Patients": "4 (100.0%)", "On study": "1/4 (25.0%)", "Completed": "1/4 (25.0%)",
                   "Withdrawn": "1/4 (25.0%)", "Died": "1/4 (25.0%)"},
    }


def test_primary_and_serious_ae_tables_show_counts_over_their_denominators():
    primary = pd.DataFrame({"ARM": [A, ALL_ARMS], "evaluable": [4, 5], "assessed": [2, 3], "assessed_or_due": [3, 0],
                            "died": [1, 1], "missing": [1, 0], "pending": [0, 2]})
    out = primary_status_table(primary, 28)
    assert list(out.columns) == ["Arm", "Evaluable", "Assessed / due", "Died before day 28", "Overdue", "Not yet due"]
    assert out.values.tolist() == [[A, 4, "2/3 (66.7%)", 1, 1, 0], [ALL_ARMS, 5, "3/0", 1, 0, 2]]
    subjects = adsl(SAFFL=["Y", "Y", "Y", "N"])
    adae = pd.DataFrame({"USUBJID": ["P1", "P1", "P2", "P3", "P4"], "AESER": ["Y", "Y", "N", "Y", "Y"]})
    sae = serious_ae_table(serious_ae_by_arm(subjects, adae, arms=[A, B]))
    assert list(sae.columns) == ["Arm", "Safety population", "Patients with ≥1 serious AE", "Serious events"]
    assert sae.values.tolist() == [[A, 2, "1/2 (50.0%)", 2], [B, 1, "1/1 (100.0%)", 1], [ALL_ARMS, 3, "2/3 (66.7%)", 3]]
