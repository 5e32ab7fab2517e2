"""The immutable trial dataset every view reads: ADaM-shaped tables, data cut date and provenance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from ..config import TrialInfo, generic_trial_info
from .rules import ROW_LEVEL, TABLE_LEFT_OUT
from .schema import TABLE_SPECS, pandera_schema
from .validation import (QUARANTINE_COLUMNS, DatasetValidationError, FindingLog, ValidationReport, conform_to_spec,
                         cut_rules, drop_duplicates, latest_plausible_date, linked_record_rules, no_randomized_finding,
                         site_rules, subject_date_rules)

OPTIONAL_TABLES = ("sites", "adrs", "adae", "adtte", "adex")
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "data" / "nct02241018"
METADATA_FILE = "metadata.json"
FORMATS = ("parquet", "csv", "xpt", "dataset-json")
EXTENSIONS = {"parquet": "parquet", "csv": "csv", "xpt": "xpt", "dataset-json": "json"}
STATED_CUT = "stated with the data"
# The cut of a simulated trial: any date, future ones included (a simulation may run past today).
SIMULATED_CUT = "set by the simulation"
LATEST_DATE_CUT = "latest date in the data"
# metadata.json key: {file name: sha256} of Parquet files written from a dataset validation found
# nothing in; files that still match are read without validating them again.
VALIDATED = "validated_sha256"


@dataclass(frozen=True)
class TrialDataset:
    """One trial's tables (pandas DataFrames, never modified), its data cut date and provenance.

    Build it with `TrialDataset.create(...)`, which validates; tables a trial lacks are None and
    the views that need them explain their absence. Rows that broke a row-level rule are not in the
    tables: `quarantine` lists them (and values set to missing), `left_out(table)` counts them.
    """

    adsl: pd.DataFrame
    cutoff: pd.Timestamp
    info: TrialInfo
    provenance: Mapping[str, object] = field(default_factory=dict)
    sites: pd.DataFrame | None = None
    adrs: pd.DataFrame | None = None
    adae: pd.DataFrame | None = None
    adtte: pd.DataFrame | None = None
    adex: pd.DataFrame | None = None
    report: ValidationReport = field(default_factory=ValidationReport, compare=False)
    quarantine: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS}), compare=False)
    left_out_counts: Mapping[str, int] = field(default_factory=dict, compare=False)

    @classmethod
    def create(
        cls,
        adsl: pd.DataFrame,
        *,
        cutoff=None,
        cutoff_source: str | None = None,
        cutoff_candidates=(),
        info: TrialInfo | None = None,
        provenance: Mapping[str, object] | None = None,
        log: FindingLog | None = None,
        sources: Mapping[str, str] | None = None,
        **tables: pd.DataFrame | None,
    ) -> "TrialDataset":
        """Validate and coerce the tables, leaving out rows that break row-level rules.

        The data cut is the first plausible of `cutoff` (described by `cutoff_source`) and
        `cutoff_candidates` ((date, source) pairs), else the latest plausible date in the data.
        `log` carries the loader's findings and quarantine; `sources` names each table's file.
        Raises DatasetValidationError on a blocking finding. An empty trial (e.g. the synthetic
        trial cut before anyone was randomized) is allowed here; the loaders refuse it with
        `require_randomized`, as no dashboard can be built from it.
        """
        unknown = set(tables) - set(OPTIONAL_TABLES)
        if unknown:
            raise TypeError(f"unknown tables {sorted(unknown)}; expected {OPTIONAL_TABLES}")
        log = log.copy() if log is not None else FindingLog()
        provenance = dict(provenance or {})
        files = provenance.get("files") or {}
        sources = {**{n: str(f["path"]) for n, f in files.items() if isinstance(f, Mapping) and "path" in f},
                   **dict(sources or {})}
        all_subjects = set(adsl["USUBJID"].dropna().astype(str)) if "USUBJID" in adsl.columns else set()
        model: dict[str, pd.DataFrame | None] = {}
        for name, df in {"adsl": adsl, **tables}.items():
            checked = None if df is None else conform_to_spec(name, df, log, sources.get(name))
            model[name] = None if checked is None else drop_duplicates(name, checked, log, sources.get(name))
        if log.has_errors:
            raise DatasetValidationError(log.findings)
        model["adsl"] = subject_date_rules(model["adsl"], log, sources.get("adsl"))
        present = linked_record_rules({k: v for k, v in model.items() if v is not None}, all_subjects, log, sources)
        candidates = ([(cutoff, cutoff_source or STATED_CUT)] if cutoff is not None else []) + list(cutoff_candidates)
        cut, source, outliers = _data_cut(candidates, present, log)
        present = cut_rules(present, cut, log, sources, implausible=outliers)
        present = linked_record_rules(present, all_subjects, log, sources)  # subjects the cut left out
        site_rules(present, log, sources)
        final = {name: _final_check(name, df, log, sources.get(name)) for name, df in present.items()}
        if final["adsl"] is None:
            raise DatasetValidationError(log.findings)
        if info is None:
            adsl_final = final["adsl"]
            study = str(adsl_final["STUDYID"].iloc[0]) if len(adsl_final) else "unknown"
            info = generic_trial_info(study, _randomized_arms(adsl_final))
        provenance["cutoff_source"] = source
        return cls(
            adsl=final.pop("adsl"),
            cutoff=cut,
            info=info,
            provenance=MappingProxyType(provenance),
            report=log.report(),
            quarantine=log.quarantine(),
            left_out_counts=MappingProxyType(dict(log.left_out_counts)),
            **{name: final.get(name) for name in OPTIONAL_TABLES},
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables this dataset has, by model name."""
        out = {"adsl": self.adsl}
        for name in OPTIONAL_TABLES:
            df = getattr(self, name)
            if df is not None:
                out[name] = df
        return out

    def has(self, table: str) -> bool:
        """Whether the dataset has a non-empty table of that name."""
        df = getattr(self, table)
        return df is not None and len(df) > 0

    def left_out(self, table: str | None = None) -> int:
        """How many rows of a table (of every table when None) a row-level rule left out."""
        if table is None:
            return sum(self.left_out_counts.values())
        return int(self.left_out_counts.get(table, 0))

    def subject_findings(self, usubjid: str) -> pd.DataFrame:
        """The quarantine records of one subject (for a patient profile)."""
        return self.quarantine.loc[self.quarantine["USUBJID"] == str(usubjid)].reset_index(drop=True)

    @property
    def cutoff_source(self) -> str:
        """Where the data cut came from (metadata, a mapping file, a cut column or the latest date)."""
        return str(self.provenance.get("cutoff_source", STATED_CUT))

    @property
    def randomized(self) -> pd.DataFrame:
        """ADSL rows of randomized subjects."""
        return self.adsl[self.adsl["RANDFL"] == "Y"]

    @cached_property
    def _arm_colors(self) -> Mapping[str, str]:
        """Colour per randomized arm in protocol order: ADSL is scanned once per dataset (it never changes)."""
        return MappingProxyType(self.info.arm_colors(self.randomized["ARM"].unique()))

    @property
    def arms(self) -> list[str]:
        """Randomized arms in protocol order (unknown arms after, alphabetically)."""
        return list(self._arm_colors)

    @property
    def arm_colors(self) -> dict[str, str]:
        """Colour per randomized arm, in protocol order (a new dict: callers may change it)."""
        return dict(self._arm_colors)

    def provenance_text(self) -> str:
        """One line saying where the data and the data cut came from, for headers and exports."""
        p = self.provenance
        if p.get("generator"):
            text = (f"Synthetic trial: generator {p['generator']} v{p.get('generator_version')}, seed {p.get('seed')}, "
                    f"{p.get('subjects')} subjects")
        elif p.get("files"):
            text = "Loaded from " + ", ".join(f"{Path(str(f['path'])).name} (sha256 {str(f['sha256'])[:8]})"
                                             for f in p["files"].values())
        else:
            text = "Source not recorded"
        return f"{text} · cut source: {self.cutoff_source}"

    def with_info(self, info: TrialInfo) -> "TrialDataset":
        return replace(self, info=info)


def require_randomized(dataset: TrialDataset, source=None) -> TrialDataset:
    """The dataset when a dashboard can be built from it; raises DatasetValidationError (blocking
    `no-randomized-subjects`) when ADSL has no rows or nobody randomized is left."""
    log = FindingLog(list(dataset.report.findings), [], dict(dataset.left_out_counts))
    no_randomized_finding(dataset.adsl, log, source)
    if log.has_errors:
        raise DatasetValidationError(log.findings)
    return dataset


def _data_cut(candidates, tables, log: FindingLog) -> tuple[pd.Timestamp, str, bool]:
    """(cut, where it came from, whether dates beyond it are outliers): the first plausible stated
    cut, else the latest plausible date in the data (outliers reported by `cut_rules`)."""
    today = pd.Timestamp.today().normalize()
    for value, source in candidates:
        try:
            stamp = pd.Timestamp(value).normalize()
        except (ValueError, TypeError):
            stamp = None
        if stamp is None or pd.isna(stamp) or (stamp > today and source != SIMULATED_CUT):
            why = "is not a date" if stamp is None or pd.isna(stamp) else "is in the future"
            log.warning("adsl", None, f"data cut {value!r} from {source} {why}; not used", count=0,
                        rule_id="cut-implausible")
            continue
        return stamp, source, False
    latest, outliers = latest_plausible_date(tables, today)
    if latest is None:
        return today, "no dates in the data: today", False
    note = f", {outliers} implausible date{'s' if outliers != 1 else ''} left out" if outliers else ""
    return latest, LATEST_DATE_CUT + note, outliers > 0


def _final_check(name: str, df: pd.DataFrame, log: FindingLog, source) -> pd.DataFrame | None:
    """The table through its pandera schema (types exact); a failure here is named, never a traceback."""
    try:
        return pandera_schema(name).validate(df)
    except Exception as exc:  # every rule ran before: reaching this is a loader bug, reported with the file
        first_line = _first_line(exc)
        if name == "adsl":
            log.error(name, None, f"schema check failed after cleaning: {first_line}", source=source, count=len(df),
                      rule_id="loader-failure")
        else:
            log.add(ROW_LEVEL, name, None, f"schema check failed after cleaning: {first_line}; dataset left out",
                    source=source, count=len(df), rule_id="table-unusable", action=TABLE_LEFT_OUT)
        return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_dataset(dataset: TrialDataset, out_dir, fmt: str = "parquet", validated: bool = False) -> list[Path]:
    """Write one file per table (`adsl.parquet`, ...) plus `metadata.json`; returns the paths.

    `validated=True` says the caller has just built `dataset` with `TrialDataset.create`: Parquet files of
    a dataset without findings then get their sha256 recorded, so reading them back skips validation.
    Never pass it for a dataset changed since (e.g. with `dataclasses.replace`): its tables were not checked."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in dataset.tables().items():
        path = out / f"{name}.{EXTENSIONS[fmt]}"
        if fmt == "parquet":
            df.to_parquet(path, index=False)
        elif fmt == "csv":
            frame = df.copy()
            for col in frame.columns:
                if pd.api.types.is_datetime64_any_dtype(frame[col]):
                    frame[col] = frame[col].dt.strftime("%Y-%m-%d")
            frame.to_csv(path, index=False)
        elif fmt == "dataset-json":
            from ..loaders.dataset_json import write_dataset_json

            write_dataset_json(df, path, name.upper(), _column_labels(name, df.columns), TABLE_SPECS[name].label)
        else:
            _write_xpt(df, path, name)
        paths.append(path)
    meta = {
        "cutoff": dataset.cutoff.date().isoformat(),
        "trial": dataset.info.as_dict(),
        "provenance": {k: v for k, v in dataset.provenance.items() if k != "files"},
    }
    if validated and fmt == "parquet" and not dataset.report.findings:
        # nothing was left out or changed: these files hold exactly what passed validation
        meta[VALIDATED] = {path.name: file_sha256(path) for path in paths}
    meta_path = out / METADATA_FILE
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return [*paths, meta_path]


def _write_xpt(df: pd.DataFrame, path: Path, name: str) -> None:
    import pyreadstat

    frame = df.copy()
    formats = {}
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.date
            formats[col] = "DATE9."
        elif isinstance(frame[col].dtype, pd.StringDtype):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
        elif isinstance(frame[col].dtype, pd.Int64Dtype):
            frame[col] = frame[col].astype("float64")
    labels = [label[:40] for label in _column_labels(name, frame.columns).values()]
    pyreadstat.write_xport(frame, str(path), file_label=name.upper(), column_labels=labels,
                           table_name=name.upper()[:8], variable_format=formats, file_format_version=5)


def _column_labels(name: str, columns) -> dict[str, str]:
    """{column: label} from the table's spec (a column outside the spec is its own label)."""
    spec = TABLE_SPECS[name]
    return {c: spec.column(c).label if c in spec.column_names else c for c in columns}


def read_model_folder(folder) -> TrialDataset:
    """Read a folder written by `write_dataset` (any format) back into a validated dataset.

    A broken metadata.json or an unreadable optional table is a finding, not an exception; an
    unreadable or absent ADSL, or one with nobody randomized, raises DatasetValidationError.
    Parquet files unchanged since `write_dataset` recorded them as validated (sha256 in
    metadata.json) are not validated again.
    """
    folder = Path(folder)
    log = FindingLog()
    meta = _read_metadata(folder / METADATA_FILE, log)
    frames: dict[str, pd.DataFrame | None] = {}
    files = {}
    for name in TABLE_SPECS:
        frames[name] = None
        path = next((folder / f"{name}.{EXTENSIONS[fmt]}" for fmt in FORMATS
                     if (folder / f"{name}.{EXTENSIONS[fmt]}").exists()), None)
        if path is None:
            continue
        try:
            files[name] = {"path": str(path), "sha256": file_sha256(path), "format": path.suffix.lstrip(".")}
            frames[name] = _read_model_file(path)
        except Exception as exc:  # a corrupt file is a finding, never a traceback
            log.add(ROW_LEVEL, name, None, f"cannot read file: {type(exc).__name__}: {_first_line(exc)}",
                    source=path, count=0, rule_id="file-unreadable", action=TABLE_LEFT_OUT)
    adsl = frames.pop("adsl")
    if adsl is None:
        log.error("adsl", None, "no readable subject-level file (adsl.parquet, adsl.csv, adsl.xpt or adsl.json)",
                  source=folder, count=0, rule_id="no-subject-table")
        raise DatasetValidationError(log.findings)
    extra = meta.get("provenance")
    provenance = {**(extra if isinstance(extra, dict) else {}), "files": files}
    info = _trial_info(meta, folder / METADATA_FILE, log)
    if _validated_when_written(meta, files, log):
        provenance["cutoff_source"] = METADATA_FILE
        dataset = TrialDataset(adsl=adsl, cutoff=pd.Timestamp(meta["cutoff"]).normalize(),
                               info=info or generic_trial_info(str(adsl["STUDYID"].iloc[0]), _randomized_arms(adsl)),
                               provenance=MappingProxyType(provenance), **frames)
    else:
        dataset = TrialDataset.create(adsl, cutoff=meta.get("cutoff"), cutoff_source=METADATA_FILE, info=info,
                                      provenance=provenance, log=log, **frames)
    return require_randomized(dataset, files["adsl"]["path"])


def _validated_when_written(meta: dict, files: dict, log: FindingLog) -> bool:
    """Whether every table file is Parquet that `write_dataset` recorded as validated, unchanged since
    (same sha256), with a plausible stated data cut and nothing found while reading the folder."""
    recorded = meta.get(VALIDATED)
    if not isinstance(recorded, dict) or log.findings or not files:
        return False
    try:
        cut = pd.Timestamp(meta.get("cutoff"))
    except (ValueError, TypeError):
        return False
    if pd.isna(cut) or cut.normalize() > pd.Timestamp.today().normalize():
        return False
    return all(f["format"] == "parquet" and recorded.get(Path(f["path"]).name) == f["sha256"] for f in files.values())


def _randomized_arms(adsl: pd.DataFrame) -> list[str]:
    return sorted(adsl.loc[adsl["RANDFL"] == "Y", "ARM"].unique())


def _read_metadata(path: Path, log: FindingLog) -> dict:
    """metadata.json as a dict ({} with a finding when it is unreadable, not JSON or lacks the cut)."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("files", None, f"not valid JSON ({_first_line(exc)}); ignored, the data cut is taken from the data",
                    source=path, count=0, rule_id="metadata-unreadable")
        return {}
    if not isinstance(meta, dict):
        log.warning("files", None, "not a JSON object; ignored, the data cut is taken from the data", source=path,
                    count=0, rule_id="metadata-unreadable")
        return {}
    if meta.get("cutoff") is None:
        log.warning("files", "cutoff", "no data cut ('cutoff'); the data cut is taken from the data", source=path,
                    count=0, rule_id="metadata-unreadable")
    return meta


def _trial_info(meta: dict, path: Path, log: FindingLog) -> TrialInfo | None:
    """The trial's identity recorded in metadata.json (None, with a finding, when it is unreadable)."""
    if "trial" not in meta:
        return None
    try:
        return TrialInfo.from_dict(meta["trial"], source=METADATA_FILE)
    except (TypeError, ValueError) as exc:
        log.warning("files", "trial", f"trial metadata unreadable ({_first_line(exc)}); generic trial details used",
                    source=path, count=0, rule_id="metadata-unreadable")
        return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_model_file(path: Path) -> pd.DataFrame:
    """One model file as stored (types are coerced and checked by `TrialDataset.create`)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    if path.suffix == ".json":
        from ..loaders.dataset_json import read_dataset_json

        return read_dataset_json(path).frame
    import pyreadstat

    df, _ = pyreadstat.read_xport(str(path))
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].replace("", pd.NA)
    return df


def load_bundled() -> TrialDataset:
    """The committed synthetic NCT02241018 trial (default seed, full follow-up)."""
    return read_model_folder(BUNDLED_DIR)
