"""On-screen gating shared by every view: hidden views skip recomputation and catch up when shown."""

from pathlib import Path

import panel as pn
import pytest
from bokeh.document import Document

from dashboard import code
from dashboard.app import SERIES_VIEWS, available_views
from dashboard.loaders.cuts import load_series
from dashboard.store import TrialStore
from dashboard.views.base import TabView, link_active


class CountingView(TabView):
    """Renders the filtered patient count and records every computation."""

    title = "Counting"

    def __init__(self, **params):
        super().__init__(**params)
        self.renders: list[int] = []
        self.frames: list[int] = []

    def __panel__(self):
        text = pn.pane.Markdown(pn.bind(self._count, self.filtered_subjects))
        plot = pn.pane.HoloViews(self.dynamic_map(self._frame, self.store.filtered_subjects))
        return pn.Column(text, plot)

    def _count(self, subjects):
        self.renders.append(len(subjects))
        return f"{len(subjects)} patients"

    def _frame(self, subjects):
        import holoviews as hv

        self.frames.append(len(subjects))
        return hv.Curve([(0, len(subjects))])


def test_hidden_view_skips_updates_and_catches_up_when_shown(tiny):
    store = TrialStore(tiny)
    view = CountingView(store=store)
    layout = pn.panel(view)
    layout.get_root()
    text = layout.select(pn.pane.Markdown)[0]
    assert text.object == "5 patients" and view.renders == [5] and view.frames == [5]

    view.active = False
    store.sites = ["01"]
    assert text.object == "5 patients" and view.renders == [5] and view.frames == [5]

    view.active = True
    assert text.object == "2 patients" and view.renders[-1] == 2 and view.frames[-1] == 2


def test_link_active_follows_the_shown_tab_and_the_parent(tiny):
    store = TrialStore(tiny)
    parent, first, second = (CountingView(store=store) for _ in range(3))
    tabs = pn.Tabs(("a", first), ("b", second))
    link_active(tabs, [first, second], parent=parent)
    assert (first.active, second.active) == (True, False)
    tabs.active = 1
    assert (first.active, second.active) == (False, True)
    parent.active = False
    assert (first.active, second.active) == (False, False)
    parent.active = True
    assert (first.active, second.active) == (False, True)


SERIES = load_series(Path(__file__).resolve().parents[2] / "data" / "nct02241018_cuts")  # the bundled cuts


@pytest.mark.parametrize("view_class", [*available_views(SERIES.latest)[0], *SERIES_VIEWS], ids=lambda v: v.title)
def test_a_hidden_tab_changes_nothing_in_the_page_when_filters_change(view_class):
    """Panel keeps a hidden tab's models outside the page; an update to them (a binding that ignores
    the view's gate) would point shared stylesheets at the CDN and waste the server's time."""
    store = TrialStore(SERIES.latest, SERIES)
    view = view_class(store=store)
    doc = Document()
    doc.add_root(pn.Column(view, *([view.code_card()] if code.parts_of(view) else [])).get_root(doc))
    changes = []
    doc.on_change(changes.append)
    arm, site = store.param.arms.objects[0], store.param.sites.objects[0]

    view.active = False
    store.param.update(arms=[arm], sites=[site], compare=store.param.compare.objects[-1])
    assert changes == []

    view.active = True
    assert changes, "a shown tab catches up with the filters"
