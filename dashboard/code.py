"""Show code: for every tab and sub-tab, Python that reproduces its table (and figure) from the data
source with the session's filters, using only the package's public API; the same as a notebook.

The mapping view -> code lives here only (`PARTS`): one `Part` per sub-tab with the code it generates
and `shown`, the function returning the DataFrame the view itself computes for it (`view_data`).
Imports no Panel.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

import nbformat
import pandas as pd

from .links import filters_to_query
from .model.dataset import TrialDataset
from .store import TrialStore

VERSIONED_PACKAGES = ("trial-dashboard", "panel", "holoviews", "bokeh", "pandas", "param", "numpy", "scipy",
                      "statsmodels", "lifelines")


def package_versions(packages=VERSIONED_PACKAGES) -> dict[str, str]:
    """Installed version of each package (name -> version; "not installed" when absent), for provenance."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def software_versions() -> str:
    """'trial-dashboard 0.1.0, panel 1.9.4, ...': the versions behind a result, for exports and notebooks."""
    return ", ".join(f"{name} {version}" for name, version in package_versions().items())


def data_source(dataset: TrialDataset) -> str | None:
    """The folder (or single file) the dataset was loaded from, None when it was built in memory."""
    files = [Path(str(f["path"])) for f in (dataset.provenance.get("files") or {}).values() if f.get("path")]
    if not files:
        return None
    folders = {f.parent for f in files}
    return str(folders.pop()) if len(folders) == 1 else None


def link_query(store: TrialStore) -> str:
    """The store's non-default filters as a dashboard link query ("?arms=MSC&sites=01,03"; "" for none)."""
    query = urlencode(filters_to_query(store), safe=",")
    return f"?{query}" if query else ""


@dataclass(frozen=True)
class Part:
    """One sub-tab's code: `code(view)` returns (imports, statements) that end by setting `data`
    (and `figure` where the package has a public plot function); `shown(view)` is the frame the view shows."""

    tab: str
    name: str
    code: Callable[[object], tuple[list[str], str]]
    shown: Callable[[object], pd.DataFrame]
    available: Callable[[TrialDataset], bool] = lambda dataset: True


# --- code of each part ----------------------------------------------------------------------------
# Each returns (import lines, statements); statements may use `dataset`, `store` and `subjects`.

def _arms_shown() -> str:
    return "arms = [a for a in dataset.arms if a in set(subjects['ARM'])]"


def _overview_status(view):
    return (["from dashboard.transforms.overview import study_status_by_arm"],
            "data = study_status_by_arm(subjects, dataset.arms)")


def _overview_primary(view):
    return (["from dashboard.transforms.overview import primary_endpoint_status_by_arm"],
            "data = primary_endpoint_status_by_arm(subjects, dataset.adrs, dataset.cutoff, "
            "dataset.info.primary_visit_day,\n                                      dataset.arms, "
            "windows=dataset.info.visit_window_days)")


def _overview_sae(view):
    return (["from dashboard.transforms.filtering import restrict_to_subjects",
             "from dashboard.transforms.overview import serious_ae_by_arm"],
            "data = serious_ae_by_arm(subjects, restrict_to_subjects(dataset.adae, subjects), dataset.arms)")


def _site_performance(view):
    return (["from dashboard.transforms.enrollment import has_screening_data, recruitment_end, site_activation, "
             "site_performance"],
            textwrap.dedent("""\
                screened = store.screened() if has_screening_data(dataset.adsl) else None
                activation = site_activation(dataset.adsl, dataset.sites)
                if store.sites:
                    activation = activation[activation["SITEID"].isin(store.sites)]
                until, _ = recruitment_end(dataset.randomized["RANDDT"], dataset.info.target_enrollment, dataset.cutoff)
                """) + _arms_shown() + "\n" +
            "data = site_performance(subjects, screened, activation, dataset.cutoff, arms=arms, sites=dataset.sites, "
            "until=until)")


def _monthly_accrual(view):
    return (["from dashboard.transforms.enrollment import enrollment_closed, monthly_accrual"],
            "closed = enrollment_closed(dataset.randomized['RANDDT'], dataset.info.target_enrollment)\n"
            + _arms_shown() + "\n" + "data = monthly_accrual(subjects, closed or dataset.cutoff, arms=arms)")


def _balance_arms() -> str:
    return "arms = [a for a in dataset.arms if not store.arms or a in store.arms]"


def _table1(view):
    return (["from dashboard.transforms.balance import arm_counts, baseline_table, table1_frame"],
            f"{_balance_arms()}\ntable = baseline_table(subjects, {list(view.variables)!r}, arms, "
            f"threshold={view.threshold!r}, pvalues={view.show_pvalues!r})\n"
            "data = table1_frame(table, arm_counts(subjects, arms))")


def _love(view):
    return (["from dashboard.transforms.balance import standardized_differences",
             "from dashboard.views.balance import love_plot"],
            f"{_balance_arms()}\ndata = standardized_differences(subjects, {list(view.variables)!r}, arms)\n"
            f"figure = love_plot(data, {view.threshold!r}, dataset.arm_colors)")


def _allocation(view):
    return (["from dashboard.transforms.balance import allocation_by_site",
             "from dashboard.views.balance import site_bars"],
            f"{_balance_arms()}\ndata = allocation_by_site(subjects, arms)\n"
            "figure = site_bars(data, arms, dataset.arm_colors)")


def _strata(view):
    return (["from dashboard.transforms.balance import stratum_balance"],
            f"{_balance_arms()}\ndata = stratum_balance(subjects, {list(view.factors)!r}, arms)")


def _status() -> tuple[list[str], str]:
    return (["from dashboard.transforms.response import response_status_by_visit"],
            _arms_shown() + "\nstatus = response_status_by_visit(subjects, dataset.adrs, dataset.cutoff, "
            "windows=dataset.info.visit_window_days)")


def _response_by_visit(view):
    imports, code = _status()
    return (imports + ["from dashboard.transforms.response import overall_response_by_visit"],
            code + "\ndata = overall_response_by_visit(status, arms)")


def _transitions(view):
    imports, code = _status()
    transitions = view.sections["Transitions"]
    start, end = transitions.start, transitions.end
    return (imports + ["from dashboard.transforms.response import response_transitions"],
            code + f"\ndata = response_transitions(status, {start!r}, {end!r}, arms)")


def _subgroups(view):
    imports, code = _status()
    visit = view.sections["Subgroups"].visit
    return (imports + ["from dashboard.config import RESPONSE_SUBGROUPS, SUBGROUP_MIN_LEVEL_SIZE",
                       "from dashboard.transforms.response import control_arm, subgroup_response_differences"],
            code + textwrap.dedent(f"""
                control = control_arm(arms)
                treatment = next(a for a in arms if a != control)
                data = subgroup_response_differences(status, subjects, {visit!r}, treatment, control, RESPONSE_SUBGROUPS,
                                                     min_level_size=SUBGROUP_MIN_LEVEL_SIZE)"""))


def _swimmer(view):
    return (["from dashboard.transforms.response import response_status_by_visit, swimmer_lanes"],
            "status = response_status_by_visit(subjects, dataset.adrs, dataset.cutoff) if dataset.has('adrs') else None\n"
            "data = swimmer_lanes(subjects, dataset.cutoff, status, dataset.adtte)")


def _time_to_event(view):
    paramcd = view.sections["Time to event"].endpoint
    return (["from dashboard.transforms.survival import cumulative_incidence, km_by_arm, tte_data, tte_parameters"],
            textwrap.dedent(f"""\
                tte = tte_data(subjects, dataset.adtte, {paramcd!r})
                arms = [a for a in dataset.arms if a in set(tte['ARM'])]
                parameters = tte_parameters(dataset.adtte).set_index('PARAMCD')
                competing = bool(parameters.loc[{paramcd!r}, 'competing'])  # Aalen-Johansen, else Kaplan-Meier
                data = cumulative_incidence(tte, arms) if competing else km_by_arm(tte, arms)"""))


def _safety_events() -> str:
    return "adae = prepare_adae(dataset.adae)\narms = arm_order(subjects, dataset.arms)"


def _ae_incidence(view):
    risk = (f"risk_difference_by_term(incidence, {view.arm_a!r}, {view.arm_b!r})"
            if view.risk() is not None else "None")
    return (["from dashboard.transforms.safety import (ae_incidence_by_arm, arm_order, filter_min_incidence, "
             "grade_bands, grade_basis,\n                                         incidence_table, prepare_adae, "
             "risk_difference_by_term, select_events)"],
            _safety_events() + textwrap.dedent(f"""
                events = select_events(adae, subjects, serious_only={view.serious_only!r}, related_only={view.related_only!r},
                                       treatment_emergent_only={view.treatment_emergent_only!r}, search={view.search!r})
                incidence = ae_incidence_by_arm(events, subjects, arms=dataset.arms, bands=grade_bands(grade_basis(dataset.adae)))
                data = incidence_table(filter_min_incidence(incidence, {view.min_incidence!r}), arms, count={view.count!r},
                                       risk={risk}, sort_by={view.sort_by!r})"""))


def _onset(view):
    return (["from dashboard.config import SAFETY_TOPICS",
             "from dashboard.transforms.safety import (ae_onset_cumulative_incidence, arm_order, "
             "has_treatment_emergent_flag,\n                                         prepare_adae, select_events, "
             "topic_events)"],
            _safety_events() + textwrap.dedent(f"""
                events = select_events(adae, subjects, treatment_emergent_only=has_treatment_emergent_flag(dataset.adae))
                topic = next(t for t in SAFETY_TOPICS if t.label == {view.topic!r})
                data = ae_onset_cumulative_incidence(topic_events(events, topic), subjects, arms=dataset.arms)"""))


def _exposure(view):
    return (["from dashboard.transforms.safety import (ae_collection_days, arm_order, exposure_adjusted_rates, "
             "prepare_adae,\n                                         select_events)"],
            _safety_events() + textwrap.dedent(f"""
                events = select_events(adae, subjects, serious_only={view.serious_only!r}, related_only={view.related_only!r},
                                       treatment_emergent_only={view.treatment_emergent_only!r}, search={view.search!r})
                days, _ = ae_collection_days(dataset.adae, dataset.adsl, dataset.info.ae_collection_days)
                data = exposure_adjusted_rates(events, subjects, dataset.cutoff, window_days=days, arms=arms)"""))


def _findings(view):
    return (["from dashboard.views.data_quality import findings_frame"], "data = findings_frame(dataset.report)")


def _site_risk(view):
    return (["from dashboard.transforms.kri import site_kris"],
            "info = dataset.info\n"
            "# every randomized patient of every site: flags compare sites with each other (no site filter)\n"
            "data = site_kris(dataset.randomized, dataset.adae, dataset.adrs, dataset.cutoff, "
            "visit_days=info.visit_days,\n                 visit_windows=info.visit_window_days, "
            "ae_collection_days=info.ae_collection_days)")


def _files(view):
    return (["from dashboard.views.data_quality import provenance_frame"], "data = provenance_frame(dataset)")


# --- defaults the views open with ----------------------------------------------------------------

def primary_response_visit(dataset: TrialDataset) -> str:
    """The visit the response views compare at first (the protocol's primary day, else the last visit)."""
    from .transforms.response import primary_visit, response_visits

    return primary_visit(response_visits(dataset.adrs), dataset.info.primary_visit_day)


# --- what each view shows (the view's own computation) ---------------------------------------------

def _shown_overview(attribute):
    def shown(view):
        value = getattr(view.summarize(view.store.subjects()), attribute)
        if isinstance(value, str):
            raise ValueError(value)
        return value
    return shown


def _shown_balance(transform: str, setting: str | None = None):
    """A balance transform on the Arm balance view's subjects, arms and (optionally) its own setting."""
    def shown(view):
        from .transforms import balance

        extra = [list(getattr(view, setting))] if setting else []
        return getattr(balance, transform)(view.store.subjects(), *extra, view.arms_shown(view.store.arms))
    return shown


def _shown_response_by_visit(view):
    from .transforms.response import overall_response_by_visit
    from .views.response import response_status

    subjects = view.store.subjects()
    arms = [a for a in view.store.dataset.arms if a in set(subjects["ARM"])]
    return overall_response_by_visit(response_status(view.store), arms)


def _element_frames(obj, element_type) -> list[pd.DataFrame]:
    """The data of every `element_type` element inside a Panel/HoloViews object as drawn."""
    import holoviews as hv
    import panel as pn

    if isinstance(obj, pn.viewable.Viewable):
        return [f for pane in obj.select(pn.pane.HoloViews) for f in _element_frames(pane.object, element_type)]
    if type(obj) is element_type:  # exactly: an Area is a Curve too
        return [obj.data]
    if isinstance(obj, (hv.Overlay, hv.Layout, hv.NdOverlay)):
        return [f for item in obj.values() for f in _element_frames(item, element_type)]
    return []


def _shown_transitions(view):
    import holoviews as hv

    transitions = view.sections["Transitions"]
    drawn = transitions._render(view.store.subjects(), transitions.start, transitions.end)
    heat = pd.concat(_element_frames(drawn, hv.HeatMap), ignore_index=True)
    return heat[["ARM", "FROM", "TO", "n", "pct_of_from"]]


def _shown_subgroups(view):
    import holoviews as hv

    subgroups = view.sections["Subgroups"]
    drawn = subgroups._render(view.store.subjects(), subgroups.visit)
    # estimable rows are drawn as points, the others as "not estimable" labels; "Row" is the order drawn
    rows = [f for f in _element_frames(drawn, hv.Scatter) + _element_frames(drawn, hv.Labels) if "SUBGROUP" in f]
    rows = pd.concat(rows).sort_values("Row", ascending=False)
    return rows.loc[rows["SUBGROUP"] != "All patients", SUBGROUP_COLUMNS].reset_index(drop=True)


SUBGROUP_COLUMNS = ["SUBGROUP", "LEVEL", "n_t", "N_t", "n_c", "N_c", "diff", "diff_low", "diff_high"]


def _shown_swimmer(view):
    lanes = view.sections["Swimmer plot"].lanes()
    # the view's sort keys, and a "No assessment" best response when the data have no response assessments
    return lanes.drop(columns=["best_rank", "arm_rank", *([] if view.store.dataset.has("adrs") else ["BEST"])])


def _shown_time_to_event(view):
    import holoviews as hv

    survival = view.sections["Time to event"]
    drawn = survival._render(view.store.subjects(), survival.endpoint)
    return pd.concat(_element_frames(drawn, hv.Curve), ignore_index=True).drop(columns="Months")


def _shown_onset(view):
    import holoviews as hv

    curves = _element_frames(view._onset_plot(view.store.subjects(), view.topic), hv.Curve)
    # the view extends each arm's curve to the last day shown: one extra row per arm
    return pd.concat([c.iloc[:-1] for c in curves], ignore_index=True).drop(columns=["TEXT", "ARM_LABEL"])


def _shown_exposure(view):
    from .transforms.safety import exposure_adjusted_rates

    subjects = view.store.subjects()
    return exposure_adjusted_rates(view.events(), subjects, view.store.dataset.cutoff,
                                   window_days=view.collection_days, arms=view.arms_shown(subjects))


def _shown_table(kind: str):
    """A data-quality table as drawn (the Tabulator whose columns start like `kind`'s frame)."""
    def shown(view):
        import panel as pn

        first_column = {"findings": "Severity", "files": "Dataset"}[kind]
        tables = [t.value for t in view.__panel__().select(pn.widgets.Tabulator) if t.value.columns[0] == first_column]
        if not tables:
            raise ValueError(f"the Data quality tab shows no {kind} table for these data")
        return tables[0]
    return shown


def _has_safety_topic(dataset: TrialDataset) -> bool:
    from .config import SAFETY_TOPICS
    from .transforms.safety import topic_available

    return dataset.has("adae") and any(topic_available(dataset.adae, t) for t in SAFETY_TOPICS)


def _has(*tables):
    return lambda dataset: all(dataset.has(t) for t in tables)


PARTS: tuple[Part, ...] = (
    Part("Overview", "Study status", _overview_status, _shown_overview("status")),
    Part("Overview", "Primary endpoint status", _overview_primary, _shown_overview("primary"),
         lambda d: d.has("adrs") and d.info.primary_visit_day is not None),
    Part("Overview", "Serious AEs", _overview_sae, _shown_overview("sae"), _has("adae")),
    Part("Enrollment", "Site performance", _site_performance, lambda v: v._performance()),
    Part("Enrollment", "Monthly accrual", _monthly_accrual, lambda v: v._monthly()[0],
         lambda d: "RANDDT" in d.adsl),
    Part("Arm balance", "Table 1", _table1, lambda v: v.current_table1()),
    Part("Arm balance", "Love plot", _love, _shown_balance("standardized_differences", "variables")),
    Part("Arm balance", "Allocation", _allocation, _shown_balance("allocation_by_site")),
    Part("Arm balance", "Stratification factors", _strata, _shown_balance("stratum_balance", "factors")),
    Part("Response", "Response by visit", _response_by_visit, _shown_response_by_visit, _has("adrs")),
    Part("Response", "Transitions", _transitions, _shown_transitions, _has("adrs")),
    Part("Response", "Swimmer plot", _swimmer, _shown_swimmer),
    Part("Response", "Time to event", _time_to_event, _shown_time_to_event, _has("adtte")),
    Part("Response", "Subgroups", _subgroups, _shown_subgroups, _has("adrs")),
    Part("Adverse events", "Incidence and signals", _ae_incidence,
         lambda v: v.table_frame().drop(columns=["Body system", "Term"])),
    Part("Adverse events", "Onset over time", _onset, _shown_onset, lambda d: _has_safety_topic(d)),
    Part("Adverse events", "Focus panels and exposure", _exposure, _shown_exposure),
    Part("Site risk", "Key risk indicators", _site_risk, lambda v: v.results()),
    Part("Data quality", "Findings", _findings, _shown_table("findings"), lambda d: bool(d.report.findings)),
    Part("Data quality", "Files read", _files, _shown_table("files"), lambda d: bool(d.provenance.get("files"))),
)


def parts_of(view) -> list[Part]:
    """The parts (sub-tabs) of a tab view that its dataset can show."""
    dataset, sections = view.store.dataset, getattr(view, "sections", None)
    return [p for p in PARTS if p.tab == view.title and p.available(dataset) and (sections is None or p.name in sections)]


def part_named(view, name: str) -> Part:
    """The part of `view` called `name` (KeyError when the view has none of that name)."""
    for part in parts_of(view):
        if part.name == name:
            return part
    raise KeyError(f"{view.title} has no part {name!r}; it has {[p.name for p in parts_of(view)]}")


def view_data(view, name: str) -> pd.DataFrame:
    """The DataFrame behind part `name` of a tab view (e.g. `view_data(balance, "Table 1")`), as the view
    computes it for its store's current filters and its own settings."""
    return part_named(view, name).shown(view)


def view_code(view, name: str) -> str:
    """A runnable script reproducing part `name` of a view for the store's current filters: loads the data
    source, restores the filters from the link query, calls the transform; ends with `data`."""
    store = view.store
    dataset = store.dataset
    source = data_source(dataset)
    if source is None:
        raise ValueError("these data were built in memory, not loaded from files, so no code can reload them")
    imports, body = part_named(view, name).code(view)
    lines = [
        f"# {view.title} · {name}: {dataset.info.registry_id}, data cut {store.cutoff.isoformat()}",
        f"# {dataset.provenance_text()}",
        "from dashboard.loaders import load_dataset",
        "from dashboard.store import TrialStore",
        *imports,
        "",
        f"dataset = load_dataset({source!r})",
        f"store = TrialStore.from_url(dataset, {link_query(store)!r})  # the dashboard's filters",
        "subjects = store.subjects()  # the filtered analysis population",
        body,
        "data",
    ]
    return "\n".join(lines) + "\n"


def provenance_markdown(dataset: TrialDataset, store: TrialStore | None = None) -> str:
    """Markdown header for notebooks: data source, checksums, data cut, filters and package versions."""
    files = (dataset.provenance.get("files") or {}).values()
    rows = "\n".join(f"| {Path(str(f['path'])).name} | `{f.get('sha256', '')}` |" for f in files)
    versions = software_versions()
    filters = link_query(store) if store is not None else ""
    return (f"**{dataset.info.registry_id}**, data cut **{dataset.cutoff.date().isoformat()}** "
            f"({dataset.cutoff_source}).  \n"
            f"Source: {data_source(dataset) or 'built in memory'}; {dataset.provenance_text()}.  \n"
            f"Filters: `{filters or 'none'}`.  \n"
            f"Packages: {versions}.  \nWritten {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n"
            + (f"| file | sha256 |\n|---|---|\n{rows}\n" if rows else ""))


def view_notebook(view, name: str) -> nbformat.NotebookNode:
    """`view_code` as a notebook: a provenance header (source, checksums, data cut, versions), then the code."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell(f"# {view.title} · {name}\n\n" + provenance_markdown(view.store.dataset, view.store)),
        nbformat.v4.new_code_cell(view_code(view, name)),
    ]
    return notebook
