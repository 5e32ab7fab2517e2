"""The immutable trial dataset every view reads: ADaM-shaped tables, data cut date and provenance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from ..config import TrialInfo, generic_trial_info
from .schema import TABLE_SPECS
from .validation import ValidationReport, coerce_table, cross_table_findings

OPTIONAL_TABLES = ("sites", "adrs", "adae", "adtte", "adex")
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "data" / "nct02241018"
METADATA_FILE = "metadata.json"
FORMATS = ("parquet", "csv", "xpt", "dataset-json")
EXTENSIONS = {"parquet": "parquet", "csv": "csv", "xpt": "xpt", "dataset-json": "json"}


@dataclass(frozen=True)
class TrialDataset:
    """One trial's tables (pandas DataFrames, never modified), its data cut date and provenance.

    Build it with `TrialDataset.create(...)`, which validates; tables a trial lacks are None and
    the views that need them explain their absence.
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

    @classmethod
    def create(
        cls,
        adsl: pd.DataFrame,
        *,
        cutoff,
        info: TrialInfo | None = None,
        provenance: Mapping[str, object] | None = None,
        warnings=(),
        **tables: pd.DataFrame | None,
    ) -> "TrialDataset":
        """Validate and coerce the tables; raises DatasetValidationError naming every broken rule."""
        unknown = set(tables) - set(OPTIONAL_TABLES)
        if unknown:
            raise TypeError(f"unknown tables {sorted(unknown)}; expected {OPTIONAL_TABLES}")
        cutoff = pd.Timestamp(cutoff).normalize() if cutoff is not None else None
        findings = list(warnings)
        coerced = {}
        for name, df in {"adsl": adsl, **tables}.items():
            if df is None:
                coerced[name] = None
                continue
            source = (provenance or {}).get("files", {}).get(name, {}).get("path") if provenance else None
            new, found = coerce_table(name, df.copy(), source)
            findings += found
            coerced[name] = new
        report = ValidationReport(findings)
        report.raise_for_errors()
        findings += cross_table_findings(coerced, cutoff)
        report = ValidationReport(findings)
        report.raise_for_errors()
        if cutoff is None:
            cutoff = _latest_date(coerced)
        if info is None:
            study = str(coerced["adsl"]["STUDYID"].iloc[0]) if len(coerced["adsl"]) else "unknown"
            arms = sorted(coerced["adsl"].loc[coerced["adsl"]["RANDFL"] == "Y", "ARM"].unique())
            info = generic_trial_info(study, arms)
        return cls(
            adsl=coerced.pop("adsl"),
            cutoff=cutoff,
            info=info,
            provenance=MappingProxyType(dict(provenance or {})),
            report=report,
            **coerced,
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

    @property
    def randomized(self) -> pd.DataFrame:
        """ADSL rows of randomized subjects."""
        return self.adsl[self.adsl["RANDFL"] == "Y"]

    @property
    def arms(self) -> list[str]:
        """Randomized arms in protocol order (unknown arms after, alphabetically)."""
        return list(self.info.arm_colors(self.randomized["ARM"].unique()))

    @property
    def arm_colors(self) -> dict[str, str]:
        return self.info.arm_colors(self.randomized["ARM"].unique())

    def provenance_text(self) -> str:
        """One line saying where the data came from, for headers and exports."""
        p = self.provenance
        if p.get("generator"):
            return f"Synthetic trial: generator {p['generator']} v{p.get('generator_version')}, seed {p.get('seed')}, {p.get('subjects')} subjects"
        files = p.get("files") or {}
        if files:
            names = ", ".join(f"{Path(str(f['path'])).name} (sha256 {str(f['sha256'])[:8]})" for f in files.values())
            return f"Loaded from {names}"
        return "Source not recorded"

    def with_info(self, info: TrialInfo) -> "TrialDataset":
        return replace(self, info=info)


def _latest_date(tables: dict[str, pd.DataFrame | None]) -> pd.Timestamp:
    latest = pd.Timestamp.min
    for name, df in tables.items():
        if df is None or name == "sites":
            continue
        for spec in TABLE_SPECS[name].columns:
            if spec.dtype == "date" and spec.name in df.columns and df[spec.name].notna().any():
                latest = max(latest, df[spec.name].max())
    return latest.normalize()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_dataset(dataset: TrialDataset, out_dir, fmt: str = "parquet") -> list[Path]:
    """Write one file per table (`adsl.parquet`, ...) plus `metadata.json`; returns the paths."""
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
    """Read a folder written by `write_dataset` (any format) back into a validated dataset."""
    folder = Path(folder)
    meta = json.loads((folder / METADATA_FILE).read_text())
    frames: dict[str, pd.DataFrame | None] = {}
    files = {}
    for name in TABLE_SPECS:
        frames[name] = None
        for fmt in FORMATS:
            path = folder / f"{name}.{EXTENSIONS[fmt]}"
            if path.exists():
                frames[name] = _read_model_file(path, name)
                files[name] = {"path": str(path), "sha256": file_sha256(path)}
                break
    provenance = {**meta.get("provenance", {}), "files": files}
    info = TrialInfo.from_dict(meta["trial"], source=METADATA_FILE) if "trial" in meta else None
    adsl = frames.pop("adsl")
    if adsl is None:
        raise FileNotFoundError(f"{folder}: no adsl file (adsl.parquet, adsl.csv, adsl.xpt or adsl.json)")
    return TrialDataset.create(adsl, cutoff=meta["cutoff"], info=info, provenance=provenance, **frames)


def _read_model_file(path: Path, name: str) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    elif path.suffix == ".json":
        from ..loaders.dataset_json import read_dataset_json

        df = read_dataset_json(path).frame
    else:
        import pyreadstat

        df, _ = pyreadstat.read_xport(str(path))
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].replace("", pd.NA)
    for spec in TABLE_SPECS[name].columns:
        if spec.name in df.columns and spec.dtype == "date":
            df[spec.name] = pd.to_datetime(df[spec.name], errors="raise")
        elif spec.name in df.columns and spec.dtype in ("int", "float"):
            df[spec.name] = pd.to_numeric(df[spec.name], errors="raise")
    return df


def load_bundled() -> TrialDataset:
    """The committed synthetic NCT02241018 trial (default seed, full follow-up)."""
    return read_model_folder(BUNDLED_DIR)
