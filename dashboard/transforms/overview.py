"""Overview transforms: the steering committee's first questions, per arm with an "All arms" row.

Every function takes the filtered randomized subjects (ADSL rows) and returns a new frame with
counts and their denominators; inputs are never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import RESPONSE_DIED, RESPONSE_MISSING, RESPONSE_PENDING
from .flags import is_yes
from .response import format_proportion, response_status_by_visit, response_visits
from .safety import has_treatment_emergent_flag
from .columns import require_columns

ALL_ARMS = "All arms"
# Study status categories in display order; death takes precedence over the recorded end-of-study status.
STATUS_ORDER: tuple[str, ...] = ("On study", "Completed", "Withdrawn", "Died", "Not recorded")
EOS_STATUS = {"ONGOING": "On study", "COMPLETED": "Completed", "DISCONTINUED": "Withdrawn"}


def _arm_list(subjects: pd.DataFrame, arms) -> list[str]:
    return list(dict.fromkeys([*arms, *subjects["ARM"].dropna().astype(str)]))


def _pct(n: pd.Series, total: pd.Series) -> pd.Series:
    return pd.Series(np.where(total > 0, 100 * n / total.where(total > 0, 1), np.nan), index=n.index)


def randomized_by_arm(subjects: pd.DataFrame, arms=()) -> pd.DataFrame:
    """Patients per arm: ARM, n, N (all subjects given), pct; every arm of `arms` kept (zeros
    included), then an "All arms" row. Requires USUBJID, ARM."""
    require_columns(subjects, ["USUBJID", "ARM"], "randomized_by_arm")
    arm_list = _arm_list(subjects, arms)
    counts = subjects.groupby(subjects["ARM"].astype(str)).size().reindex(arm_list, fill_value=0)
    out = pd.DataFrame({"ARM": [*arm_list, ALL_ARMS], "n": [*counts.astype(int), int(counts.sum())]})
    out["N"] = len(subjects)
    out["pct"] = _pct(out["n"], out["N"])
    return out


def study_status(subjects: pd.DataFrame) -> pd.Series:
    """Study status per subject (index as `subjects`): "Died" when DTHFL is 'Y' (or DTHDT is set),
    else EOSSTT as On study / Completed / Withdrawn, else "Not recorded". Uses DTHFL, DTHDT, EOSSTT."""
    status = pd.Series("Not recorded", index=subjects.index, dtype=object)
    if "EOSSTT" in subjects.columns:
        mapped = subjects["EOSSTT"].astype("string").str.upper().map(EOS_STATUS)
        status = mapped.astype(object).where(mapped.notna(), status)
    died = pd.Series(False, index=subjects.index)
    if "DTHFL" in subjects.columns:
        died |= is_yes(subjects["DTHFL"])
    if "DTHDT" in subjects.columns:
        died |= subjects["DTHDT"].notna()
    return status.where(~died, "Died")


def status_changes(now: pd.DataFrame, then: pd.DataFrame) -> dict[str, int]:
    """Change in patients per study status (and in all of them, "Patients") from the subjects of an earlier
    data cut (`then`) to those of a later one (`now`), both selected by the same filters."""
    counts_now, counts_then = study_status(now).value_counts(), study_status(then).value_counts()
    changes = {label: int(counts_now.get(label, 0)) - int(counts_then.get(label, 0)) for label in STATUS_ORDER}
    return {"Patients": len(now) - len(then), **changes}


def study_status_by_arm(subjects: pd.DataFrame, arms=()) -> pd.DataFrame:
    """Patients per arm and study status: ARM, STATUS, n, N (patients of the arm), pct.

    Arms of `arms` first (zeros kept), then "All arms"; statuses in STATUS_ORDER, "Not recorded"
    only when someone has it. Requires USUBJID, ARM; uses DTHFL, DTHDT, EOSSTT (`study_status`)."""
    require_columns(subjects, ["USUBJID", "ARM"], "study_status_by_arm")
    arm_list = _arm_list(subjects, arms)
    status = study_status(subjects)
    statuses = [s for s in STATUS_ORDER if s != "Not recorded" or (status == s).any()]
    frame = pd.DataFrame({"ARM": subjects["ARM"].astype(str), "STATUS": status})
    grid = pd.MultiIndex.from_product([arm_list, statuses], names=["ARM", "STATUS"])
    per_arm = frame.groupby(["ARM", "STATUS"]).size().reindex(grid, fill_value=0).rename("n").reset_index()
    total = frame.groupby("STATUS").size().reindex(statuses, fill_value=0).rename("n").reset_index()
    out = pd.concat([per_arm, total.assign(ARM=ALL_ARMS)], ignore_index=True)[["ARM", "STATUS", "n"]]
    arm_sizes = frame.groupby("ARM").size().reindex(arm_list, fill_value=0)
    out["N"] = out["ARM"].map({**arm_sizes.to_dict(), ALL_ARMS: len(frame)}).astype(int)
    out["n"] = out["n"].astype(int)
    out["pct"] = _pct(out["n"], out["N"])
    return out


def primary_endpoint_status_by_arm(
    subjects: pd.DataFrame, adrs: pd.DataFrame, cutoff, visit_day: int, arms=(), windows=None
) -> pd.DataFrame:
    """Where the primary endpoint stands at the data cut, per arm of the evaluable patients.

    Columns: ARM, evaluable (EFFFL 'Y', or every subject when ADSL has no EFFFL), assessed (a
    response recorded at the visit), died (before the visit without an assessment), missing (visit
    window closed, no assessment), pending (window still open at the data cut), assessed_or_due
    (evaluable - pending). The visit is the ADRS visit whose nominal day is `visit_day`; `windows` as
    in `response_visits`. Requires ADSL USUBJID, ARM, RANDDT;
    ADRS USUBJID, PARAMCD, AVISIT, AVALC and AVISITN or ADY (see `response_status_by_visit`).
    Raises ValueError when ADRS has no visit on `visit_day`.
    """
    require_columns(subjects, ["USUBJID", "ARM", "RANDDT"], "primary_endpoint_status_by_arm")
    arm_list = _arm_list(subjects, arms)
    evaluable = subjects
    if "EFFFL" in subjects.columns:
        evaluable = subjects.loc[is_yes(subjects["EFFFL"])]
    visits = response_visits(adrs, windows=windows)
    at_day = visits.loc[visits["DAY"] == visit_day, "AVISIT"]
    if at_day.empty:
        raise ValueError(f"ADRS has no response visit on day {visit_day}; its visits are {', '.join(visits['AVISIT'])}")
    if evaluable.empty:
        status = pd.DataFrame({"ARM": pd.Series(dtype=str), "STATUS": pd.Series(dtype=str)})
    else:
        visit = at_day.iloc[0]
        at_visit = adrs.loc[adrs["AVISIT"].astype("string") == visit]  # only the visit's rows: faster
        status = response_status_by_visit(evaluable, at_visit, cutoff, windows=windows)
        status = status.loc[status["AVISIT"] == visit, ["ARM", "STATUS"]]
    kind = status["STATUS"].map({RESPONSE_DIED: "died", RESPONSE_MISSING: "missing", RESPONSE_PENDING: "pending"})
    frame = pd.DataFrame({"ARM": status["ARM"].astype(str), "kind": kind.fillna("assessed")})
    columns = ["assessed", "died", "missing", "pending"]
    counts = pd.crosstab(frame["ARM"], frame["kind"]).reindex(index=arm_list, columns=columns, fill_value=0)
    counts.loc[ALL_ARMS] = counts.sum()
    out = counts.rename_axis(index="ARM", columns=None).reset_index()
    out.insert(1, "evaluable", out[columns].sum(axis=1))
    out["assessed_or_due"] = out["evaluable"] - out["pending"]
    return out.astype({c: int for c in out.columns if c != "ARM"})


def serious_ae_by_arm(subjects: pd.DataFrame, adae: pd.DataFrame, arms=()) -> pd.DataFrame:
    """Serious adverse events so far per arm of the safety population: ARM, N (safety patients),
    patients (with >= 1 serious event), pct, events (serious events). Only treatment-emergent events
    count when ADAE flags them (`has_treatment_emergent_flag`). Requires ADSL USUBJID, ARM, SAFFL; ADAE USUBJID, AESER."""
    require_columns(subjects, ["USUBJID", "ARM", "SAFFL"], "serious_ae_by_arm")
    require_columns(adae, ["USUBJID", "AESER"], "serious_ae_by_arm (ADAE)")
    arm_list = _arm_list(subjects, arms)
    safety = subjects.loc[is_yes(subjects["SAFFL"]), ["USUBJID", "ARM"]]
    serious = is_yes(adae["AESER"])
    if has_treatment_emergent_flag(adae):
        serious &= is_yes(adae["TRTEMFL"])
    events = adae.loc[serious, ["USUBJID"]].merge(safety, on="USUBJID")
    rows = []
    for arm in [*arm_list, ALL_ARMS]:
        pop = safety if arm == ALL_ARMS else safety.loc[safety["ARM"] == arm]
        ev = events if arm == ALL_ARMS else events.loc[events["ARM"] == arm]
        rows.append({"ARM": arm, "N": len(pop), "patients": ev["USUBJID"].nunique(), "events": len(ev)})
    out = pd.DataFrame(rows)
    out["pct"] = _pct(out["patients"], out["N"])
    return out[["ARM", "N", "patients", "pct", "events"]]


def arm_status_table(randomized: pd.DataFrame, status: pd.DataFrame, arms=()) -> pd.DataFrame:
    """Patients by arm and study status as shown (from `randomized_by_arm` and `study_status_by_arm`):
    Arm, Patients ('n (x.x%)' of all filtered patients), then 'n/N (x.x%)' of the arm's patients for each
    status that occurs (STATUS_ORDER); the arms, then ALL_ARMS."""
    require_columns(randomized, ["ARM", "n", "N", "pct"], "arm_status_table")
    require_columns(status, ["ARM", "STATUS", "n", "N"], "arm_status_table")
    counts = randomized.set_index("ARM")
    cells = status.set_index(["ARM", "STATUS"])
    statuses = [s for s in STATUS_ORDER if s in set(status["STATUS"])]
    rows = []
    for arm in [*arms, ALL_ARMS]:
        r = counts.loc[arm]
        rows.append({"Arm": arm, "Patients": f"{int(r['n'])}" + (f" ({r['pct']:.1f}%)" if r["N"] else ""),
                     **{s: format_proportion(cells.loc[(arm, s), "n"], cells.loc[(arm, s), "N"]) for s in statuses}})
    return pd.DataFrame(rows, columns=["Arm", "Patients", *statuses])


def primary_status_table(primary: pd.DataFrame, day: int) -> pd.DataFrame:
    """The primary endpoint visit's status at the data cut as shown (from `primary_endpoint_status_by_arm`):
    Arm, Evaluable, Assessed / due ('n/N (x.x%)'), Died before day <day>, Overdue, Not yet due."""
    require_columns(primary, ["ARM", "evaluable", "assessed", "assessed_or_due", "died", "missing", "pending"],
             "primary_status_table")
    return pd.DataFrame({
        "Arm": primary["ARM"], "Evaluable": primary["evaluable"],
        "Assessed / due": [format_proportion(n, d) for n, d in zip(primary["assessed"], primary["assessed_or_due"])],
        f"Died before day {day}": primary["died"], "Overdue": primary["missing"], "Not yet due": primary["pending"],
    }).reset_index(drop=True)


def serious_ae_table(sae: pd.DataFrame) -> pd.DataFrame:
    """Serious AEs per arm as shown (from `serious_ae_by_arm`): Arm, Safety population, Patients with ≥1
    serious AE ('n/N (x.x%)'), Serious events."""
    require_columns(sae, ["ARM", "N", "patients", "events"], "serious_ae_table")
    return pd.DataFrame({
        "Arm": sae["ARM"], "Safety population": sae["N"],
        "Patients with ≥1 serious AE": [format_proportion(n, d) for n, d in zip(sae["patients"], sae["N"])],
        "Serious events": sae["events"],
    }).reset_index(drop=True)
