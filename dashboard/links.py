"""Shareable links: the store's filters as a short URL query string, and back. Imports no Panel.

Only filters that differ from their defaults are written, readably:
`?arms=MSC&sites=01,03&age_range=18-40&randomization_dates=2015-01-01..2016-12-31&population=Evaluable`.
Arms are written by their short label when the trial has one (full names are accepted too).
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from .store import TrialStore

LIST_FILTERS = ("sites", "arms", "sexes", "grades", "diagnoses")
SEPARATOR = ","
DATE_SEPARATOR = ".."


def filters_to_query(store: TrialStore) -> dict[str, str]:
    """The non-default filters of a store as query-string fields (name -> text)."""
    query: dict[str, str] = {}
    short = store.dataset.info.arm_short_labels
    for name in LIST_FILTERS:
        values = list(getattr(store, name))
        if values:
            if name == "arms":
                values = [short.get(arm, arm) for arm in values]
            query[name] = SEPARATOR.join(str(v) for v in values)
    if tuple(store.age_range) != tuple(store.param.age_range.default):
        lo, hi = store.age_range
        query["age_range"] = f"{lo:g}-{hi:g}"
    dates = store.randomization_dates
    if dates is not None and tuple(dates) != tuple(store.param.randomization_dates.default or ()):
        query["randomization_dates"] = f"{dates[0].isoformat()}{DATE_SEPARATOR}{dates[1].isoformat()}"
    if store.population != store.param.population.default:
        query["population"] = store.population
    return query


def apply_query(store: TrialStore, query: Mapping[str, str]) -> list[str]:
    """Set the store's filters from query-string fields (other fields are ignored).

    Values the dataset does not know are skipped; returns one message per skipped value.
    All accepted filters are applied in one update, so views recompute once.
    """
    problems: list[str] = []
    update: dict[str, object] = {}
    by_label = {label: arm for arm, label in store.dataset.info.arm_short_labels.items()}
    for name in LIST_FILTERS:
        if name not in query:
            continue
        allowed = [str(o) for o in store.param[name].objects]
        chosen = []
        for token in filter(None, (t.strip() for t in str(query[name]).split(SEPARATOR))):
            value = by_label.get(token, token) if name == "arms" else token
            if value in allowed:
                chosen.append(value)
            else:
                problems.append(f"link filter {name}: unknown value {token!r} ignored")
        update[name] = list(dict.fromkeys(chosen))
    if "age_range" in query:
        parsed = _parse_range(str(query["age_range"]), "-", float)
        lo_bound, hi_bound = store.param.age_range.bounds
        if parsed is None or not lo_bound <= parsed[0] <= parsed[1] <= hi_bound:
            problems.append(f"link filter age_range: {query['age_range']!r} is not LOW-HIGH within {lo_bound}-{hi_bound}; ignored")
        else:
            update["age_range"] = tuple(int(v) if v.is_integer() else v for v in parsed)
    if "randomization_dates" in query:
        parsed = _parse_range(str(query["randomization_dates"]), DATE_SEPARATOR, dt.date.fromisoformat)
        bounds = store.param.randomization_dates.bounds
        if parsed is None or bounds is None or not bounds[0] <= parsed[0] <= parsed[1] <= bounds[1]:
            problems.append(
                f"link filter randomization_dates: {query['randomization_dates']!r} is not "
                f"YYYY-MM-DD..YYYY-MM-DD within the trial's randomization dates; ignored"
            )
        else:
            update["randomization_dates"] = parsed
    if "population" in query:
        if query["population"] in store.param.population.objects:
            update["population"] = query["population"]
        else:
            problems.append(f"link filter population: unknown value {query['population']!r} ignored")
    store.param.update(**update)
    return problems


def _parse_range(text: str, separator: str, convert):
    parts = text.split(separator)
    if len(parts) != 2:
        return None
    try:
        return tuple(convert(p.strip()) for p in parts)
    except ValueError:
        return None
