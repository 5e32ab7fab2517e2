"""A corrupted copy of the bundled trial still loads: each broken row is left out (or its value set
missing) with a finding naming table, column, rows and rule, and the numbers exclude exactly those rows."""

from __future__ import annotations

import pandas as pd

from dashboard.model.dataset import TrialDataset
from dashboard.model.rules import ROW_LEFT_OUT, ROW_LEVEL, VALUE_SET_MISSING


def _create(bundled, **changes):
    tables = {name: df.copy() for name, df in bundled.tables().items()}
    tables.update(changes)
    return TrialDataset.create(tables.pop("adsl"), cutoff=bundled.cutoff, info=bundled.info, **tables)


def _finding(dataset, rule_id):
    (finding,) = [f for f in dataset.report.findings if f.rule_id == rule_id]
    return finding


def test_valid_copy_passes(bundled):
    assert _create(bundled).report.findings == []


def test_unknown_grade_is_set_missing_and_named(bundled):
    adsl = bundled.adsl.copy()
    adsl.loc[3, "AGVHDGR"] = "V"
    ds = _create(bundled, adsl=adsl)
    message = str(_finding(ds, "value-out-of-range"))
    assert "adsl" in message and "AGVHDGR" in message and "row 4" in message and "one of I, II, III, IV" in message
    assert adsl.at[3, "USUBJID"] in message and VALUE_SET_MISSING in message
    assert len(ds.adsl) == len(bundled.adsl) and pd.isna(ds.adsl.at[3, "AGVHDGR"])


def test_orphan_adverse_event_is_left_out(bundled):
    adae = bundled.adae.copy()
    adae.loc[0, "USUBJID"] = "NCT02241018-99999"
    ds = _create(bundled, adae=adae)
    finding = _finding(ds, "orphan-record")
    assert str(finding).startswith("[row-level orphan-record] adae, column USUBJID: subject not in the subject-level")
    assert "99999" in finding.examples[0] and finding.action == ROW_LEFT_OUT
    assert len(ds.adae) == len(bundled.adae) - 1 and ds.left_out("adae") == 1


def test_assessment_after_death_is_left_out(bundled):
    dead = bundled.adsl.loc[bundled.adsl["DTHFL"] == "Y"].iloc[0]
    adrs = bundled.adrs.copy()
    row = adrs.index[adrs["USUBJID"] == dead["USUBJID"]][0]
    adrs.loc[row, "ADT"] = dead["DTHDT"] + pd.Timedelta(days=3)
    ds = _create(bundled, adrs=adrs)
    finding = _finding(ds, "record-after-death")
    assert "adrs, column ADT: ADT follows the subject's death date" in str(finding)
    assert f"row {row + 1}" in str(finding) and finding.severity == ROW_LEVEL
    assert row not in ds.adrs.index and len(ds.adrs) == len(bundled.adrs) - 1


def test_negative_time_to_event_is_left_out(bundled):
    adtte = bundled.adtte.copy()
    adtte.loc[5, "AVAL"] = -1.0
    ds = _create(bundled, adtte=adtte)
    assert "adtte, column AVAL: values must be >= 0 (1 row; row left out; e.g. row 6" in str(
        _finding(ds, "value-out-of-range"))
    assert 5 not in ds.adtte.index and ds.quarantine["value"].tolist() == ["-1"]
