"""The input check every transform starts with: the columns it needs are there."""

from __future__ import annotations

import pandas as pd


def require_columns(df: pd.DataFrame, columns, what: str) -> None:
    """Raise KeyError naming `what` (the transform or table), the missing columns and the columns present."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} needs column(s) {', '.join(missing)}; the table has {', '.join(map(str, df.columns))}")
