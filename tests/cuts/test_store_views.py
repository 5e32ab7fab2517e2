"""The cut selectors in the store and app, the Changes tab and the Overview's change since the compared cut."""

import pandas as pd
import panel as pn

from dashboard.app import build_app
from dashboard.store import TrialStore
from dashboard.transforms.changes import DEATHS, change_listing
from dashboard.transforms.filtering import filter_subjects
from dashboard.transforms.overview import study_status
from dashboard.views.changes import ALL, ChangesView
from dashboard.views.overview import OverviewView
from dashboard.views.safety import SafetyView
from dashboard.transforms import safety as sf


def _tab_names(template):
    tabs = next(o for o in template.main if isinstance(o, pn.Tabs))
    return list(tabs._names)


def test_store_offers_the_cuts_and_earlier_cuts_to_compare(series):
    store = TrialStore(series.at("2018-06-30"), series=series)
    assert store.param.cut.objects == ["2019-06-30", "2018-06-30", "2017-06-30", "2016-06-30"]
    assert store.cut == "2018-06-30" and store.cutoff.isoformat() == "2018-06-30"
    assert store.param.compare.objects == ["2017-06-30", "2016-06-30"] and store.compare == "2017-06-30"
    store.compare = "2016-06-30"
    assert store.compared is series.cuts[0]
    first = TrialStore(series.cuts[0], series=series)
    assert first.compare is None and first.compared is None


def test_store_without_a_series_has_no_cut_choice(bundled):
    store = TrialStore(bundled)
    assert store.series is None and store.compared is None and store.param.cut.objects == []


def test_app_shows_changes_tab_and_selectors_only_for_a_series(series, bundled):
    assert "Changes" in _tab_names(build_app(series))
    assert "Changes" not in _tab_names(build_app(bundled))


def test_changes_view_lists_the_late_death_and_follows_filters_and_compare(series):
    store = TrialStore(series.at("2017-06-30"), series=series)
    view = ChangesView(store=store)
    view.__panel__()
    listing = view.listing(store.subjects(), store.compare)
    expected = change_listing(series.cuts[0].tables(), series.cuts[1].tables(), 28)
    assert len(listing) == len(expected)
    deaths = listing.loc[(listing["CATEGORY"] == DEATHS) & (listing["CHANGE"] == "new")]
    late = deaths.loc[deaths["DATE"] <= series.cuts[0].cutoff, "USUBJID"]
    assert len(late) >= 1
    site = store.dataset.adsl.set_index("USUBJID").loc[late.iloc[0], "SITEID"]
    store.sites = [site]
    narrowed = view.listing(store.subjects(), store.compare)
    assert late.iloc[0] in set(narrowed["USUBJID"]) and set(narrowed["SITEID"]) == {site}
    shown = view._shown(narrowed, DEATHS)
    assert set(shown["Category"]) == {DEATHS} and "Patient" in shown.columns
    profile = view._profile([list(shown["Patient"]).index(late.iloc[0])], shown)
    assert f"Patient {late.iloc[0]}" in profile[0].object
    csv = view._csv(view._shown(narrowed, ALL)).read()
    assert "data cut 2017-06-30 compared with data cut 2016-06-30" in csv and late.iloc[0] in csv


def test_first_cut_has_nothing_to_compare(series):
    store = TrialStore(series.cuts[0], series=series)
    view = ChangesView(store=store)
    assert view.listing(store.subjects(), store.compare).empty
    assert "no earlier cut" in view._heading(None)


def test_overview_died_card_shows_the_change_since_the_compared_cut(series):
    store = TrialStore(series.latest, series=series)
    view = OverviewView(store=store)
    html = view._cards_html(view.summarize(store.subjects()), store.compare)
    now = (study_status(store.subjects()) == "Died").sum()
    then_subjects = filter_subjects(store.compared.adsl, store.filter_spec)
    then = (study_status(then_subjects) == "Died").sum()
    assert now > then
    assert f"{now} <span class=\"change\" title=\"change since the compared data cut\">(+{now - then})</span>" in html
    added = len(store.subjects()) - len(then_subjects)  # the first card: patients randomized since the compared cut
    assert added > 0 and f"{len(store.subjects())} <span class=\"change\" title=\"change since the compared data cut\">(+{added})</span>" in html
    plain = OverviewView(store=TrialStore(series.latest))
    assert "class=\"change\"" not in plain._cards_html(plain.summarize(plain.store.subjects()))


def test_ae_listings_mark_the_events_new_since_the_compared_cut(series):
    store = TrialStore(series.latest, series=series)
    view = SafetyView(store=store)
    view.param.update(selected_soc=sf.OVERALL, selected_term=sf.OVERALL)
    listing = view._listing_frame()
    column = "New"
    assert listing.columns[0] == column
    # Independently: events of the listing's patients whose (patient, term, onset) occurs more often now.
    def keyed(adae):
        return adae.assign(N=adae.groupby(["USUBJID", "AEDECOD", "ASTDT"]).cumcount())[
            ["USUBJID", "AEDECOD", "ASTDT", "N"]].astype({"USUBJID": str, "AEDECOD": str})
    now, then = keyed(store.dataset.adae), keyed(store.compared.adae)
    shown = now[now["USUBJID"].isin(listing["Patient"].astype(str))]
    expected = len(shown.merge(then, how="left", indicator=True).query("_merge == 'left_only'"))
    assert 0 < (listing[column] == "New").sum() == expected
    patient = str(listing.loc[listing[column] == "New", "Patient"].iloc[0])
    assert (view._patient_listing(store.subjects(), patient)[column] == "New").any()

    assert f"{expected} new since data cut {store.compare}" in view._listing_title()
    assert f"{expected} new since data cut {store.compare}" in view._listing_what()
    store.compare = store.param.compare.objects[-1]  # the earliest cut: more is new
    assert (view._listing_frame()[column] == "New").sum() > expected
    plain = SafetyView(store=TrialStore(series.latest))
    plain.param.update(selected_soc=sf.OVERALL, selected_term=sf.OVERALL)
    assert not any(c.startswith("New") for c in plain._listing_frame().columns)


def test_swimmer_marks_the_compared_cut_on_each_lane_and_labels_new_patients(series):
    import holoviews as hv

    from dashboard.config import SWIMMER_PAGE_SIZE
    from dashboard.views.swimmer import SwimmerView

    store = TrialStore(series.latest, series=series)
    view = SwimmerView(store=store)
    lanes = view.lanes()
    randomized = store.subjects().set_index("USUBJID")["RANDDT"]
    new = randomized[randomized > pd.Timestamp(store.compare)].index
    assert 0 < len(new) < len(lanes) and set(lanes.loc[lanes["NEW"], "USUBJID"]) == set(new)
    marked, labelled_new = [], set()
    for page in range(1, -(-len(lanes) // SWIMMER_PAGE_SIZE) + 1):
        overlay = view._plot(lanes, "Arm", page, "Whole follow-up", lambda usubjid: None).object
        marked += [el for el in overlay if el.label == f"Data cut {store.compare} (compared)"][0].data["COMPARED_DAY"].tolist()
        ticks = dict(hv.Store.lookup_options("bokeh", overlay, "plot").kwargs["yticks"])
        labelled_new |= {label.split(" ")[0] for label in ticks.values() if " (new) " in label}
    day = (pd.Timestamp(store.compare) - randomized.reindex(lanes["USUBJID"])).dt.days.to_numpy()
    on_lane = (day >= 0) & (day <= lanes["END"].to_numpy())  # a lane that ended before the cut has no mark
    assert on_lane.any() and not on_lane.all() and sorted(marked) == sorted(day[on_lane])
    assert labelled_new == set(new)
    plain = SwimmerView(store=TrialStore(series.latest))
    assert "NEW" not in plain.lanes()
