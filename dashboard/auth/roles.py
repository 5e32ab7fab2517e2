"""Who may see what: the four roles of a committee dashboard, as data. Imports no Panel."""

from __future__ import annotations

from dataclasses import dataclass

AUDIT_TAB = "Audit"


@dataclass(frozen=True)
class Role:
    """What one role sees: its tabs, whether results are pooled, and what it may filter and export."""

    name: str
    description: str
    tabs: tuple[str, ...] | None  # tab titles shown (None: every tab the data allow)
    pooled: bool  # figures computed over all patients together (the open report)
    arm_filter: bool  # may filter by randomized arm
    patient_level: bool  # patient-level listings, profiles and patient ids
    data_downloads: bool  # may download listings and the analysis data

    @property
    def forbidden_filters(self) -> tuple[str, ...]:
        """Store filters the role may not set (a link setting one is refused)."""
        return () if self.arm_filter else ("arms",)

    def allows_tab(self, title: str) -> bool:
        """Whether a tab with this title is built for the role."""
        if title == AUDIT_TAB:
            return self.tabs is not None and AUDIT_TAB in self.tabs
        return self.tabs is None or title in self.tabs


ROLES: dict[str, Role] = {role.name: role for role in (
    Role("open", "open report: pooled enrollment, safety and efficacy; no results by arm, no patient-level data",
         tabs=("Overview", "Enrollment", "Response", "Adverse events"), pooled=True, arm_filter=False,
         patient_level=False, data_downloads=False),
    Role("closed", "closed report: everything by arm, listings and patient profiles",
         tabs=None, pooled=False, arm_filter=True, patient_level=True, data_downloads=False),
    Role("analyst", "as closed, plus downloads of listings and data",
         tabs=None, pooled=False, arm_filter=True, patient_level=True, data_downloads=True),
    Role("data-manager", "data quality findings with subject ids, enrollment and the audit trail; no results by arm",
         tabs=("Enrollment", "Data quality", AUDIT_TAB), pooled=False, arm_filter=False, patient_level=True,
         data_downloads=False),
)}
"""The roles by name (the names written in the users file)."""
