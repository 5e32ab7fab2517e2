"""Swimmer lanes: one lane per patient with exposure, responses, serious AEs, TTE events and death;
sortable, paginated, and a lane click opens the patient's profile."""

from __future__ import annotations

import math
from types import MappingProxyType

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend for .opts)
import pandas as pd
import panel as pn

from ..config import SWIMMER_PAGE_SIZE
from ..transforms import response as rs
from .base import TabView, no_patients_message
from .escape import escape_markdown

SORTS = MappingProxyType({
    "Arm": ("ARM", "END"),
    "Site": ("SITEID", "ARM"),
    "Best response": ("best_rank", "END"),
    "Time on study": ("END",),
})
# Marker per non-response event kind (response markers are circles coloured by category).
KIND_STYLE = MappingProxyType({
    "Exposure": {"marker": "triangle", "color": "#000000", "size": 6},
    "Serious AE": {"marker": "x", "color": "#D55E00", "size": 10},
    "cGVHD onset": {"marker": "diamond", "color": "#CC79A7", "size": 11},
    "Relapse": {"marker": "square", "color": "#7b3294", "size": 9},
    "Progression": {"marker": "square", "color": "#7b3294", "size": 9},
    "Death": {"marker": "inverted_triangle", "color": "#000000", "size": 11},
})
# Time windows of the lanes: label -> last day shown (None: the whole follow-up).
WINDOWS = MappingProxyType({"Whole follow-up": None, "First 100 days": 100, "First year": 365})
PROFILE_COLUMNS = ("USUBJID", "ARM", "SITEID", "SITENAME", "AGE", "SEX", "DIAG", "AGVHDGR", "NORGANS",
                   "RANDDT", "EOSSTT", "DCSREAS", "DTHDT", "DTHCAUS")


class SwimmerView(TabView):
    """Patient lanes over time since randomization; click a lane (or pick a patient) for the profile."""

    title = "Swimmer plot"

    def __panel__(self):
        sort = pn.widgets.Select(label="Sort lanes by", options=list(SORTS), value="Arm", width=180)
        page = pn.widgets.IntInput(label="Page", value=1, start=1, width=100)
        window = pn.widgets.Select(label="Time window", options=list(WINDOWS), value="First 100 days", width=170)
        patient = pn.widgets.Select(label="Patient profile", options=[""], value="", width=200)
        lanes = self.filtered_subjects.rx.pipe(self._lanes_when_shown, self.param.active)

        def pages(frame):
            return max(1, math.ceil(len(frame) / SWIMMER_PAGE_SIZE))

        def on_lanes(frame):
            page.end = pages(frame)
            page.value = min(page.value, page.end)
            patient.options = [""] + sorted(frame["USUBJID"])

        def pick(usubjid):
            patient.value = usubjid

        lanes.rx.watch(on_lanes)
        on_lanes(lanes.rx.value)
        info = self.bind_active(lambda f, p: pn.pane.Markdown(
            f"{len(f)} patients, page {p} of {pages(f)} ({SWIMMER_PAGE_SIZE} lanes per page). "
            "Days from randomization; hover a marker for details; click a lane for the patient profile.",
            css_classes=["swimmer-info"]), lanes, page.param.value)
        plot = self.bind_active(self._plot, lanes, sort.param.value, page.param.value, window.param.value, pick)
        profile = pn.bind(self._profile, patient.param.value)
        return pn.Column(
            pn.Row(sort, window, page, patient),
            pn.panel(info),
            pn.Row(pn.panel(plot, width=660), pn.panel(profile, width=360)),
            sizing_mode="stretch_width",
        )

    def _lanes_when_shown(self, subjects: pd.DataFrame, active: bool) -> pd.DataFrame:
        """Lanes of the filtered subjects; while hidden, the last lanes (recomputed when shown)."""
        cache = self.__dict__.setdefault("_lanes_cache", {})
        if active or "lanes" not in cache:
            cache["lanes"] = self._lanes(subjects)
        return cache["lanes"]

    def _lanes(self, subjects: pd.DataFrame) -> pd.DataFrame:
        dataset = self.store.dataset
        status = rs.response_status_by_visit(subjects, dataset.adrs, dataset.cutoff) if dataset.has("adrs") else None
        lanes = rs.swimmer_lanes(subjects, dataset.cutoff, status, dataset.adtte)
        if "BEST" not in lanes:
            lanes["BEST"] = "No assessment"
        order = rs.category_order(lanes["BEST"].unique())
        lanes["best_rank"] = lanes["BEST"].map({c: i for i, c in enumerate(order)})
        arm_rank = {a: i for i, a in enumerate(dataset.arms)}
        return lanes.assign(arm_rank=lanes["ARM"].map(arm_rank))

    @staticmethod
    def _page(lanes: pd.DataFrame, sort: str, page: int) -> pd.DataFrame:
        keys = ["arm_rank" if k == "ARM" else k for k in SORTS[sort]]
        ordered = lanes.sort_values(keys + ["USUBJID"], ascending=[k != "END" for k in keys] + [True], kind="stable")
        start = (max(page, 1) - 1) * SWIMMER_PAGE_SIZE
        return ordered.iloc[start:start + SWIMMER_PAGE_SIZE].reset_index(drop=True)

    def _plot(self, lanes: pd.DataFrame, sort: str, page: int, window: str, pick):
        if lanes.empty:
            return no_patients_message(self.store)
        dataset = self.store.dataset
        shown = self._page(lanes, sort, page)
        shown["y"] = range(len(shown) - 1, -1, -1)
        events = rs.swimmer_events(dataset.adsl[dataset.adsl["USUBJID"].isin(shown["USUBJID"])], dataset.adrs,
                                   dataset.adex, dataset.adae, dataset.adtte)
        events = events.merge(shown[["USUBJID", "y"]], on="USUBJID")
        colors = dataset.arm_colors
        shown["arm"] = shown["ARM"].map(lambda a: dataset.info.arm_short_labels.get(a, a))
        shown["x0"] = 0.0
        layers = [  # one lane layer per arm, in the arm colour, so the legend shows each arm's swatch
            hv.Segments(shown[shown["ARM"] == arm], ["x0", "y", "END", "y"], ["USUBJID", "arm", "SITEID", "BEST", "END_STATUS"],
                        label=dataset.info.arm_short_labels.get(arm, arm))
            .opts(color=colors[arm], line_width=7, alpha=0.5, tools=["hover", "tap"])
            for arm in dataset.arms if arm in set(shown["ARM"])]
        ongoing = shown[shown["END_STATUS"] == "Ongoing"]
        if len(ongoing):
            layers.append(hv.Scatter(ongoing, "END", ["y", "USUBJID"], label="Ongoing at data cut").opts(
                marker="triangle", angle=-90, color="#555555", size=8))
        response = events[events["KIND"] == "Response"]
        cats = rs.category_colors(response["LABEL"].unique()) if len(response) else {}
        for cat, color in cats.items():
            d = response[response["LABEL"] == cat]
            layers.append(hv.Scatter(d, "DAY", ["y", "USUBJID", "DETAIL"], label=f"Response {cat}").opts(
                color=color, size=9, line_color="#333333", tools=["hover"]))
        for kind, style in KIND_STYLE.items():
            d = events[events["KIND"] == kind]
            if len(d):
                layers.append(hv.Scatter(d, "DAY", ["y", "USUBJID", "DETAIL"], label=kind).opts(
                    tools=["hover"], **style))
        last = WINDOWS[window] or max(float(shown["END"].max()), float(events["DAY"].max()) if len(events) else 0.0)
        overlay = hv.Overlay(layers).opts(
            yticks=list(zip(shown["y"], shown["USUBJID"] + " " + shown["arm"])), ylim=(-1, len(shown)),
            xlim=(-0.02 * last, last * 1.03), xlabel="Days from randomization", ylabel="",
            height=max(320, 150 + 15 * len(shown)), width=660, legend_position="top", legend_cols=4,
            title=f"Patients by {sort.lower()}", active_tools=[], fontsize={"legend": "9pt", "yticks": "9pt"},
        )
        tap = hv.streams.Tap(source=overlay, x=None, y=None)

        def on_tap(event):
            i = None if event.new is None else int(round(event.new))
            if i is not None and 0 <= i < len(shown):
                pick(shown.loc[shown["y"] == i, "USUBJID"].iloc[0])

        tap.param.watch(on_tap, "y")
        return pn.pane.HoloViews(overlay, css_classes=["swimmer-plot"])

    def _profile(self, usubjid: str):
        if not usubjid:
            return pn.pane.Markdown("*Click a lane or choose a patient to see the profile.*", css_classes=["patient-profile"])
        dataset = self.store.dataset
        subject = dataset.adsl[dataset.adsl["USUBJID"] == usubjid]
        if subject.empty:
            return pn.pane.Markdown(f"Patient {escape_markdown(usubjid)} is not in this dataset.", css_classes=["patient-profile"])
        row = subject.iloc[0]
        facts = "\n".join(
            f"- **{escape_markdown(c)}**: {escape_markdown(str(row[c].date() if isinstance(row[c], pd.Timestamp) else row[c]))}"
            for c in PROFILE_COLUMNS if c in subject.columns and pd.notna(row[c]))
        events = rs.swimmer_events(subject, dataset.adrs, dataset.adex, None, dataset.adtte)
        timeline = events[["DAY", "KIND", "DETAIL"]].astype({"DAY": "Int64"}).rename(
            columns={"DAY": "Day", "KIND": "Event", "DETAIL": "Detail"})
        parts = [pn.pane.Markdown(f"### Patient {escape_markdown(usubjid)}\n{facts}")]
        parts += [pn.pane.Markdown("**Timeline** (days from randomization)"),
                  pn.pane.DataFrame(timeline, index=False, escape=True, max_rows=40)]
        if dataset.adae is not None:
            ae = dataset.adae[dataset.adae["USUBJID"] == usubjid]
            cols = [c for c in ("ASTDY", "AEDECOD", "AEBODSYS", "AETOXGRN", "AESER", "AEREL", "AEOUT") if c in ae.columns]
            parts += [pn.pane.Markdown(f"**Adverse events** ({len(ae)})"),
                      pn.pane.DataFrame(ae[cols], index=False, escape=True, max_rows=40)]
        return pn.Column(*parts, css_classes=["patient-profile"], scroll=True, max_height=700)
