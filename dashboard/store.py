"""The per-session filter store: the single source of truth every view reads. Imports no Panel."""

from __future__ import annotations

import datetime as dt
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import NamedTuple, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import param

from .config import FILTER_DEFINITIONS, POPULATIONS, FilterDefinition
from .loaders.cuts import TrialSeries
from .model.dataset import TrialDataset
from .transforms.filtering import FilterSpec, filter_subjects, restrict_to_subjects

# Derived values the store keeps: enough for every view of a few recent filter settings.
MEMO_ENTRIES = 128

T = TypeVar("T")


class PatientCounts(NamedTuple):
    """Patients matching the filters (`shown`) out of all patients of the population (`total`)."""

    shown: int
    total: int

def _filter_parameter(definition: FilterDefinition) -> param.Parameter:
    """The store parameter of one filter definition (its values or bounds are set from the data)."""
    if definition.kind == "choice":
        return param.ListSelector(default=[], objects=[], doc=definition.help)
    if definition.kind == "range":
        return param.Range(default=None, allow_None=True, doc=definition.help)
    return param.CalendarDateRange(default=None, allow_None=True, doc=definition.help)


FilterParameters = type("FilterParameters", (param.Parameterized,), {
    "__doc__": "One parameter per global filter of `config.FILTER_DEFINITIONS` (the base of TrialStore).",
    **{d.name: _filter_parameter(d) for d in FILTER_DEFINITIONS},
})


class TrialStore(FilterParameters):
    """Filters and data cut for one session over one shared, immutable `TrialDataset`."""

    dataset = param.ClassSelector(class_=TrialDataset, constant=True, doc="The trial data (shared, read-only).")
    population = param.Selector(default="ITT", objects=list(POPULATIONS), doc="Analysis population.")
    tab = param.Selector(default=None, objects=[], allow_None=True,
                         doc="Title of the main tab on screen: the app lists the shown tabs and keeps this and "
                             "the tabs in step, so a view opens another tab by setting it.")

    series = param.ClassSelector(class_=TrialSeries, default=None, allow_None=True, constant=True,
                                 doc="Every data cut of the trial when it was loaded as a series (shared, read-only); "
                                     "`dataset` is one of its cuts.")
    cut = param.Selector(default=None, objects=[], allow_None=True,
                         doc="The data cut every tab shows ('as of', ISO date): the cut of `dataset`.")
    compare = param.Selector(default=None, objects=[], allow_None=True,
                             doc="The earlier data cut (ISO date) the Changes tab and the headline changes compare with.")

    FILTERS = (*(d.name for d in FILTER_DEFINITIONS), "population")

    def __init__(self, dataset: TrialDataset, series: TrialSeries | None = None, **params):
        super().__init__(dataset=dataset, series=series)
        self._memo: OrderedDict = OrderedDict()
        if series is not None:
            cut = dataset.cutoff.date().isoformat()
            self.param.cut.objects = list(reversed(series.dates))
            self.cut = cut
            earlier = series.before(cut)
            self.param.compare.objects = earlier
            self.compare = earlier[0] if earlier else None
        self.filters = tuple(d for d in FILTER_DEFINITIONS if self._offer(d))
        """The filter definitions this trial can answer (their column holds values); the others stay unset."""
        self.param.population.objects = [p for p, flag in POPULATIONS.items() if flag in dataset.adsl]
        self.param.update(**params)
        self.filtered_subjects = param.rx(self.subjects)
        """Reactive filtered ADSL: bind views to it (`pn.bind(render, store.filtered_subjects, ...)`)."""

    def _offer(self, definition: FilterDefinition) -> bool:
        """Set the filter's choices or bounds from the data; False when the trial's ADSL cannot answer it."""
        adsl, parameter = self.dataset.adsl, self.param[definition.name]
        if definition.column not in adsl or not adsl[definition.column].notna().any():
            return False
        column = adsl[definition.column]
        if definition.kind == "choice":
            if definition.options == "arm":
                parameter.objects = self.dataset.arms
            elif definition.options == "site":
                parameter.objects = sorted(column.dropna().unique(), key=_natural_key)
            else:
                parameter.objects = sorted(self.dataset.randomized[definition.column].dropna().unique())
            return bool(parameter.objects)
        if definition.kind == "range":
            bounds = (int(column.min()), int(column.max()) + 1)
        else:
            bounds = (column.min().date(), column.max().date())
        parameter.bounds = bounds
        parameter.default = bounds
        setattr(self, definition.name, bounds)
        return True

    @classmethod
    def from_url(cls, dataset: TrialDataset, url_or_query: str, series: TrialSeries | None = None) -> "TrialStore":
        """A store with the filters of a shared dashboard link (a full URL or its `?query`) on `dataset` (one
        cut of `series`, when given). Values the dataset does not know are skipped with a warning, as the
        dashboard does."""
        from .links import apply_query  # links imports this module

        text = str(url_or_query)
        query = urlsplit(text).query if "://" in text else text.lstrip("?")
        store = cls(dataset, series=series)
        for problem in apply_query(store, dict(parse_qsl(query))):
            warnings.warn(problem, stacklevel=2)
        return store

    def reset(self) -> None:
        """Restore every filter to its default (all patients of the default population)."""
        self.param.update(**{name: self.param[name].default for name in self.FILTERS})

    @property
    def filter_spec(self) -> FilterSpec:
        """The current filters as a plain immutable value (what transforms receive); a range at its bounds
        is no restriction."""
        values = {}
        for definition in self.filters:
            value = getattr(self, definition.name)
            if definition.kind == "choice":
                values[definition.name] = tuple(value)
            elif value is not None and tuple(value) != tuple(self.param[definition.name].bounds or ()):
                values[definition.name] = tuple(pd.Timestamp(v) for v in value) if definition.kind == "dates" else tuple(value)
        return FilterSpec(**values, population_flag=POPULATIONS[self.population])

    def memo(self, key: Hashable, compute: Callable[[FilterSpec], T]) -> T:
        """`compute(filter_spec)` for the current filters, computed once per filter spec and `key`: the one
        cache of a session's derived data (the least recently used values are dropped)."""
        spec = self.filter_spec
        return self._remember((spec, key), lambda: compute(spec))

    def memo_unfiltered(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per `key`, in the same cache as `memo`, for a value the filters do not change (one
        that compares every site, or two data cuts); `key` names what it depends on (e.g. the cut dates)."""
        return self._remember((None, key), compute)

    def _remember(self, entry: Hashable, compute: Callable[[], T]) -> T:
        if entry in self._memo:
            self._memo.move_to_end(entry)
            return self._memo[entry]
        value = compute()
        self._memo[entry] = value
        if len(self._memo) > MEMO_ENTRIES:
            self._memo.popitem(last=False)
        return value

    @param.depends(*FILTERS)
    def subjects(self) -> pd.DataFrame:
        """ADSL rows of the filtered analysis population (randomized subjects only)."""
        return self.memo("subjects", lambda spec: filter_subjects(self.dataset.adsl, spec))

    def subjects_in(self, population: str) -> pd.DataFrame:
        """ADSL rows matching every filter but in the given analysis population (a name of POPULATIONS)."""
        if population == self.population:
            return self.subjects()
        return self.memo(("subjects in", population), lambda spec: filter_subjects(
            self.dataset.adsl, replace(spec, population_flag=POPULATIONS[population])))

    def subjects_at_every_site(self) -> pd.DataFrame:
        """ADSL rows matching every filter but the site filter (charts that show all sites)."""
        return self.memo("subjects at every site",
                         lambda spec: filter_subjects(self.dataset.adsl, replace(spec, sites=())))

    @param.depends(*FILTERS)
    def screened(self) -> pd.DataFrame:
        """ADSL rows of all screened subjects matching the filters that apply before randomization."""
        return self.memo("screened", lambda spec: filter_subjects(self.dataset.adsl, spec.pre_randomization()))

    def table(self, name: str) -> pd.DataFrame | None:
        """A table restricted to the filtered subjects (None when the dataset lacks it)."""
        df = getattr(self.dataset, name)
        if df is None:
            return None
        return self.memo(("table", name), lambda spec: restrict_to_subjects(df, self.subjects()))

    @param.depends(*FILTERS)
    def counts(self) -> PatientCounts:
        """Filtered patients of the current population, and all patients of that population."""
        return self.memo("counts", lambda spec: PatientCounts(
            len(self.subjects()), int((self.dataset.adsl[POPULATIONS[self.population]] == "Y").sum())))

    @param.depends(*FILTERS)
    def summary(self) -> str:
        """'87 of 203 patients' for the current population."""
        shown, total = self.counts()
        return f"{shown} of {total} patients"

    @property
    def cutoff(self) -> dt.date:
        """The data cut date: shown on every page and export."""
        return self.dataset.cutoff.date()

    def compared_subjects(self) -> pd.DataFrame | None:
        """ADSL rows of the compared cut that the current filters select (None without a compared cut)."""
        if self.compared is None:
            return None
        return self.memo(("compared subjects", self.compare), lambda spec: filter_subjects(self.compared.adsl, spec))

    @property
    def compared(self) -> TrialDataset | None:
        """The dataset of the `compare` cut (None without a series or an earlier cut)."""
        return None if self.series is None or self.compare is None else self.series.at(self.compare)


def _natural_key(value: str):
    text = str(value)
    return (0, int(text)) if text.isdigit() else (1, text)
