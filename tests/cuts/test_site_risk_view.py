"""Site risk tab without a browser: KRIs of the cut shown, site click sets the filter, history and backtest."""

import holoviews as hv
import pandas as pd
import pytest

from dashboard.store import TrialStore
from dashboard.transforms.kri import KRIS, site_kris
from dashboard.views.site_risk import SiteRiskView


@pytest.fixture(autouse=True, scope="module")
def bokeh():
    hv.extension("bokeh")


class Click:
    def __init__(self, column, value, row=0):
        self.column, self.value, self.row = column, value, row


def test_results_are_the_kris_of_the_cut_shown_with_late_entry_against_the_compared_cut(series):
    store = TrialStore(series.latest, series=series)
    view = SiteRiskView(store=store)
    view.__panel__()
    previous = series.at(store.compare)
    info = series.latest.info
    expected = site_kris(series.latest.randomized, series.latest.adae, series.latest.adrs, series.latest.cutoff,
                         visit_days=info.visit_days, visit_windows=info.visit_window_days,
                         ae_collection_days=info.ae_collection_days, previous=previous.tables(),
                         previous_cutoff=previous.cutoff)
    pd.testing.assert_frame_equal(view.results(), expected)
    assert "entry_lag" in view.param.kri.objects
    hv.render(view._funnel(view.results(), "sae_rate"))


def test_clicking_a_site_sets_and_clears_the_site_filter(series):
    store = TrialStore(series.latest, series=series)
    view = SiteRiskView(store=store)
    view._on_click(Click("Site", "03"))
    assert store.sites == ["03"]
    view._on_click(Click("AE rate", "green", row=1))  # a flag cell: the row's site
    assert store.sites == ["02"]
    view._on_click(Click("Site", "02"))
    assert store.sites == []


def test_history_has_every_cut_up_to_the_one_shown_and_backtest_one_row_per_cut(series):
    store = TrialStore(series.at("2018-06-30"), series=series)
    view = SiteRiskView(store=store)
    history = view.history()
    assert list(dict.fromkeys(history["CUT"])) == ["2016-06-30", "2017-06-30", "2018-06-30"]
    assert "entry_lag" not in set(history.loc[history["CUT"] == "2016-06-30", "KRI"])
    backtest = view.backtest()
    assert list(backtest["Forecast at cut"]) == ["2016-06-30", "2017-06-30", "2018-06-30"]
    target = series.latest.info.target_enrollment
    reached = series.latest.randomized["RANDDT"].sort_values().iloc[target - 1].strftime("%Y-%m-%d")
    assert set(backtest[f"Target {target} reached"]) == {reached}


def test_single_cut_has_no_history_and_every_kri_label_is_defined(bundled):
    view = SiteRiskView(store=TrialStore(bundled))
    layout = view.__panel__()
    assert set(view.param.kri.objects) <= set(KRIS)
    assert not any("history" in str(getattr(o, "object", "")) for o in layout)
