"""The one flag reader: 'Y' (any case, trimmed) is yes; N, blank, NA and anything else are not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.transforms.flags import is_y_blank_flag, is_yes


def test_is_yes_reads_y_case_insensitively_and_everything_else_as_no():
    values = pd.Series(["Y", " y ", "N", "", None, np.nan, "YES", "n"], index=list("abcdefgh"))
    out = is_yes(values)
    assert out.dtype == bool and list(out.index) == list("abcdefgh")
    assert out.tolist() == [True, True, False, False, False, False, False, False]


def test_is_yes_on_nullable_strings_gives_plain_booleans_not_na():
    # pandas' nullable strings compare to <NA>, which `~` and `where` misread (every patient "died").
    values = pd.Series(["Y", pd.NA, pd.NA], dtype="string")
    assert (values == "Y").isna().sum() == 2
    out = is_yes(values)
    assert out.tolist() == [True, False, False] and (~out).tolist() == [False, True, True]


def test_y_blank_flags_are_told_from_y_n_flags():
    assert is_y_blank_flag(pd.Series(["Y", None, "", " y"]))
    assert not is_y_blank_flag(pd.Series(["Y", "N", None]))
    assert not is_y_blank_flag(pd.Series([None, None], dtype="string"))
    assert not is_y_blank_flag(pd.Series(["Y", "maybe"]))
