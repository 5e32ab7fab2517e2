"""Declarative column mapping (YAML or TOML) for exports with non-standard names, and suggestions.

A data manager writes, per dataset, which file column holds each standard variable, optionally which
file plays which dataset role, and the data cut date::

    # mapping.yaml
    adsl:
      USUBJID: SUBJECT_ID      # standard name: name in the file
      SITEID: CENTRE
    adae:
      AEDECOD: PT_NAME
    files:
      patients.csv: adsl       # file name: dataset role (adsl, adae, adrs, adtte, adex, sites, dm, ae, ...)
    cutoff: 2016-03-31

When a required column is missing, `suggest_mapping` proposes the closest file columns (by name,
known synonyms and SAS labels) as a ready-to-paste snippet of this file.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml

from ..data.schema import TABLE_SPECS

# Every dataset role the loaders know, with the columns it cannot do without (alternatives in a tuple).
REQUIRED: Mapping[str, tuple] = MappingProxyType({
    "adsl": ("STUDYID", "USUBJID", "SITEID", ("ARM", "TRT01P")),
    "adae": ("USUBJID", "AEDECOD", ("AEBODSYS", "AESOC")),
    "adrs": ("USUBJID", "PARAMCD", "AVALC"),
    "adtte": ("USUBJID", "PARAMCD", "AVAL", "CNSR"),
    "adex": ("USUBJID", ("EXTRT", "TRTA", "TRTP")),
    "sites": ("SITEID",),
    "dm": ("STUDYID", "USUBJID", "SITEID", ("ARM", "ARMCD")),
    "ae": ("USUBJID", "AEDECOD", ("AEBODSYS", "AESOC")),
    "rs": ("USUBJID", "RSTESTCD", ("RSSTRESC", "RSORRES")),
    "ds": ("USUBJID", "DSDECOD"),
    "ex": ("USUBJID", "EXTRT"),
    "sv": ("USUBJID", "SVSTDTC"),
    "supp": ("USUBJID", "QNAM", "QVAL"),
})
ROLES = tuple(REQUIRED)
# Names data managers use for standard variables (upper case, compared after removing _ and spaces).
SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "USUBJID": ("SUBJECTID", "SUBJECT", "PATIENTID", "PATIENT", "PATID", "PTID", "SUBJID", "ID", "SUBJNO"),
    "STUDYID": ("STUDY", "PROTOCOL", "PROTOCOLID", "TRIAL", "TRIALID"),
    "SITEID": ("SITE", "SITENO", "SITENUMBER", "CENTRE", "CENTER", "CENTREID", "CENTERID", "INVID"),
    "ARM": ("TREATMENT", "TRT", "GROUP", "ARMNAME", "RANDARM", "TREATMENTGROUP", "ACTARM"),
    "TRT01P": ("TREATMENT", "TRT", "PLANNEDTREATMENT", "RANDTRT"),
    "AEDECOD": ("PT", "PREFERREDTERM", "PTNAME", "AEPT", "TERM"),
    "AEBODSYS": ("SOC", "BODYSYSTEM", "SYSTEMORGANCLASS", "SOCNAME"),
    "AVALC": ("RESPONSE", "RESULT", "RESP", "AVAL"),
    "PARAMCD": ("PARAM", "PARAMETER", "ENDPOINT", "TEST", "TESTCD"),
    "AVAL": ("TIME", "DAYS", "DURATION", "SURVTIME", "TTE"),
    "CNSR": ("CENSOR", "CENSORED", "CENS", "STATUS", "EVENT"),
    "EXTRT": ("TREATMENT", "DRUG", "TRT"),
})


@dataclass(frozen=True)
class ColumnMapping:
    """Which file column holds each standard variable, per dataset role; file roles; data cut date."""

    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    cutoff: str | None = None
    source: str | None = None

    def renames(self, role: str) -> dict[str, str]:
        """{file column: standard name} for one role (what `DataFrame.rename` takes)."""
        return {src.upper(): std.upper() for std, src in self.columns.get(role, {}).items()}

    def role_of(self, file_name: str) -> str | None:
        return self.files.get(file_name) or self.files.get(file_name.lower())


def load_mapping(path) -> ColumnMapping:
    """Read a mapping file (.yaml/.yml or .toml); raises ValueError naming what is wrong."""
    path = Path(path)
    text = path.read_text()
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: not a valid {'TOML' if path.suffix.lower() == '.toml' else 'YAML'} file: {exc}") from exc
    return mapping_from_dict(data or {}, source=str(path))


def mapping_from_dict(data: Mapping, source: str | None = None) -> ColumnMapping:
    """Build a mapping from plain data (the parsed file), checking roles and shapes."""
    where = source or "mapping"
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping of dataset roles to column mappings")
    columns, files, cutoff = {}, {}, None
    for key, value in data.items():
        key_l = str(key).lower()
        if key_l == "files":
            if not isinstance(value, Mapping):
                raise ValueError(f"{where}: 'files' must map file names to dataset roles")
            for name, role in value.items():
                if _role_key(str(role)) is None:
                    raise ValueError(f"{where}: file {name!r} has unknown role {role!r}; roles are {', '.join(ROLES)}")
                files[str(name)] = str(role).lower()
        elif key_l == "cutoff":
            cutoff = str(value)
        elif _role_key(key_l) is not None:
            if not isinstance(value, Mapping):
                raise ValueError(f"{where}: '{key}' must map standard names to file column names")
            columns[key_l] = {str(k).upper(): str(v) for k, v in value.items()}
        else:
            raise ValueError(f"{where}: unknown key {key!r}; expected files, cutoff or a dataset role ({', '.join(ROLES)})")
    return ColumnMapping(MappingProxyType(columns), MappingProxyType(files), cutoff, source)


def _role_key(role: str) -> str | None:
    role = role.lower()
    if role in REQUIRED:
        return role
    if role.startswith("supp") and len(role) == 6:
        return "supp"
    return None


def missing_required(role: str, columns) -> list[tuple[str, ...]]:
    """The required columns (as alternatives) a role's file lacks."""
    have = set(columns)
    out = []
    for need in REQUIRED[_role_key(role) or role]:
        options = need if isinstance(need, tuple) else (need,)
        if not have.intersection(options):
            out.append(options)
    return out


def _squash(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())


def _label_of(column: str) -> str:
    for spec in TABLE_SPECS.values():
        if column in spec.column_names:
            return spec.column(column).label
    return column


def closest_column(wanted: str, columns, labels: Mapping[str, str] | None = None) -> tuple[str, float] | None:
    """The file column most likely to hold `wanted` (by synonyms, name and label similarity)."""
    labels = labels or {}
    best: tuple[str, float] | None = None
    target_label = _label_of(wanted).lower()
    synonyms = {_squash(s) for s in SYNONYMS.get(wanted, ())}
    for col in columns:
        squashed = _squash(col)
        score = difflib.SequenceMatcher(None, _squash(wanted), squashed).ratio()
        if squashed in synonyms:
            score = max(score, 0.9)
        label = (labels.get(col) or "").lower()
        if label:
            score = max(score, difflib.SequenceMatcher(None, target_label, label).ratio())
        if best is None or score > best[1]:
            best = (col, score)
    return best if best and best[1] >= 0.6 else None


def suggest_mapping(role: str, missing: list[tuple[str, ...]], columns, labels=None) -> str:
    """A ready-to-paste YAML snippet mapping each missing standard column to its closest file column."""
    lines = [f"{role}:"]
    for options in missing:
        wanted = options[0]
        match = closest_column(wanted, [c for c in columns if c not in options], labels)
        if match:
            lines.append(f"  {wanted}: {match[0]}")
        else:
            lines.append(f"  {wanted}: <name of the column holding {_label_of(wanted).lower()}>")
    return "\n".join(lines)
