"""Figure export from a notebook: any HoloViews figure of the package to PNG or SVG in one call, drawn with
the matplotlib backend (no browser or selenium needed, unlike Bokeh's PNG/SVG export).

The dashboard styles its figures for Bokeh; the options matplotlib understands the same way (titles, axis
labels and limits, colours, line widths and styles, alpha, legend position) are carried over, the others
(tools, hover, responsive sizing, marker names) are dropped.
"""

from __future__ import annotations

from pathlib import Path

import holoviews as hv

FORMATS = ("png", "svg")
# Bokeh option -> matplotlib option, for the options both understand the same way.
CARRIED = {"title": "title", "xlabel": "xlabel", "ylabel": "ylabel", "xlim": "xlim", "ylim": "ylim",
           "xticks": "xticks", "yticks": "yticks", "invert_axes": "invert_axes", "invert_yaxis": "invert_yaxis",
           "xrotation": "xrotation", "show_grid": "show_grid", "legend_position": "legend_position",
           "multi_level": "multi_level",
           "color": "color", "alpha": "alpha", "line_width": "linewidth"}
LINE_STYLES = {"dashed": "--", "dotted": ":", "dashdot": "-.", "solid": "-"}


def save_figure(figure, path, *, dpi: int = 150) -> Path:
    """Write a HoloViews figure to `path` as PNG or SVG (from the suffix); returns the path."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"save_figure writes {' or '.join(FORMATS)}, not {path.suffix or 'a file without suffix'}")
    current = hv.Store.current_backend
    import holoviews.plotting.mpl  # noqa: F401  (registers the matplotlib renderer)

    hv.Store.set_current_backend(current)  # importing a backend makes it current; the session's stays
    converted = figure.map(_with_matplotlib_options, [hv.Element, hv.Overlay, hv.Layout])
    renderer = hv.renderer("matplotlib").instance(dpi=dpi)
    renderer.save(converted, str(path.with_suffix("")), fmt=fmt)
    return path


def _with_matplotlib_options(obj):
    """`obj` with its Bokeh options that matplotlib understands the same way applied for matplotlib."""
    from matplotlib.colors import is_color_like  # a colour, not a dimension to colour by

    allowed = hv.Store.options(backend="matplotlib")[type(obj).__name__]
    keywords = {k for group in allowed.groups.values() for k in group.allowed_keywords}
    carried = {}
    for group in ("plot", "style"):
        for key, value in hv.Store.lookup_options("bokeh", obj, group).kwargs.items():
            if key == "line_dash" and value in LINE_STYLES and "linestyle" in keywords:
                carried["linestyle"] = LINE_STYLES[value]
            elif key == "cmap" and isinstance(value, dict) and "cmap" in keywords:  # categorical colours
                carried["cmap"] = value
            elif key in CARRIED and CARRIED[key] in keywords and (key != "color" or is_color_like(value)):
                carried[CARRIED[key]] = value
    return obj.opts(backend="matplotlib", clone=True, **carried) if carried else obj
