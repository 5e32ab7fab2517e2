"""A served data folder that changes: new cuts are validated and offered, changed files are reported."""

import json
import shutil

import pandas as pd
import pytest

from dashboard import app
from dashboard.loaders.cuts import DataWatcher, load_series

from .conftest import SERIES_DIR


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "cuts"
    shutil.copytree(SERIES_DIR, out)
    return out


def _add_cut(folder, date):
    new = folder / date
    shutil.copytree(folder / "2019-06-30", new)
    meta = json.loads((new / "metadata.json").read_text())
    meta["cutoff"] = date
    (new / "metadata.json").write_text(json.dumps(meta))
    return new


def test_nothing_changed(folder):
    watcher = DataWatcher(list(load_series(folder).cuts), folder)
    assert not watcher.check().anything


def test_a_new_cut_is_validated_and_offered(folder):
    watcher = DataWatcher(list(load_series(folder).cuts), folder)
    _add_cut(folder, "2020-06-30")
    broken = _add_cut(folder, "2020-12-31")
    (broken / "adsl.parquet").write_bytes(b"not a parquet file")
    check = watcher.check()
    assert check.new_cuts == ("2020-06-30",)
    assert len(check.broken_cuts) == 1 and check.broken_cuts[0].startswith("2020-12-31: ")
    assert not check.changed_files


def test_a_changed_or_missing_file_is_reported(folder):
    watcher = DataWatcher(list(load_series(folder).cuts), folder)
    adae = folder / "2016-06-30" / "adae.parquet"
    pd.read_parquet(adae).iloc[1:].to_parquet(adae, index=False)
    (folder / "2017-06-30" / "adrs.parquet").unlink()
    changed = watcher.check().changed_files
    assert len(changed) == 2
    assert changed[0].startswith("adae.parquet of data cut 2016-06-30: changed since it was loaded (sha256 ")
    assert changed[1] == "adrs.parquet of data cut 2017-06-30: missing since it was loaded"


def test_a_new_session_reads_a_new_cut_and_keeps_data_that_no_longer_loads(folder):
    path = str(folder)
    for cached in (app.shared_series, app.shared_dataset, app.shared_watcher):
        cached.clear()
    assert app.shared_series(path).dates[-1] == "2019-06-30"
    _add_cut(folder, "2020-06-30")
    check = app._reload_if_changed(path)
    assert not check.anything and app.shared_series(path).dates[-1] == "2020-06-30"
    (folder / "2016-06-30" / "adsl.parquet").write_bytes(b"corrupted")
    check = app._reload_if_changed(path)
    assert check.changed_files and "cannot be loaded" in check.broken_cuts[-1]
    assert app.shared_series(path).dates[-1] == "2020-06-30"  # the data as loaded, with the notice
    for cached in (app.shared_series, app.shared_dataset, app.shared_watcher):
        cached.clear()
