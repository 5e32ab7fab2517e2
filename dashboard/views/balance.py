"""Arm balance tab: Table 1 by arm with standardized differences, Love plot, allocation, strata."""

from __future__ import annotations

import io
import re

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend that .opts() needs)
import numpy as np
import pandas as pd
import panel as pn
import param

from ..config import SMD_THRESHOLD
from ..transforms.balance import (
    allocation_by_site,
    allocation_over_time,
    TABLE1_VARIABLE,
    arm_counts,
    baseline_table,
    baseline_variables,
    standardized_differences,
    strata_frame,
    stratum_balance,
    table1_frame,
    variable_kind,
    variable_label,
)
from .base import TabView, no_patients_message
from .escape import choice_options, escape_html, escape_markdown, plot_title
from .help import help_toggle
from .tables import DataTable, download_filename
from .theme import CHOICES_CSS, HTML_CSS, LIGHT_INK, PlotInk, group_label_hook

HIGHLIGHT_NOTE = ("largest avoidable imbalance: the largest difference beyond the 1 that equal allocation "
                  "cannot avoid when a total is not a multiple of the number of arms")
# Plot tools without wheel zoom, so that scrolling the page never zooms a plot by accident.
PLOT_TOOLS = ("save", "pan", "box_zoom", "reset")
def short_label(label: str) -> str:
    """A label without its trailing parenthesis, for plot axes ("Sex", "Disease status at transplant")."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", label) or label


def smd_note(arms, threshold: float) -> str:
    """The footnote saying which SMD is shown and when it is flagged."""
    how = "" if len(arms) <= 2 else " The largest over all pairs of arms is shown."
    return (f"SMD: absolute standardized difference (Austin 2009; categorical variables with 3+ levels: "
            f"multivariate SMD of Yang & Dalton 2012).{how} |SMD| > {threshold:g} flagged (*).")


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
        ungated = store.filtered_subjects
        arms = pn.bind(self.arms_shown, store.param.arms)
        empty = subjects.rx.len() == 0
        tabs = pn.Tabs(dynamic=True, sizing_mode="stretch_width", visible=empty.rx.not_())
        table1 = DataTable(
            self.bind_active(self.table1, subjects, arms, self.param.variables, self.param.threshold,
                             self.param.show_pvalues, tab=(tabs, 0)),
            store=store, name_in_file="table1", title="Table 1", export=self.current_table1,
            notes=lambda: self.notes(self.arms_shown(store.arms), self.threshold, self.show_pvalues),
            groupby=[TABLE1_VARIABLE], hidden_columns=[TABLE1_VARIABLE], text_columns=[TABLE1_VARIABLE, "Statistic", "Test"],
            frozen_columns=["Statistic"], sortable=False)
        word = pn.widgets.FileDownload(callback=self._html, filename=download_filename(store, "table1", "html"),
                                       label="Table 1 (HTML, Word-ready)", width=210, margin=(24, 5, 0, 5))
        for button in (table1.csv_button, table1.xlsx_button):
            button.param.update(width=150, margin=(24, 5, 0, 5))
        header = pn.pane.Markdown(pn.bind(self._header, subjects), margin=(0, 10))
        sites = DataTable(
            self.bind_active(self.site_frame, subjects, arms, tab=(tabs, 2)), store=store,
            name_in_file="allocation_by_site", title="Patients per arm at each site", right_aligned=["Ratio"],
            notes=[f"Difference: largest minus smallest arm; {HIGHLIGHT_NOTE}"], frozen_columns=["Site"])
        strata = DataTable(
            self.bind_active(self.strata_table, subjects, arms, self.param.factors, tab=(tabs, 3)), store=store,
            name_in_file="allocation_by_stratum", title="Patients per arm in each stratum", right_aligned=["Ratio"],
            notes=[f"Difference: largest minus smallest arm; {HIGHLIGHT_NOTE}"])
        plot = dict(sizing_mode="stretch_width", linked_axes=False)
        tabs.extend([
            ("Table 1", pn.Column(
                pn.Card(variables, title="Choose Table 1 variables", collapsed=True, sizing_mode="stretch_width",
                        margin=(5, 10)),
                help_toggle("smd"),
                pn.pane.HTML(self.bind_active(self._table1_caption, subjects, tab=(tabs, 0)),
                             sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
                table1.table,
                pn.pane.HTML(self.bind_active(self._table1_notes, subjects, arms, self.param.threshold,
                                              self.param.show_pvalues, tab=(tabs, 0)),
                             sizing_mode="stretch_width", stylesheets=[HTML_CSS]),
            )),
            ("Love plot", pn.Column(help_toggle("smd"), pn.pane.HoloViews(self.dynamic_map(
                self._love, ungated, arms, self.param.variables, self.param.threshold, tab=(tabs, 1)), **plot))),
            ("Allocation", pn.Column(
                pn.pane.HoloViews(self.dynamic_map(self._site_plot, ungated, arms, tab=(tabs, 2)), **plot),
                pn.pane.HTML("<div class='table-title'>Patients per arm at each site (difference: largest minus "
                             f"smallest arm; {escape_html(HIGHLIGHT_NOTE)})</div>", sizing_mode="stretch_width",
                             stylesheets=[HTML_CSS]),
                sites,
                pn.pane.HoloViews(self.dynamic_map(self._drift, ungated, arms, tab=(tabs, 2)), **plot),
            )),
            ("Stratification factors", pn.Column(
                pn.pane.Markdown(self._strata_note(), margin=(0, 10)), factors,
                pn.pane.HTML("<div class='table-title'>Patients per arm in each stratum (difference: largest minus "
                             f"smallest arm; {escape_html(HIGHLIGHT_NOTE)})</div>", sizing_mode="stretch_width",
                             stylesheets=[HTML_CSS]),
                strata,
            )),
        ])
        alert = pn.Column(no_patients_message(store), visible=empty)
        downloads = pn.Row(threshold, show_p, table1.csv_button, table1.xlsx_button, word)
        return pn.Column(header, downloads, alert, tabs, sizing_mode="stretch_width")

    def arms_shown(self, selected) -> list[str]:
        """The trial's arms the arm filter `selected` keeps (every arm when none is selected)."""
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

    def table1(self, subjects, arms, variables, threshold: float, pvalues: bool) -> pd.DataFrame:
        """Table 1 (`table1_frame`) of the subjects, arms and variables (empty without patients)."""
        if subjects.empty:
            return pd.DataFrame()
        table = baseline_table(subjects, variables, arms, threshold=threshold, pvalues=pvalues)
        return table1_frame(table, arm_counts(subjects, arms))

    def current_table1(self) -> pd.DataFrame:
        """Table 1 for the current filters and settings (what the downloads write)."""
        return self.table1(self.store.subjects(), self.arms_shown(self.store.arms), self.variables, self.threshold,
                           self.show_pvalues)

    def _table1_caption(self, subjects) -> str:
        return f"<div class='table-title'>{escape_html(self.caption())}</div>"

    def _table1_notes(self, subjects, arms, threshold: float, pvalues: bool) -> str:
        return "".join(f"<p class='note'>{escape_html(n)}</p>" for n in self.notes(arms, threshold, pvalues))

    def _html(self) -> io.StringIO:
        """Table 1 as a standalone HTML document (opens in Word): caption, table and footnotes, all escaped."""
        table = self.current_table1().style.hide(axis="index").format(escape="html")
        table = table.set_table_styles([{"selector": "th, td", "props": "padding: 2px 8px; text-align: left;"},
                                        {"selector": "table", "props": "border-collapse: collapse;"}])
        notes = "".join(f"<p>{escape_html(n)}</p>"
                        for n in self.notes(self.arms_shown(self.store.arms), self.threshold, self.show_pvalues))
        caption = escape_html(self.caption())
        return io.StringIO(f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{caption}</title></head><body>\n'
                           f"<p><b>{caption}</b></p>\n{table.to_html()}\n{notes}\n</body></html>\n")

    def _love(self, subjects, arms, variables, threshold):
        smd = standardized_differences(subjects, variables, arms)
        return love_plot(smd, threshold, self.arm_colors)

    def _site_plot(self, subjects, arms):
        return site_bars(allocation_by_site(subjects, arms), arms, self.arm_colors, self.ink)

    def site_frame(self, subjects, arms) -> pd.DataFrame:
        """Patients per arm at each site (`strata_frame` of `allocation_by_site`)."""
        if subjects.empty:
            return pd.DataFrame()
        alloc = allocation_by_site(subjects, arms)
        columns = ["SITEID", "SITENAME"] if "SITENAME" in alloc.columns else ["SITEID"]
        return strata_frame(alloc, columns, arms, {"SITEID": "Site", "SITENAME": "Site name"})

    def _drift(self, subjects, arms):
        if "RANDDT" not in subjects.columns:
            return hv.Curve([]).opts(title="No randomization dates in this dataset")
        return drift_curve(allocation_over_time(subjects, arms), arms, self.store.dataset.info.arm_short_labels,
                           self.ink)

    def strata_table(self, subjects, arms, factors) -> pd.DataFrame:
        """Patients per arm in each stratum of the chosen factors (`strata_frame` of `stratum_balance`)."""
        if subjects.empty or not factors:
            return pd.DataFrame()
        return strata_frame(stratum_balance(subjects, factors, arms), factors, arms,
                            {f: _factor_label(f) for f in factors})

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
