"""A trial whose every free-text value carries an injection payload (HTML, script, template,
Bokeh tooltip field, spreadsheet formula, Markdown link, TeX), for the escaping tests.

Identifiers and labels (STUDYID, USUBJID, SITEID, SITENAME, ARM, TRT01P, DIAG, AEDECOD, AEBODSYS,
PARAM, AVISIT, ...) get a payload prepended to their value, so values stay distinct and keys stay
consistent across tables. Coded values the analyses rely on keep their codes: columns with a
controlled list (flags, SEX, EOSSTT, ...), PARAMCD, AVALC, AECAT, AEREL and the 'Screen Failure' arm.
"""

from __future__ import annotations

import pandas as pd

from dashboard.model.dataset import TrialDataset
from dashboard.model.schema import TABLE_SPECS

PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    '"><script>alert(2)</script>',
    "{{7*7}}",
    "@{x}",
    "=cmd|' /C calc'!A0",
    "[x](javascript:alert(3)) **b**",
    "$$\\href{javascript:alert(4)}{x}$$",
)
KEPT_CODES = {"PARAMCD", "AVALC", "AECAT", "AEREL", "RANDFL", "ITTFL", "SAFFL", "EFFFL"}
KEPT_VALUES = {"Screen Failure"}


def hostile_value(value: str) -> str:
    """`value` with one of the payloads in front (the same payload for the same value, in every table)."""
    return f"{PAYLOADS[sum(map(ord, value)) % len(PAYLOADS)]}{value}"


def hostile_columns(table: str, frame: pd.DataFrame) -> list[str]:
    """The free-text columns of `frame` that get payloads."""
    spec = TABLE_SPECS[table]
    out = []
    for column in frame.columns:
        known = spec.column(column) if column in spec.column_names else None
        text = known.dtype == "string" if known else frame[column].dtype == object
        if text and column not in KEPT_CODES and not (known and known.allowed):
            out.append(column)
    return out


def hostile_table(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with payloads in its free-text columns (missing values stay missing)."""
    return frame.assign(**{
        column: frame[column].map(lambda v: v if pd.isna(v) or v in KEPT_VALUES else hostile_value(str(v)),
                                  na_action="ignore")
        for column in hostile_columns(table, frame)
    })


def hostile_dataset(dataset: TrialDataset) -> TrialDataset:
    """`dataset` with payloads in every free-text column; the trial identity comes from its STUDYID
    (so the header, titles and file names carry a payload too)."""
    tables = {name: hostile_table(name, frame) for name, frame in dataset.tables().items()}
    provenance = {k: v for k, v in dataset.provenance.items() if k != "files"}
    return TrialDataset.create(tables.pop("adsl"), cutoff=dataset.cutoff, info=None, provenance=provenance, **tables)
