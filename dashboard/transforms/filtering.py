"""Subject filtering: the global filters as a value object, applied to ADSL and event tables."""

from __future__ import annotations

from dataclasses import field, make_dataclass, replace

import pandas as pd

from ..config import FILTER_DEFINITIONS
from .columns import require_columns
from .flags import is_yes


def _pre_randomization(self) -> "FilterSpec":
    """The filters that also apply to screen failures (no arm, no randomization date, no population)."""
    cleared = {d.name: _no_restriction(d) for d in FILTER_DEFINITIONS if not d.before_randomization}
    return replace(self, **cleared, population_flag=None)


def _no_restriction(definition):
    return () if definition.kind == "choice" else None


FilterSpec = make_dataclass(
    "FilterSpec",
    [(d.name, tuple | None, field(default=_no_restriction(d))) for d in FILTER_DEFINITIONS]
    + [("population_flag", str | None, field(default="ITTFL"))],
    frozen=True,
    namespace={"pre_randomization": _pre_randomization, "__module__": __name__},
)
FilterSpec.__doc__ = """Global filter values, one field per `config.FILTER_DEFINITIONS` row plus the population flag:
a tuple of chosen values (choice), (low, high) (range, dates) or None; empty tuples and None mean "no restriction"."""


def filter_subjects(adsl: pd.DataFrame, spec: FilterSpec) -> pd.DataFrame:
    """ADSL rows matching every filter. Requires USUBJID, and the column of each filter the spec restricts
    (`config.FILTER_DEFINITIONS`) and the population flag."""
    mask = pd.Series(True, index=adsl.index)
    for definition in FILTER_DEFINITIONS:
        value = getattr(spec, definition.name)
        if not value:
            continue
        require_columns(adsl, [definition.column], "filter")
        column = adsl[definition.column]
        if definition.kind == "choice":
            mask &= column.isin(value)
        elif definition.kind == "dates":
            mask &= column.between(pd.Timestamp(value[0]), pd.Timestamp(value[1]))
        else:
            mask &= column.between(*value)
    if spec.population_flag is not None:
        require_columns(adsl, [spec.population_flag], "filter")
        mask &= is_yes(adsl[spec.population_flag])
    return adsl.loc[mask.fillna(False).astype(bool)]


def restrict_to_subjects(table: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """Rows of an event table whose USUBJID is among the given subjects."""
    return table.loc[table["USUBJID"].isin(subjects["USUBJID"])]
