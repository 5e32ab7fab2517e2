"""Which dataset each file is (ADSL, ADAE, ..., DM, AE, ...) and whether a folder is ADaM, SDTM or ours.

A file's role comes, in order, from: the mapping file's `files:` entry; an SDTM DOMAIN/RDOMAIN
column; its name (a known dataset name as a token of the file name, `adrs_onco.csv` -> adrs, or
the SAS member name); its columns (e.g. PARAMCD + AVAL + CNSR -> adtte). Files matching no known
dataset are reported and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..model.dataset import METADATA_FILE
from .readers import RawTable, is_data_file

ADAM_ROLES = ("adsl", "adae", "adrs", "adtte", "adex", "sites")
SDTM_ROLES = ("dm", "ae", "rs", "ds", "ex", "sv")
# SDTM trial design datasets: trial summary, arms, visits (read for the trial's metadata, never required).
TRIAL_DESIGN_ROLES = ("ts", "ta", "tv")
# PARAMCDs of overall/best response parameters (RECIST, iwCLL, Lugano, GVHD, ...).
RESPONSE_PARAMCDS = frozenset({"OVR", "OVRLRESP", "OVRRESP", "BOR", "CBOR", "BESRSPI", "RSP", "OVRINV", "OVRIRC"})
RESPONSE_VALUES = frozenset({"CR", "PR", "SD", "PD", "NE", "NR", "MR", "NON-CR/NON-PD", "VGPR", "CRI", "PMR"})


@dataclass(frozen=True)
class Detected:
    """A file with the role it plays and why the loader thinks so."""

    table: RawTable
    role: str | None
    reason: str
    origins: tuple[RawTable, ...] = ()  # the files a mapping built this table from (empty: the file itself)

    @property
    def standard(self) -> str | None:
        if self.role in ADAM_ROLES:
            return "ADaM"
        if self.role in SDTM_ROLES + TRIAL_DESIGN_ROLES or (self.role or "").startswith("supp"):
            return "SDTM"
        return None


def data_files(paths) -> list[Path]:
    """The data files named by a folder, a file or a list of them (sorted; sub-folders searched when
    a folder holds no data file itself, e.g. a submission's `adam/` and `sdtm/`)."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if is_data_file(p))
            if not found:
                found = sorted(p for p in path.rglob("*") if is_data_file(p))
            files += found
        elif path.exists() or path.is_symlink():  # a broken symlink is read, and reported, like any file
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def is_model_folder(paths) -> bool:
    """Whether the input is a folder written by `dashboard.model.write_dataset` (has metadata.json)."""
    if isinstance(paths, (list, tuple)):
        return len(paths) == 1 and is_model_folder(paths[0])
    return Path(paths).is_dir() and (Path(paths) / METADATA_FILE).exists()


def name_hint(table: RawTable) -> str | None:
    """The role a file's name (or SAS member name) announces: a known dataset name among its tokens."""
    return _role_in_names(table.stem, (table.member or "").lower())


def blocks_when_unreadable(path: Path) -> bool:
    """Whether a file that cannot be read blocks loading: only when its name announces a dataset the
    dashboard uses (adsl.xpt, ae.csv, ...); an unreadable file of any other name is reported and ignored."""
    return _role_in_names(Path(path).name.split(".")[0].lower()) in ADAM_ROLES + SDTM_ROLES


def _role_in_names(*names: str) -> str | None:
    known = ADAM_ROLES + SDTM_ROLES + TRIAL_DESIGN_ROLES
    for text in names:
        for token in (t for t in re.split(r"[^a-z0-9]+", text) if t):
            if token in known:
                return token
            if re.fullmatch(r"supp[a-z]{2}", token):
                return token
    return None


def content_role(table: RawTable) -> tuple[str | None, str]:
    """The role a file's columns (and a few values) point to, with the evidence; (None, ...) if none."""
    df = table.frame
    cols = set(df.columns)
    if "RDOMAIN" in cols and {"QNAM", "QVAL"} <= cols:
        domain = _single_value(df, "RDOMAIN")
        return (f"supp{domain.lower()}" if domain else None), "RDOMAIN column"
    if "PARAMCD" in cols:  # an ADaM BDS dataset (even when it carries SDTM's DOMAIN along)
        if {"AVAL", "CNSR"} <= cols:
            return "adtte", "columns PARAMCD, AVAL, CNSR"
        if "AVALC" in cols and _looks_like_response(df):
            return "adrs", "columns PARAMCD, AVALC with response values"
        if cols & {"EXTRT", "EXDOSE"}:
            return "adex", "columns PARAMCD, EXTRT/EXDOSE"
        return None, "an ADaM BDS dataset the dashboard does not use"
    if "DOMAIN" in cols:
        domain = (_single_value(df, "DOMAIN") or "").lower()
        if domain in SDTM_ROLES + TRIAL_DESIGN_ROLES:
            return domain, "DOMAIN column"
    if "TSPARMCD" in cols:
        return "ts", "column TSPARMCD"
    unique_subjects = "USUBJID" in cols and df["USUBJID"].is_unique
    if "AEDECOD" in cols:
        if "AESTDTC" in cols and not cols & {"ASTDT", "TRTEMFL", "TRTA"}:
            return "ae", "columns AEDECOD, AESTDTC"
        return "adae", "columns AEDECOD with ADaM variables"
    if unique_subjects and cols & {"TRT01P", "TRT01A"}:
        return "adsl", "one row per USUBJID with TRT01P/TRT01A"
    if unique_subjects and "RFSTDTC" in cols and cols & {"ARM", "ARMCD"}:
        return "dm", "one row per USUBJID with RFSTDTC and ARM"
    if "RSTESTCD" in cols:
        return "rs", "column RSTESTCD"
    if "DSDECOD" in cols:
        return "ds", "column DSDECOD"
    if "EXTRT" in cols:
        if "ASTDT" in cols:
            return "adex", "columns EXTRT, ASTDT"
        if "EXSTDTC" in cols:
            return "ex", "columns EXTRT, EXSTDTC"
    if {"SVSTDTC", "VISITNUM"} <= cols:
        return "sv", "columns SVSTDTC, VISITNUM"
    if "SITEID" in cols and "USUBJID" not in cols and df["SITEID"].is_unique:
        return "sites", "one row per SITEID"
    return None, "no known dataset matches its name or columns"


def _looks_like_response(df) -> bool:
    codes = set(df["PARAMCD"].dropna().astype(str).str.upper())
    if codes & RESPONSE_PARAMCDS or "RSTESTCD" in df.columns:
        return True
    values = df["AVALC"].dropna().astype(str).str.upper()
    return len(values) > 0 and values.isin(RESPONSE_VALUES).mean() >= 0.5


def _single_value(df, column) -> str | None:
    values = df[column].dropna().astype(str).str.strip().str.upper().unique()
    return values[0] if len(values) == 1 else None


def detect(table: RawTable, override: str | None = None) -> Detected:
    """Assign a role to one file (see the module docstring for the order of evidence)."""
    if override:
        return Detected(table, override.lower(), "named in the mapping file")
    role, reason = content_role(table)
    if role and reason in ("DOMAIN column", "RDOMAIN column"):
        return Detected(table, role, reason)
    by_name = name_hint(table)
    if by_name:
        return Detected(table, by_name, "file name")
    return Detected(table, role, reason)


def is_adam_name(table: RawTable) -> bool:
    """Whether an unrecognised file looks like some other ADaM dataset (ADxxxx name or BDS columns)."""
    return table.stem.startswith("ad") or {"PARAMCD", "AVAL"} <= set(table.frame.columns)
