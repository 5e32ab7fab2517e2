"""A loaded trial's identity and plan (`TrialInfo`) read from the data, never from code.

Sources, each overriding the one before (every value keeps a note of where it came from, in
`TrialInfo.sources`):

1. ADSL/DM: STUDYID (title "Study <STUDYID>", registry id and short name), the randomized arms,
   and the variable labels the data files carry (SAS / Dataset-JSON labels).
2. `define.xml` next to the data: StudyName (short name), StudyDescription (title, unless it only
   says "... Data Definition") and the variable labels of each dataset it describes.
3. SDTM trial design: TS (TITLE, ACRONYM, REGID, PLANSUB = enrollment target, SSTDTC = enrollment
   start, SPONSOR, TPHASE), TA (arms in protocol order), TV (planned visits: VISITDY and VISIT).
4. `trial.yaml` next to the data: any `TrialInfo` key (`title`, `target_enrollment`, ...).

Nothing here can block loading: an unreadable or contradictory source is a warning and is skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Mapping

import pandas as pd
import yaml

from ..config import TrialInfo, generic_trial_info
from .adam import upper_text
from .define import read_define
from .conform import to_text
from .dates import to_dates
from .report import FindingLog

TRIAL_FILE = "trial.yaml"
# TS parameter codes -> TrialInfo fields (TPHASE is the SDTM code; PHASE is seen in older exports).
TS_FIELDS = {"TITLE": "title", "ACRONYM": "short_name", "REGID": "registry_id", "PLANSUB": "target_enrollment",
             "SSTDTC": "planned_enrollment_start", "SPONSOR": "sponsor", "TPHASE": "phase", "PHASE": "phase"}


def trial_info(adsl: pd.DataFrame, design: dict[str, tuple[pd.DataFrame, str]], folders, log: FindingLog,
               labels: Mapping[str, Mapping[str, str]] | None = None) -> TrialInfo:
    """The TrialInfo of a loaded ADaM/SDTM trial (order of sources in the module docstring).

    adsl: the model's subject table (STUDYID, ARM, RANDFL); design: SDTM trial design frames by role
    ('ts', 'ta', 'tv') with their file paths; folders: where to look for define.xml and trial.yaml;
    labels: the variable labels the data files carry, by dataset role ({'adsl': {'AGE': 'Age'}}).
    """
    study = str(adsl["STUDYID"].dropna().iloc[0]) if adsl["STUDYID"].notna().any() else "unknown"
    arms = sorted(adsl.loc[adsl["RANDFL"] == "Y", "ARM"].dropna().unique())
    info = generic_trial_info(study, arms)
    file_labels = {role: {k: v for k, v in cols.items() if v} for role, cols in (labels or {}).items()}
    if any(file_labels.values()):
        info = info.updated({"column_labels": {r: c for r, c in file_labels.items() if c}}, "variable labels of the files")
    steps = [_from_define(folders, log, file_labels)]
    for role, parse in (("ts", _from_ts), ("ta", _from_ta), ("tv", _from_tv)):
        if role in design:
            frame, path = design[role]
            if _same_study(frame, study, role, path, log):
                steps.append(parse(frame, Path(path).name, log, path))
    steps.append(_from_trial_file(folders, log))
    for values, sources, path in steps:
        if not values:
            continue
        try:
            info = info.updated(values, sources)
        except ValueError as exc:
            log.warning("trial", None, f"file ignored: not valid trial metadata: {exc}", source=path, count=0)
    return info


def _same_study(frame: pd.DataFrame, study: str, role: str, path, log: FindingLog) -> bool:
    ids = set(upper_text(frame["STUDYID"]).dropna()) if "STUDYID" in frame.columns else set()
    if ids and study.upper() not in ids:
        log.warning(role, "STUDYID", f"file ignored: {role.upper()} describes study {', '.join(sorted(ids))}, "
                    f"the subjects are from {study}", source=path, count=len(frame))
        return False
    return True


def _from_ts(ts: pd.DataFrame, name: str, log: FindingLog, path) -> tuple[dict, dict]:
    """TrialInfo fields from TS parameters (a value longer than 200 characters continues in TSVAL1..n)."""
    if not {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        log.warning("ts", "TSPARMCD", "file ignored: TS needs columns TSPARMCD and TSVAL", source=path, count=len(ts))
        return {}, {}, path
    parts = ["TSVAL"] + sorted((c for c in ts.columns if c.startswith("TSVAL") and c[5:].isdigit()),
                               key=lambda c: int(c[5:]))
    text = to_text(ts[parts[0]])
    for column in parts[1:]:
        text = text.fillna("") + to_text(ts[column]).fillna("")
    ordered = ts.assign(_CODE=upper_text(ts["TSPARMCD"]), _VALUE=text.replace("", pd.NA))
    if "TSSEQ" in ts.columns:
        ordered = ordered.sort_values("TSSEQ", kind="stable")
    values, sources = {}, {}
    for code, field in TS_FIELDS.items():
        rows = ordered.loc[ordered["_CODE"].eq(code) & ordered["_VALUE"].notna(), "_VALUE"]
        if rows.empty or field in values:
            continue
        value = rows.iloc[0]
        if code == "REGID":
            value = next((v for v in rows if str(v).upper().startswith("NCT")), value)
        if field == "target_enrollment":
            number = pd.to_numeric(value, errors="coerce")
            if pd.isna(number) or number != int(number) or number < 0:
                log.warning("ts", "TSVAL", f"PLANSUB {value!r} is not a number of subjects: ignored", source=path,
                            count=1)
                continue
            value = int(number)
        if field == "planned_enrollment_start":
            date = to_dates(pd.Series([value])).dates.iloc[0]
            if pd.isna(date):
                log.warning("ts", "TSVAL", f"SSTDTC {value!r} is not a date: ignored", source=path, count=1)
                continue
            value = date.date().isoformat()
        values[field] = value
        sources[field] = f"TS {code} ({name})"
    return values, sources, path


def _from_ta(ta: pd.DataFrame, name: str, log: FindingLog, path) -> tuple[dict, dict]:
    """Arms in protocol order: TA's ARM values in the order the file lists them."""
    if "ARM" not in ta.columns:
        return {}, {}, path
    arms = list(dict.fromkeys(to_text(ta["ARM"]).dropna()))
    return ({"arm_order": arms}, {"arm_order": f"TA ARM ({name})"}, path) if arms else ({}, {}, path)


def _from_tv(tv: pd.DataFrame, name: str, log: FindingLog, path) -> tuple[dict, dict]:
    """Planned visits: the study days of TV's visits (VISITDY) and their names (VISIT)."""
    if "VISITDY" not in tv.columns:
        return {}, {}, path
    days = pd.to_numeric(to_text(tv["VISITDY"]), errors="coerce")
    whole = days.notna() & (days == days.round())
    if not whole.any():
        return {}, {}, path
    visits = pd.DataFrame({"DAY": days[whole].astype(int),
                           "VISIT": to_text(tv["VISIT"])[whole] if "VISIT" in tv.columns else None})
    visits = visits.sort_values("DAY", kind="stable").drop_duplicates("DAY")
    values = {"visit_days": visits["DAY"].tolist()}
    sources = {"visit_days": f"TV VISITDY ({name})"}
    names = visits.dropna(subset=["VISIT"])
    if len(names):
        values["visit_names"] = dict(zip(names["DAY"], names["VISIT"]))
        sources["visit_names"] = f"TV VISIT ({name})"
    return values, sources, path


def _from_define(folders, log: FindingLog, file_labels: Mapping[str, Mapping[str, str]]) -> tuple[dict, dict]:
    """Study name and description from the first define.xml (Define-XML GlobalVariables) found, and the
    variable labels of the datasets it describes (over the files' own labels, for the datasets loaded)."""
    path = _find(folders, lambda p: p.suffix.lower() == ".xml" and p.stem.lower().startswith("define"))
    if path is None:
        return {}, {}, path
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        log.warning("define", None, f"file ignored: cannot read define.xml: {exc}", source=path, count=0)
        return {}, {}, path
    found = {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in root.iter()
             if el.tag.rsplit("}", 1)[-1] in ("StudyName", "StudyDescription")}
    values, sources = {}, {}
    if found.get("StudyName"):
        values["short_name"], sources["short_name"] = found["StudyName"], f"define.xml StudyName ({path.name})"
    description = found.get("StudyDescription", "")
    if description and "data definition" not in description.lower():
        values["title"], sources["title"] = description, f"define.xml StudyDescription ({path.name})"
    defined = {table: {k: v for k, v in columns.items() if v} for table, columns in read_define(path).columns.items()
               if table in file_labels}
    if any(defined.values()):
        values["column_labels"] = {**file_labels, **{t: {**file_labels[t], **c} for t, c in defined.items()}}
        sources["column_labels"] = f"define.xml ItemDef labels ({path.name}), else the files' labels"
    return values, sources, path


def _from_trial_file(folders, log: FindingLog) -> tuple[dict, dict]:
    """The keys of a trial.yaml next to the data; a file that is not a valid mapping is reported and skipped."""
    path = _find(folders, lambda p: p.name.lower() == TRIAL_FILE)
    if path is None:
        return {}, {}, path
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        data = exc
    if not isinstance(data, dict):
        problem = data if isinstance(data, Exception) else "expected keys such as 'title:' and 'target_enrollment:'"
        log.warning("trial", None, f"file ignored: {TRIAL_FILE} is not valid trial metadata: {problem}",
                    source=path, count=0)
        return {}, {}, path
    return data, {k: TRIAL_FILE for k in data}, path


def _find(folders, wanted) -> Path | None:
    for folder in folders:
        folder = Path(folder)
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and wanted(path):
                    return path
    return None


def search_folders(paths, files) -> list[Path]:
    """Folders to look in for define.xml and trial.yaml: the input folders (or the folders of input files),
    then the folders of the data files read."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    folders = [Path(p) if Path(p).is_dir() else Path(p).parent for p in items]
    folders += [Path(f).parent for f in files]
    return list(dict.fromkeys(folders))
