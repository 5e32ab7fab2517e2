"""A trial as a series of data cuts: generation, detection, loading and shared memory."""

import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.loaders import load_dataset
from dashboard.loaders.cuts import cut_date_of, cut_folders, is_cut_series, load_series
from dashboard.model.dataset import BUNDLED_DIR
from dashboard.synthetic.cut_series import cut_dates, simulate_series
from dashboard.synthetic.generator import simulate_history

from .conftest import SERIES_DIR


def test_bundled_series_is_detected_and_loads_oldest_first(series):
    assert is_cut_series(SERIES_DIR) and not is_cut_series(BUNDLED_DIR)
    assert series.dates == ["2016-06-30", "2017-06-30", "2018-06-30", "2019-06-30"]
    assert [d.cutoff.date().isoformat() for d in series.cuts] == series.dates
    assert series.before("2018-06-30") == ["2017-06-30", "2016-06-30"]
    with pytest.raises(KeyError, match="2016-06-30"):
        series.at("2020-01-01")


def test_load_dataset_reads_a_series_as_its_latest_cut(series):
    latest = load_dataset(SERIES_DIR)
    assert latest.cutoff == series.latest.cutoff
    assert latest.adsl.equals(series.latest.adsl)


def test_cut_named_in_metadata_when_the_folder_name_has_no_date(tmp_path, series):
    from dashboard.model.dataset import write_dataset

    write_dataset(series.cuts[0], tmp_path / "first")
    write_dataset(series.cuts[1], tmp_path / "cut_20170630")
    assert [(d.date().isoformat(), p.name) for d, p in cut_folders(tmp_path)] == [
        ("2016-06-30", "first"), ("2017-06-30", "cut_20170630")]
    assert cut_date_of(tmp_path / "first") == pd.Timestamp("2016-06-30")
    assert load_series(tmp_path).dates == ["2016-06-30", "2017-06-30"]


def test_no_cut_holds_a_date_after_it(series):
    for cut in series.cuts:
        for name, df in cut.tables().items():
            if name == "sites":
                continue
            for col in df.columns:
                if pd.api.types.is_datetime64_any_dtype(df[col]) and df[col].notna().any():
                    assert df[col].max() <= cut.cutoff, (cut.cutoff, name, col)


def _keys(cut):
    ae = cut.adae.assign(N=cut.adae.groupby(["USUBJID", "AEDECOD", "ASTDT"]).cumcount())
    return {
        "subjects": set(cut.adsl["USUBJID"]),
        "adae": set(map(tuple, ae[["USUBJID", "AEDECOD", "ASTDT", "N"]].astype(str).to_numpy())),
        "adrs": set(map(tuple, cut.adrs[["USUBJID", "PARAMCD", "ADT"]].astype(str).to_numpy())),
        "adex": set(map(tuple, cut.adex[["USUBJID", "ASTDT"]].astype(str).to_numpy())),
    }


def test_every_record_of_a_cut_is_in_the_later_cut(series):
    """The generator never deletes a record: later cuts add records or change their values."""
    for before, after in zip(series.cuts, series.cuts[1:]):
        old, new = _keys(before), _keys(after)
        for table in old:
            assert old[table] <= new[table], (before.cutoff, table, sorted(old[table] - new[table])[:3])


def test_series_has_late_records_corrections_and_late_outcomes(series):
    """Each realistic kind of difference between cuts occurs in the bundled series."""
    late_deaths = late_aes = regraded = reread = late_withdrawals = 0
    for before, after in zip(series.cuts, series.cuts[1:]):
        old_dead = set(before.adsl.loc[before.adsl["DTHFL"] == "Y", "USUBJID"])
        dead = after.adsl.loc[after.adsl["DTHFL"] == "Y"]
        late_deaths += int((~dead["USUBJID"].isin(old_dead) & (dead["DTHDT"] <= before.cutoff)).sum())
        ended = before.adsl.loc[before.adsl["EOSSTT"] != "ONGOING", "USUBJID"]
        gone = after.adsl.loc[(after.adsl["EOSSTT"] == "DISCONTINUED") & (after.adsl["DTHFL"] == "N")]
        late_withdrawals += int((~gone["USUBJID"].isin(ended) & (gone["EOSDT"] <= before.cutoff)).sum())
        key = ["USUBJID", "AEDECOD", "ASTDT"]
        ae = before.adae.merge(after.adae, on=key, how="right", suffixes=("_b", "_a"), indicator=True)
        late_aes += int(((ae["_merge"] == "right_only") & (ae["ASTDT"] <= before.cutoff)).sum())
        both = ae.loc[ae["_merge"] == "both"]
        regraded += int(((both["AETOXGRN_b"] != both["AETOXGRN_a"]) & (both["AETOXGRN_a"] < 5)).sum())
        rs = before.adrs.merge(after.adrs, on=["USUBJID", "PARAMCD", "ADT"], suffixes=("_b", "_a"))
        reread += int((rs["AVALC_b"] != rs["AVALC_a"]).sum())
    assert late_deaths >= 1 and late_aes >= 1 and regraded >= 1 and reread >= 1 and late_withdrawals >= 1


def test_unchanged_tables_are_shared_between_cuts(series):
    """Sites are all active from 2016, so every later cut holds the first cut's sites table itself."""
    assert all(cut.sites is series.cuts[0].sites for cut in series.cuts)


def test_equal_columns_of_a_table_with_the_same_rows_are_shared(series):
    """Once enrollment ends ADSL keeps its rows and only status columns change: the others are shared."""
    from dataclasses import replace

    import numpy as np

    from dashboard.loaders.cuts import share_unchanged

    old = series.latest
    adsl = old.adsl.copy()
    adsl.loc[adsl.index[0], "EOSSTT"] = "COMPLETED"
    new = share_unchanged(replace(old, adsl=adsl), old)
    assert np.shares_memory(new.adsl["RANDDT"].to_numpy(), old.adsl["RANDDT"].to_numpy())
    assert not np.shares_memory(new.adsl["RANDDT"].to_numpy(), adsl["RANDDT"].to_numpy())
    assert new.adsl["EOSSTT"].iloc[0] == "COMPLETED" and old.adsl["EOSSTT"].iloc[0] != "COMPLETED"
    pd.testing.assert_frame_equal(new.adsl, adsl)
    assert new.adae is old.adae


def test_the_final_cut_of_a_series_is_the_trial_once_every_record_is_in():
    """Long after the last event every delay has passed: the series' last cut equals the plain cut
    except for late-recorded outcomes still pending then (none in the default trial by 2025)."""
    from dashboard.synthetic.generator import simulate_trial

    [late] = simulate_series("2025-12-31")
    plain = simulate_trial(cutoff="2025-12-31")
    for name, df in plain.tables().items():
        keys = [c for c in ("USUBJID", "SITEID", "PARAMCD", "AEDECOD", "ASTDT", "ADT", "AVISITN") if c in df.columns]
        pd.testing.assert_frame_equal(late.tables()[name].sort_values(keys, kind="stable").reset_index(drop=True),
                                      df.sort_values(keys, kind="stable").reset_index(drop=True), obj=name)


def test_quarterly_cuts_run_from_first_randomization_to_the_default_cut():
    history = simulate_history(20140930, 203)
    dates = cut_dates("quarterly", history)
    assert dates[0] == pd.Timestamp("2014-09-30") and dates[-1] == pd.Timestamp("2024-03-31")
    assert all(d.is_quarter_end for d in dates) and len(dates) == 39
    assert cut_dates("2017-06-30, 2016-06-30") == [pd.Timestamp("2016-06-30"), pd.Timestamp("2017-06-30")]


def test_cli_generate_cuts_writes_one_folder_per_cut(tmp_path, capsys):
    assert main(["generate", "--cuts", "2016-12-31,2017-12-31", "--subjects", "60", "--seed", "3",
                 "--format", "csv", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2016-12-31", "2017-12-31"]
    assert (tmp_path / "2017-12-31" / "adsl.csv").exists()
    loaded = load_series(tmp_path)
    assert loaded.dates == ["2016-12-31", "2017-12-31"]
    assert len(loaded.cuts[0].randomized) <= len(loaded.cuts[1].randomized)
