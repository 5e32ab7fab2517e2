"""Site risk tab: key risk indicators per site (gsm method), funnel plots, flags in words, history and backtest."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param

from ..transforms.enrollment import site_activation
from ..transforms.forecast import forecast_completion
from ..transforms.kri import (AMBER, AMBER_Z, GREEN, KRIS, NOT_ASSESSED, RED, RED_Z, forecast_backtest, funnel_limits,
                              kri_heat_table, kri_history, kri_history_table, site_kris)
from .base import TabView
from .escape import plot_title, table_titles

FLAG_COLORS = {RED: "#c62828", AMBER: "#9a5b00", GREEN: "#2e7d32", NOT_ASSESSED: "#616161"}  # white text >= 4.5:1
TABLE_CSS = """
.tabulator, .tabulator .tabulator-row .tabulator-cell, .tabulator .tabulator-col-title { font-size: 13px !important; }
.tabulator .tabulator-row .tabulator-cell { padding: 3px 6px !important; }
"""
NOTE_CSS = ".note { opacity: 0.85; font-size: 0.9rem; margin: 2px 0; }"


class SiteRiskView(TabView):
    """Site KRIs with funnel-plot flags for the cut shown; with a series, their history and a forecast backtest."""

    title = "Site risk"
    kri = param.Selector(default="ae_rate", objects=list(KRIS), doc="The KRI the funnel plot and history show.")

    @classmethod
    def unavailable_reason(cls, dataset) -> str | None:
        randomized = dataset.randomized
        if "RANDDT" not in randomized or randomized.loc[randomized["RANDDT"].notna(), "SITEID"].nunique() < 2:
            return "Site risk compares sites: it needs randomized patients with randomization dates at two sites or more."
        return None

    def results(self, dataset=None, previous=None) -> pd.DataFrame:
        """`site_kris` of a cut (default: the cut shown, late entry against the compared cut), every randomized
        patient of every site: flags compare sites with each other, so the site filter does not narrow them."""
        dataset = dataset or self.store.dataset
        previous = previous if dataset is not self.store.dataset or previous is not None else self.store.compared
        info = dataset.info
        return self.store.memo_unfiltered(
            ("site KRIs", dataset.cutoff, None if previous is None else previous.cutoff),
            lambda: site_kris(dataset.randomized, dataset.adae, dataset.adrs, dataset.cutoff,
                              visit_days=info.visit_days, visit_windows=info.visit_window_days,
                              ae_collection_days=info.ae_collection_days,
                              previous=None if previous is None else previous.tables(),
                              previous_cutoff=None if previous is None else previous.cutoff))

    def __panel__(self):
        results = pn.rx(self.bind_active(lambda compare: self.results(), self.store.param.compare))
        kris = list(dict.fromkeys(self.results()["KRI"]))
        if not kris:
            return pn.pane.Alert("No key risk indicator can be computed from these data.", alert_type="secondary")
        self.param.kri.objects = kris
        self.kri = self.kri if self.kri in kris else kris[0]
        heat = results.rx.pipe(kri_heat_table).rx.pipe(lambda f: f.rename(columns={"SITEID": "Site"}))
        heat_table = pn.widgets.Tabulator(heat, titles=heat.rx.pipe(lambda f: table_titles(f.columns)), disabled=True,
                                          show_index=False, layout="fit_data_table", selectable=False,
                                          stylesheets=[TABLE_CSS], css_classes=["kri-heat"])
        heat_table.style.map(lambda v: f"background-color: {FLAG_COLORS[v]}; color: white" if v in FLAG_COLORS else "")
        heat_table.on_click(self._on_click)
        kri_select = pn.widgets.Select.from_param(self.param.kri, label="Indicator", width=260,
                                                  options={KRIS[k].label: k for k in self.param.kri.objects})
        funnel = pn.pane.HoloViews(pn.bind(self._funnel, results, self.param.kri), sizing_mode="stretch_width",
                                   height=360)
        flags = pn.widgets.Tabulator(pn.bind(self._flag_texts, results, self.param.kri), disabled=True,
                                     show_index=False, layout="fit_data_stretch", sizing_mode="stretch_width",
                                     selectable=False, stylesheets=[TABLE_CSS], formatters={"Flag in words": {"type": "textarea"}})
        parts = [
            pn.pane.HTML(self._method_note(), stylesheets=[NOTE_CSS], sizing_mode="stretch_width"),
            pn.pane.Markdown("**Site x indicator flags** (click a site to set the site filter)"),
            heat_table, kri_select, funnel, flags,
        ]
        series = self.store.series
        if series is not None and len(series.cuts) > 1:
            history = pn.bind(lambda kri: kri_history_table(self.history(), kri).rename(columns={"SITEID": "Site"}),
                              self.param.kri)
            parts += [pn.pane.Markdown("**Indicator history across data cuts** (flag and value at each cut)"),
                      pn.widgets.Tabulator(history, disabled=True, show_index=False, layout="fit_data_table",
                                           selectable=False, stylesheets=[TABLE_CSS]),
                      pn.pane.Markdown("**Enrollment forecast backtest**: the forecast made at each cut against the "
                                       "date the target was actually reached (80% prediction interval)."),
                      pn.widgets.Tabulator(self.backtest(), disabled=True, show_index=False, layout="fit_data_table",
                                           selectable=False, stylesheets=[TABLE_CSS])]
        return pn.Column(*parts, sizing_mode="stretch_width")

    def history(self) -> pd.DataFrame:
        """KRIs at every cut of the series up to the one shown, late entry against the cut before each."""
        cuts = [c for c in self.store.series.cuts if c.cutoff <= self.store.dataset.cutoff]
        return kri_history({c.cutoff.date().isoformat(): self.results(c, cuts[i - 1] if i else None)
                            for i, c in enumerate(cuts)})

    def backtest(self) -> pd.DataFrame:
        """The enrollment forecast of each cut up to the one shown against what the latest cut shows happened."""
        cuts = [c for c in self.store.series.cuts if c.cutoff <= self.store.dataset.cutoff]
        target = self.store.dataset.info.target_enrollment
        forecasts = {c.cutoff.date().isoformat(): forecast_completion(c.randomized, site_activation(c.adsl, c.sites),
                                                                      c.cutoff, target) for c in cuts}
        table = forecast_backtest(forecasts, self.store.series.latest.randomized["RANDDT"], target)
        for col in ("MEDIAN", "LOWER", "UPPER", "ACTUAL"):
            table[col] = table[col].dt.strftime("%Y-%m-%d").fillna("")
        table["IN_INTERVAL"] = table["IN_INTERVAL"].map({True: "yes", False: "no"}).fillna("")
        return table.rename(columns={"CUT": "Forecast at cut", "RANDOMIZED": "Randomized then", "STATUS": "Status",
                                     "MEDIAN": "Forecast (median)", "LOWER": "80% from", "UPPER": "80% to",
                                     "ACTUAL": f"Target {target} reached", "ERROR_DAYS": "Error (days)",
                                     "IN_INTERVAL": "Within 80%"})

    def _on_click(self, event) -> None:
        """Clicking a site row sets the global site filter (clicking the only selected site clears it)."""
        site = str(event.value) if event.column == "Site" else None
        if site is None:
            heat = kri_heat_table(self.results())
            site = str(heat["SITEID"].iloc[event.row]) if 0 <= event.row < len(heat) else None
        store = self.store
        if site is None or site not in store.param.sites.objects:
            return
        store.sites = [] if list(store.sites) == [site] else [site]

    def _method_note(self) -> str:
        return ("<p class='note'>Key risk indicators per site for data cut "
                f"<b>{self.store.cutoff.isoformat()}</b>, all randomized patients of each site (sites are compared "
                "with each other, so the filters do not narrow them). Method: gsm's normal approximation to the "
                "binomial (proportions) or Poisson (rates) with an over-dispersion factor (floored at 1); "
                f"<b>amber</b> when |z| &ge; {AMBER_Z:g}, <b>red</b> when |z| &ge; {RED_Z:g}. Late data entry compares "
                "with the compared cut and needs a series of cuts.</p>")

    def _funnel(self, results: pd.DataFrame, kri: str):
        kri_def = KRIS[kri]
        rows = results.loc[results["KRI"] == kri]
        limits = funnel_limits(rows, kri_def.kind)
        scale = kri_def.scale
        points = rows.assign(VALUE=rows["METRIC"] * scale, COLOR=rows["FLAG"].map(FLAG_COLORS))
        curves = [hv.Curve((limits["DENOMINATOR"], limits[col] * scale), label=label).opts(color="grey", line_dash=dash)
                  for col, label, dash in (("EXPECTED", "trial-wide", "solid"), ("UPPER_2", "|z| = 2", "dashed"),
                                           ("LOWER_2", "|z| = 2", "dashed"), ("UPPER_3", "|z| = 3", "dotted"),
                                           ("LOWER_3", "|z| = 3", "dotted"))]
        scatter = hv.Points(points, kdims=["DENOMINATOR", "VALUE"], vdims=["SITEID", "FLAG", "NUMERATOR", "COLOR"]).opts(
            color="COLOR", size=10, tools=["hover"], line_color="black")
        return hv.Overlay([*curves, scatter]).opts(
            title=plot_title(f"{kri_def.label}: funnel plot"), xlabel=f"Site size ({kri_def.denominator})",
            ylabel=kri_def.unit, show_legend=False, responsive=True, height=340)

    @staticmethod
    def _flag_texts(results: pd.DataFrame, kri: str) -> pd.DataFrame:
        rows = results.loc[results["KRI"] == kri]
        return pd.DataFrame({"Site": rows["SITEID"].to_numpy(), "Flag": rows["FLAG"].to_numpy(),
                             "Flag in words": rows["TEXT"].to_numpy()})
