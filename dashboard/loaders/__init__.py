"""Readers for real CDISC ADaM/SDTM exports, mapped onto the data model, with a validation report.

`load_dataset(paths)` reads a folder, a file or a list of files (.xpt, .sas7bdat, .csv, .parquet) of
ADaM or SDTM data, or a folder written by `dashboard.data.write_dataset`, and returns a validated
`TrialDataset` whose `report` holds every warning; errors raise `DatasetValidationError` naming the
file, column, rule and rows. `validate_path` returns the report instead of raising. Input files are
only ever opened for reading.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.dataset import TrialDataset, read_model_folder
from ..data.validation import DatasetValidationError, ValidationReport
from . import adam, sdtm, trial_design
from .detect import (ADAM_ROLES, SDTM_ROLES, TRIAL_DESIGN_ROLES, Detected, blocks_when_unreadable, data_files, detect,
                     is_adam_name, is_model_folder)
from .mapping import (ColumnMapping, apply_mapping, load_mapping, mapping_file_in, mapping_from_dict, missing_required,
                      suggest_export_mapping, suggest_mapping)
from .readers import log_read_issues, read_table
from .report import ERROR, WARNING, FindingLog, format_json, format_text

__all__ = ["load_dataset", "validate_path", "validate_cli", "ColumnMapping", "load_mapping", "DatasetValidationError"]


@dataclass
class LoadResult:
    """What one load produced: the dataset (None when errors block it), the report and the files read."""

    dataset: TrialDataset | None
    report: ValidationReport
    files: list[dict] = field(default_factory=list)


def load_dataset(paths, mapping=None) -> TrialDataset:
    """Load ADaM/SDTM files (or our own model folder) as a validated dataset; raises DatasetValidationError."""
    result = _load(paths, mapping)
    if result.dataset is None:
        raise DatasetValidationError(result.report.findings)
    return result.dataset


def validate_path(paths, mapping=None) -> ValidationReport:
    """The validation report of a folder/files (errors and warnings), without raising."""
    return _load(paths, mapping).report


def validate_cli(paths, as_json: bool = False, mapping=None) -> int:
    """`trial-dashboard validate`: print the report (text or JSON); 0 when the data load, 1 on errors."""
    try:
        result = _load(paths, mapping)
    except (FileNotFoundError, ValueError) as exc:
        print(f"trial-dashboard validate: {exc}", file=sys.stderr)
        return 2
    text = format_json(result.report, result.files) if as_json else format_text(result.report, result.files)
    print(text)
    return 0 if result.report.ok else 1


def _as_mapping(mapping) -> ColumnMapping:
    if mapping is None:
        return ColumnMapping()
    if isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, dict):
        return mapping_from_dict(mapping)
    return load_mapping(mapping)


def _load(paths, mapping=None) -> LoadResult:
    mapping = _as_mapping(mapping if mapping is not None else mapping_file_in(paths))
    if is_model_folder(paths):
        folder = paths[0] if isinstance(paths, (list, tuple)) else paths
        try:
            dataset = read_model_folder(folder)
        except DatasetValidationError as exc:
            return LoadResult(None, ValidationReport(exc.findings), [])
        files = [{"role": k, **v} for k, v in dataset.provenance.get("files", {}).items()]
        return LoadResult(dataset, dataset.report, files)
    log = FindingLog()
    detected: list[Detected] = []
    for path in data_files(paths):
        try:
            table = read_table(path)
        except Exception as exc:  # a corrupt or unreadable file is a finding, not a crash
            log.add(ERROR if blocks_when_unreadable(path) else WARNING, "files", None, f"cannot read file: {exc}",
                    source=path, count=0)
            continue
        detected.append(detect(table, mapping.role_of(path.name)))
    files = [{"path": str(d.table.path), "sha256": d.table.sha256, "format": d.table.fmt, "role": d.role or "ignored",
              "encoding": d.table.encoding} for d in detected]
    read = [d.table for d in detected]
    detected = apply_mapping(detected, mapping, log)  # raw exports: the tables the mapping builds (joins, recodes, dates)
    roles = _assign_roles(detected, log)
    design = {r: roles.pop(r) for r in TRIAL_DESIGN_ROLES if r in roles}
    log_read_issues(read, [t for d in roles.values() for t in (d.table, *d.origins)], log)
    tables = _renamed(roles, mapping, log)
    if log.has_errors:
        return LoadResult(None, ValidationReport(log.findings), files)
    if "adsl" in tables:
        standard, model = "ADaM", _from_adam(tables, log)
    else:
        standard, model = "SDTM", _from_sdtm(tables, log)
    if log.has_errors:
        return LoadResult(None, ValidationReport(log.findings), files)
    provenance = {
        "standard": standard,
        "files": {role: {"path": str(d.table.path), "sha256": d.table.sha256, "format": d.table.fmt}
                  for role, d in {**roles, **design}.items()},
    }
    subject_file = roles["adsl" if standard == "ADaM" else "dm"].table
    info = trial_design.trial_info(
        model["adsl"], {r: (d.table.frame, str(d.table.path)) for r, d in design.items()},
        trial_design.search_folders(paths, [d.table.path for d in roles.values()]), log,
        labels=subject_file.labels, labels_source=f"variable labels of {subject_file.name}")
    try:
        dataset = TrialDataset.create(model.pop("adsl"), cutoff=mapping.cutoff, info=info, provenance=provenance,
                                      warnings=log.findings, **model)
    except DatasetValidationError as exc:
        return LoadResult(None, ValidationReport(exc.findings), files)
    return LoadResult(dataset, dataset.report, files)


def _assign_roles(detected: list[Detected], log: FindingLog) -> dict[str, Detected]:
    """One file per role; ADaM wins over SDTM when both are present; the rest reported as ignored."""
    by_role: dict[str, list[Detected]] = {}
    for d in detected:
        by_role.setdefault(d.role or "", []).append(d)
    for d in by_role.pop("", []):
        kind = "an ADaM dataset the dashboard does not use" if is_adam_name(d.table) else d.reason
        log.warning("files", None, f"file ignored: {kind}", source=d.table.path, count=len(d.table.frame))
    standard = "ADaM" if "adsl" in by_role else ("SDTM" if "dm" in by_role else None)
    if standard is None:
        names = ", ".join(d.table.name for d in detected) or "none"
        log.error("files", None, f"no subject-level dataset found (ADSL for ADaM, DM for SDTM) among: {names}",
                  count=0, suggestion=suggest_export_mapping([d.table for d in detected]))
        return {}
    roles: dict[str, Detected] = {}
    for role, found in by_role.items():
        if role not in TRIAL_DESIGN_ROLES and (role in ADAM_ROLES) != (standard == "ADaM"):
            for d in found:
                log.warning("files", None, f"file ignored: {d.standard} dataset '{role}' in a {standard} load",
                            source=d.table.path, count=len(d.table.frame))
            continue
        if role.startswith("supp") and role[4:] not in SDTM_ROLES:
            log.warning("files", None, f"file ignored: supplemental qualifiers {role.upper()} of a dataset the "
                        "dashboard does not use", source=found[0].table.path, count=len(found[0].table.frame))
            continue
        if role not in ADAM_ROLES + SDTM_ROLES + TRIAL_DESIGN_ROLES and not role.startswith("supp"):
            continue
        if len(found) > 1:
            names = ", ".join(d.table.name for d in found)
            log.error("files", None, f"several files look like {role.upper()} ({names}); name the right one in "
                      "the mapping file", count=0,
                      suggestion="files:\n" + "\n".join(f"  {d.table.name}: {role}" for d in found[:1]))
            continue
        roles[role] = found[0]
    return roles


def _renamed(roles: dict[str, Detected], mapping: ColumnMapping, log: FindingLog) -> dict[str, tuple[pd.DataFrame, str]]:
    """Each role's frame with the mapping's renames applied and its required columns checked."""
    out = {}
    for role, d in roles.items():
        frame = d.table.frame
        renames = mapping.renames(role)
        absent = [src for src in renames if src not in frame.columns]
        for src in absent:
            log.error(role, renames[src], f"the mapping file names column {src}, which this file does not have "
                      f"(columns: {', '.join(frame.columns[:40])})", source=d.table.path, count=0)
        frame = frame.drop(columns=[v for k, v in renames.items() if k in frame.columns and v in frame.columns])
        frame = frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns})
        missing = missing_required(role, frame.columns)
        if missing:
            snippet = suggest_mapping(role, missing, frame.columns, d.table.labels)
            for options in missing:
                log.error(role, options[0], f"required column {' or '.join(options)} is missing "
                          f"(file identified as {role.upper()} by {d.reason})", source=d.table.path,
                          count=len(frame), suggestion=snippet)
        out[role] = (frame, str(d.table.path))
    return out


def _from_adam(tables, log) -> dict[str, pd.DataFrame | None]:
    frame, src = tables["adsl"]
    adsl = adam.adsl_from_adam(frame, log, src)
    model = {"adsl": adsl}
    builders = {
        "adae": lambda f, s: adam.adae_from_adam(f, adsl, log, s),
        "adrs": lambda f, s: adam.adrs_from_adam(f, adsl, log, s),
        "adtte": lambda f, s: adam.adtte_from_adam(f, log, s),
        "adex": lambda f, s: adam.adex_from_adam(f, adsl, log, s),
        "sites": lambda f, s: adam.sites_from_table(f, log, s),
    }
    for name, build in builders.items():
        model[name] = build(*tables[name]) if name in tables else None
    return model


def _from_sdtm(tables, log) -> dict[str, pd.DataFrame | None]:
    tables = sdtm.with_supplements(tables, log)
    dm, dm_source = tables["dm"]
    adsl = sdtm.adsl_from_sdtm(tables, log)
    model = {"adsl": adsl, "sites": None}
    model["adae"] = sdtm.adae_from_sdtm(tables["ae"][0], adsl, dm, log, tables["ae"][1]) if "ae" in tables else None
    model["adrs"] = sdtm.adrs_from_sdtm(tables["rs"][0], dm, log, tables["rs"][1]) if "rs" in tables else None
    model["adex"] = sdtm.adex_from_sdtm(tables["ex"][0], dm, log, tables["ex"][1]) if "ex" in tables else None
    model["adtte"] = sdtm.os_from_adsl(adsl, log, dm_source)
    return model

