"""CDISC Dataset-JSON v1.1 (`.json` and `.ndjson`): read one dataset with its column metadata, or write one.

The format (cdisc-org/DataExchange-DatasetJson, `doc/dataset-json1-1.md`): one JSON object with the
top-level attributes `datasetJSONCreationDateTime`, `datasetJSONVersion` ("1.1" or "1.1.n"),
`itemGroupOID`, `records`, `name`, `label`, then `columns` (each with `itemOID`, `name`, `label`,
`dataType`, optional `targetDataType`, `length`, `displayFormat`, `keySequence`) and `rows` (one list
of values per record; null is missing). NDJSON puts the metadata object, `columns` included, on
line 1 and one row array on each following line. Dates are ISO 8601 strings (`dataType` date or
datetime; `targetDataType` integer asks the receiver to store them as SAS numbers); decimals may be
strings (`targetDataType` decimal); booleans become Y/N as CDISC flags are.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd

VERSION = "1.1.0"
_SUPPORTED_VERSION = re.compile(r"^1\.1(\.\d+)?$")
_NUMERIC_TYPES = frozenset({"integer", "decimal", "float", "double"})


class DatasetJsonError(ValueError):
    """A file that is not readable Dataset-JSON v1.1; the message names what is wrong."""


@dataclass(frozen=True)
class DatasetJson:
    """One dataset as read: rows typed by each column's dataType, names, labels and declared record count."""

    frame: pd.DataFrame
    name: str
    label: str
    records: int
    version: str
    labels: Mapping[str, str] = field(default_factory=dict)


def read_dataset_json(path) -> DatasetJson:
    """Read a UTF-8 `.json` or `.ndjson` Dataset-JSON file (raises DatasetJsonError when it is not one)."""
    path = Path(path)
    return parse_dataset_json(path.read_text(encoding="utf-8-sig"), ndjson=path.suffix.lower() == ".ndjson")


def parse_dataset_json(text: str, ndjson: bool) -> DatasetJson:
    """The dataset in Dataset-JSON text (NDJSON when `ndjson`): metadata checked, rows typed by dataType."""
    if ndjson:
        lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        if not lines:
            raise DatasetJsonError("empty file: an NDJSON Dataset-JSON file starts with a metadata line")
        meta = _parse(lines[0][1], "line 1")
        rows = [_parse(line, f"line {number}") for number, line in lines[1:]]
        first_row_line = lines[1][0] if len(lines) > 1 else 2
    else:
        meta = _parse(text, "the file")
        rows = meta.get("rows", []) if isinstance(meta, dict) else []
        first_row_line = 1
        if not isinstance(rows, list):
            raise DatasetJsonError("'rows' must be a list of records")
    if not isinstance(meta, dict):
        raise DatasetJsonError("not Dataset-JSON: the metadata must be a JSON object")
    version = meta.get("datasetJSONVersion")
    if version is None:
        raise DatasetJsonError("not Dataset-JSON: no datasetJSONVersion attribute")
    if not _SUPPORTED_VERSION.match(str(version)):
        raise DatasetJsonError(f"datasetJSONVersion {version!r} is not supported (this reader follows "
                               "Dataset-JSON v1.1)")
    columns = _columns(meta.get("columns"))
    records = meta.get("records")
    if not isinstance(records, int) or isinstance(records, bool) or records < 0:
        raise DatasetJsonError(f"'records' must be a whole number of records, got {records!r}")
    names = [c["name"] for c in columns]
    for position, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            where = f"line {first_row_line + position}" if ndjson else f"row {position + 1}"
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise DatasetJsonError(f"{where} has {size} values for {len(names)} columns")
    frame = pd.DataFrame(rows, columns=names, dtype=object) if rows else pd.DataFrame(columns=names, dtype=object)
    frame = pd.concat([_typed(frame.iloc[:, i], c) for i, c in enumerate(columns)], axis=1) if names else frame
    labels = {c["name"]: str(c.get("label") or "") for c in columns}
    return DatasetJson(frame, str(meta.get("name") or ""), str(meta.get("label") or ""), records, str(version), labels)


def _parse(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetJsonError(f"not valid JSON ({where}, line {exc.lineno} column {exc.colno}: {exc.msg})") from exc


def _columns(columns) -> list[dict]:
    if not isinstance(columns, list) or not columns:
        raise DatasetJsonError("no 'columns' metadata: the names and types of the variables are missing")
    for position, column in enumerate(columns, 1):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str) or not column["name"].strip():
            raise DatasetJsonError(f"entry {position} of 'columns' has no variable name")
    return columns


def _typed(values: pd.Series, column: dict) -> pd.Series:
    """A column converted by its dataType: numbers (also decimals sent as text), booleans as Y/N, the rest as is."""
    data_type = str(column.get("dataType") or "").lower()
    target = str(column.get("targetDataType") or "").lower()
    present = values.notna()
    numbers_as_dates = data_type in ("date", "datetime") and values[present].map(_is_number).all()
    if data_type in _NUMERIC_TYPES or target == "decimal" or numbers_as_dates:
        numbers = pd.to_numeric(values, errors="coerce")
        # a value that is not a number stays text so the loader reports it instead of losing it
        return numbers if (numbers.notna() == present).all() else values
    if data_type == "boolean":
        return values.map({True: "Y", False: "N"}).where(present).astype(object)
    return values


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def write_dataset_json(frame: pd.DataFrame, path, name: str, labels: Mapping[str, str] | None = None,
                       label: str = "") -> Path:
    """Write `frame` as Dataset-JSON v1.1 (NDJSON when `path` ends in .ndjson); dates as ISO 8601 text."""
    path = Path(path)
    labels = labels or {}
    columns, data = [], []
    for col in frame.columns:
        meta, values = _column_out(frame[col], name, str(col), labels.get(col, ""))
        columns.append(meta)
        data.append(values)
    header = {
        "datasetJSONCreationDateTime": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "datasetJSONVersion": VERSION,
        "itemGroupOID": f"IG.{name}",
        "records": len(frame),
        "name": name,
        "label": label,
        "columns": columns,
    }
    rows = [list(row) for row in zip(*data)] if data else [[] for _ in range(len(frame))]
    with open(path, "w", encoding="utf-8") as out:
        if path.suffix.lower() == ".ndjson":
            out.write(json.dumps(header, ensure_ascii=False) + "\n")
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        else:
            json.dump({**header, "rows": rows}, out, ensure_ascii=False)
    return path


def _column_out(values: pd.Series, dataset: str, name: str, label: str) -> tuple[dict, list]:
    """(column metadata, JSON-ready values) for one column; missing values become null."""
    meta = {"itemOID": f"IT.{dataset}.{name}", "name": name, "label": label}
    present = values.notna()
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "date":
        values = pd.to_datetime(values)  # date objects (pyreadstat's SAS dates) are dates, not text
    if pd.api.types.is_datetime64_any_dtype(values):
        meta.update(dataType="date", targetDataType="integer", displayFormat="E8601DA.")
        out = values.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_bool_dtype(values):
        meta["dataType"] = "boolean"
        out = values.astype(object)
    elif pd.api.types.is_integer_dtype(values):
        meta["dataType"] = "integer"
        out = values.astype(object).map(lambda v: int(v) if pd.notna(v) else None)
    elif pd.api.types.is_float_dtype(values):
        meta["dataType"] = "double"
        out = values.astype(object).map(lambda v: float(v) if pd.notna(v) and math.isfinite(v) else None)
    else:
        out = values.astype(object).map(lambda v: str(v) if pd.notna(v) else None)
        meta.update(dataType="string", length=max(1, int(out[present].str.len().max())) if present.any() else 1)
    return meta, out.where(present, None).tolist()
