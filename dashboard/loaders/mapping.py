"""Declarative mapping (YAML or TOML) from an export's own files and columns to the data model.

A CDISC-like export whose names differ needs only renames, per dataset role::

    adsl:
      USUBJID: SUBJECT_ID      # standard name: file column
      SITEID: CENTRE
    files:
      patients.csv: adsl       # file name: role, when neither its name nor its columns say it
    cutoff: 2016-03-31         # data cut date (default: the latest date in the data)

A raw EDC extract (lower-case names, codes, local date formats, one subject's data spread over a
screening log, a randomization list and other forms) is built into each role by the mapping::

    adsl:
      file: screening_log.csv                      # the base table: one row out per row of it
      join:                                        # LEFT JOINs onto the base, in this order
        - {file: randomization_list.csv, on: subjid}
        - {file: site_list.csv, on: siteid}
        - {file: ixrs.csv, on: {subjid: subject_no}}   # base column: joined file's column
      columns:                                     # standard name: where its values come from
        USUBJID: subjid                            # a column of the joined table
        STUDYID: {value: NCT02241018}              # a constant
        ARM: {column: trt_code, recode: {1: MSC + basiliximab + CNI, 2: Basiliximab + CNI}}
        SEX: {column: sex, recode: {1: M, 2: F}}
        RANDDT: {column: rand_dt, format: "%d-%b-%Y"}   # strptime codes: 05-MAR-2015
    adae:
      file: ae_log.csv
      columns:
        AESER: {column: aeser, recode: {Yes: Y, No: N}}
        ASTDT: {column: aest_dt, format: "%d/%m/%Y"}

Rules. Roles are adsl, adae, adrs, adtte, adex, sites (ADaM) or dm, ae, rs, ds, ex, sv, supp-- (SDTM).
A section either lists renames only (the short form) or has `file`, `join` and `columns`; a column
entry is a file column name or `{column | value, recode, format}`, in either form. File and column
names are case-insensitive (a file may be named without its extension). Joins keep every base row;
keys are compared as text; a key repeated in a joined file keeps its first row and joined rows that
match no base row are left out (both warned). When a joined file has a column the table already
has, the earlier one is kept. A column a rule takes is renamed; the others pass through under their
own names, so a column already named as in the model needs no line. A section without `file` applies to the
file identified as that role. `recode` keys are text compared case-insensitively (`Yes` is text,
not true; `1` and `"1"` are the same); a value absent from the list is kept and warned, `null`
makes it missing. `format` is a strptime format; values that do not match it are set to missing
(warned; an error when none matches).

Errors are named. Reading the file raises `MappingError` ("unknown key", "bad date format",
"placeholder not filled in", ...). Applying it to the data logs blocking findings "unknown table"
(a file not among those read) and "unknown column" (a column the joined table lacks).

`suggest_mapping` proposes the renames for a role's missing required columns; `suggest_export_mapping`
proposes the whole mapping of a raw export (roles, joins, columns, recodes, date formats) with `<...>`
placeholders for what its names and values cannot tell.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd
import yaml

from ..model.schema import TABLE_SPECS
from .conform import CATEGORY_SYNONYMS, NO, YES, to_text
from .detect import Detected
from .readers import RawTable
from .report import FindingLog

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
# Names data managers and EDC systems use for standard variables (compared after removing _ and spaces).
SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "USUBJID": ("SUBJECTID", "SUBJECT", "PATIENTID", "PATIENT", "PATID", "PTID", "SUBJID", "ID", "SUBJNO",
                "SUBJECTNUMBER", "PATIENTNUMBER", "PATNO", "SCREENINGNUMBER"),
    "STUDYID": ("STUDY", "PROTOCOL", "PROTOCOLID", "TRIAL", "TRIALID", "STUDYNUMBER"),
    "SITEID": ("SITE", "SITENO", "SITENUMBER", "CENTRE", "CENTER", "CENTREID", "CENTERID", "INVID"),
    "SITENAME": ("SITE", "CENTRENAME", "CENTERNAME", "HOSPITAL", "INSTITUTION"),
    "CITY": ("SITECITY", "TOWN"),
    "SITECITY": ("CITY", "TOWN"),
    "ACTIVDT": ("ACTIVATIONDT", "ACTIVATIONDATE", "SIVDT", "SITEACTIVATIONDATE", "OPENDT"),
    "TARGET": ("TARGETN", "ENROLLMENTTARGET", "PLANNEDN", "TARGETENROLLMENT"),
    "ARM": ("TREATMENT", "TRT", "GROUP", "ARMNAME", "RANDARM", "TREATMENTGROUP", "ACTARM", "TRTCODE", "TRTGRP",
            "RANDTRT", "RANDGRP", "ARMCODE"),
    "TRT01P": ("TREATMENT", "TRT", "PLANNEDTREATMENT", "RANDTRT"),
    "RANDDT": ("RANDDATE", "RANDOMIZATIONDATE", "RANDOMISATIONDATE", "RANDOMIZATIONDT", "RANDOMISATIONDT"),
    "SCRNDT": ("SCRDT", "SCREENDT", "SCREENINGDATE", "SCREENINGDT", "ICFDT", "ICDT", "CONSENTDT", "CONSENTDATE"),
    "SFREAS": ("SFREASON", "SCRFAILREAS", "SCREENFAILREASON", "SCREENFAILUREREASON", "SCRFREAS"),
    "TRTSDT": ("FIRSTDOSEDT", "FIRSTDOSEDATE", "TRTSTARTDT", "TRTSTDT"),
    "TRTEDT": ("LASTDOSEDT", "LASTDOSEDATE", "TRTENDDT", "TRTENDT"),
    "AGE": ("AGEYRS", "AGEYEARS", "AGEATSCREENING"),
    "SEX": ("GENDER",),
    "DIAG": ("DIAGNOSIS", "DISEASE", "PRIMARYDIAGNOSIS", "UNDERLYINGDISEASE"),
    "DISSTAT": ("DISEASESTATUS", "DISSTATUS", "STATUSATHSCT"),
    "HLAMATCH": ("HLA", "HLAMATCHING"),
    "DONREL": ("DONOR", "DONORTYPE", "DONORRELATION", "DONORRELATIONSHIP"),
    "GRAFTSRC": ("GRAFTSOURCE", "GRAFT", "STEMCELLSOURCE"),
    "CONDREG": ("CONDITIONING", "CONDITIONINGREGIMEN"),
    "GVHDPROP": ("GVHDPROPHYLAXIS", "PROPHYLAXIS"),
    "HSCTDT": ("TRANSPLANTDT", "TRANSPLANTDATE", "HCTDT", "SCTDT"),
    "AGVHDDT": ("AGVHDONSETDT", "GVHDONSETDT", "AGVHDONSETDATE", "AGVHDSTDT"),
    "AGVHDGR": ("AGVHDGRADE", "GVHDGRADE", "ACUTEGVHDGRADE", "GRADEATENTRY"),
    "SKINFL": ("SKIN", "SKININV", "SKININVOLVEMENT"),
    "LIVERFL": ("LIVER", "LIVERINV", "LIVERINVOLVEMENT"),
    "UGIFL": ("UPPERGI", "UGI", "UPPERGIINV", "UPPERGIINVOLVEMENT"),
    "LGIFL": ("LOWERGI", "LGI", "LOWERGIINV", "LOWERGIINVOLVEMENT"),
    "STRATGR": ("STRATUM", "STRATA", "STRATIFICATION", "STRATGRP"),
    "EOSSTT": ("EOSSTATUS", "ENDOFSTUDYSTATUS", "STUDYSTATUS", "COMPLETIONSTATUS"),
    "EOSDT": ("EOSDATE", "ENDOFSTUDYDATE", "ENDOFSTUDYDT", "COMPLETIONDT"),
    "DCSREAS": ("EOSREASON", "EOSREAS", "DISCREASON", "DCREASON", "DISCONTINUATIONREASON", "WITHDRAWALREASON"),
    "DTHFL": ("DIED", "DEATH", "DEATHFL", "DEATHFLAG"),
    "DTHDT": ("DEATHDT", "DEATHDATE", "DATEOFDEATH"),
    "DTHCAUS": ("DEATHCAUSE", "CAUSEOFDEATH", "DTHCAUSE"),
    "LSTALVDT": ("LASTALIVEDT", "LASTKNOWNALIVEDT", "LASTCONTACTDT", "LASTCONTACTDATE"),
    "AEDECOD": ("PT", "PREFERREDTERM", "PTNAME", "AEPT", "TERM"),
    "AEBODSYS": ("SOC", "BODYSYSTEM", "SYSTEMORGANCLASS", "SOCNAME", "AESOC"),
    "AESEQ": ("AESPID", "AENO", "AELINE", "LINENO", "AENUM"),
    "AETOXGRN": ("GRADE", "CTCAEGRADE", "TOXGRADE", "AEGRADE", "AETOXGR"),
    "AESEV": ("SEVERITY", "INTENSITY"),
    "AESER": ("SERIOUS", "SAE", "ISSERIOUS"),
    "AEREL": ("RELATED", "CAUSALITY", "RELATIONSHIP", "RELATEDNESS"),
    "AEOUT": ("OUTCOME",),
    "ASTDT": ("AESTDT", "AESTDAT", "ONSETDT", "ONSETDATE", "STARTDT", "AESTARTDT", "DOSEDT", "EXSTDT", "ADMINDT",
              "ADMINISTRATIONDATE"),
    "AENDT": ("AEENDT", "AEENDAT", "RESOLUTIONDT", "ENDDT", "AEENDDT", "STOPDT"),
    "AECAT": ("CATEGORY", "AECATEGORY"),
    "INFTYPE": ("INFECTIONTYPE", "PATHOGEN"),
    "AVALC": ("RESPONSE", "RESULT", "RESP", "AVAL", "OVERALLRESPONSE", "OVERALLRESP"),
    "PARAMCD": ("PARAM", "PARAMETER", "ENDPOINT", "TEST", "TESTCD"),
    "AVISIT": ("VISIT", "VISITNAME", "FOLDER", "TIMEPOINT"),
    "AVISITN": ("VISITNUM", "VISITDAY", "VISITNO", "NOMINALDAY"),
    "ADT": ("ASSESSDT", "ASSESSMENTDT", "ASSESSMENTDATE", "VISITDT", "RSDT"),
    "SKINSTG": ("SKINSTAGE",),
    "LIVERSTG": ("LIVERSTAGE",),
    "GISTG": ("GISTAGE", "GUTSTAGE"),
    "AVAL": ("TIME", "DAYS", "DURATION", "SURVTIME", "TTE"),
    "CNSR": ("CENSOR", "CENSORED", "CENS", "STATUS", "EVENT"),
    "EXTRT": ("TREATMENT", "DRUG", "TRT", "MEDICATION", "PRODUCT"),
    "EXDOSE": ("DOSE", "DOSEAMOUNT", "AMOUNT"),
    "EXDOSU": ("DOSEUNIT", "DOSEU", "UNIT"),
    "EXCYCLE": ("CYCLE", "CYCLENO", "COURSE"),
})
# Placeholders the suggestions write, and that a mapping may not keep: '<...>'.
PLACEHOLDER = re.compile(r"^<.*>$", re.DOTALL)
SECTION_KEYS = ("file", "join", "columns")
RULE_KEYS = ("column", "value", "recode", "format")
# Prefix of the bookkeeping columns a join adds (file rows of the joined file); file columns are upper case.
ROW_TAG = "__row"
# Date formats tried on a raw column's values (ISO 8601 and SAS DATE9 text need none: dates.py reads them).
NATIVE_DATE_FORMATS = ("%Y-%m-%d", "%d%b%Y")
DATE_FORMATS = NATIVE_DATE_FORMATS + ("%d/%m/%Y", "%m/%d/%Y", "%d-%b-%Y", "%d %b %Y", "%d.%m.%Y", "%d-%m-%Y",
                                      "%Y/%m/%d", "%Y%m%d", "%b %d, %Y")
ISO_5218_SEX = MappingProxyType({"1": "M", "2": "F", "0": "U", "9": "U"})


class MappingError(ValueError):
    """A mapping file that cannot be used: its message names the section, the column and the rule."""


@dataclass(frozen=True)
class ColumnRule:
    """How one standard column is filled: a file column (renamed) or a constant; maybe recoded or read as dates."""

    column: str | None = None
    value: str | None = None
    recode: Mapping[str, str | None] = field(default_factory=dict)
    date_format: str | None = None

    @property
    def is_rename(self) -> bool:
        return self.column is not None and not self.recode and self.date_format is None


@dataclass(frozen=True)
class Join:
    """A LEFT JOIN of one file onto a role's table, on pairs of (table column, file column)."""

    file: str
    on: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RoleMapping:
    """One role's section: its base file (None: the file identified as the role), joins and columns."""

    file: str | None = None
    joins: tuple[Join, ...] = ()
    columns: Mapping[str, ColumnRule] = field(default_factory=dict)

    @property
    def renames_only(self) -> bool:
        """Whether the section only renames columns of the identified file (the loader's short form)."""
        return self.file is None and not self.joins and all(rule.is_rename for rule in self.columns.values())

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(name for name in (self.file, *(j.file for j in self.joins)) if name)


@dataclass(frozen=True)
class ColumnMapping:
    """A whole mapping file: each role's section, file roles, the data cut date and where it came from."""

    roles: Mapping[str, RoleMapping] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    cutoff: str | None = None
    source: str | None = None

    def renames(self, role: str) -> dict[str, str]:
        """{file column: standard name} of a short-form section (what `DataFrame.rename` takes)."""
        section = self.roles.get(role)
        if section is None or not section.renames_only:
            return {}
        return {rule.column: std for std, rule in section.columns.items()}

    def role_of(self, file_name: str) -> str | None:
        """The role a file plays: its `files:` entry, else the section that names it as base or join."""
        named = self.files.get(file_name) or self.files.get(file_name.lower())
        if named:
            return named
        sections = self.built.items()
        as_base = (role for role, section in sections if section.file and _same_file(section.file, file_name))
        as_join = (role for role, section in sections if any(_same_file(n, file_name) for n in section.file_names))
        return next(as_base, None) or next(as_join, None)

    @property
    def built(self) -> dict[str, RoleMapping]:
        """The sections that build their table (joins, constants, recodes or date formats)."""
        return {role: section for role, section in self.roles.items() if not section.renames_only}


# ---- reading a mapping file -----------------------------------------------------------------------


class _TextLoader(yaml.SafeLoader):
    """YAML where Yes/No/On/Off/true/false stay text: recode lists are written `{Yes: Y, No: N}`."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_mapping(path) -> ColumnMapping:
    """Read a mapping file (.yaml/.yml or .toml); raises MappingError naming what is wrong."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    is_toml = path.suffix.lower() == ".toml"
    try:
        data = tomllib.loads(text) if is_toml else yaml.load(text, Loader=_TextLoader)  # a SafeLoader
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: not a valid {'TOML' if is_toml else 'YAML'} file: {exc}") from exc
    return mapping_from_dict(data or {}, source=str(path))


def mapping_file_in(paths) -> Path | None:
    """The mapping file that sits in a data folder (mapping.yaml, .yml or .toml), when one folder is loaded."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if len(items) != 1 or not Path(items[0]).is_dir():
        return None
    candidates = (Path(items[0]) / name for name in ("mapping.yaml", "mapping.yml", "mapping.toml"))
    return next((path for path in candidates if path.is_file()), None)


def mapping_from_dict(data: Mapping, source: str | None = None) -> ColumnMapping:
    """Build a mapping from plain data (the parsed file), checking every key, shape and date format."""
    where = source or "mapping"
    if not isinstance(data, Mapping):
        raise MappingError(f"{where}: expected a mapping of dataset roles to column mappings")
    roles, files, cutoff = {}, {}, None
    for key, value in data.items():
        key_l = str(key).lower()
        if key_l == "files":
            if not isinstance(value, Mapping):
                raise MappingError(f"{where}: 'files' must map file names to dataset roles")
            for name, role in value.items():
                if _role_key(str(role)) is None:
                    raise MappingError(f"{where}: files: {name!r} has unknown role {role!r}; "
                                       f"roles are {', '.join(ROLES)}")
                files[str(name)] = str(role).lower()
        elif key_l == "cutoff":
            cutoff = _text(value, f"{where}: cutoff")
        elif _role_key(key_l) is not None:
            roles[key_l] = _section(value, f"{where}: {key_l}")
        else:
            raise MappingError(f"{where}: unknown key {key!r}; expected files, cutoff or a dataset role "
                               f"({', '.join(ROLES)})")
    return ColumnMapping(MappingProxyType(roles), MappingProxyType(files), cutoff, source)


def _section(value, where: str) -> RoleMapping:
    if not isinstance(value, Mapping):
        raise MappingError(f"{where}: must map standard names to file columns (or have file, join, columns)")
    keys = {str(k).lower(): v for k, v in value.items()}
    if not set(keys) & set(SECTION_KEYS):
        return RoleMapping(columns=_columns(value, where))
    unknown = [str(k) for k in value if str(k).lower() not in SECTION_KEYS]
    if unknown:
        raise MappingError(f"{where}: unknown key {unknown[0]!r}; a section with file/join/columns takes only "
                           f"{', '.join(SECTION_KEYS)} (standard names go under columns:)")
    file = _text(keys["file"], f"{where}: file") if "file" in keys else None
    joins = keys.get("join") or ()
    if isinstance(joins, Mapping):
        joins = [joins]
    if not isinstance(joins, (list, tuple)):
        raise MappingError(f"{where}: join must be a list of {{file: ..., on: ...}}")
    if joins and file is None:
        raise MappingError(f"{where}: join needs a base file: add file: <name>")
    columns = keys.get("columns") or {}
    if not isinstance(columns, Mapping):
        raise MappingError(f"{where}: columns must map standard names to file columns")
    return RoleMapping(file, tuple(_join(j, f"{where}: join {i + 1}") for i, j in enumerate(joins)),
                       _columns(columns, where))


def _join(value, where: str) -> Join:
    if not isinstance(value, Mapping) or {str(k).lower() for k in value} != {"file", "on"}:
        raise MappingError(f"{where}: a join is {{file: <file name>, on: <key column>}}")
    value = {str(k).lower(): v for k, v in value.items()}
    on = value["on"]
    if isinstance(on, Mapping):
        pairs = [(_text(k, where), _text(v, where)) for k, v in on.items()]
    else:
        names = on if isinstance(on, (list, tuple)) else [on]
        pairs = [(_text(n, where),) * 2 for n in names]
    if not pairs:
        raise MappingError(f"{where}: on names no key column")
    return Join(_text(value["file"], f"{where}: file"), tuple((a.upper(), b.upper()) for a, b in pairs))


def _columns(value: Mapping, where: str) -> Mapping[str, ColumnRule]:
    return MappingProxyType({str(std).upper(): _rule(spec, f"{where}: {str(std).upper()}")
                             for std, spec in value.items()})


def _rule(spec, where: str) -> ColumnRule:
    if not isinstance(spec, Mapping):
        return ColumnRule(column=_text(spec, where).upper())
    unknown = [str(k) for k in spec if str(k).lower() not in RULE_KEYS]
    spec = {str(k).lower(): v for k, v in spec.items()}
    if unknown:
        raise MappingError(f"{where}: unknown key {unknown[0]!r}; a column takes {', '.join(RULE_KEYS)}")
    if ("column" in spec) == ("value" in spec):
        raise MappingError(f"{where}: give either column: <file column> or value: <constant>")
    recode = spec.get("recode") or {}
    if not isinstance(recode, Mapping):
        raise MappingError(f"{where}: recode must map file values to standard values")
    recode = {_text(k, f"{where}: recode"): (None if v is None else _text(v, f"{where}: recode {k}"))
              for k, v in recode.items()}
    date_format = _text(spec["format"], f"{where}: format") if spec.get("format") is not None else None
    if date_format is not None:
        _check_date_format(date_format, where)
    column = _text(spec["column"], f"{where}: column").upper() if "column" in spec else None
    value = _text(spec["value"], f"{where}: value") if "value" in spec else None
    return ColumnRule(column, value, MappingProxyType(recode), date_format)


def _text(value, where: str) -> str:
    """A scalar of the file as text (1 -> '1', 1.0 -> '1', a YAML date -> ISO); placeholders refused."""
    if isinstance(value, (Mapping, list, tuple)) or value is None:
        raise MappingError(f"{where}: expected a single value, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value).strip()
    if PLACEHOLDER.match(text):
        raise MappingError(f"{where}: placeholder not filled in: replace {text} with the real value")
    return text


def _check_date_format(fmt: str, where: str) -> None:
    """A strptime format that reads back what it writes and has a year (`dd/mm/yyyy` is not one)."""
    try:
        dt.datetime.strptime(dt.datetime(2001, 2, 3).strftime(fmt), fmt)
    except ValueError as exc:
        raise MappingError(f"{where}: bad date format {fmt!r}: {exc}") from exc
    if not re.search(r"%[Yy]", fmt):
        raise MappingError(f"{where}: bad date format {fmt!r}: use strptime codes with a year, e.g. '%d/%m/%Y' "
                           "(31/01/2015) or '%d-%b-%Y' (31-JAN-2015)")


def _role_key(role: str) -> str | None:
    role = role.lower()
    if role in REQUIRED:
        return role
    if role.startswith("supp") and len(role) == 6:
        return "supp"
    return None


def _same_file(name: str, file_name: str) -> bool:
    """A mapping's file name matches a file's name or its name without extension (case-insensitive)."""
    name, file_name = name.lower(), file_name.lower()
    return name in (file_name, file_name.split(".")[0])


# ---- applying a mapping to the files read -----------------------------------------------------------


def apply_mapping(detected: list[Detected], mapping: ColumnMapping, log: FindingLog) -> list[Detected]:
    """The files read, with the files of each building section replaced by the one table it builds.

    Short-form sections (renames only) are left to the loader; a building section without `file`
    takes the one file identified as its role. Problems are logged (see the module docstring)."""
    sections = mapping.built
    if not sections:
        return detected
    consumed: set[int] = set()
    built: list[Detected] = []
    for role, section in sections.items():
        where = f"mapping section '{role}'"
        if section.file is None:
            found = [d for d in detected if d.role == role]
            if not found:
                log.error(role, None, f"unknown table: {where} names no file and no file was identified as "
                          f"{role.upper()}; add file: <file name>", source=mapping.source, count=0)
            if len(found) != 1:  # several: the loader reports the ambiguity
                continue
            base, joined = found[0], []
        else:
            base = _find_file(section.file, detected, where, role, mapping.source, log)
            joined = [(join, _find_file(join.file, detected, where, role, mapping.source, log))
                      for join in section.joins]
            if base is None:
                consumed.update(id(d) for _, d in joined if d is not None)
                continue
        consumed.update(id(d) for d in (base, *(d for _, d in joined)) if d is not None)
        frame = build_table(role, section, base.table, [(j, d.table) for j, d in joined if d is not None], log)
        names = " LEFT JOIN ".join(d.table.name for d in (base, *(d for _, d in joined)) if d is not None)
        table = replace(base.table, frame=frame, labels={}, member="", issues=())
        origins = tuple(d.table for d in (base, *(d for _, d in joined)) if d is not None)
        built.append(Detected(table, role, f"built by the mapping file from {names}", origins))
    return [d for d in detected if id(d) not in consumed] + built


def _find_file(name: str, detected: list[Detected], where: str, role: str, source, log: FindingLog) -> Detected | None:
    found = [d for d in detected if _same_file(name, d.table.name)]
    if len(found) == 1:
        return found[0]
    if found:
        rule = f"unknown table: {where} names {name!r}, and several files have that name: " + \
               ", ".join(str(d.table.path) for d in found)
    else:
        read = ", ".join(d.table.name for d in detected) or "none"
        rule = f"unknown table: {where} names {name!r}, which is not among the files read ({read})"
    log.error(role, None, rule, source=source, count=0)
    return None


def build_table(role: str, section: RoleMapping, base: RawTable, joins: list[tuple[Join, RawTable]],
                log: FindingLog) -> pd.DataFrame:
    """A role's table from its base file and joined files: mapped columns first, then every column no
    rule takes under its own name (a rule renames its column). A new frame; inputs are never modified."""
    frame = base.frame
    origin = {col: (base, None) for col in frame.columns}
    for number, (join, table) in enumerate(joins):
        frame = _left_join(role, frame, origin, join, table, f"{ROW_TAG}{number}", log)
    subject = section.columns.get("USUBJID")
    context = [subject.column] if subject is not None and subject.column else []
    out: dict[str, pd.Series] = {}
    for std, rule in section.columns.items():
        if rule.value is not None:
            out[std] = pd.Series(rule.value, index=frame.index, dtype=object)
            continue
        if rule.column not in frame.columns:
            log.error(role, std, f"unknown column: the mapping takes {std} from {rule.column}, which "
                      f"{' joined with '.join([base.name, *(t.name for _, t in joins)])} does not have "
                      f"(columns: {_visible(frame)})", source=base.path, count=0)
            continue
        values = frame[rule.column]
        report = _Reporter(log, role, std, frame, origin, rule.column, context)
        if rule.recode:
            values = _recode(values, rule.recode, report)
        if rule.date_format:
            values = _parse_dates(values, rule.date_format, report)
        out[std] = values
    renamed = {rule.column for rule in section.columns.values()}
    rest = {c: frame[c] for c in frame.columns if c not in out and c not in renamed and not c.startswith(ROW_TAG)}
    return pd.DataFrame({**out, **rest}, index=pd.RangeIndex(len(frame)))


def _text_of(values: pd.Series) -> pd.Series:
    """`conform.to_text` computed once per distinct value (a column of a million rows has few)."""
    distinct = values.dropna().unique()
    text = dict(zip(distinct, to_text(pd.Series(distinct, dtype=object))))
    return values.map(text).astype(object)


def _visible(frame: pd.DataFrame) -> str:
    """The file columns of a table being built, for messages (not the join's bookkeeping)."""
    return ", ".join(c for c in frame.columns if not c.startswith(ROW_TAG))


def _left_join(role: str, left: pd.DataFrame, origin: dict, join: Join, table: RawTable, row_column: str,
               log: FindingLog) -> pd.DataFrame:
    """`left` LEFT JOIN `table` on the join's keys; duplicate and unmatched keys of `table` warned."""
    right = table.frame
    for frame, names, owner in ((left, [a for a, _ in join.on], "the table so far"),
                                (right, [b for _, b in join.on], table.name)):
        absent = [n for n in names if n not in frame.columns]
        if absent:
            log.error(role, absent[0], f"unknown column: the join of {table.name} is on {absent[0]}, which "
                      f"{owner} does not have (columns: {_visible(frame)})", source=table.path, count=0)
            return left
    keys = [f"__key{i}" for i in range(len(join.on))]
    left_keys = pd.DataFrame({k: _text_of(left[a]) for k, (a, _) in zip(keys, join.on)}, index=left.index)
    right_keys = pd.DataFrame({k: _text_of(right[b]) for k, (_, b) in zip(keys, join.on)}, index=right.index)
    key_columns = [b for _, b in join.on]
    complete = right_keys.notna().all(axis=1)
    repeated = complete & right_keys.duplicated(keep="first")
    if repeated.any():
        log.warning(role, key_columns[-1], f"join key {', '.join(key_columns)} repeated in {table.name}: only the "
                    "first row of each key is joined", source=table.path, frame=right, mask=repeated,
                    columns=key_columns)
    unmatched = complete & ~pd.MultiIndex.from_frame(right_keys).isin(pd.MultiIndex.from_frame(left_keys))
    if unmatched.any():
        log.warning(role, key_columns[-1], f"rows of {table.name} match no row of the table they are joined to "
                    f"(on {', '.join(key_columns)}): left out", source=table.path, frame=right, mask=unmatched,
                    columns=key_columns)
    added = [c for c in right.columns if c not in left.columns and c not in key_columns]
    keep = complete & ~repeated & ~unmatched
    rows = pd.DataFrame({row_column: np.arange(len(right))}, index=right.index)
    joinable = pd.concat([right_keys, right[added], rows], axis=1).loc[keep]
    merged = pd.concat([left, left_keys], axis=1).merge(joinable, how="left", on=keys, validate="many_to_one")
    merged.index = left.index
    origin.update({c: (table, row_column) for c in added})
    return merged.drop(columns=keys)


@dataclass(frozen=True)
class _Reporter:
    """Logs a finding on one mapped column, with example rows of the file the column came from."""

    log: FindingLog
    role: str
    std: str
    frame: pd.DataFrame
    origin: dict
    column: str
    context: list

    def __call__(self, severity: str, rule: str, mask: pd.Series) -> None:
        table, row_column = self.origin[self.column]
        if row_column is None:
            frame, rows = table.frame, mask
        else:
            picked = self.frame.loc[mask, row_column].dropna().astype(int).unique()
            frame = table.frame
            rows = pd.Series(np.isin(np.arange(len(frame)), picked), index=frame.index)
        columns = [c for c in dict.fromkeys([*self.context, self.column]) if c in frame.columns]
        self.log.add(severity, self.role, self.std, rule, source=table.path, frame=frame, mask=rows,
                     columns=columns, count=int(mask.sum()))


def _recode(values: pd.Series, recode: Mapping[str, str | None], report: _Reporter) -> pd.Series:
    """Values replaced through the recode list (keys compared as text, case-insensitively)."""
    text = _text_of(values)
    lookup = {k.upper(): v for k, v in recode.items()}
    upper = text.str.upper()
    listed = upper.isin(list(lookup))
    unlisted = text.notna() & ~listed
    if unlisted.any():
        shown = ", ".join(repr(v) for v in text[unlisted].unique()[:5])
        report("warning", f"values not in the mapping's recode list kept as they are ({shown})", unlisted)
    recoded = text.mask(listed, upper.map(lookup))
    return recoded.where(recoded.notna(), np.nan)


def _parse_dates(values: pd.Series, date_format: str, report: _Reporter) -> pd.Series:
    """Text dates read with the mapping's format; numbers (SAS dates) and dates pass unchanged."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values
    text = _text_of(values)
    dates = pd.to_datetime(text, format=date_format, errors="coerce").dt.normalize()
    unread = text.notna() & dates.isna()
    if unread.any():
        if unread.sum() == text.notna().sum():
            report("error", f"bad date format: no value matches the mapping's format {date_format!r}", unread)
        else:
            report("warning", f"dates not in the mapping's format {date_format!r} set to missing", unread)
    return dates


# ---- required columns and suggestions -------------------------------------------------------------


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


def name_score(wanted: str, column: str, label: str = "") -> float:
    """How likely a file column holds a standard variable, 0-1: same name 1, a known synonym 0.95, a
    synonym as the last word of the name ('AETERM_PT' for AEDECOD) 0.85, else name/label similarity
    (at least 0.7 when the name or a synonym is another word of it)."""
    squashed = _squash(column)
    if squashed == _squash(wanted):
        return 1.0
    synonyms = {_squash(s) for s in SYNONYMS.get(wanted, ())}
    if squashed in synonyms:
        return 0.95
    words = [w for w in re.split(r"[^A-Z0-9]+", column.upper()) if w]
    named = synonyms | {_squash(wanted)}
    if len(words) > 1 and words[-1] in named:
        return 0.85
    score = 0.9 * difflib.SequenceMatcher(None, _squash(wanted), squashed).ratio()
    if len(words) > 1 and named.intersection(words):
        score = max(score, 0.7)
    if label:
        score = max(score, difflib.SequenceMatcher(None, _label_of(wanted).lower(), label.lower()).ratio())
    return score


def closest_column(wanted: str, columns, labels: Mapping[str, str] | None = None) -> tuple[str, float] | None:
    """The file column most likely to hold `wanted` (by synonyms, name and label similarity)."""
    labels = labels or {}
    scored = [(col, name_score(wanted, col, labels.get(col) or "")) for col in columns]
    best = max(scored, key=lambda item: item[1], default=None)
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


# Roles an event table (several rows per subject) may play in a raw export, tried in this order.
EVENT_ROLES = ("adae", "adrs", "adex", "adtte")
REQUIRED_SCORE, OPTIONAL_SCORE = 0.6, 0.8


def suggest_export_mapping(tables: list[RawTable]) -> str:
    """A whole mapping for a raw export, as ready-to-edit YAML with `<...>` where names and values cannot tell.

    The subject key is each file's best identifier column; files with one row per subject are joined
    into ADSL onto the largest (the screening log holds every screened patient; on a tie, the one
    with a site column); files with several rows per subject become the event role whose required
    columns they match best (ADAE, ADRS, ADEX, ADTTE); a file of unique sites without subjects
    becomes SITES. In each, standard columns are matched by name and synonyms; text dates get their
    format from the values, codes their recode list."""
    keys = {id(t): key for t in tables if (key := _subject_column(t)) is not None}
    per_subject = [t for t in tables if id(t) in keys and t.frame[keys[id(t)]].notna().all()
                   and t.frame[keys[id(t)]].is_unique]
    if not per_subject:
        return "files:\n  <your subject file name>: adsl"
    base = max(per_subject, key=lambda t: (len(t.frame), any(name_score("SITEID", c) >= 0.85 for c in t.frame)))
    joined = [t for t in per_subject if t is not base]
    lines = ["# Suggested mapping of a raw export: replace every <...>, then pass --mapping mapping.yaml",
             "# cutoff: YYYY-MM-DD   # the data cut date (default: the latest date in the data)",
             "adsl:", f"  file: {_yaml(base.name)}"]
    if joined:
        lines.append("  join:")
        lines += [f"    - {{file: {_yaml(t.name)}, on: {_join_key(keys[id(base)], keys[id(t)])}}}" for t in joined]
    lines += _column_lines("adsl", _joined_frame(base, joined, keys), {"USUBJID": keys[id(base)]})
    subject_ids = {id(t) for t in per_subject}
    roles = _event_roles([t for t in tables if id(t) in keys and id(t) not in subject_ids])
    for role, table in roles.items():
        lines += [f"{role}:", f"  file: {_yaml(table.name)}"]
        lines += _column_lines(role, table.frame, {"USUBJID": keys[id(table)]})
    sites = next((t for t in tables if id(t) not in keys and _site_column(t) is not None), None)
    if sites is not None:
        lines += ["sites:", f"  file: {_yaml(sites.name)}"]
        lines += _column_lines("sites", sites.frame, {"SITEID": _site_column(sites)})
    used = {id(t) for t in (*per_subject, *roles.values(), sites) if t is not None}
    lines += [f"# not used: {t.name} (no role matched its columns)" for t in tables if id(t) not in used]
    return "\n".join(lines)


def _joined_frame(base: RawTable, joined: list[RawTable], keys: dict) -> pd.DataFrame:
    """The columns ADSL would have after the suggested joins (the first file's column wins)."""
    frame = base.frame
    for table in joined:
        extra = table.frame[[c for c in table.frame.columns if c not in frame.columns or c == keys[id(table)]]]
        frame = frame.merge(extra.rename(columns={keys[id(table)]: keys[id(base)]}).drop_duplicates(keys[id(base)]),
                            how="left", on=keys[id(base)])
    return frame


def _subject_column(table: RawTable) -> str | None:
    best = max(((c, name_score("USUBJID", c)) for c in table.frame.columns), key=lambda i: i[1], default=None)
    return best[0] if best and best[1] >= 0.85 else None


def _site_column(table: RawTable) -> str | None:
    best = max(((c, name_score("SITEID", c)) for c in table.frame.columns), key=lambda i: i[1], default=None)
    if best and best[1] >= 0.85 and table.frame[best[0]].notna().all() and table.frame[best[0]].is_unique:
        return best[0]
    return None


def _event_roles(events: list[RawTable]) -> dict[str, RawTable]:
    """Each event role with the table whose columns fit its required ones best (a table plays one role).

    PARAMCD does not count: a raw form is usually one parameter, given as a constant."""
    scored = []
    for table in events:
        for role in EVENT_ROLES:
            needs = [n if isinstance(n, tuple) else (n,) for n in REQUIRED[role] if n not in ("USUBJID", "PARAMCD")]
            fit = np.mean([max(name_score(o, c) for o in options for c in table.frame.columns)
                           for options in needs])
            scored.append((fit, role, table))
    out: dict[str, RawTable] = {}
    for fit, role, table in sorted(scored, key=lambda s: -s[0]):
        if fit >= REQUIRED_SCORE and role not in out and all(table is not t for t in out.values()):
            out[role] = table
    return out


def _join_key(base_key: str, key: str) -> str:
    return _yaml(base_key) if base_key == key else f"{{{_yaml(base_key)}: {_yaml(key)}}}"


def _required_names(role: str) -> tuple[str, ...]:
    """A role's required columns with their alternatives, flattened, in order."""
    return tuple(o for n in REQUIRED[role] for o in (n if isinstance(n, tuple) else (n,)))


def _assign_columns(role: str, frame: pd.DataFrame, fixed: dict[str, str]) -> dict[str, str]:
    """Standard column -> file column, best matches first, each file column used once."""
    spec = TABLE_SPECS.get(role)
    required = set(_required_names(role))
    wanted = list(dict.fromkeys([*(spec.column_names if spec else ()), *required]))
    pairs = sorted(((name_score(std, col), std, col) for std in wanted if std not in fixed
                    for col in frame.columns if col not in fixed.values()), key=lambda p: -p[0])
    out = dict(fixed)
    used = set(fixed.values())
    for score, std, col in pairs:
        threshold = REQUIRED_SCORE if std in required else OPTIONAL_SCORE
        if score >= threshold and std not in out and col not in used:
            out[std] = col
            used.add(col)
    return out


def _column_lines(role: str, frame: pd.DataFrame, fixed: dict[str, str]) -> list[str]:
    """The `columns:` block of one role: every matched column that needs a line, placeholders for the rest."""
    assigned = _assign_columns(role, frame, fixed)
    lines = []
    for options in REQUIRED[role]:
        options = options if isinstance(options, tuple) else (options,)
        if not any(o in assigned for o in options):
            std = options[0]
            if std == "STUDYID":
                lines.append(f"    STUDYID: {{value: {_yaml('<study identifier>')}}}")
            elif std == "PARAMCD":
                lines.append(f"    PARAMCD: {{value: {_yaml('<parameter code, e.g. OVRLRESP>')}}}")
            else:
                lines.append(f"    {std}: {_yaml(f'<name of the column holding {_label_of(std).lower()}>')}")
    order = [*_required_names(role), *(TABLE_SPECS[role].column_names if role in TABLE_SPECS else ())]
    rank = {std: number for number, std in reversed(list(enumerate(order)))}
    for std, col in sorted(assigned.items(), key=lambda item: rank.get(item[0], len(order))):
        parts = _rule_parts(role, std, frame[col])
        if col == std and not parts:
            continue  # passes through under its own name
        if parts:
            lines.append(f"    {std}: {{column: {_yaml(col)}, {', '.join(parts)}}}")
        else:
            lines.append(f"    {std}: {_yaml(col)}")
    return ["  columns:", *lines] if lines else []


def _rule_parts(role: str, std: str, values: pd.Series) -> list[str]:
    """The `format:` / `recode:` a column needs, judged from its values."""
    spec = TABLE_SPECS.get(role)
    column = spec.column(std) if spec and std in spec.column_names else None
    distinct = _text_of(pd.Series(values.dropna().unique(), dtype=object)).dropna().drop_duplicates()
    if distinct.empty or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return []
    if column is not None and column.dtype == "date":
        fmt = guess_date_format(distinct)
        return [] if fmt in NATIVE_DATE_FORMATS else [f"format: {_yaml(fmt)}"]
    if std == "ARM" and len(distinct) <= 12 and distinct.str.len().max() <= 3:
        codes = sorted(distinct, key=lambda v: (len(v), v))
        return ["recode: {" + ", ".join(f"{_yaml(c)}: {_yaml(f'<arm name for code {c}>')}" for c in codes) + "}"]
    if column is None or not column.allowed or len(distinct) > 12:
        return []
    upper = distinct.str.upper()
    if set(column.allowed) <= {"Y", "N"}:
        unknown = distinct[~upper.isin(YES | NO)]
        guesses = {}
    else:
        synonyms = CATEGORY_SYNONYMS.get(std, {})
        unknown = distinct[~upper.map(lambda v: synonyms.get(v, v)).isin(column.allowed)]
        guesses = dict(ISO_5218_SEX) if std == "SEX" else {}
    if unknown.empty:
        return []
    choices = " or ".join(column.allowed)
    entries = [f"{_yaml(v)}: {_yaml(guesses.get(v) or f'<{choices}>')}" for v in sorted(unknown)]
    return ["recode: {" + ", ".join(entries) + "}"]


def guess_date_format(values: pd.Series) -> str:
    """The strptime format that reads every value, or a `<...>` placeholder naming the candidates
    (day-first and month-first both read when every day is <= 12: the data cannot tell)."""
    sample = values.head(2000)
    fits = [f for f in DATE_FORMATS
            if pd.to_datetime(sample, format=f, errors="coerce").notna().all()]
    if len(fits) == 1:
        return fits[0]
    if fits:
        return f"<{' or '.join(fits)}: the values fit both>"
    return f"<strptime format of values like {sample.iloc[0]!r}>"


def _yaml(value: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted (JSON strings are valid YAML)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", value) and value.lower() not in ("yes", "no", "on", "off", "true",
                                                                                   "false", "null", "y", "n"):
        return value
    return json.dumps(value, ensure_ascii=False)
