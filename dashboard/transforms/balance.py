"""Arm balance: baseline characteristics by arm (Table 1), standardized differences, allocation.

Standardized differences follow Austin (2009, Stat Med 28:3083): continuous
d = (m1 - m2) / sqrt((s1^2 + s2^2) / 2); binary d = (p1 - p2) / sqrt((p1(1-p1) + p2(1-p2)) / 2);
categorical with k levels: the multivariate d = sqrt(T' S^-1 T) of Yang & Dalton (2012), with T the
differences in the proportions of levels 2..k and S the mean of the two multinomial covariance
matrices (a generalized inverse when S is singular), as R's tableone computes it. Every SMD is
reported as an absolute value. With three or more arms each pair of arms gets its own SMD and
`max_smd_by_variable` keeps the largest.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import BASELINE_VARIABLES, CATEGORICAL_NUMERIC_VARIABLES, CATEGORY_ORDER
from .flags import is_y_blank_flag, is_yes
from .labels import column_label
from .columns import require_columns

TOTAL = "Total"
FLAG_VALUES = frozenset({"Y", "N"})
KINDS = ("continuous", "flag", "categorical")


def variable_label(name: str) -> str:
    """The display label of a baseline variable: data-model label, else config label, else its name."""
    return column_label("adsl", name)


def variable_kind(series: pd.Series) -> str:
    """'continuous' (numeric), 'flag' (only Y/N values, any case, or an ADaM Y/blank flag) or 'categorical'."""
    if series.name in CATEGORICAL_NUMERIC_VARIABLES:
        return "categorical"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "continuous"
    values = set(series.astype("string").str.strip().str.upper().replace("", pd.NA).dropna().unique())
    return "flag" if values and values <= FLAG_VALUES else "categorical"


def _flag_codes(series: pd.Series) -> np.ndarray:
    """Level codes of a flag: 0 = Y, 1 = N, -1 = missing. In an ADaM Y/blank flag (no 'N' anywhere) a
    blank is 'N'; in a Y/N flag a blank is missing."""
    yes = is_yes(series).to_numpy()
    if is_y_blank_flag(series):
        return np.where(yes, 0, 1).astype(np.int64)
    no = (series.astype("string").str.strip().str.upper() == "N").fillna(False).to_numpy(dtype=bool)
    return np.where(yes, 0, np.where(no, 1, -1)).astype(np.int64)


def baseline_variables(adsl: pd.DataFrame, variables=None) -> list[str]:
    """The requested baseline variables (default: config BASELINE_VARIABLES) that ADSL has."""
    wanted = BASELINE_VARIABLES if variables is None else variables
    return [v for v in wanted if v in adsl.columns]


def _level_key(variable: str, level: str):
    order = CATEGORY_ORDER.get(variable, ())
    if level in order:
        return (0, order.index(level), 0, "")
    number = re.search(r"\d+(\.\d+)?", level)
    prefix = level.lstrip()[:1]
    rank = 0 if prefix == "<" else 2 if prefix == ">" else 1
    return (1, float(number.group()) if number else math.inf, rank, level)


def _levels(variable: str, values) -> list[str]:
    return sorted({v for v in values if v is not None}, key=lambda level: _level_key(variable, level))


def _as_text(series: pd.Series) -> list[str | None]:
    """Category values as text (None when missing); whole numbers (NORGANS 2.0) without a decimal point."""
    return [None if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)) for v in series.tolist()]


def _arm_names(adsl: pd.DataFrame, arms, arm_column: str) -> list[str]:
    return list(arms) if arms is not None else sorted(adsl[arm_column].dropna().unique())


@dataclass(frozen=True)
class _Variable:
    """One baseline variable split by arm: float values (continuous) or level codes (-1 = missing)."""

    name: str
    label: str
    kind: str
    levels: tuple[str, ...]
    by_arm: dict  # arm -> numpy array
    blank_is_no: bool = False  # an ADaM Y/blank flag: blanks were counted as 'No'

    def counts(self, arm: str) -> np.ndarray:
        codes = self.by_arm[arm]
        return np.bincount(codes[codes >= 0], minlength=len(self.levels)).astype(float)

    def present(self, arm: str) -> np.ndarray:
        values = self.by_arm[arm]
        return values[~np.isnan(values)] if self.kind == "continuous" else values[values >= 0]


def _prepare(adsl: pd.DataFrame, variables, arm_names, arm_column: str, total: bool = False) -> list[_Variable]:
    """Each requested variable that exists, with its values split by arm (and "Total")."""
    arm_values = adsl[arm_column].to_numpy(dtype=object)
    masks = {arm: arm_values == arm for arm in arm_names}
    if total:
        masks[TOTAL] = np.isin(arm_values, list(arm_names))
    prepared = []
    for variable in baseline_variables(adsl, variables):
        series = adsl[variable]
        kind = variable_kind(series)
        if kind == "continuous":
            values = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
            levels: tuple[str, ...] = ()
        elif kind == "flag":
            values, levels = _flag_codes(series), ("Y", "N")
        else:
            text = _as_text(series)
            levels = tuple(_levels(variable, text))
            lookup = {level: i for i, level in enumerate(levels)}
            values = np.array([lookup.get(v, -1) for v in text], dtype=np.int64)
        prepared.append(_Variable(variable, variable_label(variable), kind, levels,
                                  {arm: values[mask] for arm, mask in masks.items()},
                                  blank_is_no=kind == "flag" and is_y_blank_flag(series)))
    return prepared


def _statistics_rows(prepared: list[_Variable]) -> list[dict]:
    rows = []
    for var in prepared:
        base = {"variable": var.name, "label": var.label, "kind": var.kind}
        for arm, values in var.by_arm.items():
            size = len(values)
            present = var.present(arm)
            missing = size - len(present)
            if var.kind == "continuous":
                rows.append({**base, "level": None, "arm": arm, "N": size, "n": len(present), "missing": missing,
                             **_describe(present)})
                continue
            counts = var.counts(arm)
            for i, level in enumerate(var.levels[:1] if var.kind == "flag" else var.levels):
                rows.append({**base, "level": level, "arm": arm, "N": size, "n": int(counts[i]),
                             "pct": 100.0 * counts[i] / size if size else math.nan, "missing": missing})
    return rows


STATISTICS_COLUMNS = ["variable", "label", "kind", "level", "arm", "N", "n", "pct", "missing",
                      "mean", "sd", "median", "q1", "q3", "min", "max"]


def baseline_statistics(
    adsl: pd.DataFrame, variables=None, arms=None, *, arm_column: str = "ARM", total: bool = True
) -> pd.DataFrame:
    """Long numeric Table 1: one row per variable, level (None for continuous) and arm.

    Requires `arm_column` (default ARM); uses the requested variables that exist (absent ones are
    skipped). Columns: variable, label, kind, level, arm, N (patients in the arm), n (patients at
    the level; non-missing for continuous), pct (n / N * 100), missing, mean, sd, median, q1, q3,
    min, max. `arms` fixes arm order (default sorted); `total` adds an arm named "Total".
    Flags (Y/N variables) get one row, level "Y"; in an ADaM Y/blank flag a blank counts as 'N'.
    """
    require_columns(adsl, [arm_column], "baseline_statistics")
    prepared = _prepare(adsl, variables, _arm_names(adsl, arms, arm_column), arm_column, total=total)
    return pd.DataFrame(_statistics_rows(prepared), columns=STATISTICS_COLUMNS)


def _describe(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return {
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def smd_continuous(a, b) -> float:
    """|(m1 - m2) / sqrt((s1^2 + s2^2) / 2)| with sample SDs; NaN when an arm has < 2 values."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return _ratio(a.mean() - b.mean(), math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))


def smd_binary(p1: float, p2: float) -> float:
    """|(p1 - p2) / sqrt((p1(1-p1) + p2(1-p2)) / 2)| for two proportions."""
    return _ratio(p1 - p2, math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2))


def smd_categorical(p1, p2) -> float:
    """sqrt(T' S^-1 T): multivariate SMD of two vectors of level proportions (Yang & Dalton 2012)."""
    p1, p2 = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    if len(p1) < 2:
        return 0.0
    t = (p1 - p2)[1:]
    q1, q2 = p1[1:], p2[1:]
    s = (np.diag(q1) - np.outer(q1, q1) + np.diag(q2) - np.outer(q2, q2)) / 2
    inverse = np.linalg.pinv(s)
    if not np.allclose(s @ inverse @ t, t):
        return math.inf  # a difference in a level with no variance in either arm
    return math.sqrt(max(float(t @ inverse @ t), 0.0))


def _ratio(difference: float, scale: float) -> float:
    if scale > 0:
        return abs(difference) / scale
    return 0.0 if difference == 0 else math.inf


def _smd(var: _Variable, a: str, b: str) -> float:
    if var.kind == "continuous":
        return smd_continuous(var.by_arm[a], var.by_arm[b])
    ca, cb = var.counts(a), var.counts(b)
    if ca.sum() == 0 or cb.sum() == 0:
        return math.nan
    pa, pb = ca / ca.sum(), cb / cb.sum()
    if var.kind == "flag":
        return smd_binary(pa[0], pb[0])
    return smd_categorical(pa, pb)


def standardized_differences(
    adsl: pd.DataFrame, variables=None, arms=None, *, arm_column: str = "ARM", reference: str | None = None
) -> pd.DataFrame:
    """Absolute standardized difference per variable and pair of arms (Austin 2009).

    Requires `arm_column`; uses the requested variables that exist. Missing values are left out.
    Pairs: every pair of arms in `arms` order, or only each arm against `reference` when given.
    Columns: variable, label, kind, arm_a, arm_b, smd.
    """
    require_columns(adsl, [arm_column], "standardized_differences")
    names = _arm_names(adsl, arms, arm_column)
    if reference is not None:
        if reference not in names:
            raise ValueError(f"reference arm {reference!r} is not among the arms {names}")
        pairs = [(reference, arm) for arm in names if arm != reference]
    else:
        pairs = list(itertools.combinations(names, 2))
    rows = [
        {"variable": var.name, "label": var.label, "kind": var.kind, "arm_a": a, "arm_b": b, "smd": _smd(var, a, b)}
        for var in _prepare(adsl, variables, names, arm_column)
        for a, b in pairs
    ]
    return pd.DataFrame(rows, columns=["variable", "label", "kind", "arm_a", "arm_b", "smd"])


def max_smd_by_variable(smd: pd.DataFrame) -> pd.DataFrame:
    """The largest SMD over pairs of arms, per variable (input: `standardized_differences`).

    Requires variable, label, kind, smd. Columns: variable, label, kind, smd, pairs (how many pairs).
    Variables keep their input order; a variable whose every pair is NaN keeps NaN.
    """
    require_columns(smd, ["variable", "label", "kind", "smd"], "max_smd_by_variable")
    grouped = smd.groupby("variable", sort=False)
    out = grouped.agg(label=("label", "first"), kind=("kind", "first"), smd=("smd", "max"), pairs=("smd", "size"))
    return out.reset_index()


def _pvalue(var: _Variable, arm_names) -> tuple[float, str]:
    from scipy import stats
    if var.kind == "continuous":
        samples = [var.present(arm) for arm in arm_names]
        samples = [x for x in samples if len(x)]
        if len(samples) == 2:
            return float(stats.mannwhitneyu(*samples, alternative="two-sided").pvalue), "Wilcoxon rank-sum"
        if len(samples) > 2:
            return float(stats.kruskal(*samples).pvalue), "Kruskal-Wallis"
        return math.nan, ""
    table = np.array([var.counts(arm) for arm in arm_names])
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0] if table.size else table
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
        return math.nan, ""
    if table.shape == (2, 2) and stats.contingency.expected_freq(table).min() < 5:
        return float(stats.fisher_exact(table.astype(int)).pvalue), "Fisher's exact"
    return float(stats.chi2_contingency(table, correction=False).pvalue), "Chi-square"


def baseline_pvalues(adsl: pd.DataFrame, variables=None, arms=None, *, arm_column: str = "ARM") -> pd.DataFrame:
    """Between-arm p-value per variable, missing values left out.

    Continuous: Wilcoxon rank-sum (2 arms) or Kruskal-Wallis (3+). Categorical: Pearson chi-square
    test without continuity correction (as the NCT02241018 report), Fisher's exact test for a 2x2
    table with an expected count below 5.
    Requires `arm_column`. Columns: variable, p_value, test.
    """
    require_columns(adsl, [arm_column], "baseline_pvalues")
    names = _arm_names(adsl, arms, arm_column)
    rows = [{"variable": var.name, **dict(zip(("p_value", "test"), _pvalue(var, names)))}
            for var in _prepare(adsl, variables, names, arm_column)]
    return pd.DataFrame(rows, columns=["variable", "p_value", "test"])


def arm_counts(adsl: pd.DataFrame, arms=None, *, arm_column: str = "ARM") -> pd.Series:
    """Patients per arm (in `arms` order, zeros kept) plus "Total"."""
    require_columns(adsl, [arm_column], "arm_counts")
    values = adsl[arm_column]
    counts = pd.Series({arm: int((values == arm).sum()) for arm in _arm_names(adsl, arms, arm_column)}, dtype="int64")
    counts[TOTAL] = int(counts.sum())
    return counts


def _fmt(value: float, digits: int) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _continuous_cells(row: dict, digits: int) -> tuple[str, str, str]:
    """Median (IQR), mean (SD) and min, max as text; dashes when the arm has no value."""
    if not row["n"]:
        return ("–", "–", "–")
    f = {k: _fmt(row.get(k), digits) for k in ("median", "q1", "q3", "mean", "sd", "min", "max")}
    return (f"{f['median']} ({f['q1']}–{f['q3']})", f"{f['mean']} ({f['sd']})", f"{f['min']}, {f['max']}")


def _flag_statistic(var: _Variable) -> str:
    """The row name of a flag: 'Yes', saying so when blanks were counted as 'No' (ADaM Y/blank flag)."""
    return "Yes (Y; blank = No)" if var.blank_is_no else "Yes"


def _count_pct(row: dict, digits: int) -> str:
    return "–" if pd.isna(row["pct"]) else f"{int(row['n'])} ({row['pct']:.{digits}f}%)"


def baseline_table(
    adsl: pd.DataFrame,
    variables=None,
    arms=None,
    *,
    arm_column: str = "ARM",
    threshold: float = 0.1,
    pvalues: bool = False,
    digits: int = 1,
    smd: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Display Table 1: formatted rows per variable, one text column per arm plus "Total".

    Requires `arm_column`; uses the requested variables that exist. Continuous variables get
    "Median (IQR)", "Mean (SD)" and "Min, max" rows, categorical ones a row per level ("n (%)",
    % of the arm's patients), flags (Y/N) one "Yes" row (ADaM Y/blank flags: blank = No, said in the
    row name); a "Missing" row appears when any value is missing. Columns: variable, label (first row of a variable only), statistic, <arms...>, Total,
    smd (first row only; the largest pairwise SMD when 3+ arms), flag (smd > threshold),
    and with `pvalues` also p_value and test. `smd`: a `standardized_differences` result for the
    same subjects, arms and variables, to reuse instead of recomputing.
    """
    require_columns(adsl, [arm_column], "baseline_table")
    names = _arm_names(adsl, arms, arm_column)
    arm_columns = [*names, TOTAL]
    prepared = _prepare(adsl, variables, names, arm_column, total=True)
    if smd is None:
        pairs = list(itertools.combinations(names, 2))
        largest = {var.name: max((_smd(var, a, b) for a, b in pairs), default=math.nan) for var in prepared}
    else:
        largest = max_smd_by_variable(smd).set_index("variable")["smd"].to_dict()
    statistics = _statistics_rows(prepared)
    rows = []
    for var in prepared:
        mine = [r for r in statistics if r["variable"] == var.name]
        by_arm = {arm: [r for r in mine if r["arm"] == arm] for arm in arm_columns}
        if var.kind == "continuous":
            formatted = {arm: _continuous_cells(by_arm[arm][0], digits) for arm in arm_columns}
            cells = [(name, {arm: formatted[arm][i] for arm in arm_columns})
                     for i, name in enumerate(("Median (IQR)", "Mean (SD)", "Min, max"))]
        else:
            levels = var.levels[:1] if var.kind == "flag" else var.levels
            cells = [(_flag_statistic(var) if var.kind == "flag" else level,
                      {arm: _count_pct(by_arm[arm][i], digits) for arm in arm_columns})
                     for i, level in enumerate(levels)]
        missing = {arm: len(var.by_arm[arm]) - len(var.present(arm)) for arm in arm_columns}
        if missing[TOTAL]:
            cells.append(("Missing", {arm: str(missing[arm]) for arm in arm_columns}))
        value = float(largest.get(var.name, math.nan))
        test = _pvalue(var, names) if pvalues else None
        for i, (name, values) in enumerate(cells):
            row = {"variable": var.name, "label": var.label if i == 0 else "", "statistic": name, **values,
                   "smd": value if i == 0 else math.nan, "flag": bool(i == 0 and value > threshold)}
            if test is not None:
                row["p_value"] = test[0] if i == 0 else math.nan
                row["test"] = test[1] if i == 0 else ""
            rows.append(row)
    columns = ["variable", "label", "statistic", *arm_columns, "smd", "flag"] + (["p_value", "test"] if pvalues else [])
    return pd.DataFrame(rows, columns=columns)


def stratum_balance(adsl: pd.DataFrame, factors, arms=None, *, arm_column: str = "ARM") -> pd.DataFrame:
    """Patients per arm within each stratum (each combination of the `factors`' values).

    Requires `arm_column` and every factor column. Missing factor values form their own stratum
    "(missing)". Columns: <factors...>, <arms...> (counts), Total, ratio ("n1:n2[:n3]"),
    difference (largest minus smallest arm count), excess (difference beyond what equal allocation
    cannot avoid: 1 when the stratum total is not a multiple of the number of arms, else 0),
    share_first (% of the stratum in the first arm). Strata are sorted by factor values.
    """
    factors = list(factors)
    if not factors:
        raise ValueError("stratum_balance needs at least one stratification factor")
    require_columns(adsl, [arm_column, *factors], "stratum_balance")
    arm_names = _arm_names(adsl, arms, arm_column)
    position = {arm: i for i, arm in enumerate(arm_names)}
    texts = [_as_text(adsl[f]) for f in factors]
    tally: dict[tuple, list[int]] = {}
    for i, arm in enumerate(adsl[arm_column].tolist()):
        if arm in position:
            key = tuple("(missing)" if t[i] is None else t[i] for t in texts)
            tally.setdefault(key, [0] * len(arm_names))[position[arm]] += 1
    keys = sorted(tally, key=lambda k: tuple(_level_key(f, v) for f, v in zip(factors, k)))
    counts = pd.DataFrame(keys, columns=factors, dtype=object)
    matrix = np.array([tally[k] for k in keys], dtype=np.int64).reshape(len(keys), len(arm_names))
    for j, arm in enumerate(arm_names):
        counts[arm] = matrix[:, j]
    counts[TOTAL] = matrix.sum(axis=1)
    counts["ratio"] = [":".join(str(int(n)) for n in row) for row in matrix]
    counts["difference"] = matrix.max(axis=1) - matrix.min(axis=1) if arm_names else 0
    counts["excess"] = counts["difference"] - (counts[TOTAL] % max(len(arm_names), 1) != 0).astype(int)
    counts["share_first"] = 100.0 * matrix[:, 0] / counts[TOTAL].where(counts[TOTAL] > 0) if arm_names else math.nan
    return counts


def allocation_by_site(adsl: pd.DataFrame, arms=None, *, arm_column: str = "ARM") -> pd.DataFrame:
    """Patients per arm at each site: `stratum_balance` over SITEID, with SITENAME when ADSL has it.

    Requires SITEID and `arm_column`; sites in natural order (2 before 10).
    """
    require_columns(adsl, ["SITEID", arm_column], "allocation_by_site")
    table = stratum_balance(adsl, ["SITEID"], arms, arm_column=arm_column)
    if "SITENAME" in adsl.columns:
        names = adsl.drop_duplicates("SITEID").set_index("SITEID")["SITENAME"].astype("string")
        names.index = names.index.astype(str)
        table.insert(1, "SITENAME", table["SITEID"].map(names))
    return table


def allocation_over_time(adsl: pd.DataFrame, arms=None, *, arm_column: str = "ARM", date_column: str = "RANDDT") -> pd.DataFrame:
    """Cumulative patients per arm by randomization date, and the cumulative difference between arms.

    Requires `arm_column` and `date_column` (rows without a date are left out). One row per date.
    Columns: <date_column>, <arms...> (cumulative counts), Total, difference: first minus second arm
    for two arms, largest minus smallest cumulative count for three or more.
    """
    require_columns(adsl, [arm_column, date_column], "allocation_over_time")
    arm_names = _arm_names(adsl, arms, arm_column)
    frame = adsl.loc[adsl[arm_column].isin(arm_names) & adsl[date_column].notna(), [date_column, arm_column]]
    frame = frame.sort_values(date_column, kind="stable")
    codes = frame[arm_column].map({arm: i for i, arm in enumerate(arm_names)}).to_numpy(dtype=np.int64)
    onehot = np.zeros((len(frame), len(arm_names)), dtype=np.int64)
    onehot[np.arange(len(frame)), codes] = 1
    cumulative = onehot.cumsum(axis=0)
    dates = frame[date_column].to_numpy()
    last_of_day = np.r_[dates[1:] != dates[:-1], True] if len(dates) else np.zeros(0, dtype=bool)
    out = pd.DataFrame({date_column: dates[last_of_day]})
    matrix = cumulative[last_of_day]
    for j, arm in enumerate(arm_names):
        out[arm] = matrix[:, j]
    out[TOTAL] = matrix.sum(axis=1)
    if len(arm_names) == 2:
        out["difference"] = matrix[:, 0] - matrix[:, 1]
    else:
        out["difference"] = (matrix.max(axis=1) - matrix.min(axis=1)) if len(arm_names) else 0
    return out


TABLE1_VARIABLE = "Variable"
AVOIDABLE = "Largest avoidable imbalance"


def table1_frame(table: pd.DataFrame, counts: pd.Series) -> pd.DataFrame:
    """Table 1 as shown and downloaded, from `baseline_table` and `arm_counts`: Variable (the variable's
    label on each of its rows, for grouping), Statistic, '<arm> (N = n)' per arm and Total, SMD (3
    decimals, '∞' when infinite, '–' when undefined, '*' when flagged), and with p-values p ('<0.001' or
    3 decimals) and Test; SMD, p and Test on each variable's first row only."""
    require_columns(table, ["variable", "label", "statistic", "smd", "flag"], "table1_frame")
    first = table["variable"].ne(table["variable"].shift())
    labels = table["label"].where(first).ffill()
    out = pd.DataFrame({TABLE1_VARIABLE: labels, "Statistic": table["statistic"]})
    for arm, n in counts.items():
        out[f"{arm} (N = {int(n)})"] = table[arm]
    out["SMD"] = [_smd_text(v, flagged) if is_first else "" for v, flagged, is_first
                  in zip(table["smd"], table["flag"], first)]
    if "p_value" in table.columns:
        out["p"] = [("–" if math.isnan(p) else "<0.001" if p < 0.001 else f"{p:.3f}") if is_first else ""
                    for p, is_first in zip(table["p_value"], first)]
        out["Test"] = [(str(t) or "–") if is_first else "" for t, is_first in zip(table["test"], first)]
    return out.reset_index(drop=True)


def _smd_text(value: float, flagged: bool) -> str:
    if math.isnan(value):
        return "–"
    return ("∞" if math.isinf(value) else f"{value:.3f}") + ("*" if flagged else "")


def strata_frame(strata: pd.DataFrame, factors, arms, labels=None) -> pd.DataFrame:
    """Patients per arm in each stratum (from `stratum_balance` or `allocation_by_site`) as shown and
    downloaded: the factors (under their `labels`), the arms, Total, Ratio, Difference (largest minus
    smallest arm) and AVOIDABLE ('yes' on the strata with the largest imbalance that equal allocation
    could have avoided)."""
    require_columns(strata, [*factors, *arms, TOTAL, "ratio", "difference", "excess"], "strata_frame")
    labels = labels or {}
    worst = strata["excess"].max() if len(strata) else 0
    out = strata[[*factors, *arms, TOTAL]].rename(columns={f: labels.get(f, f) for f in factors})
    return out.assign(Ratio=strata["ratio"], Difference=strata["difference"],
                      **{AVOIDABLE: np.where((strata["excess"] == worst) & (worst > 0), "yes", "")}).reset_index(drop=True)
