"""One column spec per table of the data model, enforced with pandera where data enters.

The model follows CDISC ADaM names (ADSL, ADRS, ADAE, ADTTE, ADEX) plus a SITES table, so that
real exports and the synthetic trial travel the same path. `TABLE_SPECS` is the single source of
truth: the pandera schemas and the data dictionary (`data/README.md`) are both built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # imported where used: pandera is off the import path of the first page
    import pandera.pandas as pa

from ..config import trial_metadata_markdown
from .rules import rules_markdown

YN = ("Y", "N")


@dataclass(frozen=True)
class ColumnSpec:
    """One variable of a table: name, type, whether it must exist, and what values are allowed."""

    name: str
    dtype: str  # "string", "date", "int", "float"
    label: str
    required: bool = False
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    unique: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A table of the data model: its role, whether a dataset must have it, and its columns."""

    name: str
    label: str
    required: bool
    columns: tuple[ColumnSpec, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def _c(name, dtype, label, **kw) -> ColumnSpec:
    return ColumnSpec(name, dtype, label, **kw)


ADSL = TableSpec(
    "adsl",
    "Subject level: one row per screened subject (screen failures included, RANDFL='N')",
    True,
    (
        _c("STUDYID", "string", "Study identifier", required=True, nullable=False),
        _c("USUBJID", "string", "Unique subject identifier", required=True, nullable=False, unique=True),
        _c("SUBJID", "string", "Subject identifier within study"),
        _c("SITEID", "string", "Study site identifier (text)", required=True, nullable=False),
        _c("SITENAME", "string", "Site name"),
        _c("SITECITY", "string", "Site city"),
        _c("ARM", "string", "Description of planned arm ('Screen Failure' when not randomized)",
           required=True, nullable=False),
        _c("ARMCD", "string", "Planned arm code"),
        _c("TRT01P", "string", "Planned treatment for period 1 (empty when not randomized)"),
        _c("TRT01A", "string", "Actual treatment for period 1 (empty when never treated)"),
        _c("RANDFL", "string", "Randomized population flag", required=True, nullable=False, allowed=YN),
        _c("ITTFL", "string", "Intent-to-treat population flag", required=True, nullable=False, allowed=YN),
        _c("SAFFL", "string", "Safety population flag (received any study treatment)",
           required=True, nullable=False, allowed=YN),
        _c("EFFFL", "string", "Evaluable (analysed) population flag", allowed=YN),
        _c("SCRNDT", "date", "Date of screening (informed consent)"),
        _c("SFREAS", "string", "Reason for screen failure"),
        _c("RANDDT", "date", "Date of randomization"),
        _c("TRTSDT", "date", "Date of first exposure to study treatment"),
        _c("TRTEDT", "date", "Date of last exposure to study treatment"),
        _c("AGE", "float", "Age at screening (years)", min_value=0, max_value=120),
        _c("AGEGR1", "string", "Age group"),
        _c("SEX", "string", "Sex", allowed=("M", "F", "U", "UNDIFFERENTIATED")),
        _c("DIAG", "string", "Underlying disease (indication for transplant)"),
        _c("DISSTAT", "string", "Disease status at transplant (CR/PR/NR)"),
        _c("HLAMATCH", "string", "Donor HLA match (Matched/Mismatched)"),
        _c("DONREL", "string", "Donor relationship (Sibling/Haploidentical/Unrelated)"),
        _c("GRAFTSRC", "string", "Graft source"),
        _c("CONDREG", "string", "Conditioning regimen"),
        _c("GVHDPROP", "string", "GVHD prophylaxis"),
        _c("HSCTDT", "date", "Date of allogeneic HSCT"),
        _c("AGVHDDT", "date", "Date of acute GVHD onset"),
        _c("HSCTGVDY", "int", "Days from HSCT to acute GVHD onset", min_value=0),
        _c("AGVHDGR", "string", "Acute GVHD grade at entry", allowed=("I", "II", "III", "IV")),
        _c("SKINFL", "string", "Skin involvement at entry", allowed=YN),
        _c("LIVERFL", "string", "Liver involvement at entry", allowed=YN),
        _c("UGIFL", "string", "Upper GI involvement at entry", allowed=YN),
        _c("LGIFL", "string", "Lower GI involvement at entry", allowed=YN),
        _c("NORGANS", "int", "Number of organs involved at entry", min_value=0, max_value=4),
        _c("STRATGR", "string", "Stratification factor: aGVHD grade group (II / III-IV)"),
        _c("EOSSTT", "string", "End of study status",
           allowed=("COMPLETED", "DISCONTINUED", "ONGOING", "NOT RANDOMIZED")),
        _c("EOSDT", "date", "End of study date"),
        _c("DCSREAS", "string", "Reason for discontinuation from study"),
        _c("DTHFL", "string", "Subject died flag", allowed=YN),
        _c("DTHDT", "date", "Date of death"),
        _c("DTHCAUS", "string", "Cause of death"),
        _c("LSTALVDT", "date", "Date last known alive"),
    ),
)

SITES = TableSpec(
    "sites",
    "Study sites: one row per centre",
    False,
    (
        _c("SITEID", "string", "Study site identifier", required=True, nullable=False, unique=True),
        _c("SITENAME", "string", "Site name"),
        _c("CITY", "string", "City"),
        _c("LAT", "float", "Latitude (degrees)", min_value=-90, max_value=90),
        _c("LON", "float", "Longitude (degrees)", min_value=-180, max_value=180),
        _c("ACTIVDT", "date", "Site activation date"),
        _c("TARGET", "int", "Site enrollment target (patients)", min_value=0),
    ),
)

ADRS = TableSpec(
    "adrs",
    "Response assessments: one row per subject, parameter and assessment",
    False,
    (
        _c("USUBJID", "string", "Unique subject identifier", required=True, nullable=False),
        _c("PARAMCD", "string", "Parameter code (OVRLRESP = overall response)", required=True, nullable=False),
        _c("PARAM", "string", "Parameter"),
        _c("AVISIT", "string", "Analysis visit (e.g. 'Day 28')"),
        _c("AVISITN", "float", "Analysis visit (N): nominal study day"),
        _c("ADT", "date", "Assessment date"),
        _c("ADY", "int", "Study day of assessment (randomization = day 1)"),
        _c("AVALC", "string", "Response (CR, PR, MR, SD, NR, PD, NE, ...)", required=True, nullable=False),
        _c("SKINSTG", "int", "Skin aGVHD stage", min_value=0, max_value=4),
        _c("LIVERSTG", "int", "Liver aGVHD stage", min_value=0, max_value=4),
        _c("GISTG", "int", "GI aGVHD stage", min_value=0, max_value=4),
    ),
)

ADAE = TableSpec(
    "adae",
    "Adverse events: one row per event",
    False,
    (
        _c("USUBJID", "string", "Unique subject identifier", required=True, nullable=False),
        _c("AESEQ", "int", "Sequence number"),
        _c("AETERM", "string", "Reported term"),
        _c("AEDECOD", "string", "Preferred term (MedDRA)", required=True, nullable=False),
        _c("AEBODSYS", "string", "Body system or organ class (MedDRA SOC)", required=True, nullable=False),
        _c("AETOXGRN", "int", "CTCAE grade (1-5)", min_value=1, max_value=5),
        _c("AESEV", "string", "Severity (MILD/MODERATE/SEVERE)"),
        _c("AESER", "string", "Serious event", allowed=YN),
        _c("AEREL", "string", "Causality to study treatment"),
        _c("AEOUT", "string", "Outcome"),
        _c("ASTDT", "date", "Analysis start date"),
        _c("AENDT", "date", "Analysis end date"),
        _c("ASTDY", "int", "Analysis start relative day"),
        _c("AENDY", "int", "Analysis end relative day"),
        _c("TRTEMFL", "string", "Treatment-emergent flag", allowed=YN),
        _c("AECAT", "string", "Category (INFECTION / HEMATOLOGIC / OTHER)"),
        _c("INFTYPE", "string", "Infection type (CMV, EBV, Bacterial, Fungal, Other viral)"),
    ),
)

ADTTE = TableSpec(
    "adtte",
    "Time-to-event endpoints: one row per subject and parameter",
    False,
    (
        _c("USUBJID", "string", "Unique subject identifier", required=True, nullable=False),
        _c("PARAMCD", "string", "Parameter code (OS, FFS, CGVHD, RELAPSE, NRM, ...)", required=True, nullable=False),
        _c("PARAM", "string", "Parameter"),
        _c("STARTDT", "date", "Time-to-event origin date"),
        _c("ADT", "date", "Event or censoring date"),
        _c("AVAL", "float", "Time to event or censoring (days)", required=True, nullable=False, min_value=0),
        _c("CNSR", "int", "Censor (0 = event, 1 = censored)", required=True, nullable=False,
           min_value=0, max_value=1),
        _c("CMPEVFL", "string", "Censored by a competing event (Y) rather than end of follow-up",
           allowed=YN),
        _c("EVNTDESC", "string", "Event or censoring description"),
    ),
)

ADEX = TableSpec(
    "adex",
    "Exposure: one row per dose actually given",
    False,
    (
        _c("USUBJID", "string", "Unique subject identifier", required=True, nullable=False),
        _c("EXTRT", "string", "Treatment given", required=True, nullable=False),
        _c("EXDOSE", "float", "Dose", min_value=0),
        _c("EXDOSU", "string", "Dose unit"),
        _c("EXCYCLE", "int", "Treatment cycle", min_value=1),
        _c("ASTDT", "date", "Date of dose"),
        _c("ASTDY", "int", "Study day of dose"),
    ),
)

TABLE_SPECS: dict[str, TableSpec] = {t.name: t for t in (ADSL, SITES, ADRS, ADAE, ADTTE, ADEX)}

_PANDAS_DTYPES = {"string": "string", "date": "datetime64[ns]", "int": "Int64", "float": "float64"}


def pandas_dtype(column: ColumnSpec) -> str:
    """The pandas dtype a column is stored as."""
    return _PANDAS_DTYPES[column.dtype]


def _checks(column: ColumnSpec) -> list[pa.Check]:
    import pandera.pandas as pa
    checks = []
    if column.allowed is not None:
        checks.append(pa.Check.isin(column.allowed, error=f"one of {', '.join(column.allowed)}"))
    if column.min_value is not None:
        checks.append(pa.Check.ge(column.min_value, error=f">= {column.min_value:g}"))
    if column.max_value is not None:
        checks.append(pa.Check.le(column.max_value, error=f"<= {column.max_value:g}"))
    return checks


@cache
def pandera_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of one table, built from its spec (types coerced, unknown columns kept)."""
    import pandera.pandas as pa
    spec = TABLE_SPECS[table]
    return pa.DataFrameSchema(
        {
            c.name: pa.Column(
                pandas_dtype(c),
                checks=_checks(c),
                nullable=c.nullable,
                required=c.required,
                unique=c.unique,
                coerce=True,
                description=c.label,
            )
            for c in spec.columns
        },
        name=table,
        strict=False,
        ordered=False,
    )


def data_dictionary_markdown() -> str:
    """The data dictionary of the model as Markdown, generated from `TABLE_SPECS`, followed by the
    validation rules and their severity (`rules.RULES`)."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `dashboard/model/schema.py` and `dashboard/model/rules.py` by",
        "`python -m dashboard dictionary`; do not edit by hand.",
        "Column names follow CDISC ADaM. *Required* columns must be present (without one, ADSL cannot",
        "load and an optional table is left out); other columns are used when present. Dates are",
        "calendar dates; study day 1 is the randomization date.",
        "",
    ]
    for spec in TABLE_SPECS.values():
        lines += [
            f"## `{spec.name}` — {spec.label}",
            "",
            f"Table {'required' if spec.required else 'optional (views that need it explain its absence)'}.",
            "",
            "| Column | Type | Required | Missing allowed | Allowed values / range | Label |",
            "|---|---|---|---|---|---|",
        ]
        for c in spec.columns:
            rule = ""
            if c.allowed:
                rule = ", ".join(f"`{v}`" for v in c.allowed)
            elif c.min_value is not None or c.max_value is not None:
                lo = "" if c.min_value is None else f"{c.min_value:g}"
                hi = "" if c.max_value is None else f"{c.max_value:g}"
                rule = f"{lo} .. {hi}"
            if c.unique:
                rule = (rule + "; " if rule else "") + "unique"
            lines.append(
                f"| `{c.name}` | {c.dtype} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {rule} | {c.label} |"
            )
        lines.append("")
    lines.append(trial_metadata_markdown())
    return "\n".join(lines) + "\n" + rules_markdown()


def empty_table(table: str) -> pd.DataFrame:
    """An empty frame with every column of a table at its model dtype."""
    spec = TABLE_SPECS[table]
    return pd.DataFrame({c.name: pd.Series(dtype=pandas_dtype(c)) for c in spec.columns})
