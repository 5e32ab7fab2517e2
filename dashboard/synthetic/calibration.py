"""Calibration of the synthetic NCT02241018 trial, in one place.

Two kinds of numbers live here and nowhere else:

* **Targets**: numbers the publications report. Each carries the id of its record in
  `../shared/reference/nct02241018_published.json` (a test checks they agree), and the tests
  recompute each one from the generated rows.
* **Assumptions**: values chosen where the publications are silent (`null` in the reference file),
  each with its rationale. `assumptions_markdown()` renders them as `ASSUMPTIONS.md`
  (`python -m dashboard.synthetic.calibration > dashboard/synthetic/ASSUMPTIONS.md`).

Counts are given per 99 evaluable patients per arm (the published analysis population); the
generator scales them to any trial size with largest-remainder rounding, so the default trial
reproduces them exactly and larger trials keep the same proportions.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ..config import EventCategory, TrialInfo

GENERATOR_NAME = "dashboard.synthetic"
GENERATOR_VERSION = "1.0"
STUDYID = "NCT02241018"
DEFAULT_SEED = 20140930
DEFAULT_SUBJECTS = 203
DEFAULT_CUTOFF = "2024-03-31"
REFERENCE_FILE = "reference/nct02241018_published.json"

ARM_KEYS = ("MSC", "CONTROL")  # the reference file's arm keys
ARM_NAME = MappingProxyType({"MSC": "MSC + basiliximab + CNI", "CONTROL": "Basiliximab + CNI"})
ARM_CODE = MappingProxyType({"MSC": "MSC", "CONTROL": "CTRL"})

# The trial's identity and plan: written to the bundle's metadata.json, from which every view reads it.
NCT02241018 = TrialInfo(
    title=(
        "MSCs + basiliximab + calcineurin inhibitor vs basiliximab + calcineurin inhibitor "
        "for steroid-resistant acute GVHD"
    ),
    registry_id=STUDYID,
    short_name="MSC-aGVHD",
    target_enrollment=200,
    planned_enrollment_start="2014-09-30",
    planned_enrollment_end="2018-12-31",
    visit_days=(7, 14, 21, 28, 56, 90),
    primary_visit_day=28,
    durable_visit_day=56,
    stratification_factors=("STRATGR", "SITEID"),
    arm_order=(ARM_NAME["MSC"], ARM_NAME["CONTROL"]),
    arm_short_labels=MappingProxyType({ARM_NAME["MSC"]: "MSC", ARM_NAME["CONTROL"]: "Control"}),
    # Table 4 of Zhao et al. 2022 (serious adverse events), by preferred term.
    sae_categories=(
        EventCategory("Any serious adverse event"),
        EventCategory("Haematological (total)", any_of=("Platelet count decreased", "Neutrophil count decreased")),
        EventCategory("Haematological: platelets decreased", any_of=("Platelet count decreased",),
                      none_of=("Neutrophil count decreased",)),
        EventCategory("Haematological: platelets and neutrophils decreased",
                      all_of=("Platelet count decreased", "Neutrophil count decreased")),
        EventCategory("Skin", any_of=("Skin ulceration",)),
        EventCategory("Gastrointestinal", any_of=("Gastrointestinal haemorrhage", "Intestinal obstruction")),
        EventCategory("Hepatobiliary or pancreatic", any_of=("Cholecystitis acute", "Hepatic failure")),
        EventCategory("Cardiac (heart failure)", any_of=("Cardiac failure",)),
        EventCategory("Renal or genitourinary (non-infective cystitis)", any_of=("Cystitis noninfective",)),
        EventCategory("Vascular (thrombotic microangiopathy)", any_of=("Thrombotic microangiopathy",)),
        EventCategory("Infections", category="INFECTION"),
        EventCategory("Secondary malignancy",
                      any_of=("Myelodysplastic syndrome", "Post transplant lymphoproliferative disorder")),
    ),
    ae_collection_days=180,  # AEs are collected from randomization to study day 180
    primary_population="Evaluable",  # Zhao et al. 2022: day-28 response in the 99 + 99 evaluable patients
    visit_window_days=MappingProxyType({7: 1, 14: 1, 21: 1, 28: 1, 56: 3, 90: 7}),
    captions=MappingProxyType({"sae_categories": "Serious adverse events by the publication's categories (Table 4)"}),
)


# --------------------------------------------------------------------------------------------
# Targets (published numbers, with their reference record ids)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountTarget:
    """Patients of one arm with an ADSL column in `values`, among a population flag's 'Y' rows."""

    ref: str
    arm: str
    column: str
    values: tuple
    value: int
    population: str = "EFFFL"


@dataclass(frozen=True)
class StatTarget:
    """A summary statistic (median/min/max) of an ADSL column among one arm's evaluable patients."""

    ref: str
    arm: str
    column: str
    stat: str
    value: float


@dataclass(frozen=True)
class ResponseTarget:
    """Evaluable patients of one arm with AVALC in CR/PR at an ADRS visit (PARAMCD 'OVRLRESP')."""

    ref: str
    arm: str
    visit: str
    value: int


@dataclass(frozen=True)
class AeTarget:
    """Evaluable patients of one arm with >= 1 AE of an AECAT, grade 3-4, onset study day <= 180."""

    ref: str
    arm: str
    category: str
    value: int


@dataclass(frozen=True)
class SaeTarget:
    """Evaluable patients of one arm with >= 1 serious AE of a Table 4 category (see SAE_CATEGORIES)."""

    ref: str
    arm: str
    category: str
    value: int


@dataclass(frozen=True)
class TteTarget:
    """A time-to-event estimate recomputed with lifelines from ADTTE among evaluable patients.

    kind: 'median' (Kaplan-Meier median, months), 'survival' (Kaplan-Meier %, at `day`),
    'cuminc' (Aalen-Johansen cumulative incidence %, competing events CMPEVFL='Y', at `day`),
    'hr' (cause-specific Cox hazard ratio MSC vs control, follow-up truncated at `day` if given).
    Passes when |estimate - value| <= tolerance, or, for 'hr', when it lies in [ci_low, ci_high].
    """

    ref: str
    arm: str
    paramcd: str
    kind: str
    value: float
    day: float | None = None
    tolerance: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


MEDIAN_TOLERANCE_MONTHS = 1.5
PERCENT_TOLERANCE = 6.0
DAYS_PER_YEAR = 365.25


POPULATION_TARGETS: tuple[CountTarget, ...] = (
    CountTarget("R011", "MSC", "RANDFL", ("Y",), 101, population="RANDFL"),
    CountTarget("R012", "CONTROL", "RANDFL", ("Y",), 102, population="RANDFL"),
    CountTarget("R014", "MSC", "EFFFL", ("Y",), 99, population="RANDFL"),
    CountTarget("R015", "CONTROL", "EFFFL", ("Y",), 99, population="RANDFL"),
)
TOTAL_TARGETS = MappingProxyType({"randomized": ("R010", 203), "analysed": ("R013", 198), "centres": ("R003", 9)})

# Table 1 (JHO 2022): counts among the 99 + 99 evaluable patients.
BASELINE_TARGETS: tuple[CountTarget, ...] = (
    CountTarget("R031", "MSC", "AGEGR1", ("<18",), 14),
    CountTarget("R032", "MSC", "AGEGR1", (">=18",), 85),
    CountTarget("R033", "CONTROL", "AGEGR1", ("<18",), 17),
    CountTarget("R034", "CONTROL", "AGEGR1", (">=18",), 82),
    CountTarget("R036", "MSC", "SEX", ("M",), 62),
    CountTarget("R037", "CONTROL", "SEX", ("M",), 56),
    CountTarget("R038", "MSC", "SEX", ("F",), 37),
    CountTarget("R039", "CONTROL", "SEX", ("F",), 43),
    CountTarget("R041", "MSC", "DIAG", ("AML",), 39),
    CountTarget("R042", "CONTROL", "DIAG", ("AML",), 49),
    CountTarget("R043", "MSC", "DIAG", ("ALL",), 45),
    CountTarget("R044", "CONTROL", "DIAG", ("ALL",), 43),
    CountTarget("R045", "MSC", "DIAG", ("MDS", "CML", "MM", "NHL", "Other acute leukemia"), 15),
    CountTarget("R046", "CONTROL", "DIAG", ("MDS", "CML", "MM", "NHL", "Other acute leukemia"), 7),
    CountTarget("R047", "MSC", "DIAG", ("MDS",), 6),
    CountTarget("R048", "CONTROL", "DIAG", ("MDS",), 3),
    CountTarget("R049", "MSC", "DIAG", ("CML",), 3),
    CountTarget("R050", "CONTROL", "DIAG", ("CML",), 1),
    CountTarget("R051", "MSC", "DIAG", ("MM",), 1),
    CountTarget("R052", "CONTROL", "DIAG", ("MM",), 0),
    CountTarget("R053", "MSC", "DIAG", ("NHL",), 0),
    CountTarget("R054", "CONTROL", "DIAG", ("NHL",), 1),
    CountTarget("R055", "MSC", "DIAG", ("Other acute leukemia",), 5),
    CountTarget("R056", "CONTROL", "DIAG", ("Other acute leukemia",), 2),
    CountTarget("R058", "MSC", "DISSTAT", ("CR",), 63),
    CountTarget("R059", "CONTROL", "DISSTAT", ("CR",), 70),
    CountTarget("R060", "MSC", "DISSTAT", ("PR",), 6),
    CountTarget("R061", "CONTROL", "DISSTAT", ("PR",), 6),
    CountTarget("R062", "MSC", "DISSTAT", ("NR",), 30),
    CountTarget("R063", "CONTROL", "DISSTAT", ("NR",), 23),
    CountTarget("R065", "MSC", "HLAMATCH", ("Matched",), 51),
    CountTarget("R066", "CONTROL", "HLAMATCH", ("Matched",), 51),
    CountTarget("R067", "MSC", "HLAMATCH", ("Mismatched",), 48),
    CountTarget("R068", "CONTROL", "HLAMATCH", ("Mismatched",), 48),
    CountTarget("R070", "MSC", "CONDREG", ("Bu-based",), 51),
    CountTarget("R071", "CONTROL", "CONDREG", ("Bu-based",), 42),
    CountTarget("R072", "MSC", "CONDREG", ("TBI-based",), 48),
    CountTarget("R073", "CONTROL", "CONDREG", ("TBI-based",), 57),
    CountTarget("R075", "MSC", "GRAFTSRC", ("PBSC",), 53),
    CountTarget("R076", "CONTROL", "GRAFTSRC", ("PBSC",), 57),
    CountTarget("R077", "MSC", "GRAFTSRC", ("PBSC + BM",), 46),
    CountTarget("R078", "CONTROL", "GRAFTSRC", ("PBSC + BM",), 42),
    CountTarget("R080", "MSC", "GVHDPROP", ("CsA+MTX", "CsA+MTX+MMF"), 42),
    CountTarget("R081", "CONTROL", "GVHDPROP", ("CsA+MTX", "CsA+MTX+MMF"), 43),
    CountTarget("R082", "MSC", "GVHDPROP", ("CsA+MTX+MMF+ATG",), 57),
    CountTarget("R083", "CONTROL", "GVHDPROP", ("CsA+MTX+MMF+ATG",), 56),
    CountTarget("R085", "MSC", "AGVHDGR", ("II",), 36),
    CountTarget("R086", "CONTROL", "AGVHDGR", ("II",), 37),
    CountTarget("R087", "MSC", "AGVHDGR", ("III",), 41),
    CountTarget("R088", "CONTROL", "AGVHDGR", ("III",), 44),
    CountTarget("R089", "MSC", "AGVHDGR", ("IV",), 22),
    CountTarget("R090", "CONTROL", "AGVHDGR", ("IV",), 18),
    CountTarget("R092", "MSC", "NORGANS", (1,), 25),
    CountTarget("R093", "CONTROL", "NORGANS", (1,), 29),
    CountTarget("R094", "MSC", "NORGANS", (2,), 46),
    CountTarget("R095", "CONTROL", "NORGANS", (2,), 48),
    CountTarget("R096", "MSC", "NORGANS", (3,), 28),
    CountTarget("R097", "CONTROL", "NORGANS", (3,), 22),
    CountTarget("R099", "MSC", "SKINFL", ("Y",), 73),
    CountTarget("R100", "CONTROL", "SKINFL", ("Y",), 63),
    CountTarget("R101", "MSC", "LIVERFL", ("Y",), 43),
    CountTarget("R102", "CONTROL", "LIVERFL", ("Y",), 46),
    CountTarget("R103", "MSC", "UGIFL", ("Y",), 9),
    CountTarget("R104", "CONTROL", "UGIFL", ("Y",), 10),
    CountTarget("R105", "MSC", "LGIFL", ("Y",), 79),
    CountTarget("R106", "CONTROL", "LGIFL", ("Y",), 77),
)

STAT_TARGETS: tuple[StatTarget, ...] = (
    StatTarget("R025", "MSC", "AGE", "median", 28),
    StatTarget("R026", "CONTROL", "AGE", "median", 29),
    StatTarget("R027", "MSC", "AGE", "min", 16),
    StatTarget("R028", "MSC", "AGE", "max", 59),
    StatTarget("R029", "CONTROL", "AGE", "min", 16),
    StatTarget("R030", "CONTROL", "AGE", "max", 57),
    StatTarget("R108", "MSC", "HSCTGVDY", "median", 30),
    StatTarget("R109", "CONTROL", "HSCTGVDY", "median", 28),
    StatTarget("R110", "MSC", "HSCTGVDY", "min", 14),
    StatTarget("R111", "MSC", "HSCTGVDY", "max", 132),
    StatTarget("R112", "CONTROL", "HSCTGVDY", "min", 16),
    StatTarget("R113", "CONTROL", "HSCTGVDY", "max", 124),
)

RESPONSE_TARGETS: tuple[ResponseTarget, ...] = (
    ResponseTarget("R132", "MSC", "Day 28", 82),
    ResponseTarget("R133", "CONTROL", "Day 28", 70),
    ResponseTarget("R137", "MSC", "Day 56", 78),
    ResponseTarget("R138", "CONTROL", "Day 56", 64),
)

AE_TARGETS: tuple[AeTarget, ...] = (
    AeTarget("R188", "MSC", "INFECTION", 65),
    AeTarget("R189", "CONTROL", "INFECTION", 78),
    AeTarget("R190", "MSC", "HEMATOLOGIC", 37),
    AeTarget("R191", "CONTROL", "HEMATOLOGIC", 53),
)
AE_WINDOW_DAYS = 180  # "within 180 days after study treatment": onset study day <= 180

SAE_TARGETS: tuple[SaeTarget, ...] = (
    SaeTarget("R192", "MSC", "any serious adverse event", 41),
    SaeTarget("R193", "CONTROL", "any serious adverse event", 44),
    SaeTarget("R194", "MSC", "hematologic (total)", 9),
    SaeTarget("R195", "CONTROL", "hematologic (total)", 13),
    SaeTarget("R196", "MSC", "hematologic: platelets decreased", 6),
    SaeTarget("R197", "CONTROL", "hematologic: platelets decreased", 8),
    SaeTarget("R198", "MSC", "hematologic: platelets and neutrophils both decreased", 3),
    SaeTarget("R199", "CONTROL", "hematologic: platelets and neutrophils both decreased", 5),
    SaeTarget("R200", "MSC", "skin", 0),
    SaeTarget("R201", "CONTROL", "skin", 1),
    SaeTarget("R202", "MSC", "gastrointestinal", 4),
    SaeTarget("R203", "CONTROL", "gastrointestinal", 5),
    SaeTarget("R204", "MSC", "hepatobiliary or pancreatic", 2),
    SaeTarget("R205", "CONTROL", "hepatobiliary or pancreatic", 2),
    SaeTarget("R206", "MSC", "cardiac (heart failure)", 4),
    SaeTarget("R207", "CONTROL", "cardiac (heart failure)", 6),
    SaeTarget("R208", "MSC", "renal or genitourinary (non-infective cystitis)", 4),
    SaeTarget("R209", "CONTROL", "renal or genitourinary (non-infective cystitis)", 5),
    SaeTarget("R210", "MSC", "vascular (thrombotic microangiopathy)", 0),
    SaeTarget("R211", "CONTROL", "vascular (thrombotic microangiopathy)", 1),
    SaeTarget("R212", "MSC", "infections", 12),
    SaeTarget("R213", "CONTROL", "infections", 16),
    SaeTarget("R214", "MSC", "secondary malignancy", 0),
    SaeTarget("R215", "CONTROL", "secondary malignancy", 0),
)

_Y2, _Y3, _Y5 = 2 * DAYS_PER_YEAR, 3 * DAYS_PER_YEAR, 5 * DAYS_PER_YEAR
TTE_TARGETS: tuple[TteTarget, ...] = (
    TteTarget("R172", "MSC", "FFS", "median", 11.3, tolerance=MEDIAN_TOLERANCE_MONTHS),
    TteTarget("R173", "CONTROL", "FFS", "median", 6.0, tolerance=MEDIAN_TOLERANCE_MONTHS),
    TteTarget("R174", "MSC_vs_CONTROL", "FFS", "hr", 0.68, ci_low=0.48, ci_high=0.95),
    TteTarget("R175", "MSC", "CGVHD", "cuminc", 39.5, day=_Y2, tolerance=PERCENT_TOLERANCE),
    TteTarget("R176", "CONTROL", "CGVHD", "cuminc", 62.7, day=_Y2, tolerance=PERCENT_TOLERANCE),
    TteTarget("R177", "MSC_vs_CONTROL", "CGVHD", "hr", 0.55, day=_Y2, ci_low=0.36, ci_high=0.84),
    TteTarget("R178", "MSC", "RELAPSE", "cuminc", 10.1, day=_Y3, tolerance=PERCENT_TOLERANCE),
    TteTarget("R179", "CONTROL", "RELAPSE", "cuminc", 13.5, day=_Y3, tolerance=PERCENT_TOLERANCE),
    TteTarget("R180", "MSC_vs_CONTROL", "RELAPSE", "hr", 0.75, day=_Y3, ci_low=0.34, ci_high=1.67),
    TteTarget("R236", "MSC", "CGVHD", "cuminc", 42.0, day=_Y5, tolerance=PERCENT_TOLERANCE),
    TteTarget("R237", "CONTROL", "CGVHD", "cuminc", 67.1, day=_Y5, tolerance=PERCENT_TOLERANCE),
    TteTarget("R238", "MSC", "OS", "survival", 60.4, day=_Y5, tolerance=PERCENT_TOLERANCE),
)

# Serious-event categories of Table 4, defined by preferred term (AEDECOD) so a transform can count
# them; infections are every AECAT='INFECTION' term.
SAE_CATEGORIES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "skin": ("Skin ulceration",),
    "gastrointestinal": ("Gastrointestinal haemorrhage", "Intestinal obstruction"),
    "hepatobiliary or pancreatic": ("Cholecystitis acute", "Hepatic failure"),
    "cardiac (heart failure)": ("Cardiac failure",),
    "renal or genitourinary (non-infective cystitis)": ("Cystitis noninfective",),
    "vascular (thrombotic microangiopathy)": ("Thrombotic microangiopathy",),
    "secondary malignancy": ("Myelodysplastic syndrome", "Post transplant lymphoproliferative disorder"),
})
PLATELETS_DECREASED = "Platelet count decreased"
NEUTROPHILS_DECREASED = "Neutrophil count decreased"


def all_targets() -> tuple:
    """Every target that carries a reference record id."""
    return (POPULATION_TARGETS + BASELINE_TARGETS + STAT_TARGETS + RESPONSE_TARGETS + AE_TARGETS
            + SAE_TARGETS + TTE_TARGETS)


# --------------------------------------------------------------------------------------------
# Assumptions (where the publications are silent)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """An assumed enrolling centre: identity, location, activation date, target and accrual share."""

    siteid: str
    name: str
    city: str
    lat: float
    lon: float
    activation: str
    target: int
    share: float


SITES: tuple[Site, ...] = (
    Site("01", "Nanfang Hospital, Southern Medical University", "Guangzhou", 23.1893, 113.3318,
         "2014-09-15", 70, 0.34),
    Site("02", "Guangdong Provincial People's Hospital", "Guangzhou", 23.1262, 113.2798, "2014-11-03", 25, 0.12),
    Site("03", "Third Affiliated Hospital of Sun Yat-sen University", "Guangzhou", 23.1354, 113.3436,
         "2015-01-12", 20, 0.10),
    Site("04", "Sun Yat-sen Memorial Hospital, Sun Yat-sen University", "Guangzhou", 23.1229, 113.2706,
         "2015-03-02", 18, 0.09),
    Site("05", "Guangzhou First People's Hospital", "Guangzhou", 23.1365, 113.2689, "2015-05-18", 15, 0.08),
    Site("06", "General Hospital of Guangzhou Military Command", "Guangzhou", 23.1449, 113.3287,
         "2015-04-07", 15, 0.07),
    Site("07", "Zhujiang Hospital, Southern Medical University", "Guangzhou", 23.0954, 113.2943,
         "2015-09-14", 12, 0.07),
    Site("08", "Peking University People's Hospital", "Beijing", 39.9386, 116.3553, "2015-10-19", 15, 0.07),
    Site("09", "Union Hospital, Tongji Medical College, Huazhong University of Science and Technology",
         "Wuhan", 30.5882, 114.2810, "2016-03-07", 10, 0.06),
)
FIRST_RANDOMIZATION = "2014-09-26"  # R001: first patient in September 2014
LAST_RANDOMIZATION = "2019-03-27"   # R002: last patient in March 2019
# Relative monthly accrual (Jan..Dec): Spring Festival dip in Jan/Feb, Golden Week dip in October.
SEASONALITY = (0.85, 0.6, 1.0, 1.05, 1.05, 1.0, 0.95, 0.95, 1.05, 0.85, 1.1, 1.05)
SITE_MONTH_NOISE_SHAPE = 4.0  # gamma(shape, 1/shape) month-to-month noise per site
RAMP_UP_DAYS = 90             # a site accrues at half rate in its first 90 days

# Accrual models. 'published-window' (the bundled trial: default seed and size) is conditioned on
# the published enrolment window: each site's quota of patients is placed between R001 and R002 and
# the first/last randomization are pinned to them, so the window is the same for every seed.
# 'stochastic' (every other seed or size, or on request) is an unconditioned Poisson-gamma draw
# (Anisimov & Fedorov 2007): a site's rate is its planned share times a Gamma(SITE_RATE_SHAPE,
# 1/SITE_RATE_SHAPE) factor drawn once per trial, and the planned rates (shares, activation,
# ramp-up, seasonality) expect the target number randomized on LAST_RANDOMIZATION; patients are
# screened as Poisson arrivals until the target is randomized, so the completion date varies.
ACCRUAL_PUBLISHED = "published-window"
ACCRUAL_STOCHASTIC = "stochastic"
ACCRUAL_MODES = (ACCRUAL_PUBLISHED, ACCRUAL_STOCHASTIC)
SITE_RATE_SHAPE = 4.0         # gamma shape of a site's rate around its share (CV 50%)

SCREEN_FAILURES_PER_RANDOMIZED = 0.16
# Stochastic accrual: each screened patient fails screening independently with this probability
# (0.16 failures per randomized patient on average).
SCREEN_FAILURE_PROBABILITY = SCREEN_FAILURES_PER_RANDOMIZED / (1 + SCREEN_FAILURES_PER_RANDOMIZED)
SCREEN_FAILURE_REASONS = MappingProxyType({
    "Not steroid-resistant at confirmation": 0.30,
    "Active uncontrolled infection": 0.20,
    "Consent withdrawn before randomization": 0.15,
    "Abnormal vital signs": 0.15,
    "Age outside 14-65 years": 0.10,
    "Investigator decision": 0.10,
})
SCREEN_TO_RANDOMIZATION_DAYS = (0, 3)     # uniform, inclusive
AGVHD_TO_SCREENING_DAYS = (5, 28)         # steroid resistance declared after >= 5 days of steroids

STRATIFICATION = ("STRATGR", "SITEID")    # aGVHD grade group (II / III-IV) x centre
BLOCK_SIZES = (2, 4)
BLOCK_SIZE_WEIGHTS = (0.3, 0.7)

# Randomized but not analysed (R016/R017: 2 + 3): withdrawn in the first days, before day 7.
WITHDRAWN_PER_ARM = MappingProxyType({"MSC": 2, "CONTROL": 3})  # per 101 / 102 randomized
WITHDRAWAL_REASONS = MappingProxyType({"Withdrawal by subject": 2, "Physician decision": 1, "Protocol deviation": 2})
WITHDRAWAL_DAYS = (1, 5)   # days after randomization; 'Protocol deviation' found before the first dose

# Organ involvement patterns per 99 (S = skin, L = liver, G = gut), solving Table 1's organ counts
# with NORGANS counting upper and lower GI as one organ (gut): e.g. MSC skin 28+5+35+5 = 73.
ORGAN_PATTERNS = ("S", "L", "G", "SL", "SG", "LG", "SLG")
ORGAN_PATTERN_COUNTS = MappingProxyType({
    "MSC": (5, 4, 16, 5, 35, 6, 28),
    "CONTROL": (3, 8, 18, 6, 32, 10, 22),
})
GUT_SITES = ("lower", "upper", "both")  # among gut-involved: lower only / upper only / both
GUT_SITE_COUNTS = MappingProxyType({"MSC": (76, 6, 3), "CONTROL": (72, 5, 5)})

# Age (years) and days from HSCT to aGVHD: piecewise-linear quantile functions (u, value) that
# hit the published median, range and <18 count; values are floored to whole years/days.
AGE_QUANTILES = MappingProxyType({
    "MSC": ((0.0, 16.0), (14 / 99, 18.0), (0.30, 22.0), (0.49, 28.0), (0.515, 28.99), (0.75, 38.0),
            (0.92, 48.0), (1.0, 59.99)),
    "CONTROL": ((0.0, 16.0), (17 / 99, 18.0), (0.32, 23.0), (0.49, 29.0), (0.515, 29.99), (0.75, 39.0),
                (0.92, 48.0), (1.0, 57.99)),
})
ONSET_QUANTILES = MappingProxyType({
    "MSC": ((0.0, 14.0), (0.20, 21.0), (0.49, 30.0), (0.515, 30.99), (0.75, 45.0), (0.92, 75.0), (1.0, 132.99)),
    "CONTROL": ((0.0, 16.0), (0.20, 20.0), (0.49, 28.0), (0.515, 28.99), (0.75, 42.0), (0.92, 70.0),
                (1.0, 124.99)),
})
# HLA-matched donors given ATG are unrelated, the others siblings; mismatched donors haploidentical.
GVHDPROP_NO_ATG_SPLIT = MappingProxyType({"CsA+MTX": 0.5, "CsA+MTX+MMF": 0.5})

# Day-28 / day-56 response course per 99 evaluable patients (sums reproduce 82/70 and 78/64):
#   early_death: died before day 28;  nr: alive, no response at day 28 (NR/MR/PD, switched therapy);
#   lost_died: responder at day 28, died before day 56;  lost_flare: responder at 28, NR/PD at 56;
#   durable: CR/PR at day 28 and day 56.
RESPONSE_CLASSES = ("early_death", "nr", "lost_died", "lost_flare", "durable")
RESPONSE_CLASS_COUNTS = MappingProxyType({"MSC": (3, 14, 1, 3, 78), "CONTROL": (5, 24, 2, 4, 64)})
CR_AT_DAY28 = MappingProxyType({"MSC": 52, "CONTROL": 40})   # of the day-28 responders (82 / 70)
CR_AT_DAY56 = MappingProxyType({"MSC": 66, "CONTROL": 50})   # of the durable responders (78 / 64)
FIRST_RESPONSE_VISIT_WEIGHTS = MappingProxyType({7: 0.30, 14: 0.35, 21: 0.25, 28: 0.10})
VISIT_WINDOW_DAYS = MappingProxyType({7: 1, 14: 1, 21: 1, 28: 1, 56: 3, 90: 7})

# Long-term course per 99 evaluable patients (follow-up: 5 years from randomization per protocol).
FOLLOW_UP_DAYS = 1826
RELAPSE_BY_3Y = MappingProxyType({"MSC": 10, "CONTROL": 13})      # R178/R179: 10.1% and 13.5% of 99
RELAPSE_3Y_TO_5Y = MappingProxyType({"MSC": 1, "CONTROL": 1})
RELAPSE_MEDIAN_DAYS = 240
RELAPSE_DEATH_FRACTION = 0.65
CGVHD_BY_2Y = MappingProxyType({"MSC": 39, "CONTROL": 62})        # R175/R176: 39.5% and 62.7%
CGVHD_2Y_TO_5Y = MappingProxyType({"MSC": 3, "CONTROL": 4})       # R236/R237: 42.0% and 67.1% at 5 years
CGVHD_MEDIAN_ONSET_DAYS = MappingProxyType({"MSC": 165, "CONTROL": 255})
CGVHD_SEVERITY = ("Mild", "Moderate", "Severe")
CGVHD_SEVERITY_WEIGHTS = MappingProxyType({"MSC": (0.40, 0.38, 0.22), "CONTROL": (0.32, 0.40, 0.28)})
LATE_FLARE = MappingProxyType({"MSC": 6, "CONTROL": 3})           # aGVHD flare after day 56 needing new therapy
DEATHS_BY_5Y = MappingProxyType({"MSC": 39, "CONTROL": 50})       # R238: 60.4% of MSC alive at 5 years
LOST_TO_FOLLOW_UP = MappingProxyType({"MSC": 1, "CONTROL": 1})    # alive, lost during years 3-5

# Causes of death (DTHCAUS). Deaths within the AE window from an AE cause also appear in ADAE as a
# grade-5 serious event; GVHD and relapse deaths are disease outcomes, not AEs.
DEATH_CAUSE_WEIGHTS = MappingProxyType({
    "refractory": MappingProxyType({"Acute GVHD": 0.50, "Infection": 0.40, "Multiple organ dysfunction syndrome": 0.10}),
    "cgvhd": MappingProxyType({"Chronic GVHD": 0.45, "Infection": 0.40, "Cardiac failure": 0.15}),
    "other": MappingProxyType({"Infection": 0.55, "Cardiac failure": 0.15, "Respiratory failure": 0.15,
                               "Multiple organ dysfunction syndrome": 0.15}),
})
FATAL_AE_TERMS = MappingProxyType({
    "Infection": MappingProxyType({"Sepsis": 0.4, "Pneumonia bacterial": 0.2, "Bronchopulmonary aspergillosis": 0.2,
                                   "Pneumonia fungal": 0.1, "Cytomegalovirus infection": 0.1}),
    "Cardiac failure": MappingProxyType({"Cardiac failure": 1.0}),
    "Respiratory failure": MappingProxyType({"Respiratory failure": 1.0}),
    "Multiple organ dysfunction syndrome": MappingProxyType({"Multiple organ dysfunction syndrome": 1.0}),
})

# Serious AEs outside Table 4's listed categories (Table 4's "any SAE" exceeds the listed rows).
OTHER_SAE_PATIENTS = MappingProxyType({"MSC": 8, "CONTROL": 3})
OTHER_SAE_TERMS = ("Posterior reversible encephalopathy syndrome", "Respiratory failure",
                   "Multiple organ dysfunction syndrome", "Seizure")

# Per-patient event rates (Poisson means) inside the 180-day AE window.
EXTRA_SEVERE_INFECTIONS = 0.5      # further grade 3-4 infections in patients with one
LOW_GRADE_INFECTIONS = 1.2
EXTRA_SEVERE_HEMATOLOGIC = 0.6
LOW_GRADE_HEMATOLOGIC = 0.8
OTHER_AES = 3.0
OTHER_AE_GRADE3 = 0.08             # share of "other" AEs at grade 3 (non-serious)
INFUSION_REACTIONS = 0.10          # MSC arm, per patient

# Dosing (R122-R127): MSC 1.0 x10^6 cells/kg weekly x4 (days 1, 8, 15, 22), second cycle of 4 if PR
# at day 28, stopped at CR; basiliximab 20 mg (the registry's "20 mg/kg" read as a typo) on days
# 1, 4, 8, 15, 21 in both arms, repeated from day 29 for PR at day 28.
MSC_DAYS = (1, 8, 15, 22)
MSC_DOSES = (0.9, 1.0, 1.1)
MSC_DOSE_WEIGHTS = (0.15, 0.70, 0.15)
BASILIXIMAB_DAYS = (1, 4, 8, 15, 21)
BASILIXIMAB_MG = 20.0
SECOND_CYCLE_OFFSET = 28


@dataclass(frozen=True)
class Assumption:
    """A value chosen where the publications are silent, and why."""

    topic: str
    text: str


def _counts(mapping) -> str:
    return "; ".join(f"{ARM_NAME[a]}: {mapping[a]}" for a in ARM_KEYS)


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("Scaling", "Counts are specified per 99 evaluable patients per arm and scaled to any trial size by "
               "largest-remainder rounding; the default 203-subject trial reproduces the published counts exactly."),
    Assumption("Centres (R004, R005)", "Nine centres: Nanfang Hospital (lead, Guangzhou, 34% of accrual) plus eight "
               "taken from the registry collaborator list (Sun Yat-sen University and the Academy of Military "
               "Medical Sciences are read as product/industry partners, not enrolling sites; Zhujiang Hospital "
               "stands for 'Southern Medical University'). Shares, activation dates and targets: "
               + "; ".join(f"{s.siteid} {s.name} ({s.city}) from {s.activation}, {s.share:.0%}, target {s.target}"
                           for s in SITES) + ". Coordinates are approximate."),
    Assumption("Accrual", f"Per-site daily rate from the site's activation date with a {RAMP_UP_DAYS}-day half-rate "
               f"ramp-up, monthly seasonality {SEASONALITY} (Jan..Dec) and gamma month-to-month noise (shape "
               f"{SITE_MONTH_NOISE_SHAPE:g}). Two accrual models share it. '{ACCRUAL_PUBLISHED}' (the bundled trial: "
               f"default seed and size) is conditioned on the published enrolment window: each site's quota of "
               f"patients is placed between {FIRST_RANDOMIZATION} and {LAST_RANDOMIZATION}, the first and last "
               "randomization pinned to those dates, with exactly the planned screen failures, so every seed "
               "finishes on the same day. "
               f"'{ACCRUAL_STOCHASTIC}' (every other seed or size, or `accrual='{ACCRUAL_STOCHASTIC}'`) is an "
               "unconditioned Poisson-gamma recruitment draw (Anisimov & Fedorov 2007): a site's rate is its share "
               f"times a Gamma({SITE_RATE_SHAPE:g}, 1/{SITE_RATE_SHAPE:g}) factor drawn per trial, scaled so the "
               f"planned rates expect the target randomized on {LAST_RANDOMIZATION}; patients are screened as "
               f"Poisson arrivals, each failing screening with probability {SCREEN_FAILURE_PROBABILITY:.3f}, until "
               "the target is randomized (patients still in screening then are not recorded), so the completion "
               "date varies from seed to seed (over seeds 1-100 at 203 patients, the last randomization spans "
               "about 2018 to 2020, median early 2019). Its data cut defaults to the later of the bundled cut and "
               "the end of the last patient's follow-up; the provenance records `accrual`."),
    Assumption("Screening (R009)", f"{SCREEN_FAILURES_PER_RANDOMIZED:.0%} screen failures per randomized patient "
               "(exactly, with the published window; on average, with stochastic accrual) "
               f"(ARM 'Screen Failure', RANDFL 'N'), reasons {dict(SCREEN_FAILURE_REASONS)}; screen failures are "
               "decided on the screening date; randomized patients are screened "
               f"{SCREEN_TO_RANDOMIZATION_DAYS[0]}-{SCREEN_TO_RANDOMIZATION_DAYS[1]} days before randomization, "
               f"{AGVHD_TO_SCREENING_DAYS[0]}-{AGVHD_TO_SCREENING_DAYS[1]} days after aGVHD onset."),
    Assumption("Stratification (R019)", "Randomization stratified by aGVHD grade group (STRATGR 'II' vs 'III-IV') and "
               f"centre, permuted blocks of {BLOCK_SIZES} (weights {BLOCK_SIZE_WEIGHTS}) within strata; the "
               "composition of each stratum's last, incomplete block is chosen so the arms have the published sizes."),
    Assumption("Not analysed (R016-R018)", f"Randomized but not analysed: {_counts(WITHDRAWN_PER_ARM)}, withdrawn "
               f"{WITHDRAWAL_DAYS[0]}-{WITHDRAWAL_DAYS[1]} days after randomization (before the day-7 assessment), "
               f"reasons {dict(WITHDRAWAL_REASONS)}; 'Protocol deviation' is found before the first dose "
               "(SAFFL 'N'). EFFFL 'N', censored at withdrawal in ADTTE."),
    Assumption("Organ involvement (R107, R115)", "NORGANS counts skin, liver and gut (upper and/or lower GI) as up to "
               f"three organs, which makes Table 1's organ counts consistent. Patterns {ORGAN_PATTERNS} per 99: "
               f"{_counts(ORGAN_PATTERN_COUNTS)}; gut sites (lower only, upper only, both): {_counts(GUT_SITE_COUNTS)}. "
               "More organs go with higher grade; stages follow MAGIC-like rules (grade II: stages <= 1 except skin, "
               "grade III: liver/gut 2-3, grade IV: one organ stage 4)."),
    Assumption("Donors (R069, R114)", "HLA-matched donors are siblings unless the patient received ATG (then "
               "unrelated); mismatched donors are haploidentical, all with ATG. PBSC + BM grafts go preferentially "
               "to haploidentical transplants, TBI conditioning to ALL. Non-ATG prophylaxis is "
               f"{dict(GVHDPROP_NO_ATG_SPLIT)}."),
    Assumption("Response course (R144-R169)", f"Per 99: classes {RESPONSE_CLASSES} = {_counts(RESPONSE_CLASS_COUNTS)}. "
               f"CR among day-28 responders: {_counts(CR_AT_DAY28)}; CR among durable responders at day 56: "
               f"{_counts(CR_AT_DAY56)}. First response at day {dict(FIRST_RESPONSE_VISIT_WEIGHTS)}. Non-responders "
               "switch therapy at day 21 (progression) or day 28 and stay NR/PD; patients who die before a visit "
               "have no row for it (non-responders for the endpoint). Visit windows (days +-): "
               f"{dict(VISIT_WINDOW_DAYS)}. Baseline organ staging is PARAMCD 'AGVHDSTG' (AVALC = grade)."),
    Assumption("Failure-free survival", "FFS failure = first of: additional systemic therapy for aGVHD (non-response "
               "at day 21/28, loss of response by day 56, or a later flare), moderate or severe chronic GVHD "
               "(systemic therapy), relapse, or death. Late flares per 99: " + _counts(LATE_FLARE)
               + f"; cGVHD severity (mild, moderate, severe): {_counts(CGVHD_SEVERITY_WEIGHTS)}, milder with MSC "
               "(R186: the 2025 abstract reports reduced severity)."),
    Assumption("Chronic GVHD, relapse", f"cGVHD per 99 by 2 years {_counts(CGVHD_BY_2Y)}, 2-5 years "
               f"{_counts(CGVHD_2Y_TO_5Y)}; onset median {_counts(CGVHD_MEDIAN_ONSET_DAYS)} days after randomization "
               "(onset times are unpublished; these medians put the FFS medians near 11.3 and 6.0 months). "
               f"Relapse per 99 by 3 years {_counts(RELAPSE_BY_3Y)}, 3-5 years {_counts(RELAPSE_3Y_TO_5Y)}; "
               f"median {RELAPSE_MEDIAN_DAYS} days; {RELAPSE_DEATH_FRACTION:.0%} of relapses are fatal. Competing "
               "events: death or relapse before cGVHD; death before relapse."),
    Assumption("Survival (R181-R185, R239)", f"Deaths within 5 years per 99: {_counts(DEATHS_BY_5Y)} (control 5-year "
               "OS about 49.5%, chosen below the MSC arm's published 60.4%). Non-responders carry most early "
               f"non-relapse deaths. Causes of death: {', '.join(DEATH_CAUSE_WEIGHTS)} groups with weights "
               + "; ".join(f"{k}: {dict(v)}" for k, v in DEATH_CAUSE_WEIGHTS.items()) + "."),
    Assumption("Follow-up and data cut", f"Protocol follow-up is {FOLLOW_UP_DAYS} days (5 years) from randomization "
               f"(EOSSTT 'COMPLETED'); lost to follow-up in years 3-5 per 99: {_counts(LOST_TO_FOLLOW_UP)}. "
               f"The bundled trial's data cut is {DEFAULT_CUTOFF}, after the last patient's 5-year visit, so the "
               "5-year estimates use complete follow-up. At any cut, follow-up still open is censored at the cut "
               "and the last-known-alive date is the cut; subjects screened but not yet randomized have ARM "
               "'Not Assigned'."),
    Assumption("Adverse events", f"AEs are collected from randomization to study day {AE_WINDOW_DAYS}. Table 4 "
               "categories are defined by preferred term (SAE_CATEGORIES); Table 4's 'any SAE' exceeds its listed "
               f"rows, so patients with other serious events ({', '.join(OTHER_SAE_TERMS)}) per 99: "
               f"{_counts(OTHER_SAE_PATIENTS)}. Hematologic SAEs: 'platelets decreased' = platelet SAE only; "
               "'both' = platelet and neutrophil SAEs. Grade 5 AEs exist for deaths in the window from an AE cause. "
               f"Poisson rates per patient: further severe infections {EXTRA_SEVERE_INFECTIONS}, grade 1-2 "
               f"infections {LOW_GRADE_INFECTIONS}, further severe hematologic {EXTRA_SEVERE_HEMATOLOGIC}, grade 1-2 "
               f"hematologic {LOW_GRADE_HEMATOLOGIC}, other AEs {OTHER_AES} ({OTHER_AE_GRADE3:.0%} grade 3), MSC "
               f"infusion reactions {INFUSION_REACTIONS}."),
    Assumption("Infection types (R216-R225)", "Severe infections mostly CMV viraemia (pre-emptive therapy), then "
               "bacterial pneumonia/sepsis, EBV viraemia, fungal and other viral (BK, zoster) infections; INFTYPE "
               "is one of CMV, EBV, Bacterial, Fungal, Other viral (see the term tables in generator.py)."),
    Assumption("Dosing (R122-R130)", f"MSC {MSC_DOSES} x10^6 cells/kg (weights {MSC_DOSE_WEIGHTS}, median 1.0) on "
               f"study days {MSC_DAYS}, skipped after a CR assessment, repeated from day "
               f"{SECOND_CYCLE_OFFSET + 1} for PR at day 28; basiliximab {BASILIXIMAB_MG:g} mg (registry '20 mg/kg' "
               f"read as a typo) on days {BASILIXIMAB_DAYS} in both arms, repeated from day "
               f"{SECOND_CYCLE_OFFSET + 1} for PR at day 28; no dose after death, switch of therapy or withdrawal. "
               "The calcineurin inhibitor is background therapy and not in ADEX."),
    Assumption("Time-to-event analysis", "AVAL is days from randomization; competing events have CNSR=1 and "
               "CMPEVFL='Y'. Hazard ratios are cause-specific Cox models (lifelines has no Fine-Gray); the cGVHD "
               "and relapse HRs truncate follow-up at 2 and 3 years. Tolerances: medians +-"
               f"{MEDIAN_TOLERANCE_MONTHS} months, percentages +-{PERCENT_TOLERANCE:g} points, HRs inside the "
               "published 95% CI."),
)


def assumptions_markdown() -> str:
    """The targets and assumptions as Markdown (the content of ASSUMPTIONS.md)."""
    lines = [
        "# Synthetic trial assumptions",
        "",
        "Generated from `dashboard/synthetic/calibration.py` by "
        "`python -m dashboard.synthetic.calibration`; do not edit by hand.",
        "",
        "The synthetic NCT02241018 trial reproduces the published numbers listed under *Targets* (each with its",
        "record id in `../shared/reference/nct02241018_published.json`). Everything the publications do not",
        "report is an assumption, listed under *Assumptions*.",
        "",
        f"Default: seed {DEFAULT_SEED}, {DEFAULT_SUBJECTS} randomized subjects, data cut {DEFAULT_CUTOFF}.",
        "",
        "## Assumptions",
        "",
    ]
    lines += [f"- **{a.topic}.** {a.text}" for a in ASSUMPTIONS]
    lines += ["", "## Targets", "", "| Record | Arm | Measure | Value | Check |", "|---|---|---|---|---|"]
    for t in all_targets():
        if isinstance(t, CountTarget):
            measure, check = f"{t.column} in {', '.join(map(str, t.values))} ({t.population}='Y')", "exact"
        elif isinstance(t, StatTarget):
            measure, check = f"{t.stat} {t.column} (evaluable)", "exact"
        elif isinstance(t, ResponseTarget):
            measure, check = f"CR+PR at {t.visit} (evaluable)", "exact"
        elif isinstance(t, AeTarget):
            measure, check = f"grade 3-4 {t.category} AE, onset day <= {AE_WINDOW_DAYS}", "exact"
        elif isinstance(t, SaeTarget):
            measure, check = f"serious AE: {t.category}", "exact"
        else:
            at = f" at day {t.day:g}" if t.day else ""
            measure = f"{t.paramcd} {t.kind}{at}"
            check = f"in [{t.ci_low}, {t.ci_high}]" if t.kind == "hr" else f"+-{t.tolerance:g}"
        lines.append(f"| {t.ref} | {t.arm} | {measure} | {t.value} | {check} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(assumptions_markdown(), end="")
