"""Styling shared by every view so that it reads in the light and the dark theme (WCAG AA contrast).

Hand-written HTML takes its colours from the design's CSS variables (Panel sets them for both themes),
so it follows the theme without Python branching: use `HTML_CSS` (tables, notes, figure keys) as a
pane stylesheet. Plots are drawn on a canvas that CSS cannot reach, so their ink (labels, reference
lines, neutral markers) comes from `plot_ink()`, chosen from the session's theme (`?theme=dark`), and
`legible()` adjusts a data colour (an arm colour used for text) to the plot background.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import panel as pn
from panel.theme import Bootstrap
from panel.theme.base import BOKEH_DARK, Inherit

# Design variables with light fallbacks (used where no Panel design is loaded, e.g. an exported file).
TEXT = "var(--panel-on-background-color, #212529)"
BACKGROUND = "var(--panel-background-color, #ffffff)"
SURFACE = "var(--panel-surface-color, #f3f3f3)"
RULE = "rgba(128, 128, 128, 0.55)"  # table rules that show on both backgrounds
FRAME = "rgba(128, 128, 128, 0.9)"  # box outlines (diagram boxes) on both backgrounds
FLAG_BACKGROUND = "rgba(230, 159, 0, 0.28)"  # highlighted cells: a translucent orange tint on either theme

# The stylesheet of hand-written HTML panes: tables with captions, notes, keys, warning text.
HTML_CSS = f"""
:host {{ color: {TEXT}; }}
table {{ border-collapse: collapse; font-size: 0.9rem; color: inherit; }}
table.wide {{ width: 100%; }}
caption, .table-title {{ caption-side: top; text-align: left; font-weight: 600; font-size: 1rem;
                        padding: 4px 0 6px 0; color: inherit; }}
.table-title {{ margin-top: 12px; }}
th, td {{ padding: 4px 8px; border-bottom: 1px solid {RULE}; text-align: right; vertical-align: top; }}
td {{ white-space: nowrap; }}
th:first-child, td:first-child, th.text, td.text {{ text-align: left; }}
thead th {{ font-weight: 600; border-bottom: 2px solid {RULE}; }}
tr.total td {{ font-weight: 600; }}
.swatch {{ display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 6px;
           vertical-align: baseline; border: 1px solid {RULE}; }}
.note {{ font-size: 0.82rem; opacity: 0.85; white-space: normal; }}
.caution {{ font-size: 0.85rem; border-left: 3px solid rgba(230, 159, 0, 0.9); padding-left: 6px; }}
.key {{ font-size: 0.8rem; }}
.key .dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px;
             border: 1px solid {RULE}; vertical-align: -1px; }}
.key span.item {{ white-space: nowrap; margin-right: 12px; }}
"""

# Stylesheet of multi-choice widgets: chosen items in the page's text colour (the design's blue on blue
# tint falls below AA in the dark theme).
CHOICES_CSS = f"""
.choices__list--multiple .choices__item, .choices__list--multiple .choices__item.light {{ color: {TEXT}; }}
"""

# Alert text in the page's text colour: the design's tinted text (e.g. dark yellow on pale yellow) falls
# below AA in the light theme; the tint of the box and its border still say which kind of alert it is.
ALERT_CSS = f":host(.alert) {{ color: {TEXT} !important; }}"


class DashboardDesign(Bootstrap):
    """Panel's Bootstrap design with the dashboard's contrast fixes applied to every component of a kind."""

    modifiers = {**Bootstrap.modifiers, pn.pane.Alert: {"stylesheets": [Inherit, ALERT_CSS]}}


@dataclass(frozen=True)
class PlotInk:
    """Colours drawn on a plot's canvas for one theme: text, secondary text, reference lines, background."""

    text: str
    muted: str
    guide: str
    background: str


LIGHT_INK = PlotInk(text="#222222", muted="#595959", guide="#6e6e6e", background="#ffffff")
DARK_INK = PlotInk(text="#e6e6e6", muted="#b4b4b4", guide="#a6a6a6",
                   background=BOKEH_DARK["attrs"]["Plot"]["background_fill_color"])


def is_dark() -> bool:
    """Whether the current session shows the dark theme."""
    return pn.config.theme == "dark"


def plot_ink() -> PlotInk:
    """The plot colours of the current session's theme."""
    return DARK_INK if is_dark() else LIGHT_INK


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def luminance(color: str) -> float:
    """WCAG relative luminance of a hex colour."""
    def channel(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two hex colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def legible(color: str, background: str, ratio: float = 4.5) -> str:
    """`color` blended towards white (on a dark background) or black (on a light one) just enough to
    reach `ratio` against `background`; unchanged when it already does."""
    target = (255, 255, 255) if luminance(background) < 0.2 else (0, 0, 0)
    start = _rgb(color)
    for step in range(21):
        mixed = _hex(c + (t - c) * step / 20 for c, t in zip(start, target))
        if contrast(mixed, background) >= ratio:
            return mixed
    return _hex(target)


# WCAG 2.1 non-text contrast (1.4.11): graphical objects such as lines and markers need 3:1.
GRAPHICS_CONTRAST = 3.0


def arm_plot_colors(colors: Mapping[str, str], ink: PlotInk) -> dict[str, str]:
    """Arm colours for a theme's plots: on a dark background each is lightened just enough to reach
    GRAPHICS_CONTRAST (the Okabe-Ito blue is 2.6:1 on Bokeh's dark plot), keeping its hue so the arms
    stay apart; on the light background they are the trial's colours as configured."""
    if luminance(ink.background) >= 0.2:
        return dict(colors)
    return {arm: legible(color, ink.background, GRAPHICS_CONTRAST) for arm, color in colors.items()}


def text_on(fill: str) -> str:
    """Near-black or white, whichever reads better on `fill` (e.g. numbers on heatmap cells)."""
    dark, light = "#111111", "#ffffff"
    return dark if contrast(dark, fill) >= contrast(light, fill) else light


def group_label_hook(ink: PlotInk):
    """A HoloViews hook colouring the group labels of a grouped categorical axis (HoloViews draws them
    black, unreadable on the dark background) in the theme's text colour."""

    def hook(plot, element) -> None:
        for axis in (*plot.state.xaxis, *plot.state.yaxis):
            if hasattr(axis, "group_text_color"):
                axis.group_text_color = ink.text

    return hook
