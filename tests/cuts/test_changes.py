"""changes.py: hand-built cuts with known differences, and the bundled series against an independent diff."""

import pandas as pd
import pytest

from dashboard.transforms.changes import (CATEGORIES, CORRECTED, DEATHS, PRIMARY, RANDOMIZED, RESPONSES, SERIOUS_AES,
                                          WITHDRAWALS, change_counts, change_listing, changes_of_patients,
                                          headline_change, new_events)

D = pd.Timestamp


def _adsl(rows):
    cols = ["USUBJID", "RANDFL", "ARM", "SITEID", "RANDDT", "DTHFL", "DTHDT", "DTHCAUS", "EOSSTT", "EOSDT", "DCSREAS"]
    return pd.DataFrame(rows, columns=cols)


OLD_SL = _adsl([
    ("S1", "Y", "A", "01", D("2020-01-05"), "N", pd.NaT, None, "ONGOING", pd.NaT, None),
    ("S2", "Y", "B", "02", D("2020-02-01"), "Y", D("2020-05-01"), "Infection", "DISCONTINUED", D("2020-05-01"), "Death"),
    ("S3", "N", "Screen Failure", "01", pd.NaT, "N", pd.NaT, None, "NOT RANDOMIZED", D("2020-03-01"), "Screen failure"),
])
NEW_SL = _adsl([
    ("S1", "Y", "A", "01", D("2020-01-05"), "Y", D("2020-06-10"), "Relapse", "DISCONTINUED", D("2020-06-10"), "Death"),
    ("S2", "Y", "B", "02", D("2020-02-01"), "Y", D("2020-05-03"), "Infection", "DISCONTINUED", D("2020-05-03"), "Death"),
    ("S3", "N", "Screen Failure", "01", pd.NaT, "N", pd.NaT, None, "NOT RANDOMIZED", D("2020-03-01"), "Screen failure"),
    ("S4", "Y", "A", "02", D("2020-07-01"), "N", pd.NaT, None, "DISCONTINUED", D("2020-08-01"), "Withdrawal by subject"),
])
AE_COLS = ["USUBJID", "AEDECOD", "ASTDT", "AETOXGRN", "AESER"]
OLD_AE = pd.DataFrame([("S1", "Sepsis", D("2020-02-01"), 3, "Y"), ("S1", "Nausea", D("2020-02-03"), 2, "N"),
                       ("S2", "Anaemia", D("2020-03-01"), 3, "N")], columns=AE_COLS)
NEW_AE = pd.DataFrame([("S1", "Sepsis", D("2020-02-01"), 3, "Y"), ("S1", "Nausea", D("2020-02-03"), 3, "N"),
                       ("S2", "Anaemia", D("2020-03-01"), 2, "N"), ("S4", "Seizure", D("2020-07-20"), 4, "Y")],
                      columns=AE_COLS)
RS_COLS = ["USUBJID", "PARAMCD", "AVISITN", "ADT", "AVALC"]
OLD_RS = pd.DataFrame([("S1", "OVRLRESP", 28.0, D("2020-02-02"), "PR"), ("S2", "OVRLRESP", 14.0, D("2020-02-15"), "NR")],
                      columns=RS_COLS)
NEW_RS = pd.DataFrame([("S1", "OVRLRESP", 28.0, D("2020-02-02"), "CR"), ("S2", "OVRLRESP", 14.0, D("2020-02-15"), "NR"),
                       ("S2", "OVRLRESP", 28.0, D("2020-02-29"), "MR")], columns=RS_COLS)


@pytest.fixture
def listing():
    return change_listing({"adsl": OLD_SL, "adae": OLD_AE, "adrs": OLD_RS},
                          {"adsl": NEW_SL, "adae": NEW_AE, "adrs": NEW_RS}, primary_visit_day=28)


def _pick(listing, category):
    return [tuple(r) for r in listing.loc[listing["CATEGORY"] == category,
                                          ["CHANGE", "USUBJID", "RECORD", "BEFORE", "AFTER"]].to_numpy()]


def test_hand_built_cuts(listing):
    assert _pick(listing, RANDOMIZED) == [("new", "S4", "Randomized", "", "2020-07-01")]
    assert _pick(listing, DEATHS) == [("changed", "S2", "Death date", "2020-05-01", "2020-05-03"),
                                      ("new", "S1", "Death (Relapse)", "", "2020-06-10")]
    assert _pick(listing, WITHDRAWALS) == [("new", "S4", "Withdrawal (Withdrawal by subject)", "", "2020-08-01")]
    assert _pick(listing, SERIOUS_AES) == [("new", "S1", "Nausea", "grade 2", "grade 3"),
                                           ("new", "S4", "Seizure", "", "grade 4, serious"),
                                           ("removed", "S2", "Anaemia", "grade 3", "grade 2")]
    assert _pick(listing, CORRECTED) == [("changed", "S1", "Nausea", "grade 2", "grade 3"),
                                         ("changed", "S2", "Anaemia", "grade 3", "grade 2")]
    assert _pick(listing, RESPONSES) == [("changed", "S1", "Response OVRLRESP", "PR", "CR")]
    assert _pick(listing, PRIMARY) == [("changed", "S1", "Response at day 28", "PR", "CR"),
                                       ("new", "S2", "Response at day 28", "", "MR")]
    assert listing.set_index("USUBJID").loc["S4", "SITEID"].eq("02").all()


def test_counts_by_change_arm_and_site(listing):
    counts = change_counts(listing).set_index("CATEGORY")
    assert list(counts.index) == list(CATEGORIES)
    assert counts.loc[SERIOUS_AES].to_dict() == {"new": 2, "changed": 0, "removed": 1}
    assert counts.loc[DEATHS].to_dict() == {"new": 1, "changed": 1, "removed": 0}
    by_arm = change_counts(listing, "ARM").set_index("CATEGORY")
    assert by_arm.loc[DEATHS].to_dict() == {"A": 1, "B": 1}
    assert list(change_counts(listing, "ARM", ["B", "A"]).columns) == ["CATEGORY", "B", "A"]  # the trial's arm order
    assert by_arm.loc[CORRECTED].to_dict() == {"A": 1, "B": 1}
    assert change_counts(listing, "SITEID").set_index("CATEGORY").loc[RANDOMIZED].to_dict() == {"01": 0, "02": 1}


def test_changes_of_the_filtered_patients_keep_patients_no_filter_can_select(listing):
    """S1 is the filtered patient; S2 is no longer randomized in the later cut (its changes stay); S4 is left out."""
    randomized = NEW_SL[NEW_SL["USUBJID"].isin(["S1", "S4"])]
    kept = changes_of_patients(listing, NEW_SL[NEW_SL["USUBJID"] == "S1"], randomized)
    assert set(kept["USUBJID"]) == {"S1", "S2"}
    assert len(kept) == (listing["USUBJID"].isin(["S1", "S2"])).sum() and kept.index.tolist() == list(range(len(kept)))


def test_nothing_changes_between_a_cut_and_itself():
    tables = {"adsl": NEW_SL, "adae": NEW_AE, "adrs": NEW_RS}
    listing = change_listing(tables, tables, 28)
    assert listing.empty and change_counts(listing)[["new", "changed", "removed"]].to_numpy().sum() == 0


def test_inputs_are_not_modified():
    before = {"adsl": OLD_SL.copy(), "adae": OLD_AE.copy(), "adrs": OLD_RS.copy()}
    change_listing(before, {"adsl": NEW_SL, "adae": NEW_AE, "adrs": NEW_RS}, 28)
    pd.testing.assert_frame_equal(before["adae"], OLD_AE)
    pd.testing.assert_frame_equal(before["adsl"], OLD_SL)


def test_headline_change():
    assert headline_change({"adsl": OLD_SL}, {"adsl": NEW_SL}) == (2, 1)


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="DTHFL"):
        change_listing({"adsl": OLD_SL.drop(columns="DTHFL")}, {"adsl": NEW_SL})


# --- the bundled series against an independent diff -------------------------------------------------


def _independent_counts(before, after, day):
    """Counts by category computed with plain set arithmetic on string keys (no merge logic shared)."""
    def ids(sl, mask):
        return set(sl.loc[mask, "USUBJID"])

    b, a = before.adsl, after.adsl
    out = {}
    out[RANDOMIZED] = len(ids(a, a.RANDFL == "Y") - ids(b, b.RANDFL == "Y"))
    dead_b, dead_a = ids(b, b.DTHFL == "Y"), ids(a, a.DTHFL == "Y")
    date_b = dict(zip(b.USUBJID, b.DTHDT.astype(str)))
    date_a = dict(zip(a.USUBJID, a.DTHDT.astype(str)))
    out[DEATHS] = len(dead_a - dead_b) + len(dead_b - dead_a) + sum(date_b[u] != date_a[u] for u in dead_a & dead_b)

    def w(sl):
        return ids(sl, (sl.RANDFL == "Y") & (sl.EOSSTT == "DISCONTINUED") & (sl.DCSREAS != "Death") & (sl.DTHFL != "Y"))

    out[WITHDRAWALS] = len(w(a) ^ w(b))

    def ae(cut):
        df = cut.adae
        n = df.groupby(["USUBJID", "AEDECOD", "ASTDT"]).cumcount()
        return {(u, t, str(s), k): (g, e) for u, t, s, k, g, e in
                zip(df.USUBJID, df.AEDECOD, df.ASTDT, n, df.AETOXGRN, df.AESER)}

    ae_b, ae_a = ae(before), ae(after)

    def serious(v):
        return v is not None and (v[1] == "Y" or v[0] >= 3)

    keys = ae_b.keys() | ae_a.keys()
    out[SERIOUS_AES] = sum(serious(ae_b.get(k)) != serious(ae_a.get(k)) or
                           (serious(ae_b.get(k)) and serious(ae_a.get(k)) and ae_b[k] != ae_a[k]) for k in keys)
    ae_fixed = sum(ae_b[k] != ae_a[k] and ae_a[k][0] != 5 for k in ae_b.keys() & ae_a.keys())
    rs_b = {(u, p, str(d)): v for u, p, d, v in before.adrs[["USUBJID", "PARAMCD", "ADT", "AVALC"]].to_numpy()}
    rs_a = {(u, p, str(d)): v for u, p, d, v in after.adrs[["USUBJID", "PARAMCD", "ADT", "AVALC"]].to_numpy()}
    out[RESPONSES] = sum(rs_b[k] != rs_a[k] for k in rs_b.keys() & rs_a.keys())

    def primary(cut):
        df = cut.adrs.loc[(cut.adrs.PARAMCD == "OVRLRESP") & (cut.adrs.AVISITN == day)]
        return dict(zip(df.USUBJID, df.AVALC))

    p_b, p_a = primary(before), primary(after)
    out[PRIMARY] = len(p_a.keys() ^ p_b.keys()) + sum(p_b[u] != p_a[u] for u in p_a.keys() & p_b.keys())
    baseline = ["ARM", "RANDDT", "SITEID", "SEX", "AGE", "AGVHDGR", "DIAG"]
    rb = b.loc[b.RANDFL == "Y"].set_index("USUBJID")[baseline].astype(str)
    ra = a.loc[a.RANDFL == "Y"].set_index("USUBJID")[baseline].astype(str)
    common = rb.index.intersection(ra.index)
    out[CORRECTED] = ae_fixed + int((rb.loc[common] != ra.loc[common]).to_numpy().sum())
    return out


def test_bundled_series_counts_equal_an_independent_diff(series):
    day = series.latest.info.primary_visit_day
    pairs = list(zip(series.cuts, series.cuts[1:])) + [(series.cuts[0], series.latest)]
    for before, after in pairs:
        listing = change_listing(before.tables(), after.tables(), day)
        counts = change_counts(listing).set_index("CATEGORY")
        mine = counts.sum(axis=1).to_dict()
        assert mine == _independent_counts(before, after, day), (before.cutoff, after.cutoff)
        dead_now, delta = headline_change(before.tables(), after.tables())
        assert dead_now == int((after.randomized["DTHFL"] == "Y").sum())
        assert delta == counts.loc[DEATHS, "new"] - counts.loc[DEATHS, "removed"]


def test_a_late_recorded_death_is_listed_as_new(series):
    """A death dated before the earlier cut but recorded after it appears as new in the Changes listing."""
    found = []
    for before, after in zip(series.cuts, series.cuts[1:]):
        listing = change_listing(before.tables(), after.tables(), 28)
        deaths = listing.loc[(listing["CATEGORY"] == DEATHS) & (listing["CHANGE"] == "new")]
        late = deaths.loc[deaths["DATE"] <= before.cutoff]
        assert set(late["USUBJID"]).isdisjoint(before.adsl.loc[before.adsl["DTHFL"] == "Y", "USUBJID"])
        found += list(late["USUBJID"])
    assert found


def test_new_events_are_those_no_earlier_row_matches_by_subject_term_onset_and_occurrence():
    before = OLD_AE.copy()
    after = pd.concat([NEW_AE, NEW_AE.iloc[[0]]]).set_axis([10, 11, 12, 13, 14])  # a second Sepsis that day
    new = new_events(before, after)
    assert new.index.tolist() == [10, 11, 12, 13, 14]
    # Sepsis, Nausea (grade corrected: same event), Anaemia: known; Seizure: new; the second Sepsis: new.
    assert new.tolist() == [False, False, False, True, True]
    assert not new_events(after, after).any()
    pd.testing.assert_frame_equal(before, OLD_AE)
