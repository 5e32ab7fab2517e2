"""A trial written as a raw EDC extract (not CDISC), with the mapping file that loads it.

What an EDC system and an IxRS hand over before anyone derives ADaM: one CSV per form, lower-case
names, codes instead of labels (sex 1/2, treatment codes 1/2), Yes/No flags, "Grade 3" text,
day-first dates (DD/MM/YYYY; the randomization list DD-MON-YYYY), the subject's data spread over a
screening log (with screen-failure reasons), a demography and baseline form, a separate
randomization list and an end-of-study form; adverse events, GVHD response assessments and the
dosing log as event forms; a site list. `mapping.yaml` joins, recodes and parses them into the
data model (see `dashboard.loaders.mapping`).

Derived data are not part of an extract: time-to-event endpoints, population flags, study days,
treatment-emergent flags and baseline organ-stage rows are left to the loader or absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..model.dataset import TrialDataset

DAY_FIRST = "%d/%m/%Y"
IXRS_DATE = "%d-%b-%Y"
SCREEN_FAILED, RANDOMIZED = "Screen failure", "Randomized"
MAPPING_FILE = "mapping.yaml"
# Raw file name -> what it holds (the files `write_raw_edc` writes, in this order).
FORMS = {
    "site_list.csv": "sites: one row per centre",
    "screening_log.csv": "every screened patient: consent date, outcome, screen-failure reason",
    "subjects.csv": "demography and baseline disease, one row per screened patient",
    "randomization_list.csv": "IxRS randomization list: randomized patients, date, treatment code",
    "end_of_study.csv": "end-of-study form of randomized patients: dosing dates, status, death",
    "ae_log.csv": "adverse events, MedDRA-coded",
    "gvhd_response.csv": "acute GVHD response assessments",
    "dosing_log.csv": "study drug administrations",
}
MAPPING_TEMPLATE = """\
# Mapping of the raw EDC extract written by `trial-dashboard generate --format raw-edc`.
# Schema: see dashboard/loaders/mapping.py (README: "Loading a raw EDC export").
cutoff: {cutoff}

adsl:
  file: screening_log.csv
  join:
    - {{file: subjects.csv, on: subjid}}
    - {{file: randomization_list.csv, on: subjid}}
    - {{file: end_of_study.csv, on: subjid}}
    - {{file: site_list.csv, on: siteid}}
  columns:
    STUDYID: {{value: {study}}}
    USUBJID: subjid
    SUBJID: subjid
    SITENAME: site_name
    SITECITY: city
    ARM: {{column: trt_code, recode: {{{arm_names}}}}}
    ARMCD: {{column: trt_code, recode: {{{arm_codes}}}}}
    RANDFL: {{column: scr_outcome, recode: {{{randomized}: Y, {screen_failed}: N}}}}
    SCRNDT: {{column: icf_dt, format: "{day_first}"}}
    SFREAS: sf_reason
    RANDDT: {{column: rand_dt, format: "{ixrs}"}}
    STRATGR: stratum
    SEX: {{column: sex, recode: {{1: M, 2: F}}}}
    DIAG: diagnosis
    DISSTAT: disease_status
    HLAMATCH: hla_match
    DONREL: donor
    GRAFTSRC: graft_source
    CONDREG: conditioning
    GVHDPROP: gvhd_prophylaxis
    HSCTDT: {{column: hsct_dt, format: "{day_first}"}}
    AGVHDDT: {{column: agvhd_onset_dt, format: "{day_first}"}}
    AGVHDGR: agvhd_grade
    SKINFL: {{column: skin, recode: {{Yes: Y, No: N}}}}
    LIVERFL: {{column: liver, recode: {{Yes: Y, No: N}}}}
    UGIFL: {{column: upper_gi, recode: {{Yes: Y, No: N}}}}
    LGIFL: {{column: lower_gi, recode: {{Yes: Y, No: N}}}}
    TRTSDT: {{column: first_dose_dt, format: "{day_first}"}}
    TRTEDT: {{column: last_dose_dt, format: "{day_first}"}}
    EOSSTT: eos_status
    EOSDT: {{column: eos_dt, format: "{day_first}"}}
    DCSREAS: eos_reason
    DTHFL: {{column: died, recode: {{Yes: Y, No: N}}}}
    DTHDT: {{column: death_dt, format: "{day_first}"}}
    DTHCAUS: death_cause
    LSTALVDT: {{column: last_alive_dt, format: "{day_first}"}}

adae:
  file: ae_log.csv
  columns:
    USUBJID: subjid
    AESEQ: aespid
    AEDECOD: aeterm_pt
    AEBODSYS: aeterm_soc
    AETOXGRN: grade
    AESEV: severity
    AESER: {{column: aeser, recode: {{Yes: Y, No: N}}}}
    AEREL: relationship
    AEOUT: outcome
    ASTDT: {{column: aest_dt, format: "{day_first}"}}
    AENDT: {{column: aeen_dt, format: "{day_first}"}}
    AECAT: category
    INFTYPE: infection_type

adrs:
  file: gvhd_response.csv
  columns:
    USUBJID: subjid
    PARAMCD: {{value: OVRLRESP}}
    PARAM: {{value: Overall response of acute GVHD}}
    AVISIT: visit
    AVISITN: visit_day
    ADT: {{column: assess_dt, format: "{day_first}"}}
    AVALC: overall_response
    SKINSTG: skin_stage
    LIVERSTG: liver_stage
    GISTG: gi_stage

adex:
  file: dosing_log.csv
  columns:
    USUBJID: subjid
    EXTRT: drug
    EXDOSE: dose
    EXDOSU: dose_unit
    EXCYCLE: cycle
    ASTDT: {{column: dose_dt, format: "{day_first}"}}

sites:
  file: site_list.csv
  columns:
    SITENAME: site_name
    CITY: city
    ACTIVDT: {{column: activation_dt, format: "{day_first}"}}
    TARGET: target_n
"""


def write_raw_edc(dataset: TrialDataset, out) -> list[Path]:
    """Write a synthetic trial (`simulate_trial`) as a raw EDC extract, one CSV per form (see FORMS), plus
    its mapping.yaml; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    codes = {arm: str(number) for number, arm in enumerate(dataset.arms, start=1)}
    frames = raw_forms(dataset, codes)
    paths = []
    for name in FORMS:
        path = out / name
        frames[name].to_csv(path, index=False)
        paths.append(path)
    mapping = out / MAPPING_FILE
    mapping.write_text(raw_edc_mapping(dataset, codes), encoding="utf-8")
    return [*paths, mapping]


def raw_edc_mapping(dataset: TrialDataset, codes: dict[str, str]) -> str:
    """The mapping.yaml text that loads the extract of `dataset` (treatment codes as in `codes`)."""
    armcd = dataset.randomized.drop_duplicates("ARM").set_index("ARM")["ARMCD"]
    return MAPPING_TEMPLATE.format(
        cutoff=dataset.cutoff.date().isoformat(), study=_quoted(str(dataset.adsl["STUDYID"].iloc[0])),
        arm_names=", ".join(f"{code}: {_quoted(arm)}" for arm, code in codes.items()),
        arm_codes=", ".join(f"{code}: {_quoted(str(armcd.get(arm, arm)))}" for arm, code in codes.items()),
        randomized=_quoted(RANDOMIZED), screen_failed=_quoted(SCREEN_FAILED), day_first=DAY_FIRST, ixrs=IXRS_DATE,
    )


def raw_forms(dataset: TrialDataset, codes: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Every form of the extract as a frame of text, by file name."""
    adsl = dataset.adsl
    randomized = adsl["RANDFL"] == "Y"
    subjid = adsl["SUBJID"]
    by_subject = dict(zip(adsl["USUBJID"], subjid))
    rand = adsl.loc[randomized]
    by_date = rand.sort_values("RANDDT", kind="stable")  # the IxRS lists patients as they were randomized
    return {
        "site_list.csv": _sites(dataset),
        "screening_log.csv": pd.DataFrame({
            "subjid": subjid, "siteid": adsl["SITEID"], "invid": "INV-" + adsl["SITEID"].astype(str),
            "icf_dt": _day_first(adsl["SCRNDT"]),
            "scr_outcome": randomized.map({True: RANDOMIZED, False: SCREEN_FAILED}),
            "sf_reason": adsl["SFREAS"],
        }),
        "subjects.csv": pd.DataFrame({
            "subjid": subjid, "siteid": adsl["SITEID"], "sex": adsl["SEX"].map({"M": "1", "F": "2"}),
            "age": adsl["AGE"].round().astype("Int64"), "diagnosis": adsl["DIAG"], "disease_status": adsl["DISSTAT"],
            "hla_match": adsl["HLAMATCH"], "donor": adsl["DONREL"], "graft_source": adsl["GRAFTSRC"],
            "conditioning": adsl["CONDREG"], "gvhd_prophylaxis": adsl["GVHDPROP"],
            "hsct_dt": _day_first(adsl["HSCTDT"]), "agvhd_onset_dt": _day_first(adsl["AGVHDDT"]),
            "agvhd_grade": adsl["AGVHDGR"], "skin": _yes_no(adsl["SKINFL"]), "liver": _yes_no(adsl["LIVERFL"]),
            "upper_gi": _yes_no(adsl["UGIFL"]), "lower_gi": _yes_no(adsl["LGIFL"]),
        }),
        "randomization_list.csv": pd.DataFrame({
            "randno": range(1001, 1001 + len(rand)), "subjid": by_date["SUBJID"],
            "rand_dt": by_date["RANDDT"].dt.strftime(IXRS_DATE).str.upper(), "trt_code": by_date["ARM"].map(codes),
            "stratum": by_date["STRATGR"],
        }),
        "end_of_study.csv": pd.DataFrame({
            "subjid": rand["SUBJID"], "first_dose_dt": _day_first(rand["TRTSDT"]),
            "last_dose_dt": _day_first(rand["TRTEDT"]), "eos_status": rand["EOSSTT"].str.capitalize(),
            "eos_dt": _day_first(rand["EOSDT"]), "eos_reason": rand["DCSREAS"],
            "died": _yes_no(rand["DTHFL"]), "death_dt": _day_first(rand["DTHDT"]), "death_cause": rand["DTHCAUS"],
            "last_alive_dt": _day_first(rand["LSTALVDT"]),
        }),
        "ae_log.csv": _adverse_events(dataset.adae, by_subject),
        "gvhd_response.csv": _responses(dataset.adrs, by_subject),
        "dosing_log.csv": _doses(dataset.adex, by_subject),
    }


def _sites(dataset: TrialDataset) -> pd.DataFrame:
    sites = dataset.sites
    return pd.DataFrame({
        "siteid": sites["SITEID"], "site_name": sites["SITENAME"], "city": sites["CITY"],
        "activation_dt": _day_first(sites["ACTIVDT"]), "target_n": sites["TARGET"],
    })


def _adverse_events(adae: pd.DataFrame, by_subject: dict) -> pd.DataFrame:
    return pd.DataFrame({
        "subjid": adae["USUBJID"].map(by_subject), "aespid": adae["AESEQ"], "aeterm": adae["AETERM"],
        "aeterm_pt": adae["AEDECOD"], "aeterm_soc": adae["AEBODSYS"],
        "aest_dt": _day_first(adae["ASTDT"]), "aeen_dt": _day_first(adae["AENDT"]),
        "grade": adae["AETOXGRN"].map(lambda g: f"Grade {g}", na_action="ignore"),
        "severity": _capitalized(adae["AESEV"]), "aeser": _yes_no(adae["AESER"]),
        "relationship": _capitalized(adae["AEREL"]), "outcome": _capitalized(adae["AEOUT"]),
        "category": _capitalized(adae["AECAT"]), "infection_type": adae["INFTYPE"],
    })


def _responses(adrs: pd.DataFrame, by_subject: dict) -> pd.DataFrame:
    """Overall-response assessments only: the baseline grade/stage rows are an ADaM derivation."""
    rows = adrs.loc[adrs["PARAMCD"] == "OVRLRESP"]
    return pd.DataFrame({
        "subjid": rows["USUBJID"].map(by_subject), "visit": rows["AVISIT"],
        "visit_day": rows["AVISITN"].round().astype("Int64"), "assess_dt": _day_first(rows["ADT"]),
        "overall_response": rows["AVALC"], "skin_stage": rows["SKINSTG"], "liver_stage": rows["LIVERSTG"],
        "gi_stage": rows["GISTG"],
    })


def _doses(adex: pd.DataFrame, by_subject: dict) -> pd.DataFrame:
    return pd.DataFrame({
        "subjid": adex["USUBJID"].map(by_subject), "drug": adex["EXTRT"], "dose": adex["EXDOSE"],
        "dose_unit": adex["EXDOSU"], "cycle": adex["EXCYCLE"], "dose_dt": _day_first(adex["ASTDT"]),
    })


def _day_first(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime(DAY_FIRST)


def _yes_no(flags: pd.Series) -> pd.Series:
    return flags.map({"Y": "Yes", "N": "No"})


def _capitalized(text: pd.Series) -> pd.Series:
    return text.astype("string").str.capitalize()


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (arm names hold '+', ':' and the like)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
