"""stratified_response_comparison on hand-checkable strata."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.transforms.stratified import stratified_response_comparison


def _trial(cells: dict[str, tuple[int, int, int, int]]):
    """Per stratum (treated responders, treated non-responders, control responders, control non-responders)."""
    rows = []
    for stratum, counts in cells.items():
        for (arm, status), n in zip([("T", "CR"), ("T", "NR"), ("C", "PR"), ("C", "NR")], counts):
            rows += [(f"{stratum}-{arm}-{status}-{i}", arm, status, stratum) for i in range(n)]
    frame = pd.DataFrame(rows, columns=["USUBJID", "ARM", "STATUS", "STRATGR"])
    return frame.assign(AVISIT="Day 28"), frame[["USUBJID", "STRATGR"]]


def test_mantel_haenszel_odds_ratio_by_hand():
    status, subjects = _trial({"II": (6, 4, 3, 7), "III-IV": (4, 6, 2, 8)})
    result = stratified_response_comparison(status, subjects, "Day 28", "T", "C", ["STRATGR"])
    # MH OR = sum(a d / n) / sum(b c / n) = (6*7/20 + 4*8/20) / (4*3/20 + 6*2/20) = 3.7 / 1.2
    assert result["odds_ratio"] == pytest.approx(3.7 / 1.2)
    assert (result["strata"], result["N"]) == (2, 40)
    assert result["or_ci"][0] < result["odds_ratio"] < result["or_ci"][1]
    # CMH: (sum(a - E a))^2 / sum Var a, E a = row * col / n, Var a = row1 row2 col1 col2 / (n^2 (n - 1))
    expected = (6 - 10 * 9 / 20) + (4 - 10 * 6 / 20)
    variance = 10 * 10 * 9 * 11 / (400 * 19) + 10 * 10 * 6 * 14 / (400 * 19)
    assert result["p_value"] == pytest.approx(stats.chi2.sf(expected ** 2 / variance, 1))
    assert result["homogeneity_p"] > 0.5  # same direction in both strata


def test_pending_patients_and_one_arm_strata_are_left_out():
    status, subjects = _trial({"II": (6, 4, 3, 7), "III-IV": (4, 6, 0, 0)})
    status.loc[status.index[0], "STATUS"] = "Pending"
    result = stratified_response_comparison(status, subjects, "Day 28", "T", "C", ["STRATGR"])
    assert (result["strata"], result["strata_dropped"], result["N"]) == (1, 1, 19)
    assert np.isnan(result["homogeneity_p"])


def test_missing_factor_is_named():
    status, subjects = _trial({"II": (1, 1, 1, 1)})
    with pytest.raises(KeyError, match="AGVHDGR"):
        stratified_response_comparison(status, subjects, "Day 28", "T", "C", ["AGVHDGR"])
