"""Safety transforms: AE incidence by arm, risk differences, onset over time and exposure-adjusted rates.

Stage order: `select_events` (restrict to the safety population, attach arm and analysis grade,
apply the event filters) -> `ae_incidence_by_arm` (subjects and events per arm, SOC, PT and
maximum-grade band) -> `incidence_table` / `risk_difference_by_term` for display. Denominators
always come from the safety population of the filtered subjects (ADSL SAFFL == 'Y'), never from
the AE table. Grades are CTCAE (AETOXGRN 1-5) when the data have them, else severity
(AESEV MILD/MODERATE/SEVERE as 1/2/3); `grade_basis` says which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..config import AE_GRADE_BANDS, DAYS_PER_MONTH, RELATED_VALUES, SEVERITY_GRADES, AETopic, EventCategory
from .flags import is_yes
from .columns import require_columns
from .formatting import format_proportion

AE_REQUIRED = ("USUBJID", "AEBODSYS", "AEDECOD")
SUBJECTS_REQUIRED = ("USUBJID", "ARM", "SAFFL")
ANY_BAND = "Any grade"
OVERALL = "Any adverse event"
SOC_TOTAL = "All terms in this body system"
LEVELS = ("overall", "soc", "pt")
COUNTS = ("subjects", "events")


def grade_basis(adae: pd.DataFrame) -> str:
    """'CTCAE' when AETOXGRN has any value, 'severity' when only AESEV has, else 'none'."""
    if "AETOXGRN" in adae.columns and adae["AETOXGRN"].notna().any():
        return "CTCAE"
    if "AESEV" in adae.columns and adae["AESEV"].notna().any():
        return "severity"
    return "none"


def grade_bands(basis: str) -> tuple[tuple[str, int, int], ...]:
    """The maximum-grade bands shown after 'any grade' for a grade basis (none for 'none')."""
    return AE_GRADE_BANDS.get(basis, ())


# The ADAE variable each grade basis reads (named in tooltips; the text for readers uses words).
GRADE_VARIABLES: Mapping[str, str] = MappingProxyType({"CTCAE": "AETOXGRN", "severity": "AESEV"})


def grade_basis_note(basis: str) -> str:
    """One sentence telling the reader which grading the counts use (in words; `GRADE_VARIABLES` names
    the variable)."""
    if basis == "CTCAE":
        return "Grades are CTCAE grades 1-5; a patient counts once per row, at their worst grade."
    if basis == "severity":
        return ("Grades are severities (mild / moderate / severe; the data have no CTCAE grades); "
                "a patient counts once per row, at their worst severity.")
    return "The data have neither CTCAE grades nor severities: only any-grade counts are shown."


def analysis_grade(adae: pd.DataFrame, basis: str | None = None) -> pd.Series:
    """Numeric grade per event (float, NaN when unknown) on the given basis (default: `grade_basis`)."""
    basis = grade_basis(adae) if basis is None else basis
    if basis == "CTCAE":
        return adae["AETOXGRN"].astype("Float64").astype(float)
    if basis == "severity":
        return adae["AESEV"].astype("string").str.upper().map(dict(SEVERITY_GRADES)).astype(float)
    return pd.Series(np.nan, index=adae.index, dtype=float)


def safety_population(subjects: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Rows of the filtered subjects in the safety population (SAFFL == 'Y'); only `columns` (those
    present of them) when given, which is much cheaper on a wide ADSL."""
    require_columns(subjects, SUBJECTS_REQUIRED, "safety_population")
    mask = is_yes(subjects["SAFFL"]).to_numpy()
    if columns is None:
        return subjects.loc[mask]
    return subjects.loc[mask, [c for c in dict.fromkeys(columns) if c in subjects.columns]]


def arm_order(subjects: pd.DataFrame, arms=None) -> list[str]:
    """Arms to show: the given order restricted to arms present, else sorted arms of the subjects."""
    present = set(subjects["ARM"].dropna().unique())
    if arms is None:
        return sorted(present)
    return [a for a in arms if a in present]


def safety_denominators(subjects: pd.DataFrame, arms=None) -> pd.Series:
    """Safety-population patients per arm (index ARM, in display order; zero arms kept)."""
    pop = safety_population(subjects, ["ARM"])
    order = arm_order(subjects, arms)
    return pop["ARM"].value_counts().reindex(order, fill_value=0).rename("N").rename_axis("ARM")


KEY_COLUMNS = ("USUBJID", "AEBODSYS", "AEDECOD")


def prepare_adae(adae: pd.DataFrame) -> pd.DataFrame:
    """ADAE with its key columns (USUBJID, AEBODSYS, AEDECOD) as categoricals (sorted categories),
    values unchanged: repeated filtering and grouping then work on integer codes. Computed once per
    dataset; every transform here accepts either form."""
    require_columns(adae, AE_REQUIRED, "prepare_adae")
    out = adae.copy()
    for col in KEY_COLUMNS:
        values = out[col].astype(object)
        out[col] = pd.Categorical(values, categories=sorted(values.dropna().unique()))
    return out


def select_events(
    adae: pd.DataFrame,
    subjects: pd.DataFrame,
    *,
    serious_only: bool = False,
    related_only: bool = False,
    treatment_emergent_only: bool = False,
    search: str = "",
) -> pd.DataFrame:
    """Events of safety-population subjects with ARM and GRADE attached, after the event filters.

    Requires ADAE USUBJID, AEBODSYS, AEDECOD (plus AESER / AEREL / TRTEMFL for the matching
    filter; treatment emergence is derived as ASTDT >= TRTSDT when TRTEMFL is absent or never 'Y')
    and subjects USUBJID, ARM, SAFFL.
    ASTDY is derived from ASTDT and RANDDT (day 1 = randomization) when absent.
    `search` matches the preferred term, body system or reported term, case-insensitively.
    """
    require_columns(adae, AE_REQUIRED, "select_events (ADAE)")
    pop = safety_population(subjects, ["USUBJID", "ARM", "TRTSDT", "RANDDT"])
    keep = adae["USUBJID"].isin(pop["USUBJID"])
    if serious_only:
        require_columns(adae, ("AESER",), "the serious-only filter")
        keep &= is_yes(adae["AESER"])
    if related_only:
        require_columns(adae, ("AEREL",), "the related-only filter")
        keep &= adae["AEREL"].astype("string").str.upper().str.strip().isin(RELATED_VALUES)
    if treatment_emergent_only:
        keep &= _treatment_emergent(adae, pop)
    text = (search or "").strip()
    if text:
        hit = pd.Series(False, index=adae.index)
        for col in ("AEDECOD", "AEBODSYS", "AETERM"):
            if col in adae.columns:
                hit |= adae[col].astype("string").str.contains(text, case=False, regex=False).fillna(False)
        keep &= hit
    # A new frame (shallow copy of the selected rows) gets the derived columns; the input is untouched.
    events = adae.loc[keep.fillna(False).to_numpy(dtype=bool)].copy(deep=False)
    by_subject = pop.set_index("USUBJID")
    arms = pd.Categorical(_lookup(events["USUBJID"], by_subject["ARM"].astype(object)),
                          categories=sorted(by_subject["ARM"].dropna().unique()))
    events["ARM"] = arms
    events["GRADE"] = analysis_grade(events, grade_basis(adae)).to_numpy()
    if "ASTDY" not in events.columns and "ASTDT" in events.columns and "RANDDT" in pop.columns:
        start = pd.to_datetime(pd.Series(_lookup(events["USUBJID"], by_subject["RANDDT"]), index=events.index))
        events["ASTDY"] = ((events["ASTDT"] - start).dt.days + 1).astype("Int64")
    return events


def _lookup(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """`values[key]` for every key (missing keys give NaN); categorical keys map their categories once."""
    if isinstance(keys.dtype, pd.CategoricalDtype):
        per_category = values.reindex(keys.cat.categories).to_numpy(dtype=object)
        codes = keys.cat.codes.to_numpy()
        out = per_category[np.where(codes < 0, 0, codes)] if len(per_category) else np.full(len(codes), np.nan, object)
        out[codes < 0] = np.nan
        return out
    return values.reindex(keys.astype(object)).to_numpy(dtype=object)


def has_treatment_emergent_flag(adae: pd.DataFrame) -> bool:
    """Whether ADAE flags treatment-emergent events: a TRTEMFL column with at least one 'Y' (an
    empty column says nothing, so treatment emergence is then derived from dates)."""
    return "TRTEMFL" in adae.columns and bool(is_yes(adae["TRTEMFL"]).any())


def ae_definition(has_flag: bool, treatment_emergent_only: bool) -> str:
    """Which adverse events are counted, in words for every tab that counts them."""
    if treatment_emergent_only:
        return ("treatment-emergent AEs (as flagged in the data)" if has_flag else
                "treatment-emergent AEs (onset on or after first treatment; the data have no treatment-emergent flag)")
    if has_flag:
        return "all recorded AEs, treatment-emergent or not"
    return "all recorded AEs (the data have no treatment-emergent flag)"


def _treatment_emergent(adae: pd.DataFrame, pop: pd.DataFrame) -> pd.Series:
    if has_treatment_emergent_flag(adae):
        return is_yes(adae["TRTEMFL"])
    require_columns(adae, ("ASTDT",), "the treatment-emergent filter (no TRTEMFL)")
    require_columns(pop, ("TRTSDT",), "the treatment-emergent filter (no TRTEMFL)")
    start = adae["USUBJID"].map(pop.set_index("USUBJID")["TRTSDT"])
    return (adae["ASTDT"] >= start).fillna(False)


def ae_incidence_by_arm(events: pd.DataFrame, subjects: pd.DataFrame, *, arms=None, bands=None) -> pd.DataFrame:
    """Subjects with >= 1 event and event counts per arm, by level (overall / SOC / PT) and grade band.

    `events` comes from `select_events` (USUBJID, ARM, AEBODSYS, AEDECOD, GRADE). A subject
    counts once per row in 'Any grade' and once in the band holding their maximum grade for that
    row; events count by their own grade. Returns LEVEL, AEBODSYS, AEDECOD, ARM, BAND, SUBJECTS,
    EVENTS, N (safety-population patients of the arm) and PCT (SUBJECTS / N * 100), with zero
    rows for arms without events. Overall rows have AEBODSYS = AEDECOD = 'Any adverse event';
    SOC rows have AEDECOD = 'All terms in this body system'. Rows are ordered overall, body
    systems, terms (alphabetically); `bands` defaults to those of the events' grade basis.
    """
    require_columns(events, ("USUBJID", "ARM", "AEBODSYS", "AEDECOD", "GRADE"), "ae_incidence_by_arm (events)")
    denominators = safety_denominators(subjects, arms)
    order = list(denominators.index)
    bands = tuple(grade_bands(grade_basis(events)) if bands is None else bands)
    band_labels = [ANY_BAND, *[b[0] for b in bands]]
    # Integer codes for arm, subject, body system and term; all counting below is numpy on codes.
    arm_codes, arm_values = _codes(events["ARM"])
    arm = pd.Index(order).get_indexer(pd.Index(arm_values).astype(object))[arm_codes] if len(arm_values) else arm_codes
    keep = (arm_codes >= 0) & (arm >= 0)
    subj, _ = _codes(events["USUBJID"])
    soc, soc_values = _codes(events["AEBODSYS"])
    pt, pt_values = _codes(events["AEDECOD"])
    subj, soc, pt, arm = subj[keep], soc[keep], pt[keep], arm[keep]
    grade = events["GRADE"].to_numpy(dtype=float)[keep]
    n_subj = int(subj.max()) + 1 if len(subj) else 1
    term, term_pairs = pd.factorize(soc.astype(np.int64) * max(len(pt_values), 1) + pt)
    term_soc, term_pt = term_pairs // max(len(pt_values), 1), term_pairs % max(len(pt_values), 1)
    arm_of_subject = np.zeros(n_subj, dtype=np.int64)
    arm_of_subject[subj] = arm
    # Per subject and term: worst grade, events, events per band; rolled up to body system and overall.
    band_events = [((grade >= lo) & (grade <= hi)).astype(float) for _, lo, hi in bands]
    pt_level = _per_subject(term, subj, n_subj, grade, np.ones(len(grade)), band_events)
    soc_level = _per_subject(term_soc[pt_level[0]], pt_level[1], n_subj, *pt_level[2:])
    all_level = _per_subject(np.zeros(len(soc_level[0]), dtype=np.int64), soc_level[1], n_subj, *soc_level[2:])
    soc_labels = [str(v) for v in soc_values]
    parts = [
        _level_frame("overall", [OVERALL], [OVERALL], all_level, 1, arm_of_subject, order, band_labels, bands),
        _level_frame("soc", soc_labels, [SOC_TOTAL] * len(soc_labels), soc_level, len(soc_labels),
                     arm_of_subject, order, band_labels, bands),
        _level_frame("pt", [soc_labels[c] for c in term_soc], [str(pt_values[c]) for c in term_pt],
                     pt_level, len(term_pairs), arm_of_subject, order, band_labels, bands),
    ]
    out = pd.concat(parts, ignore_index=True)
    rank = out["LEVEL"].map({level: i for i, level in enumerate(LEVELS)})
    out = out.assign(_rank=rank).sort_values(["_rank", "AEBODSYS", "AEDECOD"], kind="stable")
    out = out.drop(columns="_rank").reset_index(drop=True)
    out["N"] = out["ARM"].map(denominators).astype(int)
    out["PCT"] = np.where(out["N"] > 0, out["SUBJECTS"] / out["N"].where(out["N"] > 0, 1) * 100, np.nan)
    return out[["LEVEL", "AEBODSYS", "AEDECOD", "ARM", "BAND", "SUBJECTS", "EVENTS", "N", "PCT"]]


def _codes(values: pd.Series) -> tuple[np.ndarray, object]:
    """Integer codes (-1 for missing) and the values they stand for; categoricals reuse their codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), values.cat.categories
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), uniques


def _per_subject(group, subj, n_subj, grade, events, band_events):
    """Reduce rows to one per (group, subject): worst grade (NaN-ignoring), event and band-event sums."""
    key = group.astype(np.int64) * n_subj + subj
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.array([], dtype=np.int64)
    if not len(key):
        return (group[:0], subj[:0], grade[:0], events[:0], [b[:0] for b in band_events])
    unique = key[starts]
    return (unique // n_subj, unique % n_subj, np.fmax.reduceat(grade[order], starts),
            np.add.reduceat(events[order], starts), [np.add.reduceat(b[order], starts) for b in band_events])


def _level_frame(level, soc_labels, pt_labels, reduced, n_groups, arm_of_subject, order, band_labels, bands):
    """Long rows (group x arm x band) of one level from its per-subject reduction; only groups with events
    (and the overall row always)."""
    group, subj, maxg, events, band_events = reduced
    n_arms, n_bands = len(order), len(band_labels)
    cell = arm_of_subject[subj] * max(n_groups, 1) + group
    size = n_arms * max(n_groups, 1)
    subjects = [np.bincount(cell, minlength=size)]
    counts = [np.bincount(cell, weights=events, minlength=size)]
    for (_, lo, hi), band in zip(bands, band_events):
        subjects.append(np.bincount(cell, weights=((maxg >= lo) & (maxg <= hi)).astype(float), minlength=size))
        counts.append(np.bincount(cell, weights=band, minlength=size))
    # (band, arm, group) -> (group, arm, band)
    subjects = np.stack(subjects).reshape(n_bands, n_arms, max(n_groups, 1)).transpose(2, 1, 0)
    counts = np.stack(counts).reshape(n_bands, n_arms, max(n_groups, 1)).transpose(2, 1, 0)
    present = np.unique(group) if level != "overall" else np.array([0])
    per_group = n_arms * n_bands
    return pd.DataFrame({
        "LEVEL": level,
        "AEBODSYS": np.repeat(np.asarray(soc_labels, dtype=object)[present], per_group),
        "AEDECOD": np.repeat(np.asarray(pt_labels, dtype=object)[present], per_group),
        "ARM": np.tile(np.repeat(np.asarray(order, dtype=object), n_bands), len(present)),
        "BAND": np.tile(np.asarray(band_labels, dtype=object), n_arms * len(present)),
        "SUBJECTS": subjects[present].reshape(-1).astype(int),
        "EVENTS": counts[present].reshape(-1).astype(int),
    })


def filter_min_incidence(incidence: pd.DataFrame, min_pct: float) -> pd.DataFrame:
    """Keep PT rows whose any-grade incidence reaches `min_pct` % in at least one arm, the SOC rows
    that still have a PT, and the overall rows. Requires the `ae_incidence_by_arm` columns."""
    require_columns(incidence, ("LEVEL", "AEBODSYS", "AEDECOD", "BAND", "PCT"), "filter_min_incidence")
    if not min_pct:
        return incidence
    pt = incidence[(incidence["LEVEL"] == "pt") & (incidence["BAND"] == ANY_BAND)]
    keep_terms = pt.loc[pt["PCT"] >= min_pct, ["AEBODSYS", "AEDECOD"]].drop_duplicates()
    key = incidence["AEBODSYS"] + "\x1f" + incidence["AEDECOD"]
    keep_pt = key.isin(keep_terms["AEBODSYS"] + "\x1f" + keep_terms["AEDECOD"])
    keep = (incidence["LEVEL"] == "overall") | ((incidence["LEVEL"] == "pt") & keep_pt) | (
        (incidence["LEVEL"] == "soc") & incidence["AEBODSYS"].isin(keep_terms["AEBODSYS"])
    )
    return incidence.loc[keep]


def newcombe_interval(a: int, n1: int, b: int, n2: int) -> tuple[float, float]:
    """Newcombe hybrid-score 95% CI of p1 - p2 (proportions, not percent), by statsmodels; NaN without a denominator."""
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(a, n1, b, n2, method="newcomb", compare="diff")
    return (float(low), float(high))


def risk_difference_by_term(
    incidence: pd.DataFrame, arm_a: str, arm_b: str, *, level: str = "pt", band: str = ANY_BAND
) -> pd.DataFrame:
    """Per term: subjects n/N in both arms, risk difference (A - B, percentage points) with Newcombe
    95% CI, relative risk, Fisher exact p (two-sided) and -log10 p.

    Requires the `ae_incidence_by_arm` columns; the two arms must be among its arms. Returns
    AEBODSYS, AEDECOD, N_A, N_B (subjects), D_A, D_B (denominators), EVENTS (both arms),
    PCT_A, PCT_B, RD, RD_LOW, RD_HIGH, RR, P, NEG_LOG10_P.
    """
    require_columns(incidence, ("LEVEL", "AEBODSYS", "AEDECOD", "ARM", "BAND", "SUBJECTS", "EVENTS", "N"),
             "risk_difference_by_term")
    arms = set(incidence["ARM"])
    for arm in (arm_a, arm_b):
        if arm not in arms:
            raise ValueError(f"arm {arm!r} is not among the incidence arms {sorted(arms)}")
    if arm_a == arm_b:
        raise ValueError("choose two different arms to compare")
    rows = incidence[(incidence["LEVEL"] == level) & (incidence["BAND"] == band)]
    keys = ["AEBODSYS", "AEDECOD"]
    a = rows[rows["ARM"] == arm_a].set_index(keys)
    b = rows[rows["ARM"] == arm_b].set_index(keys)
    out = pd.DataFrame({
        "N_A": a["SUBJECTS"], "D_A": a["N"], "N_B": b["SUBJECTS"], "D_B": b["N"],
        "EVENTS": a["EVENTS"] + b["EVENTS"],
    }).dropna().astype(int)
    results = [_compare(*r) for r in out[["N_A", "D_A", "N_B", "D_B"]].itertuples(index=False)]
    stats_frame = pd.DataFrame(results, index=out.index,
                               columns=["PCT_A", "PCT_B", "RD", "RD_LOW", "RD_HIGH", "RR", "P"])
    out = pd.concat([out, stats_frame], axis=1)
    out["NEG_LOG10_P"] = np.maximum(0.0, -np.log10(out["P"].clip(lower=1e-300)))
    return out.reset_index()


def _compare(a: int, n1: int, b: int, n2: int):
    if n1 == 0 or n2 == 0:
        return (math.nan,) * 7
    p1, p2 = a / n1, b / n2
    low, high = newcombe_interval(a, n1, b, n2)
    rr = p1 / p2 if p2 > 0 else math.nan
    return (p1 * 100, p2 * 100, (p1 - p2) * 100, low * 100, high * 100, rr, fisher_exact_p(a, n1, b, n2))


def fisher_exact_p(a: int, n1: int, b: int, n2: int) -> float:
    """Two-sided Fisher exact p of [[a, n1 - a], [b, n2 - b]], as `scipy.stats.fisher_exact` computes
    it (tables no more likely than the observed one), from log-factorials: fast for many terms."""
    total, events = n1 + n2, a + b
    x = np.arange(max(0, events - n2), min(events, n1) + 1)
    log_pmf = _log_comb(events, x) + _log_comb(total - events, n1 - x) - _log_comb(total, n1)
    observed = _log_comb(events, a) + _log_comb(total - events, n1 - a) - _log_comb(total, n1)
    p = np.exp(log_pmf[log_pmf <= observed + math.log1p(1e-7)]).sum()
    return float(min(1.0, p))


def _log_comb(n, k):
    from scipy import special
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def incidence_table(
    incidence: pd.DataFrame,
    arms,
    *,
    count: str = "subjects",
    risk: pd.DataFrame | None = None,
    sort_by: str = "frequency",
) -> pd.DataFrame:
    """The display table: one row per overall / SOC / PT, a text column per arm and band.

    Subject cells read 'n (x.x%)' (denominators belong in the headers), event cells the event
    count. `risk` (from `risk_difference_by_term`, PT level) adds 'Risk difference (pp)' and
    'Fisher p'. Sorted by frequency (SOCs by their total, PTs within them) or by absolute risk
    difference; the overall row stays first. Also returns numeric SORT_N and the keys AEBODSYS,
    AEDECOD, LEVEL so a click can find the events.
    """
    if count not in COUNTS:
        raise ValueError(f"count must be one of {COUNTS}, got {count!r}")
    require_columns(incidence, ("LEVEL", "AEBODSYS", "AEDECOD", "ARM", "BAND", "SUBJECTS", "EVENTS", "PCT"),
             "incidence_table")
    keys = ["LEVEL", "AEBODSYS", "AEDECOD"]
    cells = incidence.assign(
        CELL=[_cell(n, e, p, count) for n, e, p in zip(incidence["SUBJECTS"], incidence["EVENTS"], incidence["PCT"])]
    )
    bands = list(dict.fromkeys(incidence["BAND"]))
    wide = cells.pivot_table(index=keys, columns=["ARM", "BAND"], values="CELL", aggfunc="first")
    wide.columns = [column_label(arm, band) for arm, band in wide.columns]
    ordered_cols = [column_label(a, b) for a in arms for b in bands if column_label(a, b) in wide.columns]
    wide = wide[ordered_cols]
    value = "SUBJECTS" if count == "subjects" else "EVENTS"
    totals = incidence[incidence["BAND"] == ANY_BAND].groupby(keys)[value].sum().rename("SORT_N")
    wide = wide.join(totals).reset_index()
    if risk is not None and len(risk):
        r = risk.set_index(["AEBODSYS", "AEDECOD"])[["RD", "P"]]
        wide = wide.join(r, on=["AEBODSYS", "AEDECOD"])
        wide.loc[wide["LEVEL"] != "pt", ["RD", "P"]] = np.nan
        wide = wide.rename(columns={"RD": "Risk difference (pp)", "P": "Fisher p"})
    return _sort_table(wide, sort_by)


def column_label(arm: str, band: str) -> str:
    """Header of one arm x band cell column."""
    return f"{arm} | {band}"


def _cell(subjects, events, pct, count) -> str:
    if count == "events":
        return str(int(events))
    return f"{int(subjects)} ({pct:.1f}%)" if pd.notna(pct) else str(int(subjects))


def _sort_table(wide: pd.DataFrame, sort_by: str) -> pd.DataFrame:
    level_rank = wide["LEVEL"].map({"overall": 0, "soc": 1, "pt": 2})
    if sort_by == "risk difference" and "Risk difference (pp)" in wide.columns:
        metric = wide["Risk difference (pp)"].abs().fillna(-1)
        soc_metric = wide.assign(M=metric).groupby("AEBODSYS")["M"].max()
    else:
        metric = wide["SORT_N"].astype(float)
        soc_metric = wide[wide["LEVEL"] == "soc"].set_index("AEBODSYS")["SORT_N"].astype(float)
    order = wide.assign(
        _top=(level_rank == 0).map({True: 0, False: 1}),
        _soc=-wide["AEBODSYS"].map(soc_metric).fillna(0),
        _lvl=level_rank,
        _m=-metric,
    ).sort_values(["_top", "_soc", "AEBODSYS", "_lvl", "_m", "AEDECOD"], kind="stable")
    return order.drop(columns=["_top", "_soc", "_lvl", "_m"]).reset_index(drop=True)


def topic_events(events: pd.DataFrame, topic: AETopic, *, window_days: int | None = None) -> pd.DataFrame:
    """Events of one safety topic (category, grade range, seriousness), optionally with onset on
    study days 1..window_days. Requires GRADE (from `select_events`), plus AECAT / AESER / ASTDY
    when the topic or window uses them."""
    require_columns(events, ("USUBJID", "GRADE"), "topic_events")
    keep = pd.Series(True, index=events.index)
    if topic.category is not None:
        require_columns(events, ("AECAT",), f"the topic {topic.label!r}")
        keep &= events["AECAT"].astype("string").str.upper() == topic.category.upper()
    if topic.min_grade is not None:
        keep &= events["GRADE"] >= topic.min_grade
    if topic.max_grade is not None:
        keep &= events["GRADE"] <= topic.max_grade
    if topic.serious_only:
        require_columns(events, ("AESER",), f"the topic {topic.label!r}")
        keep &= is_yes(events["AESER"])
    if window_days is not None:
        require_columns(events, ("ASTDY",), "an onset window")
        keep &= events["ASTDY"].between(1, window_days)
    return events.loc[keep.fillna(False).astype(bool)]


def topic_available(events_or_adae: pd.DataFrame, topic: AETopic) -> bool:
    """Whether the data can answer a topic (the category column and value exist)."""
    if topic.category is not None:
        if "AECAT" not in events_or_adae.columns:
            return False
        return bool((events_or_adae["AECAT"].astype("string").str.upper() == topic.category.upper()).any())
    if topic.serious_only:
        return "AESER" in events_or_adae.columns
    if topic.min_grade is not None or topic.max_grade is not None:
        return grade_basis(events_or_adae) != "none"
    return True


def subjects_with_event(events: pd.DataFrame, subjects: pd.DataFrame, *, arms=None,
                        by: str | None = None) -> pd.DataFrame:
    """Patients with >= 1 of the given events per arm (and per `by` value): ARM, [by], SUBJECTS,
    EVENTS, N, PCT, TEXT ('n/N (x.x%)'). Denominators: safety population of `subjects`."""
    require_columns(events, ("USUBJID", "ARM"), "subjects_with_event")
    denominators = safety_denominators(subjects, arms)
    keys = ["ARM"] + ([by] if by else [])
    if by:
        require_columns(events, (by,), "subjects_with_event")
    ev = events[events["ARM"].isin(denominators.index)]
    counts = ev.groupby(keys, sort=False, observed=True).agg(SUBJECTS=("USUBJID", "nunique"),
                                                             EVENTS=("USUBJID", "size"))
    if by:
        values = sorted(ev[by].dropna().astype(str).unique())
        index = pd.MultiIndex.from_product([list(denominators.index), values], names=keys)
        counts.index = pd.MultiIndex.from_arrays(
            [counts.index.get_level_values(0), counts.index.get_level_values(1).astype(str)], names=keys
        )
    else:
        index = pd.Index(list(denominators.index), name="ARM")
    out = counts.reindex(index, fill_value=0).reset_index()
    out["N"] = out["ARM"].map(denominators).astype(int)
    out["PCT"] = np.where(out["N"] > 0, out["SUBJECTS"] / out["N"].where(out["N"] > 0, 1) * 100, np.nan)
    out["TEXT"] = [format_proportion(n, d) for n, d in zip(out["SUBJECTS"], out["N"])]
    return out


def subjects_by_category(events: pd.DataFrame, subjects: pd.DataFrame, categories, *, arms=None) -> pd.DataFrame:
    """Patients per arm in each `EventCategory` (e.g. a publication's serious-event table) judged on
    their events: CATEGORY, ARM, SUBJECTS, N, PCT, TEXT. Requires USUBJID, ARM, AEDECOD (and AECAT
    for categories naming one); denominators from the safety population of `subjects`."""
    require_columns(events, ("USUBJID", "ARM", "AEDECOD"), "subjects_by_category")
    frames = []
    for cat in categories:
        counts = subjects_with_event(_category_events(events, cat), subjects, arms=arms)
        frames.append(counts.assign(CATEGORY=cat.label))
    if not frames:
        return pd.DataFrame({c: [] for c in ("CATEGORY", "ARM", "SUBJECTS", "N", "PCT", "TEXT")})
    out = pd.concat(frames, ignore_index=True)
    return out[["CATEGORY", "ARM", "SUBJECTS", "N", "PCT", "TEXT"]]


def category_available(adae: pd.DataFrame, cat: EventCategory) -> bool:
    """Whether the data can answer a category (it names no AECAT, or the AECAT column exists)."""
    return cat.category is None or "AECAT" in adae.columns


def _category_events(events: pd.DataFrame, cat: EventCategory) -> pd.DataFrame:
    """Events of the patients who meet a category (only the events that qualify them)."""
    keep = pd.Series(True, index=events.index)
    if cat.category is not None:
        require_columns(events, ("AECAT",), f"the category {cat.label!r}")
        keep &= events["AECAT"].astype("string").str.upper() == cat.category.upper()
    wanted = set(cat.any_of) | set(cat.all_of)
    if wanted:
        keep &= events["AEDECOD"].isin(wanted)
    chosen = events.loc[keep.fillna(False).astype(bool)]
    any_of, all_of, none_of = set(cat.any_of), set(cat.all_of), set(cat.none_of)
    terms = events.groupby("USUBJID", observed=True)["AEDECOD"].agg(set)
    qualified = [
        subject for subject, t in terms.items()
        if (not any_of or t & any_of) and all_of <= t and not (t & none_of)
    ]
    return chosen[chosen["USUBJID"].isin(qualified)]


FOCUS_COLUMNS = ("Panel", "Row")


def arm_count_rows(rows, arms, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per (label, counts) pair (counts from `subjects_with_event`: ARM, SUBJECTS, N): the
    label, then 'n/N (%)' per arm under the arm's label ('' where an arm has no counts row)."""
    labels = labels or {}
    records = []
    for label, counts in rows:
        require_columns(counts, ("ARM", "SUBJECTS", "N"), "arm_count_rows")
        by_arm = counts.set_index("ARM")
        records.append({"Row": label, **{labels.get(a, a): format_proportion(by_arm.loc[a, "SUBJECTS"], by_arm.loc[a, "N"])
                                         if a in by_arm.index else "" for a in arms}})
    return pd.DataFrame(records, columns=["Row", *(labels.get(a, a) for a in arms)])


def safety_focus_table(events: pd.DataFrame, subjects: pd.DataFrame, arms, *, adae: pd.DataFrame, topics,
                       sae_categories=(), sae_title: str = "Serious adverse events by the trial's categories",
                       window_days: int, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The focus panels as one table (Panel, Row, one 'n/N (%)' column per arm): grade 3-4 key topics
    with onset within `window_days` (the `topics` with an AE category the data can answer), infections by
    type within the window (when the events have INFTYPE and AECAT), and serious events by the trial's
    `sae_categories` (else by body system over the whole follow-up). Patients with >= 1 event; N =
    safety population of `subjects`."""
    panels = []
    focus = [t for t in topics if t.category is not None and topic_available(adae, t)]
    if focus:
        rows = [(t.label, subjects_with_event(topic_events(events, t, window_days=window_days), subjects, arms=arms))
                for t in focus]
        panels.append((f"Key safety topics within {window_days} days of randomization (onset study day "
                       f"1-{window_days}, grade 3-4)", rows))
    if {"INFTYPE", "AECAT"} <= set(events.columns):
        infections = topic_events(events, AETopic("Infection", category="INFECTION"), window_days=window_days)
        severe = topic_events(infections, AETopic("Grade 3-4", min_grade=3, max_grade=4))
        any_by = subjects_with_event(infections, subjects, arms=arms, by="INFTYPE")
        severe_by = subjects_with_event(severe, subjects, arms=arms, by="INFTYPE")
        rows = []
        for kind in sorted(set(any_by["INFTYPE"]) | set(severe_by["INFTYPE"])):
            rows.append((f"{kind}: any grade", any_by[any_by["INFTYPE"] == kind]))
            rows.append((f"{kind}: grade 3-4", severe_by[severe_by["INFTYPE"] == kind]))
        panels.append((f"Infections by type within {window_days} days (patients with ≥ 1)", rows))
    categories = [c for c in sae_categories if category_available(adae, c)]
    if "AESER" in events.columns:
        serious = topic_events(events, AETopic("Serious", serious_only=True))
        if categories:
            counts = subjects_by_category(serious, subjects, categories, arms=arms)
            panels.append((sae_title, [(c.label, counts[counts["CATEGORY"] == c.label]) for c in categories]))
        else:
            inc = ae_incidence_by_arm(serious, subjects, arms=arms, bands=())
            soc = inc[inc["LEVEL"] == "soc"]
            order = soc.groupby("AEBODSYS", observed=True)["SUBJECTS"].sum().sort_values(ascending=False).index
            rows = [("Any serious adverse event", inc[inc["LEVEL"] == "overall"]),
                    *((str(name), soc[soc["AEBODSYS"] == name]) for name in order)]
            panels.append(("Serious adverse events by body system (whole follow-up)", rows))
    frames = [arm_count_rows(rows, arms, labels).assign(Panel=title) for title, rows in panels]
    columns = [*FOCUS_COLUMNS, *((labels or {}).get(a, a) for a in arms)]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def ae_onset_cumulative_incidence(events: pd.DataFrame, subjects: pd.DataFrame, *, arms=None,
                                  max_day: int | None = None) -> pd.DataFrame:
    """Cumulative proportion of safety-population patients with a first event by study day, per arm.

    `events` holds the events of interest (e.g. `topic_events(..., grade 3-4 infection)`) with
    USUBJID, ARM, ASTDY. The curve is crude (patients with a first event by day t / N, no
    censoring adjustment), so at day 180 it equals the 180-day count. Returns ARM, DAY,
    SUBJECTS (cumulative), N, PCT; a day-0 row per arm and one row per day a first event occurs.
    """
    require_columns(events, ("USUBJID", "ARM", "ASTDY"), "ae_onset_cumulative_incidence")
    denominators = safety_denominators(subjects, arms)
    ev = events[events["ARM"].isin(denominators.index) & events["ASTDY"].notna()]
    if max_day is not None:
        ev = ev[ev["ASTDY"] <= max_day]
    first = ev.groupby(["ARM", "USUBJID"], sort=False, observed=True)["ASTDY"].min().reset_index()
    per_day = first.groupby(["ARM", "ASTDY"], observed=True).size().rename("NEW").reset_index()
    frames = []
    for arm, n in denominators.items():
        days = per_day[per_day["ARM"] == arm].sort_values("ASTDY")
        cum = days["NEW"].cumsum()
        frame = pd.DataFrame({
            "ARM": arm,
            "DAY": np.concatenate([[0], days["ASTDY"].astype(int).to_numpy()]),
            "SUBJECTS": np.concatenate([[0], cum.to_numpy()]).astype(int),
        })
        if max_day is not None and frame["DAY"].iloc[-1] < max_day:
            frame = pd.concat([frame, pd.DataFrame({"ARM": [arm], "DAY": [max_day],
                                                    "SUBJECTS": [frame["SUBJECTS"].iloc[-1]]})])
        frame["N"] = int(n)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({"ARM": [], "DAY": [], "SUBJECTS": [], "N": [], "PCT": []})
    out = pd.concat(frames, ignore_index=True)
    out["PCT"] = np.where(out["N"] > 0, out["SUBJECTS"] / out["N"].where(out["N"] > 0, 1) * 100, np.nan)
    return out


def ae_collection_days(adae: pd.DataFrame, subjects: pd.DataFrame, setting: int | None = None) -> tuple[int | None, str]:
    """The last study day of adverse-event collection and where it comes from: the trial's setting
    when given, else the latest onset study day in the data (ASTDT - TRTSDT (else RANDDT) + 1, else
    ASTDY), else None. Pass the whole trial's ADAE and ADSL so the window does not move with filters."""
    if setting is not None:
        return int(setting), "the trial's AE collection period"
    dated = {"TRTSDT", "RANDDT"} & set(subjects.columns)
    days = _onset_day(adae, _period_start(subjects) if dated else None)
    if days.notna().any():
        return int(days.max()), "the latest adverse-event onset in the data"
    return None, "no adverse-event onset days in the data"


def _period_start(subjects: pd.DataFrame) -> pd.Series:
    """Start of the AE observation period per subject (index USUBJID): TRTSDT, else RANDDT."""
    if "TRTSDT" not in subjects.columns and "RANDDT" not in subjects.columns:
        raise KeyError("AE person-time needs TRTSDT or RANDDT in ADSL")
    start = subjects["TRTSDT"] if "TRTSDT" in subjects.columns else subjects["RANDDT"]
    if "RANDDT" in subjects.columns:
        start = start.fillna(subjects["RANDDT"])
    return pd.Series(pd.to_datetime(start).to_numpy(), index=subjects["USUBJID"].astype(object).to_numpy())


def _onset_day(events: pd.DataFrame, start: pd.Series | None) -> pd.Series:
    """Onset study day of each event (day 1 = the observation `start` per USUBJID): from ASTDT when
    known (and `start` given), else ASTDY."""
    day = pd.Series(np.nan, index=events.index, dtype=float)
    if "ASTDT" in events.columns and start is not None:
        begin = pd.to_datetime(pd.Series(_lookup(events["USUBJID"], start), index=events.index))
        day = ((pd.to_datetime(events["ASTDT"]) - begin).dt.days + 1).astype(float)
    if "ASTDY" in events.columns:
        day = day.fillna(pd.to_numeric(events["ASTDY"], errors="coerce").astype(float))
    return day


def ae_observation_period(subjects: pd.DataFrame, cutoff, window_days: int | None = None) -> pd.DataFrame:
    """Per subject (index USUBJID): START (TRTSDT, else RANDDT), END and DAYS (END - START + 1, at
    least 0). END is the earliest of the end of AE collection (START + window_days - 1), death
    (DTHDT), last known alive (LSTALVDT), end of study (EOSDT) and the data cut. Requires USUBJID and
    TRTSDT or RANDDT; the end columns are used when present."""
    require_columns(subjects, ("USUBJID",), "ae_observation_period")
    start = _period_start(subjects)
    ends = [pd.Series(pd.Timestamp(cutoff), index=start.index)]
    if window_days is not None:
        ends.append(start + pd.to_timedelta(int(window_days) - 1, unit="D"))
    for column in ("DTHDT", "LSTALVDT", "EOSDT"):
        if column in subjects.columns:
            ends.append(pd.Series(pd.to_datetime(subjects[column]).to_numpy(), index=start.index))
    end = pd.concat(ends, axis=1).min(axis=1)
    days = ((end - start).dt.days + 1).clip(lower=0).fillna(0).astype(float)
    return pd.DataFrame({"START": start, "END": end, "DAYS": days})


RATE_COLUMNS = ["ARM", "N", "SUBJECTS", "CRUDE", "EVENTS", "EVENTS_OUTSIDE", "PATIENT_MONTHS", "EVENT_RATE",
                "EVENT_RATE_LOW", "EVENT_RATE_HIGH", "FIRST_EVENTS", "AT_RISK_MONTHS", "INCIDENCE_RATE",
                "INCIDENCE_RATE_LOW", "INCIDENCE_RATE_HIGH"]


def exposure_adjusted_rates(events: pd.DataFrame, subjects: pd.DataFrame, cutoff, *, window_days: int | None = None,
                            arms=None) -> pd.DataFrame:
    """Per arm of the safety population: crude incidence next to the event rate and the incidence rate
    per 100 patient-months over each patient's AE observation period (`ae_observation_period`).

    EVENT rate: all events with onset inside the period / patient-months in the period, with the 95% CI
    of `event_rate_interval` (robust to patients with many events). INCIDENCE rate: patients with a
    first event in the period / patient-months at risk (to the first event's onset day, else the
    period's end), exact Poisson (Garwood) 95% CI.
    `events` from `select_events` / `topic_events` (USUBJID, ARM; ASTDT or ASTDY place the onset).
    Returns RATE_COLUMNS: CRUDE is 'n/N (x.x%)' of all the given events; EVENTS_OUTSIDE counts events
    whose onset is unknown or outside the period (left out of both rates).
    """
    require_columns(events, ("USUBJID", "ARM"), "exposure_adjusted_rates")
    pop = safety_population(subjects, ["USUBJID", "ARM", "TRTSDT", "RANDDT", "DTHDT", "LSTALVDT", "EOSDT"])
    crude = subjects_with_event(events, subjects, arms=arms).rename(columns={"TEXT": "CRUDE"}).drop(columns="EVENTS")
    period = ae_observation_period(pop, cutoff, window_days)
    ev = events[events["USUBJID"].isin(period.index)]
    day = _onset_day(ev, period["START"])
    length = pd.Series(_lookup(ev["USUBJID"], period["DAYS"]), index=ev.index, dtype=float)
    inside = day.between(1, length)
    per_patient = pd.DataFrame({
        "ARM": pop["ARM"].astype(object).to_numpy(),
        "DAYS": period["DAYS"].to_numpy(),
        "EVENTS": ev.loc[inside].groupby(ev.loc[inside, "USUBJID"].astype(object)).size()
                    .reindex(period.index, fill_value=0).to_numpy(),
        "FIRST": day[inside].groupby(ev.loc[inside, "USUBJID"].astype(object)).min()
                    .reindex(period.index).to_numpy(),
    }, index=period.index)
    per_patient["AT_RISK"] = per_patient["FIRST"].fillna(per_patient["DAYS"])
    outside = (~inside).groupby(ev["ARM"].astype(object)).sum()
    rows = []
    for arm in crude["ARM"]:
        mine = per_patient[per_patient["ARM"] == arm]
        months, at_risk = mine["DAYS"] / DAYS_PER_MONTH, mine["AT_RISK"] / DAYS_PER_MONTH
        first = int(mine["FIRST"].notna().sum())
        rows.append((int(mine["EVENTS"].sum()), int(outside.get(arm, 0)), float(months.sum()),
                     *event_rate_interval(mine["EVENTS"].to_numpy(), months.to_numpy()),
                     first, float(at_risk.sum()), *exact_poisson_rate(first, float(at_risk.sum()))))
    rates = pd.DataFrame(rows, index=crude.index, columns=RATE_COLUMNS[4:])
    return pd.concat([crude, rates], axis=1)[RATE_COLUMNS]


RATE_TEXT_COLUMNS = ("Arm", "Patients with ≥ 1 event, n/N (%)", "First events / patient-months at risk",
                     "Incidence rate per 100 patient-months (95% exact Poisson CI)", "Events / patient-months",
                     "Event rate per 100 patient-months (95% robust CI)")


def exposure_rate_text(rates: pd.DataFrame) -> pd.DataFrame:
    """`exposure_adjusted_rates` as display text, numerators over denominators next to each rate:
    one row per arm, columns RATE_TEXT_COLUMNS. Rates of 1 or more get one decimal, smaller ones two."""
    require_columns(rates, RATE_COLUMNS, "exposure_rate_text")

    def rate(value, low, high) -> str:
        if pd.isna(value):
            return "no person-time"
        return f"{_rate(value)} ({_rate(low)} to {_rate(high)})"

    return pd.DataFrame({
        RATE_TEXT_COLUMNS[0]: rates["ARM"].astype(str).to_numpy(),
        RATE_TEXT_COLUMNS[1]: rates["CRUDE"].to_numpy(),
        RATE_TEXT_COLUMNS[2]: [f"{n} / {m:.1f}" for n, m in zip(rates["FIRST_EVENTS"], rates["AT_RISK_MONTHS"])],
        RATE_TEXT_COLUMNS[3]: [rate(*r) for r in rates[["INCIDENCE_RATE", "INCIDENCE_RATE_LOW",
                                                        "INCIDENCE_RATE_HIGH"]].itertuples(index=False)],
        RATE_TEXT_COLUMNS[4]: [f"{n} / {m:.1f}" for n, m in zip(rates["EVENTS"], rates["PATIENT_MONTHS"])],
        RATE_TEXT_COLUMNS[5]: [rate(*r) for r in rates[["EVENT_RATE", "EVENT_RATE_LOW",
                                                        "EVENT_RATE_HIGH"]].itertuples(index=False)],
    })


EXPOSURE_SET_COLUMN = "What is counted"


def exposure_rate_table(event_sets, subjects: pd.DataFrame, cutoff, *, window_days: int | None = None, arms=None,
                        labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """`exposure_rate_text` of each (label, events) pair in `event_sets`, stacked: EXPOSURE_SET_COLUMN,
    RATE_TEXT_COLUMNS (arms under their `labels`), and EVENTS_OUTSIDE (events with an onset outside the
    person-time or unknown, left out of the rates)."""
    labels = labels or {}
    frames = []
    for label, events in event_sets:
        rates = exposure_adjusted_rates(events, subjects, cutoff, window_days=window_days, arms=arms)
        text = exposure_rate_text(rates.assign(ARM=rates["ARM"].map(lambda a: labels.get(a, a))))
        frames.append(text.assign(EVENTS_OUTSIDE=rates["EVENTS_OUTSIDE"].astype(int).to_numpy())
                      .assign(**{EXPOSURE_SET_COLUMN: label}))
    columns = [EXPOSURE_SET_COLUMN, *RATE_TEXT_COLUMNS, "EVENTS_OUTSIDE"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _rate(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def exact_poisson_rate(events: int, months: float, per: float = 100) -> tuple[float, float, float]:
    """Rate per `per` patient-months with the exact Poisson (Garwood) 95% CI; NaN without person-time."""
    from scipy import stats
    if months <= 0:
        return (math.nan, math.nan, math.nan)
    low = stats.chi2.ppf(0.025, 2 * events) / 2 if events > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * (events + 1)) / 2
    scale = per / months
    return (events * scale, low * scale, high * scale)


def event_rate_interval(counts, months, per: float = 100) -> tuple[float, float, float]:
    """Event rate per `per` patient-months with a 95% CI that allows for repeated events in a patient:
    the robust (sandwich) interval of `robust_poisson_rate`, widened to the exact Poisson interval
    wherever that is wider (few events or patients, where the sandwich variance is too small)."""
    rate, low, high = robust_poisson_rate(counts, months, per)
    _, exact_low, exact_high = exact_poisson_rate(int(np.sum(counts)), float(np.sum(months)), per)
    return (rate, min(low, exact_low), max(high, exact_high))


def robust_poisson_rate(counts, months, per: float = 100, z: float = 1.959964) -> tuple[float, float, float]:
    """Rate sum(counts) / sum(months) per `per` patient-months with a 95% CI on the log scale from the
    robust (sandwich) variance of a Poisson model, one term per patient:
    var(log rate) = n / (n - 1) * sum((y_i - rate * t_i)^2) / (sum y_i)^2 over the n patients with
    person-time. Unlike the plain Poisson CI it widens when events cluster in some patients.
    Without events the lower limit is 0 and the upper the exact Poisson one; NaN without person-time."""
    y, t = np.asarray(counts, dtype=float), np.asarray(months, dtype=float)
    y, t = y[t > 0], t[t > 0]
    total_events, total_time = y.sum(), t.sum()
    if total_time <= 0:
        return (math.nan, math.nan, math.nan)
    if total_events == 0:
        return exact_poisson_rate(0, total_time, per)
    rate = total_events / total_time
    n = len(y)
    correction = n / (n - 1) if n > 1 else 1.0
    se = math.sqrt(correction * float(((y - rate * t) ** 2).sum())) / total_events
    return (rate * per, rate * math.exp(-z * se) * per, rate * math.exp(z * se) * per)


LISTING_COLUMNS = {
    "NEW": "New",
    "USUBJID": "Patient",
    "ARM": "Arm",
    "AEDECOD": "Preferred term",
    "ASTDT": "Onset date",
    "ASTDY": "Onset day",
    "GRADE_TEXT": "Grade",
    "AESER": "Serious",
    "AEOUT": "Outcome",
    "AEREL": "Related",
    "AETERM": "Reported term",
    "AEBODSYS": "Body system",
    "TRTEMFL": "Treatment-emergent",
}


def ae_listing(events: pd.DataFrame, *, soc: str | None = None, term: str | None = None,
               subject: str | None = None) -> pd.DataFrame:
    """Event listing for a body system / term / patient, sorted by patient and onset, with display
    headers. `events` from `select_events`; `soc`/`term` equal to the overall or SOC-total labels
    mean 'no restriction'. Grades show as 'Grade n' (CTCAE) or the severity text; onset dates
    stay dates (the view formats them). A boolean NEW column of `events` becomes a first column "New"."""
    require_columns(events, ("USUBJID", "ARM", "AEBODSYS", "AEDECOD", "GRADE"), "ae_listing")
    keep = pd.Series(True, index=events.index)
    if soc and soc != OVERALL:
        keep &= events["AEBODSYS"] == soc
    if term and term not in (OVERALL, SOC_TOTAL):
        keep &= events["AEDECOD"] == term
    if subject:
        keep &= events["USUBJID"] == subject
    ev = events.loc[keep.fillna(False).astype(bool)]
    basis = grade_basis(ev)
    if basis == "CTCAE":
        grade = ev["GRADE"].astype("Int64").astype("string")
        grade_text = ("Grade " + grade).fillna("")
    elif basis == "severity":
        grade_text = ev["AESEV"].astype("string").fillna("")
    else:
        grade_text = pd.Series("", index=ev.index)
    ev = ev.assign(GRADE_TEXT=grade_text)
    if "NEW" in ev.columns:  # events marked new since an earlier data cut (`changes.new_events`)
        ev["NEW"] = np.where(ev["NEW"].fillna(False).astype(bool), "New", "")
    sort = [c for c in ("USUBJID", "ASTDT", "ASTDY", "AESEQ") if c in ev.columns]
    cols = [c for c in LISTING_COLUMNS if c in ev.columns]
    out = ev[list(dict.fromkeys(cols + sort))].sort_values(sort, kind="stable")[cols]
    for col in (*KEY_COLUMNS, "ARM"):
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
    return out.rename(columns=LISTING_COLUMNS).reset_index(drop=True)
