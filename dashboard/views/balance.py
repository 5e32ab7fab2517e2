"""Arm balance tab: Table 1 by arm with standardized differences, Love plot, allocation, strata."""

from __future__ import annotations

import io
import math
import re

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend that .opts() needs)
import numpy as np
import pandas as pd
import panel as pn
import param

from ..config import SMD_THRESHOLD
from ..transforms.balance import (
    TOTAL,
    allocation_by_site,
    allocation_over_time,
    arm_counts,
    baseline_table,
    baseline_variables,
    standardized_differences,
    stratum_balance,
    variable_kind,
    variable_label,
)
from .base import TabView, no_patients_message
from .escape import choice_options, csv_download, escape_html, escape_markdown, plot_title, safe_filename
from .help import help_toggle
from .theme import CHOICES_CSS, FLAG_BACKGROUND, FRAME, LIGHT_INK, RULE, SURFACE, TEXT, PlotInk, group_label_hook

HIGHLIGHT_NOTE = ("highlighted: the largest difference beyond the 1 that equal allocation cannot avoid "
                  "when a total is not a multiple of the number of arms")
# Plot tools without wheel zoom, so that scrolling the page never zooms a plot by accident.
PLOT_TOOLS = ("save", "pan", "box_zoom", "reset")
# On screen the colours follow the theme (design variables); the exported file falls back to print colours.
TABLE_CSS = f"""
<style>
table.table1 {{border-collapse: collapse; font-family: Arial, Helvetica, sans-serif; font-size: 13px;
  color: {TEXT};}}
table.table1 caption {{caption-side: top; text-align: left; font-weight: bold; padding: 4px 0 8px 0;}}
table.table1 th, table.table1 td {{border-bottom: 1px solid {RULE}; padding: 3px 8px; text-align: left;
  vertical-align: top;}}
table.table1 thead th {{border-bottom: 2px solid {FRAME}; background: {SURFACE};}}
table.table1 td.num {{text-align: right; white-space: nowrap;}}
table.table1 td.flag {{font-weight: bold; background: {FLAG_BACKGROUND};}}
table.table1 tfoot td {{border: none; font-size: 12px; opacity: 0.85; padding-top: 6px;}}
</style>
"""


def short_label(label: str) -> str:
    """A label without its trailing parenthesis, for plot axes ("Sex", "Disease status at transplant")."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", label) or label


def smd_note(arms, threshold: float) -> str:
    """The footnote saying which SMD is shown and when it is flagged."""
    how = "" if len(arms) <= 2 else " The largest over all pairs of arms is shown."
    return (f"SMD: absolute standardized difference (Austin 2009; categorical variables with 3+ levels: "
            f"multivariate SMD of Yang & Dalton 2012).{how} |SMD| > {threshold:g} flagged (*).")


def table1_html(table: pd.DataFrame, counts: pd.Series, *, threshold: float, caption: str, notes=()) -> str:
    """Table 1 (from `baseline_table`) as a self-contained HTML table; every text escaped."""
    arms = list(counts.index)
    pvalues = "p_value" in table.columns
    head = ["Variable", "Statistic", *[f"{a}\n(N = {int(counts[a])})" for a in arms], "SMD"] + (
        ["p", "Test"] if pvalues else [])
    sizes = table.groupby("variable", sort=False).size()
    out = [TABLE_CSS, '<table class="table1">', f"<caption>{escape_html(caption)}</caption>", "<thead><tr>"]
    out += [f'<th scope="col">{escape_html(h).replace(chr(10), "<br>")}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for variable, block in table.groupby("variable", sort=False):
        span = int(sizes[variable])
        for i, (_, row) in enumerate(block.iterrows()):
            cells = []
            if i == 0:
                cells.append(f'<th scope="row" rowspan="{span}">{escape_html(row["label"])}</th>')
            cells.append(f"<td>{escape_html(row['statistic'])}</td>")
            cells += [f'<td class="num">{escape_html(row[a])}</td>' for a in arms]
            if i == 0:
                smd, flagged = float(row["smd"]), bool(row["flag"])
                text = "–" if math.isnan(smd) else ("∞" if math.isinf(smd) else f"{smd:.3f}") + ("*" if flagged else "")
                cells.append(f'<td class="num{" flag" if flagged else ""}" rowspan="{span}">{text}</td>')
                if pvalues:
                    p = float(row["p_value"])
                    ptext = "–" if math.isnan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")
                    cells.append(f'<td class="num" rowspan="{span}">{escape_html(ptext)}</td>')
                    cells.append(f'<td rowspan="{span}">{escape_html(str(row["test"]) or "–")}</td>')
            out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody><tfoot>")
    for note in notes:
        out.append(f'<tr><td colspan="{len(head)}">{escape_html(note)}</td></tr>')
    out.append("</tfoot></table>")
    return "\n".join(out)


def table1_csv(table: pd.DataFrame, counts: pd.Series, *, header_lines=()) -> io.StringIO:
    """Table 1 as CSV: arm columns headed "<arm> (N = n)", SMD to 3 decimals, context lines first."""
    arms = list(counts.index)
    out = table.drop(columns=["variable"]).rename(
        columns={"label": "Variable", "statistic": "Statistic", "smd": "SMD", "flag": "SMD flagged",
                 "p_value": "p", "test": "Test", **{a: f"{a} (N = {int(counts[a])})" for a in arms}}
    )
    out["SMD"] = out["SMD"].map(lambda v: "" if pd.isna(v) else ("inf" if math.isinf(v) else f"{v:.3f}"))
    out["SMD flagged"] = out["SMD flagged"].map({True: "yes", False: ""})
    if "p" in out.columns:
        out["p"] = out["p"].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
    return csv_download(out, header_lines)


def love_plot(smd: pd.DataFrame, threshold: float, colors: dict[str, str]) -> hv.Overlay:
    """Dot plot of |SMD| per variable (one marker per pair of arms) with the flag threshold line.

    Infinite or undefined SMDs are not drawn; the title says how many were left out.
    """
    frame = smd.assign(
        Variable=smd["label"].map(short_label),
        Comparison=smd["arm_b"].astype(str) + " vs " + smd["arm_a"].astype(str),
        SMD=smd["smd"],
    )
    finite = frame.loc[np.isfinite(frame["SMD"].to_numpy(dtype=float))]
    left_out = frame.loc[~frame.index.isin(finite.index), "Variable"].nunique()
    order = list(dict.fromkeys(frame["Variable"]))[::-1]
    xmax = max([threshold * 2, 0.3, *(finite["SMD"] * 1.1)])
    pairs = list(dict.fromkeys(frame["Comparison"]))
    palette = list(colors.values())
    layers = [
        hv.Points(finite[finite["Comparison"] == pair], ["SMD", "Variable"], ["Comparison"], label=pair).opts(
            color=palette[(i + 1) % len(palette)] if len(pairs) > 1 else "#0072B2", size=9,
            marker=["circle", "square", "triangle", "diamond"][i % 4], tools=["hover"],
        )
        for i, pair in enumerate(pairs)
    ]
    title = f"Love plot: |SMD| by variable (dashed line: {threshold:g})"
    if left_out:
        title += f"; {left_out} variable(s) with infinite/undefined SMD not drawn"
    line = hv.VLine(threshold).opts(color="#D55E00", line_dash="dashed", line_width=2)
    return hv.Overlay([*layers, line]).redim.values(Variable=order).opts(
        height=max(260, 26 * len(order) + 110 + (24 * len(pairs) if len(pairs) > 1 else 0)), responsive=True,
        show_legend=len(pairs) > 1, legend_position="bottom", xlim=(0, xmax), ylabel="", xlabel="Absolute standardized difference",
        title=title, toolbar="above", default_tools=list(PLOT_TOOLS),
    )


def site_bars(alloc: pd.DataFrame, arms, colors: dict[str, str], ink: PlotInk = LIGHT_INK) -> hv.Bars:
    """Grouped bars: patients per arm at each site, in the arms' colours (site labels in the theme's ink)."""
    long = alloc.melt(id_vars=["SITEID"], value_vars=list(arms), var_name="Arm", value_name="Patients")
    long["Site"] = long["SITEID"].astype(str)
    return hv.Bars(long, ["Site", "Arm"], "Patients").redim.values(Arm=list(arms)).opts(
        color="Arm", cmap={a: colors[a] for a in arms}, responsive=True, height=300,
        tools=["hover"], xlabel="Site", ylabel="Patients randomized", title="Allocation by site",
        multi_level=False, show_legend=True, legend_position="top", legend_opts={"orientation": "horizontal"}, toolbar="above",
        default_tools=list(PLOT_TOOLS), hooks=[group_label_hook(ink)],
    )


def drift_curve(over_time: pd.DataFrame, arms, short_labels, ink: PlotInk = LIGHT_INK) -> hv.Overlay:
    """Step curve of the cumulative difference between arms over randomization dates."""
    if len(arms) == 2:
        a, b = (short_labels.get(x, x) for x in arms)
        ylabel, title = f"{a} minus {b} (cumulative)", f"Allocation over time: cumulative {a} − {b}"
    else:
        ylabel, title = "Largest minus smallest arm", "Allocation over time: spread between arm totals"
    curve = hv.Curve(over_time, "RANDDT", ("difference", ylabel)).opts(
        interpolation="steps-post", color="#0072B2", line_width=2, tools=["hover"],
    )
    return (curve * hv.HLine(0).opts(color=ink.guide, line_dash="dotted")).opts(
        responsive=True, height=280, xlabel="Randomization date", title=plot_title(title), toolbar="above",
        default_tools=list(PLOT_TOOLS),
    )


def strata_html(strata: pd.DataFrame, factors, arms, caption: str) -> str:
    """Patients per arm in each stratum (from `stratum_balance`) as HTML; the largest avoidable
    imbalance (`excess` > 0) highlighted."""
    worst = strata["excess"].max() if len(strata) else 0
    head = [_factor_label(f) for f in factors] + [*arms, TOTAL, "Ratio", "Difference"]
    out = [TABLE_CSS, f'<table class="table1"><caption>{escape_html(caption)}</caption><thead><tr>']
    out += [f'<th scope="col">{escape_html(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for _, row in strata.iterrows():
        flagged = worst > 0 and row["excess"] == worst
        cells = [f"<td>{escape_html(row[f])}</td>" for f in factors]
        cells += [f'<td class="num">{int(row[a])}</td>' for a in [*arms, TOTAL]]
        cells += [f'<td class="num">{escape_html(row["ratio"])}</td>',
                  f'<td class="num{" flag" if flagged else ""}">{int(row["difference"])}</td>']
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


class BalanceView(TabView):
    """Arm balance: Table 1 with SMDs, Love plot, allocation by site and over time, strata."""

    title = "Arm balance"
    required_tables = ()

    variables = param.ListSelector(default=[], objects=[], doc="Baseline variables shown in Table 1, in order.")
    threshold = param.Number(default=SMD_THRESHOLD, bounds=(0, 5), step=0.05,
                             doc="Flag variables whose absolute standardized difference exceeds this.")
    show_pvalues = param.Boolean(default=False, doc="Show between-arm p-values (off: randomized-trial convention).")
    factors = param.ListSelector(default=[], objects=[], doc="Stratification factors whose strata are checked.")

    def __init__(self, **params):
        super().__init__(**params)
        adsl = self.store.dataset.adsl
        present = baseline_variables(adsl)
        self.param.variables.objects = present
        categorical = [v for v in present if variable_kind(adsl[v]) != "continuous"]
        protocol = [f for f in self.store.dataset.info.stratification_factors if f in adsl.columns]
        self.param.factors.objects = list(dict.fromkeys(protocol + ["SITEID"] + categorical))
        self.protocol_factors = tuple(protocol)
        self.all_arms = tuple(self.store.dataset.arms)
        self.param.update(variables=params.get("variables", present),
                          factors=params.get("factors", protocol or ["SITEID"]))

    def __panel__(self):
        store = self.store
        variables = pn.widgets.MultiChoice.from_param(
            self.param.variables, name="Table 1 variables",
            options=choice_options({variable_label(v): v for v in self.param.variables.objects}), sizing_mode="stretch_width",
            solid=False, stylesheets=[CHOICES_CSS],
        )
        threshold = pn.widgets.FloatInput.from_param(self.param.threshold, name="Flag |SMD| above", width=140)
        show_p = pn.widgets.Checkbox.from_param(
            self.param.show_pvalues, name="Show p-values (not conventional in randomized trials)", margin=(28, 10, 0, 10),
        )
        factors = pn.widgets.MultiChoice.from_param(
            self.param.factors, name="Stratification factors (cross-classified)",
            options=choice_options({_factor_label(f): f for f in self.param.factors.objects}), sizing_mode="stretch_width",
            solid=False, stylesheets=[CHOICES_CSS],
        )
        subjects = self.filtered_subjects
        arms = pn.bind(self._arms, store.param.arms)
        empty = subjects.rx.len() == 0
        csv = pn.widgets.FileDownload(callback=self._csv, filename=self._filename("csv"), label="Table 1 (CSV)",
                                      width=150, margin=(24, 5, 0, 5))
        word = pn.widgets.FileDownload(callback=self._html, filename=self._filename("html"),
                                       label="Table 1 (HTML, Word-ready)", width=210, margin=(24, 5, 0, 5))
        header = pn.pane.Markdown(pn.bind(self._header, subjects), margin=(0, 10))
        tabs = pn.Tabs(dynamic=True, sizing_mode="stretch_width", visible=empty.rx.not_())
        table_in = _shown_only(tabs, 0, subjects, arms, self.param.variables, self.param.threshold, self.param.show_pvalues)
        love_in = _shown_only(tabs, 1, subjects, arms, self.param.variables, self.param.threshold)
        allocation_in = _shown_only(tabs, 2, subjects, arms)
        strata_in = _shown_only(tabs, 3, subjects, arms, self.param.factors)
        plot = dict(sizing_mode="stretch_width", linked_axes=False)
        tabs.extend([
            ("Table 1", pn.Column(
                pn.Card(variables, title="Choose Table 1 variables", collapsed=True, sizing_mode="stretch_width",
                        margin=(5, 10)),
                help_toggle("smd"),
                pn.pane.HTML(pn.bind(self._table1_html, table_in), sizing_mode="stretch_width"),
            )),
            ("Love plot", pn.Column(help_toggle("smd"), pn.pane.HoloViews(_live_plot(self._love, love_in), **plot))),
            ("Allocation", pn.Column(
                pn.pane.HoloViews(_live_plot(self._site_plot, allocation_in), **plot),
                pn.pane.HTML(pn.bind(self._site_table, allocation_in), sizing_mode="stretch_width"),
                pn.pane.HoloViews(_live_plot(self._drift, allocation_in), **plot),
            )),
            ("Stratification factors", pn.Column(
                pn.pane.Markdown(self._strata_note(), margin=(0, 10)), factors,
                pn.pane.HTML(pn.bind(self._strata, strata_in), sizing_mode="stretch_width"),
            )),
        ])
        alert = pn.Column(no_patients_message(store), visible=empty)
        return pn.Column(header, pn.Row(threshold, show_p, csv, word), alert, tabs, sizing_mode="stretch_width")

    def _arms(self, selected) -> list[str]:
        return [a for a in self.all_arms if not selected or a in selected]

    def _header(self, subjects: pd.DataFrame) -> str:
        return (f"**{self.store.population} population**: {self.store.summary()} · data cut "
                f"**{self.store.cutoff.isoformat()}** · arms are compared by standardized difference (SMD).")

    def caption(self) -> str:
        """Title line of Table 1 and its exports: trial, population, patients and data cut."""
        info = self.store.dataset.info
        return (f"Table 1. Baseline characteristics by arm, {info.registry_id} ({self.store.population} population, "
                f"{self.store.summary()}); data cut {self.store.cutoff.isoformat()}")

    def notes(self, arms, threshold: float, pvalues: bool) -> list[str]:
        """Footnotes of Table 1: statistics shown, SMD definition and flag, p-value tests, data source."""
        notes = ["Continuous: median (IQR), mean (SD), min, max. Categorical: n (% of the arm's patients); "
                 "'Missing' rows count patients without a value.", smd_note(arms, threshold)]
        if pvalues:
            notes.append("p: the test of each row is named next to it: Wilcoxon rank-sum (2 arms) / Kruskal-Wallis "
                         "(3+ arms) for continuous variables; Pearson chi-square without continuity correction, or "
                         "Fisher's exact for a 2x2 table with an expected count below 5, for categorical ones; "
                         "descriptive only: baseline differences in a randomized trial arise by chance.")
        notes.append(self.store.dataset.provenance_text())
        return notes

    def _table1_html(self, inputs) -> str:
        subjects, arms, variables, threshold, pvalues = inputs
        if subjects.empty:
            return ""
        table = baseline_table(subjects, variables, arms, threshold=threshold, pvalues=pvalues)
        return table1_html(table, arm_counts(subjects, arms), threshold=threshold, caption=self.caption(),
                           notes=self.notes(arms, threshold, pvalues))

    def current_table(self) -> tuple[pd.DataFrame, pd.Series, list[str]]:
        """Table 1 for the current filters and settings, its arm counts and arms (what exports write)."""
        subjects = self.store.subjects()
        arms = self._arms(self.store.arms)
        table = baseline_table(subjects, self.variables, arms, threshold=self.threshold, pvalues=self.show_pvalues)
        return table, arm_counts(subjects, arms), arms

    def _csv(self) -> io.StringIO:
        table, counts, arms = self.current_table()
        lines = [self.caption(), *self.notes(arms, self.threshold, self.show_pvalues)]
        return table1_csv(table, counts, header_lines=lines)

    def _html(self) -> io.StringIO:
        table, counts, arms = self.current_table()
        body = table1_html(table, counts, threshold=self.threshold, caption=self.caption(),
                           notes=self.notes(arms, self.threshold, self.show_pvalues))
        return io.StringIO(f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape_html(self.caption())}'
                           f"</title></head><body>\n{body}\n</body></html>\n")

    def _filename(self, ext: str) -> str:
        return f"{safe_filename(self.store.dataset.info.registry_id)}_table1_cut{self.store.cutoff.isoformat()}.{ext}"

    def _love(self, inputs):
        subjects, arms, variables, threshold = inputs
        smd = standardized_differences(subjects, variables, arms)
        return love_plot(smd, threshold, self.store.dataset.arm_colors)

    def _site_plot(self, inputs):
        subjects, arms = inputs
        return site_bars(allocation_by_site(subjects, arms), arms, self.store.dataset.arm_colors, self.ink)

    def _site_table(self, inputs) -> str:
        subjects, arms = inputs
        if subjects.empty:
            return ""
        alloc = allocation_by_site(subjects, arms)
        columns = ["SITEID", "SITENAME"] if "SITENAME" in alloc.columns else ["SITEID"]
        return strata_html(alloc, columns, arms, "Patients per arm at each site (difference: largest minus "
                           f"smallest arm; {HIGHLIGHT_NOTE})")

    def _drift(self, inputs):
        subjects, arms = inputs
        if "RANDDT" not in subjects.columns:
            return hv.Curve([]).opts(title="No randomization dates in this dataset")
        return drift_curve(allocation_over_time(subjects, arms), arms, self.store.dataset.info.arm_short_labels,
                           self.ink)

    def _strata(self, inputs) -> str:
        subjects, arms, factors = inputs
        if subjects.empty or not factors:
            return ""
        return strata_html(stratum_balance(subjects, factors, arms), factors, arms,
                           f"Patients per arm in each stratum (difference: largest minus smallest arm; {HIGHLIGHT_NOTE})")

    def _strata_note(self) -> str:
        if self.protocol_factors:
            names = ", ".join(_factor_label(f) for f in self.protocol_factors)
            return (f"Randomization was stratified by **{escape_markdown(names)}**. Each row is one stratum "
                    "(a combination of the chosen factors).")
        return ("The protocol's stratification factors are not recorded for this trial; "
                "choose factors to check balance within their strata.")


def _factor_label(factor: str) -> str:
    if factor == "SITEID":
        return "Site"
    return re.sub(r"^Stratification factor:\s*", "", short_label(variable_label(factor)))


def _shown_only(tabs: pn.Tabs, index: int, *refs):
    """The refs' current values as one reactive tuple that changes only while sub-tab `index` is shown.

    Panes in hidden sub-tabs then do no work on a filter change; opening the sub-tab brings them up to
    date. The first value is computed at once; unchanged inputs (same objects) never recompute.
    """
    last: list[tuple] = []

    def values(active, *current):
        if last and (active != index or all(a is b for a, b in zip(current, last[0]))):
            raise param.Skip
        last[:] = [current]
        return current

    return pn.rx(pn.bind(values, tabs.param.active, *refs))


def _live_plot(render, inputs) -> hv.DynamicMap:
    """A plot of `render(inputs)` redrawn in place (not rebuilt) each time the reactive `inputs` change.

    The inputs reach the plot through a Pipe stream, so a plot follows only its gated inputs
    (`_shown_only`), not every parameter upstream of them.
    """
    pipe = hv.streams.Pipe(data=inputs.rx.value)
    inputs.rx.watch(pipe.send)
    return hv.DynamicMap(lambda data: render(data), streams=[pipe])
