"""Configuration as data: trial metadata, arm styling, visit schedule and safety cut-offs.

Everything a view or transform would otherwise hard-code lives here, immutable, so that one
place changes arm colours, the response categories or the AE grade cut-offs for every view.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
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


def _doc(text: str, sdtm: str = "") -> dict:
    """Field metadata of TrialInfo: what the field means and where SDTM trial design holds it."""
    return {"doc": text, "sdtm": sdtm}


@dataclass(frozen=True)
class TrialInfo:
    """Identity and plan of a trial, read from the dataset's metadata (metadata.json, trial.yaml, SDTM
    TS/TA/TV, define.xml): shown in the header and used by enrollment targets and visit defaults."""

    title: str = field(metadata=_doc("Trial title shown in the header", "TS TITLE"))
    registry_id: str = field(metadata=_doc("Registry identifier (e.g. ClinicalTrials.gov NCT number)", "TS REGID"))
    short_name: str = field(metadata=_doc("Short name (acronym) shown in the browser tab", "TS ACRONYM"))
    target_enrollment: int | None = field(default=None, metadata=_doc(
        "Enrollment target: planned number of subjects", "TS PLANSUB"))
    planned_enrollment_start: str | None = field(default=None, metadata=_doc(
        "Planned (or actual) start of enrollment, ISO date", "TS SSTDTC"))
    planned_enrollment_end: str | None = field(default=None, metadata=_doc("Planned end of enrollment, ISO date"))
    sponsor: str | None = field(default=None, metadata=_doc("Sponsor", "TS SPONSOR"))
    phase: str | None = field(default=None, metadata=_doc("Trial phase", "TS TPHASE"))
    visit_days: tuple[int, ...] = field(default=(), metadata=_doc("Planned visit study days", "TV VISITDY"))
    visit_names: Mapping[int, str] = field(default_factory=dict, metadata=_doc(
        "Name of each planned visit, by study day", "TV VISIT"))
    primary_visit_day: int | None = field(default=None, metadata=_doc("Study day of the primary endpoint"))
    durable_visit_day: int | None = field(default=None, metadata=_doc(
        "Study day a response must last to (durable response)"))
    stratification_factors: tuple[str, ...] = field(default=(), metadata=_doc(
        "ADSL columns the randomization was stratified by"))
    arm_order: tuple[str, ...] = field(default=(), metadata=_doc("Arms in protocol order", "TA ARM"))
    arm_short_labels: Mapping[str, str] = field(default_factory=dict, metadata=_doc("Short label per arm"))
    sae_categories: tuple[EventCategory, ...] = field(default=(), metadata=_doc(
        "Serious-event categories of the trial's publication (a focus panel when present)"))
    captions: Mapping[str, str] = field(default_factory=dict, metadata=_doc(
        "Captions citing the publication, by what they caption (e.g. sae_categories: 'Table 4')"))
    column_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict, metadata=_doc(
        "The data's own variable labels by dataset ({adsl: {AGE: Age}}): define.xml, else the files' labels"))
    ae_collection_days: int | None = field(default=None, metadata=_doc(
        "Last study day on which adverse events are collected (None: the latest onset in the data)"))
    primary_population: str | None = field(default=None, metadata=_doc(
        "Population of the primary analysis: ITT, Safety or Evaluable (None: not recorded)"))
    visit_window_days: Mapping[int, int] = field(default_factory=dict, metadata=_doc(
        "Response visit windows: nominal study day -> days either side (absent: from the data)"))
    sources: Mapping[str, str] = field(default_factory=dict, metadata=_doc(
        "Where each field was read from (e.g. title: 'TS TITLE (ts.xpt)')"))

    def arm_colors(self, arms) -> dict[str, str]:
        """Colour per arm: protocol arm order first, then any further arms in the given order."""
        ordered = [a for a in self.arm_order if a in set(arms)] + sorted(
            a for a in set(arms) if a not in self.arm_order
        )
        return {arm: ARM_PALETTE[i % len(ARM_PALETTE)] for i, arm in enumerate(ordered)}

    def as_dict(self) -> dict:
        """The fields that differ from their defaults, as JSON-ready values (what metadata.json holds)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            if value != default:
                out[f.name] = _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping, source: str | None = None) -> "TrialInfo":
        """A TrialInfo from `as_dict` output (or a trial.yaml); fields without a recorded source get
        `source`. Raises ValueError naming an unknown key or a value of the wrong type."""
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown trial metadata key(s) {', '.join(unknown)}; "
                             f"expected {', '.join(f.name for f in fields(cls))}")
        values = {}
        try:
            for name, value in data.items():
                values[name] = _typed(name, value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"trial metadata key {name}: {exc}") from exc
        missing = [n for n in ("title", "registry_id", "short_name") if n not in values]
        if missing:
            raise ValueError(f"trial metadata lacks {', '.join(missing)}")
        if source:
            given = {k: source for k in values if k != "sources"}
            values["sources"] = MappingProxyType({**given, **values.get("sources", {})})
        return cls(**values)

    def updated(self, data: Mapping, source: str | Mapping[str, str]) -> "TrialInfo":
        """This info with the fields in `data` replaced (values typed as in `from_dict`), each recorded
        as read from `source` (one text for all, or one per field). Raises ValueError like `from_dict`."""
        given = {k: source for k in data} if isinstance(source, str) else {k: source[k] for k in data}
        return TrialInfo.from_dict({**self.as_dict(), **data, "sources": {**self.sources, **given}})


def _plain(value):
    if isinstance(value, EventCategory):
        return {k: _plain(v) for k, v in asdict(value).items() if v not in (None, (), False)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _typed(name: str, value):
    """A metadata value converted to the type of TrialInfo field `name`."""
    if value is None:
        if name in ("title", "registry_id", "short_name"):
            raise TypeError("expected text")
        return None
    if name in ("title", "registry_id", "short_name", "planned_enrollment_start", "planned_enrollment_end",
                "sponsor", "phase", "primary_population"):
        if isinstance(value, (list, tuple, dict)):
            raise TypeError("expected text")
        return str(value)
    if name in ("target_enrollment", "primary_visit_day", "durable_visit_day", "ae_collection_days"):
        return _whole(value)
    if name == "visit_days":
        return tuple(_whole(v) for v in value)
    if name in ("stratification_factors", "arm_order"):
        if isinstance(value, str):
            raise TypeError("expected a list")
        return tuple(str(v) for v in value)
    if name == "visit_window_days":
        return MappingProxyType({_whole(k): _whole(v) for k, v in dict(value).items()})
    if name == "visit_names":
        return MappingProxyType({_whole(k): str(v) for k, v in dict(value).items()})
    if name == "column_labels":
        return MappingProxyType({str(table).lower(): MappingProxyType({str(k): str(v) for k, v in dict(labels).items()})
                                 for table, labels in dict(value).items()})
    if name == "sae_categories":
        return tuple(EventCategory(**{k: tuple(v) if isinstance(v, list) else v for k, v in dict(c).items()})
                     for c in value)
    return MappingProxyType({str(k): str(v) for k, v in dict(value).items()})


def _whole(value) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def generic_trial_info(study_id: str, arms, visit_days=()) -> TrialInfo:
    """Trial identity for a loaded dataset whose metadata say nothing more than its study id."""
    return TrialInfo(
        title=f"Study {study_id}",
        registry_id=study_id,
        short_name=study_id,
        visit_days=tuple(visit_days),
        arm_order=tuple(arms),
        sources=MappingProxyType({"title": "STUDYID", "registry_id": "STUDYID", "short_name": "STUDYID",
                                  "arm_order": "ARM of the randomized subjects"}),
    )


def trial_metadata_markdown() -> str:
    """The trial metadata section of data/README.md, generated from the TrialInfo fields."""
    lines = [
        "## Trial metadata",
        "",
        "A trial's identity and plan come from its data, never from code. A model folder keeps them in",
        "`metadata.json` under `trial`; an ADaM or SDTM folder reads SDTM `TS`, `TA` and `TV` and",
        "`define.xml` (study name) when present, and a `trial.yaml` next to the data (the same keys as",
        "below) overrides them, e.g. `title: ...` and `target_enrollment: 254`. Without any of these the",
        "trial is named after its STUDYID. `sources` records where each value was read.",
        "",
        "| Key | Meaning | Read from SDTM |",
        "|---|---|---|",
    ]
    for f in fields(TrialInfo):
        lines.append(f"| `{f.name}` | {f.metadata['doc']} | {f.metadata['sdtm']} |")
    lines.append("")
    return "\n".join(lines)


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


@dataclass(frozen=True)
class FilterDefinition:
    """One global filter: the store parameter (and link field) it is, the ADSL column it restricts and how
    the sidebar shows it. A trial whose ADSL lacks the column (or holds no value in it) has no such filter."""

    name: str  # store parameter, FilterSpec field and link (URL query) field
    column: str  # ADSL column the filter restricts
    label: str  # sidebar label
    help: str  # what the filter does (the store parameter's doc)
    kind: str  # "choice": any of a set of values; "range": numbers low-high; "dates": dates first..last
    # Which values a choice offers and how they read: "site" (the sites of every screened subject, in natural
    # order, shown with their names), "arm" (the trial's arms in protocol order, with short labels), "sex"
    # (in words), "grade" ("Grade II") or "text" (as they are); all but site and arm: values of randomized subjects.
    options: str = "text"
    placeholder: str = ""  # a choice widget's text while nothing is chosen
    before_randomization: bool = True  # also restricts screen failures (enrollment counts)


FILTER_KINDS: tuple[str, ...] = ("choice", "range", "dates")
FILTER_DEFINITIONS: tuple[FilterDefinition, ...] = (
    FilterDefinition("sites", "SITEID", "Site", "Sites to include (SITEID); empty means all.", "choice",
                     options="site", placeholder="All sites"),
    FilterDefinition("arms", "ARM", "Arm", "Randomized arms to include; empty means all.", "choice",
                     options="arm", placeholder="All arms", before_randomization=False),
    FilterDefinition("sexes", "SEX", "Sex", "Sexes to include; empty means all.", "choice",
                     options="sex", placeholder="All sexes"),
    FilterDefinition("grades", "AGVHDGR", "aGVHD grade at entry", "aGVHD grades at entry to include; empty means all.",
                     "choice", options="grade", placeholder="All grades"),
    FilterDefinition("diagnoses", "DIAG", "Underlying disease", "Underlying diseases to include; empty means all.",
                     "choice", placeholder="All diseases"),
    FilterDefinition("age_range", "AGE", "Age (years)", "Age range at screening (years, inclusive).", "range"),
    FilterDefinition("randomization_dates", "RANDDT", "Randomized", "Randomization date range (inclusive).",
                     "dates", before_randomization=False),
)
# Analysis populations offered by the population filter: name -> ADSL flag (those the trial lacks are left out).
POPULATIONS: Mapping[str, str] = MappingProxyType({"ITT": "ITTFL", "Safety": "SAFFL", "Evaluable": "EFFFL"})
