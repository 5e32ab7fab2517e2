"""SDTM (DM + SUPPDM, DS, EX, SV, AE, RS) -> the dashboard's data model, derived as a trial statistician would.

- Randomization date: DS record with DSDECOD 'RANDOMIZED' (DSSTDTC); subjects with a real arm but
  no such record fall back to DM.RFSTDTC (warned).
- Randomized: a DS 'RANDOMIZED' record or a real arm; screen failures (ARMCD SCRNFAIL, ARM or
  ARMNRS 'SCREEN FAILURE', or no arm) stay in ADSL (RANDFL='N') for the funnel, out of ITT.
- Population flags from SUPPDM when present (ITT/ITTFL, SAFETY/SAFFL, EFFICACY/EFFFL), otherwise the
  ADaM rules (adam.py): ITT = randomized, safety = randomized with a first dose.
- First/last dose: DM.RFXSTDTC/RFXENDTC, else the first EX start / last EX end date.
- Screening date: DM.RFICDTC, else DS 'INFORMED CONSENT OBTAINED', else the first SV visit, else DMDTC.
- Disposition: the last DS 'DISPOSITION EVENT' of a subject: COMPLETED, else DISCONTINUED with its
  DSDECOD as the reason (screen failures: the reason is SFREAS); none yet: ONGOING.
- Last known alive: the latest SV, EX or DS (other than DEATH) date. Death: DM.DTHFL / DTHDTC; a
  partial death date takes the first day of its month/year, or the last-known-alive date when later.
- Analysis days: from DM.RFSTDTC (day 1 = RFSTDTC, the day before is -1; there is no day 0).
- Partial dates imputed as in dates.py (start: first day, end: last day); an imputed AE start date that
  falls before the first dose in the same month/year is set to the first dose date (admiral's rule).
- AE treatment-emergent (TRTEMFL) when AE start >= first dose date.
- Overall survival (ADTTE OS) when DM has death data: origin RANDDT, event DTHDT, censored at the
  last-known-alive date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .adam import _grades, adsl_from_adam, not_randomized_arm
from .conform import conform, duplicates, to_text
from .dates import END, START, study_day, to_dates
from .report import FindingLog

POPULATION_QNAMS = {"ITT": "ITTFL", "ITTFL": "ITTFL", "SAFETY": "SAFFL", "SAFFL": "SAFFL",
                    "EFFICACY": "EFFFL", "EFFFL": "EFFFL", "RANDFL": "RANDFL"}
DS_MILESTONES = frozenset({"RANDOMIZED", "INFORMED CONSENT OBTAINED", "ELIGIBILITY CRITERIA MET",
                           "FINAL LAB VISIT", "FINAL RETRIEVAL VISIT"})


def _dates(frame: pd.DataFrame, column: str, rule: str = START) -> pd.Series:
    return to_dates(frame[column], rule).dates if column in frame.columns else pd.Series(pd.NaT, index=frame.index)


def _per_subject(frame: pd.DataFrame | None, column: str, how: str, rule: str = START) -> pd.Series:
    """The first ('min') or last ('max') date of a column per USUBJID (empty when absent)."""
    if frame is None or column not in frame.columns:
        return pd.Series(dtype="datetime64[ns]")
    dates = to_dates(frame[column], rule).dates
    return dates.groupby(frame["USUBJID"]).agg(how).dropna()


def adsl_from_sdtm(tables: dict[str, tuple[pd.DataFrame, str]], log: FindingLog) -> pd.DataFrame:
    """ADSL from DM (+ SUPPDM, DS, EX, SV); the rules are in the module docstring."""
    dm, dm_source = tables["dm"]
    df = dm.copy()
    if "suppdm" in tables:
        df = _merge_supp(df, tables["suppdm"][0])
    ds = tables.get("ds", (None, None))[0]
    ex = tables.get("ex", (None, None))[0]
    sv = tables.get("sv", (None, None))[0]
    subjects = df["USUBJID"]
    if "ARM" not in df.columns or df["ARM"].isna().all():
        df["ARM"] = df["ARMNRS"] if "ARMNRS" in df.columns else df.get("ARMCD")
    elif "ARMNRS" in df.columns:
        df["ARM"] = df["ARM"].where(df["ARM"].notna(), df["ARMNRS"])
    df["TRT01P"] = df["ARM"]
    if "ACTARM" in df.columns:
        df["TRT01A"] = df["ACTARM"]
    no_arm = not_randomized_arm(df)

    milestones = _ds_rows(ds, lambda d: d.eq("RANDOMIZED"))
    rand = _per_subject(milestones, "DSSTDTC", "min")
    df["RANDDT"] = subjects.map(rand)
    if ds is not None and len(rand):
        df["RANDFL"] = np.where(df["RANDDT"].notna() | ~no_arm, "Y", "N")
    fallback = df["RANDDT"].isna() & ~no_arm
    if fallback.any():
        df.loc[fallback, "RANDDT"] = _dates(df, "RFSTDTC")[fallback]
        where = "DS has no 'RANDOMIZED' record" if ds is not None else "no DS dataset"
        log.warning("adsl", "RANDDT", f"randomization date taken from DM.RFSTDTC ({where})",
                    source=dm_source, frame=df, mask=fallback, columns=["RFSTDTC"])

    df["TRTSDT"] = _dates(df, "RFXSTDTC").where(lambda s: s.notna(), subjects.map(_per_subject(ex, "EXSTDTC", "min")))
    df["TRTEDT"] = _dates(df, "RFXENDTC", END).where(
        lambda s: s.notna(), subjects.map(_per_subject(ex, "EXENDTC", "max", END)))
    consent = _per_subject(_ds_rows(ds, lambda d: d.eq("INFORMED CONSENT OBTAINED")), "DSSTDTC", "min")
    first_visit = _per_subject(sv, "SVSTDTC", "min")
    scrndt = _dates(df, "RFICDTC")
    for fill in (subjects.map(consent), subjects.map(first_visit), _dates(df, "DMDTC")):
        scrndt = scrndt.where(scrndt.notna(), fill)
    df["SCRNDT"] = scrndt
    _disposition_from_ds(df, ds, no_arm)
    alive_ds = _ds_rows(ds, lambda d: ~d.eq("DEATH"))
    last = [s for s in (_per_subject(sv, "SVSTDTC", "max"), _per_subject(sv, "SVENDTC", "max", END),
                        _per_subject(ex, "EXENDTC", "max", END), _per_subject(alive_ds, "DSSTDTC", "max")) if len(s)]
    if last:
        df["LSTALVDT"] = subjects.map(pd.concat(last, axis=1).max(axis=1))
    if "DTHDTC" in df.columns:
        death = to_dates(df["DTHDTC"])
        df["DTHDT"] = death.dates
        if death.imputed.any() and "LSTALVDT" in df.columns:
            # a partial death date is never imputed before the last date the subject was known alive
            later = death.imputed & (df["LSTALVDT"] > death.dates)
            df.loc[later, "DTHDT"] = df.loc[later, "LSTALVDT"]
            log.warning("adsl", "DTHDT", "partial death dates imputed to the first day of the month/year, or the "
                        "last-known-alive date when later", source=dm_source, frame=df, mask=death.imputed,
                        columns=["DTHDTC"])
    if "SFREAS" not in df.columns and "ARMNRS" in df.columns:
        df["SFREAS"] = df["ARMNRS"].where(no_arm)
    return adsl_from_adam(df, log, dm_source)


def _merge_supp(dm: pd.DataFrame, supp: pd.DataFrame) -> pd.DataFrame:
    """DM with SUPPDM qualifiers as columns (population QNAMs renamed to their ADaM flags)."""
    wide = supp.pivot_table(index="USUBJID", columns="QNAM", values="QVAL", aggfunc="first")
    wide = wide.rename(columns=lambda q: POPULATION_QNAMS.get(str(q).upper(), str(q).upper()))
    wide = wide[[c for c in wide.columns if c not in dm.columns]]
    return dm.merge(wide, how="left", left_on="USUBJID", right_index=True)


def _ds_rows(ds: pd.DataFrame | None, predicate) -> pd.DataFrame | None:
    if ds is None or "DSDECOD" not in ds.columns:
        return None
    decod = to_text(ds["DSDECOD"]).str.upper()
    return ds.loc[predicate(decod)]


def _disposition_from_ds(df: pd.DataFrame, ds: pd.DataFrame | None, no_arm: pd.Series) -> None:
    if ds is None:
        return
    decod = to_text(ds["DSDECOD"]).str.upper()
    if "DSCAT" in ds.columns:
        is_event = to_text(ds["DSCAT"]).str.upper().eq("DISPOSITION EVENT")
    else:
        is_event = ~decod.isin(DS_MILESTONES)
    events = ds.loc[is_event].assign(_DT=_dates(ds, "DSSTDTC")[is_event], _DECOD=decod[is_event])
    last = events.sort_values("_DT", na_position="first").drop_duplicates("USUBJID", keep="last").set_index("USUBJID")
    status = df["USUBJID"].map(last["_DECOD"])
    df["EOSSTT"] = np.select([no_arm & status.notna(), status.eq("COMPLETED"), status.notna()],
                             ["NOT RANDOMIZED", "COMPLETED", "DISCONTINUED"], "ONGOING")
    df["EOSSTT"] = df["EOSSTT"].where(~no_arm, "NOT RANDOMIZED")
    df["DCSREAS"] = status.where(~status.eq("COMPLETED") & ~no_arm)
    df["EOSDT"] = df["USUBJID"].map(last["_DT"])
    term = df["USUBJID"].map(to_text(last["DSTERM"])) if "DSTERM" in last.columns else status
    df["SFREAS"] = term.where(no_arm)


def adae_from_sdtm(ae: pd.DataFrame, adsl: pd.DataFrame, dm: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADAE from AE: analysis dates (imputed, flagged), days from RFSTDTC, treatment-emergence, grades."""
    df = ae.copy()
    df["ASTDT"] = df["AESTDTC"] if "AESTDTC" in df.columns else pd.NaT
    if "AEENDTC" in df.columns:
        df["AENDT"] = df["AEENDTC"]
    if "AEBODSYS" not in df.columns and "AESOC" in df.columns:
        df["AEBODSYS"] = df["AESOC"]
    if "AETOXGR" in df.columns:
        df["AETOXGRN"] = _grades(df["AETOXGR"], "AETOXGR", ae, log, source)
    for col in ("AESEV", "AEREL", "AEOUT"):
        if col in df.columns:
            df[col] = to_text(df[col]).str.upper()
    out = conform("adae", df, log, source)
    first_dose = out["USUBJID"].map(adsl.set_index("USUBJID")["TRTSDT"]) if "TRTSDT" in adsl else None
    if first_dose is not None and "ASTDTF" in out.columns:
        flag = out["ASTDTF"].fillna("")
        period_end = (out["ASTDT"] + pd.offsets.MonthEnd(0)).where(flag.ne("M"), out["ASTDT"] + pd.offsets.YearEnd(0))
        moved = flag.ne("") & (out["ASTDT"] < first_dose) & (first_dose <= period_end)
        out.loc[moved, "ASTDT"] = first_dose[moved]
    reference = out["USUBJID"].map(_rfstdt(dm))
    out["ASTDY"] = study_day(out["ASTDT"], reference)
    if "AENDT" in out.columns:
        out["AENDY"] = study_day(out["AENDT"], reference)
    if first_dose is not None:
        out["TRTEMFL"] = np.where(out["ASTDT"].isna() | first_dose.isna(), None,
                                  np.where(out["ASTDT"] >= first_dose, "Y", "N"))
    duplicates("adae", out, ["USUBJID", "AESEQ"], log, source, severity="warning")
    return out


def _rfstdt(dm: pd.DataFrame) -> pd.Series:
    return pd.Series(_dates(dm, "RFSTDTC").to_numpy(), index=dm["USUBJID"])


def adrs_from_sdtm(rs: pd.DataFrame, dm: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADRS from RS: PARAMCD = RSTESTCD, AVALC = RSSTRESC (else RSORRES), ADT = RSDTC, ADY from RFSTDTC."""
    df = rs.copy()
    df["PARAMCD"] = df["RSTESTCD"]
    if "RSTEST" in df.columns:
        df["PARAM"] = df["RSTEST"]
    result = df["RSSTRESC"] if "RSSTRESC" in df.columns else df["RSORRES"]
    if "RSORRES" in df.columns:
        result = result.where(result.notna(), df["RSORRES"])
    df["AVALC"] = to_text(result)
    empty = df["AVALC"].isna()
    if empty.any():
        log.warning("adrs", "RSSTRESC", "assessments without a result (not done) dropped", source=source,
                    frame=rs, mask=empty, columns=["RSTESTCD"])
        df = df.loc[~empty]
    if "RSDTC" in df.columns:
        df["ADT"] = df["RSDTC"]
    if "VISIT" in df.columns:
        df["AVISIT"] = df["VISIT"]
    if "VISITDY" in df.columns:
        df["AVISITN"] = df["VISITDY"]
    out = conform("adrs", df, log, source)
    if "ADT" in out.columns:
        out["ADY"] = study_day(out["ADT"], out["USUBJID"].map(_rfstdt(dm)))
    return out.reset_index(drop=True)


def adex_from_sdtm(ex: pd.DataFrame, dm: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADEX from EX: one row per dose, ASTDT = EXSTDTC, ASTDY from RFSTDTC."""
    df = ex.copy()
    if "EXSTDTC" in df.columns:
        df["ASTDT"] = df["EXSTDTC"]
    out = conform("adex", df, log, source)
    if "ASTDT" in out.columns:
        out["ASTDY"] = study_day(out["ASTDT"], out["USUBJID"].map(_rfstdt(dm)))
    return out


def os_from_adsl(adsl: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame | None:
    """ADTTE overall survival derived from ADSL death and last-known-alive dates (randomized subjects)."""
    if "DTHDT" not in adsl.columns or "LSTALVDT" not in adsl.columns:
        return None
    subj = adsl.loc[(adsl["RANDFL"] == "Y") & adsl["RANDDT"].notna()]
    died = subj["DTHDT"].notna()
    end = subj["DTHDT"].where(died, subj["LSTALVDT"])
    usable = end.notna()
    out = pd.DataFrame({
        "USUBJID": subj["USUBJID"], "PARAMCD": "OS", "PARAM": "Overall survival (derived from DM)",
        "STARTDT": subj["RANDDT"], "ADT": end, "AVAL": (end - subj["RANDDT"]).dt.days + 1.0,
        "CNSR": np.where(died, 0, 1), "EVNTDESC": np.where(died, "DEATH", "LAST KNOWN ALIVE"),
    }).loc[usable]
    log.warning("adtte", "AVAL", "no ADTTE: overall survival derived from DM death date (DTHDTC) and the last "
                "SV/EX/DS date (censoring)", source=source, count=len(out))
    return conform("adtte", out.reset_index(drop=True), log, source)
