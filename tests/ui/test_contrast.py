"""Every tab and sub-tab, in the light and the dark theme, on the bundled trial and the CDISC pilot:
all text reaches WCAG AA contrast, computed in Chromium from the page's styles (text) and from the Bokeh
models (plot text, reference lines), see contrast.py; and no text shows a raw CDISC variable name
(labels for readers, the names only in tooltips; the Data quality tab, written for data managers, names
columns on purpose)."""

from __future__ import annotations


import re

import pytest

from dashboard.app import available_views
from dashboard.model.dataset import load_bundled
from dashboard.loaders import load_dataset
from tests.ui.conftest import serve_app
from tests.ui.contrast import plot_contrast, text_contrast
from tests.ui.pages import open_every_tab, shown_text
from tests.conftest import PILOT, shared_path



@pytest.fixture(scope="module", params=["bundled", "cdiscpilot01_adam"])
def served(request, app_url):
    """(URL, dataset) of the bundled trial and of the CDISC pilot."""
    if request.param == "bundled":
        yield app_url, load_bundled()
        return
    shared_path("data", "external", "cdiscpilot01_adam")
    proc, url = serve_app(str(PILOT))
    yield url, load_dataset(str(PILOT))
    proc.terminate()
    proc.wait(timeout=10)


def variable_names(dataset) -> set[str]:
    """CDISC-style column names of the dataset's tables (upper case, 4+ characters) that readers should
    not see as text."""
    names = set()
    for table in ("adsl", "adae", "adrs", "adtte", "adex", "sites"):
        frame = getattr(dataset, table, None)
        if frame is not None:
            names |= {c for c in frame.columns if re.fullmatch(r"[A-Z][A-Z0-9]{3,7}", c)}
    return names


def _describe(failures: dict) -> str:
    return "\n".join(f"{where}: {f}" for (where, *_), f in failures.items())


@pytest.mark.parametrize("theme", ["default", "dark"])
def test_every_tab_reaches_aa_contrast_and_speaks_plain_words(page, served, theme):
    url, dataset = served
    page.goto(f"{url}?theme={theme}")
    texts, plots, opened, raw = {}, {}, [], {}
    names = variable_names(dataset)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(sorted(names, key=len, reverse=True)) + r")(?![\w-])")
    for label in open_every_tab(page):
        opened.append(label)
        if not label.startswith("Data quality"):
            for text in shown_text(page):
                for name in pattern.findall(text):
                    raw.setdefault(name, f"{label}: {text[:80]}")
        measured = text_contrast(page)
        assert measured["checked"] > 0, f"no text found on {label}"
        for f in measured["failures"]:
            texts.setdefault((label, f["text"], f["color"], f["background"]), f)
        for f in plot_contrast(page)["failures"]:
            plots.setdefault((label, f["plot"], f["what"], f["color"], f["background"]), f)
    shown, _ = available_views(dataset)
    assert {label.split(" - ")[0] for label in opened} == {view.title for view in shown}
    assert not texts, f"{len(texts)} text(s) below WCAG AA in the {theme} theme:\n{_describe(texts)}"
    assert not plots, f"{len(plots)} plot colour(s) below WCAG AA in the {theme} theme:\n{_describe(plots)}"
    assert not raw, f"CDISC variable names shown as text: {raw}"
