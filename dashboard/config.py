"""Configuration as data: trial metadata, arm styling, visit schedule and safety cut-offs.

Everything a view or transform would otherwise hard-code lives here, immutable, so that one
place changes arm colours, the response categories or the AE grade cut-offs for every view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

# Okabe-Ito colour-blind-safe palette: arms are told apart by colour and by legend label.
ARM_PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
)

# Response categories in display order (best first) with their colours.
# "Died" and "No assessment" are visit outcomes without an assessment (counted as non-response);
# "Pending" means the visit falls after the data cut (left out of the denominator, shown as a count).
RESPONSE_ORDER: tuple[str, ...] = ("CR", "PR", "MR", "SD", "NR", "PD", "NE", "Died", "No assessment", "Pending")
RESPONSE_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "CR": "#1a9850",
        "PR": "#91cf60",
        "MR": "#d9ef8b",
        "SD": "#fee08b",
        "NR": "#fc8d59",
        "PD": "#d73027",
        "NE": "#bdbdbd",
        "Died": "#636363",  # mid grey: visible on light and dark backgrounds
        "No assessment": "#969696",
        "Pending": "#f0f0f0",
    }
)
# Colours for response categories a dataset brings that RESPONSE_COLORS does not know (e.g. NON-CR/NON-PD).
EXTRA_RESPONSE_COLORS: tuple[str, ...] = ("#9ecae1", "#6baed6", "#c6dbef", "#bcbddc", "#fdd0a2")
# Visit outcomes derived from the subject record rather than read from ADRS.
RESPONSE_DIED, RESPONSE_MISSING, RESPONSE_PENDING = "Died", "No assessment", "Pending"
# ADRS parameter codes holding the per-visit overall response, in order of preference.
RESPONSE_PARAMCDS: tuple[str, ...] = ("OVRLRESP", "OVR", "OVRESP")
# Baseline subgroups of the response forest plot: ADSL column -> label (used when present).
RESPONSE_SUBGROUPS: Mapping[str, str] = MappingProxyType(
    {
        "AGVHDGR": "aGVHD grade",
        "NORGANS": "Organs involved",
        "LGIFL": "Lower GI involvement",
        "LIVERFL": "Liver involvement",
        "DIAG": "Diagnosis",
        "AGEGR1": "Age group",
        "SEX": "Sex",
        "SITEID": "Site",
    }
)
# Forest-plot levels with fewer patients (or none in an arm) are "not estimable" and left out of interaction tests.
SUBGROUP_MIN_LEVEL_SIZE: int = 10
# ADTTE parameters drawn on swimmer lanes when the event occurred: PARAMCD -> marker label.
SWIMMER_TTE_EVENTS: Mapping[str, str] = MappingProxyType(
    {"CGVHD": "cGVHD onset", "RELAPSE": "Relapse", "PFS": "Progression"}
)
# Words marking a control arm (case-insensitive); without one, the last arm in protocol order is control.
CONTROL_ARM_WORDS: tuple[str, ...] = ("placebo", "control", "standard of care")
# Landmarks (months) at which cumulative incidence is stated in words.
TTE_LANDMARK_MONTHS: tuple[int, ...] = (12, 24, 36)
# Swimmer lanes per page (readable lanes; thousands of patients are paginated).
SWIMMER_PAGE_SIZE: int = 50
# Categories counted as "overall response" (CR+PR) for the primary endpoint.
RESPONDER_CATEGORIES: frozenset[str] = frozenset({"CR", "PR"})

# Relatedness values (AEREL, upper-cased) counted as "related to study treatment".
RELATED_VALUES: frozenset[str] = frozenset(
    {"Y", "YES", "RELATED", "POSSIBLE", "PROBABLE", "DEFINITE", "POSSIBLY RELATED", "PROBABLY RELATED"}
)
# AE grade cut-offs: "severe" means CTCAE grade >= 3; grade 5 is fatal.
SEVERE_GRADE: int = 3
FATAL_GRADE: int = 5

DAYS_PER_MONTH: float = 365.25 / 12

# AE grade handling. CTCAE grades (AETOXGRN 1-5) are used when present; otherwise the CDISC
# severity (AESEV) is mapped onto an ordinal scale so "severe" lines up with "grade >= 3".
SEVERITY_GRADES: Mapping[str, int] = MappingProxyType({"MILD": 1, "MODERATE": 2, "SEVERE": 3})
# Maximum-grade bands shown next to "any grade" in the incidence table: (label, lowest, highest).
AE_GRADE_BANDS: Mapping[str, tuple[tuple[str, int, int], ...]] = MappingProxyType(
    {
        "CTCAE": (("Grade 3-4", 3, 4), ("Grade 5", FATAL_GRADE, FATAL_GRADE)),
        "severity": (("Severe", 3, 3),),
    }
)
# Safety focus panels count events with onset within this many study days.
SAFETY_FOCUS_WINDOW_DAYS: int = 180
# Executive summary: the MedDRA body system counted as infections (matched case-insensitively), the
# unadjusted Fisher p below which a preferred term is named as a possible signal, and how many are named.
INFECTION_SOC: str = "Infections and infestations"
AE_SIGNAL_P: float = 0.05
AE_SIGNAL_MAX_TERMS: int = 3


@dataclass(frozen=True)
class AETopic:
    """A named safety topic: events of one category (AECAT) within a grade range, optionally serious."""

    label: str
    category: str | None = None
    min_grade: int | None = None
    max_grade: int | None = None
    serious_only: bool = False


# Topics offered by the AE timeline and focus panels (those whose category the data lack are hidden).
SAFETY_TOPICS: tuple[AETopic, ...] = (
    AETopic("Grade 3-4 infection", category="INFECTION", min_grade=3, max_grade=4),
    AETopic("Grade 3-4 haematological toxicity", category="HEMATOLOGIC", min_grade=3, max_grade=4),
    AETopic("Any grade ≥ 3 event", min_grade=3),
    AETopic("Any serious event", serious_only=True),
)

# Arm balance (Table 1): baseline ADSL variables in display order; those a dataset lacks are skipped.
BASELINE_VARIABLES: tuple[str, ...] = (
    "AGE", "AGEGR1", "SEX", "RACE", "ETHNIC", "BMIBL", "WEIGHTBL", "HEIGHTBL",
    "DIAG", "DISSTAT", "HLAMATCH", "DONREL", "GRAFTSRC", "CONDREG", "GVHDPROP",
    "AGVHDGR", "SKINFL", "LIVERFL", "UGIFL", "LGIFL", "NORGANS", "HSCTGVDY", "STRATGR",
)
# Labels of common CDISC ADSL baseline variables that the data model (schema.py) does not define.
BASELINE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "RACE": "Race",
        "ETHNIC": "Ethnicity",
        "BMIBL": "Baseline BMI (kg/m2)",
        "WEIGHTBL": "Baseline weight (kg)",
        "HEIGHTBL": "Baseline height (cm)",
        "EDUCLVL": "Years of education",
        "DURDIS": "Duration of disease (months)",
        "MMSETOT": "MMSE total score",
    }
)
# Numeric baseline variables summarised as categories (n, %) rather than median/mean.
CATEGORICAL_NUMERIC_VARIABLES: frozenset[str] = frozenset({"NORGANS"})
# Display order of category levels where sorted order would mislead (other levels follow, sorted).
CATEGORY_ORDER: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"DISSTAT": ("CR", "PR", "NR"), "SEX": ("M", "F"), "AGVHDGR": ("I", "II", "III", "IV")}
)
# |standardized difference| above this flags a baseline imbalance (the usual 0.1, Austin 2009).
SMD_THRESHOLD: float = 0.1


@dataclass(frozen=True)
class EventCategory:
    """A reporting category of patients by their events: a whole AECAT and/or preferred terms
    (any of / all of / none of); an empty category means any event."""

    label: str
    category: str | None = None
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrialInfo:
    """Identity and plan of a trial: shown in the header and used by enrollment targets."""

    title: str
    registry_id: str
    short_name: str
    target_enrollment: int | None = None
    planned_enrollment_start: str | None = None
    planned_enrollment_end: str | None = None
    visit_days: tuple[int, ...] = ()
    primary_visit_day: int | None = None
    durable_visit_day: int | None = None
    stratification_factors: tuple[str, ...] = ()
    arm_order: tuple[str, ...] = ()
    arm_short_labels: Mapping[str, str] = field(default_factory=dict)
    # Serious-event categories of the trial's publication (shown as a focus panel when present).
    sae_categories: tuple[EventCategory, ...] = ()
    # Population of the protocol's primary analysis (a store population: ITT / Safety / Evaluable).
    primary_population: str | None = None

    def arm_colors(self, arms) -> dict[str, str]:
        """Colour per arm: protocol arm order first, then any further arms in the given order."""
        ordered = [a for a in self.arm_order if a in set(arms)] + sorted(
            a for a in set(arms) if a not in self.arm_order
        )
        return {arm: ARM_PALETTE[i % len(ARM_PALETTE)] for i, arm in enumerate(ordered)}


NCT02241018 = TrialInfo(
    title=(
        "MSCs + basiliximab + calcineurin inhibitor vs basiliximab + calcineurin inhibitor "
        "for steroid-resistant acute GVHD"
    ),
    registry_id="NCT02241018",
    short_name="MSC-aGVHD",
    target_enrollment=200,
    planned_enrollment_start="2014-09-30",
    planned_enrollment_end="2018-12-31",
    visit_days=(7, 14, 21, 28, 56, 90),
    primary_visit_day=28,
    durable_visit_day=56,
    stratification_factors=("STRATGR", "SITEID"),
    arm_order=("MSC + basiliximab + CNI", "Basiliximab + CNI"),
    arm_short_labels=MappingProxyType(
        {"MSC + basiliximab + CNI": "MSC", "Basiliximab + CNI": "Control"}
    ),
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
    # Zhao et al. 2022 analysed the primary endpoint in the evaluable patients (82/99 vs 70/99).
    primary_population="Evaluable",
)


def generic_trial_info(study_id: str, arms, visit_days=()) -> TrialInfo:
    """Trial identity for a loaded dataset whose protocol details the project does not know."""
    return TrialInfo(
        title=f"Study {study_id}",
        registry_id=study_id,
        short_name=study_id,
        visit_days=tuple(visit_days),
        arm_order=tuple(arms),
    )


# Enrollment forecast (Poisson-gamma recruitment model): simulations, prediction levels, and the
# least data a forecast is attempted on.
FORECAST_SIMULATIONS: int = 4000
FORECAST_LEVELS: tuple[float, ...] = (0.80, 0.95)
FORECAST_MIN_PATIENTS: int = 10
FORECAST_MIN_MONTHS: float = 3.0
# A site's start-up period: its rate in these first months is a fraction of its later rate, the
# fraction estimated from all sites' data (1 = no start-up effect).
FORECAST_RAMP_UP_MONTHS: float = 3.0
# Monthly accrual: months in the rolling recruitment rate.
ACCRUAL_ROLLING_MONTHS: int = 3

# Global filters: display labels of coded values, and what each analysis population means.
SEX_LABELS: Mapping[str, str] = MappingProxyType(
    {"M": "Male", "F": "Female", "U": "Unknown", "UNDIFFERENTIATED": "Undifferentiated"}
)
POPULATION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "ITT": "all randomized patients (intent to treat)",
        "Safety": "patients who received any study treatment",
        "Evaluable": "patients evaluable for the primary endpoint",
    }
)
