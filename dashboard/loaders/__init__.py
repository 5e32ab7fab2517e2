"""Readers for real CDISC ADaM/SDTM exports, mapped onto the data model, with a validation report.

`load_dataset(paths)` reads a folder, a file or a list of files (.xpt, .sas7bdat, .csv, .parquet) of
ADaM or SDTM data, or a folder written by `dashboard.model.write_dataset`, and returns a validated
`TrialDataset` whose `report` holds every finding and whose `quarantine` holds the rows left out
by row-level rules; blocking findings raise `DatasetValidationError` naming the file, column, rule
and rows. `validate_path` returns the report instead of raising. Input files are only ever opened
for reading.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..model.dataset import TrialDataset, read_model_folder, require_randomized
from ..model.rules import ROW_LEVEL, TABLE_LEFT_OUT
from ..model.validation import DatasetValidationError, ValidationReport
from . import adam, sdtm, trial_design
from .cuts import cut_folders
from .dates import to_dates
from .detect import (ADAM_ROLES, SDTM_ROLES, TRIAL_DESIGN_ROLES, Detected, blocks_when_unreadable, data_files, detect,
                     is_adam_name, is_model_folder)
from .mapping import (ColumnMapping, apply_mapping, load_mapping, mapping_file_in, mapping_from_dict, missing_required,
                      suggest_export_mapping, suggest_mapping)
from .readers import log_read_issues, read_table
from .report import FindingLog, format_json, format_text, passes

__all__ = ["load_dataset", "validate_path", "validate_cli", "ColumnMapping", "load_mapping", "DatasetValidationError"]

SUBJECT_ROLES = ("adsl", "dm")
# Subject-level columns holding the data cut (ADaM DCUTDT, or its ISO 8601 text).
CUT_COLUMNS = ("DCUTDT", "DCUTDTC")


@dataclass
class LoadResult:
    """What one load produced: the dataset (None when blocked), the report and the files read."""

    dataset: TrialDataset | None
    report: ValidationReport
    files: list[dict] = field(default_factory=list)


def load_dataset(paths, mapping=None) -> TrialDataset:
    """Load ADaM/SDTM files (or our own model folder) as a validated dataset; raises
    DatasetValidationError when a blocking finding stops it, FileNotFoundError for a missing path."""
    result = _load(paths, _mapping_for(paths, mapping))
    if result.dataset is None:
        raise DatasetValidationError(result.report.findings)
    return result.dataset


def validate_path(paths, mapping=None) -> ValidationReport:
    """The validation report of a folder/files (every finding), without raising for data problems."""
    return _load(paths, _mapping_for(paths, mapping)).report


def validate_cli(paths, as_json: bool = False, mapping=None, strict: bool = False) -> int:
    """`trial-dashboard validate`: print the report; 0 when the trial loads, 1 when blocked (with
    `strict`: also on any finding), 2 on a usage error (missing path, bad mapping file)."""
    try:
        mapping = _mapping_for(paths, mapping)
        data_files(paths)
    except (OSError, ValueError) as exc:
        print(f"trial-dashboard validate: {exc}", file=sys.stderr)
        return 2
    result = _load(paths, mapping)
    fmt = format_json if as_json else format_text
    print(fmt(result.report, result.files, result.dataset, strict))
    return 0 if passes(result.report, strict) else 1


def _mapping_for(paths, mapping) -> ColumnMapping:
    """The mapping given, else the mapping file sitting in the data folder, else none."""
    return _as_mapping(mapping if mapping is not None else mapping_file_in(paths))


def _as_mapping(mapping) -> ColumnMapping:
    if mapping is None:
        return ColumnMapping()
    if isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, dict):
        return mapping_from_dict(mapping)
    return load_mapping(mapping)


def _load(paths, mapping: ColumnMapping) -> LoadResult:
    """Read, detect, map and validate; raises only FileNotFoundError (a path that does not exist)."""
    series = cut_folders(paths)
    if series:  # a folder of data cuts loads as its latest cut (`cuts.load_series` reads them all)
        paths = series[-1][1]
    files = data_files(paths)
    try:
        if is_model_folder(paths):
            return _load_model_folder(paths[0] if isinstance(paths, (list, tuple)) else paths)
        return _load_files(paths, files, mapping)
    except Exception as exc:  # never a traceback: an unexpected failure is a blocking finding naming the input
        log = FindingLog()
        names = ", ".join(str(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths))
        log.error("files", None, f"unexpected error: {type(exc).__name__}: {exc}", source=names, count=0,
                  rule_id="loader-failure")
        return LoadResult(None, log.report(), [])


def _load_model_folder(folder) -> LoadResult:
    try:
        dataset = read_model_folder(folder)
    except DatasetValidationError as exc:
        return LoadResult(None, ValidationReport(exc.findings), [])
    files = [{"role": k, **v} for k, v in dataset.provenance.get("files", {}).items()]
    return LoadResult(dataset, dataset.report, files)


def _load_files(paths, files: list[Path], mapping: ColumnMapping) -> LoadResult:
    """Load the data `files` found in `paths` (the folder or files given)."""
    log = FindingLog()
    detected: list[Detected] = []
    unreadable: list[Path] = []
    for path in files:
        try:
            detected.append(detect(read_table(path), mapping.role_of(path.name)))
        except Exception as exc:  # a corrupt or unreadable file is a finding, not a crash
            _unreadable(path, exc, log)
            unreadable.append(path)
    read_files = [{"path": str(d.table.path), "sha256": d.table.sha256, "format": d.table.fmt,
                   "role": d.role or "ignored", "encoding": d.table.encoding} for d in detected]
    read = [d.table for d in detected]
    detected = apply_mapping(detected, mapping, log)  # raw exports: the tables the mapping builds (joins, recodes, dates)
    roles = _assign_roles(detected, unreadable, log)
    design = {r: roles.pop(r) for r in TRIAL_DESIGN_ROLES if r in roles}
    _leave_out_damaged(roles, log)
    log_read_issues(read, [t for d in roles.values() for t in (d.table, *d.origins)], log)
    tables = _renamed(roles, mapping, log)
    if log.has_errors:
        return LoadResult(None, log.report(), read_files)
    standard = "ADaM" if "adsl" in tables else "SDTM"
    subject_frame, subject_source = tables["adsl" if standard == "ADaM" else "dm"]
    try:
        model = _from_adam(tables, log) if standard == "ADaM" else _from_sdtm(tables, log)
    except Exception as exc:  # the subject-level derivation failed: blocking, named with its file
        log.error("adsl", None, f"could not be processed: {type(exc).__name__}: {exc}", source=subject_source,
                  count=len(subject_frame), rule_id="loader-failure")
    if log.has_errors:
        return LoadResult(None, log.report(), read_files)
    provenance = {
        "standard": standard,
        "files": {role: {"path": str(d.table.path), "sha256": d.table.sha256, "format": d.table.fmt}
                  for role, d in {**roles, **design}.items() if role in tables or role in design},
    }
    info = trial_design.trial_info(
        model["adsl"], {r: (d.table.frame, str(d.table.path)) for r, d in design.items()},
        trial_design.search_folders(paths, [d.table.path for d in roles.values()]), log,
        labels={role: d.table.labels for role, d in roles.items()})
    candidates = _cut_candidates(mapping, subject_frame, subject_source)
    try:
        dataset = require_randomized(TrialDataset.create(model.pop("adsl"), cutoff_candidates=candidates, info=info,
                                                         provenance=provenance, log=log, sources=_model_sources(tables),
                                                         **model),
                                     subject_source)
    except DatasetValidationError as exc:
        return LoadResult(None, ValidationReport(exc.findings), read_files)
    return LoadResult(dataset, dataset.report, read_files)


def _unreadable(path: Path, exc: Exception, log: FindingLog) -> None:
    """A file that cannot be read: its dataset is left out (the subject-level one blocks, through
    `no-subject-table`); a file whose name announces no dataset the dashboard uses is only noted."""
    rule = f"cannot read file: {type(exc).__name__}: {exc}"
    if blocks_when_unreadable(path):
        log.add(ROW_LEVEL, "files", None, rule, source=path, count=0, rule_id="file-unreadable", action=TABLE_LEFT_OUT)
    else:
        log.warning("files", None, f"{rule} (a file the dashboard does not use)", source=path, count=0,
                    rule_id="file-ignored")


def _leave_out_damaged(roles: dict[str, Detected], log: FindingLog) -> None:
    """Leave out an optional dataset whose file could not be read whole (truncated, ambiguous subject
    ids); the read issue itself is reported by `log_read_issues`, blocking for the subject-level file."""
    for role, d in list(roles.items()):
        damaged = [i.rule for t in (d.table, *d.origins) for i in t.issues if i.blocking]
        if damaged and role not in SUBJECT_ROLES:
            log.add(ROW_LEVEL, role, None, f"the file could not be read whole ({damaged[0]}); the dataset is left out",
                    source=d.table.path, count=len(d.table.frame), rule_id="file-unreadable", action=TABLE_LEFT_OUT)
            del roles[role]


def _model_sources(tables) -> dict[str, str]:
    """The file each model table comes from (SDTM: ADSL and the derived ADTTE from DM, ADAE from AE, ...)."""
    if "dm" not in tables:
        return {role: src for role, (_, src) in tables.items() if role in ADAM_ROLES}
    sdtm_model = {"dm": "adsl", "ae": "adae", "rs": "adrs", "ex": "adex"}
    out = {sdtm_model[role]: src for role, (_, src) in tables.items() if role in sdtm_model}
    return {**out, "adtte": tables["dm"][1]}


def _cut_candidates(mapping: ColumnMapping, subject: pd.DataFrame, source: str) -> list[tuple[object, str]]:
    """The data cut sources in order: the mapping file's `cutoff`, then a cut column of ADSL."""
    out = []
    if mapping.cutoff is not None:
        out.append((mapping.cutoff, f"mapping file {mapping.source or ''}".strip()))
    for column in CUT_COLUMNS:
        if column in subject.columns:
            dates = to_dates(subject[column]).dates.dropna()
            if len(dates):
                out.append((dates.mode().iloc[0], f"column {column} of {Path(source).name}"))
    return out


def _assign_roles(detected: list[Detected], unreadable: list[Path], log: FindingLog) -> dict[str, Detected]:
    """One file per role; ADaM wins over SDTM when both are present; the rest reported as ignored."""
    by_role: dict[str, list[Detected]] = {}
    for d in detected:
        by_role.setdefault(d.role or "", []).append(d)
    for d in by_role.pop("", []):
        kind = "an ADaM dataset the dashboard does not use" if is_adam_name(d.table) else d.reason
        log.warning("files", None, f"file ignored: {kind}", source=d.table.path, count=len(d.table.frame),
                    rule_id="file-ignored")
    standard = "ADaM" if "adsl" in by_role else ("SDTM" if "dm" in by_role else None)
    if standard is None:
        names = ", ".join(d.table.name for d in detected) or "none"
        broken = f"; unreadable: {', '.join(p.name for p in unreadable)}" if unreadable else ""
        log.error("files", None, f"no subject-level dataset found (ADSL for ADaM, DM for SDTM) among: {names}{broken}",
                  count=0, rule_id="no-subject-table", suggestion=suggest_export_mapping([d.table for d in detected]))
        return {}
    roles: dict[str, Detected] = {}
    for role, found in by_role.items():
        if role not in TRIAL_DESIGN_ROLES and (role in ADAM_ROLES) != (standard == "ADaM"):
            for d in found:
                log.warning("files", None, f"file ignored: {d.standard} dataset '{role}' in a {standard} load",
                            source=d.table.path, count=len(d.table.frame), rule_id="file-ignored")
            continue
        if role.startswith("supp") and role[4:] not in SDTM_ROLES:
            log.warning("files", None, f"file ignored: supplemental qualifiers {role.upper()} of a dataset the "
                        "dashboard does not use", source=found[0].table.path, count=len(found[0].table.frame),
                        rule_id="file-ignored")
            continue
        if role not in ADAM_ROLES + SDTM_ROLES + TRIAL_DESIGN_ROLES and not role.startswith("supp"):
            continue
        if len(found) > 1:
            names = ", ".join(d.table.name for d in found)
            rule = f"several files look like {role.upper()} ({names}); name the right one in the mapping file"
            suggestion = "files:\n" + "\n".join(f"  {d.table.name}: {role}" for d in found[:1])
            if role in SUBJECT_ROLES:
                log.error("files", None, rule, count=0, rule_id="several-subject-tables", suggestion=suggestion)
            else:
                log.add(ROW_LEVEL, "files", None, f"{rule}; none is used", count=0, rule_id="several-files-one-role",
                        action=TABLE_LEFT_OUT, suggestion=suggestion)
            continue
        roles[role] = found[0]
    return roles


def _renamed(roles: dict[str, Detected], mapping: ColumnMapping, log: FindingLog) -> dict[str, tuple[pd.DataFrame, str]]:
    """Each role's frame with the mapping's renames applied and its required columns checked: a
    subject-level file lacking one blocks; another dataset lacking one (or empty) is left out."""
    out = {}
    for role, d in roles.items():
        frame = d.table.frame
        subject = role in SUBJECT_ROLES
        renames = mapping.renames(role)
        for src in (src for src in renames if src not in frame.columns):
            log.warning(role, renames[src], f"the mapping file names column {src}, which this file does not have "
                        f"(columns: {', '.join(frame.columns[:40])})", source=d.table.path, count=0,
                        rule_id="mapping-column-absent")
        frame = frame.drop(columns=[v for k, v in renames.items() if k in frame.columns and v in frame.columns])
        frame = frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns})
        missing = missing_required(role, frame.columns)
        if missing:
            snippet = suggest_mapping(role, missing, frame.columns, d.table.labels)
            for options in missing:
                rule = (f"required column {' or '.join(options)} is missing "
                        f"(file identified as {role.upper()} by {d.reason})")
                if subject:
                    log.error(role, options[0], rule, source=d.table.path, count=len(frame), suggestion=snippet,
                              rule_id="subject-column-missing")
                else:
                    log.add(ROW_LEVEL, role, options[0], f"{rule}; the dataset is left out", source=d.table.path,
                            count=len(frame), suggestion=snippet, rule_id="table-column-missing", action=TABLE_LEFT_OUT)
            continue
        if frame.empty:
            if subject:
                log.error(role, None, "the subject-level dataset has no rows (header only)", source=d.table.path,
                          count=0, rule_id="no-randomized-subjects")
            else:
                log.warning(role, None, "the file has no rows; treated as absent", source=d.table.path, count=0,
                            rule_id="empty-table")
            continue
        out[role] = (frame, str(d.table.path))
    return out


def _optional(name: str, build, log: FindingLog, source: str):
    """An optional table built by `build()`, or None with a finding naming the file when it fails."""
    try:
        return build()
    except Exception as exc:  # an optional dataset never takes the whole trial down
        log.add(ROW_LEVEL, name, None, f"could not be processed ({type(exc).__name__}: {exc}); the dataset is left out",
                source=source, count=0, rule_id="table-unusable", action=TABLE_LEFT_OUT)
        return None


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
        model[name] = _optional(name, lambda: build(*tables[name]), log, tables[name][1]) if name in tables else None
    return model


def _from_sdtm(tables, log) -> dict[str, pd.DataFrame | None]:
    tables = sdtm.with_supplements(tables, log)
    dm, dm_source = tables["dm"]
    adsl = sdtm.adsl_from_sdtm(tables, log)
    model = {"adsl": adsl, "sites": None, "adae": None, "adrs": None, "adex": None}
    if "ae" in tables:
        model["adae"] = _optional("adae", lambda: sdtm.adae_from_sdtm(tables["ae"][0], adsl, dm, log, tables["ae"][1]),
                                  log, tables["ae"][1])
    if "rs" in tables:
        model["adrs"] = _optional("adrs", lambda: sdtm.adrs_from_sdtm(tables["rs"][0], dm, log, tables["rs"][1]),
                                  log, tables["rs"][1])
    if "ex" in tables:
        model["adex"] = _optional("adex", lambda: sdtm.adex_from_sdtm(tables["ex"][0], dm, log, tables["ex"][1]),
                                  log, tables["ex"][1])
    model["adtte"] = _optional("adtte", lambda: sdtm.os_from_adsl(adsl, log, dm_source), log, dm_source)
    return model
