"""Subject filtering: the global filters as a value object, applied to ADSL and event tables."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from .flags import is_yes


@dataclass(frozen=True)
class FilterSpec:
    """Global filter values; empty tuples and None mean "no restriction"."""

    sites: tuple[str, ...] = ()
    arms: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    diagnoses: tuple[str, ...] = ()
    age_range: tuple[float, float] | None = None
    randomization_dates: tuple[pd.Timestamp, pd.Timestamp] | None = None
    population_flag: str | None = "ITTFL"

    def pre_randomization(self) -> "FilterSpec":
        """The filters that also apply to screen failures (no arm, no randomization date, no population)."""
        return replace(self, arms=(), randomization_dates=None, population_flag=None)


def filter_subjects(adsl: pd.DataFrame, spec: FilterSpec) -> pd.DataFrame:
    """ADSL rows matching every filter. Requires USUBJID; uses SITEID, ARM, SEX, AGVHDGR, DIAG,
    AGE, RANDDT and the population flag when the spec restricts them."""
    mask = pd.Series(True, index=adsl.index)
    for values, column in (
        (spec.sites, "SITEID"),
        (spec.arms, "ARM"),
        (spec.sexes, "SEX"),
        (spec.grades, "AGVHDGR"),
        (spec.diagnoses, "DIAG"),
    ):
        if values:
            _require(adsl, column)
            mask &= adsl[column].isin(values)
    if spec.age_range is not None:
        _require(adsl, "AGE")
        lo, hi = spec.age_range
        mask &= adsl["AGE"].between(lo, hi)
    if spec.randomization_dates is not None:
        _require(adsl, "RANDDT")
        start, end = spec.randomization_dates
        mask &= adsl["RANDDT"].between(pd.Timestamp(start), pd.Timestamp(end))
    if spec.population_flag is not None:
        _require(adsl, spec.population_flag)
        mask &= is_yes(adsl[spec.population_flag])
    return adsl.loc[mask.fillna(False).astype(bool)]


def restrict_to_subjects(table: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """Rows of an event table whose USUBJID is among the given subjects."""
    return table.loc[table["USUBJID"].isin(subjects["USUBJID"])]


def _require(df: pd.DataFrame, column: str) -> None:
    if column not in df.columns:
        raise KeyError(f"filter needs column {column!r}, which this ADSL does not have")
