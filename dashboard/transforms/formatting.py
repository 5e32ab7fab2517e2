"""How numbers and arms read on screen and in exports, one rule each: n/N (%), p-values, short arm labels."""

from __future__ import annotations

import math
from typing import Mapping


def format_proportion(n, total) -> str:
    """'82/99 (82.8%)'; '0/0' when there is no denominator."""
    n, total = int(n), int(total)
    return f"{n}/{total} ({100 * n / total:.1f}%)" if total else f"{n}/0"


def format_p(p: float) -> str:
    """'p = 0.042', 'p < 0.001'; '' when there is no p-value (NaN)."""
    if p is None or math.isnan(p):
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def short_arm_label(arm: str, short_labels: Mapping[str, str]) -> str:
    """The arm's short label for plots and narrow columns ('MSC'), its name when the trial defines none."""
    return short_labels.get(arm, arm)


def arm_with_short_label(arm: str, short_labels: Mapping[str, str]) -> str:
    """'MSC + basiliximab + CNI (MSC)': the arm name with its short label when that says something else."""
    short = short_labels.get(arm, arm)
    return f"{arm} ({short})" if short != arm else str(arm)


def plural(n, word: str) -> str:
    """'1 site', '3 sites'."""
    return f"{int(n)} {word}{'' if int(n) == 1 else 's'}"
