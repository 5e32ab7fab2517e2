"""Time-to-event by arm: Kaplan-Meier (or Aalen-Johansen cumulative incidence when the endpoint has
competing events) with CI bands, numbers at risk under the plot, medians, log-rank p and Cox HR."""

from __future__ import annotations

import math

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend for .opts)
import numpy as np
import pandas as pd
import panel as pn
import param

from ..config import DAYS_PER_MONTH, TTE_LANDMARK_MONTHS
from ..transforms import survival as sv
from ..transforms.formatting import format_p
from .base import TabView, no_patients_message
from .escape import escape_markdown, plot_title
from .help import help_toggle
from .theme import legible


def _steps(curve: pd.DataFrame) -> pd.DataFrame:
    """Step-function points (each value held until the next time) for drawing bands."""
    held = curve.assign(TIME=curve["TIME"].shift(-1).fillna(curve["TIME"].iloc[-1]))
    order = np.arange(len(curve))
    both = pd.concat([curve.assign(_k=2 * order), held.assign(_k=2 * order + 1)])
    return both.sort_values("_k").drop(columns="_k").reset_index(drop=True)


def left_text_css(columns: int) -> str:
    """Stylesheet left-aligning the first `columns` header and body cells of a DataFrame pane's table."""
    return f"table th:nth-child(-n+{columns}), table td:nth-child(-n+{columns}) {{text-align: left;}}"


def _fmt_months(days: float) -> str:
    return "not reached" if not np.isfinite(days) else f"{days / DAYS_PER_MONTH:.1f}"


def _risk_step(max_months: float) -> int:
    return next((s for s in (1, 3, 6, 12, 24) if max_months / s <= 10), 36)


def endpoint_names(params: pd.DataFrame) -> dict[str, str]:
    """Reader's name per endpoint (PARAMCD -> PARAM); the code is added only where two names coincide."""
    names = params["PARAM"].fillna(params["PARAMCD"]).astype(str)
    repeated = names.duplicated(keep=False)
    return {code: f"{name} ({code})" if twice else name
            for code, name, twice in zip(params["PARAMCD"], names, repeated)}


def uses_competing_risks(params: pd.DataFrame, paramcd: str) -> bool:
    """Whether an endpoint has competing events (then cumulative incidence, not Kaplan-Meier)."""
    return bool(params.loc[params["PARAMCD"] == paramcd, "competing"].sum() > 0)


def trial_endpoints(store) -> pd.DataFrame:
    """The trial's time-to-event parameters (`tte_parameters`), computed once per session."""
    return store.memo_unfiltered("tte parameters", lambda: sv.tte_parameters(store.dataset.adtte))


class SurvivalView(TabView):
    """Kaplan-Meier or cumulative-incidence curves by arm for any ADTTE parameter, with the statistics."""

    title = "Time to event"
    endpoint = param.Selector(default=None, objects=[], doc="The time-to-event parameter (PARAMCD) shown.")

    def __init__(self, **params):
        super().__init__(**params)
        parameters = trial_endpoints(self.store)
        self.param.endpoint.objects = parameters["PARAMCD"].tolist()
        self.endpoint = sv.default_endpoint(parameters)

    def __panel__(self):
        params = trial_endpoints(self.store)
        names = endpoint_names(params)
        options = {f"{names[p.PARAMCD]} ({'cumulative incidence' if p.competing else 'Kaplan-Meier'})": p.PARAMCD
                   for p in params.itertuples()}
        endpoint = pn.widgets.Select.from_param(self.param.endpoint, label="Endpoint", options=options, width=420)
        return pn.Column(
            endpoint,
            pn.panel(self.bind_active(self._render, self.filtered_subjects, self.param.endpoint)),
            pn.panel(self.bind_active(self._summary, self.filtered_subjects)),
            sizing_mode="stretch_width",
        )

    def _arms(self, subjects):
        return [a for a in self.store.dataset.arms if a in set(subjects["ARM"])]

    def _render(self, subjects: pd.DataFrame, paramcd: str):
        if subjects.empty:
            return no_patients_message(self.store)
        dataset = self.store.dataset
        params = trial_endpoints(self.store)
        label = params.loc[params["PARAMCD"] == paramcd, "PARAM"].iloc[0]
        tte = sv.tte_data(subjects, dataset.adtte, paramcd)
        if tte.empty:
            return pn.pane.Alert(f"No filtered patient has {escape_markdown(paramcd)} data.", alert_type="info")
        arms = self._arms(tte)
        competing = uses_competing_risks(params, paramcd)
        curves = sv.cumulative_incidence(tte, arms) if competing else sv.km_by_arm(tte, arms)
        colors = dataset.arm_colors
        max_m = float(tte["TIME"].max()) / DAYS_PER_MONTH
        step = _risk_step(max_m)
        ticks = list(range(0, int(max_m) + 1, step))
        xlim = (-0.04 * max_m, max_m * 1.04)
        layers = []
        for arm in arms:
            c = curves[curves["ARM"] == arm].assign(Months=lambda f: f["TIME"] / DAYS_PER_MONTH)
            name = dataset.info.arm_short_labels.get(arm, arm)
            band = _steps(c).dropna(subset=["lower", "upper"])
            layers.append(hv.Area(band, "Months", ["lower", "upper"]).opts(color=colors[arm], alpha=0.18, line_alpha=0))
            layers.append(hv.Curve(c, "Months", ["estimate"], label=name).opts(
                color=colors[arm], interpolation="steps-post", line_width=2.5, tools=["hover"]))
        ylabel = "Cumulative incidence" if competing else "Probability event-free"
        method = ("Aalen-Johansen cumulative incidence, competing events accounted for (not 1-KM)" if competing
                  else "Kaplan-Meier with 95% log-log pointwise CI")
        plot = hv.Overlay(layers).opts(
            title=plot_title(f"{label}: {method}"), ylabel=ylabel, xlabel="Months from randomization", ylim=(0, 1.02),
            xlim=xlim, xticks=ticks, responsive=True, height=360, legend_position="top_right",
            active_tools=[],
        )
        risk = sv.number_at_risk(tte, [t * DAYS_PER_MONTH for t in ticks], arms)
        risk["Months"] = risk["TIME"] / DAYS_PER_MONTH
        risk["arm"] = risk["ARM"].map(lambda a: dataset.info.arm_short_labels.get(a, a))
        risk["text"] = risk["at_risk"].astype(str)
        risk["color"] = risk["ARM"].map(lambda a: legible(colors[a], self.ink.background))
        names = [dataset.info.arm_short_labels.get(a, a) for a in arms]
        risk_plot = hv.Labels(risk, ["Months", "arm"], ["text", "color"]).redim.values(arm=names[::-1]).opts(
            xlim=xlim, xticks=ticks, responsive=True, height=40 + 28 * len(arms), xlabel="",
            ylabel="At risk", text_font_size="10pt", text_color="color", yaxis="left", toolbar=None, active_tools=[],
        )
        layout = (plot + risk_plot).cols(1).opts(shared_axes=True)
        return pn.Column(
            pn.pane.HoloViews(layout, sizing_mode="stretch_width", css_classes=["tte-plot"]),
            help_toggle("cumulative_incidence" if competing else "kaplan_meier"),
            pn.pane.Markdown(self._sentence(tte, arms, competing, label), css_classes=["tte-summary"]),
            sizing_mode="stretch_width",
        )

    def _sentence(self, tte, arms, competing, label) -> str:
        dataset = self.store.dataset
        names = {a: dataset.info.arm_short_labels.get(a, a) for a in arms}
        method = "Aalen-Johansen cumulative incidence" if competing else "Kaplan-Meier"
        parts = [f"**{escape_markdown(label)}** ({method}), {len(tte)} patients."]
        if competing:
            landmarks = sv.estimates_at_landmarks(sv.cumulative_incidence(tte, arms), tte["TIME"].max(),
                                                  [m * DAYS_PER_MONTH for m in TTE_LANDMARK_MONTHS])
            for months in TTE_LANDMARK_MONTHS:
                at = landmarks.loc[landmarks["TIME"] == months * DAYS_PER_MONTH].set_index("ARM")
                if at.empty:
                    break
                parts.append(f"At {months // 12} year{'s' if months > 12 else ''}: " + "; ".join(
                    f"{escape_markdown(names[a])} {100 * at.loc[a, 'estimate']:.1f}% (95% CI {100 * at.loc[a, 'lower']:.1f}–"
                    f"{100 * at.loc[a, 'upper']:.1f}%)" for a in arms if a in at.index) + ".")
        else:
            med = sv.median_by_arm(tte, arms)
            parts.append("Median (months, 95% CI): " + "; ".join(
                f"{escape_markdown(names[r.ARM])} {_fmt_months(r.median)} ({_fmt_months(r.lower)} to {_fmt_months(r.upper)}), "
                f"{r.events} events/{r.N}" for r in med.itertuples()) + ".")
        p = sv.logrank_p(tte, arms)
        if not math.isnan(p):
            what = ("cause-specific log-rank test (competing events censored)" if competing else "log-rank test")
            parts.append(f"{what[0].upper()}{what[1:]}: {format_p(p)}.")
        kind = "cause-specific Cox hazard ratio (competing events censored)" if competing else "Cox hazard ratio"
        comparisons = sv.comparisons_with_control(tte, arms)
        for cox in comparisons.loc[comparisons["ESTIMABLE"].astype(bool)].itertuples():
            parts.append(f"{kind[0].upper()}{kind[1:]} {escape_markdown(names[cox.TREATMENT])} vs "
                         f"{escape_markdown(names[cox.CONTROL])}: {cox.hr:.2f} (95% Wald CI {cox.lower:.2f} to "
                         f"{cox.upper:.2f}), Wald {format_p(cox.p)}; Efron method for tied times.")
        return " ".join(parts)

    def _summary(self, subjects: pd.DataFrame):
        if subjects.empty:
            return pn.pane.Markdown("")
        return pn.Column(
            pn.pane.Markdown("**All endpoints**: events/patients per arm. Kaplan-Meier endpoints: Cox "
                             "proportional-hazards HR (95% Wald CI; Efron method for tied times) and log-rank test p. "
                             "Aalen-Johansen (competing-risk) endpoints: cause-specific Cox HR and cause-specific "
                             "log-rank p (competing events censored); these compare cause-specific hazards, not the "
                             "cumulative incidence curves."),
            pn.pane.DataFrame(self.endpoints_table(subjects), index=False, escape=True, css_classes=["tte-all"],
                              stylesheets=[left_text_css(3 if len(self._arms(subjects)) == 2 else 2)]),
        )

    def endpoints_table(self, subjects: pd.DataFrame) -> pd.DataFrame:
        """Every endpoint's method, events/patients per arm and, with two arms, Cox HR and log-rank p (text)."""
        dataset = self.store.dataset
        arms = self._arms(subjects)
        params = trial_endpoints(self.store).set_index("PARAMCD")
        names = endpoint_names(params.reset_index())
        events = sv.endpoint_events(subjects, dataset.adtte, arms)
        tests = sv.endpoint_tests(subjects, dataset.adtte, arms).set_index("PARAMCD") if len(arms) == 2 else None
        rows = []
        for paramcd, counts in events.groupby("PARAMCD", sort=False):
            competing = bool(params.loc[paramcd, "competing"])
            row = {"Endpoint": names[paramcd], "Method": "Aalen-Johansen" if competing else "Kaplan-Meier"}
            if tests is not None:
                row["HR and p"] = ("cause-specific Cox HR (Wald CI, Efron ties), cause-specific log-rank p"
                                   if competing else "Cox HR (Wald CI, Efron ties), log-rank p")
            for c in counts.itertuples():
                row[dataset.info.arm_short_labels.get(c.ARM, c.ARM)] = f"{c.events}/{c.N}"
            if tests is not None:
                cox = tests.loc[paramcd]
                row["HR (95% Wald CI)"] = (f"{cox['hr']:.2f} ({cox['lower']:.2f}–{cox['upper']:.2f})"
                                           if cox["ESTIMABLE"] else "not estimable")
                p_lr = cox["LOGRANK_P"]
                row["Log-rank p"] = "" if math.isnan(p_lr) else ("< 0.001" if p_lr < 0.001 else f"{p_lr:.3f}")
            rows.append(row)
        return pd.DataFrame(rows)
