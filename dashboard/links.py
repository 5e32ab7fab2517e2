"""Shareable links: the store's filters as a short URL query string, and back. Imports no Panel.

Only filters that differ from their defaults are written, readably, one field per filter the trial has
(`config.FILTER_DEFINITIONS`):
`?arms=MSC&sites=01,03&age_range=18-40&randomization_dates=2015-01-01..2016-12-31&population=Evaluable`.
Arms are written by their short label when the trial has one (full names are accepted too).
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from .config import FILTER_DEFINITIONS, FilterDefinition
from .store import TrialStore

SEPARATOR = ","
RANGE_SEPARATOR = {"range": "-", "dates": ".."}


def filters_to_query(store: TrialStore) -> dict[str, str]:
    """The non-default filters of a store as query-string fields (name -> text)."""
    query: dict[str, str] = {}
    short = store.dataset.info.arm_short_labels
    for definition in store.filters:
        value = getattr(store, definition.name)
        if definition.kind == "choice":
            if value:
                shown = [short.get(v, v) if definition.options == "arm" else v for v in value]
                query[definition.name] = SEPARATOR.join(str(v) for v in shown)
        elif tuple(value) != tuple(store.param[definition.name].default):
            lo, hi = (f"{v:g}" if definition.kind == "range" else v.isoformat() for v in value)
            query[definition.name] = f"{lo}{RANGE_SEPARATOR[definition.kind]}{hi}"
    if store.population != store.param.population.default:
        query["population"] = store.population
    return query


def apply_query(store: TrialStore, query: Mapping[str, str]) -> list[str]:
    """Set the store's filters from query-string fields (other fields are ignored).

    Values the dataset does not know, and filters it lacks, are skipped; returns one message per skipped value.
    All accepted filters are applied in one update, so views recompute once.
    """
    problems = [f"link filter {d.name}: this trial has no {d.column} to filter on; ignored"
                for d in FILTER_DEFINITIONS if d.name in query and d not in store.filters]
    update: dict[str, object] = {}
    for definition in store.filters:
        if definition.name not in query:
            continue
        text = str(query[definition.name])
        if definition.kind == "choice":
            update[definition.name] = _choices(store, definition, text, problems)
            continue
        bounds = store.param[definition.name].bounds
        if definition.kind == "range":
            parsed = _parse_range(text, RANGE_SEPARATOR["range"], float)
            expected = f"LOW-HIGH within {bounds[0]}-{bounds[1]}"
        else:
            parsed = _parse_range(text, RANGE_SEPARATOR["dates"], dt.date.fromisoformat)
            expected = "YYYY-MM-DD..YYYY-MM-DD within the trial's randomization dates"
        if parsed is None or not bounds[0] <= parsed[0] <= parsed[1] <= bounds[1]:
            problems.append(f"link filter {definition.name}: {text!r} is not {expected}; ignored")
        elif definition.kind == "range":
            update[definition.name] = tuple(int(v) if v.is_integer() else v for v in parsed)
        else:
            update[definition.name] = parsed
    if "population" in query:
        if query["population"] in store.param.population.objects:
            update["population"] = query["population"]
        else:
            problems.append(f"link filter population: unknown value {query['population']!r} ignored")
    store.param.update(**update)
    return problems


def _choices(store: TrialStore, definition: FilterDefinition, text: str, problems: list[str]) -> list:
    """The known values named in a link field (arms also by short label); unknown ones go to `problems`."""
    by_label = {label: arm for arm, label in store.dataset.info.arm_short_labels.items()}
    allowed = [str(o) for o in store.param[definition.name].objects]
    chosen = []
    for token in filter(None, (t.strip() for t in text.split(SEPARATOR))):
        value = by_label.get(token, token) if definition.options == "arm" else token
        if value in allowed:
            chosen.append(value)
        else:
            problems.append(f"link filter {definition.name}: unknown value {token!r} ignored")
    return list(dict.fromkeys(chosen))


def _parse_range(text: str, separator: str, convert):
    parts = text.split(separator)
    if len(parts) != 2:
        return None
    try:
        return tuple(convert(p.strip()) for p in parts)
    except ValueError:
        return None
