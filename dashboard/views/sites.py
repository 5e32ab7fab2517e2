"""The site bar chart shared by the Overview and Enrollment tabs: patients per site and arm for every
site; clicking a site's bar filters every tab to that site (click it again, or 'Show all sites', to clear)."""

from __future__ import annotations

import math

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh backend that .opts() needs)
import panel as pn
import param

from ..transforms.enrollment import enrollment_by_site
from ..transforms.labels import short_site_labels, site_labels
from .base import TabView
from .escape import escape_html
from .theme import HTML_CSS

OTHER_SITES = " · other sites"
MANY_SITES = 30  # above this many sites the bars are labelled by site id only


class SiteChart(pn.viewable.Viewer):
    """Patients per site by arm (all sites, those outside the site filter faded); a bar click sets the filter."""

    view = param.ClassSelector(class_=TabView, doc="The tab view showing the chart: its store and on-screen gate.")
    title = param.String(default="Randomized per site, by arm", doc="Title of the bar chart.")

    def __init__(self, **params):
        super().__init__(**params)
        dataset = self.view.store.dataset
        self.labels = site_labels(dataset.adsl, dataset.sites)
        """Full label per SITEID ('01 · Nanfang Hospital, Southern Medical University (Guangzhou)')."""
        self.bar_labels = short_site_labels(self.labels)
        """Axis label per SITEID (id and institution)."""
        ids = [*self.labels]
        if dataset.sites is not None and "SITEID" in dataset.sites.columns:
            ids += [str(s) for s in dataset.sites["SITEID"]]
        self.site_ids = list(dict.fromkeys(ids))

    def __panel__(self) -> pn.viewable.Viewable:
        store = self.view.store
        bars = self.view.dynamic_map(self.bars, store.filtered_subjects)
        tap = hv.streams.Tap(source=bars, transient=True)
        tap.param.watch(self._on_tap, ["y"])
        show_all = pn.widgets.Button(label="Show all sites", color="primary", variant="outline", width=140,
                                     visible=pn.rx(self.view.bind_active(lambda sites: len(sites) > 0, store.param.sites)))
        show_all.on_click(lambda event: setattr(store, "sites", []))
        note = pn.pane.HTML(self.view.bind_active(self._note, store.param.sites), margin=(0, 10), sizing_mode="stretch_width",
                            css_classes=["site-note"], stylesheets=[HTML_CSS])
        return pn.Column(pn.Row(note, show_all, sizing_mode="stretch_width"),
                         pn.pane.HoloViews(bars, sizing_mode="stretch_width"), sizing_mode="stretch_width")

    def bars(self, subjects) -> hv.Bars:
        """Stacked bars per site and arm of the patients matching every filter but the site filter."""
        store, ink = self.view.store, self.view.ink
        arms = store.dataset.arms if not store.arms else [a for a in store.dataset.arms if a in store.arms]
        counts = enrollment_by_site(store.subjects_at_every_site(), self.site_ids, arms)
        many = counts["SITEID"].nunique() > MANY_SITES
        counts = counts.assign(
            Site=counts["SITEID"].map(lambda s: s if many else self.bar_labels.get(s, s)),
            Name=counts["SITEID"].map(lambda s: self.labels.get(s, s)),
        ).rename(columns={"ARM": "Arm", "N": "Patients"})
        order = list(dict.fromkeys(counts["Site"]))[::-1]
        colors = dict(store.dataset.arm_colors)
        if store.sites:
            # Sites outside the filter are drawn in faded arm colours (their own legend entries).
            other = ~counts["SITEID"].isin(store.sites)
            counts.loc[other, "Arm"] = counts.loc[other, "Arm"] + OTHER_SITES
            colors.update({arm + OTHER_SITES: _faded(color, ink.background) for arm, color in colors.items()})
        bars = hv.Bars(counts, ["Site", "Arm"], ["Patients", "SITEID", "Name"]).redim.values(Site=order)
        return bars.opts(
            stacked=True, invert_axes=True, cmap=colors, tools=["hover"], nonselection_alpha=1.0,
            hover_tooltips=[("Site", "@Name"), ("Arm", "@Arm"), ("Patients", "@Patients")],
            height=max(220, (14 if many else 26) * len(order) + 110), responsive=True,
            title=self.title, xlabel="", ylabel="Patients randomized", show_grid=True,
            show_legend=False, toolbar=None, yaxis="left",  # the arm key is above the chart
            fontsize={"yticks": "8pt" if many else "9pt", "title": "11pt"}, shared_axes=False,
        )

    def _on_tap(self, event) -> None:
        """Clicking a site bar sets the global site filter (clicking the only selected site clears it)."""
        label = event.new
        if label is None or (isinstance(label, float) and math.isnan(label)):
            return
        by_label = {v: k for k, v in self.bar_labels.items()}
        site = by_label.get(str(label), str(label))
        store = self.view.store
        if site not in store.param.sites.objects:
            return
        store.sites = [] if list(store.sites) == [site] else [site]

    def _note(self, sites) -> str:
        """The arm colour key and what a click does (or which site is shown); every name escaped."""
        colors = self.view.store.dataset.arm_colors
        key = "".join(f'<span class="item"><span class="swatch" style="background:{escape_html(color)}"></span>'
                      f"{escape_html(str(arm))}</span>" for arm, color in colors.items())
        if not sites:
            action = "Click a site's bar to filter every tab to that site."
        else:
            names = ", ".join(escape_html(self.labels.get(s, s)) for s in sites)
            action = (f"Showing <b>{names}</b> in every tab; other sites are faded. "
                      "Click the site again or 'Show all sites'.")
        return f'<div class="key">{key}</div><div>{action}</div>'


def _faded(color: str, background: str, amount: float = 0.65) -> str:
    """A hex colour blended towards the plot background (for de-emphasised bars, in either theme)."""
    rgb = [int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    back = [int(background.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c + (b - c) * amount):02x}" for c, b in zip(rgb, back))
