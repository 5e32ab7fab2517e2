"""Stratified comparison of response between two arms: Cochran-Mantel-Haenszel across the protocol's
stratification factors (the randomization strata), as a trial's primary analysis usually adjusts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import StratifiedTable

from .response import RESPONDER_CATEGORIES, RESPONSE_PENDING


def stratified_response_comparison(status: pd.DataFrame, subjects: pd.DataFrame, visit: str, treatment: str,
                                   control: str, factors) -> dict:
    """Response at `visit`, treatment vs control, stratified by `factors` (ADSL columns, cross-classified).

    Requires USUBJID, ARM, AVISIT, STATUS in `status` (from `response_status_by_visit`) and USUBJID and
    the factors in `subjects`. Pending assessments are left out; strata with one arm only carry no
    information and are dropped (counted in `strata_dropped`). Returns strata (used), the Mantel-Haenszel
    common odds ratio with its 95% CI (Robins-Breslow-Greenland), the CMH test p-value (no continuity
    correction) and the Breslow-Day test of homogeneous odds ratios; NaN when no stratum is usable.
    """
    factors = list(factors)
    missing = [c for c in ["USUBJID", "ARM", "AVISIT", "STATUS"] if c not in status] + \
              [c for c in ["USUBJID", *factors] if c not in subjects]
    if missing or not factors:
        raise KeyError(f"stratified_response_comparison needs {missing or 'at least one factor'}")
    at = status.loc[(status["AVISIT"] == visit) & (status["STATUS"] != RESPONSE_PENDING)
                    & status["ARM"].isin([treatment, control]), ["USUBJID", "ARM", "STATUS"]]
    at = at.merge(subjects[["USUBJID", *factors]].drop_duplicates("USUBJID"), on="USUBJID", how="left")
    at["stratum"] = at[factors].astype(str).agg(" / ".join, axis=1)
    at["responder"] = at["STATUS"].isin(RESPONDER_CATEGORIES)
    tables, dropped = [], 0
    for _, part in at.groupby("stratum", sort=True):
        cells = np.array([[((part["ARM"] == arm) & part["responder"]).sum(), ((part["ARM"] == arm) & ~part["responder"]).sum()]
                          for arm in (treatment, control)], dtype=float)
        if (cells.sum(axis=1) > 0).all():
            tables.append(cells)
        else:
            dropped += 1
    out = {"visit": visit, "treatment": treatment, "control": control, "factors": tuple(factors),
           "strata": len(tables), "strata_dropped": dropped, "N": int(sum(t.sum() for t in tables)),
           "odds_ratio": np.nan, "or_ci": (np.nan, np.nan), "p_value": np.nan, "homogeneity_p": np.nan}
    if not tables:
        return out
    table = StratifiedTable(tables)
    low, high = table.oddsratio_pooled_confint()
    out.update(odds_ratio=float(table.oddsratio_pooled), or_ci=(float(low), float(high)),
               p_value=float(table.test_null_odds(correction=False).pvalue))
    if len(tables) > 1:
        out["homogeneity_p"] = float(table.test_equal_odds().pvalue)
    return out
