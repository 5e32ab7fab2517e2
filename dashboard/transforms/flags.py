"""Reading ADaM flags: one rule for every view, `Y` (any case, trimmed) is yes, anything else is not.

ADaM flags are 'Y' or null (no 'N'): a blank is "no", never "missing", and never a third value that
comparisons with pandas' nullable strings turn into <NA> (which `where` and `~` then misread).
"""

from __future__ import annotations

import pandas as pd


def is_yes(values: pd.Series) -> pd.Series:
    """True where the flag is 'Y' (case-insensitive, surrounding spaces ignored); False for 'N',
    blank, NaN/NA and any other value. Plain bool dtype, same index; the input is not modified."""
    text = values.astype("string").str.strip().str.upper()
    return pd.Series((text == "Y").fillna(False).to_numpy(dtype=bool), index=values.index, name=values.name)


def is_y_blank_flag(values: pd.Series) -> bool:
    """Whether a column is an ADaM Y/blank flag: some 'Y' values and nothing else but blanks, so a
    blank means 'No' (a column holding both 'Y' and 'N' is a Y/N flag, where a blank is missing)."""
    text = values.astype("string").str.strip().str.upper().replace("", pd.NA).dropna()
    return bool(len(text)) and set(text.unique()) == {"Y"}
