"""Model rules on tiny inline frames: blocking findings refuse, row-level findings quarantine rows
(the dataset still loads and says what it left out), each finding names table, column, rule and rows."""

from pathlib import Path

import pandas as pd
import pytest

from dashboard.model import DatasetValidationError, TrialDataset
from dashboard.model.dataset import require_randomized
from dashboard.model.rules import BLOCKING, INFORMATIONAL, ROW_LEFT_OUT, ROW_LEVEL, RULES, VALUE_SET_MISSING
from dashboard.model.schema import TABLE_SPECS, data_dictionary_markdown, empty_table
from dashboard.model.validation import FindingLog, latest_plausible_date


def adsl(**overrides):
    base = {
        "STUDYID": ["S1"] * 3,
        "USUBJID": ["S1-001", "S1-002", "S1-003"],
        "SITEID": ["01", "01", "02"],
        "ARM": ["Drug", "Placebo", "Screen Failure"],
        "RANDFL": ["Y", "Y", "N"],
        "ITTFL": ["Y", "Y", "N"],
        "SAFFL": ["Y", "Y", "N"],
        "SCRNDT": pd.to_datetime(["2020-01-01", "2020-01-05", "2020-01-07"]),
        "RANDDT": pd.to_datetime(["2020-01-03", "2020-01-09", None]),
        "AGE": [34.0, 51.0, 47.0],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def ae(subjects=("S1-001", "S1-002"), dates=("2020-02-01", "2020-03-01")):
    return pd.DataFrame({"USUBJID": list(subjects), "AEDECOD": ["Nausea"] * len(subjects),
                         "AEBODSYS": ["GI"] * len(subjects), "ASTDT": pd.to_datetime(list(dates))})


def blocked(**tables):
    with pytest.raises(DatasetValidationError) as info:
        TrialDataset.create(cutoff="2021-01-01", **tables)
    return info.value


def load(**tables):
    return TrialDataset.create(cutoff=tables.pop("cutoff", "2021-01-01"), **tables)


def only(report, rule_id):
    found = [f for f in report.findings if f.rule_id == rule_id]
    assert len(found) == 1, [str(f) for f in report.findings]
    return found[0]


def test_valid_tables_load_and_coerce_types():
    ds = TrialDataset.create(adsl(SITEID=[1, 1, 2]), cutoff="2021-01-01")
    assert ds.adsl["SITEID"].tolist() == ["1", "1", "2"]
    assert str(ds.adsl["USUBJID"].dtype) == "string"
    assert ds.cutoff == pd.Timestamp("2021-01-01") and ds.cutoff_source == "stated with the data"
    assert ds.arms == ["Drug", "Placebo"]
    assert ds.report.findings == [] and ds.quarantine.empty and ds.left_out() == 0


def test_input_frame_is_not_modified():
    frame = adsl(SITEID=[1, 1, 2], RANDFL=["Y", "maybe", "N"])
    before = frame.copy()
    TrialDataset.create(frame, cutoff="2021-01-01")
    pd.testing.assert_frame_equal(frame, before)


def test_disallowed_category_in_a_required_column_leaves_the_row_out():
    ds = load(adsl=adsl(RANDFL=["Y", "maybe", "N"]))
    finding = only(ds.report, "value-out-of-range")
    assert (finding.severity, finding.table, finding.column, finding.count) == (ROW_LEVEL, "adsl", "RANDFL", 1)
    assert finding.action == ROW_LEFT_OUT and "one of Y, N" in finding.rule
    assert "S1-002" in str(finding) and "'maybe'" in str(finding)
    assert ds.adsl["USUBJID"].tolist() == ["S1-001", "S1-003"] and ds.left_out("adsl") == 1
    record = ds.quarantine.iloc[0]
    assert (record["USUBJID"], record["column"], record["value"], record["action"]) == (
        "S1-002", "RANDFL", "maybe", ROW_LEFT_OUT)


def test_out_of_range_in_an_optional_column_sets_the_value_missing_and_keeps_the_row():
    ds = load(adsl=adsl(AGE=[34.0, 151.0, 47.0]))
    finding = only(ds.report, "value-out-of-range")
    assert finding.action == VALUE_SET_MISSING and finding.column == "AGE"
    assert len(ds.adsl) == 3 and pd.isna(ds.adsl.loc[ds.adsl["USUBJID"] == "S1-002", "AGE"]).all()
    assert ds.left_out() == 0 and ds.quarantine["value"].tolist() == ["151"]


def test_uncoercible_values_reported_once_per_column():
    ds = load(adsl=adsl(AGE=[30, "thirty", 40]))
    finding = only(ds.report, "value-unreadable")
    assert (finding.column, finding.count) == ("AGE", 1) and "'thirty'" in str(finding)
    assert ds.adsl["AGE"].isna().sum() == 1


def test_missing_required_column_blocks_for_adsl_and_drops_an_optional_table():
    err = blocked(adsl=adsl().drop(columns="ITTFL"))
    (finding,) = err.findings
    assert (finding.severity, finding.column, finding.rule_id) == (BLOCKING, "ITTFL", "subject-column-missing")
    ds = load(adsl=adsl(), adae=ae().drop(columns="AEDECOD"))
    assert ds.adae is None and only(ds.report, "table-column-missing").column == "AEDECOD"


def test_exact_duplicate_subject_keeps_one_row_conflicting_ones_leave_out_the_subject_and_records():
    twice = pd.concat([adsl(), adsl().iloc[[0]]], ignore_index=True)
    ds = load(adsl=twice, adae=ae())
    assert len(ds.adsl) == 3 and "exact copy" in only(ds.report, "duplicate-subject").rule
    conflicting = twice.copy()
    conflicting.loc[3, "AGE"] = 99.0
    ds = load(adsl=conflicting, adae=ae())
    assert ds.adsl["USUBJID"].tolist() == ["S1-002", "S1-003"] and ds.left_out("adsl") == 2
    cascade = only(ds.report, "subject-left-out")
    assert cascade.table == "adae" and cascade.count == 1 and ds.adae["USUBJID"].tolist() == ["S1-002"]


def test_orphan_events_are_left_out():
    ds = load(adsl=adsl(), adae=ae(subjects=("S1-001", "S1-999")))
    finding = only(ds.report, "orphan-record")
    assert finding.table == "adae" and finding.count == 1 and "S1-999" in finding.examples[0]
    assert ds.adae["USUBJID"].tolist() == ["S1-001"] and ds.left_out("adae") == 1


def test_subject_date_logic():
    bad = adsl(RANDDT=pd.to_datetime(["2019-12-01", "2020-01-09", None]))
    ds = load(adsl=bad)
    assert only(ds.report, "randomized-before-screening").action == VALUE_SET_MISSING
    assert pd.isna(ds.adsl.loc[0, "SCRNDT"]) and len(ds.adsl) == 3

    dead = adsl(DTHFL=["Y", "Y", "N"], DTHDT=pd.to_datetime(["2020-02-01", "2020-01-01", None]),
                LSTALVDT=pd.to_datetime(["2020-02-05", "2020-01-01", None]))
    ds = load(adsl=dead, adae=ae())
    before = only(ds.report, "death-before-randomization")
    assert before.count == 1 and "S1-002" in before.examples[0]
    assert ds.adsl["USUBJID"].tolist() == ["S1-001", "S1-003"] and ds.adae["USUBJID"].tolist() == ["S1-001"]
    alive = only(ds.report, "alive-after-death")
    assert alive.action == VALUE_SET_MISSING and pd.isna(ds.adsl.loc[0, "LSTALVDT"])


def test_events_after_death_are_left_out():
    dead = adsl(DTHFL=["Y", "N", "N"], DTHDT=pd.to_datetime(["2020-02-01", None, None]))
    rs = pd.DataFrame({"USUBJID": ["S1-001", "S1-001"], "PARAMCD": ["OVRLRESP"] * 2, "AVALC": ["CR", "PR"],
                       "ADT": pd.to_datetime(["2020-01-20", "2020-03-01"])})
    ds = load(adsl=dead, adrs=rs, adae=ae(dates=("2020-02-03", "2020-03-01")))
    assert {f.table for f in ds.report.findings if f.rule_id == "record-after-death"} == {"adrs", "adae"}
    assert ds.adrs["AVALC"].tolist() == ["CR"] and ds.adae["USUBJID"].tolist() == ["S1-002"]
    assert ds.left_out("adrs") == ds.left_out("adae") == 1 and ds.left_out() == 2
    assert ds.subject_findings("S1-001")["rule"].str.contains("death").all()


def test_dates_after_the_stated_data_cut():
    ds = load(adsl=adsl(RANDDT=pd.to_datetime(["2020-01-03", "2022-01-09", None])),
              adae=ae(dates=("2020-02-01", "2021-06-01")))
    rules = {(f.table, f.column) for f in ds.report.findings if f.rule_id == "date-after-cut"}
    assert rules == {("adsl", "RANDDT"), ("adae", "ASTDT")}
    assert ds.adsl["USUBJID"].tolist() == ["S1-001", "S1-003"] and ds.adae["USUBJID"].tolist() == ["S1-001"]


def test_cut_from_the_data_ignores_an_implausible_date():
    dates = pd.date_range("2020-01-01", periods=30, freq="7D")
    many = pd.DataFrame({"USUBJID": ["S1-001"] * 31, "AEDECOD": ["Nausea"] * 31, "AEBODSYS": ["GI"] * 31,
                         "ASTDT": [*dates, pd.Timestamp("2150-01-01")]})
    ds = TrialDataset.create(adsl(), adae=many)
    assert ds.cutoff == dates.max() and ds.cutoff_source == "latest date in the data, 1 implausible date left out"
    finding = only(ds.report, "date-implausible")
    assert finding.column == "ASTDT" and "2150-01-01" in finding.examples[0] and len(ds.adae) == 30


def test_plausible_late_dates_are_not_outliers():
    bulk = pd.DataFrame({"ASTDT": pd.to_datetime(pd.date_range("2014-01-01", "2016-01-01", periods=200))})
    assert latest_plausible_date({"adae": bulk}, pd.Timestamp("2024-01-01")) == (pd.Timestamp("2016-01-01"), 0)
    far = pd.concat([bulk, pd.DataFrame({"ASTDT": pd.to_datetime(["2031-05-01"])})])
    assert latest_plausible_date({"adae": far}, pd.Timestamp("2035-01-01")) == (pd.Timestamp("2016-01-01"), 1)
    future = pd.concat([bulk, pd.DataFrame({"ASTDT": pd.to_datetime(["2016-02-01"])})])
    assert latest_plausible_date({"adae": future}, pd.Timestamp("2016-01-15"))[1] == 1


def test_a_future_stated_cut_falls_back_to_the_data():
    ds = TrialDataset.create(adsl(), cutoff="2150-01-01", cutoff_source="metadata.json", adae=ae())
    assert only(ds.report, "cut-implausible").severity == INFORMATIONAL
    assert ds.cutoff == pd.Timestamp("2020-03-01") and ds.cutoff_source == "latest date in the data"


def test_nobody_randomized_blocks_loading_but_an_empty_trial_can_be_built():
    for frame, words in ((adsl().iloc[0:0], "no rows"),
                         (adsl(RANDFL=["N", "N", "N"], ARM=["Screen Failure"] * 3), "screen failure"),
                         (adsl(RANDFL=["Y", "Y", "N"], RANDDT=pd.to_datetime(["2022-01-03", "2022-01-09", None])),
                          "2 subject row(s) left out (date-after-cut: 2); the other 1 are screen failures")):
        dataset = load(adsl=frame)
        with pytest.raises(DatasetValidationError) as info:
            require_randomized(dataset, "/d/adsl.csv")
        finding = info.value.findings[-1]
        assert finding.rule_id == "no-randomized-subjects" and words in finding.rule and finding.source == "/d/adsl.csv"
    assert require_randomized(load(adsl=adsl())).adsl["USUBJID"].tolist() == ["S1-001", "S1-002", "S1-003"]


def test_site_referential_integrity_is_informational():
    sites = pd.DataFrame({"SITEID": ["01"], "SITENAME": ["Lead"]})
    ds = load(adsl=adsl(), sites=sites)
    finding = only(ds.report, "unknown-site")
    assert finding.column == "SITEID" and finding.count == 1 and len(ds.adsl) == 3


def test_finding_log_leave_out_and_set_missing_return_new_frames():
    log = FindingLog()
    frame = pd.DataFrame({"USUBJID": ["A", "B"], "AGE": [1.0, 2.0]})
    kept = log.leave_out("adsl", frame, frame["AGE"] > 1, "AGE", "too old", rule_id="value-out-of-range")
    blank = log.set_missing("adsl", frame, frame["AGE"] < 2, "AGE", "too young", rule_id="value-out-of-range")
    assert kept["USUBJID"].tolist() == ["A"] and blank["AGE"].isna().tolist() == [True, False]
    assert frame["AGE"].tolist() == [1.0, 2.0] and log.left_out_counts == {"adsl": 1}
    assert log.quarantine()[["USUBJID", "value", "action"]].values.tolist() == [
        ["B", "2", ROW_LEFT_OUT], ["A", "1", VALUE_SET_MISSING]]


def test_every_rule_used_in_the_code_is_registered():
    import re

    root = Path(__file__).resolve().parents[2] / "dashboard"
    used = set()
    for path in root.rglob("*.py"):
        used |= set(re.findall(r'rule_id="([a-z-]+)"', path.read_text()))
    assert used and used <= set(RULES), used - set(RULES)


def test_data_dictionary_lists_every_column_and_rule_and_matches_committed_file():
    text = data_dictionary_markdown()
    for spec in TABLE_SPECS.values():
        for column in spec.columns:
            assert f"`{column.name}`" in text
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.severity} |" in text
    committed = Path(__file__).resolve().parents[2] / "data" / "README.md"
    assert committed.read_text().strip() == text.strip(), "regenerate: python -m dashboard dictionary > data/README.md"


def test_empty_tables_have_model_dtypes():
    df = empty_table("adae")
    assert str(df["ASTDT"].dtype) == "datetime64[ns]" and str(df["AETOXGRN"].dtype) == "Int64"
