"""ADaM (ADSL, ADAE, ADRS, ADTTE, ADEX) -> the dashboard's data model.

ADaM names are the model's names, so most columns pass through; what real exports leave out is
derived by documented rules, each reported as a warning when used:

- RANDFL absent: 'Y' when RANDDT is present, or (without RANDDT) when ARM is a real arm, i.e. not
  a screen failure / not assigned / not treated (ARMCD SCRNFAIL, NOTASSGN, NOTTRT; ARM text alike).
- RANDDT absent or missing for a randomized subject: TRTSDT (first dose), else RFSTDTC.
- ITTFL absent: RANDFL. SAFFL absent: randomized and TRTSDT present.
- EOSSTT absent: COMPLETED when the disposition (DCDECOD/DCSREAS) says so, DISCONTINUED when it
  names another reason, ONGOING otherwise; screen failures are NOT RANDOMIZED.
- AETOXGRN from AETOXGRN/ATOXGRN, else the grade in AETOXGR/ATOXGR text ("3", "Grade 3").
- ASTDY / ADY absent: study day from RANDDT (day 1 = RANDDT, no day 0).
- SCRNDT absent: RFICDTC (informed consent), else VISIT1DT, DMDTC or SCRFDT; a date from these
  fallbacks that falls after RANDDT is set to RANDDT (a derived date never contradicts another);
  a RANDDT taken from TRTSDT/RFSTDTC that precedes SCRNDT is set to SCRNDT (both reported).
- ADTTE AVAL in days: converted from AVALU (WEEKS, MONTHS, YEARS); without AVALU the unit is
  inferred from ADT - STARTDT when those dates exist. Parameters whose AVALU is not a time unit
  (COUNT, ...) are not times to an event: they are left out, each named in a warning.
- ADRS rows without AVALC (parameters such as 'last disease assessment' with no value) are dropped.

Y/N flags (`read_flags`): every Y/N column of the model comes out as 'Y' or 'N', never blank.
ADaM flags follow the 'Y'/null convention (DTHFL, TRTEMFL, CMPEVFL, organ flags, ...: no 'N'), so a
blank is read as 'N' silently. Flags whose convention is Y/N (the ADSL population flags RANDFL,
ITTFL, SAFFL, EFFFL, and AESER from SDTM's NY codelist) read a blank as 'N' too, with a warning
counting them; a population flag blank in every row is treated as absent (and derived as above).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..config import DAYS_PER_MONTH
from ..model.schema import TABLE_SPECS, YN
from .conform import POPULATION_FLAGS, conform, duplicates, per_distinct, to_flag, to_text
from .dates import study_day, to_dates
from .report import FindingLog

NOT_RANDOMIZED_ARMCD = frozenset({"SCRNFAIL", "NOTASSGN", "NOTTRT", "SCRNFL", "SCREEN FAILURE", "NOT ASSIGNED"})
NOT_RANDOMIZED_ARM = frozenset({"SCREEN FAILURE", "SCREEN FAILED", "NOT ASSIGNED", "NOT RANDOMIZED",
                                "NOT TREATED", "SCREENING FAILURE", "SCRNFAIL", "NOTASSGN"})
SCREEN_FAILURE = "Screen Failure"
UNIT_DAYS = {"DAY": 1.0, "DAYS": 1.0, "D": 1.0, "WEEK": 7.0, "WEEKS": 7.0, "W": 7.0,
             "MONTH": DAYS_PER_MONTH, "MONTHS": DAYS_PER_MONTH, "MO": DAYS_PER_MONTH,
             "YEAR": 365.25, "YEARS": 365.25, "Y": 365.25, "YR": 365.25}
AGE_UNIT_YEARS = {"YEARS": 1.0, "YEAR": 1.0, "MONTHS": 1 / 12, "MONTH": 1 / 12, "WEEKS": 7 / 365.25,
                  "DAYS": 1 / 365.25}
# Flags whose convention is Y/N (a blank is a gap, reported); every other model flag is Y/null.
Y_N_FLAGS = frozenset({*POPULATION_FLAGS, "AESER"})


def upper_text(values: pd.Series | None, index=None) -> pd.Series:
    """Text upper-cased, missing kept missing; safe on columns blank in every row (where pandas'
    `.str` refuses an all-NaN object column). None gives an all-missing series on `index`."""
    if values is None:
        return pd.Series(np.nan, index=index, dtype=object)
    return per_distinct(to_text(values), lambda v: v.upper() if isinstance(v, str) else v)


def read_flags(table: str, df: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """The model's Y/N columns of `table` as 'Y'/'N' only: blank is 'N' (see the module docstring)."""
    out = df.copy()
    for col in TABLE_SPECS[table].columns:
        if col.allowed != YN or col.name not in out.columns:
            continue
        blank = out[col.name].isna()
        if blank.any() and col.name in Y_N_FLAGS:
            log.warning(table, col.name, f"{col.name} blank: read as 'N'", source=source, frame=out, mask=blank)
        out[col.name] = out[col.name].where(~blank, "N")
    return out


def keep_order(df: pd.DataFrame, early: str, late: str, adjust: str, derived: pd.Series, evidence: pd.Series,
               log: FindingLog, source=None) -> None:
    """Where `early` falls after `late` on rows whose `adjust` date was derived, set `adjust` to the other
    date (a derivation never creates a contradiction) and report those subjects with `evidence` (the
    source dates behind it). Works in place on a frame the loader owns."""
    if not {early, late} <= set(df.columns):
        return
    other = late if adjust == early else early
    wrong = derived.reindex(df.index, fill_value=False) & (df[early] > df[late])
    if not wrong.any():
        return
    shown = pd.DataFrame({"USUBJID": df["USUBJID"], adjust: df[adjust], other: df[other],
                          "SOURCE": evidence.reindex(df.index)})
    df.loc[wrong, adjust] = df.loc[wrong, other]
    relation = "after" if adjust == early else "before"
    log.warning("adsl", adjust, f"{adjust} derived from the source dates fell {relation} {other}: set to {other} "
                "(the source data of these subjects contradict each other)", source=source, frame=shown,
                mask=wrong, columns=[other, "SOURCE"])


def _first(df: pd.DataFrame, *names: str) -> pd.Series | None:
    """The first of several candidate columns that exists, with gaps filled from the later ones."""
    out = None
    for name in names:
        if name in df.columns:
            out = df[name] if out is None else out.where(out.notna(), df[name])
    return out


def not_randomized_arm(adsl: pd.DataFrame) -> pd.Series:
    """Rows whose planned arm is a screen failure / not assigned / not treated, or missing."""
    arm = _first(adsl, "ARM", "TRT01P")
    arm = upper_text(arm, adsl.index)
    armcd = upper_text(adsl.get("ARMCD"), adsl.index)
    return arm.isna() | arm.isin(NOT_RANDOMIZED_ARM) | armcd.isin(NOT_RANDOMIZED_ARMCD)


def adsl_from_adam(raw: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADSL in the model: flags, arm, randomization date, disposition (rules in the module docstring)."""
    df = raw.copy()
    table = "adsl"
    for flag in POPULATION_FLAGS:
        if flag not in df.columns:
            continue
        flags, bad = to_flag(df[flag])
        if bad.any():
            log.warning(table, flag, "values must be Y or N; read as 'N'", source=source, frame=raw, mask=bad)
        if to_text(df[flag]).isna().all():
            df = df.drop(columns=flag)
            log.warning(table, flag, f"{flag} is blank in every row: treated as absent", source=source, count=len(df))
        else:
            df[flag] = flags.where(~bad, "N")
    no_arm = not_randomized_arm(df)
    if "RANDFL" not in df.columns:
        has_rand = to_dates(df["RANDDT"]).dates.notna() if "RANDDT" in df.columns else False
        df["RANDFL"] = np.where(has_rand | ~no_arm, "Y", "N")
        log.warning(table, "RANDFL", "RANDFL absent: derived as 'Y' when RANDDT is present or ARM is a real arm "
                    "(not screen failure / not assigned)", source=source, count=int((df["RANDFL"] == "Y").sum()))
    randomized = df["RANDFL"].eq("Y")
    df["ARM"] = to_text(_first(df, "ARM", "TRT01P"))
    df.loc[~randomized & df["ARM"].isna(), "ARM"] = SCREEN_FAILURE
    if "TRT01A" not in df.columns and "ACTARM" in df.columns:
        df["TRT01A"] = df["ACTARM"]
    for col in ("TRT01P", "TRT01A"):
        if col in df.columns:
            df[col] = to_text(df[col]).where(~no_arm)
    rand_origin = _randomization_date(df, randomized, log, source)
    _population_flags(df, randomized, log, source)
    screen_origin = _screening(df, randomized)
    _disposition(df, randomized, log, source)
    if "AGE" in df.columns and "AGEU" in df.columns:
        unit = upper_text(df["AGEU"]).map(AGE_UNIT_YEARS)
        converted = unit.notna() & (unit != 1.0)
        if converted.any():
            df["AGE"] = pd.to_numeric(to_text(df["AGE"]), errors="coerce") * unit.fillna(1.0)
            log.warning(table, "AGE", "ages given in months/weeks/days (AGEU) converted to years", source=source,
                        frame=raw, mask=converted, columns=["AGEU"])
    for target, origin in (("DTHDT", "DTHDTC"), ("EOSDT", "RFENDT"), ("SITEID", "SITEGR1")):
        if target not in df.columns and origin in df.columns:
            df[target] = df[origin]
    out = read_flags(table, conform(table, df, log, source), log, source)
    keep_order(out, "SCRNDT", "RANDDT", "SCRNDT", screen_origin.notna(), screen_origin, log, source)
    keep_order(out, "SCRNDT", "RANDDT", "RANDDT", rand_origin.notna(), rand_origin, log, source)
    return out


def _randomization_date(df, randomized, log, source) -> pd.Series:
    """Fill RANDDT of randomized subjects lacking one from TRTSDT, else RFSTDTC (warned); returns the
    column each filled date came from (missing where RANDDT was given)."""
    if "RANDDT" in df.columns:
        conv = to_dates(df["RANDDT"])
        if conv.imputed.any():
            log.warning("adsl", "RANDDT", "partial dates imputed to the first day of the month/year (flag RANDDTF)",
                        source=source, frame=df, mask=conv.imputed)
            df["RANDDTF"] = conv.flags
        df["RANDDT"] = conv.dates
    else:
        df["RANDDT"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    origins = pd.Series(None, index=df.index, dtype=object)
    need = randomized & df["RANDDT"].isna()
    if not need.any():
        return origins
    for origin, label in (("TRTSDT", "TRTSDT (first dose)"), ("RFSTDTC", "RFSTDTC (reference start)")):
        if origin not in df.columns:
            continue
        dates = to_dates(df[origin]).dates
        fill = need & dates.notna()
        if fill.any():
            df.loc[fill, "RANDDT"] = dates[fill]
            origins[fill] = origin
            log.warning("adsl", "RANDDT", f"randomization date missing: taken from {label}", source=source,
                        frame=df, mask=fill, columns=[origin])
        need = need & ~fill
    if need.any():
        log.warning("adsl", "RANDDT", "randomized subjects without a randomization date (and no TRTSDT/RFSTDTC)",
                    source=source, frame=df, mask=need)
    return origins


def _population_flags(df, randomized, log, source) -> None:
    if "ITTFL" not in df.columns:
        df["ITTFL"] = df["RANDFL"]
        log.warning("adsl", "ITTFL", "ITTFL absent: intent-to-treat population taken as all randomized subjects "
                    "(RANDFL)", source=source, count=int(randomized.sum()))
    if "SAFFL" not in df.columns:
        treated = df["TRTSDT"].notna() if "TRTSDT" in df.columns else randomized
        df["SAFFL"] = np.where(randomized & treated, "Y", "N")
        log.warning("adsl", "SAFFL", "SAFFL absent: safety population taken as randomized subjects with a first "
                    "dose date (TRTSDT)", source=source, count=int((df["SAFFL"] == "Y").sum()))


def _screening(df, randomized) -> pd.Series:
    """SCRNDT from informed consent or a fallback; returns the fallback column behind each date (missing
    where SCRNDT was given or came from RFICDTC)."""
    origins = pd.Series(None, index=df.index, dtype=object)
    if "SCRNDT" not in df.columns:
        candidates = [c for c in ("RFICDTC", "VISIT1DT", "DMDTC", "SCRFDT") if c in df.columns]
        if candidates:
            df["SCRNDT"] = _first(df, *candidates)
            taken = pd.Series(False, index=df.index)
            for name in candidates:
                found = df[name].notna() & ~taken
                if name != "RFICDTC":
                    origins[found] = name
                taken |= found
    if "SFREAS" not in df.columns:
        reason = _first(df, "SCRFREAS", "DCSREAS", "DCDECOD")
        if reason is not None:
            df["SFREAS"] = to_text(reason).where(~randomized)
    return origins


def _disposition(df, randomized, log, source) -> None:
    reason = _first(df, "DCSREAS", "DCDECOD", "DCREASCD")
    if "EOSSTT" not in df.columns:
        text = upper_text(reason, df.index)
        df["EOSSTT"] = np.select([~randomized, text.eq("COMPLETED"), text.notna()],
                                 ["NOT RANDOMIZED", "COMPLETED", "DISCONTINUED"], "ONGOING")
        if reason is not None:
            log.warning("adsl", "EOSSTT", "EOSSTT absent: end-of-study status derived from the disposition "
                        "reason (COMPLETED / DISCONTINUED / ONGOING)", source=source, count=int(randomized.sum()))
    else:
        status = to_text(df["EOSSTT"])
        df["EOSSTT"] = status.where(status.notna() | randomized, "NOT RANDOMIZED")
    if "DCSREAS" not in df.columns and reason is not None:
        text = to_text(reason)
        df["DCSREAS"] = text.where(~upper_text(text).eq("COMPLETED"))


def adae_from_adam(raw: pd.DataFrame, adsl: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADAE in the model: SOC, CTCAE grade (numeric), analysis dates and study days."""
    df = raw.copy()
    if "AEBODSYS" not in df.columns and "AESOC" in df.columns:
        df["AEBODSYS"] = df["AESOC"]
    grade_source = next((c for c in ("AETOXGRN", "ATOXGRN", "AETOXGR", "ATOXGR") if c in df.columns), None)
    if grade_source and grade_source != "AETOXGRN":
        df["AETOXGRN"] = _grades(df[grade_source], grade_source, raw, log, source)
    elif grade_source:
        df["AETOXGRN"] = _grades(df["AETOXGRN"], "AETOXGRN", raw, log, source)
    if "ASTDT" not in df.columns and "AESTDTC" in df.columns:
        df["ASTDT"] = df["AESTDTC"]
    if "AENDT" not in df.columns and "AEENDTC" in df.columns:
        df["AENDT"] = df["AEENDTC"]
    for col in ("AESEV", "AEREL", "AEOUT"):
        if col in df.columns:
            df[col] = upper_text(df[col])
    out = read_flags("adae", conform("adae", df, log, source), log, source)
    if "ASTDY" not in raw.columns and "ASTDT" in out.columns:
        out["ASTDY"] = study_day(out["ASTDT"], out["USUBJID"].map(_by_subject(adsl, "RANDDT")))
    duplicates("adae", out, ["USUBJID", "AESEQ"], log, source, severity="warning")
    return out


def _grades(values: pd.Series, name: str, raw, log, source) -> pd.Series:
    """CTCAE grades as numbers from numeric or text grades ('3', 'Grade 3', '3.0'); out-of-range reported."""
    if pd.api.types.is_numeric_dtype(values):
        grades = values.astype("float64")
        unreadable = pd.Series(False, index=values.index)
    else:
        text = to_text(values)
        found = text.astype("string").str.extract(r"^(?:GRADE\s*)?(\d+)(?:\.0+)?$", flags=re.IGNORECASE)[0]
        grades = pd.to_numeric(found, errors="coerce")
        unreadable = text.notna() & grades.isna()
    out_of_range = grades.notna() & ~grades.isin([1, 2, 3, 4, 5])
    if out_of_range.any():
        log.row_level("adae", name, "grade out of range (CTCAE grades are 1-5); set to missing", frame=raw,
                      mask=out_of_range, action="value set to missing", rule_id="value-out-of-range", source=source)
    if unreadable.any():
        log.warning("adae", name, "grades that are not a number 1-5 set to missing", source=source, frame=raw,
                    mask=unreadable)
    return grades.where(~out_of_range)


def _by_subject(adsl: pd.DataFrame, column: str) -> pd.Series:
    if column not in adsl.columns:
        return pd.Series(dtype="datetime64[ns]")
    return adsl.drop_duplicates("USUBJID").set_index("USUBJID")[column]


def adrs_from_adam(raw: pd.DataFrame, adsl: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADRS in the model: response rows with a value (AVALC as given), assessment date and study day."""
    df = raw.copy()
    if "ADT" not in df.columns:
        origin = _first(df, "ADTC", "RSDTC")
        if origin is not None:
            df["ADT"] = origin
    df["AVALC"] = to_text(df["AVALC"])
    empty = df["AVALC"].isna()
    if empty.any():
        per_param = df.loc[empty, "PARAMCD"].value_counts()
        detail = ", ".join(f"{k}: {v}" for k, v in per_param.head(8).items())
        log.warning("adrs", "AVALC", f"rows without a response value (AVALC) dropped ({detail})", source=source,
                    frame=raw, mask=empty, columns=["PARAMCD"])
        df = df.loc[~empty]
    out = conform("adrs", df, log, source)
    if "ADY" not in raw.columns and "ADT" in out.columns:
        out["ADY"] = study_day(out["ADT"], out["USUBJID"].map(_by_subject(adsl, "RANDDT")))
    keys = [c for c in ("USUBJID", "PARAMCD", "ADT", "AVISIT", "RSEVAL") if c in out.columns]
    duplicates("adrs", out, keys, log, source, severity="warning")
    return out.reset_index(drop=True)


def adtte_from_adam(raw: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADTTE in the model: AVAL in days, CNSR 0/1, one row per subject and parameter; parameters that
    are not times (AVALU not a time unit) left out with a warning naming them."""
    raw = _time_parameters(raw, log, source)
    df = conform("adtte", raw, log, source)
    aval = df["AVAL"]
    if "AVALU" in df.columns:
        unit = upper_text(df["AVALU"])
        factor = unit.map(UNIT_DAYS)
        converted = factor.notna() & (factor != 1.0)
        if converted.any():
            df["AVAL"] = aval * factor.fillna(1.0)
            df["AVALU"] = unit.where(~converted, "DAYS")
            log.warning("adtte", "AVAL", "times converted to days from the unit in AVALU", source=source,
                        frame=raw, mask=converted, columns=["AVALU"])
    elif {"ADT", "STARTDT"} <= set(df.columns):
        _infer_time_unit(df, raw, log, source)
    return read_flags("adtte", df, log, source)


def _time_parameters(raw: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """The rows whose AVALU is a time unit (or blank); every other parameter is named in a warning."""
    if "AVALU" not in raw.columns:
        return raw
    unit = upper_text(raw["AVALU"])
    other = unit.notna() & ~unit.isin(list(UNIT_DAYS))
    if not other.any():
        return raw
    shown = raw.assign(AVALU=unit)
    keys = [c for c in ("PARAMCD", "PARAM") if c in raw.columns] + ["AVALU"]
    for values, group in shown.loc[other].groupby(keys, dropna=False, sort=True):
        named = ", ".join(f"{k} {v!r}" for k, v in zip(keys, values if isinstance(values, tuple) else (values,)))
        log.warning("adtte", "AVALU", f"not a time-to-event parameter ({named}: AVALU is not a time unit): "
                    "left out", source=source, frame=raw, mask=raw.index.to_series().isin(group.index),
                    columns=keys)
    return raw.loc[~other]


def _infer_time_unit(df, raw, log, source) -> None:
    days = (df["ADT"] - df["STARTDT"]).dt.days + 1
    usable = days.notna() & (days > 30) & df["AVAL"].notna() & (df["AVAL"] > 0)
    if usable.sum() < 3:
        return
    ratio = float(np.median(df.loc[usable, "AVAL"] / days[usable]))
    for unit, factor in (("WEEKS", 7.0), ("MONTHS", DAYS_PER_MONTH), ("YEARS", 365.25)):
        if abs(ratio * factor - 1) < 0.1:
            df["AVAL"] = df["AVAL"] * factor
            log.warning("adtte", "AVAL", f"AVALU absent and AVAL matches ADT - STARTDT in {unit.lower()}: "
                        "converted to days", source=source, count=int(df["AVAL"].notna().sum()))
            return


def adex_from_adam(raw: pd.DataFrame, adsl: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """ADEX in the model: one row per dose (the DOSE parameter of a BDS ADEX, else every row)."""
    df = raw.copy()
    if "PARAMCD" in df.columns:
        codes = upper_text(df["PARAMCD"])
        if codes.eq("DOSE").any():
            df = df.loc[codes.eq("DOSE")]
            if "EXDOSE" not in df.columns and "AVAL" in df.columns:
                df["EXDOSE"] = df["AVAL"]
            log.warning("adex", "PARAMCD", "BDS exposure: only the per-dose parameter (PARAMCD DOSE) is used",
                        source=source, count=int((~codes.eq("DOSE")).sum()))
    if "EXTRT" not in df.columns:
        df["EXTRT"] = _first(df, "TRTA", "TRTP")
    if "ASTDT" not in df.columns and "EXSTDTC" in df.columns:
        df["ASTDT"] = df["EXSTDTC"]
    out = conform("adex", df, log, source)
    if "ASTDY" not in raw.columns and "ASTDT" in out.columns:
        out["ASTDY"] = study_day(out["ASTDT"], out["USUBJID"].map(_by_subject(adsl, "RANDDT")))
    return out.reset_index(drop=True)


def sites_from_table(raw: pd.DataFrame, log: FindingLog, source=None) -> pd.DataFrame:
    """SITES in the model (our own table: one row per centre)."""
    return conform("sites", raw, log, source)

