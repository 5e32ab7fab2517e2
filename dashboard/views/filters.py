"""The sidebar of global filters: one widget per store filter, the patient count and a reset button."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..config import POPULATION_LABELS, SEX_LABELS
from ..store import TrialStore
from ..transforms.formatting import arm_with_short_label
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
        """One widget per filter the trial has (`store.filters`, in `config.FILTER_DEFINITIONS` order), then the population."""
        store = self.store
        widgets = []
        for definition in store.filters:
            parameter = store.param[definition.name]
            if definition.kind == "choice":
                show = self._option_label(definition.options)
                widgets.append(pn.widgets.MultiChoice.from_param(
                    parameter, name=definition.label, options=choice_options({show(v): v for v in parameter.objects}),
                    placeholder=definition.placeholder, sizing_mode="stretch_width", solid=False,
                    stylesheets=[CHOICES_CSS],
                ))
            elif definition.kind == "range":
                widgets.append(pn.widgets.IntRangeSlider.from_param(
                    parameter, name=definition.label, step=1, throttled=True, sizing_mode="stretch_width",
                ))
            else:
                widgets.append(pn.widgets.DateRangeSlider.from_param(
                    parameter, name=definition.label, throttled=True, format="%Y-%m-%d", sizing_mode="stretch_width",
                ))
        widgets.append(pn.widgets.RadioButtonGroup.from_param(
            store.param.population, name="Population", button_type="primary", button_style="outline",
            sizing_mode="stretch_width",
        ))
        return widgets

    def _option_label(self, options: str):
        """How a choice value reads in the sidebar (`FilterDefinition.options`): site name, arm with its short
        label, sex in words, "Grade II", or the value as it is."""
        dataset = self.store.dataset
        if options == "site":
            sites = site_labels(dataset.adsl, dataset.sites)
            return lambda v: sites.get(str(v), str(v))
        if options == "arm":
            return lambda v: arm_with_short_label(v, dataset.info.arm_short_labels)
        if options == "sex":
            return lambda v: SEX_LABELS.get(v, str(v))
        if options == "grade":
            return lambda v: f"Grade {v}"
        return str

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
