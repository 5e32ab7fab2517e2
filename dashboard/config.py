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
RESPONSE_ORDER: tuple[str, ...] = ("CR", "PR", "MR", "SD", "NR", "PD", "NE", "Pending")
RESPONSE_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "CR": "#1a9850",
        "PR": "#91cf60",
        "MR": "#d9ef8b",
        "SD": "#fee08b",
        "NR": "#fc8d59",
        "PD": "#d73027",
        "NE": "#bdbdbd",
        "Pending": "#f0f0f0",
    }
)
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
