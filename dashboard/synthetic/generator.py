"""Seeded, patient-by-patient simulator of NCT02241018 (vectorised over patients).

`simulate_trial` first simulates the whole trial history (every screened patient, every visit,
event and dose, to the end of 5-year follow-up), then `cut.tables_at_cutoff` derives the ADaM-shaped
tables as they stood on the data cut date. Every published number and every assumption comes from
`calibration.py`. Accrual is conditioned on the published enrolment window for the bundled trial and
a stochastic Poisson-gamma recruitment draw otherwise (`accrual_mode`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..model.dataset import SIMULATED_CUT, TrialDataset, write_dataset
from . import calibration as cal
from .sampling import (
    allocate,
    by_rank,
    choice,
    exact_sample,
    piecewise_quantile,
    quota,
    stratified_uniform,
    top,
    truncated_times,
)

VISIT_DAYS = cal.NCT02241018.visit_days
NEVER = np.inf
ACCRUAL_BLOCK_MONTHS = 120  # stochastic accrual is simulated ten years at a time until the target is met

# Adverse-event terms: (AEDECOD, AEBODSYS, AECAT, INFTYPE, reported term AETERM).
_INF = "Infections and infestations"
_INV = "Investigations"
_BLOOD = "Blood and lymphatic system disorders"
TERMS = MappingProxyType({t[0]: t for t in (
    ("Cytomegalovirus viraemia", _INF, "INFECTION", "CMV", "CMV reactivation"),
    ("Cytomegalovirus infection", _INF, "INFECTION", "CMV", "CMV pneumonia"),
    ("Epstein-Barr viraemia", _INF, "INFECTION", "EBV", "EBV reactivation"),
    ("Pneumonia bacterial", _INF, "INFECTION", "Bacterial", "Bacterial pneumonia"),
    ("Sepsis", _INF, "INFECTION", "Bacterial", "Sepsis"),
    ("Bacteraemia", _INF, "INFECTION", "Bacterial", "Bloodstream infection"),
    ("Urinary tract infection", _INF, "INFECTION", "Bacterial", "Urinary tract infection"),
    ("Bronchopulmonary aspergillosis", _INF, "INFECTION", "Fungal", "Invasive pulmonary aspergillosis"),
    ("Pneumonia fungal", _INF, "INFECTION", "Fungal", "Fungal pneumonia"),
    ("Oral candidiasis", _INF, "INFECTION", "Fungal", "Oral thrush"),
    ("BK virus infection", _INF, "INFECTION", "Other viral", "BK viruria with cystitis"),
    ("Herpes zoster", _INF, "INFECTION", "Other viral", "Herpes zoster"),
    ("Upper respiratory tract infection", _INF, "INFECTION", "Other viral", "Upper respiratory infection"),
    ("Influenza", _INF, "INFECTION", "Other viral", "Influenza"),
    ("Platelet count decreased", _INV, "HEMATOLOGIC", None, "Thrombocytopenia"),
    ("Neutrophil count decreased", _INV, "HEMATOLOGIC", None, "Neutropenia"),
    ("White blood cell count decreased", _INV, "HEMATOLOGIC", None, "Leukopenia"),
    ("Anaemia", _BLOOD, "HEMATOLOGIC", None, "Anemia"),
    ("Febrile neutropenia", _BLOOD, "HEMATOLOGIC", None, "Febrile neutropenia"),
    ("Skin ulceration", "Skin and subcutaneous tissue disorders", "OTHER", None, "Skin ulcer"),
    ("Gastrointestinal haemorrhage", "Gastrointestinal disorders", "OTHER", None, "GI bleeding"),
    ("Intestinal obstruction", "Gastrointestinal disorders", "OTHER", None, "Intestinal obstruction"),
    ("Cholecystitis acute", "Hepatobiliary disorders", "OTHER", None, "Acute cholecystitis"),
    ("Hepatic failure", "Hepatobiliary disorders", "OTHER", None, "Liver failure"),
    ("Cardiac failure", "Cardiac disorders", "OTHER", None, "Heart failure"),
    ("Cystitis noninfective", "Renal and urinary disorders", "OTHER", None, "Hemorrhagic cystitis"),
    ("Thrombotic microangiopathy", "Vascular disorders", "OTHER", None, "Transplant-associated TMA"),
    ("Posterior reversible encephalopathy syndrome", "Nervous system disorders", "OTHER", None, "PRES"),
    ("Seizure", "Nervous system disorders", "OTHER", None, "Seizure"),
    ("Respiratory failure", "Respiratory, thoracic and mediastinal disorders", "OTHER", None, "Respiratory failure"),
    ("Multiple organ dysfunction syndrome", "General disorders and administration site conditions", "OTHER", None,
     "Multi-organ failure"),
    ("Hypertension", "Vascular disorders", "OTHER", None, "Hypertension"),
    ("Hyperglycaemia", "Metabolism and nutrition disorders", "OTHER", None, "Steroid-induced hyperglycemia"),
    ("Hypokalaemia", "Metabolism and nutrition disorders", "OTHER", None, "Hypokalemia"),
    ("Hypomagnesaemia", "Metabolism and nutrition disorders", "OTHER", None, "Hypomagnesemia"),
    ("Blood creatinine increased", _INV, "OTHER", None, "Creatinine increased"),
    ("Alanine aminotransferase increased", _INV, "OTHER", None, "ALT increased"),
    ("Nausea", "Gastrointestinal disorders", "OTHER", None, "Nausea"),
    ("Fatigue", "General disorders and administration site conditions", "OTHER", None, "Fatigue"),
    ("Pyrexia", "General disorders and administration site conditions", "OTHER", None, "Fever"),
    ("Oedema peripheral", "General disorders and administration site conditions", "OTHER", None, "Leg edema"),
    ("Tremor", "Nervous system disorders", "OTHER", None, "Tremor"),
    ("Headache", "Nervous system disorders", "OTHER", None, "Headache"),
    ("Insomnia", "Psychiatric disorders", "OTHER", None, "Insomnia"),
    ("Infusion related reaction", "Injury, poisoning and procedural complications", "OTHER", None,
     "MSC infusion reaction"),
)})
SEVERE_INFECTION_TERMS = MappingProxyType({
    "Cytomegalovirus viraemia": 0.30, "Cytomegalovirus infection": 0.04, "Epstein-Barr viraemia": 0.10,
    "Pneumonia bacterial": 0.15, "Sepsis": 0.09, "Bacteraemia": 0.08, "Urinary tract infection": 0.04,
    "Bronchopulmonary aspergillosis": 0.07, "Pneumonia fungal": 0.05, "BK virus infection": 0.05,
    "Herpes zoster": 0.02, "Influenza": 0.01,
})
MILD_INFECTION_TERMS = MappingProxyType({
    "Cytomegalovirus viraemia": 0.20, "Epstein-Barr viraemia": 0.10, "Upper respiratory tract infection": 0.22,
    "Herpes zoster": 0.06, "Oral candidiasis": 0.12, "Urinary tract infection": 0.10, "BK virus infection": 0.12,
    "Influenza": 0.08,
})
SEVERE_HEMATOLOGIC_TERMS = MappingProxyType({
    "Platelet count decreased": 0.40, "Neutrophil count decreased": 0.25, "Anaemia": 0.20,
    "White blood cell count decreased": 0.10, "Febrile neutropenia": 0.05,
})
MILD_HEMATOLOGIC_TERMS = MappingProxyType({
    "Anaemia": 0.40, "Platelet count decreased": 0.30, "White blood cell count decreased": 0.20,
    "Neutrophil count decreased": 0.10,
})
OTHER_TERMS = MappingProxyType({
    "Hypertension": 0.14, "Hyperglycaemia": 0.14, "Hypokalaemia": 0.11, "Hypomagnesaemia": 0.08,
    "Blood creatinine increased": 0.10, "Alanine aminotransferase increased": 0.08, "Nausea": 0.07,
    "Fatigue": 0.07, "Pyrexia": 0.07, "Oedema peripheral": 0.05, "Tremor": 0.04, "Headache": 0.03,
    "Insomnia": 0.02,
})
RELATEDNESS = MappingProxyType({
    "INFECTION": MappingProxyType({"POSSIBLE": 0.3, "UNLIKELY": 0.4, "NOT RELATED": 0.3}),
    "HEMATOLOGIC": MappingProxyType({"POSSIBLE": 0.4, "UNLIKELY": 0.35, "NOT RELATED": 0.25}),
    "OTHER": MappingProxyType({"POSSIBLE": 0.2, "UNLIKELY": 0.3, "NOT RELATED": 0.5}),
})
SAE_SLOTS = ("infections", "hematologic", "skin", "gastrointestinal", "hepatobiliary or pancreatic",
             "cardiac (heart failure)", "renal or genitourinary (non-infective cystitis)",
             "vascular (thrombotic microangiopathy)", "secondary malignancy", "other")
FATAL_CAUSE_SLOT = MappingProxyType({"Infection": "infections", "Cardiac failure": "cardiac (heart failure)",
                                     "Respiratory failure": "other", "Multiple organ dysfunction syndrome": "other"})
NON_AE_CAUSE = "Acute GVHD"


@dataclass(frozen=True)
class TrialHistory:
    """The full simulated history of one trial (before any data cut): one frame per record type."""

    seed: int
    subjects: pd.DataFrame
    visits: pd.DataFrame
    events: pd.DataFrame
    doses: pd.DataFrame
    sites: pd.DataFrame


def simulate_trial(seed: int | None = None, subjects: int | None = None, cutoff=None,
                   accrual: str | None = None) -> TrialDataset:
    """The synthetic trial as it stood on the data cut date, validated as a `TrialDataset`.

    seed: random seed (default: the bundled trial's); subjects: randomized patients (default 203,
    the size at which the published counts are reproduced exactly); cutoff: data cut date (default
    `calibration.DEFAULT_CUTOFF`, or the end of the last patient's follow-up if that is later);
    accrual: 'published-window' or 'stochastic' (default: see `accrual_mode`).
    """
    from .cut import tables_at_cutoff

    seed = cal.DEFAULT_SEED if seed is None else int(seed)
    n = cal.DEFAULT_SUBJECTS if subjects is None else int(subjects)
    mode = accrual_mode(seed, n, accrual)
    history = simulate_history(seed, n, mode)
    cut = pd.Timestamp(default_cutoff(history) if cutoff is None else cutoff).normalize()
    tables = tables_at_cutoff(history, cut)
    provenance = {
        "generator": cal.GENERATOR_NAME,
        "generator_version": cal.GENERATOR_VERSION,
        "seed": seed,
        "subjects": n,
        "cutoff": cut.date().isoformat(),
    }
    if mode != cal.ACCRUAL_PUBLISHED:
        provenance["accrual"] = mode
    return TrialDataset.create(tables.pop("adsl"), cutoff=cut, cutoff_source=SIMULATED_CUT, info=cal.NCT02241018,
                               provenance=provenance, **tables)


def generate_to_folder(out, seed=None, subjects=None, cutoff=None, fmt: str = "parquet",
                       accrual: str | None = None) -> list[Path]:
    """Simulate a trial and write one file per table plus metadata.json into `out`."""
    return write_dataset(simulate_trial(seed=seed, subjects=subjects, cutoff=cutoff, accrual=accrual), out, fmt=fmt,
                         validated=True)


def accrual_mode(seed: int, n: int, accrual: str | None = None) -> str:
    """The accrual model of a draw: `accrual` if given, else 'published-window' for the bundled trial
    (default seed and size) and 'stochastic' for every other seed or size."""
    if accrual is None:
        default = (seed, n) == (cal.DEFAULT_SEED, cal.DEFAULT_SUBJECTS)
        return cal.ACCRUAL_PUBLISHED if default else cal.ACCRUAL_STOCHASTIC
    if accrual not in cal.ACCRUAL_MODES:
        raise ValueError(f"accrual must be one of {', '.join(cal.ACCRUAL_MODES)}, got {accrual!r}")
    return accrual


def default_cutoff(history: TrialHistory) -> pd.Timestamp:
    """`calibration.DEFAULT_CUTOFF`, or the last end of study if a (stochastic) trial ends later."""
    last = history.subjects["EOSDT"].max()
    default = pd.Timestamp(cal.DEFAULT_CUTOFF)
    return default if pd.isna(last) or last <= default else pd.Timestamp(last).normalize()


# ------------------------------------------------------------------------------------------------
# History
# ------------------------------------------------------------------------------------------------


def simulate_history(seed: int, n: int, accrual: str | None = None) -> TrialHistory:
    """Simulate every screened patient's full course for `n` randomized patients."""
    if n < 1:
        raise ValueError(f"subjects must be at least 1, got {n}")
    mode = accrual_mode(seed, n, accrual)
    rng = np.random.default_rng(seed)
    plan = _plan(n)
    scr = _screening(rng, n, plan, mode)
    base = _baselines(rng, scr)
    course = _courses(rng, base)
    events = _adverse_events(rng, base, course)
    doses = _exposure(rng, base, course)
    subjects = _subject_frame(base, course)
    visits = _visit_frame(rng, base, course)
    return TrialHistory(seed, subjects, visits, events, doses, _site_frame())


def _per99(n: int, k: float) -> int:
    """A count given per 99 patients, scaled to n patients."""
    return int(quota(n, [k, max(99 - k, 0)])[0])


def _grade_ii_share(arm: str) -> tuple[float, float]:
    """Table 1 grade II and grade III-IV counts of an arm ('ALL' sums both arms)."""
    ii, iii, iv = _target_counts(arm, "AGVHDGR", ("II", "III", "IV"))
    return ii, iii + iv


def _plan(n: int) -> dict:
    """Arm sizes, withdrawals and per-arm stratum (II, III-IV) targets for n randomized patients."""
    ref = {t.arm: t.value for t in cal.POPULATION_TARGETS if t.column == "RANDFL"}
    arm_n = dict(zip(cal.ARM_KEYS, quota(n, [ref[a] for a in cal.ARM_KEYS])))
    plan = {"withdrawn": {}, "strata": {}}
    for arm in cal.ARM_KEYS:
        w = int(quota(arm_n[arm], [cal.WITHDRAWN_PER_ARM[arm], ref[arm] - cal.WITHDRAWN_PER_ARM[arm]])[0])
        e = arm_n[arm] - w
        e_ii = int(quota(e, _grade_ii_share(arm))[0])
        w_ii = int(quota(w, _grade_ii_share("ALL"))[0])
        plan["withdrawn"][arm] = (w_ii, w - w_ii)
        plan["strata"][arm] = (e_ii + w_ii, e - e_ii + w - w_ii)
    plan["n_sf"] = int(round(n * cal.SCREEN_FAILURES_PER_RANDOMIZED))
    return plan


def _target_counts(arm: str, column: str, categories) -> list[float]:
    """Table 1 counts of an arm for the given column categories ('ALL' sums both arms)."""
    arms = cal.ARM_KEYS if arm == "ALL" else (arm,)
    out = []
    for cat in categories:
        out.append(sum(t.value for t in cal.BASELINE_TARGETS
                       if t.arm in arms and t.column == column and t.values == (cat,)))
    return out


# ---- screening, accrual and randomization -------------------------------------------------------


def _site_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "SITEID": [s.siteid for s in cal.SITES],
        "SITENAME": [s.name for s in cal.SITES],
        "CITY": [s.city for s in cal.SITES],
        "LAT": [s.lat for s in cal.SITES],
        "LON": [s.lon for s in cal.SITES],
        "ACTIVDT": pd.to_datetime([s.activation for s in cal.SITES]),
        "TARGET": [s.target for s in cal.SITES],
    })


def _accrual_dates(rng, site, k: int, first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """k dates from a site's daily accrual intensity (ramp-up, seasonality, monthly noise)."""
    start = max(np.datetime64(site.activation), first)
    days = np.arange(start, last + np.timedelta64(1, "D"))
    if k == 0 or len(days) == 0:
        return np.array([], dtype="datetime64[D]")
    months = days.astype("datetime64[M]")
    month_index = (months - months[0]).astype(int)
    noise = rng.gamma(cal.SITE_MONTH_NOISE_SHAPE, 1 / cal.SITE_MONTH_NOISE_SHAPE, month_index.max() + 1)
    season = np.asarray(cal.SEASONALITY)[months.astype(int) % 12]
    since = (days - np.datetime64(site.activation)).astype(int)
    ramp = np.where(since < cal.RAMP_UP_DAYS, 0.5, 1.0)
    cdf = np.cumsum(season * noise[month_index] * ramp)
    cdf /= cdf[-1]
    pick = np.searchsorted(cdf, stratified_uniform(rng, k))
    return days[np.minimum(pick, len(days) - 1)]


def _screening(rng, n: int, plan: dict, mode: str) -> pd.DataFrame:
    """Screened patients: site, screening/randomization dates, screen failures, arm and stratum."""
    scr = _published_window(rng, n, plan) if mode == cal.ACCRUAL_PUBLISHED else _stochastic_accrual(rng, n)
    scr = scr.sort_values(["SCRNDT", "SITEID"], kind="stable").reset_index(drop=True)
    seq = scr.groupby("SITEID").cumcount() + 1
    width = max(3, len(str(int(seq.max()))))
    scr["SUBJID"] = scr["SITEID"] + seq.astype(str).str.zfill(width)
    scr["USUBJID"] = cal.STUDYID + "-" + scr["SUBJID"]
    _randomize(rng, scr, plan)
    return scr


def _published_window(rng, n: int, plan: dict) -> pd.DataFrame:
    """Accrual conditioned on the published window: exactly n randomized (and the planned screen
    failures) per site quota, placed between the published first and last randomization dates."""
    first = np.datetime64(cal.FIRST_RANDOMIZATION)
    last = np.datetime64(cal.LAST_RANDOMIZATION)
    shares = [s.share for s in cal.SITES]
    rand_n = quota(n, shares)
    sf_n = quota(plan["n_sf"], shares)
    lo, hi = cal.SCREEN_TO_RANDOMIZATION_DAYS
    parts = []
    for site, k_r, k_sf in zip(cal.SITES, rand_n, sf_n):
        activation = np.datetime64(site.activation)
        rand = _accrual_dates(rng, site, k_r, max(first, activation + np.timedelta64(hi, "D")), last)
        sf = _accrual_dates(rng, site, k_sf, first - np.timedelta64(hi, "D"), last)
        gap = rng.integers(lo, hi + 1, k_r).astype("timedelta64[D]")
        parts.append(pd.DataFrame({
            "SITEID": site.siteid,
            "RANDFL": np.r_[np.full(k_r, "Y"), np.full(k_sf, "N")],
            "RANDDT": np.r_[rand, np.full(k_sf, np.datetime64("NaT"), dtype="datetime64[D]")],
            "SCRNDT": np.r_[rand - gap, sf],
        }))
    scr = pd.concat(parts, ignore_index=True)
    rand = scr["RANDFL"] == "Y"
    # Pin the first and last randomization to the published months (R001, R002).
    if rand.sum() >= 2:
        lead = scr.index[rand & (scr["SITEID"] == cal.SITES[0].siteid)]
        i_first = scr.loc[lead, "RANDDT"].idxmin() if len(lead) else scr.loc[rand, "RANDDT"].idxmin()
        i_last = scr.loc[rand, "RANDDT"].drop(i_first).idxmax()
        for i, date in ((i_first, first), (i_last, last)):
            shift = scr.at[i, "RANDDT"] - scr.at[i, "SCRNDT"]
            scr.at[i, "RANDDT"] = pd.Timestamp(date)
            scr.at[i, "SCRNDT"] = pd.Timestamp(date) - shift
    return scr


def _site_daily_rates(n: int) -> np.ndarray:
    """Expected randomizations per unit of site intensity and day, scaled so the planned sites
    (shares, activation dates, ramp-up, seasonality) expect n randomized by the published last date."""
    last = np.datetime64(cal.LAST_RANDOMIZATION)
    total = 0.0
    for site in cal.SITES:
        days = np.arange(np.datetime64(site.activation), last + np.timedelta64(1, "D"))
        total += site.share * float(np.sum(_season(days) * _ramp(days, site)))
    return n / total


def _season(days: np.ndarray) -> np.ndarray:
    return np.asarray(cal.SEASONALITY)[days.astype("datetime64[M]").astype(int) % 12]


def _ramp(days: np.ndarray, site) -> np.ndarray:
    since = (days - np.datetime64(site.activation)).astype(int)
    return np.where(since < 0, 0.0, np.where(since < cal.RAMP_UP_DAYS, 0.5, 1.0))


def _stochastic_accrual(rng, n: int) -> pd.DataFrame:
    """Poisson-gamma recruitment until n patients are randomized (Anisimov & Fedorov 2007).

    Each site's rate is its planned share times a Gamma(SITE_RATE_SHAPE) factor drawn per trial;
    from its activation date it screens patients as a Poisson process modulated by ramp-up,
    calendar seasonality and gamma month-to-month noise; each screened patient fails screening
    with SCREEN_FAILURE_PROBABILITY, the others are randomized 0-3 days later. Recruitment stops
    on the day the n-th patient is randomized, so the completion date varies between seeds.
    """
    lo, hi = cal.SCREEN_TO_RANDOMIZATION_DAYS
    p_sf = cal.SCREEN_FAILURE_PROBABILITY
    scale = _site_daily_rates(n) / (1 - p_sf)
    factor = rng.gamma(cal.SITE_RATE_SHAPE, 1 / cal.SITE_RATE_SHAPE, len(cal.SITES))
    start = min(np.datetime64(s.activation) for s in cal.SITES).astype("datetime64[M]")
    site_ids = np.asarray([s.siteid for s in cal.SITES], dtype=object)
    parts, randomized = [], 0
    while True:
        end = start + np.timedelta64(ACCRUAL_BLOCK_MONTHS, "M")
        days = np.arange(start.astype("datetime64[D]"), end.astype("datetime64[D]"))
        month = (days.astype("datetime64[M]") - start).astype(int)
        noise = rng.gamma(cal.SITE_MONTH_NOISE_SHAPE, 1 / cal.SITE_MONTH_NOISE_SHAPE,
                          (len(cal.SITES), ACCRUAL_BLOCK_MONTHS))
        rate = np.stack([scale * s.share * f * _season(days) * _ramp(days, s) * noise[i, month]
                         for i, (s, f) in enumerate(zip(cal.SITES, factor))])
        counts = rng.poisson(rate)
        site_index, day_index = np.nonzero(counts)
        k = counts[site_index, day_index]
        scrndt = np.repeat(days[day_index], k)
        failed = rng.random(len(scrndt)) < p_sf
        gap = rng.integers(lo, hi + 1, len(scrndt)).astype("timedelta64[D]")
        parts.append(pd.DataFrame({
            "SITEID": np.repeat(site_ids[site_index], k),
            "RANDFL": np.where(failed, "N", "Y"),
            "RANDDT": np.where(failed, np.datetime64("NaT"), scrndt + gap).astype("datetime64[D]"),
            "SCRNDT": scrndt,
        }))
        randomized += int((~failed).sum())
        # Stop once the n-th randomization precedes every screening of the next block.
        if randomized >= n:
            rand = pd.concat(parts, ignore_index=True)["RANDDT"].dropna().sort_values()
            if rand.iloc[n - 1] < pd.Timestamp(end.astype("datetime64[D]")):
                break
        start = end
    scr = pd.concat(parts, ignore_index=True)
    rand = scr.index[scr["RANDFL"] == "Y"]
    order = scr.loc[rand].sort_values(["RANDDT", "SCRNDT", "SITEID"], kind="stable").index
    close = scr.at[order[n - 1], "RANDDT"]
    keep = scr["SCRNDT"].le(close) & ((scr["RANDFL"] == "N") | scr.index.isin(order[:n]))
    return scr.loc[keep].reset_index(drop=True)


def _randomize(rng, scr: pd.DataFrame, plan: dict) -> None:
    """Stratum (grade group x site) and arm by permuted blocks; sets STRATGR, ARMKEY, WITHDRAWN."""
    rand = np.flatnonzero(scr["RANDFL"].to_numpy() == "Y")
    n_ii = sum(plan["strata"][a][0] for a in cal.ARM_KEYS)
    strat = np.full(len(scr), None, dtype=object)
    strat[rand] = allocate(rng, len(rand), ["II", "III-IV"], [n_ii, len(rand) - n_ii])
    order = rand[np.argsort(scr["RANDDT"].to_numpy()[rand], kind="stable")]
    site = scr["SITEID"].to_numpy()
    is_msc = np.zeros(len(scr), dtype=bool)
    for g_index, group in enumerate(("II", "III-IV")):
        target = plan["strata"]["MSC"][g_index]
        partials = []
        total = 0
        for s in cal.SITES:
            members = order[(strat[order] == group) & (site[order] == s.siteid)]
            arms, partial = _blocks(rng, len(members))
            is_msc[members] = arms
            total += int(arms.sum())
            if partial is not None:
                partials.append((members, *partial))
        # Choose the composition of incomplete last blocks so the arm total meets its target.
        rng.shuffle(partials)
        for members, start, size in partials:
            k = len(members) - start
            tail = members[start:]
            current = int(is_msc[tail].sum())
            lo, hi = max(0, k - size // 2), min(size // 2, k)
            want = int(np.clip(current + (target - total), lo, hi))
            total += want - current
            fill = np.zeros(k, dtype=bool)
            fill[:want] = True
            is_msc[tail] = rng.permutation(fill)
    arm = np.full(len(scr), None, dtype=object)
    arm[rand] = np.where(is_msc[rand], "MSC", "CONTROL")
    withdrawn = np.zeros(len(scr), dtype=bool)
    for a in cal.ARM_KEYS:
        for g_index, group in enumerate(("II", "III-IV")):
            pool = rand[(arm[rand] == a) & (strat[rand] == group)]
            k = min(plan["withdrawn"][a][g_index], len(pool))
            withdrawn[rng.choice(pool, size=k, replace=False)] = True
    scr["STRATGR"] = strat
    scr["ARMKEY"] = arm
    scr["WITHDRAWN"] = withdrawn


def _blocks(rng, m: int):
    """Arms (True = MSC) for m patients in permuted blocks, and (start, size) of an incomplete last block."""
    if m == 0:
        return np.zeros(0, dtype=bool), None
    sizes = rng.choice(cal.BLOCK_SIZES, size=m // 2 + 1, p=np.asarray(cal.BLOCK_SIZE_WEIGHTS) / sum(cal.BLOCK_SIZE_WEIGHTS))
    ends = np.cumsum(sizes)
    n_blocks = int(np.searchsorted(ends, m) + 1)
    sizes = sizes[:n_blocks]
    block = np.repeat(np.arange(n_blocks), sizes)
    within = np.concatenate([np.arange(s) for s in sizes])
    arms = within < np.repeat(sizes // 2, sizes)
    keys = rng.random(len(block))
    arms = arms[np.lexsort((keys, block))][:m]
    start = int(ends[n_blocks - 2]) if n_blocks > 1 else 0
    partial = (start, int(sizes[-1])) if m - start < sizes[-1] else None
    return arms, partial


# ---- baseline characteristics --------------------------------------------------------------------

DIAGNOSES = ("AML", "ALL", "MDS", "CML", "MM", "NHL", "Other acute leukemia")
PATTERN_SEVERITY = MappingProxyType({"S": 0.0, "L": 1.0, "G": 1.2, "SL": 2.0, "SG": 2.2, "LG": 2.5, "SLG": 3.5})


def _baselines(rng, scr: pd.DataFrame) -> pd.DataFrame:
    """Baseline characteristics: exact Table 1 quotas for evaluable patients, draws for the others."""
    base = scr.copy()
    n = len(base)
    cols = {c: np.full(n, None, dtype=object) for c in (
        "SEX", "DIAG", "DISSTAT", "HLAMATCH", "DONREL", "GRAFTSRC", "CONDREG", "GVHDPROP", "AGVHDGR", "PATTERN",
        "GUTSITE")}
    cols["AGE"] = np.full(n, np.nan)
    cols["HSCTGVDY"] = np.full(n, np.nan)
    strat = base["STRATGR"].to_numpy().copy()
    arm = base["ARMKEY"].to_numpy()
    evaluable = (base["RANDFL"].to_numpy() == "Y") & ~base["WITHDRAWN"].to_numpy()
    sf = base["RANDFL"].to_numpy() == "N"
    ii, severe = _grade_ii_share("ALL")
    strat[sf] = np.where(rng.random(sf.sum()) < ii / (ii + severe), "II", "III-IV")
    groups = [(np.flatnonzero(evaluable & (arm == a)), a, True) for a in cal.ARM_KEYS]
    groups += [(np.flatnonzero(~evaluable & ~sf & (arm == a)), a, False) for a in cal.ARM_KEYS]
    groups.append((np.flatnonzero(sf), "ALL", False))
    for idx, key, exact in groups:
        if len(idx):
            _fill_baseline(rng, cols, idx, key, exact, strat[idx])
    for c, v in cols.items():
        base[c] = v
    pattern = base["PATTERN"].astype(str)
    base["SKINFL"] = np.where(pattern.str.contains("S"), "Y", "N")
    base["LIVERFL"] = np.where(pattern.str.contains("L"), "Y", "N")
    gut = pattern.str.contains("G")
    base["LGIFL"] = np.where(gut & base["GUTSITE"].isin(["lower", "both"]), "Y", "N")
    base["UGIFL"] = np.where(gut & base["GUTSITE"].isin(["upper", "both"]), "Y", "N")
    base["NORGANS"] = pattern.str.len()
    skin, liver, gi, grade = _stages(rng, base["AGVHDGR"].to_numpy(), base["SKINFL"].to_numpy() == "Y",
                                     base["LIVERFL"].to_numpy() == "Y", gut.to_numpy())
    base["AGVHDGR"] = grade
    base["SKINSTG"], base["LIVERSTG"], base["GISTG"] = skin, liver, gi
    base["AGEGR1"] = np.where(base["AGE"] < 18, "<18", ">=18")
    reasons = allocate(rng, int(sf.sum()), list(cal.SCREEN_FAILURE_REASONS), list(cal.SCREEN_FAILURE_REASONS.values()))
    base["SFREAS"] = None
    base.loc[sf, "SFREAS"] = reasons
    too_young_or_old = sf & (base["SFREAS"] == "Age outside 14-65 years").to_numpy()
    k = int(too_young_or_old.sum())
    base.loc[too_young_or_old, "AGE"] = np.where(rng.random(k) < 0.5, rng.integers(10, 14, k), rng.integers(66, 71, k))
    base.loc[too_young_or_old, "AGEGR1"] = np.where(base.loc[too_young_or_old, "AGE"] < 18, "<18", ">=18")
    lo, hi = cal.AGVHD_TO_SCREENING_DAYS
    base["AGVHDDT"] = base["SCRNDT"] - pd.to_timedelta(rng.integers(lo, hi + 1, n), unit="D")
    base["HSCTDT"] = base["AGVHDDT"] - pd.to_timedelta(base["HSCTGVDY"], unit="D")
    return base


def _fill_baseline(rng, cols: dict, idx: np.ndarray, arm: str, exact: bool, strat: np.ndarray) -> None:
    """Baseline values for one group of patients (exact quotas or independent draws)."""
    m = len(idx)

    def counts(weights, size=m):
        w = np.asarray(weights, dtype=float)
        return quota(size, w) if exact else rng.multinomial(size, w / w.sum())

    def categorical(column, categories):
        values = np.repeat(np.asarray(categories, dtype=object), counts(_target_counts(arm, column, categories)))
        rng.shuffle(values)
        return values

    def numeric(knots):
        return exact_sample(rng, m, knots) if exact else np.floor(piecewise_quantile(rng.random(m), knots))

    knot_arm = "CONTROL" if arm == "ALL" else arm
    cols["SEX"][idx] = categorical("SEX", ("M", "F"))
    cols["DIAG"][idx] = diag = categorical("DIAG", DIAGNOSES)
    cols["DISSTAT"][idx] = categorical("DISSTAT", ("CR", "PR", "NR"))
    cols["AGE"][idx] = numeric(cal.AGE_QUANTILES[knot_arm])
    cols["HSCTGVDY"][idx] = numeric(cal.ONSET_QUANTILES[knot_arm])
    cols["HLAMATCH"][idx] = hla = categorical("HLAMATCH", ("Matched", "Mismatched"))
    mismatched = hla == "Mismatched"
    k_atg = counts(_atg_weights(arm))[0]
    atg = top(mismatched * 10.0 + rng.random(m), int(k_atg))
    cols["DONREL"][idx] = np.where(mismatched, "Haploidentical", np.where(atg, "Unrelated", "Sibling"))
    prop = choice(rng, cal.GVHDPROP_NO_ATG_SPLIT, m)
    cols["GVHDPROP"][idx] = np.where(atg, "CsA+MTX+MMF+ATG", prop)
    k_bm = counts(_target_counts(arm, "GRAFTSRC", ("PBSC + BM", "PBSC")))[0]
    cols["GRAFTSRC"][idx] = np.where(top(mismatched * 1.5 + rng.normal(0, 1, m), int(k_bm)), "PBSC + BM", "PBSC")
    k_tbi = counts(_target_counts(arm, "CONDREG", ("TBI-based", "Bu-based")))[0]
    cols["CONDREG"][idx] = np.where(top((diag == "ALL") * 1.5 + rng.normal(0, 1, m), int(k_tbi)), "TBI-based", "Bu-based")
    # Organ patterns by rank of a severity latent (grade group first), then grade IV by pattern severity.
    pattern_counts = (np.sum([cal.ORGAN_PATTERN_COUNTS[a] for a in cal.ARM_KEYS], axis=0) if arm == "ALL"
                      else cal.ORGAN_PATTERN_COUNTS[arm])
    patterns = np.repeat(np.asarray(cal.ORGAN_PATTERNS, dtype=object), counts(pattern_counts))
    severity = np.asarray([PATTERN_SEVERITY[p] for p in patterns])
    patterns = patterns[np.argsort(-(severity + rng.normal(0, 0.7, m)), kind="stable")]
    latent = 3.0 * (strat == "III-IV") + rng.normal(0, 1, m)
    assigned = np.empty(m, dtype=object)
    assigned[np.argsort(-latent, kind="stable")] = patterns
    cols["PATTERN"][idx] = assigned
    grades = np.full(m, "II", dtype=object)
    severe = np.flatnonzero(strat == "III-IV")
    if len(severe):
        k_iv = counts(_target_counts(arm, "AGVHDGR", ("IV", "III")), size=len(severe))[0]
        score = np.asarray([PATTERN_SEVERITY[p] for p in assigned[severe]]) + rng.normal(0, 1, len(severe))
        grades[severe] = np.where(top(score, int(k_iv)), "IV", "III")
    cols["AGVHDGR"][idx] = grades
    gut = np.asarray(["G" in p for p in assigned])
    gut_counts = (np.sum([cal.GUT_SITE_COUNTS[a] for a in cal.ARM_KEYS], axis=0) if arm == "ALL"
                  else cal.GUT_SITE_COUNTS[arm])
    sites = np.repeat(np.asarray(cal.GUT_SITES, dtype=object), counts(gut_counts, size=int(gut.sum())))
    rng.shuffle(sites)
    gut_site = np.full(m, None, dtype=object)
    gut_site[gut] = sites
    cols["GUTSITE"][idx] = gut_site


def _atg_weights(arm: str) -> list[float]:
    atg = _target_counts(arm, "GVHDPROP", ("CsA+MTX+MMF+ATG",))[0]
    arms = cal.ARM_KEYS if arm == "ALL" else (arm,)
    total = sum(t.value for t in cal.BASELINE_TARGETS if t.arm in arms and t.column == "GVHDPROP")
    return [atg, total - atg]


def _stages(rng, grade, skin_fl, liver_fl, gut_fl):
    """Organ stages at entry consistent with the overall grade (MAGIC-like); skin-only grade III
    (impossible under MAGIC) becomes grade IV with skin stage 4."""
    m = len(grade)
    grade = grade.astype(object).copy()
    skin_only = skin_fl & ~liver_fl & ~gut_fl
    grade[(grade == "III") & skin_only] = "IV"
    skin = np.where(skin_fl, rng.integers(1, 4, m), 0)
    skin = np.where((grade == "II") & skin_only, 3, skin)
    two_three = rng.integers(2, 4, m)
    liver = np.where(liver_fl, np.where(grade == "II", 1, two_three), 0)
    gi = np.where(gut_fl, np.where(grade == "II", 1, rng.integers(2, 4, m)), 0)
    iv = grade == "IV"
    w = np.stack([gut_fl * 0.6, liver_fl * 0.25, skin_fl * 0.15], axis=1).astype(float)
    w[w.sum(axis=1) == 0, 2] = 1.0
    organ = (w.cumsum(axis=1) / w.sum(axis=1, keepdims=True) < rng.random((m, 1))).sum(axis=1)
    gi = np.where(iv & (organ == 0), 4, gi)
    liver = np.where(iv & (organ == 1), 4, liver)
    skin = np.where(iv & (organ == 2), 4, skin)
    return skin, liver, gi, grade


# ---- response and long-term course ---------------------------------------------------------------

NONRESPONSE_WEIGHTS = MappingProxyType({
    7: MappingProxyType({"NR": 0.5, "MR": 0.3, "PD": 0.2}),
    14: MappingProxyType({"NR": 0.5, "MR": 0.3, "PD": 0.2}),
    21: MappingProxyType({"NR": 0.45, "MR": 0.25, "PD": 0.3}),
    28: MappingProxyType({"NR": 0.6, "MR": 0.15, "PD": 0.25}),
    56: MappingProxyType({"NR": 0.7, "PD": 0.3}),
    90: MappingProxyType({"NR": 0.8, "PD": 0.2}),
})
BEFORE_RESPONSE = MappingProxyType({"NR": 0.65, "MR": 0.35})


def _courses(rng, base: pd.DataFrame) -> dict:
    """Visits, response path and long-term events (offsets in days from randomization; inf = never)."""
    n = len(base)
    arm = base["ARMKEY"].to_numpy()
    rand = base["RANDFL"].to_numpy() == "Y"
    withdrawn = base["WITHDRAWN"].to_numpy()
    evaluable = rand & ~withdrawn
    c = {
        "off": {d: (d - 1) + rng.integers(-w, w + 1, n) for d, w in cal.VISIT_WINDOW_DAYS.items()},
        "status": {d: np.full(n, None, dtype=object) for d in VISIT_DAYS},
        "klass": np.full(n, None, dtype=object),
        "cr_visit": np.full(n, NEVER),
    }
    for key in ("death", "relapse", "cgvhd", "switch", "late_flare", "ltfu", "ffs", "eos"):
        c[key] = np.full(n, NEVER)
    for key in ("cause", "cgvhd_sev", "ffs_event", "eos_reason"):
        c[key] = np.full(n, None, dtype=object)
    for a in cal.ARM_KEYS:
        idx = np.flatnonzero(evaluable & (arm == a))
        if len(idx):
            _arm_course(rng, base.iloc[idx], idx, a, c)
    w_idx = np.flatnonzero(withdrawn)
    lo, hi = cal.WITHDRAWAL_DAYS
    c["eos"][w_idx] = rng.integers(lo, hi + 1, len(w_idx))
    c["eos_reason"][w_idx] = allocate(rng, len(w_idx), list(cal.WITHDRAWAL_REASONS), list(cal.WITHDRAWAL_REASONS.values()))
    c["treated"] = rand & (c["eos_reason"] != "Protocol deviation")
    return c


def _arm_course(rng, b: pd.DataFrame, idx: np.ndarray, arm: str, c: dict) -> None:
    e = len(idx)
    off = {d: c["off"][d][idx] for d in c["off"]}
    grade = b["AGVHDGR"].to_numpy()
    risk = (0.8 * (grade == "IV") + 0.4 * (grade == "III") + 0.3 * (b["NORGANS"].to_numpy() - 1)
            + 0.4 * (b["LIVERFL"].to_numpy() == "Y") + 0.3 * (b["LGIFL"].to_numpy() == "Y") + rng.normal(0, 0.9, e))
    klass = by_rank(risk, cal.RESPONSE_CLASSES, quota(e, cal.RESPONSE_CLASS_COUNTS[arm]))
    is_ = {k: klass == k for k in cal.RESPONSE_CLASSES}
    responder = is_["lost_died"] | is_["lost_flare"] | is_["durable"]
    good = -risk + rng.normal(0, 0.5, e)
    durable_ref = cal.RESPONSE_CLASS_COUNTS[arm][cal.RESPONSE_CLASSES.index("durable")]
    k_cr56 = int(quota(int(is_["durable"].sum()), [cal.CR_AT_DAY56[arm], durable_ref - cal.CR_AT_DAY56[arm]])[0])
    cr56 = top(good, k_cr56, is_["durable"])
    responders_ref = sum(cal.RESPONSE_CLASS_COUNTS[arm][2:])
    k_cr28 = int(quota(int(responder.sum()), [cal.CR_AT_DAY28[arm], responders_ref - cal.CR_AT_DAY28[arm]])[0])
    cr28 = top(good, k_cr28, cr56)
    # Path through days 7-28: first response visit, then first CR visit for day-28 CRs.
    first = choice(rng, cal.FIRST_RESPONSE_VISIT_WEIGHTS, e).astype(float)
    first = np.where(cr28 & (first == 28) & (rng.random(e) < 0.5), 21.0, first)
    cr_visit = np.full(e, NEVER)
    early_visits = np.asarray(VISIT_DAYS[:4], dtype=float)
    span = (early_visits[None, :] >= first[:, None]).sum(axis=1)
    pick = 4 - np.floor(rng.random(e) * np.maximum(span, 1)).astype(int) - 1
    cr_visit[cr28] = early_visits[np.clip(pick, 0, 3)][cr28]
    cr_visit = np.where(cr28, np.maximum(cr_visit, first), cr_visit)
    status = {}
    for d in VISIT_DAYS[:4]:
        before = choice(rng, BEFORE_RESPONSE, e)
        s = np.where(d >= cr_visit, "CR", np.where(d >= first, "PR", before))
        status[d] = np.where(responder, s, choice(rng, NONRESPONSE_WEIGHTS[d], e))
    status[56] = np.where(is_["durable"], np.where(cr56, "CR", "PR"), choice(rng, NONRESPONSE_WEIGHTS[56], e))
    status[90] = np.where(is_["durable"], np.where(cr56 | (rng.random(e) < 0.5), "CR", "PR"),
                          choice(rng, NONRESPONSE_WEIGHTS[90], e))
    # Early deaths, therapy switches and early flares.
    death = np.full(e, NEVER)
    death[is_["early_death"]] = rng.integers(3, off[28][is_["early_death"]] - 1)
    death[is_["lost_died"]] = rng.integers(off[28][is_["lost_died"]] + 2, off[56][is_["lost_died"]])
    switch = np.full(e, NEVER)
    pd21 = status[21] == "PD"
    switch[is_["nr"]] = np.where(pd21, off[21], off[28])[is_["nr"]]
    early_switch = is_["early_death"] & pd21 & (off[21] < death)
    switch[early_switch] = off[21][early_switch]
    flare = is_["lost_flare"]
    switch[flare] = rng.integers(off[28][flare] + 5, off[56][flare])
    alive = ~(is_["early_death"] | is_["lost_died"])
    # Relapse.
    disstat = b["DISSTAT"].to_numpy()
    rel_score = 1.0 * (disstat == "NR") + 0.5 * (disstat == "PR") + rng.normal(0, 1, e)
    relapse = np.full(e, NEVER)
    rel3 = top(rel_score, _per99(e, cal.RELAPSE_BY_3Y[arm]), alive)
    relapse[rel3] = truncated_times(rng, int(rel3.sum()), 60, 1095, cal.RELAPSE_MEDIAN_DAYS)
    rel5 = top(rel_score, _per99(e, cal.RELAPSE_3Y_TO_5Y[arm]), alive & ~rel3)
    relapse[rel5] = rng.integers(1096, cal.FOLLOW_UP_DAYS - 30, int(rel5.sum()))
    # Chronic GVHD (before relapse; relapse and death before it are competing events).
    cg_score = (0.4 * is_["nr"] + 0.3 * is_["lost_flare"] + 0.3 * (b["GRAFTSRC"].to_numpy() == "PBSC")
                + 0.2 * (b["HLAMATCH"].to_numpy() == "Mismatched") + rng.normal(0, 1, e))
    cgvhd = np.full(e, NEVER)
    c2 = top(cg_score, _per99(e, cal.CGVHD_BY_2Y[arm]), alive)
    cgvhd[c2] = truncated_times(rng, int(c2.sum()), 60, 730, cal.CGVHD_MEDIAN_ONSET_DAYS[arm], sigma=0.6)
    c5 = top(cg_score, _per99(e, cal.CGVHD_2Y_TO_5Y[arm]), alive & ~c2 & (relapse == NEVER))
    cgvhd[c5] = rng.integers(731, 1700, int(c5.sum()))
    swap = c2 & (relapse < cgvhd)
    relapse[swap], cgvhd[swap] = cgvhd[swap], relapse[swap]
    has_cg = cgvhd < NEVER
    sev = np.full(e, None, dtype=object)
    sev[has_cg] = allocate(rng, int(has_cg.sum()), cal.CGVHD_SEVERITY, cal.CGVHD_SEVERITY_WEIGHTS[arm])
    # Late aGVHD flares needing new therapy.
    late = np.full(e, NEVER)
    lf = top(rng.random(e), _per99(e, cal.LATE_FLARE[arm]), is_["durable"] & (cgvhd > 170) & (relapse > 170))
    late[lf] = rng.integers(60, 151, int(lf.sum()))
    status[90] = np.where(late < off[90], "PD", status[90])
    # Deaths: relapse deaths, then non-relapse deaths up to the 5-year total.
    relapsed = relapse < NEVER
    rel_death = top(rng.random(e), int(quota(int(relapsed.sum()), [cal.RELAPSE_DEATH_FRACTION,
                                                                 1 - cal.RELAPSE_DEATH_FRACTION])[0]), relapsed)
    k = int(rel_death.sum())
    death[rel_death] = relapse[rel_death] + truncated_times(
        rng, k, 14, cal.FOLLOW_UP_DAYS - 1 - relapse[rel_death], 150, sigma=0.9)
    mandatory = int((~alive).sum())
    k_nrm = max(0, _per99(e, cal.DEATHS_BY_5Y[arm]) - mandatory - k)
    refractory = is_["nr"] | is_["lost_flare"] | (late < NEVER)
    nrm_score = (2.0 * is_["nr"] + 1.5 * is_["lost_flare"] + 1.0 * (late < NEVER) + 1.2 * (sev == "Severe")
                 + 0.5 * (sev == "Moderate") + 0.4 * (grade == "IV") + (b["AGE"].to_numpy() - 30) / 20
                 + rng.normal(0, 1, e))
    nrm = top(nrm_score, k_nrm, alive & ~relapsed)
    lb = np.where(is_["nr"], off[28] + 1, off[56] + 1).astype(float)
    lb = np.maximum(lb, np.where(late < NEVER, late + 7, 0))
    lb = np.maximum(lb, np.where(has_cg, cgvhd + 14, 0))
    median = np.where(refractory & ~has_cg, 70.0, np.where(has_cg, 300.0, 350.0))
    for med in np.unique(median[nrm]):
        sel = nrm & (median == med)
        death[sel] = lb[sel] + truncated_times(rng, int(sel.sum()), 0, cal.FOLLOW_UP_DAYS - 1 - lb[sel], med, sigma=1.0)
    cause = np.full(e, None, dtype=object)
    died = death < NEVER
    group = np.where(~alive | (refractory & (death <= 179)), "refractory",
                     np.where(has_cg & (cgvhd < death), "cgvhd", "other"))
    for g, weights in cal.DEATH_CAUSE_WEIGHTS.items():
        sel = died & ~rel_death & (group == g)
        cause[sel] = choice(rng, weights, int(sel.sum()))
    cause[rel_death] = "Relapse"
    # Lost to follow-up among 5-year survivors without events after year 3.
    last_event = np.maximum(np.where(has_cg, cgvhd, 0), np.where(relapsed, relapse, 0))
    lost = top(rng.random(e), _per99(e, cal.LOST_TO_FOLLOW_UP[arm]), ~died & (last_event < 1100))
    ltfu = np.full(e, NEVER)
    ltfu[lost] = rng.integers(1100, 1701, int(lost.sum()))
    # Failure-free survival: first failure.
    ffs_parts = {
        "Additional systemic therapy for aGVHD": np.minimum(switch, late),
        "Chronic GVHD requiring systemic therapy": np.where(np.isin(sev, ["Moderate", "Severe"]), cgvhd, NEVER),
        "Relapse": relapse,
        "Death": death,
    }
    stack = np.stack(list(ffs_parts.values()), axis=1)
    ffs = stack.min(axis=1)
    ffs_event = np.where(ffs < NEVER, np.asarray(list(ffs_parts), dtype=object)[stack.argmin(axis=1)], None)
    eos = np.where(died, death, np.where(lost, ltfu, cal.FOLLOW_UP_DAYS))
    eos_reason = np.where(died, "Death", np.where(lost, "Lost to follow-up", None))
    for key, value in (("klass", klass), ("cr_visit", cr_visit), ("death", death), ("relapse", relapse),
                       ("cgvhd", cgvhd), ("switch", switch), ("late_flare", late), ("ltfu", ltfu), ("ffs", ffs),
                       ("eos", eos), ("cause", cause), ("cgvhd_sev", sev), ("ffs_event", ffs_event),
                       ("eos_reason", eos_reason)):
        c[key][idx] = value
    for d in VISIT_DAYS:
        c["status"][d][idx] = status[d]


# ---- adverse events ------------------------------------------------------------------------------


def _sae_quotas(e: int, arm: str) -> dict:
    by = {t.category: t.value for t in cal.SAE_TARGETS if t.arm == arm}
    q = {slot: _per99(e, by[slot]) for slot in SAE_SLOTS if slot in by}
    q["hematologic"] = _per99(e, by["hematologic (total)"])
    q["other"] = _per99(e, cal.OTHER_SAE_PATIENTS[arm])
    q["both"] = min(_per99(e, by["hematologic: platelets and neutrophils both decreased"]), q["hematologic"])
    q["any"] = _per99(e, by["any serious adverse event"])
    return q


def _adverse_events(rng, base: pd.DataFrame, c: dict) -> pd.DataFrame:
    """Adverse events within the AE window, with Table 4 serious events and grade 3-4 quotas."""
    n = len(base)
    arm = base["ARMKEY"].to_numpy()
    evaluable = (base["RANDFL"].to_numpy() == "Y") & ~base["WITHDRAWN"].to_numpy()
    window = cal.AE_WINDOW_DAYS - 1
    horizon = np.where(c["treated"], np.minimum(window, np.minimum(c["death"] - 1, c["eos"])), -1.0)
    fatal = evaluable & (c["death"] <= window) & np.isin(c["cause"], list(cal.FATAL_AE_TERMS))
    slots = {s: np.zeros(n, dtype=bool) for s in SAE_SLOTS}
    both = np.zeros(n, dtype=bool)
    severe_inf = np.zeros(n, dtype=bool)
    severe_hem = np.zeros(n, dtype=bool)
    grade = base["AGVHDGR"].to_numpy()
    for a in cal.ARM_KEYS:
        in_arm = evaluable & (arm == a)
        e = int(in_arm.sum())
        if not e:
            continue
        q = _sae_quotas(e, a)
        # Deaths from an AE cause inside the window are serious events of their category; beyond
        # the category's quota the death is attributed to aGVHD instead.
        forced = fatal & in_arm
        for cause, slot in FATAL_CAUSE_SLOT.items():
            sel = np.flatnonzero(forced & (c["cause"] == cause))
            room = max(0, q[slot] - int((slots[slot] & in_arm).sum()))
            keep, drop = sel[:room], sel[room:]
            slots[slot][keep] = True
            c["cause"][drop] = NON_AE_CAUSE
            fatal[drop] = False
        pool = np.zeros(n, dtype=bool)
        for s in SAE_SLOTS:
            pool |= slots[s] & in_arm
        risk = 1.0 * (c["klass"] == "nr") + 0.5 * (grade == "IV") + rng.normal(0, 1, n)
        pool |= top(risk, max(0, q["any"] - int(pool.sum())), in_arm & ~pool & (horizon >= 1))
        remaining = {s: max(0, q.get(s, 0) - int((slots[s] & in_arm).sum())) for s in SAE_SLOTS}
        uncovered = np.flatnonzero(pool & ~np.any([slots[s] for s in SAE_SLOTS], axis=0))
        copies = np.repeat(np.asarray(SAE_SLOTS, dtype=object), [remaining[s] for s in SAE_SLOTS])
        rng.shuffle(copies)
        for subject, slot in zip(uncovered, copies):
            slots[slot][subject] = True
            remaining[slot] -= 1
        for s in SAE_SLOTS:
            free = np.flatnonzero(pool & ~slots[s])
            k = min(remaining[s], len(free))
            slots[s][rng.choice(free, size=k, replace=False)] = True
        hem = np.flatnonzero(slots["hematologic"] & in_arm)
        both[rng.choice(hem, size=min(q["both"], len(hem)), replace=False)] = True
        # Grade 3-4 infection / haematological toxicity within 180 days (R188-R191).
        atg = base["GVHDPROP"].to_numpy() == "CsA+MTX+MMF+ATG"
        for category, chosen, forced_in in (("INFECTION", severe_inf, slots["infections"] & ~fatal),
                                            ("HEMATOLOGIC", severe_hem, slots["hematologic"])):
            target = next(t.value for t in cal.AE_TARGETS if t.arm == a and t.category == category)
            chosen |= forced_in & in_arm
            score = 0.8 * (c["klass"] == "nr") + 0.4 * (grade == "IV") + 0.3 * atg + rng.normal(0, 1, n)
            chosen |= top(score, max(0, _per99(e, target) - int(chosen[in_arm].sum())), in_arm & ~chosen & (horizon >= 1))
    parts = []
    treated_idx = np.flatnonzero(c["treated"])
    frac = (horizon[treated_idx] + 1) / cal.AE_WINDOW_DAYS

    def add(subjects, terms, grades, serious, onset, kind):
        parts.append(pd.DataFrame({"SUBJ": subjects, "AEDECOD": terms, "AETOXGRN": grades,
                                   "AESER": serious, "ONSET": onset, "KIND": kind}))

    def onset_for(subjects, skew=1.0):
        h = horizon[subjects]
        return np.minimum(h, 1 + np.floor(np.maximum(h, 0) * rng.random(len(subjects)) ** skew))

    # Severe infections (first one serious for infection-SAE patients).
    for chosen, extra, weights, slot in ((severe_inf, cal.EXTRA_SEVERE_INFECTIONS, SEVERE_INFECTION_TERMS, "infections"),
                                         (severe_hem, cal.EXTRA_SEVERE_HEMATOLOGIC, SEVERE_HEMATOLOGIC_TERMS, None)):
        subj = np.flatnonzero(chosen)
        count = 1 + rng.poisson(extra, len(subj))
        rows = np.repeat(subj, count)
        first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, dtype=bool)
        serious = first & slots[slot][rows] & ~fatal[rows] if slot else np.zeros(len(rows), dtype=bool)
        add(rows, choice(rng, weights, len(rows)), rng.choice([3, 4], len(rows), p=[0.7, 0.3]),
            np.where(serious, "Y", "N"), onset_for(rows, 1.3), "severe")
    # Serious haematological events: platelets, and neutrophils too for 'both'.
    hem = np.flatnonzero(slots["hematologic"])
    add(hem, np.full(len(hem), cal.PLATELETS_DECREASED), np.full(len(hem), 4), "Y", onset_for(hem), "sae")
    bth = np.flatnonzero(both)
    add(bth, np.full(len(bth), cal.NEUTROPHILS_DECREASED), np.full(len(bth), 4), "Y", onset_for(bth), "sae")
    # Serious events of the other Table 4 categories (a fatal event already counts for its category).
    fatal_slot = np.asarray([FATAL_CAUSE_SLOT.get(x) for x in c["cause"]], dtype=object)
    for s in SAE_SLOTS[2:]:
        subj = np.flatnonzero(slots[s] & ~(fatal & (fatal_slot == s)))
        terms = cal.OTHER_SAE_TERMS if s == "other" else cal.SAE_CATEGORIES[s]
        add(subj, np.asarray(terms, dtype=object)[rng.integers(0, len(terms), len(subj))],
            rng.choice([3, 4], len(subj), p=[0.7, 0.3]), "Y", onset_for(subj), "sae")
    # Fatal events.
    f = np.flatnonzero(fatal)
    terms = np.empty(len(f), dtype=object)
    for cause, weights in cal.FATAL_AE_TERMS.items():
        sel = c["cause"][f] == cause
        terms[sel] = choice(rng, weights, int(sel.sum()))
    onset = np.maximum(1, c["death"][f] - rng.integers(1, 11, len(f)))
    add(f, terms, np.full(len(f), 5), "Y", onset, "fatal")
    # Lower-grade events for every treated patient, in proportion to their time in the window.
    for rate, weights, kind in ((cal.LOW_GRADE_INFECTIONS, MILD_INFECTION_TERMS, "mild"),
                                (cal.LOW_GRADE_HEMATOLOGIC, MILD_HEMATOLOGIC_TERMS, "mild"),
                                (cal.OTHER_AES, OTHER_TERMS, "other")):
        rows = np.repeat(treated_idx, rng.poisson(rate * frac))
        grades = rng.choice([1, 2], len(rows), p=[0.4, 0.6])
        if kind == "other":
            grades = np.where(rng.random(len(rows)) < cal.OTHER_AE_GRADE3, 3, grades)
        add(rows, choice(rng, weights, len(rows)), grades, "N",
            np.minimum(horizon[rows], np.floor(rng.random(len(rows)) * (horizon[rows] + 1))), kind)
    msc = treated_idx[arm[treated_idx] == "MSC"]
    rows = np.repeat(msc, rng.poisson(cal.INFUSION_REACTIONS, len(msc)))
    infusion_day = np.asarray(cal.MSC_DAYS[:3]) - 1
    onset = np.minimum(horizon[rows], infusion_day[rng.integers(0, 3, len(rows))])
    add(rows, np.full(len(rows), "Infusion related reaction"), rng.choice([1, 2], len(rows), p=[0.7, 0.3]), "N",
        onset, "infusion")
    ae = pd.concat(parts, ignore_index=True)
    ae = ae[ae["ONSET"] >= 0].copy()
    ae["AETOXGRN"] = ae["AETOXGRN"].astype(int)
    terms = ae["AEDECOD"].map(TERMS)
    ae["AEBODSYS"] = terms.str[1]
    ae["AECAT"] = terms.str[2]
    ae["INFTYPE"] = terms.str[3]
    ae["AETERM"] = terms.str[4]
    median = np.select([ae["KIND"].eq("fatal"), ae["AETOXGRN"] >= 3], [np.nan, 12.0], 7.0)
    duration = np.round(np.exp(np.log(np.nan_to_num(median, nan=1.0)) + rng.normal(0, 0.6, len(ae)))) + 1
    death = c["death"][ae["SUBJ"]]
    eos = c["eos"][ae["SUBJ"]]
    end = ae["ONSET"].to_numpy() + duration
    end = np.where(ae["KIND"].eq("fatal"), death, np.where((end >= death) | (end > eos), np.nan, end))
    ae["END"] = end
    ae["AEOUT"] = np.where(ae["KIND"].eq("fatal"), "FATAL",
                           np.where(np.isnan(end), "NOT RECOVERED/NOT RESOLVED", "RECOVERED/RESOLVED"))
    rel = np.empty(len(ae), dtype=object)
    for category, weights in RELATEDNESS.items():
        sel = (ae["AECAT"] == category).to_numpy()
        rel[sel] = choice(rng, weights, int(sel.sum()))
    rel[ae["KIND"].eq("infusion").to_numpy()] = "RELATED"
    ae["AEREL"] = rel
    return ae.sort_values(["SUBJ", "ONSET", "AEDECOD"], kind="stable").reset_index(drop=True)


# ---- exposure -------------------------------------------------------------------------------------


def _exposure(rng, base: pd.DataFrame, c: dict) -> pd.DataFrame:
    """Doses actually given: basiliximab in both arms, MSC infusions in the MSC arm."""
    n = len(base)
    arm = base["ARMKEY"].to_numpy()
    stop = np.minimum(np.minimum(c["death"], c["switch"]), c["eos"])
    pr28 = c["status"][28] == "PR"
    cr_off = np.full(n, NEVER)
    for d in VISIT_DAYS[:4]:
        cr_off = np.where((c["cr_visit"] == d) & (cr_off == NEVER), c["off"][d], cr_off)
    cell_dose = rng.choice(cal.MSC_DOSES, n, p=np.asarray(cal.MSC_DOSE_WEIGHTS) / sum(cal.MSC_DOSE_WEIGHTS))
    parts = []
    schedules = (
        ("Basiliximab", cal.BASILIXIMAB_DAYS, 1, np.ones(n, dtype=bool), NEVER),
        ("Basiliximab", cal.BASILIXIMAB_DAYS, 2, pr28, NEVER),
        ("Mesenchymal stromal cells", cal.MSC_DAYS, 1, arm == "MSC", cr_off),
        ("Mesenchymal stromal cells", cal.MSC_DAYS, 2, (arm == "MSC") & pr28, NEVER),
    )
    for treatment, days, cycle, eligible, last_allowed in schedules:
        shift = 0 if cycle == 1 else cal.SECOND_CYCLE_OFFSET
        for day in days:
            offset = shift + day - 1
            given = c["treated"] & eligible & (offset < stop) & (offset <= last_allowed)
            subj = np.flatnonzero(given)
            is_msc = treatment != "Basiliximab"
            parts.append(pd.DataFrame({
                "SUBJ": subj, "EXTRT": treatment, "EXCYCLE": cycle, "OFFSET": offset,
                "EXDOSE": cell_dose[subj] if is_msc else cal.BASILIXIMAB_MG,
                "EXDOSU": "10^6 cells/kg" if is_msc else "mg",
            }))
    return pd.concat(parts, ignore_index=True).sort_values(["SUBJ", "OFFSET", "EXTRT"], kind="stable").reset_index(drop=True)


# ---- assembling the history -----------------------------------------------------------------------


def _days(randdt: pd.Series, offsets) -> pd.Series:
    offsets = np.asarray(offsets, dtype=float)
    return randdt + pd.to_timedelta(np.where(np.isfinite(offsets), offsets, np.nan), unit="D")


def _subject_frame(base: pd.DataFrame, c: dict) -> pd.DataFrame:
    """One row per screened patient: baseline, assignment and the true dates of every outcome."""
    s = base.copy()
    rand = s["RANDFL"] == "Y"
    s["RANDDT"] = pd.to_datetime(s["RANDDT"])
    s["SCRNDT"] = pd.to_datetime(s["SCRNDT"])
    s["EFFFL"] = np.where(rand & ~s["WITHDRAWN"], "Y", "N")
    s["TREATED"] = c["treated"]
    s["KLASS"] = c["klass"]
    for key, column in (("death", "DTHDT"), ("relapse", "RELAPSEDT"), ("cgvhd", "CGVHDDT"), ("ffs", "FFSDT"),
                        ("eos", "EOSDT")):
        s[column] = _days(s["RANDDT"], c[key])
    s["DTHCAUS"] = c["cause"]
    s["CGVHDSEV"] = c["cgvhd_sev"]
    s["FFSEVENT"] = c["ffs_event"]
    s["DCSREAS"] = c["eos_reason"]
    s["EOSSTT"] = np.where(~rand, "NOT RANDOMIZED", np.where(s["DCSREAS"].isna(), "COMPLETED", "DISCONTINUED"))
    s.loc[~rand, "EOSDT"] = s.loc[~rand, "SCRNDT"]
    s.loc[~rand, "DCSREAS"] = "Screen failure"
    s["LSTALVDT"] = s["EOSDT"]
    return s.drop(columns=["PATTERN", "GUTSITE"])


def _visit_frame(rng, base: pd.DataFrame, c: dict) -> pd.DataFrame:
    """Baseline staging and every response assessment made while alive and on study."""
    rand = np.flatnonzero(base["RANDFL"].to_numpy() == "Y")
    evaluable = ~base["WITHDRAWN"].to_numpy()
    stages0 = base[["SKINSTG", "LIVERSTG", "GISTG"]].to_numpy()[rand]
    parts = [pd.DataFrame({
        "SUBJ": rand, "PARAMCD": "AGVHDSTG", "PARAM": "Acute GVHD overall grade and organ stages",
        "AVISIT": "Baseline", "AVISITN": 1.0, "OFFSET": 0, "AVALC": base["AGVHDGR"].to_numpy()[rand],
        "SKINSTG": stages0[:, 0], "LIVERSTG": stages0[:, 1], "GISTG": stages0[:, 2],
    })]
    for d in VISIT_DAYS:
        status = c["status"][d][rand]
        offset = c["off"][d][rand]
        keep = evaluable[rand] & pd.notna(status) & (offset < c["death"][rand]) & (offset <= c["eos"][rand])
        st = _visit_stages(rng, stages0, status)
        parts.append(pd.DataFrame({
            "SUBJ": rand, "PARAMCD": "OVRLRESP", "PARAM": "Overall response of acute GVHD", "AVISIT": f"Day {d}",
            "AVISITN": float(d), "OFFSET": offset, "AVALC": status,
            "SKINSTG": st[:, 0], "LIVERSTG": st[:, 1], "GISTG": st[:, 2],
        })[keep])
    return pd.concat(parts, ignore_index=True).sort_values(["SUBJ", "OFFSET", "PARAMCD"], kind="stable").reset_index(drop=True)


def _visit_stages(rng, stages0: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Organ stages implied by a response: CR all 0, PR improved, NR unchanged, MR mixed, PD worse."""
    st = stages0.astype(int).copy()
    m = len(st)
    involved = stages0 > 0
    worst = np.argmax(stages0, axis=1)
    pr = status == "PR"
    improved = np.maximum(0, st - rng.integers(1, 3, st.shape))
    residual = improved.sum(axis=1) == 0
    improved[np.arange(m), worst] = np.where(residual, 1, improved[np.arange(m), worst])
    st = np.where(pr[:, None], improved, st)
    st = np.where((status == "CR")[:, None], 0, st)
    pd_ = status == "PD"
    st[np.arange(m), worst] = np.where(pd_, np.minimum(4, st[np.arange(m), worst] + 1), st[np.arange(m), worst])
    mr = (status == "MR") & (involved.sum(axis=1) >= 2)
    best = np.argmin(np.where(involved, stages0, 9), axis=1)
    st[np.arange(m), best] = np.where(mr, np.maximum(0, st[np.arange(m), best] - 1), st[np.arange(m), best])
    st[np.arange(m), worst] = np.where(mr, np.minimum(4, st[np.arange(m), worst] + 1), st[np.arange(m), worst])
    return st
