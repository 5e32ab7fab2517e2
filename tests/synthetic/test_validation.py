"""A malformed table fails validation with a message naming table, column, rows and rule."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.data.validation import DatasetValidationError
from dashboard.data.dataset import TrialDataset


def _create(bundled, **changes):
    tables = {name: df.copy() for name, df in bundled.tables().items()}
    tables.update(changes)
    return TrialDataset.create(tables.pop("adsl"), cutoff=bundled.cutoff, info=bundled.info, **tables)


def test_valid_copy_passes(bundled):
    assert _create(bundled).report.ok


def test_unknown_grade_is_named(bundled):
    adsl = bundled.adsl.copy()
    adsl.loc[3, "AGVHDGR"] = "V"
    with pytest.raises(DatasetValidationError) as err:
        _create(bundled, adsl=adsl)
    message = str(err.value)
    assert "adsl" in message and "AGVHDGR" in message and "row 3" in message and "one of I, II, III, IV" in message
    assert adsl.at[3, "USUBJID"] in message


def test_orphan_adverse_event_is_named(bundled):
    adae = bundled.adae.copy()
    adae.loc[0, "USUBJID"] = "NCT02241018-99999"
    with pytest.raises(DatasetValidationError, match=r"adae, column USUBJID: every subject must exist in ADSL.*99999"):
        _create(bundled, adae=adae)


def test_assessment_after_death_is_named(bundled):
    dead = bundled.adsl.loc[bundled.adsl["DTHFL"] == "Y"].iloc[0]
    adrs = bundled.adrs.copy()
    row = adrs.index[adrs["USUBJID"] == dead["USUBJID"]][0]
    adrs.loc[row, "ADT"] = dead["DTHDT"] + pd.Timedelta(days=3)
    with pytest.raises(DatasetValidationError) as err:
        _create(bundled, adrs=adrs)
    assert f"adrs, column ADT: ADT must not follow the subject's death date" in str(err.value)
    assert f"row {row}" in str(err.value)


def test_negative_time_to_event_is_named(bundled):
    adtte = bundled.adtte.copy()
    adtte.loc[5, "AVAL"] = -1.0
    with pytest.raises(DatasetValidationError, match=r"adtte, column AVAL: values must be >= 0 \(1 row; e.g. row 5"):
        _create(bundled, adtte=adtte)
