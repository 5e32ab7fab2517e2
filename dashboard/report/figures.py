"""Static figures of the meeting pack: matplotlib SVG drawn from the frames the transforms return.

Arms are told apart by colour and, for black-and-white print, by line style and marker. Every text
from the data reaches matplotlib as plain text (no mathtext), and the SVG keeps text as text.
"""

from __future__ import annotations

import io
import threading
from contextlib import contextmanager

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..config import DAYS_PER_MONTH

# Per arm, in protocol order: line style and marker, so arms stay apart on a black-and-white print.
ARM_STROKES: tuple[tuple[str, str], ...] = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"))
PLAN_COLOR = "#555555"
FONT = {"font.family": "DejaVu Sans", "font.size": 8.5, "svg.fonttype": "none", "text.parse_math": False,
        "axes.spines.top": False, "axes.spines.right": False}


# Packs of several sessions are built in worker threads: matplotlib's style settings are process-wide,
# so one figure is drawn at a time.
_DRAWING = threading.Lock()


@contextmanager
def _figure(**kw):
    """A new figure (no pyplot: nothing registered globally) drawn under the pack's style settings."""
    with _DRAWING, matplotlib.rc_context(FONT):
        yield Figure(**kw)


def stroke(index: int) -> tuple[object, str]:
    """(line style, marker) of the arm at `index` in protocol order."""
    return ARM_STROKES[index % len(ARM_STROKES)]


def svg(figure: Figure) -> str:
    """The figure as an inline SVG element (no XML prolog)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def survival_figure(curves: pd.DataFrame, at_risk: pd.DataFrame, arms, colors, labels, *, ylabel: str,
                    ticks_months) -> str:
    """Step curves with 95% CI bands per arm (from `km_by_arm` / `cumulative_incidence`) and the numbers
    at risk (from `number_at_risk`) in a table under the x axis, at `ticks_months`."""
    with _figure(figsize=(7.0, 3.6 + 0.22 * len(arms))) as figure:
        ax, risk_ax = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [5, 0.55 + 0.3 * len(arms)]})
        for i, arm in enumerate(arms):
            c = curves.loc[curves["ARM"] == arm].sort_values("TIME")
            months = c["TIME"].to_numpy(dtype=float) / DAYS_PER_MONTH
            style, marker = stroke(i)
            ax.fill_between(months, c["lower"], c["upper"], step="post", color=colors[arm], alpha=0.15, linewidth=0)
            ax.step(months, c["estimate"], where="post", color=colors[arm], linestyle=style, linewidth=1.6,
                    label=labels[arm], marker=marker, markevery=max(1, len(months) // 8), markersize=4)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", frameon=False)
        ax.grid(alpha=0.3, linewidth=0.5)
        risk_ax.set_xticks(list(ticks_months))
        risk_ax.set_xlim(-0.03 * max(ticks_months[-1], 1), ticks_months[-1] * 1.04 + 0.01)
        risk_ax.set_yticks(range(len(arms)))
        risk_ax.set_yticklabels([labels[a] for a in arms][::-1])
        risk_ax.set_ylim(-0.6, len(arms) - 0.4)
        for i, arm in enumerate(arms):
            rows = at_risk.loc[at_risk["ARM"] == arm]
            for t, n in zip(rows["TIME"] / DAYS_PER_MONTH, rows["at_risk"]):
                risk_ax.text(t, len(arms) - 1 - i, str(int(n)), ha="center", va="center", color="black")
        risk_ax.tick_params(axis="y", length=0)
        risk_ax.spines["left"].set_visible(False)
        risk_ax.set_xlabel("Months from randomization")
        risk_ax.set_title("Numbers at risk", loc="left", fontsize=8)
        return svg(figure)


def accrual_figure(accrual: pd.DataFrame, arms, colors, labels, *, total_label: str, plan: pd.DataFrame | None,
                   target: int | None) -> str:
    """Cumulative randomized patients over time per arm and in total (from `accrual_over_time`), with
    the planned accrual (from `planned_accrual`) and the target when given."""
    with _figure(figsize=(7.0, 3.0)) as figure:
        ax = figure.subplots()
        series = [(arm, colors[arm], labels[arm], *stroke(i)) for i, arm in enumerate(arms)]
        if len(arms) > 1:
            series.append((total_label, "black", "All arms", "-", None))
        for key, color, label, style, marker in series:
            rows = accrual.loc[accrual["ARM"] == key]
            ax.step(rows["DATE"], rows["N_CUM"], where="post", color=color, linestyle=style, linewidth=1.5,
                    marker=marker, markevery=max(1, len(rows) // 8), markersize=3.5, label=label)
        if plan is not None and len(plan):
            ax.plot(plan["DATE"], plan["N_PLANNED"], color=PLAN_COLOR, linestyle=(0, (2, 2)), linewidth=1.2,
                    label="Plan")
        if target:
            ax.axhline(target, color=PLAN_COLOR, linewidth=0.8, linestyle=":")
            ax.annotate(f"Target {target}", (ax.get_xlim()[0], target), xytext=(2, 2), textcoords="offset points",
                        fontsize=7.5, color=PLAN_COLOR)
        ax.set_ylabel("Patients randomized (cumulative)")
        ax.grid(alpha=0.3, linewidth=0.5)
        ax.legend(loc="lower right", frameon=False)
        return svg(figure)


def response_figure(overall: pd.DataFrame, arms, colors, labels) -> str:
    """Overall response (CR+PR, %) per visit and arm with 95% Wilson CIs (from `overall_response_by_visit`)."""
    with _figure(figsize=(7.0, 2.8)) as figure:
        ax = figure.subplots()
        visits = list(dict.fromkeys(overall.sort_values("DAY")["AVISIT"]))
        width = 0.8 / max(len(arms), 1)
        for i, arm in enumerate(arms):
            rows = overall.loc[overall["ARM"] == arm].set_index("AVISIT").reindex(visits)
            x = np.arange(len(visits)) + (i - (len(arms) - 1) / 2) * width
            _, marker = stroke(i)
            low = (rows["pct"] - rows["ci_low"]).clip(lower=0)
            high = (rows["ci_high"] - rows["pct"]).clip(lower=0)
            ax.errorbar(x, rows["pct"], yerr=[low, high], fmt=marker, color=colors[arm], capsize=3,
                        markersize=5, label=labels[arm], linestyle="none")
        ax.set_xticks(range(len(visits)))
        ax.set_xticklabels(visits)
        ax.set_ylim(0, 100)
        ax.set_ylabel("Overall response, % (95% Wilson CI)")
        ax.grid(axis="y", alpha=0.3, linewidth=0.5)
        ax.legend(loc="best", frameon=False)
        return svg(figure)


def forest_figure(rows: pd.DataFrame, *, treatment: str, control: str) -> str:
    """Response difference (percentage points, 95% Newcombe CI) per subgroup level (from
    `subgroup_response_differences`; levels not estimable are drawn without a point)."""
    with _figure(figsize=(7.0, 0.9 + 0.2 * len(rows))) as figure:
        ax = figure.subplots()
        y = np.arange(len(rows))[::-1]
        diff, low, high = (100 * rows[c].to_numpy(dtype=float) for c in ("diff", "diff_low", "diff_high"))
        ax.hlines(y, low, high, color="black", linewidth=1)
        ax.plot(diff, y, "s", color="black", markersize=4)
        ax.axvline(0, color=PLAN_COLOR, linewidth=0.8, linestyle="--")
        ax.set_yticks(y)
        ax.set_yticklabels([f"{s}: {lvl}" if lvl else str(s) for s, lvl in zip(rows["SUBGROUP"], rows["LEVEL"])])
        ax.set_xlabel(f"Difference in overall response, {treatment} − {control} (percentage points, 95% Newcombe CI)")
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.grid(axis="x", alpha=0.3, linewidth=0.5)
        return svg(figure)
