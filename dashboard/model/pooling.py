"""The pooled trial of a DMC open report: every randomized subject in one arm, so nothing is shown by arm."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pandas as pd

from .dataset import TrialDataset

POOLED_ARM = "All patients"
POOLED_ARMCD = "ALL"
# CDISC columns that name or code a subject's planned or actual treatment, in any table.
ARM_COLUMNS: tuple[str, ...] = (
    "ARM", "ARMCD", "ACTARM", "ACTARMCD", "ARMN", "ARMNRS", "ACTARMUD",
    "TRT01P", "TRT01A", "TRT01PN", "TRT01AN", "TRTP", "TRTA", "TRTPN", "TRTAN", "TRTSEQP", "TRTSEQA",
)
CODE_COLUMNS = frozenset({"ARMCD", "ACTARMCD"})


def pooled(dataset: TrialDataset) -> TrialDataset:
    """The same trial with every randomized subject's arm replaced by one pooled arm ("All patients").

    Every table's arm and treatment columns are pooled (screen failures keep their non-arm label),
    dose records are left out (the treatment given identifies a subject's arm), quarantined values
    of arm columns are blanked, and the trial's arm order names the pooled arm only. Any transform or
    view then computes pooled figures only: the DMC open report.
    """
    randomized = dataset.adsl["RANDFL"] == "Y"
    tables = {name: _pool_table(df, randomized if name == "adsl" else None)
              for name, df in dataset.tables().items() if name != "adex"}
    quarantine = dataset.quarantine.copy()
    quarantine.loc[quarantine["column"].isin(ARM_COLUMNS), "value"] = pd.NA
    info = replace(dataset.info, arm_order=(POOLED_ARM,), arm_short_labels=MappingProxyType({}))
    provenance = MappingProxyType({**dataset.provenance, "pooled": True})
    return replace(dataset, info=info, provenance=provenance, quarantine=quarantine, adex=None, **tables)


def _pool_table(df: pd.DataFrame, rows: pd.Series | None) -> pd.DataFrame:
    """A copy of `df` with its arm columns pooled in `rows` (every row with a value when None)."""
    out = df.copy()
    for column in (c for c in ARM_COLUMNS if c in out.columns):
        values = out[column]
        where = values.notna() if rows is None else values.notna() & rows
        if pd.api.types.is_numeric_dtype(values):
            out[column] = values.where(~where, 1)
        else:
            out[column] = values.astype("string").mask(where, POOLED_ARMCD if column in CODE_COLUMNS else POOLED_ARM)
    return out
