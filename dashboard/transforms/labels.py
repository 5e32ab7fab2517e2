"""Display labels derived from the data (site names rather than bare ids)."""

from __future__ import annotations

import pandas as pd


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
