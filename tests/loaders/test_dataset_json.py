"""CDISC Dataset-JSON v1.1: the spec's own shapes read with their metadata; our writer round-trips;
files that are not v1.1 Dataset-JSON are refused with the attribute named."""

from __future__ import annotations

import json

import pandas as pd
import pyreadstat
import pytest

from dashboard.cli import main as cli_main
from dashboard.model.dataset import METADATA_FILE, read_model_folder, write_dataset
from dashboard.model.schema import TABLE_SPECS
from dashboard.loaders import load_dataset
from dashboard.loaders.dataset_json import DatasetJsonError, parse_dataset_json, read_dataset_json, write_dataset_json
from dashboard.loaders.readers import read_table
from tests.conftest import tiny_dataset

# The spec's examples (doc/dataset-json1-1.md): an SDTM date as ISO text, an ADaM date as ISO text with
# targetDataType integer, a decimal sent as a string, an integer, a null and an empty string.
SPEC_COLUMNS = [
    {"itemOID": "IT.ADSL.USUBJID", "name": "USUBJID", "label": "Unique Subject Identifier", "dataType": "string",
     "length": 11, "keySequence": 1},
    {"itemOID": "IT.ADSL.RFSTDTC", "name": "RFSTDTC", "label": "Subject Reference Start Date/Time", "dataType": "date"},
    {"itemOID": "IT.ADSL.TRTSDT", "name": "TRTSDT", "label": "Date of First Exposure to Treatment", "dataType": "date",
     "targetDataType": "integer", "displayFormat": "E8601DA."},
    {"itemOID": "IT.ADSL.BMIBL", "name": "BMIBL", "label": "Baseline BMI (kg/m^2)", "dataType": "decimal",
     "targetDataType": "decimal", "length": 16},
    {"itemOID": "IT.ADSL.AGE", "name": "AGE", "label": "Age", "dataType": "integer"},
    {"itemOID": "IT.ADSL.DTHFL", "name": "DTHFL", "label": "Subject Died?", "dataType": "string", "length": 1},
]
SPEC_ROWS = [["01-701-1015", "2014-01-02", "2014-01-02", "25.1", 63, ""],
             ["01-701-1023", "2012-08-05", None, "30.8983333232059", None, "Y"]]
SPEC_META = {"datasetJSONCreationDateTime": "2023-06-28T15:38:43", "datasetJSONVersion": "1.1.0",
             "itemGroupOID": "IG.ADSL", "records": 2, "name": "ADSL", "label": "Subject-Level Analysis",
             "columns": SPEC_COLUMNS}


def _ndjson(meta, rows) -> str:
    return "\n".join(json.dumps(x) for x in [meta, *rows]) + "\n"


@pytest.mark.parametrize("ndjson", [False, True])
def test_spec_shapes_read_with_types_and_labels(ndjson):
    text = _ndjson(SPEC_META, SPEC_ROWS) if ndjson else json.dumps({**SPEC_META, "rows": SPEC_ROWS})
    ds = parse_dataset_json(text, ndjson=ndjson)
    assert (ds.name, ds.label, ds.records, ds.version) == ("ADSL", "Subject-Level Analysis", 2, "1.1.0")
    assert ds.labels["TRTSDT"] == "Date of First Exposure to Treatment"
    assert ds.frame["BMIBL"].tolist() == [25.1, 30.8983333232059]  # decimal strings are numbers
    assert ds.frame["AGE"].iloc[0] == 63 and pd.isna(ds.frame["AGE"].iloc[1])
    assert ds.frame["TRTSDT"].tolist() == ["2014-01-02", None]  # ISO text, converted by the loader's dates


def test_read_table_gives_labels_member_and_clean_text(tmp_path):
    (tmp_path / "adsl.json").write_text(json.dumps({**SPEC_META, "rows": SPEC_ROWS}))
    table = read_table(tmp_path / "adsl.json")
    assert table.fmt == "dataset-json" and table.member == "ADSL" and table.dataset_label == "Subject-Level Analysis"
    assert table.labels["AGE"] == "Age" and table.issues == ()
    assert pd.isna(table.frame.loc[0, "DTHFL"])  # "" is missing, as in every other format


def test_sas_day_numbers_in_date_columns_are_numbers():
    columns = [{"itemOID": "IT.TRTSDT", "name": "TRTSDT", "label": "", "dataType": "datetime",
                "targetDataType": "integer", "displayFormat": "DATE9."}]
    ds = parse_dataset_json(json.dumps({**SPEC_META, "records": 2, "columns": columns, "rows": [[19725], [None]]}),
                            ndjson=False)
    assert pd.api.types.is_numeric_dtype(ds.frame["TRTSDT"]) and ds.frame["TRTSDT"].iloc[0] == 19725


@pytest.mark.parametrize("change, message", [
    ({"datasetJSONVersion": "1.0.0"}, "datasetJSONVersion '1.0.0' is not supported"),
    ({"datasetJSONVersion": None}, "no datasetJSONVersion"),
    ({"columns": None}, "no 'columns' metadata"),
    ({"columns": [{"itemOID": "IT.X", "label": "x", "dataType": "string"}]}, "entry 1 of 'columns' has no variable name"),
    ({"records": "2"}, "'records' must be a whole number"),
])
def test_files_that_are_not_v11_dataset_json_are_refused_naming_the_attribute(change, message):
    meta = {k: v for k, v in {**SPEC_META, **change}.items() if v is not None}
    with pytest.raises(DatasetJsonError, match=message):
        parse_dataset_json(json.dumps({**meta, "rows": SPEC_ROWS}), ndjson=False)


def test_ndjson_problems_name_the_line():
    with pytest.raises(DatasetJsonError, match="empty file"):
        parse_dataset_json("\n\n", ndjson=True)
    with pytest.raises(DatasetJsonError, match="line 3 has 2 values for 6 columns"):
        parse_dataset_json(_ndjson(SPEC_META, [SPEC_ROWS[0], ["a", "b"]]), ndjson=True)
    with pytest.raises(DatasetJsonError, match=r"not valid JSON \(line 2"):
        parse_dataset_json(_ndjson(SPEC_META, []) + "[1, 2\n", ndjson=True)


def test_fewer_rows_than_records_is_a_blocking_issue(tmp_path):
    (tmp_path / "adsl.ndjson").write_text(_ndjson({**SPEC_META, "records": 254}, SPEC_ROWS))
    issue, = read_table(tmp_path / "adsl.ndjson").issues
    assert issue.blocking and "declares 254 records but holds 2" in issue.rule


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_writer_round_trips_every_column_type(tmp_path, suffix):
    frame = pd.DataFrame({
        "USUBJID": ["S1", "S2", None], "SITE": ["Z\u00fcrich", "Lyon", "x"],
        "ASTDT": pd.to_datetime(["2014-01-02", None, "2015-12-31"]),
        "AGE": pd.array([61, None, 70], dtype="Int64"), "BMI": [25.1, float("nan"), 30.0], "FLAG": [True, False, True],
    })
    path = write_dataset_json(frame, tmp_path / f"adsl{suffix}", "ADSL", {"AGE": "Age"}, "Subjects")
    ds = read_dataset_json(path)
    assert (ds.name, ds.label, ds.records, ds.labels["AGE"], ds.labels["BMI"]) == ("ADSL", "Subjects", 3, "Age", "")
    assert ds.frame["SITE"].tolist() == ["Z\u00fcrich", "Lyon", "x"] and ds.frame["USUBJID"].iloc[2] is None
    assert pd.to_datetime(ds.frame["ASTDT"]).equals(frame["ASTDT"])
    assert ds.frame["AGE"].iloc[[0, 2]].tolist() == [61, 70] and pd.isna(ds.frame["AGE"].iloc[1])
    assert ds.frame["BMI"].iloc[[0, 2]].tolist() == [25.1, 30.0] and ds.frame["FLAG"].tolist() == ["Y", "N", "Y"]
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    astdt = next(c for c in header["columns"] if c["name"] == "ASTDT")
    assert header["datasetJSONVersion"] == "1.1.0" and astdt["dataType"] == "date" and astdt["targetDataType"] == "integer"


def test_pilot_adsl_through_dataset_json_loads_like_the_xpt(pilot_dir, tmp_path):
    adsl, meta = pyreadstat.read_xport(str(pilot_dir / "adsl.xpt"))
    write_dataset_json(adsl, tmp_path / "adsl.json", "ADSL", meta.column_names_to_labels, meta.file_label or "")
    from_json, from_xpt = load_dataset(tmp_path).adsl, load_dataset(pilot_dir / "adsl.xpt").adsl
    model = [c for c in TABLE_SPECS["adsl"].column_names if c in from_xpt.columns]  # others keep their file types
    assert len(model) > 10 and from_xpt["RANDDT"].notna().all()
    pd.testing.assert_frame_equal(from_json[model], from_xpt[model], check_dtype=False)
    assert read_table(tmp_path / "adsl.json").labels == {k.upper(): v for k, v in meta.column_names_to_labels.items()}


def test_model_folder_written_as_dataset_json_reads_back(tmp_path):
    original = tiny_dataset()
    write_dataset(original, tmp_path, "dataset-json")
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json"] * (len(original.tables()) + 1)
    back = read_model_folder(tmp_path)
    assert back.cutoff == original.cutoff
    for name, table in original.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name][table.columns], table, check_dtype=False, obj=name)
    (tmp_path / METADATA_FILE).unlink()  # the same files read as plain ADaM Dataset-JSON
    assert load_dataset(tmp_path).provenance["standard"] == "ADaM"


def test_generate_writes_dataset_json(tmp_path):
    assert cli_main(["generate", "--out", str(tmp_path), "--format", "dataset-json", "--subjects", "12"]) == 0
    assert (tmp_path / "adsl.json").exists() and read_model_folder(tmp_path).randomized.shape[0] == 12
