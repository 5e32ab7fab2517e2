"""Swimmer lanes: one lane per patient with exposure, responses, serious AEs, TTE events and death;
sortable, paginated, and a lane click opens the patient's profile. With a compared data cut, each lane
marks that cut's day and lanes of patients randomized since are labelled "(new)"."""

from __future__ import annotations

import math
from types import MappingProxyType

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend for .opts)
import pandas as pd
import panel as pn

from ..config import SEX_LABELS, SWIMMER_PAGE_SIZE
from ..transforms import response as rs
from ..transforms import safety as sf
from ..transforms.labels import column_label, site_labels
from .base import TabView, no_patients_message
from .escape import escape_html, escape_markdown
from .theme import PlotInk

SORTS = MappingProxyType({
    "Arm": ("ARM", "END"),
    "Site": ("SITEID", "ARM"),
    "Best response": ("best_rank", "END"),
    "Time on study": ("END",),
})
# Marker per non-response event kind (response markers are circles coloured by category); a colour of
# None is the theme's ink (black on light, near-white on dark).
KIND_STYLE = MappingProxyType({
    "Exposure": {"marker": "triangle", "color": None, "size": 6},
    "Serious AE": {"marker": "x", "color": "#D55E00", "size": 10},
    "cGVHD onset": {"marker": "diamond", "color": "#CC79A7", "size": 11},
    "Relapse": {"marker": "square", "color": "#9e4fc4", "size": 9},
    "Progression": {"marker": "square", "color": "#9e4fc4", "size": 9},
    "Death": {"marker": "inverted_triangle", "color": None, "size": 11},
})
# Style of time-to-event markers the configuration does not know (a trial's own ADTTE parameters).
OTHER_EVENT_STYLE = MappingProxyType({"marker": "diamond", "color": "#009E73", "size": 10})
PLOT_MIN_PX = 700  # the lanes' least width: patient ids, legend and a readable time axis
PROFILE_PX = 380  # width of the patient profile beside the lanes
# Time windows of the lanes: label -> last day shown (None: the whole follow-up).
WINDOWS = MappingProxyType({"Whole follow-up": None, "First 100 days": 100, "First year": 365})
# Patient profile facts (ADSL), shown with their data-model labels; arm and site are shown as "Arm" and
# the site's name.
PROFILE_COLUMNS = ("AGE", "SEX", "DIAG", "AGVHDGR", "NORGANS", "RANDDT", "EOSSTT", "DCSREAS", "DTHDT", "DTHCAUS")
PROFILE_CSS = """
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0 8px 0; font-size: 0.9rem; }
dt { font-weight: 600; }
dd { margin: 0; }
"""


class SwimmerView(TabView):
    """Patient lanes over time since randomization; click a lane (or pick a patient) for the profile."""

    title = "Swimmer plot"

    def __panel__(self):
        sort = pn.widgets.Select(label="Sort lanes by", options=list(SORTS), value="Arm", width=180)
        page = pn.widgets.IntInput(label="Page", value=1, start=1, width=100)
        window = pn.widgets.Select(label="Time window", options=list(WINDOWS), value="First 100 days", width=170)
        patient = pn.widgets.Select(label="Patient profile", options=[""], value="", width=200)
        lanes = pn.rx(self.bind_active(lambda subjects, compare: self.lanes(), self.store.filtered_subjects,
                                       self.store.param.compare))

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
        profile = pn.bind(patient_profile, self.store.dataset, patient.param.value)
        return pn.Column(
            pn.Row(sort, window, page, patient),
            pn.panel(info),
            # The profile sits beside the lanes on a wide screen and wraps below them on a laptop.
            pn.FlexBox(pn.Column(pn.panel(plot), min_width=PLOT_MIN_PX, styles={"flex": f"1 1 {PLOT_MIN_PX}px"}),
                       pn.Column(pn.panel(profile), width=PROFILE_PX, sizing_mode="fixed"),
                       gap="12px", sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def lanes(self) -> pd.DataFrame:
        """The filtered patients' lanes with their best response and sort ranks, kept in the store's memo."""
        return self.store.memo(("swimmer lanes", self.store.compare),
                               lambda spec: self._compute_lanes(self.store.subjects()))

    def _compute_lanes(self, subjects: pd.DataFrame) -> pd.DataFrame:
        dataset = self.store.dataset
        status = rs.response_status_by_visit(subjects, dataset.adrs, dataset.cutoff) if dataset.has("adrs") else None
        lanes = rs.swimmer_lanes(subjects, dataset.cutoff, status, dataset.adtte, compared_cut=self.store.compare)
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
        dataset, ink = self.store.dataset, self.ink
        shown = self._page(lanes, sort, page)
        shown["Lane"] = range(len(shown) - 1, -1, -1)
        events = rs.swimmer_events(dataset.adsl[dataset.adsl["USUBJID"].isin(shown["USUBJID"])], dataset.adrs,
                                   dataset.adex, dataset.adae, dataset.adtte)
        events = events.merge(shown[["USUBJID", "Lane"]], on="USUBJID")
        colors = dataset.arm_colors
        shown["arm"] = shown["ARM"].map(lambda a: dataset.info.arm_short_labels.get(a, a))
        shown["x0"] = 0.0
        lane_info = [hv.Dimension("USUBJID", label="Patient"), hv.Dimension("arm", label="Arm"),
                     hv.Dimension("SITEID", label="Site"), hv.Dimension("BEST", label="Best response"),
                     hv.Dimension("END_STATUS", label="Status at lane end")]
        marker_info = ["Lane", hv.Dimension("USUBJID", label="Patient"), hv.Dimension("DETAIL", label="Event")]
        layers = [  # one lane layer per arm, in the arm colour, so the legend shows each arm's swatch
            hv.Segments(shown[shown["ARM"] == arm], ["x0", "Lane", "END", "Lane"], lane_info,
                        label=dataset.info.arm_short_labels.get(arm, arm))
            .opts(color=colors[arm], line_width=7, alpha=0.5, tools=["hover", "tap"])
            for arm in dataset.arms if arm in set(shown["ARM"])]
        ongoing = shown[shown["END_STATUS"] == "Ongoing"]
        if len(ongoing):
            layers.append(hv.Scatter(ongoing, "END", ["Lane", hv.Dimension("USUBJID", label="Patient")],
                                     label="Ongoing at data cut").opts(
                marker="triangle", angle=-90, color=ink.muted, size=8))
        response = events[events["KIND"] == "Response"]
        cats = rs.category_colors(response["LABEL"].unique()) if len(response) else {}
        for cat, color in cats.items():
            d = response[response["LABEL"] == cat]
            layers.append(hv.Scatter(d, "DAY", marker_info, label=f"Response {cat}").opts(
                color=color, size=9, line_color=ink.muted, tools=["hover"]))
        for kind in events.loc[events["KIND"] != "Response", "KIND"].unique():
            style = _marker_style(kind, ink)
            layers.append(hv.Scatter(events[events["KIND"] == kind], "DAY", marker_info, label=kind).opts(
                tools=["hover"], **style))
        if "COMPARED_DAY" in shown:  # what is right of the mark was recorded after the compared cut
            marks = shown[shown["COMPARED_DAY"] <= shown["END"]]  # not on lanes that ended before that cut
            layers.append(hv.Scatter(marks, "COMPARED_DAY", ["Lane", hv.Dimension("USUBJID", label="Patient")],
                                     label=f"Data cut {self.store.compare} (compared)").opts(
                marker="dash", angle=90, size=16, line_width=2, color=ink.text, tools=["hover"]))
            shown["USUBJID_LABEL"] = shown["USUBJID"] + shown["NEW"].map({True: " (new)", False: ""})
        else:
            shown["USUBJID_LABEL"] = shown["USUBJID"]
        last = WINDOWS[window] or max(float(shown["END"].max()), float(events["DAY"].max()) if len(events) else 0.0)
        overlay = hv.Overlay(layers).opts(
            yticks=list(zip(shown["Lane"], shown["USUBJID_LABEL"] + " " + shown["arm"])), ylim=(-1, len(shown)),
            xlim=(-0.02 * last, last * 1.03), xlabel="Days from randomization", ylabel="",
            height=max(320, 150 + 15 * len(shown)), responsive=True, legend_position="right", legend_opts={"location": "top"},
            title=f"Patients by {sort.lower()}", active_tools=[], fontsize={"legend": "9pt", "yticks": "9pt"},
            shared_axes=False,
        )
        tap = hv.streams.Tap(source=overlay, x=None, y=None)

        def on_tap(event):
            i = None if event.new is None else int(round(event.new))
            if i is not None and 0 <= i < len(shown):
                pick(shown.loc[shown["Lane"] == i, "USUBJID"].iloc[0])

        tap.param.watch(on_tap, "y")
        return pn.pane.HoloViews(overlay, css_classes=["swimmer-plot"], sizing_mode="stretch_width")


def patient_profile(dataset, usubjid: str):
    """One patient's profile (facts, timeline, adverse events, data checks) for any view that opens one."""
    if not usubjid:
        return pn.pane.Markdown("*Click a lane or choose a patient to see the profile.*", css_classes=["patient-profile"])
    subject = dataset.adsl[dataset.adsl["USUBJID"] == usubjid]
    if subject.empty:
        return pn.pane.Markdown(f"Patient {escape_markdown(usubjid)} is not in this dataset.", css_classes=["patient-profile"])
    row = subject.iloc[0]
    site = str(row["SITEID"])
    facts = [("Arm", "ARM", dataset.info.arm_short_labels.get(row["ARM"], row["ARM"])),
             ("Site", "SITEID", site_labels(subject, dataset.sites).get(site, site))]
    facts += [(column_label("adsl", c, dataset.info.column_labels), c, _display_value(c, row[c]))
              for c in PROFILE_COLUMNS if c in subject.columns and pd.notna(row[c])]
    # Labels for readers; the variable name is the label's tooltip.
    rows = "".join(f'<dt title="{escape_html(name)}">{escape_html(label)}</dt><dd>{escape_html(str(value))}</dd>'
                   for label, name, value in facts)
    events = rs.swimmer_events(subject, dataset.adrs, dataset.adex, None, dataset.adtte)
    timeline = events[["DAY", "KIND", "DETAIL"]].astype({"DAY": "Int64"}).rename(
        columns={"DAY": "Day", "KIND": "Event", "DETAIL": "Detail"})
    parts = [pn.pane.HTML(f"<h3>Patient {escape_html(usubjid)}</h3><dl>{rows}</dl>", stylesheets=[PROFILE_CSS],
                          sizing_mode="stretch_width"),
             pn.pane.Markdown("**Timeline** (days from randomization)"),
             pn.pane.DataFrame(timeline, index=False, escape=True, max_rows=40)]
    if dataset.adae is not None:
        ae = sf.ae_listing(sf.select_events(dataset.adae, subject), subject=usubjid).drop(
            columns=["Patient", "Arm"], errors="ignore")
        variables = {label: name for name, label in sf.LISTING_COLUMNS.items()}
        parts += [pn.pane.Markdown(f"**Adverse events** ({len(ae)})"),
                  pn.widgets.Tabulator(ae, show_index=False, disabled=True, selectable=False, layout="fit_data",
                                       header_tooltips={c: variables[c] for c in ae.columns if c in variables},
                                       formatters={"Onset date": {"type": "datetime", "outputFormat": "yyyy-MM-dd"}},
                                       pagination="local", page_size=15, sizing_mode="stretch_width")]
    findings = dataset.subject_findings(usubjid)
    if len(findings):
        left_out = findings.rename(columns={"table": "Dataset", "column": "Column", "rule": "Rule", "value": "Value",
                                            "action": "Effect"})[["Dataset", "Column", "Rule", "Value", "Effect"]]
        parts += [pn.pane.Markdown(f"**Data checks** ({len(findings)} record(s) left out or changed, see Data quality)"),
                  pn.widgets.Tabulator(left_out.assign(Dataset=left_out["Dataset"].str.upper()), show_index=False,
                                       disabled=True, selectable=False, layout="fit_data_table",
                                       sizing_mode="stretch_width", css_classes=["profile-findings"])]
    return pn.Column(*parts, css_classes=["patient-profile"], scroll=True, max_height=700)



def _marker_style(kind: str, ink: PlotInk) -> dict:
    """Marker, colour and size of an event kind's markers (unknown kinds: a trial's own events)."""
    style = dict(KIND_STYLE.get(kind, OTHER_EVENT_STYLE))
    style["color"] = style["color"] or ink.text
    return style


def _display_value(column: str, value) -> str:
    """A profile value for readers: dates as dates, sex and Y/N in words, upper-case codes in sentence case."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if column == "SEX":
        return SEX_LABELS.get(str(value), str(value))
    text = str(value)
    if text in ("Y", "N"):
        return "Yes" if text == "Y" else "No"
    if text.isupper() and len(text) > 3:
        return text.capitalize()
    return text
