"""TrialDataset write/read in every format gives the same tables; provenance carries file hashes."""

import pandas as pd
import pytest

from dashboard.model import TrialDataset, read_model_folder, write_dataset


@pytest.fixture
def tiny():
    adsl = pd.DataFrame({
        "STUDYID": ["S1"] * 2, "USUBJID": ["S1-1", "S1-2"], "SITEID": ["01", "02"], "ARM": ["A", "B"],
        "RANDFL": ["Y", "Y"], "ITTFL": ["Y", "Y"], "SAFFL": ["Y", "N"], "AGE": [30.0, None],
        "RANDDT": pd.to_datetime(["2020-01-03", "2020-01-09"]), "SEX": ["F", pd.NA],
    })
    ae = pd.DataFrame({"USUBJID": ["S1-1"], "AEDECOD": ["Nausea"], "AEBODSYS": ["Gastrointestinal disorders"],
                       "AETOXGRN": [2], "ASTDT": pd.to_datetime(["2020-02-01"]), "ASTDY": [30]})
    return TrialDataset.create(adsl, adae=ae, cutoff="2020-06-30", provenance={"generator": "test", "seed": 1})


@pytest.mark.parametrize("fmt", ["parquet", "csv", "xpt"])
def test_round_trip_each_format(tiny, tmp_path, fmt):
    paths = write_dataset(tiny, tmp_path, fmt)
    assert {p.name for p in paths} == {f"adsl.{fmt}", f"adae.{fmt}", "metadata.json"}
    back = read_model_folder(tmp_path)
    assert back.cutoff == tiny.cutoff
    for name in ("adsl", "adae"):
        got = getattr(back, name)[getattr(tiny, name).columns]
        pd.testing.assert_frame_equal(got, getattr(tiny, name), check_dtype=False)
    assert back.adrs is None
    assert back.provenance["files"]["adsl"]["sha256"] and back.provenance["seed"] == 1


def test_xpt_is_readable_by_plain_pandas(tiny, tmp_path):
    write_dataset(tiny, tmp_path, "xpt")
    df = pd.read_sas(tmp_path / "adsl.xpt", format="xport", encoding="utf-8")
    assert sorted(df["USUBJID"]) == ["S1-1", "S1-2"]


def test_unknown_format_is_refused(tiny, tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        write_dataset(tiny, tmp_path, "xlsx")


def test_dataset_is_frozen(tiny):
    with pytest.raises(AttributeError):
        tiny.adsl = tiny.adsl.head(1)
