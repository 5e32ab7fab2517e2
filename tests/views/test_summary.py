"""The Overview's executive summary without a browser: numbers on the bundled trial checked against an
independent pandas computation, trials lacking pieces, escaping, and the links that switch tabs."""

from __future__ import annotations

import html
import re

import pandas as pd
import panel as pn
import pytest

from dashboard.app import build_app
from dashboard.config import RESPONDER_CATEGORIES, TrialInfo
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.views.overview import OverviewView
from dashboard.views.summary import ExecutiveSummaryView
from tests.conftest import shared_path

MSC, CONTROL = NCT02241018.arm_order
PAYLOAD = "<img src=x onerror=alert(1)>"


def summary_text(layout) -> str:
    """The summary's HTML (every line) in the layout."""
    return "\n".join(str(p.object) for p in layout.select(pn.pane.HTML)
                     if 'class="line"' in str(p.object) or 'class="head"' in str(p.object))


def plain(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", markup)))


def load_external(name: str) -> TrialDataset:
    from dashboard.loaders import load_dataset

    return load_dataset(shared_path("data", "external", name))


def independent_day28_response(dataset: TrialDataset) -> dict[str, tuple[int, int]]:
    """Responders / evaluable patients at day 28 per arm, straight from ADSL and ADRS with pandas."""
    adsl, adrs = dataset.adsl, dataset.adrs
    evaluable = adsl.loc[(adsl["RANDFL"] == "Y") & (adsl["EFFFL"] == "Y"), ["USUBJID", "ARM", "RANDDT"]]
    assert (evaluable["RANDDT"] + pd.Timedelta(days=27) <= dataset.cutoff).all()  # every day-28 visit is due
    day28 = adrs.loc[(adrs["PARAMCD"] == "OVRLRESP") & (adrs["AVISITN"] == 28)].sort_values("ADT")
    last = day28.drop_duplicates("USUBJID", keep="last")[["USUBJID", "AVALC"]]
    merged = evaluable.merge(last, on="USUBJID", how="left")
    merged["responder"] = merged["AVALC"].isin(RESPONDER_CATEGORIES)
    return {arm: (int(g["responder"].sum()), len(g)) for arm, g in merged.groupby("ARM")}


def test_bundled_primary_endpoint_is_the_evaluable_82_of_99_vs_70_of_99(bundled):
    expected = independent_day28_response(bundled)
    assert expected == {MSC: (82, 99), CONTROL: (70, 99)}  # Zhao et al. 2022, the trial's primary analysis
    view = ExecutiveSummaryView(store=TrialStore(bundled), subjects=TrialStore(bundled).subjects())
    result = view.summarize(view.subjects).primary.by_arm.set_index("ARM")
    assert {arm: (int(r["responders"]), int(r["evaluated"])) for arm, r in result.iterrows()} == expected
    text = plain(summary_text(view.__panel__()))
    assert "MSC 82/99 (82.8%) vs Control 70/99 (70.7%)" in text
    assert "in the Evaluable population (the trial's primary analysis population)" in text
    # 82/99 - 70/99 = 12.1 points; the published p of the primary comparison is 0.043.
    assert re.search(r"Difference \+12\.1 percentage points \(95% Newcombe CI \+0\.3 to \+23\.5\); "
                     r"Pearson chi-square test p = 0\.043\.", text)
    assert "Data cut 2024-03-31" in text


def test_bundled_summary_states_enrollment_safety_and_signals(bundled):
    store = TrialStore(bundled)
    text = plain(summary_text(OverviewView(store=store).__panel__()))
    adsl = bundled.adsl
    randomized = int((adsl["RANDFL"] == "Y").sum())
    assert f"{randomized} randomized of the target of 200 ({100 * randomized / 200:.1f}%)" in text
    dates = adsl.loc[adsl["RANDFL"] == "Y", "RANDDT"].sort_values()
    assert f"Target reached on {dates.iloc[199].date()}" in text
    deaths = adsl.loc[adsl["RANDFL"] == "Y"].groupby("ARM")["DTHFL"].apply(lambda s: ((s == "Y").sum(), len(s)))
    assert f"MSC {deaths[MSC][0]}/{deaths[MSC][1]}" in text and f"Control {deaths[CONTROL][0]}/{deaths[CONTROL][1]}" in text
    assert "treatment-emergent serious adverse event" in text
    assert "grade ≥ 3 infection" in text
    assert "unadjusted screen, not evidence of harm" in text


def test_summary_follows_the_filters(bundled):
    store = TrialStore(bundled)
    layout = OverviewView(store=store).__panel__()
    store.arms = [CONTROL]
    text = plain(summary_text(layout))
    assert "Whole trial: 203 randomized of the target of 200" in text
    assert "102 patients of the ITT population match the current filters" in text
    assert "Only one arm matches the filters: nothing to compare." in text
    assert "MSC" not in text.split("Primary endpoint")[1]


@pytest.mark.parametrize("name", ["cdiscpilot01_adam", "pharmaverse_onco_adam"])
def test_summary_renders_on_trials_lacking_pieces(name):
    dataset = load_external(name)
    store = TrialStore(dataset)
    layout = OverviewView(store=store).__panel__()
    layout.get_root()
    text = plain(summary_text(layout))
    assert "no enrollment target is recorded" in text
    if dataset.adrs is None:  # the pilot
        assert "The data have no response assessments (ADRS)." in text
    else:
        assert "The trial's primary endpoint (its visit day) is not configured." in text
    assert "Placebo" in text and "Xanomeline High Dose" in text and "Xanomeline Low Dose" in text
    if dataset.adae is None:
        assert text.count("The data have no adverse events (ADAE).") == 3
    else:  # the pilot grades by severity and screens each dose against placebo
        assert "severe infection" in text and "the data have no CTCAE grades" in text
        assert re.search(r"differences from Placebo in \d+ of \d+ preferred terms", text)


def test_every_data_value_is_escaped():
    # Ten patients, five per arm; every Active patient has a grade 3 infection whose term carries markup
    # (5/5 vs 0/5: Fisher p = 2/252, so the term is named as a signal); the day-28 visit name too.
    arms = (f"{PAYLOAD} A", f"Control {PAYLOAD}")
    ids = [f"S{i}" for i in range(10)]
    adsl = pd.DataFrame({"STUDYID": "X", "USUBJID": ids, "SITEID": "01", "ARM": [arms[0]] * 5 + [arms[1]] * 5,
                         "RANDFL": "Y", "ITTFL": "Y", "SAFFL": "Y", "DTHFL": "N",
                         "RANDDT": pd.to_datetime("2020-01-01")})
    adrs = pd.DataFrame({"USUBJID": ids, "PARAMCD": "OVRLRESP", "AVISIT": f"{PAYLOAD} day", "AVISITN": 28.0,
                         "AVALC": "CR"})
    adae = pd.DataFrame({"USUBJID": ids[:5], "AEDECOD": f"{PAYLOAD} term", "AEBODSYS": "Infections and infestations",
                         "AETOXGRN": 3, "AESER": "Y"})
    info = TrialInfo(title="T", registry_id="T", short_name="T", primary_visit_day=28, arm_order=arms)
    dataset = TrialDataset.create(adsl, cutoff="2020-12-31", info=info, adrs=adrs, adae=adae)
    store = TrialStore(dataset)
    markup = summary_text(ExecutiveSummaryView(store=store, subjects=store.subjects()).__panel__())
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert f"{escaped} A" in markup and f"Control {escaped}" in markup  # arm names
    assert f"{escaped} day" in markup  # visit
    assert f"{escaped} term (" in markup  # the flagged preferred term
    assert "<img" not in markup


def test_links_switch_the_main_tab(bundled):
    store = TrialStore(bundled)
    app = build_app(bundled, store)
    tabs = next(o for o in app.main if isinstance(o, pn.Tabs))
    titles = [tabs._names[i] for i in range(len(tabs))]
    assert store.tab == "Overview" and store.param.tab.objects == titles
    buttons = {b.label: b for b in tabs[0].select(pn.widgets.Button) if b.label.endswith("tab →") and b.visible}
    assert set(buttons) == {"Enrollment tab →", "Response tab →", "Adverse events tab →"}
    buttons["Adverse events tab →"].clicks += 1
    assert tabs.active == titles.index("Adverse events") and store.tab == "Adverse events"
    tabs.active = 0
    assert store.tab == "Overview"
    buttons["Response tab →"].clicks += 1
    assert titles[tabs.active] == "Response"


def test_links_are_hidden_without_their_tab_or_numbers(tiny):
    store = TrialStore(tiny)
    view = ExecutiveSummaryView(store=store, subjects=store.subjects())
    assert not [b for b in view.__panel__().select(pn.widgets.Button) if b.visible]  # no app: no tabs to open
    store.param.tab.objects = ["Overview", "Response", "Adverse events"]
    store.arms = [CONTROL]
    layout = ExecutiveSummaryView(store=store, subjects=store.subjects()).__panel__()
    shown = [b.label for b in layout.select(pn.widgets.Button) if b.visible]
    # Primary endpoint, serious AEs and infections; not enrollment and deaths (no Enrollment tab listed)
    # nor the signal screen (one arm: nothing to compare).
    assert shown == ["Response tab →", "Adverse events tab →", "Adverse events tab →"]
