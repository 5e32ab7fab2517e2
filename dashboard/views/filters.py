"""The sidebar of global filters: one widget per store filter, the patient count and a reset button."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..config import POPULATION_LABELS, SEX_LABELS
from ..store import TrialStore
from ..transforms.labels import site_labels
from .escape import choice_options, escape_html
from .theme import CHOICES_CSS

COUNT_CSS = """
:host { width: 100%; }
.count { font-size: 1.05rem; line-height: 1.3; padding: 2px 0 4px 0; }
.count b { font-size: 1.6rem; }
.count .population { display: block; font-size: 0.8rem; opacity: 0.75; }
"""


class FilterPanelView(pn.viewable.Viewer):
    """Sidebar of global filters bound to the session's store; changing one updates every view."""

    store = param.ClassSelector(class_=TrialStore, doc="The session's filter store (single source of truth).")

    def __panel__(self) -> pn.viewable.Viewable:
        store = self.store
        count = pn.pane.HTML(
            pn.bind(self._count_html, store.filtered_subjects), stylesheets=[COUNT_CSS],
            sizing_mode="stretch_width", margin=(5, 10),
        )
        reset = pn.widgets.Button(
            name="Reset filters", button_type="primary", button_style="outline",
            sizing_mode="stretch_width", disabled=pn.bind(self._all_default, *[store.param[f] for f in TrialStore.FILTERS]),
        )
        reset.on_click(lambda event: store.reset())
        return pn.Column(count, reset, *self._filter_widgets(), sizing_mode="stretch_width", name="Filters")

    def _filter_widgets(self) -> list[pn.widgets.Widget]:
        store, dataset = self.store, self.store.dataset
        adsl = dataset.adsl
        choices = []
        sites = site_labels(adsl, dataset.sites)
        short = dataset.info.arm_short_labels
        for name, label, option_label, placeholder in (
            ("sites", "Site", lambda v: sites.get(str(v), str(v)), "All sites"),
            ("arms", "Arm", lambda v: f"{v} ({short[v]})" if v in short and short[v] != v else str(v), "All arms"),
            ("sexes", "Sex", lambda v: SEX_LABELS.get(v, str(v)), "Both sexes" if len(store.param.sexes.objects) == 2 else "All"),
            ("grades", "aGVHD grade at entry", lambda v: f"Grade {v}", "All grades"),
            ("diagnoses", "Underlying disease", str, "All diseases"),
        ):
            objects = store.param[name].objects
            if not objects:
                continue
            choices.append(pn.widgets.MultiChoice.from_param(
                store.param[name], name=label, options=choice_options({option_label(v): v for v in objects}),
                placeholder=placeholder, sizing_mode="stretch_width", solid=False, stylesheets=[CHOICES_CSS],
            ))
        if "AGE" in adsl.columns and adsl["AGE"].notna().any():
            choices.append(pn.widgets.IntRangeSlider.from_param(
                store.param.age_range, name="Age (years)", step=1, throttled=True, sizing_mode="stretch_width",
            ))
        if store.randomization_dates is not None:
            choices.append(pn.widgets.DateRangeSlider.from_param(
                store.param.randomization_dates, name="Randomized", throttled=True,
                format="%Y-%m-%d", sizing_mode="stretch_width",
            ))
        choices.append(pn.widgets.RadioButtonGroup.from_param(
            store.param.population, name="Population", button_type="primary", button_style="outline",
            sizing_mode="stretch_width",
        ))
        return choices

    def _count_html(self, subjects: pd.DataFrame) -> str:
        store = self.store
        shown, total = store.counts()
        meaning = POPULATION_LABELS.get(store.population, store.population)
        return (
            f'<div class="count patient-count"><b>{shown}</b> of {total} patients'
            f'<span class="population">{escape_html(store.population)}: {escape_html(meaning)}</span></div>'
        )

    def _all_default(self, *values) -> bool:
        return all(
            _same(value, self.store.param[name].default) for name, value in zip(TrialStore.FILTERS, values)
        )


def _same(value, default) -> bool:
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    return value == default
