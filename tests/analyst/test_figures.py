"""save_figure writes the package's figures to PNG and SVG in one call, without a browser."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import holoviews as hv
import matplotlib.image
import pytest

from dashboard.figures import save_figure
from dashboard.transforms.balance import allocation_by_site, standardized_differences
from dashboard.views.balance import love_plot, site_bars
from tests.conftest import tiny_dataset


@pytest.fixture(scope="module")
def figures():
    dataset = tiny_dataset()
    subjects = dataset.randomized
    return {"love": love_plot(standardized_differences(subjects, ["AGE", "SEX"], dataset.arms), 0.1, dataset.arm_colors),
            "bars": site_bars(allocation_by_site(subjects, dataset.arms), dataset.arms, dataset.arm_colors)}


@pytest.mark.parametrize("name", ["love", "bars"])
def test_png_and_svg_in_one_call_each(figures, tmp_path, name):
    backend = hv.Store.current_backend
    png = save_figure(figures[name], tmp_path / f"{name}.png", dpi=100)
    svg = save_figure(figures[name], tmp_path / f"{name}.svg")
    assert hv.Store.current_backend == backend  # the session keeps drawing with its own backend
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 200 and image.shape[1] > 200
    assert image[..., :3].std() > 0.05  # something is drawn, not a blank canvas
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def test_bokeh_titles_and_axis_labels_carry_over(figures):
    import holoviews.plotting.mpl  # noqa: F401  (save_figure registers it the same way)

    from dashboard.figures import _with_matplotlib_options

    converted = figures["bars"].map(_with_matplotlib_options, [hv.Element])
    options = hv.Store.lookup_options("matplotlib", converted, "plot").kwargs
    assert options["title"] == "Allocation by site" and options["ylabel"] == "Patients randomized"


def test_other_formats_are_refused(figures, tmp_path):
    with pytest.raises(ValueError, match="png or svg"):
        save_figure(figures["love"], tmp_path / "love.pdf")
