"""SDTM (DM, DS, EX, SV, AE, RS and their SUPP-- datasets) -> the dashboard's data model, derived as a
trial statistician would.

- SUPP-- qualifiers (SUPPDM, SUPPAE, SUPPDS, ...) become columns of their parent dataset
  (`merge_supp`): a qualifier with IDVAR/IDVARVAL (e.g. AESEQ = 3) belongs to that record, one with
  a blank IDVAR to every record of the subject; SUPPDM population QNAMs are renamed to their flags.
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
- Last known alive: the latest RANDDT, SV, EX, DS (other than DEATH), AE start or RS date, partial
  dates taken at their earliest (first day), so imputation never moves it later.
- Death: DM.DTHFL / DTHDTC; a partial death date takes the first day of its month/year, or the
  last-known-alive date when that falls later within the same month/year.
- Dates never contradict one another by derivation: death is the last date a subject is known alive,
  so LSTALVDT, EOSDT (disposition) and TRTEDT (last dose) are capped at DTHDT; a screening date from
  the fallbacks (first SV visit, DMDTC) is capped at RANDDT, and a RANDDT from DM.RFSTDTC is raised
  to the screening date. Each capped subject is reported with the source dates that contradict
  (a finding about that subject, not a reason to refuse the trial).
- Analysis days: from DM.RFSTDTC (day 1 = RFSTDTC, the day before is -1; there is no day 0).
- Partial dates imputed as in dates.py (start: first day, end: last day); an imputed AE start date that
  falls before the first dose in the same month/year is set to the first dose date (admiral's rule).
- AE treatment-emergent (TRTEMFL 'Y') when the AE starts on or after the first dose; an AE without a
  start date is treatment-emergent unless it ended before the first dose; never-treated subjects 'N'.
- Y/N flags (DTHFL, AESER, TRTEMFL, ...) come out as 'Y'/'N' as in adam.py (`read_flags`).
- Overall survival (ADTTE OS) when DM has death data: origin RANDDT, event DTHDT, censored at the
  last-known-alive date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .adam import _grades, adsl_from_adam, keep_order, not_randomized_arm, read_flags, upper_text
from .conform import conform, duplicates, to_text
from .dates import END, START, study_day, to_dates
from .report import FindingLog

POPULATION_QNAMS = {"ITT": "ITTFL", "ITTFL": "ITTFL", "SAFETY": "SAFFL", "SAFFL": "SAFFL",
                    "EFFICACY": "EFFFL", "EFFFL": "EFFFL", "RANDFL": "RANDFL"}
DS_MILESTONES = frozenset({"RANDOMIZED", "INFORMED CONSENT OBTAINED", "ELIGIBILITY CRITERIA MET",
                           "FINAL LAB VISIT", "FINAL RETRIEVAL VISIT"})
# Screening-date sources that are not the informed consent itself.
SCREENING_FALLBACKS = ("SV first visit", "DM.DMDTC")


def _dates(frame: pd.DataFrame, column: str, rule: str = START) -> pd.Series:
    return to_dates(frame[column], rule).dates if column in frame.columns else pd.Series(pd.NaT, index=frame.index)


def _per_subject(frame: pd.DataFrame | None, column: str, how: str, rule: str = START) -> pd.Series:
    """The first ('min') or last ('max') date of a column per USUBJID (empty when absent)."""
    if frame is None or column not in frame.columns:
        return pd.Series(dtype="datetime64[ns]")
    dates = to_dates(frame[column], rule).dates
    return dates.groupby(frame["USUBJID"]).agg(how).dropna()


def _first_date(index, candidates) -> tuple[pd.Series, pd.Series]:
    """Per row, the first of (label, dates) candidates that has a date, and the label it came from."""
    dates = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    origin = pd.Series(None, index=index, dtype=object)
    for label, values in candidates:
        fill = dates.isna() & values.notna()
        dates[fill] = values[fill]
        origin[fill] = label
    return dates, origin


def _latest_date(subjects: pd.Series, sources) -> tuple[pd.Series, pd.Series]:
    """Per subject, the latest date among (frame, column) sources (partial dates at their first day)
    and which 'DOMAIN.COLUMN' it came from; both missing when no source has a date."""
    long = [pd.DataFrame({"USUBJID": frame["USUBJID"], "DATE": to_dates(frame[column]).dates,
                          "SOURCE": f"{label}.{column}"})
            for frame, column, label in sources if frame is not None and column in frame.columns]
    if not long:
        empty = pd.Series(pd.NaT, index=subjects.index, dtype="datetime64[ns]")
        return empty, pd.Series(None, index=subjects.index, dtype=object)
    latest = (pd.concat(long).dropna(subset=["DATE"]).sort_values("DATE", kind="stable")
              .drop_duplicates("USUBJID", keep="last").set_index("USUBJID"))
    return subjects.map(latest["DATE"]).astype("datetime64[ns]"), subjects.map(latest["SOURCE"])


def with_supplements(tables: dict[str, tuple[pd.DataFrame, str]], log: FindingLog) -> dict:
    """The SDTM tables with every SUPP-- dataset merged into its parent (and no longer listed itself)."""
    out = dict(tables)
    for role in [r for r in tables if r.startswith("supp")]:
        supp, source = out.pop(role)
        parent = role[4:]
        if parent not in out:
            log.warning(role, None, f"file ignored: {role.upper()} qualifies {parent.upper()}, which is absent",
                        source=source, count=len(supp))
            continue
        frame, parent_source = out[parent]
        renames = POPULATION_QNAMS if parent == "dm" else {}
        out[parent] = (merge_supp(frame, supp, log, source, renames), parent_source)
    return out


def merge_supp(parent: pd.DataFrame, supp: pd.DataFrame, log: FindingLog | None = None, source=None,
               renames=None) -> pd.DataFrame:
    """`parent` with its SUPP-- qualifiers as columns (QNAM -> QVAL, QNAM renamed by `renames`).

    A qualifier whose IDVAR is set (e.g. AESEQ) applies to the parent record with that IDVARVAL; a
    blank IDVAR applies to every record of the subject. Columns the parent already has are kept, and
    qualifiers that match no parent record (or name a column the parent lacks) are reported.
    Requires USUBJID in both, QNAM and QVAL in `supp`.
    """
    log = log or FindingLog()
    domain = upper_text(supp.get("RDOMAIN"), supp.index).dropna()
    table = f"supp{domain.iloc[0].lower()}" if len(domain) else "supp"
    qnam = upper_text(supp["QNAM"]).map(lambda q: (renames or {}).get(q, q))
    quals = pd.DataFrame({"USUBJID": to_text(supp["USUBJID"]), "IDVAR": upper_text(supp.get("IDVAR"), supp.index),
                          "KEY": to_text(supp["IDVARVAL"]) if "IDVARVAL" in supp else np.nan,
                          "QNAM": qnam, "QVAL": supp["QVAL"]}).loc[qnam.notna()]
    kept = [q for q in dict.fromkeys(quals["QNAM"]) if q in parent.columns]
    if kept:
        log.warning(table, None, f"qualifiers {', '.join(kept)} are also columns of the parent: the parent's "
                    "values are kept", source=source, count=int(quals["QNAM"].isin(kept).sum()))
    quals = quals.loc[~quals["QNAM"].isin(kept)]
    out = parent.copy()
    subjects = to_text(parent["USUBJID"])
    unmatched = pd.Series(False, index=supp.index)
    for var, group in quals.groupby(quals["IDVAR"].fillna(""), sort=False):
        if var and var not in parent.columns:
            log.warning(table, "IDVAR", f"IDVAR {var} is not a column of the parent dataset: its qualifiers are "
                        "ignored", source=source, frame=supp, mask=supp.index.to_series().isin(group.index),
                        columns=["QNAM"])
            continue
        parent_key = subjects if not var else subjects + "|" + to_text(parent[var]).fillna("")
        key = group["USUBJID"] if not var else group["USUBJID"] + "|" + group["KEY"].fillna("")
        unmatched[group.index] = ~key.isin(set(parent_key))
        wide = group.assign(_KEY=key).drop_duplicates(["_KEY", "QNAM"]).pivot(index="_KEY", columns="QNAM",
                                                                                values="QVAL")
        for name in wide.columns:
            values = parent_key.map(wide[name])
            out[name] = values if name not in out.columns else out[name].where(out[name].notna(), values)
    if unmatched.any():
        log.warning(table, "IDVARVAL", "qualifiers that match no record of the parent dataset are ignored",
                    source=source, frame=supp, mask=unmatched, columns=["IDVAR", "QNAM"])
    return out


def adsl_from_sdtm(tables: dict[str, tuple[pd.DataFrame, str]], log: FindingLog) -> pd.DataFrame:
    """ADSL from DM (SUPPDM merged), DS, EX, SV, AE and RS; the rules are in the module docstring."""
    dm, dm_source = tables["dm"]
    df = dm.copy()
    ds, ex, sv, ae, rs = (tables.get(role, (None, None))[0] for role in ("ds", "ex", "sv", "ae", "rs"))
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
    df["RANDDT"] = subjects.map(rand).astype("datetime64[ns]")
    if ds is not None and len(rand):
        df["RANDFL"] = np.where(df["RANDDT"].notna() | ~no_arm, "Y", "N")
    rand_fallback = df["RANDDT"].isna() & ~no_arm
    if rand_fallback.any():
        df.loc[rand_fallback, "RANDDT"] = _dates(df, "RFSTDTC")[rand_fallback]
        where = "DS has no 'RANDOMIZED' record" if ds is not None else "no DS dataset"
        log.warning("adsl", "RANDDT", f"randomization date taken from DM.RFSTDTC ({where})",
                    source=dm_source, frame=df, mask=rand_fallback, columns=["RFSTDTC"])

    df["TRTSDT"] = _first_date(df.index, [("DM.RFXSTDTC", _dates(df, "RFXSTDTC")),
                                          ("EX.EXSTDTC", subjects.map(_per_subject(ex, "EXSTDTC", "min")))])[0]
    df["TRTEDT"], last_dose_origin = _first_date(df.index, [
        ("DM.RFXENDTC", _dates(df, "RFXENDTC", END)),
        ("EX.EXENDTC", subjects.map(_per_subject(ex, "EXENDTC", "max", END)))])
    consent = _per_subject(_ds_rows(ds, lambda d: d.eq("INFORMED CONSENT OBTAINED")), "DSSTDTC", "min")
    df["SCRNDT"], screen_origin = _first_date(df.index, [
        ("DM.RFICDTC", _dates(df, "RFICDTC")), ("DS.DSSTDTC informed consent", subjects.map(consent)),
        (SCREENING_FALLBACKS[0], subjects.map(_per_subject(sv, "SVSTDTC", "min"))),
        (SCREENING_FALLBACKS[1], _dates(df, "DMDTC"))])
    _disposition_from_ds(df, ds, no_arm)
    alive_ds = _ds_rows(ds, lambda d: ~d.eq("DEATH"))
    alive_sources = [(sv, "SVSTDTC", "SV"), (sv, "SVENDTC", "SV"), (ex, "EXSTDTC", "EX"), (ex, "EXENDTC", "EX"),
                     (alive_ds, "DSSTDTC", "DS"), (ae, "AESTDTC", "AE"), (rs, "RSDTC", "RS")]
    alive, alive_origin = _latest_date(subjects, alive_sources)
    if alive.notna().any():
        randomization_later = df["RANDDT"].notna() & ~(alive >= df["RANDDT"])
        df["LSTALVDT"] = alive.where(~randomization_later, df["RANDDT"])
        alive_origin = alive_origin.where(~randomization_later, "RANDDT")
    if "DTHDTC" in df.columns:
        _death_date(df, log, dm_source)
        derived = pd.Series(True, index=df.index)  # LSTALVDT and EOSDT always are, in SDTM
        keep_order(df, "LSTALVDT", "DTHDT", "LSTALVDT", derived, alive_origin, log, dm_source)
        keep_order(df, "EOSDT", "DTHDT", "EOSDT", derived, pd.Series("DS.DSSTDTC", index=df.index), log, dm_source)
        keep_order(df, "TRTEDT", "DTHDT", "TRTEDT", last_dose_origin.notna(), last_dose_origin, log, dm_source)
    keep_order(df, "SCRNDT", "RANDDT", "SCRNDT", screen_origin.isin(SCREENING_FALLBACKS), screen_origin, log,
               dm_source)
    keep_order(df, "SCRNDT", "RANDDT", "RANDDT", rand_fallback, pd.Series("DM.RFSTDTC", index=df.index), log,
               dm_source)
    if "SFREAS" not in df.columns and "ARMNRS" in df.columns:
        df["SFREAS"] = df["ARMNRS"].where(no_arm)
    return adsl_from_adam(df, log, dm_source)


def _death_date(df: pd.DataFrame, log: FindingLog, source) -> None:
    """DTHDT from DTHDTC; a partial date takes the first day of its period, or the last date the subject
    was known alive (LSTALVDT, RANDDT) when that falls later within the same period."""
    death = to_dates(df["DTHDTC"])
    df["DTHDT"] = death.dates
    if not death.imputed.any():
        return
    period_end = to_dates(df["DTHDTC"], END).dates
    alive = df[[c for c in ("LSTALVDT", "RANDDT") if c in df.columns]].max(axis=1)
    later = death.imputed & (alive > death.dates) & (alive <= period_end)
    df.loc[later, "DTHDT"] = alive[later]
    log.warning("adsl", "DTHDT", "partial death dates imputed to the first day of the month/year, or the "
                "last-known-alive date when later in that month/year", source=source, frame=df,
                mask=death.imputed, columns=["DTHDTC"])


def _ds_rows(ds: pd.DataFrame | None, predicate) -> pd.DataFrame | None:
    if ds is None or "DSDECOD" not in ds.columns:
        return None
    return ds.loc[predicate(upper_text(ds["DSDECOD"]))]


def _disposition_from_ds(df: pd.DataFrame, ds: pd.DataFrame | None, no_arm: pd.Series) -> None:
    if ds is None:
        return
    decod = upper_text(ds["DSDECOD"])
    if "DSCAT" in ds.columns:
        is_event = upper_text(ds["DSCAT"]).eq("DISPOSITION EVENT")
    else:
        is_event = ~decod.isin(DS_MILESTONES)
    events = ds.loc[is_event].assign(_DT=_dates(ds, "DSSTDTC")[is_event], _DECOD=decod[is_event])
    last = events.sort_values("_DT", na_position="first").drop_duplicates("USUBJID", keep="last").set_index("USUBJID")
    status = df["USUBJID"].map(last["_DECOD"])
    df["EOSSTT"] = np.select([no_arm & status.notna(), status.eq("COMPLETED"), status.notna()],
                             ["NOT RANDOMIZED", "COMPLETED", "DISCONTINUED"], "ONGOING")
    df["EOSSTT"] = df["EOSSTT"].where(~no_arm, "NOT RANDOMIZED")
    df["DCSREAS"] = status.where(~status.eq("COMPLETED") & ~no_arm)
    df["EOSDT"] = df["USUBJID"].map(last["_DT"]).astype("datetime64[ns]")
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
            df[col] = upper_text(df[col])
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
        ended_before = out["AENDT"] < first_dose if "AENDT" in out.columns else False
        emergent = (out["ASTDT"] >= first_dose) | (out["ASTDT"].isna() & ~ended_before)
        out["TRTEMFL"] = np.where(first_dose.notna() & emergent, "Y", "N")
    duplicates("adae", out, ["USUBJID", "AESEQ"], log, source, severity="warning")
    return read_flags("adae", out, log, source)


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
