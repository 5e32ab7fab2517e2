"""Read one data file (.xpt, .sas7bdat, .csv, .parquet, Dataset-JSON) into a clean, read-only `RawTable`.

Whatever the format, a `RawTable` has upper-case column names, text as `str` (never bytes, never
empty strings: those become missing), numbers as floats with the IBM-float noise of pandas' xport
reader (zero read as ~5.4e-79) cleaned to 0, and SAS dates kept as numbers or dates for
`dates.to_dates` to convert. Files are opened read-only; nothing is written next to them.

Text is decoded as UTF-8 (with or without byte-order mark), else the encoding the file declares (a
UTF-16/32 byte-order mark; the encoding a .sas7bdat header names), else cp1252, else latin-1; the
encoding used is kept on the table. What is wrong or notable about a file is kept as `issues`
rather than raised: a truncated file (fewer rows than its structure or header says), two columns
whose names differ only by case, text that was not UTF-8. Whether a blocking issue blocks loading
is decided once the file's role is known (`log_read_issues`): a file the dashboard does not use
never blocks. Only a file that cannot be read at all raises `ReadError`.
"""

from __future__ import annotations

import codecs
import errno
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.dataset import file_sha256
from .conform import per_distinct
from .dataset_json import DatasetJsonError, parse_dataset_json
from .report import ERROR, WARNING, FindingLog

FORMATS = {".xpt": "xpt", ".xport": "xpt", ".sas7bdat": "sas7bdat", ".csv": "csv", ".parquet": "parquet",
           ".pq": "parquet", ".json": "dataset-json", ".ndjson": "dataset-json"}
# Magnitudes below this are IBM-float noise from pandas' xport reader (a stored zero reads as 16**-65).
TINY = 1e-70
UTF8 = "utf-8"
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DELIMITERS = (";", "\t", "|")  # used when a CSV header has no comma but one of these
_CHUNK = 1 << 24  # bytes read at a time when checking a text file's encoding
_XPT_RECORD = 80
_XPT_OBS_HEADER = b"HEADER RECORD*******OBS"  # OBS (v5) or OBSV8 (v8): rows start on the next record
_XPT_MEMBER_HEADER = b"HEADER RECORD*******MEMBER"
SUBJECT_ID = "USUBJID"


class ReadError(ValueError):
    """A file that cannot be read at all; the message says why."""


@dataclass(frozen=True)
class ReadIssue:
    """Something wrong or notable about a file as read; `blocking` ones block loading if the file is used."""

    rule: str
    blocking: bool = False
    column: str | None = None
    count: int = 0
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawTable:
    """One file as read: cleaned frame, labels, SAS member name, path, format, sha256, encoding, issues."""

    path: Path
    frame: pd.DataFrame
    fmt: str
    sha256: str
    labels: dict[str, str] = field(default_factory=dict)
    member: str = ""
    encoding: str = UTF8
    dataset_label: str = ""
    issues: tuple[ReadIssue, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.name.split(".")[0].lower()


@dataclass(frozen=True)
class _Read:
    """What a format reader returns before cleaning."""

    frame: pd.DataFrame
    encoding: str = UTF8
    labels: dict = field(default_factory=dict)
    member: str = ""
    dataset_label: str = ""
    issues: tuple[ReadIssue, ...] = ()


def is_data_file(path: Path) -> bool:
    """Whether a path is a data file this package reads (by extension); a broken symlink counts, so
    that it is reported instead of silently skipped."""
    return path.suffix.lower() in FORMATS and (path.is_file() or path.is_symlink())


def read_table(path, engine: str = "pyreadstat") -> RawTable:
    """Read a data file; `engine="pandas"` uses pandas' own SAS readers (for files pyreadstat rejects).
    Raises ReadError only when nothing can be read (see the module docstring)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; expected one of {sorted(FORMATS)}")
    _check_link(path)
    try:
        if fmt in ("xpt", "sas7bdat"):
            read = _read_sas(path, fmt, engine)
        elif fmt == "parquet":
            read = _Read(pd.read_parquet(path))
        else:
            read = _read_text(path, fmt)
    except ReadError:
        raise
    except Exception as exc:  # every library's own error becomes one kind, with its message
        raise ReadError(f"{type(exc).__name__}: {exc}") from exc
    issues = (*read.issues, *duplicate_name_issues(read.frame))
    return RawTable(path, clean_frame(read.frame), fmt, file_sha256(path), read.labels, read.member, read.encoding,
                    read.dataset_label, issues)


def log_read_issues(tables, used, log: FindingLog) -> None:
    """Each table's read issues as findings: a blocking issue is an error only when the load uses the file."""
    in_use = {id(t) for t in used}
    for table in tables:
        for issue in table.issues:
            blocks = issue.blocking and id(table) in in_use
            rule = issue.rule
            if issue.blocking and not blocks:
                rule += " (the file is not used, so it does not block loading)"
            log.add(ERROR if blocks else WARNING, "files", issue.column, rule, source=table.path,
                    count=issue.count, examples=issue.examples)


def _check_link(path: Path) -> None:
    if not path.is_symlink() or path.exists():
        return
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReadError("broken symlink: it is a symlink loop") from None
    raise ReadError(f"broken symlink: it points to {os.readlink(path)}, which does not exist")


def _read_sas(path: Path, fmt: str, engine: str) -> _Read:
    """Text as UTF-8, else the encoding the file declares, else cp1252, else latin-1."""
    import pyreadstat

    reader = pyreadstat.read_xport if fmt == "xpt" else pyreadstat.read_sas7bdat
    first_error = None
    for encoding in _sas_encodings(path, reader):
        try:
            if engine == "pyreadstat":
                frame, meta = reader(str(path), encoding=encoding)
            else:
                frame = pd.read_sas(path, format="xport" if fmt == "xpt" else "sas7bdat", encoding=encoding)
                meta = reader(str(path), metadataonly=True, encoding=encoding)[1]
        except (UnicodeDecodeError, pyreadstat.ReadstatError) as exc:
            first_error = first_error or exc
            continue
        break
    else:
        raise ReadError(f"{type(first_error).__name__}: {first_error}{_xpt_size_hint(path, fmt)}")
    labels = {str(c).upper(): (lab or "") for c, lab in meta.column_names_to_labels.items()}
    issues = _sas_truncation(path, fmt, meta, len(frame))
    used = _python_encoding(encoding)
    if used != UTF8:
        why = "the encoding the file declares" if encoding == meta.file_encoding else "its text is not UTF-8"
        issues += (_encoding_issue(used, why, frame),)
    return _Read(frame, used, labels, meta.table_name or "", meta.file_label or "", issues)


def _sas_encodings(path: Path, reader):
    """UTF-8, then the file's declared encoding (read only if UTF-8 fails), then the fallbacks."""
    yield "UTF-8"
    try:
        declared = reader(str(path), metadataonly=True, encoding="LATIN1")[1].file_encoding
    except Exception:  # an unreadable header: the fallbacks will fail with the real error
        declared = None
    tried = {UTF8}
    for encoding in ([declared] if declared else []) + ["CP1252", "LATIN1"]:  # latin-1 decodes any byte
        if _python_encoding(encoding) not in tried:
            tried.add(_python_encoding(encoding))
            yield encoding


def _python_encoding(name: str) -> str:
    """Python's name of an encoding ('WINDOWS-1252' -> 'cp1252', 'LATIN1' -> 'latin-1')."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return name.lower()
    return {"iso8859-1": "latin-1"}.get(canonical, canonical)


def _xpt_size_hint(path: Path, fmt: str) -> str:
    size = path.stat().st_size
    if fmt == "xpt" and size % _XPT_RECORD:
        return f" (the file size, {size} bytes, is not a whole number of 80-byte records: it is truncated)"
    return ""


def _sas_truncation(path: Path, fmt: str, meta, rows: int) -> tuple[ReadIssue, ...]:
    """A blocking issue when a SAS file holds less than its structure (xpt) or header (sas7bdat) promises."""
    if fmt == "sas7bdat":
        promised = meta.number_rows
        if promised is not None and promised != rows:
            return (ReadIssue(f"the header promises {promised} rows but {rows} could be read: the file is truncated "
                              "or damaged", blocking=True, count=rows),)
        return ()
    row_length = sum(meta.variable_storage_width.values())
    problem = _xpt_trailing_bytes(path, row_length, rows)
    return (ReadIssue(problem, blocking=True, count=rows),) if problem else ()


def _xpt_trailing_bytes(path: Path, row_length: int, rows: int) -> str | None:
    """Why an .xpt file is not whole, or None. SAS transport is 80-byte records; the rows (each
    `row_length` bytes) follow the OBS header and end with blank padding to the next 80 bytes, so
    anything else after the last whole row means the file was cut (or is damaged). Version 8 files
    also state their row count in the OBS header; version 5 files do not, so a v5 file cut exactly
    at a row boundary that is also a multiple of 80 bytes cannot be told from a shorter file."""
    size = path.stat().st_size
    if size == 0 or row_length == 0:
        return None
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        header = data.find(_XPT_OBS_HEADER)
        if header < 0:
            return "no observation header: the file is truncated"
        promised = data[header + 48:header + _XPT_RECORD].split()
        end = header + _XPT_RECORD + rows * row_length
        trailing = data[end:end + row_length + _XPT_RECORD]
    if promised and promised[0].isdigit() and int(promised[0]) not in (0, rows):  # v5 holds zeros here
        return f"the file is truncated: its header promises {int(promised[0])} rows but only {rows} could be read"
    if trailing.startswith(_XPT_MEMBER_HEADER):
        return None  # another dataset follows in the same transport file
    if size % _XPT_RECORD == 0 and not trailing.strip(b" "):
        return None
    return (f"the file is truncated: it ends inside row {rows + 1} ({size - end} bytes after the last whole row "
            f"of {row_length} bytes, not blank padding); only {rows} rows could be read")


def _read_text(path: Path, fmt: str) -> _Read:
    """A CSV or Dataset-JSON file decoded as the module docstring says; every CSV column read as text."""
    if path.stat().st_size == 0:
        raise ReadError("empty file")
    encoding, why = text_encoding(path)
    if fmt == "dataset-json":
        try:
            dataset = parse_dataset_json(path.read_text(encoding=encoding), ndjson=path.suffix.lower() == ".ndjson")
        except DatasetJsonError as exc:
            raise ReadError(str(exc)) from None
        issues = (_encoding_issue(encoding, why, dataset.frame),) if why else ()
        if dataset.records != len(dataset.frame):
            issues += (ReadIssue(f"the file declares {dataset.records} records but holds {len(dataset.frame)}: it is "
                                 "truncated or incomplete", blocking=True, count=len(dataset.frame)),)
        return _Read(dataset.frame, encoding, {k.upper(): v for k, v in dataset.labels.items()}, dataset.name,
                     dataset.label, issues)
    with open(path, encoding=encoding) as fh:
        header = fh.readline()
    sep = next((d for d in _DELIMITERS if "," not in header and d in header), ",")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding=encoding)
    except pd.errors.ParserError as exc:
        raise ReadError(f"not a well-formed CSV file (text read as {encoding}): {exc}") from None
    return _Read(frame, encoding, issues=(_encoding_issue(encoding, why, frame),) if why else ())


def text_encoding(path: Path) -> tuple[str, str | None]:
    """(encoding, why it is not plain UTF-8 or None) of a text file: a byte-order mark decides, else
    UTF-8, else cp1252, else latin-1 (which decodes any byte). Read in chunks, never held whole."""
    with open(path, "rb") as fh:
        start = fh.read(4)
    for bom, encoding in _BOMS:
        if start.startswith(bom):
            return encoding, None if encoding == "utf-8-sig" else "byte-order mark"
    why = _first_undecodable(path, UTF8)
    if why is None:
        return UTF8, None
    return ("cp1252" if _first_undecodable(path, "cp1252") is None else "latin-1"), why


def _first_undecodable(path: Path, encoding: str) -> str | None:
    """Where `encoding` first fails on the file ('byte 0x92 at line 5 is not UTF-8'), or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            pending = decoder.getstate()[0]  # an unfinished character carried over (never a newline)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                line = lines + data.count(b"\n", 0, exc.start)
                return f"byte 0x{data[exc.start]:02x} at line {line} is not {encoding.upper()}"
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return f"the file ends inside a character at line {lines}, which is not {encoding.upper()}"
    return None


def _encoding_issue(encoding: str, why: str, frame: pd.DataFrame) -> ReadIssue:
    """The informational note that text was not read as UTF-8, with the first value that shows it."""
    example = _first_non_ascii(frame)
    return ReadIssue(f"text read as {encoding} ({why})", column=example[0] if example else None,
                     count=1 if example else 0, examples=(example[1],) if example else ())


def _first_non_ascii(frame: pd.DataFrame) -> tuple[str, str] | None:
    for position, col in enumerate(frame.columns):
        values = frame.iloc[:, position]
        if values.dtype != object:
            continue
        hit = values.map(lambda v: isinstance(v, str) and not v.isascii()).to_numpy(dtype=bool)
        if hit.any():
            row = int(np.argmax(hit))
            return str(col).strip().upper(), f"row {row + 1}: {str(col).strip().upper()}={values.iloc[row]!r}"
    return None


def duplicate_name_issues(frame: pd.DataFrame) -> list[ReadIssue]:
    """Columns whose names match an earlier one once stripped and upper-cased (`clean_frame` keeps the
    first). Differing subject ids block (the file's subjects are unknown); other differences are warned."""
    issues = []
    first: dict[str, int] = {}
    for position, col in enumerate(frame.columns):
        name = str(col).strip().upper()
        if name not in first:
            first[name] = position
            continue
        kept, dropped = frame.iloc[:, first[name]], frame.iloc[:, position]
        label = f"columns {frame.columns[first[name]]!r} and {col!r}"
        if clean_column(kept).equals(clean_column(dropped)):
            issues.append(ReadIssue(f"{label} differ only by case and hold the same values; the first is used",
                                    column=name))
        elif name == SUBJECT_ID:
            issues.append(ReadIssue(f"{label} differ only by case and hold different subject ids; the file cannot "
                                    "be read safely: rename or remove one", blocking=True, column=name,
                                    count=len(frame)))
        else:
            issues.append(ReadIssue(f"{label} differ only by case and hold different values; the first is used, "
                                    "the second ignored", column=name, count=len(frame)))
    return issues


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Upper-case names (the first of names equal but for case kept); bytes decoded; text stripped,
    empty text missing; IBM-float noise zeroed."""
    out = {}
    for position, col in enumerate(frame.columns):
        name = str(col).strip().upper()
        if name not in out:
            out[name] = clean_column(frame.iloc[:, position])
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
        return per_distinct(values, _clean_text)
    return values


def _clean_text(value):
    """One present value: bytes decoded, text stripped (empty text: missing), anything else as is."""
    if isinstance(value, (bytes, bytearray)):
        value = _decode(bytes(value))
    if isinstance(value, str):
        value = value.strip()
        return value if value else np.nan
    return value


def _decode(raw: bytes) -> str:
    """One SAS text value: UTF-8, else cp1252 (Windows exports), else latin-1 (which decodes any byte)."""
    try:
        return raw.decode(UTF8)
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
