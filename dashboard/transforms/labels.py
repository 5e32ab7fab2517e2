"""Display labels: site names rather than bare ids, and column labels for readers (CDISC names only in
tooltips)."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ..config import BASELINE_LABELS
from ..model.schema import TABLE_SPECS


def site_labels(adsl: pd.DataFrame, sites: pd.DataFrame | None = None) -> dict[str, str]:
    """Label per SITEID: "01 · Nanfang Hospital (Guangzhou)" from the sites table (SITENAME, CITY),
    else ADSL's SITENAME / SITECITY, else the bare id. Requires ADSL SITEID."""
    if "SITEID" not in adsl.columns:
        raise KeyError("site_labels needs ADSL column SITEID")
    names: dict[str, str] = {}
    cities: dict[str, str] = {}
    for frame, name_col, city_col in ((adsl, "SITENAME", "SITECITY"), (sites, "SITENAME", "CITY")):
        if frame is None or "SITEID" not in frame.columns:
            continue
        keyed = frame.assign(SITEID=frame["SITEID"].astype(str)).groupby("SITEID")
        for column, target in ((name_col, names), (city_col, cities)):
            if column in frame.columns:
                target.update({k: str(v).strip() for k, v in keyed[column].first().dropna().items() if str(v).strip()})
    labels = {}
    for site in adsl["SITEID"].dropna().astype(str).unique():
        name, city = names.get(site, ""), cities.get(site, "")
        if name and city and city.lower() not in name.lower():
            name = f"{name} ({city})"
        labels[site] = f"{site} · {name or city}" if (name or city) else site
    return labels


def short_site_labels(labels: dict[str, str]) -> dict[str, str]:
    """Chart labels per SITEID from `site_labels`: the id and the institution, i.e. the name before its
    first comma without the city ("03 · Third Affiliated Hospital of Sun Yat-sen University"), never cut
    short; a site whose institution reads like another site's keeps its full label."""
    short = {}
    for site, label in labels.items():
        head, sep, name = label.partition(" · ")
        if not sep:
            short[site] = label
            continue
        if name.endswith(")") and " (" in name:
            name = name[: name.rindex(" (")]
        short[site] = f"{head} · {name.split(',')[0].strip() or name}"
    institutions = [v.partition(" · ")[2].lower() for v in short.values()]
    return {site: labels[site] if institutions.count(v.partition(" · ")[2].lower()) > 1 else v
            for site, v in short.items()}


def column_label(table: str, name: str, labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The label of a column for readers: the dataset's own label when given (`TrialInfo.column_labels`:
    define.xml, else the files' labels), else the data model's label (`schema.TABLE_SPECS`), else the
    configured label of a common CDISC variable (`config.BASELINE_LABELS`), else the name itself."""
    own = (labels or {}).get(str(table).lower(), {}).get(name)
    if own:
        return own
    spec = TABLE_SPECS.get(table)
    if spec is not None and name in spec.column_names:
        return spec.column(name).label
    return BASELINE_LABELS.get(name, name)
