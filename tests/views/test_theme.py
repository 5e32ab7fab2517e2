"""Theme helpers without a browser: plot ink per session theme, legible colours, and no hand-written
colour in the views' HTML that would ignore the theme."""

from __future__ import annotations

import re
from pathlib import Path

import panel as pn
import pytest

from dashboard.views import theme

VIEWS_DIR = Path(theme.__file__).parent


@pytest.mark.parametrize(("name", "expected"), [("default", theme.LIGHT_INK), ("dark", theme.DARK_INK)])
def test_plot_ink_follows_the_session_theme(name, expected):
    with pn.config.set(theme=name):
        assert theme.plot_ink() == expected


@pytest.mark.parametrize("ink", [theme.LIGHT_INK, theme.DARK_INK])
def test_each_ink_reads_on_its_plot_background(ink):
    assert theme.contrast(ink.text, ink.background) >= 4.5
    assert theme.contrast(ink.muted, ink.background) >= 4.5
    assert theme.contrast(ink.guide, ink.background) >= 3


def test_legible_lightens_on_dark_and_darkens_on_light_only_as_needed():
    blue, orange = "#0072B2", "#E69F00"
    on_dark = theme.legible(blue, theme.DARK_INK.background)
    assert theme.contrast(blue, theme.DARK_INK.background) < 4.5 <= theme.contrast(on_dark, theme.DARK_INK.background)
    assert theme.luminance(on_dark) > theme.luminance(blue)
    on_light = theme.legible(orange, "#ffffff")
    assert theme.contrast(on_light, "#ffffff") >= 4.5 and theme.luminance(on_light) < theme.luminance(orange)
    assert theme.legible("#111111", "#ffffff") == "#111111"


def test_text_on_a_cell_picks_the_readable_ink():
    assert theme.text_on("#08306b") == "#ffffff"  # navy, the darkest Blues cell
    assert theme.text_on("#f7fbff") == "#111111"


def test_views_write_no_fixed_text_or_background_colour_into_html():
    """Colours in HTML come from the design variables (theme.py), so they follow the theme."""
    css = r"(?<![-\w])(?:color|background)(?![\"'])\s*:\s*#[0-9a-fA-F]{3,6}"  # style='color:#444', CSS rules
    styles = r"styles=\{[^}]*[\"'](?:color|background)[\"']\s*:\s*[\"']#"  # styles={"color": "#444"}
    pattern = re.compile(f"{css}|{styles}")
    offenders = {path.name: pattern.findall(path.read_text()) for path in VIEWS_DIR.glob("*.py")}
    assert not {name: found for name, found in offenders.items() if found}


def test_arm_plot_colors_reach_3_to_1_on_the_dark_plot_and_stay_apart():
    from dashboard.config import ARM_PALETTE

    colors = {f"arm {i}": c for i, c in enumerate(ARM_PALETTE)}
    assert theme.contrast(ARM_PALETTE[0], theme.DARK_INK.background) < 3  # the Okabe-Ito blue as configured
    dark = theme.arm_plot_colors(colors, theme.DARK_INK)
    assert all(theme.contrast(c, theme.DARK_INK.background) >= theme.GRAPHICS_CONTRAST for c in dark.values())
    assert len(set(dark.values())) == len(ARM_PALETTE)
    assert dark["arm 1"] == ARM_PALETTE[1].lower()  # colours that already reach 3:1 are kept
    assert theme.arm_plot_colors(colors, theme.LIGHT_INK) == colors
