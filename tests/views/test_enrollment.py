"""Enrollment tab without a browser: build the view, set store filters, inspect what it shows."""

from __future__ import annotations

import io

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest

from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.views.enrollment import EnrollmentView, consort_html
from dashboard.views.sites import OTHER_SITES, SiteChart
from dashboard.transforms.enrollment import screening_funnel
from tests.conftest import shared_path

MSC, CONTROL = NCT02241018.arm_order


def generated_trial(sites: int, arms, patients: int, *, screen_failures: int = 0, seed: int = 0,
                    with_sites_table: bool = True, info=None) -> TrialDataset:
    """A small random trial: `patients` randomized evenly over 2018-2019 at `sites` sites."""
    rng = np.random.default_rng(seed)
    n = patients + screen_failures
    site_ids = [f"{i + 1:03d}" for i in range(sites)]
    randomized = np.arange(n) < patients
    scrndt = pd.Timestamp("2018-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 700, n)), unit="D")
    adsl = pd.DataFrame({
        "STUDYID": "GEN", "USUBJID": [f"G{i:04d}" for i in range(n)],
        "SITEID": [site_ids[i % sites] for i in range(n)],
        "ARM": [arms[i % len(arms)] if r else "Screen Failure" for i, r in enumerate(randomized)],
        "RANDFL": np.where(randomized, "Y", "N"), "ITTFL": np.where(randomized, "Y", "N"),
        "SAFFL": np.where(randomized, "Y", "N"),
        "SCRNDT": scrndt, "RANDDT": pd.Series(scrndt + pd.Timedelta(days=3)).where(randomized),
        "SFREAS": np.where(randomized, None, "Inclusion criteria not met"),
    })
    if screen_failures == 0:
        adsl = adsl.drop(columns=["SCRNDT", "SFREAS"])
    sites_table = None
    if with_sites_table:
        sites_table = pd.DataFrame({
            "SITEID": site_ids, "SITENAME": [f"Hospital <{i}>" for i in range(sites)],
            "LAT": rng.uniform(20, 40, sites), "LON": rng.uniform(100, 120, sites),
            "ACTIVDT": pd.Timestamp("2017-12-01"),
        })
    return TrialDataset.create(adsl, cutoff="2019-12-31", info=info, sites=sites_table)


def render(store: TrialStore):
    layout = EnrollmentView(store=store).__panel__()
    layout.get_root()  # render once so bound panes update as in a served session
    return layout


def find(layout, kind, predicate=lambda obj: True):
    return [p for p in layout.select(kind) if predicate(p)]


def texts(layout) -> str:
    return "\n".join(str(p.object) for p in layout.select(pn.pane.Markdown) + layout.select(pn.pane.HTML))


def test_bundled_like_tiny_trial_states_plan_gap_and_cut(tiny):
    layout = render(TrialStore(tiny))
    text = texts(layout)
    assert "data cut **2017-06-30**" in text
    assert "behind plan on 2017-06-30: 5 randomized vs 129 planned" in text
    assert "Too little data to forecast" in text  # 5 patients: honest, no bands
    assert "Poisson-gamma" in text  # the model is named in the help


def test_site_filter_narrows_every_part_and_tap_sets_it(tiny):
    store = TrialStore(tiny)
    view = EnrollmentView(store=store)
    layout = view.__panel__()
    layout.get_root()
    tap = next(s for s in hv.streams.Stream.registry.get(
        next(p.object for p in layout.select(pn.pane.HoloViews) if isinstance(p.object, hv.DynamicMap)), [])
        if isinstance(s, hv.streams.Tap))
    tap.event(x=1, y=SiteChart(view=view).bar_labels["02"])
    assert store.sites == ["02"]
    bars = next(p.object for p in layout.select(pn.pane.HoloViews) if isinstance(p.object, hv.DynamicMap))[()].data
    assert bars.loc[bars["SITEID"] != "02", "Arm"].str.endswith(OTHER_SITES).all()  # the other sites are paler
    assert not bars.loc[bars["SITEID"] == "02", "Arm"].str.endswith(OTHER_SITES).any()
    text = texts(layout)
    assert "**2 of 5 patients**" in text
    assert "Randomized (n = 2)" in text  # CONSORT follows the site filter
    table = layout.select(pn.widgets.Tabulator)[0].value
    assert table["Site"].tolist() == ["02"]
    tap.event(x=1, y=SiteChart(view=view).bar_labels["02"])  # clicking the selected site again clears the filter
    assert store.sites == []


def test_csv_download_has_the_cut_in_name_and_header(tiny):
    store = TrialStore(tiny, sites=["01"])
    layout = render(store)
    csv, xlsx = layout.select(pn.widgets.FileDownload)[:2]
    assert csv.filename == f"{tiny.info.registry_id}_site_performance_cut2017-06-30.csv"
    assert xlsx.filename.endswith("_site_performance_cut2017-06-30.xlsx")
    text = csv.callback().read()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert "# Data cut: 2017-06-30" in comments and "# Filters: sites=01" in comments
    assert any(line.startswith("# Note: Months active end at ") for line in comments)
    frame = pd.read_csv(io.StringIO(text), comment="#", dtype={"Site": str})
    shown = layout.select(pn.widgets.Tabulator)[0].value
    assert list(frame.columns) == list(shown.columns) and frame["Site"].tolist() == ["01"]
    assert frame["Randomized"].tolist() == [2] == shown["Randomized"].tolist()


def test_arm_filter_hides_the_plan_and_says_why(tiny):
    layout = render(TrialStore(tiny, arms=[MSC]))
    assert "plan and forecast are hidden while arm filters" in texts(layout)


def test_no_patients_shows_the_empty_state(tiny):
    layout = render(TrialStore(tiny, sexes=["F"], diagnoses=["MDS"]))
    alerts = layout.select(pn.pane.Alert)
    assert alerts and "No patients match" in alerts[0].object
    assert any(col.visible for col in layout.objects if isinstance(col, pn.Column) and col.select(pn.pane.Alert))


def test_three_arms_ninety_five_sites_forecast_and_escaping():
    info = NCT02241018.__class__(title="Generated", registry_id="GEN", short_name="GEN", target_enrollment=600,
                                 planned_enrollment_start="2018-01-01", planned_enrollment_end="2020-12-31",
                                 arm_order=("A", "B", "C"))
    ds = generated_trial(95, ["A", "B", "C"], 380, screen_failures=40, info=info)
    layout = render(TrialStore(ds))
    text = texts(layout)
    assert "**Forecast:** Target of 600 forecast for" in text
    assert "Allocated to C" in text and "Excluded: screen failures (n = 40)" in text
    assert "Hospital <" not in text  # names from data are escaped in HTML
    table = layout.select(pn.widgets.Tabulator)[0].value
    assert len(table) == 95 and {"A", "B", "C"} <= set(table.columns)
    bars = next(p.object for p in layout.select(pn.pane.HoloViews) if isinstance(p.object, hv.DynamicMap))
    assert bars[()].data["SITEID"].nunique() == 95


def test_one_site_without_screening_or_sites_table_explains_what_is_missing():
    ds = generated_trial(1, [MSC, CONTROL], 30, with_sites_table=False, info=NCT02241018)
    layout = render(TrialStore(ds))
    text = texts(layout)
    assert "No screening data" in text and "flow starts at randomization" in text
    assert "Site map not drawn" in text
    assert "Assessed for eligibility" not in text
    assert layout.select(pn.widgets.Tabulator)[0].value["Site"].tolist() == ["001"]


def test_dataset_without_target_shows_actual_only():
    ds = generated_trial(3, ["X", "Y"], 40)
    assert ds.info.target_enrollment is None
    text = texts(render(TrialStore(ds)))
    assert "No enrollment target is set" in text and "**Forecast:**" not in text


def test_consort_counts_add_up_in_the_diagram(tiny):
    funnel = screening_funnel(tiny.adsl, arms=tiny.arms)
    page = consort_html(funnel, tiny.arms, tiny.arm_colors)
    assert "Assessed for eligibility (n = 6)" in page and "Excluded: screen failures (n = 1)" in page
    assert "Randomized (n = 5)" in page
    assert f"Allocated to {MSC} (n = 3)" in page and f"Allocated to {CONTROL} (n = 2)" in page
    assert "Completed: 1<br>Died: 0 · Withdrawn: 1" in page  # MSC: S1 completed, S3 withdrew, S5 ongoing
    assert "Completed: 0<br>Died: 1 · Withdrawn: 0" in page  # control: S4 discontinued and died, S2 ongoing


def test_consort_follow_up_gives_death_precedence_and_adds_up(tiny):
    adsl = tiny.adsl.copy()
    adsl.loc[adsl["USUBJID"] == "S1", "DTHFL"] = "Y"  # completed, then died: counted as died (as in Overview)
    funnel = screening_funnel(adsl, arms=tiny.arms)
    n = {(r.STAGE, r.ARM, r.DETAIL): r.N for r in funnel.itertuples()}
    assert [n[("Status", MSC, d)] for d in ("Completed", "Died", "Withdrawn", "Ongoing")] == [0, 1, 1, 1]
    for arm in tiny.arms:
        assert sum(n[("Status", arm, d)] for d in ("Completed", "Died", "Withdrawn", "Ongoing")) == \
            n[("Randomized", arm, "")]
    assert ("Withdrawn", CONTROL, "Death") not in n  # the dead are not listed among withdrawal reasons


def test_bundled_consort_matches_overview_status(bundled):
    from dashboard.transforms.overview import study_status

    page = consort_html(screening_funnel(bundled.adsl, arms=bundled.arms), bundled.arms, bundled.arm_colors)
    status = study_status(bundled.randomized)
    for arm in bundled.arms:
        counts = status[bundled.randomized["ARM"] == arm].value_counts()
        assert (f"Died: {counts.get('Died', 0)} · Withdrawn: {counts.get('Withdrawn', 0)}") in page
    assert "Withdrawn / discontinued" not in page


def test_site_bars_name_each_site_unambiguously(bundled):
    from dashboard.views.enrollment import EnrollmentView

    labels = SiteChart(view=EnrollmentView(store=TrialStore(bundled))).bar_labels
    assert labels["01"] == "01 · Nanfang Hospital"
    assert labels["06"] == "06 · General Hospital of Guangzhou Military Command"  # was the ambiguous "06 · General"
    assert all("…" not in v for v in labels.values())
    assert len({v.partition(" · ")[2] for v in labels.values()}) == len(labels)


def test_site_table_shows_every_row_without_selection(tiny):
    layout = render(TrialStore(tiny))
    table = layout.select(pn.widgets.Tabulator)[0]
    assert table.height is None and table.selectable is False and table.selection == []
    assert table.widths["Name"] > 0


@pytest.mark.parametrize("sites", [[], ["01"]])
def test_views_are_independent_per_session(tiny, sites):
    a, b = TrialStore(tiny), TrialStore(tiny)
    la, lb = render(a), render(b)
    a.sites = sites or ["03"]
    assert "**5 of 5 patients**" in texts(lb)
    assert "**5 of 5 patients**" not in texts(la)


def test_bundled_trial_reached_target_and_closed_sites_are_not_forecast(bundled):
    store = TrialStore(bundled)
    layout = render(store)
    target = bundled.info.target_enrollment
    assert f"Target reached: the {target}th patient was randomized on" in texts(layout)
    assert "after the planned completion" in texts(layout) or "before the planned completion" in texts(layout)
    store.sites = ["08"]
    text = texts(layout)
    site_target = int(bundled.sites.set_index("SITEID").loc["08", "TARGET"])
    n = len(store.subjects())
    assert f"the selected sites randomized {n} of their {site_target}" in text and "no forecast is made" in text
    assert "**Forecast:**" not in text


def test_consort_in_the_view_reads_adam_y_blank_flags(tiny):
    # DTHFL 'Y' or blank (nullable strings), as ADaM writes it: only S4 died, not every patient.
    adsl = tiny.adsl.assign(DTHFL=pd.array([None, None, None, "Y", None, None], dtype="string"),
                            EFFFL=pd.array(["Y", "Y", "Y", None, "Y", None], dtype="string"))
    dataset = TrialDataset.create(adsl, cutoff=tiny.cutoff, info=tiny.info, sites=tiny.sites.copy())
    flow = next(p.object for p in render(TrialStore(dataset)).select(pn.pane.HTML) if "consort" in str(p.object))
    assert "Completed: 1<br>Died: 0 · Withdrawn: 1" in flow  # MSC: S1 completed, S3 withdrew, S5 ongoing
    assert "Completed: 0<br>Died: 1 · Withdrawn: 0" in flow  # control: S4 died, S2 ongoing
    assert "Analysed (n = 1)</b>Excluded from analysis: 1" in flow  # control: S4 not evaluable


def test_pilot_consort_counts_the_three_deaths_not_every_patient():
    pilot_dir = shared_path("data", "external", "cdiscpilot01_adam")
    import pyreadstat
    from dashboard.loaders import load_dataset

    raw, _ = pyreadstat.read_xport(str(pilot_dir / "adsl.xpt"))
    deaths = raw.loc[raw["DTHFL"] == "Y"].groupby("ARM").size()
    pilot = load_dataset(str(pilot_dir))
    flow = next(p.object for p in render(TrialStore(pilot)).select(pn.pane.HTML) if "consort" in str(p.object))
    for arm in pilot.arms:
        assert f"Died: {int(deaths.get(arm, 0))} · Withdrawn:" in flow.split(f"Allocated to {arm} ")[1], arm
    assert int(deaths.sum()) == 3


def test_site_rates_use_months_until_enrollment_closed(bundled):
    layout = render(TrialStore(bundled))
    caption = texts(layout)
    closed = bundled.randomized["RANDDT"].max().date()
    assert f"Months active: from site activation to enrollment closed on {closed}" in caption
    table = next(t for t in layout.select(pn.widgets.Tabulator) if "Months active" in t.value.columns)
    site = table.value.set_index("Site").loc["01"]
    activated = pd.Timestamp(site["Activated"])
    months = (pd.Timestamp(closed) - activated).days / (365.25 / 12)
    assert site["Months active"] == round(months, 1) and site["Months active"] < 60  # not 114.5 (to the 2024 cut)
    assert site["Patients per site-month"] == round(site["Randomized"] / months, 2)


def test_site_table_keeps_its_columns_when_filters_change(tiny):
    """New columns make the browser rebuild the whole table: a filter change sends new rows only."""
    store = TrialStore(tiny)
    table = render(store).select(pn.widgets.Tabulator)[0]
    columns = list(table.value.columns)
    short = tiny.info.arm_short_labels
    store.arms = [MSC]
    assert list(table.value.columns) == columns
    assert (table.value[short.get(CONTROL, CONTROL)] == 0).all()
    assert table.value[short.get(MSC, MSC)].sum() == len(store.subjects())
    store.param.update(arms=[], sites=["02"])
    assert list(table.value.columns) == columns and table.value["Site"].tolist() == ["02"]
