"""Enrollment tab: accrual vs plan with a forecast, site performance (click a site to filter), monthly
accrual, CONSORT flow and a tile-free site map."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend that .opts() needs)
import pandas as pd
import panel as pn

from ..config import FORECAST_SIMULATIONS
from ..transforms.enrollment import (ALL_ARMS, accrual_over_time, accrual_rate, accrual_statement, accrual_vs_plan,
                                     activation_at, closed_without_forecast, enrollment_closed, flow_notes,
                                     has_screening_data, locations_by_city, monthly_accrual, plan_period, plan_scope,
                                     planned_accrual, reached_vs_plan, recruitment_end, recruitment_pauses,
                                     screening_funnel, site_activation, site_locations, site_performance)
from ..transforms.forecast import MODEL_HELP, STATUS_FORECAST, STATUS_REACHED, forecast_for_sites
from ..transforms.formatting import plural
from ..transforms.labels import site_labels
from .base import TabView, no_patients_message
from .escape import escape_html, escape_markdown
from .sites import SiteChart
from .tables import DataTable
from .theme import BACKGROUND, FRAME, HTML_CSS, SURFACE, TEXT, legible

TABLE_MAX_ROWS, TABLE_ROW_PX, NAME_COLUMN_PX = 12, 34, 260
# Site table columns frozen at the left: they say which site a row is while the rest scrolls sideways.
FROZEN_SITE_COLUMNS = ("Site", "Name")
FORECAST_COLOR = "#7B3294"
PERFORMANCE_TITLES = {
    "SITEID": "Site", "SITENAME": "Name", "CITY": "City", "RANDOMIZED": "Randomized", "SCREENED": "Screened",
    "SCREEN_FAILURES": "Screen failures", "SF_RATE": "Screen-failure rate (%)", "ACTIVDT": "Activated",
    "MONTHS_ACTIVE": "Months active", "RATE_PER_MONTH": "Patients per site-month", "FIRST_RANDDT": "First patient",
    "DAYS_TO_FIRST": "Days activation to first patient",
}
FLOW_CSS = f"""
<style>
.consort {{font-family: Arial, Helvetica, sans-serif; font-size: 13px; color: {TEXT};}}
.consort .cf-row {{display: flex; justify-content: center; gap: 14px; align-items: flex-start;}}
.consort .cf-box {{border: 1.5px solid {FRAME}; border-radius: 4px; padding: 6px 10px; background: {BACKGROUND};
  min-width: 170px; max-width: 360px;}}
.consort .cf-box b {{display: block; margin-bottom: 2px;}}
.consort .cf-box ul {{margin: 2px 0 0 0; padding-left: 16px;}}
.consort .cf-side {{border-style: dashed; background: {SURFACE};}}
.consort .cf-arrow {{text-align: center; font-size: 16px; line-height: 18px;}}
.consort .cf-arm {{flex: 1 1 0; max-width: 360px; display: flex; flex-direction: column; gap: 0;}}
.consort .cf-note {{opacity: 0.85; font-size: 12px; margin-top: 6px;}}
.consort .cf-pre {{display: grid; grid-template-columns: 1fr minmax(220px, 340px) 1fr; column-gap: 10px;
  align-items: center;}}
.consort .cf-down {{font-size: 22px; line-height: 40px;}}
.consort .cf-across {{display: flex; align-items: center; gap: 6px; margin: 6px 0;}}
</style>
"""


def consort_html(funnel: pd.DataFrame, arms, colors: dict[str, str], missing=(), caption: str = "",
                 screening: bool = True) -> str:
    """The CONSORT flow (from `screening_funnel`) as an HTML diagram; every text escaped.

    Without `screening` data the diagram starts at randomization.
    """

    def n(stage, arm="", detail=""):
        hit = funnel.loc[(funnel["STAGE"] == stage) & (funnel["ARM"] == arm) & (funnel["DETAIL"] == detail), "N"]
        return int(hit.iloc[0]) if len(hit) else None

    def reasons(stage, arm=""):
        rows = funnel.loc[(funnel["STAGE"] == stage) & (funnel["ARM"] == arm) & (funnel["DETAIL"] != "")]
        if rows.empty:
            return ""
        return "<ul>" + "".join(f"<li>{escape_html(r.DETAIL)}: {r.N}</li>" for r in rows.itertuples()) + "</ul>"

    esc = escape_html
    out = [FLOW_CSS, '<div class="consort">']
    if caption:
        out.append(f"<div><b>{esc(caption)}</b></div>")
    randomized_total = sum(n("Randomized", a) or 0 for a in arms)
    screened, excluded = (n("Screened"), n("Excluded")) if screening else (None, None)
    randomized_box = f'<div class="cf-box"><b>Randomized (n = {randomized_total})</b></div>'
    if screened is not None:
        side = (f'<div class="cf-box cf-side"><b>Excluded: screen failures (n = {excluded})</b>'
                f'{reasons("Excluded")}</div>'
                if excluded else '<div class="cf-note">No screen failures recorded</div>')
        out.append('<div class="cf-pre">'
                   f'<div></div><div class="cf-box"><b>Assessed for eligibility (n = {screened})</b></div><div></div>'
                   f'<div></div><div class="cf-arrow cf-down">&#8595;</div><div class="cf-across">&#8594; {side}</div>'
                   f"<div></div>{randomized_box}<div></div></div>")
    else:
        out.append(f'<div class="cf-row">{randomized_box}</div>')
    out.append('<div class="cf-arrow">&#8595;</div><div class="cf-row">')
    for arm in arms:
        r = n("Randomized", arm) or 0
        color = colors.get(arm, "#444")
        cells = [f'<div class="cf-box" style="border-top: 5px solid {esc(color)}"><b>Allocated to {esc(str(arm))} '
                 f"(n = {r})</b>"]
        if n("Treated", arm) is not None:
            cells.append(f"Received treatment: {n('Treated', arm)}<br>"
                         f"Did not receive treatment: {n('Not treated', arm)}")
        cells.append("</div>")
        if n("Status", arm, "Died") is not None:
            cells.append('<div class="cf-arrow">&#8595;</div><div class="cf-box"><b>Follow-up</b>'
                         f"Completed: {n('Status', arm, 'Completed')}<br>Died: {n('Status', arm, 'Died')} · "
                         f"Withdrawn: {n('Status', arm, 'Withdrawn')}{reasons('Withdrawn', arm)}"
                         f"Ongoing at data cut: {n('Status', arm, 'Ongoing')}</div>")
        elif n("Completed", arm) is not None:
            died = n("Died", arm)
            cells.append('<div class="cf-arrow">&#8595;</div><div class="cf-box"><b>Follow-up</b>'
                         f"Completed: {n('Completed', arm)}<br>Withdrawn / discontinued: {n('Discontinued', arm)}"
                         f"{reasons('Discontinued', arm)}Ongoing at data cut: {n('Ongoing', arm)}"
                         + (f"<br>Died (any time): {died}" if died is not None else "") + "</div>")
        if n("Analysed", arm) is not None:
            cells.append('<div class="cf-arrow">&#8595;</div><div class="cf-box"><b>Analysed (n = '
                         f"{n('Analysed', arm)})</b>Excluded from analysis: {n('Not analysed', arm)}</div>")
        out.append('<div class="cf-arm">' + "".join(cells) + "</div>")
    out.append("</div>")
    for note in missing:
        out.append(f'<div class="cf-note">{esc(note)}</div>')
    out.append("</div>")
    return "\n".join(out)


class EnrollmentView(TabView):
    """Enrollment: are we recruiting fast enough, and where not? Accrual, sites, flow and forecast."""

    title = "Enrollment"
    reads_tables = ("adsl", "sites")
    required_tables = ()

    def __panel__(self):
        store = self.store
        dataset = store.dataset
        info = dataset.info
        self._activation = site_activation(dataset.adsl, dataset.sites)
        self._labels = site_labels(dataset.adsl, dataset.sites)
        start_default = info.planned_enrollment_start or self._activation["ACTIVDT"].min()
        target = pn.widgets.IntInput(label="Enrollment target (patients; 0 = none)", value=info.target_enrollment or 0,
                                     start=0, step=10, width=220)
        start = pn.widgets.DatePicker(label="Planned start", width=130,
                                      value=None if pd.isna(start_default) else pd.Timestamp(start_default).date())
        end = pn.widgets.DatePicker(label="Planned completion", width=130,
                                    value=pd.Timestamp(info.planned_enrollment_end).date()
                                    if info.planned_enrollment_end else None)
        show_forecast = pn.widgets.Checkbox(label="Show forecast", value=True, margin=(28, 10, 0, 10))
        subjects = self.filtered_subjects
        empty = subjects.rx.len() == 0
        shown = empty.rx.not_()
        plan = (target.param.value, start.param.value, end.param.value)

        headline = pn.pane.Markdown(pn.bind(self._headline, subjects, *plan), sizing_mode="stretch_width",
                                    margin=(0, 10))
        accrual = pn.pane.HoloViews(pn.bind(self._accrual_plot, subjects, *plan, show_forecast.param.value),
                                    sizing_mode="stretch_width", visible=shown)
        help_text = pn.pane.HTML(f'<p class="note">{escape_html(self._forecast_help())}</p>', stylesheets=[HTML_CSS],
                                 sizing_mode="stretch_width", margin=(0, 10), visible=shown)

        chart = SiteChart(view=self)
        sites = dataset.sites
        if sites is None or not {"LAT", "LON"} <= set(sites.columns) or sites[["LAT", "LON"]].dropna().empty:
            site_map = pn.pane.Markdown("Site map not drawn: the data have no site coordinates "
                                        "(LAT, LON in a sites table).",
                                        margin=(10, 10))
        else:
            site_map = pn.pane.HoloViews(pn.bind(self._site_map, subjects), width=400, visible=shown)

        n_sites = len(self._labels)
        table = DataTable(pn.bind(self._performance_display, subjects), store=store, title="Site performance",
                          name_in_file="site_performance", notes=self._table_notes, layout="fit_data_table",
                          height=None if n_sites <= TABLE_MAX_ROWS else TABLE_ROW_PX * TABLE_MAX_ROWS + 70,
                          widths={"Name": NAME_COLUMN_PX}, formatters={"Name": {"type": "textarea"}},
                          frozen_columns=list(FROZEN_SITE_COLUMNS))
        monthly = pn.pane.HoloViews(pn.bind(self._monthly_plot, subjects), sizing_mode="stretch_width",
                                    visible=shown)
        pauses = pn.pane.Markdown(pn.bind(self._pause_text, subjects), sizing_mode="stretch_width", margin=(0, 10))
        flow = pn.pane.HTML(pn.bind(self._flow_html, subjects), sizing_mode="stretch_width", visible=shown)
        alert = pn.Column(no_patients_message(store), visible=empty)

        return pn.Column(
            headline,
            alert,
            pn.Row(target, start, end, show_forecast),
            accrual,
            help_text,
            pn.pane.Markdown("### Sites", margin=(10, 10, 0, 10)),
            # The map below the bars: a FlexBox holding both (to wrap them) made Panel drop the updates of
            # every tab built after this one when Enrollment was the first tab (a data manager's page).
            pn.Column(chart, site_map, sizing_mode="stretch_width"),
            pn.Column(pn.pane.Markdown(pn.bind(self._table_caption, subjects), margin=(0, 10)), table,
                      sizing_mode="stretch_width", visible=shown),
            pn.pane.Markdown("### Monthly accrual", margin=(10, 10, 0, 10), visible=shown),
            monthly,
            pauses,
            pn.pane.Markdown("### Screening and patient flow (CONSORT)", margin=(10, 10, 0, 10), visible=shown),
            flow,
            sizing_mode="stretch_width",
        )

    # --- plan and forecast -------------------------------------------------------------------------

    def _plan(self, target: int, start, end):
        """(target for the patients shown or None, note, plan period or None) for the plan widgets' values."""
        store = self.store
        scope, note = plan_scope(target, store.filter_spec, store.dataset.sites)
        return scope, note, plan_period(start, end, self._activation, store.sites)

    def _closed(self) -> pd.Timestamp | None:
        """The trial's last randomization date once its target is reached (None while enrollment is open)."""
        dataset = self.store.dataset
        return enrollment_closed(dataset.randomized["RANDDT"], dataset.info.target_enrollment)

    def _forecast(self, target: int):
        """The forecast for the patients shown (see `forecast_for_sites`), kept in the store's memo."""
        store = self.store
        return store.memo(("enrollment forecast", target), lambda spec: forecast_for_sites(
            store.subjects(), self._activation, spec.sites, store.dataset.cutoff, target, self._closed()))

    def _forecast_help(self) -> str:
        return MODEL_HELP.format(n=f"{FORECAST_SIMULATIONS:,}") + (
            " Site activation dates come from the sites table, else each site's first screening date.")

    def _headline(self, subjects, target, start, end) -> str:
        store = self.store
        sites = subjects["SITEID"].nunique()
        parts = [f"**{store.summary()}** randomized ({store.population} population) at {plural(sites, 'site')}"
                 f" · data cut **{store.cutoff.isoformat()}**"]
        scope, note, period = self._plan(target, start, end)
        if note:
            parts.append(note)
        if scope is None:
            return "  \n".join(parts)
        if period is None:
            parts.append("Set a planned start and completion date to compare accrual with the plan.")
        else:
            parts.append("**Plan:** " + accrual_vs_plan(subjects["RANDDT"], scope, *period, store.cutoff))
        result = self._forecast(scope)
        if result is None:
            parts.append(closed_without_forecast(self._closed(), store.dataset.info.target_enrollment, len(subjects),
                                                 scope))
            return "  \n".join(parts)
        label = "**Forecast:** " if result.status == STATUS_FORECAST else ""
        message = escape_html(result.message)
        if result.status == STATUS_REACHED and period is not None:
            message += " " + reached_vs_plan(result.reached_on, end)
        parts.append(label + message)
        if result.status == STATUS_FORECAST and end and pd.Timestamp(end) > pd.Timestamp(store.cutoff):
            p = result.probability_by(end)
            parts.append(f"Chance of reaching {scope} by the planned completion {pd.Timestamp(end).date()}: "
                         f"{100 * p:.0f}% of simulated futures.")
        return "  \n".join(parts)

    def _accrual_plot(self, subjects, target, start, end, show_forecast):
        if subjects.empty or subjects["RANDDT"].isna().all():
            return hv.Curve([]).opts(title="No randomizations to show", responsive=True, height=200)
        store, ink = self.store, self.ink
        colors = store.dataset.arm_colors
        forecast_color = legible(FORECAST_COLOR, ink.background, 3)
        cut = pd.Timestamp(store.cutoff)
        arms = [a for a in store.dataset.arms if a in set(subjects["ARM"])]
        curves = accrual_over_time(subjects, cut, arms=arms)
        layers = []
        shown_dates = [subjects["RANDDT"].min(), subjects["RANDDT"].max()]
        for arm in [*arms, ALL_ARMS]:
            part = curves.loc[curves["ARM"] == arm].rename(columns={"DATE": "Date", "N_CUM": "Patients"})
            if part.empty or (arm == ALL_ARMS and len(arms) < 2):
                continue
            layers.append(hv.Curve(part, "Date", "Patients", label=arm).opts(
                interpolation="steps-post", color=colors.get(arm, ink.text), line_width=3 if arm == ALL_ARMS else 2,
                tools=["hover"]))
        scope, _, period = self._plan(target, start, end)
        if scope is not None and period is not None:
            begin, finish = period
            line = planned_accrual(scope, begin, finish, until=max(cut, finish)).rename(
                columns={"DATE": "Date", "N_PLANNED": "Patients"})
            layers.append(hv.Curve(line, "Date", "Patients", label=f"Plan: {scope} by {finish.date()}").opts(
                color=ink.guide, line_dash="dashed", line_width=2))
            shown_dates += [begin, finish]
        if scope is not None and show_forecast:
            result = self._forecast(scope)
            status = None if result is None else result.status
            if status == STATUS_FORECAST:
                bands = result.bands.rename(columns={"DATE": "Date"})
                layers.append(hv.Area(bands, "Date", ["Q0.025", "Q0.975"], label="Forecast 95% band").opts(
                    color=forecast_color, alpha=0.15, line_alpha=0))
                layers.append(hv.Area(bands, "Date", ["Q0.1", "Q0.9"], label="Forecast 80% band").opts(
                    color=forecast_color, alpha=0.3, line_alpha=0))
                layers.append(hv.Curve(bands, "Date", ("Q0.5", "Patients"), label="Forecast median").opts(
                    color=forecast_color, line_dash="dotted", line_width=2))
                lo, hi = result.interval(0.80)
                layers.append(hv.Segments([(lo, scope, hi, scope)]).opts(color=forecast_color, line_width=6))
                shown_dates.append(bands["Date"].max())
            elif status == STATUS_REACHED:
                layers.append(hv.Scatter([(result.reached_on, scope)], label=f"Target {scope} reached").opts(
                    color=forecast_color, size=10, marker="diamond"))
        # Long after enrollment ended the axis stops a little after the last event, not at the data cut.
        first, last = min(shown_dates), max(shown_dates)
        title = f"Cumulative randomized patients vs plan (data cut {cut.date()})"
        if cut <= last + pd.Timedelta(days=365):
            last = max(last, cut)
            layers.append(hv.VLine(cut).opts(color=ink.guide, line_width=1))
            layers.append(hv.Text(cut, 0, "data cut ", halign="right", valign="bottom").opts(
                text_font_size="10pt", text_color=ink.muted))
        margin = (last - first) * 0.03
        return hv.Overlay(layers).opts(
            responsive=True, height=380, title=title, xlabel="Calendar date", xlim=(first - margin, last + margin),
            ylabel="Patients randomized (cumulative)", legend_position="top_left", toolbar="above",
            active_tools=["box_zoom"],
            show_grid=True, shared_axes=False,
        )

    # --- sites ---------------------------------------------------------------------------------------


    def _site_map(self, subjects):
        sites, ink = self.store.dataset.sites, self.ink
        counts = subjects["SITEID"].astype(str).value_counts()
        loc = locations_by_city(site_locations(sites, counts))
        biggest = max(int(loc["RANDOMIZED"].max()), 1)
        loc = loc.assign(
            Marker=8 + 30 * (loc["RANDOMIZED"] / biggest) ** 0.5,
            Label=[f"{c} ({n} sites)" if n > 1 else str(c) for c, n in zip(loc["CITY"], loc["SITES"])],
        ).rename(columns={"RANDOMIZED": "Randomized", "SITEIDS": "Sites"})
        xlim, ylim = _map_limits(loc["X"], loc["Y"], width=380, height=340)
        points = hv.Points(loc, ["X", "Y"], ["Randomized", "Marker", "Label", "Sites"]).opts(
            size=hv.dim("Marker"), color="#0072B2", alpha=0.6, line_color=ink.guide, tools=["hover"],
            hover_tooltips=[("City", "@Label"), ("Site ids", "@Sites"), ("Randomized", "@Randomized")],
        )
        labels = hv.Labels(loc.assign(Y=loc["Y"] - (ylim[1] - ylim[0]) * 0.06), ["X", "Y"], "Label").opts(
            text_font_size="9pt", text_color=ink.text)
        return (points * labels).opts(
            width=380, height=340, xlim=xlim, ylim=ylim, xaxis=None, yaxis=None, toolbar=None, shared_axes=False,
            title="Sites by city (marker area = randomized)", show_frame=True,
        )

    def _performance(self) -> pd.DataFrame:
        """`site_performance` of the filtered patients at the chosen sites, kept in the store's memo."""
        store = self.store
        dataset = store.dataset

        def compute(spec):
            screened = store.screened() if has_screening_data(dataset.adsl) else None
            # Every arm's column, zeros included: the columns stay the same whatever the filters, so a
            # filter change sends the table new rows only (new columns rebuild it in the browser).
            return site_performance(store.subjects(), screened, activation_at(self._activation, spec.sites),
                                    dataset.cutoff, arms=dataset.arms, sites=dataset.sites,
                                    until=self._recruitment_end()[0])

        return store.memo("site performance", compute)

    def _recruitment_end(self) -> tuple[pd.Timestamp, str]:
        """When site recruitment stopped (the end of 'months active') and why, for the whole trial."""
        dataset = self.store.dataset
        return recruitment_end(dataset.randomized["RANDDT"], dataset.info.target_enrollment, dataset.cutoff)

    def _performance_display(self, subjects) -> pd.DataFrame:
        table = self._performance()
        short = self.store.dataset.info.arm_short_labels
        out = table.assign(**{c: table[c].dt.strftime("%Y-%m-%d") for c in ("ACTIVDT", "FIRST_RANDDT")})
        out = out.rename(columns={**PERFORMANCE_TITLES, **{a: f"{short.get(a, a)}" for a in self.store.dataset.arms}})
        return out.dropna(axis=1, how="all")

    def _table_caption(self, subjects) -> str:
        _, why = self._recruitment_end()
        return (f"**Site performance** up to the data cut {self.store.cutoff.isoformat()} "
                f"({self.store.summary()}). Months active: from site activation to {escape_markdown(why)}; "
                "patients per site-month = randomized / months active. Click a header to sort.")

    def _table_notes(self) -> list[str]:
        return [f"Months active end at {self._recruitment_end()[1]}; patients per site-month = randomized / "
                "months active."]

    # --- monthly accrual and flow ----------------------------------------------------------------------

    def _monthly(self):
        """Monthly accrual by arm of the filtered patients (up to enrollment close) and its rolling rate."""
        store = self.store

        def compute(spec):
            subjects = store.subjects()
            arms = [a for a in store.dataset.arms if a in set(subjects["ARM"])]
            monthly = monthly_accrual(subjects, self._closed() or store.dataset.cutoff, arms=arms)
            return monthly, accrual_rate(monthly, store.dataset.cutoff), arms

        return store.memo("monthly accrual", compute)

    def _monthly_plot(self, subjects):
        monthly, rate, arms = self._monthly()
        colors, ink = self.store.dataset.arm_colors, self.ink
        if monthly.empty:
            return hv.Curve([]).opts(title="No randomizations")
        layers = []
        pauses = recruitment_pauses(rate)
        if len(pauses):
            spans = [(s, e + pd.offsets.MonthBegin(1)) for s, e in zip(pauses["START"], pauses["END"])]
            layers.append(hv.VSpans(spans).opts(color=ink.guide, alpha=0.35))
        wide = monthly.pivot(index="MONTH", columns="ARM", values="N")[arms]
        bottom = pd.Series(0, index=wide.index)
        width = pd.Timedelta(days=26)
        for arm in arms:
            top = bottom + wide[arm]
            rects = pd.DataFrame({"x0": wide.index + pd.Timedelta(days=2), "y0": bottom.values,
                                  "x1": wide.index + pd.Timedelta(days=2) + width, "y1": top.values,
                                  "Patients": wide[arm].values, "Month": wide.index.strftime("%Y-%m")})
            layers.append(hv.Rectangles(rects, ["x0", "y0", "x1", "y1"], ["Patients", "Month"], label=arm).opts(
                color=colors[arm], line_color=ink.background, tools=["hover"]))
            bottom = top
        curve = rate.assign(Date=rate["MONTH"] + pd.Timedelta(days=15))
        layers.append(hv.Curve(curve, "Date", ("ROLLING_RATE", "Patients per month"),
                               label="Rolling 3-month mean").opts(color=ink.text, line_width=2, tools=["hover"]))
        partial = " (last month partial: data cut)" if rate["PARTIAL"].any() else ""
        return hv.Overlay(layers).opts(
            responsive=True, height=300,
            title=f"Patients randomized per month, by arm{partial}; grey = no randomization",
            xlabel="Month", ylabel="Patients per month", legend_position="top", legend_cols=3, toolbar="above",
            show_grid=True, active_tools=["box_zoom"],
            shared_axes=False,
        )

    def _pause_text(self, subjects) -> str:
        return "" if subjects.empty else accrual_statement(self._monthly()[1], self._closed())

    def _flow_html(self, subjects) -> str:
        store = self.store
        screened = store.screened()
        arms = store.dataset.arms
        funnel = screening_funnel(screened, arms=arms)
        notes = flow_notes(store.dataset.adsl, store.filter_spec)
        caption = f"Patient flow up to the data cut {store.cutoff.isoformat()}"
        return consort_html(funnel, arms, store.dataset.arm_colors, notes, caption,
                            screening=has_screening_data(store.dataset.adsl))


def _map_limits(x: pd.Series, y: pd.Series, *, width: int, height: int, pad: float = 0.25):
    """Axis ranges around the points with equal units on both axes for a width x height frame."""
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    span_x = max(x1 - x0, 1.0) * (1 + 2 * pad)
    span_y = max(y1 - y0, 1.0) * (1 + 2 * pad)
    ratio = width / height
    if span_x / span_y < ratio:
        span_x = span_y * ratio
    else:
        span_y = span_x / ratio
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - span_x / 2, cx + span_x / 2), (cy - span_y / 2, cy + span_y / 2)
