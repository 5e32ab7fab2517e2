"""`--cutoff`: the trial as it stood that day, with nothing from after the cut leaking in.

Property tests over many cut dates on a small simulated trial: every table is validated and
consistent; no date lies after the cut; outcomes after the cut are unknown (deaths, end of study,
events, AE outcomes), and the tables are identical when everything after the cut is changed.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.model.schema import TABLE_SPECS
from dashboard.synthetic.cut import tables_at_cutoff
from dashboard.synthetic.generator import TrialHistory, simulate_history, simulate_trial

from .consistency import problems

FUTURE = pd.Timedelta(days=100)


@cache
def history() -> TrialHistory:
    return simulate_history(7, 60)


@cache
def turning_points() -> tuple:
    """Days on and just before every dated change in the small trial's history (where leaks would show)."""
    h = history()
    s = h.subjects
    dates = [s[c] for c in ("SCRNDT", "RANDDT", "DTHDT", "RELAPSEDT", "CGVHDDT", "FFSDT", "EOSDT")]
    randdt = s["RANDDT"].to_numpy()
    dates.append(pd.Series(randdt[h.events["SUBJ"]] + pd.to_timedelta(h.events["ONSET"], unit="D").to_numpy()))
    days = pd.concat(dates).dropna().dt.normalize()
    days = pd.concat([days, days - pd.Timedelta(days=1)]).drop_duplicates().sort_values()
    return tuple(d.date() for d in days)


CUTS = st.one_of(
    st.dates(min_value=pd.Timestamp("2014-09-01").date(), max_value=pd.Timestamp("2024-06-30").date()),
    st.deferred(lambda: st.sampled_from(turning_points())),
)


def _dataset(hist, cut) -> TrialDataset:
    tables = tables_at_cutoff(hist, cut)
    return TrialDataset.create(tables.pop("adsl"), cutoff=cut, info=NCT02241018, **tables)


def perturb_future(hist: TrialHistory, cut: pd.Timestamp) -> TrialHistory:
    """The same trial up to the cut, with everything after it changed."""
    s = hist.subjects.copy()
    later = s["SCRNDT"] > cut
    s.loc[later, "AGE"] = s.loc[later, "AGE"] + 1
    s.loc[later, "SEX"] = np.where(s.loc[later, "SEX"] == "M", "F", "M")
    unrandomized = (s["RANDFL"] == "Y") & (s["RANDDT"] > cut)
    s.loc[unrandomized, "ARMKEY"] = np.where(s.loc[unrandomized, "ARMKEY"] == "MSC", "CONTROL", "MSC")
    for date, detail in (("DTHDT", "DTHCAUS"), ("RELAPSEDT", None), ("CGVHDDT", "CGVHDSEV"), ("FFSDT", "FFSEVENT"),
                         ("EOSDT", "DCSREAS"), ("LSTALVDT", None)):
        future = s[date] > cut
        s.loc[future, date] = s.loc[future, date] + FUTURE
        if detail:
            s.loc[future, detail] = "changed after the cut"
    open_eos = s["EOSDT"] > cut
    s.loc[open_eos, "WITHDRAWN"] = ~s.loc[open_eos, "WITHDRAWN"]
    s.loc[open_eos, "EOSSTT"] = "DISCONTINUED"
    randdt = s["RANDDT"].to_numpy()

    def shift(frame, offset_col, end_col=None):
        frame = frame.copy()
        date = randdt[frame["SUBJ"]] + pd.to_timedelta(frame[offset_col], unit="D").to_numpy()
        future = pd.Series(date > cut.to_datetime64(), index=frame.index)
        frame.loc[future, offset_col] = frame.loc[future, offset_col] + FUTURE.days
        if end_col:
            end = randdt[frame["SUBJ"]] + pd.to_timedelta(frame[end_col], unit="D").to_numpy()
            ends_later = pd.Series(end > cut.to_datetime64(), index=frame.index)
            frame.loc[ends_later, end_col] = frame.loc[ends_later, end_col] + FUTURE.days
            frame.loc[ends_later, "AEOUT"] = "changed after the cut"
            frame.loc[ends_later & (frame["AETOXGRN"] == 5), "AETOXGRN"] = 4
        return frame, future

    visits, future = shift(hist.visits, "OFFSET")
    visits.loc[future, "AVALC"] = "changed after the cut"
    events, future = shift(hist.events, "ONSET", "END")
    events.loc[future, "AEDECOD"] = "Nausea"
    doses, future = shift(hist.doses, "OFFSET")
    doses.loc[future, "EXDOSE"] = 99.0
    return TrialHistory(hist.seed, s, visits, events, doses, hist.sites)


@settings(max_examples=25, deadline=None)
@given(CUTS)
def test_cut_tables_are_valid_consistent_dated_by_the_cut_and_recomputed(cut_date):
    """Valid, consistent, no date after the cut; deaths/events after it unknown, follow-up censored."""
    cut = pd.Timestamp(cut_date)
    ds = _dataset(history(), cut)
    for name, df in ds.tables().items():
        for spec in TABLE_SPECS[name].columns:
            if spec.dtype == "date" and spec.name in df.columns:
                assert not (df[spec.name] > cut).any(), f"{name}.{spec.name} after the cut {cut.date()}"
    assert problems(ds) == []
    truth = history().subjects.set_index("USUBJID")
    adsl = ds.adsl.set_index("USUBJID")
    assert set(adsl.index) == set(truth.index[truth["SCRNDT"] <= cut])
    rand = adsl.loc[adsl["RANDFL"] == "Y"]
    t = truth.loc[rand.index]
    died_later = t["DTHDT"] > cut
    assert (rand.loc[died_later, "DTHFL"] == "N").all()
    ended_later = t["EOSDT"] > cut
    assert (rand.loc[ended_later, "EOSSTT"] == "ONGOING").all()
    assert (rand.loc[ended_later, "LSTALVDT"] == cut).all()
    pending = adsl.loc[(truth.loc[adsl.index, "RANDFL"] == "Y").to_numpy() & (adsl["RANDFL"] == "N").to_numpy()]
    assert (pending["ARM"] == "Not Assigned").all() and pending["RANDDT"].isna().all()
    tte = ds.adtte.set_index("USUBJID")
    for code, column in (("OS", "DTHDT"), ("CGVHD", "CGVHDDT"), ("RELAPSE", "RELAPSEDT"), ("FFS", "FFSDT")):
        rows = tte.loc[tte["PARAMCD"] == code]
        later = t.loc[rows.index, column] > cut
        assert (rows.loc[later, "CNSR"] == 1).all(), f"{code} event after the cut shown as an event"
        assert (rows["ADT"] <= cut).all()
        earlier = t.loc[rows.index, column] <= cut
        assert (rows.loc[earlier, "CNSR"] == 0).all(), f"{code} event before the cut not shown"
    ae = ds.adae
    grade5 = ae.loc[ae["AETOXGRN"] == 5, "USUBJID"]
    assert (adsl.loc[grade5, "DTHFL"] == "Y").all()


@settings(max_examples=25, deadline=None)
@given(CUTS)
def test_changing_everything_after_the_cut_changes_nothing(cut_date):
    cut = pd.Timestamp(cut_date)
    original = tables_at_cutoff(history(), cut)
    changed = tables_at_cutoff(perturb_future(history(), cut), cut)
    for name in original:
        pd.testing.assert_frame_equal(original[name], changed[name], obj=f"{name} at {cut.date()}")


def test_cut_before_the_first_screening_gives_an_empty_trial():
    ds = simulate_trial(seed=3, subjects=20, cutoff="2014-08-01")
    assert len(ds.adsl) == 0 and len(ds.adtte) == 0 and len(ds.sites) == 0


def test_default_cut_is_after_every_patients_five_year_visit(bundled):
    rand = bundled.adsl.loc[bundled.adsl["RANDFL"] == "Y"]
    assert str(bundled.cutoff.date()) == "2024-03-31"
    assert (rand["EOSSTT"] != "ONGOING").all()
