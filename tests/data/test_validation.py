"""Schema and cross-table rules: a malformed table fails with a message naming table, column, rows and rule."""

import pandas as pd
import pytest

from dashboard.data import DatasetValidationError, TrialDataset
from dashboard.data.schema import TABLE_SPECS, data_dictionary_markdown, empty_table


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


def errors_of(**tables):
    with pytest.raises(DatasetValidationError) as info:
        TrialDataset.create(cutoff="2021-01-01", **tables)
    return info.value


def test_valid_tables_load_and_coerce_types():
    ds = TrialDataset.create(adsl(SITEID=[1, 1, 2]), cutoff="2021-01-01")
    assert ds.adsl["SITEID"].tolist() == ["1", "1", "2"]
    assert str(ds.adsl["USUBJID"].dtype) == "string"
    assert ds.cutoff == pd.Timestamp("2021-01-01")
    assert ds.arms == ["Drug", "Placebo"]


def test_input_frame_is_not_modified():
    frame = adsl(SITEID=[1, 1, 2])
    before = frame.copy()
    TrialDataset.create(frame, cutoff="2021-01-01")
    pd.testing.assert_frame_equal(frame, before)


def test_disallowed_category_names_table_column_row_and_rule():
    err = errors_of(adsl=adsl(RANDFL=["Y", "maybe", "N"]))
    (finding,) = err.findings
    assert (finding.table, finding.column, finding.count) == ("adsl", "RANDFL", 1)
    assert "one of Y, N" in finding.rule
    assert "S1-002" in str(err) and "'maybe'" in str(err)


def test_duplicate_subjects_and_missing_required_column():
    err = errors_of(adsl=adsl(USUBJID=["A", "A", "B"]).drop(columns="ITTFL"))
    rules = {(f.column, f.rule) for f in err.findings}
    assert ("USUBJID", "values must be unique (duplicates found)") in rules
    assert ("ITTFL", "required column ITTFL is missing") in rules


def test_uncoercible_values_reported_once_per_column():
    err = errors_of(adsl=adsl(AGE=[30, "thirty", 40]))
    assert [(f.column, f.count) for f in err.findings] == [("AGE", 1)]
    assert "'thirty'" in str(err)


def test_orphan_events_are_errors():
    ae = pd.DataFrame({"USUBJID": ["S1-001", "S1-999"], "AEDECOD": ["Nausea"] * 2, "AEBODSYS": ["GI"] * 2})
    err = errors_of(adsl=adsl(), adae=ae)
    (finding,) = err.findings
    assert finding.table == "adae" and finding.count == 1 and "orphan" in finding.rule
    assert "S1-999" in finding.examples[0]


def test_date_logic_randomization_before_screening_and_events_after_death():
    bad = adsl(RANDDT=pd.to_datetime(["2019-12-01", "2020-01-09", None]))
    err = errors_of(adsl=bad)
    assert err.findings[0].column == "RANDDT" and "precede screening" in err.findings[0].rule

    dead = adsl(DTHFL=["Y", "N", "N"], DTHDT=pd.to_datetime(["2020-02-01", None, None]))
    rs = pd.DataFrame({"USUBJID": ["S1-001"], "PARAMCD": ["OVRLRESP"], "AVALC": ["CR"],
                       "ADT": pd.to_datetime(["2020-03-01"])})
    err = errors_of(adsl=dead, adrs=rs)
    assert any("death is last" in f.rule and f.table == "adrs" for f in err.findings)


def test_nothing_may_be_dated_after_the_data_cut():
    err = errors_of(adsl=adsl(RANDDT=pd.to_datetime(["2020-01-03", "2022-01-09", None])))
    assert any("data cut" in f.rule and f.column == "RANDDT" for f in err.findings)


def test_site_referential_integrity():
    sites = pd.DataFrame({"SITEID": ["01"], "SITENAME": ["Lead"]})
    err = errors_of(adsl=adsl(), sites=sites)
    assert err.findings[0].column == "SITEID" and err.findings[0].count == 1


def test_data_dictionary_lists_every_column_and_matches_committed_file():
    text = data_dictionary_markdown()
    for spec in TABLE_SPECS.values():
        for column in spec.columns:
            assert f"`{column.name}`" in text
    from pathlib import Path

    committed = Path(__file__).resolve().parents[2] / "data" / "README.md"
    assert committed.read_text().strip() == text.strip(), "regenerate: python -m dashboard dictionary > data/README.md"


def test_empty_tables_have_model_dtypes():
    df = empty_table("adae")
    assert str(df["ASTDT"].dtype) == "datetime64[ns]" and str(df["AETOXGRN"].dtype) == "Int64"
