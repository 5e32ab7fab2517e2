"""The Response tab: response by visit with the primary endpoint, transitions, swimmer lanes,
time-to-event and the subgroup forest plot, all following the store's filters and data cut."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend for .opts)
import numpy as np
import pandas as pd
import panel as pn
import param
from holoviews.plotting.util import process_cmap

from ..config import RESPONSE_SUBGROUPS, SUBGROUP_MIN_LEVEL_SIZE
from ..model.dataset import TrialDataset
from ..transforms import response as rs
from ..transforms.formatting import format_proportion, short_arm_label
from .base import TabView, link_active, no_patients_message
from .escape import escape_html, escape_markdown, plot_title
from .survival import SurvivalView, left_text_css
from .swimmer import SwimmerView
from .theme import legible, text_on

# Forest plot x edge (percentage points): CIs reaching beyond are drawn to the edge.
FOREST_X_EDGE = 105
# Colour map of the transitions heatmap (cells: patients).
TRANSITION_CMAP = "Blues"




def response_status(store, population: str | None = None) -> pd.DataFrame:
    """Per-subject visit outcomes (see `response_status_by_visit`, with the trial's visit windows) of the
    patients matching the filters in `population` (default the sidebar's), kept in the store's memo."""
    population = population or store.population
    dataset = store.dataset
    return store.memo(("response status", population), lambda spec: rs.response_status_by_visit(
        store.subjects_in(population), dataset.adrs, dataset.cutoff, windows=dataset.info.visit_window_days))


def trial_visits(store) -> pd.DataFrame:
    """The trial's response visits (`response_visits` with its visit windows), computed once per session."""
    dataset = store.dataset
    return store.memo_unfiltered("response visits", lambda: rs.response_visits(
        dataset.adrs, windows=dataset.info.visit_window_days))


def population_line(store, subjects: pd.DataFrame) -> str:
    """'ITT population, 203 patients (MSC 101, Control 102); data cut 2019-09-30' (Markdown-escaped)."""
    counts = subjects["ARM"].value_counts()
    per_arm = ", ".join(f"{escape_markdown(short_arm_label(a, store.dataset.info.arm_short_labels))} {int(counts.get(a, 0))}" for a in store.dataset.arms
                        if a in counts)
    return (f"{escape_markdown(store.population)} population, {len(subjects)} patients ({per_arm}); "
            f"data cut {store.cutoff.isoformat()}")


def _offer_visits(view, parameter: param.Selector, day: int | None) -> None:
    """Set a visit choice's options to the trial's response visits and its value to the visit at `day`."""
    visits = trial_visits(view.store)
    parameter.objects = visits["AVISIT"].tolist()
    setattr(view, parameter.name, rs.primary_visit(visits, day))


class ResponseByVisitView(TabView):
    """Stacked response categories per visit and arm, overall response with Wilson CIs, the primary endpoint."""

    title = "Response by visit"
    visit = param.Selector(default=None, objects=[], doc="The visit of the between-arm comparison.")

    def __init__(self, **params):
        super().__init__(**params)
        _offer_visits(self, self.param.visit, self.store.dataset.info.primary_visit_day)

    def __panel__(self):
        visit = pn.widgets.Select.from_param(self.param.visit, label="Comparison visit", width=200)
        return pn.Column(
            visit,
            pn.panel(self.bind_active(self._render, self.filtered_subjects, self.param.visit)),
            sizing_mode="stretch_width",
        )

    def _render(self, subjects: pd.DataFrame, visit: str):
        if subjects.empty:
            return no_patients_message(self.store)
        dataset = self.store.dataset
        status = response_status(self.store)
        arms = [a for a in dataset.arms if a in set(subjects["ARM"])]
        counts = rs.response_by_visit(status, arms)
        overall = rs.overall_response_by_visit(status, arms)
        return pn.Column(
            pn.pane.Markdown(population_line(self.store, subjects), styles={"opacity": "0.85"}),
            self._primary(status, arms, visit),
            pn.Row(*[self._bars(counts, arm) for arm in arms], sizing_mode="stretch_width"),
            self._legend(counts),
            pn.Row(self._overall_plot(overall, arms, visit), self._table(overall, arms), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def _primary(self, status, arms, visit):
        dataset = self.store.dataset
        labels = {a: short_arm_label(a, dataset.info.arm_short_labels) for a in arms}
        is_primary = dataset.info.primary_visit_day is not None and (
            status.loc[status["AVISIT"] == visit, "DAY"] == dataset.info.primary_visit_day).any()
        sidebar = self.store.population
        population, recorded = (rs.primary_population(dataset.info.primary_population,
                                                      self.store.param.population.objects, sidebar)
                                if is_primary else (sidebar, False))
        if is_primary:
            why = ("the trial's primary analysis population" if recorded else
                   "chosen in the sidebar; the trial's primary analysis population is not recorded")
            heading = f"Primary endpoint, {escape_markdown(population)} population ({why})"
        else:
            heading = f"Between-arm comparison, {escape_markdown(population)} population (chosen in the sidebar)"
        main, main_arms = status, arms
        if population != sidebar:
            subjects = self.store.subjects_in(population)
            main = response_status(self.store, population)
            main_arms = [a for a in arms if a in set(subjects["ARM"])] or arms
        text = self._comparison(main, main_arms, visit, labels)
        if population != sidebar:
            text += (f" *Sensitivity, {escape_markdown(sidebar)} population (chosen in the sidebar, as the rest of this "
                     f"tab):* {self._comparison(status, arms, visit, labels)}")
        return pn.pane.Alert(f"**{heading}: overall response (CR+PR) at {escape_markdown(visit)}.** {text}",
                             alert_type="primary", sizing_mode="stretch_width", css_classes=["response-primary"])

    @staticmethod
    def _comparison(status, arms, visit, labels) -> str:
        """The between-arm comparison at a visit in words (escaped), or one arm's responders."""
        if len(arms) < 2:
            return (f"Only {escape_markdown(labels[arms[0]])} patients match the filters: no between-arm comparison. "
                    + format_proportion(*rs.responders_at(status, visit, arms[0]))
                    + f" responded at {escape_markdown(visit)}.")
        control = rs.control_arm(arms)
        return " ".join(escape_markdown(rs.comparison_sentence(rs.compare_response(status, visit, arm, control), labels))
                        for arm in arms if arm != control)

    @staticmethod
    def _legend(counts):
        """One legend shared by the arms' stacked bars (keeps their frames equally wide)."""
        colors = rs.category_colors(list(counts["STATUS"].cat.categories))
        swatches = "".join(
            f'<span style="white-space:nowrap;margin-right:14px"><span style="display:inline-block;width:12px;'
            f'height:12px;background:{color};border:1px solid #666;margin-right:4px;vertical-align:-1px"></span>'
            f"{escape_html(cat)}</span>" for cat, color in colors.items())
        return pn.pane.HTML(f"<div>Response category: {swatches}</div>", css_classes=["response-legend"],
                            sizing_mode="stretch_width", margin=(0, 10, 10, 60))

    def _bars(self, counts, arm):
        dataset = self.store.dataset
        d = counts.loc[counts["ARM"] == arm].copy()
        cats = list(d["STATUS"].cat.categories)
        colors = rs.category_colors(cats)
        d["STATUS"] = d["STATUS"].astype(str)
        d["n/N"] = d["n"].astype(str) + "/" + d["N"].astype(str)
        n_arm = int(d["N"].iloc[0]) if len(d) else 0
        bars = hv.Bars(d, kdims=["AVISIT", "STATUS"], vdims=["pct", "n/N"]).opts(
            stacked=True, cmap=colors, tools=["hover"], ylim=(0, 100), responsive=True, height=320,
            ylabel="Patients (%)", xlabel="Visit", line_color="#666666",
            title=plot_title(f"{short_arm_label(arm, dataset.info.arm_short_labels)} (N={n_arm})"), show_legend=False, active_tools=[],
        )
        return pn.pane.HoloViews(bars, sizing_mode="stretch_width", min_width=320)

    def _overall_plot(self, overall, arms, visit):
        dataset = self.store.dataset
        colors = dataset.arm_colors
        layers = []
        for i, arm in enumerate(arms):
            d = overall.loc[(overall["ARM"] == arm) & (overall["evaluated"] > 0)].copy()
            d["x"] = d["DAY"] + (i - (len(arms) - 1) / 2) * 0.8  # dodge the arms' CIs
            d["arm"] = short_arm_label(arm, dataset.info.arm_short_labels)
            d["err_lo"] = d["pct"] - d["ci_low"]
            d["err_hi"] = d["ci_high"] - d["pct"]
            label = short_arm_label(arm, dataset.info.arm_short_labels)
            layers += [
                hv.Curve(d, "x", ["pct", "label", "AVISIT", "arm"], label=label).opts(color=colors[arm], line_width=2),
                hv.ErrorBars(d, "x", ["pct", "err_lo", "err_hi"]).opts(color=colors[arm], line_width=1.5),
                hv.Scatter(d, "x", ["pct", "label", "AVISIT", "arm"], label=label).opts(
                    color=colors[arm], size=7, tools=["hover"]),
            ]
        days = sorted(overall["DAY"].dropna().unique())
        pad = max(3.0, 0.05 * (days[-1] - days[0])) if days else 3.0
        day = overall.loc[overall["AVISIT"] == visit, "DAY"]
        if len(day):
            layers.append(hv.VLine(float(day.iloc[0])).opts(color=self.ink.guide, line_dash="dashed"))
        return pn.pane.HoloViews(
            hv.Overlay(layers).opts(
                title="Overall response (CR+PR) with 95% Wilson CI", xlabel="Study day", ylabel="Responders (%)",
                ylim=(0, 105), responsive=True, height=320, legend_position="bottom_right", active_tools=[],
                xlim=(days[0] - pad, days[-1] + pad) if days else None, xticks=[int(d) for d in days] or None,
            ),
            sizing_mode="stretch_width", min_width=380,
        )

    def _table(self, overall, arms):
        dataset = self.store.dataset
        rows = overall.assign(cell=[
            (f"{lab} [{lo:.1f}–{hi:.1f}]" if e else lab) + (f"; {p} pending" if p else "")
            for lab, lo, hi, e, p in zip(overall["label"], overall["ci_low"], overall["ci_high"],
                                         overall["evaluated"], overall["pending"])
        ])
        table = rows.pivot(index="AVISIT", columns="ARM", values="cell")
        table = table.reindex(index=overall.drop_duplicates("AVISIT").sort_values("DAY")["AVISIT"], columns=arms)
        table.columns = [short_arm_label(a, dataset.info.arm_short_labels) for a in table.columns]
        table.index.name = "Visit"
        return pn.Column(
            pn.pane.Markdown("**Overall response n/N (%) [95% Wilson CI]**. N = patients whose visit was due; "
                             "died or not assessed count as non-response; pending = visit after the data cut."),
            pn.pane.DataFrame(table, escape=True, sizing_mode="stretch_width", css_classes=["response-table"]),
            sizing_mode="stretch_width", min_width=360,
        )


def cell_color(value: float, clim: tuple[float, float], palette: list[str]) -> str:
    """The colour a linear colour mapper over `clim` gives `value` (Bokeh's binning of `palette`)."""
    low, high = clim
    index = int((value - low) / (high - low) * len(palette)) if high > low else 0
    return palette[min(max(index, 0), len(palette) - 1)]


class TransitionsView(TabView):
    """How patients move between response categories from one visit to another, by arm (matrix heatmaps)."""

    title = "Transitions"
    start = param.Selector(default=None, objects=[], doc="The visit patients move from (rows).")
    end = param.Selector(default=None, objects=[], doc="The visit patients move to (columns).")

    def __init__(self, **params):
        super().__init__(**params)
        info = self.store.dataset.info
        visits = trial_visits(self.store)
        self.param.start.objects = self.param.end.objects = visits["AVISIT"].tolist()
        self.start, self.end = rs.transition_visits(visits, info.primary_visit_day, info.durable_visit_day)

    def __panel__(self):
        start = pn.widgets.Select.from_param(self.param.start, label="From visit", width=180)
        end = pn.widgets.Select.from_param(self.param.end, label="To visit", width=180)
        return pn.Column(
            pn.Row(start, end),
            pn.panel(self.bind_active(self._render, self.filtered_subjects, self.param.start, self.param.end)),
            sizing_mode="stretch_width",
        )

    def _render(self, subjects, start, end):
        if subjects.empty:
            return no_patients_message(self.store)
        dataset = self.store.dataset
        arms = [a for a in dataset.arms if a in set(subjects["ARM"])]
        status = response_status(self.store)
        tr = rs.response_transitions(status, start, end, arms)
        cats = list(tr["FROM"].cat.categories)
        clim = (0, max(1, int(tr["n"].max())))
        palette = process_cmap(TRANSITION_CMAP, ncolors=256)
        plots = []
        for arm in arms:
            d = tr.loc[tr["ARM"] == arm].assign(FROM=lambda f: f["FROM"].astype(str), TO=lambda f: f["TO"].astype(str))
            d["text"] = d["n"].astype(str).where(d["n"] > 0, "")
            d["row %"] = d["pct_of_from"].round(1)
            # Each number in black or white, whichever reads on its cell's colour.
            d["ink"] = [text_on(cell_color(n, clim, palette)) for n in d["n"]]
            heat = hv.HeatMap(d, ["TO", "FROM"], ["n", "row %"]).redim.values(TO=cats, FROM=cats[::-1]).opts(
                cmap=palette, tools=["hover"], colorbar=False, active_tools=[], xrotation=30, responsive=True, height=340,
                xlabel=f"Status at {end}", ylabel=f"Status at {start}",
                title=plot_title(f"{short_arm_label(arm, dataset.info.arm_short_labels)} (N={int(d['n'].sum())})"), clim=clim,
            )
            labels = hv.Labels(d, ["TO", "FROM"], ["text", "ink"]).opts(text_font_size="10pt", text_color="ink")
            plots.append(pn.pane.HoloViews(heat * labels, sizing_mode="stretch_width", min_width=340))
        note = pn.pane.Markdown(
            f"Rows: status at {escape_markdown(start)}; columns: status at {escape_markdown(end)}; cells: patients "
            "(hover for the row percentage). Every filtered patient appears once per arm.")
        return pn.Column(note, pn.Row(*plots, sizing_mode="stretch_width"), sizing_mode="stretch_width")


class SubgroupView(TabView):
    """Forest plot of the between-arm response difference across baseline subgroups, with interaction p."""

    title = "Subgroups"
    visit = param.Selector(default=None, objects=[], doc="The visit whose response the forest plot compares.")

    def __init__(self, **params):
        super().__init__(**params)
        _offer_visits(self, self.param.visit, self.store.dataset.info.primary_visit_day)

    def __panel__(self):
        visit = pn.widgets.Select.from_param(self.param.visit, label="Visit", width=200)
        return pn.Column(
            visit,
            pn.panel(self.bind_active(self._render, self.filtered_subjects, self.param.visit)),
            sizing_mode="stretch_width",
        )

    def _render(self, subjects, visit):
        if subjects.empty:
            return no_patients_message(self.store)
        dataset = self.store.dataset
        arms = [a for a in dataset.arms if a in set(subjects["ARM"])]
        if len(arms) < 2:
            return pn.pane.Alert("The forest plot compares arms; the filters leave only one arm.", alert_type="info")
        control = rs.control_arm(arms)
        treatment = next(a for a in arms if a != control)
        status = response_status(self.store)
        sub = rs.forest_plot_rows(status, subjects, visit, treatment, control, RESPONSE_SUBGROUPS,
                                  min_level_size=SUBGROUP_MIN_LEVEL_SIZE)
        t, c = short_arm_label(treatment, dataset.info.arm_short_labels), short_arm_label(control, dataset.info.arm_short_labels)
        if sub.empty:
            return pn.pane.Alert("No baseline subgroup with at least two levels in the filtered patients.", alert_type="info")
        overall_diff = sub["diff"].iloc[0]
        sub["Row"] = np.arange(len(sub))[::-1].astype(float)
        sub["row"] = [f"{g}: {lvl} ({nt + nc})" if lvl else f"{g} ({nt + nc})"
                      for g, lvl, nt, nc in zip(sub["SUBGROUP"], sub["LEVEL"], sub["N_t"], sub["N_c"])]
        for col in ("diff", "diff_low", "diff_high"):
            sub[col + "_pp"] = (100 * sub[col]).clip(-FOREST_X_EDGE, FOREST_X_EDGE)
        sub[t] = [format_proportion(n, N) for n, N in zip(sub["n_t"], sub["N_t"])]
        sub[c] = [format_proportion(n, N) for n, N in zip(sub["n_c"], sub["N_c"])]
        sub["Difference (95% CI)"] = [
            f"{100 * d:+.1f} ({100 * lo:+.1f} to {100 * hi:+.1f})" if e and not np.isnan(lo) else "not estimable"
            for d, lo, hi, e in zip(sub["diff"], sub["diff_low"], sub["diff_high"], sub["ESTIMABLE"])]
        sub["p interaction"] = sub["p_interaction"].map(lambda p: "" if pd.isna(p) else f"{p:.3f}")
        ok = sub.loc[sub["ESTIMABLE"]].dropna(subset=["diff_low"])
        missing = sub.loc[~sub.index.isin(ok.index)].assign(x=-FOREST_X_EDGE + 2, text="not estimable")
        ink = self.ink
        forest = (
            hv.Segments(ok.assign(Row1=ok["Row"]), ["diff_low_pp", "Row", "diff_high_pp", "Row1"]).opts(
                color=ink.text, line_width=2)
            * hv.Scatter(ok, "diff_pp", ["Row", "row", t, c, "Difference (95% CI)", "p interaction"]).opts(
                color=dataset.arm_colors[treatment], size=9, marker="square", tools=["hover"])
            * hv.Labels(missing, ["x", "Row"], "text").opts(text_align="left", text_color=ink.muted, text_font_size="9pt")
            * hv.VLine(0).opts(color=ink.guide)
        )
        if not np.isnan(overall_diff):
            forest *= hv.VLine(100 * overall_diff).opts(
                color=legible(dataset.arm_colors[treatment], ink.background, 3), line_dash="dashed")
        # Not linked to other plots' axes: the swimmer's lanes share no rows with the subgroups.
        forest = forest.opts(
            xlim=(-FOREST_X_EDGE, FOREST_X_EDGE), yticks=list(zip(sub["Row"], sub["row"])), ylim=(-0.7, len(sub) - 0.3),
            height=24 * len(sub) + 90, responsive=True, shared_axes=False,
            xlabel=f"Difference in overall response, {t} minus {c} (percentage points, 95% Newcombe CI)",
            ylabel="", title=plot_title(f"Overall response at {visit}: subgroup differences (dashed line: all patients)"),
            active_tools=[],
        )
        table = sub[["SUBGROUP", "LEVEL", t, c, "Difference (95% CI)", "p interaction"]].rename(
            columns={"SUBGROUP": "Subgroup", "LEVEL": "Level"})
        return pn.Column(
            pn.pane.Markdown(
                "Interaction p: likelihood-ratio test of arm × subgroup in a logistic regression (statsmodels GLM "
                f"binomial). Levels with no patient in an arm or fewer than {SUBGROUP_MIN_LEVEL_SIZE} patients are "
                "not estimable: no difference is drawn and they are left out of the interaction test. Subgroups are "
                "small; read interaction p-values as exploratory. Pending patients are left out."),
            pn.pane.HoloViews(forest, sizing_mode="stretch_width"),
            pn.pane.DataFrame(table, index=False, escape=True, sizing_mode="stretch_width", css_classes=["subgroup-table"],
                              stylesheets=[left_text_css(2)]),
            sizing_mode="stretch_width",
        )


class ResponseView(TabView):
    """The efficacy tab: response by visit, transitions, swimmer lanes, time-to-event and subgroups."""

    title = "Response"
    reads_tables = ("adsl", "adrs", "adtte")

    @classmethod
    def unavailable_reason(cls, dataset: TrialDataset) -> str | None:
        if dataset.has("adrs") or dataset.has("adtte"):
            return None
        return "Response needs response assessments (ADRS) or time-to-event data (ADTTE); this trial's data include neither."

    def __init__(self, **params):
        super().__init__(**params)
        dataset, store = self.store.dataset, self.store
        sections = []
        if dataset.has("adrs"):
            sections += [ResponseByVisitView(store=store), TransitionsView(store=store)]
        elif dataset.has("adtte"):  # no response assessments: time to event leads, nothing shown as unavailable
            sections.append(SurvivalView(store=store))
        if self.patient_level:  # lanes open patient profiles
            sections.append(SwimmerView(store=store))
        if dataset.has("adrs") and dataset.has("adtte"):
            sections.append(SurvivalView(store=store))
        if dataset.has("adrs"):
            sections.append(SubgroupView(store=store))
        self.sections = {view.title: view for view in sections}
        """The sub-tab views by title, in order: their own choices (visits, endpoint) are what Show code uses."""

    def __panel__(self):
        tabs = pn.Tabs(*self.sections.items(), dynamic=True, sizing_mode="stretch_width",
                       css_classes=["response-sections"])
        link_active(tabs, list(self.sections.values()), parent=self)
        return tabs
