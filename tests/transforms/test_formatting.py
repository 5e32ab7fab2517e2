"""The one formatting module: n/N (%), p-values and arm labels read the same on every tab and export."""

from __future__ import annotations

import math

from dashboard.transforms.formatting import arm_with_short_label, format_p, format_proportion, short_arm_label

SHORT = {"MSC + basiliximab + CNI": "MSC", "Basiliximab + CNI": "Control"}


def test_proportion_shows_numerator_denominator_and_one_decimal_percent():
    assert format_proportion(82, 99) == "82/99 (82.8%)"
    assert format_proportion(1, 3) == "1/3 (33.3%)" and format_proportion(2.0, 3.0) == "2/3 (66.7%)"
    assert format_proportion(0, 0) == "0/0"


def test_p_values_have_three_decimals_and_a_floor():
    assert format_p(0.04249) == "p = 0.042" and format_p(0.0005) == "p < 0.001" and format_p(0.001) == "p = 0.001"
    assert format_p(math.nan) == ""


def test_short_arm_labels_fall_back_to_the_arm_name():
    assert short_arm_label("MSC + basiliximab + CNI", SHORT) == "MSC"
    assert short_arm_label("Placebo", SHORT) == "Placebo"
    assert arm_with_short_label("Basiliximab + CNI", SHORT) == "Basiliximab + CNI (Control)"
    assert arm_with_short_label("Placebo", SHORT) == "Placebo"
