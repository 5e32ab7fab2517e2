"""Read one data file (.xpt, .sas7bdat, .csv, .parquet) into a clean, read-only `RawTable`.

Whatever the format, a `RawTable` has upper-case column names, text as `str` (never bytes, never
empty strings: those become missing), numbers as floats with the IBM-float noise of pandas' xport
reader (zero read as ~5.4e-79) cleaned to 0, and SAS dates kept as numbers or dates for
`dates.to_dates` to convert. Files are opened read-only; nothing is written next to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.dataset import file_sha256

FORMATS = {".xpt": "xpt", ".xport": "xpt", ".sas7bdat": "sas7bdat", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# Magnitudes below this are IBM-float noise from pandas' xport reader (a stored zero reads as 16**-65).
TINY = 1e-70


@dataclass(frozen=True)
class RawTable:
    """One file as read: its cleaned frame, variable labels, SAS member name, path, format and sha256."""

    path: Path
    frame: pd.DataFrame
    fmt: str
    sha256: str
    labels: dict[str, str] = field(default_factory=dict)
    member: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.name.split(".")[0].lower()


def is_data_file(path: Path) -> bool:
    """Whether a path is a data file this package reads (by extension)."""
    return path.is_file() and path.suffix.lower() in FORMATS


def read_table(path, engine: str = "pyreadstat") -> RawTable:
    """Read a data file; `engine="pandas"` uses pandas' own SAS readers (for files pyreadstat rejects)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; expected one of {sorted(FORMATS)}")
    labels: dict[str, str] = {}
    member = ""
    if fmt in ("xpt", "sas7bdat"):
        frame, labels, member = _read_sas(path, fmt, engine)
    elif fmt == "csv":
        frame = _read_csv(path)
    else:
        frame = pd.read_parquet(path)
    return RawTable(path, clean_frame(frame), fmt, file_sha256(path), labels, member)


def _read_sas(path: Path, fmt: str, engine: str):
    if engine == "pyreadstat":
        import pyreadstat

        reader = pyreadstat.read_xport if fmt == "xpt" else pyreadstat.read_sas7bdat
        try:
            frame, meta = reader(str(path))
        except pyreadstat.ReadstatError:
            frame, meta = reader(str(path), encoding="latin1")
        labels = {c.upper(): (lab or "") for c, lab in meta.column_names_to_labels.items()}
        return frame, labels, meta.table_name or ""
    frame = pd.read_sas(path, format="xport" if fmt == "xpt" else "sas7bdat", encoding=None)
    return frame, {}, ""


def _read_csv(path: Path) -> pd.DataFrame:
    """Every CSV column is read as text; the mapping converts model columns to their types."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="latin-1")


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Upper-case names; bytes decoded; text stripped, empty text missing; IBM-float noise zeroed."""
    out = {}
    for col in frame.columns:
        name = str(col).strip().upper()
        out[name] = clean_column(frame[col])
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def clean_column(values: pd.Series) -> pd.Series:
    """One column cleaned as `clean_frame` describes (a new Series)."""
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "Y", False: "N"}).astype(object)
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        return numbers.mask(numbers.abs() < TINY, 0.0)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        return values.astype(object).map(_clean_text)
    return values


def _clean_text(value):
    if isinstance(value, (bytes, bytearray)):
        value = _decode(bytes(value))
    if isinstance(value, str):
        value = value.strip()
        return value if value else np.nan
    if value is None or value is pd.NA:
        return np.nan
    if isinstance(value, float) and np.isnan(value):
        return np.nan
    return value


def _decode(raw: bytes) -> str:
    """SAS text is UTF-8 in modern exports and Latin-1 in older ones (which never fails to decode)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
