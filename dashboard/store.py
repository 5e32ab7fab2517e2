"""The per-session filter store: the single source of truth every view reads. Imports no Panel."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import param

from .loaders.cuts import TrialSeries
from .model.dataset import TrialDataset
from .transforms.filtering import FilterSpec, filter_subjects, restrict_to_subjects

POPULATIONS = {"ITT": "ITTFL", "Safety": "SAFFL", "Evaluable": "EFFFL"}


class TrialStore(param.Parameterized):
    """Filters and data cut for one session over one shared, immutable `TrialDataset`."""

    dataset = param.ClassSelector(class_=TrialDataset, constant=True, doc="The trial data (shared, read-only).")
    sites = param.ListSelector(default=[], objects=[], doc="Sites to include (SITEID); empty means all.")
    arms = param.ListSelector(default=[], objects=[], doc="Randomized arms to include; empty means all.")
    sexes = param.ListSelector(default=[], objects=[], doc="Sexes to include; empty means all.")
    grades = param.ListSelector(default=[], objects=[], doc="aGVHD grades at entry to include; empty means all.")
    diagnoses = param.ListSelector(default=[], objects=[], doc="Underlying diseases to include; empty means all.")
    age_range = param.Range(default=(0, 120), bounds=(0, 120), doc="Age range at screening (years, inclusive).")
    randomization_dates = param.CalendarDateRange(default=None, doc="Randomization date range (inclusive).")
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

    FILTERS = ("sites", "arms", "sexes", "grades", "diagnoses", "age_range", "randomization_dates", "population")

    def __init__(self, dataset: TrialDataset, series: TrialSeries | None = None, **params):
        adsl = dataset.adsl
        randomized = dataset.randomized
        super().__init__(dataset=dataset, series=series)
        if series is not None:
            cut = dataset.cutoff.date().isoformat()
            self.param.cut.objects = list(reversed(series.dates))
            self.cut = cut
            earlier = series.before(cut)
            self.param.compare.objects = earlier
            self.compare = earlier[0] if earlier else None
        self.param.sites.objects = sorted(adsl["SITEID"].dropna().unique(), key=_natural_key)
        self.param.arms.objects = dataset.arms
        for name, column in (("sexes", "SEX"), ("grades", "AGVHDGR"), ("diagnoses", "DIAG")):
            self.param[name].objects = sorted(randomized[column].dropna().unique()) if column in adsl else []
        if "AGE" in adsl and adsl["AGE"].notna().any():
            lo, hi = int(adsl["AGE"].min()), int(adsl["AGE"].max()) + 1
            self.param.age_range.bounds = (lo, hi)
            self.param.age_range.default = (lo, hi)
            self.age_range = (lo, hi)
        if "RANDDT" in adsl and adsl["RANDDT"].notna().any():
            bounds = (adsl["RANDDT"].min().date(), adsl["RANDDT"].max().date())
            self.param.randomization_dates.bounds = bounds
            self.param.randomization_dates.default = bounds
            self.randomization_dates = bounds
        available = [p for p, flag in POPULATIONS.items() if flag in adsl]
        self.param.population.objects = available
        self.param.update(**params)
        self.filtered_subjects = param.rx(self.subjects)
        """Reactive filtered ADSL: bind views to it (`pn.bind(render, store.filtered_subjects, ...)`)."""

    def reset(self) -> None:
        """Restore every filter to its default (all patients of the default population)."""
        self.param.update(**{name: self.param[name].default for name in self.FILTERS})

    @property
    def filter_spec(self) -> FilterSpec:
        """The current filters as a plain immutable value (what transforms receive)."""
        age_bounds = self.param.age_range.bounds
        date_bounds = self.param.randomization_dates.bounds
        return FilterSpec(
            sites=tuple(self.sites),
            arms=tuple(self.arms),
            sexes=tuple(self.sexes),
            grades=tuple(self.grades),
            diagnoses=tuple(self.diagnoses),
            age_range=None if tuple(self.age_range) == tuple(age_bounds) else tuple(self.age_range),
            randomization_dates=(
                None
                if self.randomization_dates is None or tuple(self.randomization_dates) == tuple(date_bounds or ())
                else tuple(pd.Timestamp(d) for d in self.randomization_dates)
            ),
            population_flag=POPULATIONS[self.population],
        )

    @param.depends(*FILTERS)
    def subjects(self) -> pd.DataFrame:
        """ADSL rows of the filtered analysis population (randomized subjects only)."""
        return self._cached("subjects", lambda spec: filter_subjects(self.dataset.adsl, spec))

    @param.depends(*FILTERS)
    def screened(self) -> pd.DataFrame:
        """ADSL rows of all screened subjects matching the filters that apply before randomization."""
        return self._cached("screened", lambda spec: filter_subjects(self.dataset.adsl, spec.pre_randomization()))

    def table(self, name: str) -> pd.DataFrame | None:
        """A table restricted to the filtered subjects (None when the dataset lacks it)."""
        df = getattr(self.dataset, name)
        if df is None:
            return None
        return self._cached(f"table:{name}", lambda spec: restrict_to_subjects(df, self.subjects()))

    @param.depends(*FILTERS)
    def summary(self) -> str:
        """'87 of 203 patients' for the current population."""
        total = int((self.dataset.adsl[POPULATIONS[self.population]] == "Y").sum())
        return f"{len(self.subjects())} of {total} patients"

    @property
    def cutoff(self) -> dt.date:
        """The data cut date: shown on every page and export."""
        return self.dataset.cutoff.date()

    @property
    def compared(self) -> TrialDataset | None:
        """The dataset of the `compare` cut (None without a series or an earlier cut)."""
        return None if self.series is None or self.compare is None else self.series.at(self.compare)

    def _cached(self, key, compute):
        spec = self.filter_spec
        cache = self.__dict__.setdefault("_derived", {})
        hit = cache.get(key)
        if hit is not None and hit[0] == spec:
            return hit[1]
        value = compute(spec)
        cache[key] = (spec, value)
        return value


def _natural_key(value: str):
    text = str(value)
    return (0, int(text)) if text.isdigit() else (1, text)
