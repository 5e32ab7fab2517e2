"""Adverse events tab without a browser: build the view, set store and view filters, read the objects."""

from __future__ import annotations

import dataclasses
import html
import io

import holoviews as hv
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document

from dashboard.app import VIEWS
from dashboard.transforms.formatting import format_proportion
from dashboard.config import SAFETY_FOCUS_WINDOW_DAYS
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.store import TrialStore
from dashboard.transforms import safety as sf
from dashboard.views.safety import GROUP_COLUMN, TERM_COLUMN, SafetyView
from tests.conftest import TINY_ADAE, TINY_ADSL, TINY_SITES
from tests.conftest import PILOT, shared_path

MSC, CONTROL = NCT02241018.arm_order
MSC_LABEL = NCT02241018.arm_short_labels[MSC]  # arm columns of the focus panels are headed by short labels
HOSTILE_TERM = "<script>alert('x')</script>"
HOSTILE_SOC = "<b>Bold body system</b>"


def _dataset(adae=None, adsl=None):
    return TrialDataset.create((TINY_ADSL if adsl is None else adsl).copy(), cutoff="2017-06-30", info=NCT02241018,
                               sites=TINY_SITES.copy(), adae=(TINY_ADAE if adae is None else adae).copy())


def _view(dataset=None, **params):
    view = SafetyView(store=TrialStore(dataset or _dataset()), **params)
    layout = pn.panel(view)
    layout.get_root(Document())
    return view, layout


def _tables(layout):
    return layout.select(pn.widgets.Tabulator)


def _pair_row(layout):
    return next(r for r in layout.select(pn.Row) if any(getattr(o, "label", None) == "Compare arm" for o in r))


def test_two_arms_hide_the_pair_selectors():
    _, layout = _view()
    assert not _pair_row(layout).visible


def test_registered_as_the_adverse_events_tab():
    assert SafetyView in VIEWS
    assert SafetyView.title == "Adverse events"
    assert SafetyView.unavailable_reason(_dataset()) is None
    no_ae = TrialDataset.create(TINY_ADSL.copy(), cutoff="2017-06-30", info=NCT02241018)
    assert "ADAE" in SafetyView.unavailable_reason(no_ae)


def test_counts_use_safety_population_denominators():
    # MSC safety: S1, S3, S5 (S1 and S3 have events); control safety: S2 only (S4 is not in the safety population).
    view, layout = _view()
    table = view.table_frame()
    overall = table.iloc[0]
    assert overall[TERM_COLUMN] == sf.OVERALL
    assert overall[sf.column_label(MSC, sf.ANY_BAND)] == "2 (66.7%)"
    assert overall[sf.column_label(CONTROL, sf.ANY_BAND)] == "0 (0.0%)"
    assert "Rash" not in set(table[TERM_COLUMN])  # S4's only event: outside the safety population
    groups = _tables(layout)[0].groups
    assert list(groups) == ["MSC (N = 3)", "Control (N = 1)"]
    assert "MSC <b>2/3 (66.7%)</b>" in view._summary(None)


def test_serious_only_updates_table_and_summary():
    view, layout = _view()
    table = _tables(layout)[0]
    assert "Nausea" in set(table.value[TERM_COLUMN])
    view.serious_only = True
    assert "Nausea" not in set(table.value[TERM_COLUMN])
    summary = layout.select(lambda o: isinstance(o, pn.pane.HTML) and "ae-summary" in o.css_classes)[0]
    assert "serious event" in summary.object and "MSC <b>2/3 (66.7%)</b> (2 events)" in summary.object


def test_store_filters_reach_the_table():
    view, layout = _view()
    table = _tables(layout)[0]
    view.store.sites = ["01"]  # S1 (MSC) and S2 (control)
    assert table.value.iloc[0][sf.column_label(MSC, sf.ANY_BAND)] == "1 (100.0%)"
    assert list(table.groups) == ["MSC (N = 1)", "Control (N = 1)"]


def test_event_count_toggle_and_min_incidence():
    view, layout = _view()
    table = _tables(layout)[0]
    view.count = "events"
    assert table.value.iloc[0][sf.column_label(MSC, sf.ANY_BAND)] == "3"
    view.count = "subjects"
    view.min_incidence = 50  # every term is 1/3 (33.3%) in MSC and 0/1 in control
    assert table.value["LEVEL"].tolist() == ["overall"]


def test_clicking_a_row_opens_its_listing():
    view, layout = _view()
    frame = view.table_frame()
    row = int(frame.index[frame[TERM_COLUMN] == "Pneumonia"][0])
    table = _tables(layout)[0]
    table._process_event(type("Click", (), {"row": row, "column": TERM_COLUMN, "value": "Pneumonia",
                                            "event_name": "cell-click", "model": None})())
    assert (view.selected_soc, view.selected_term) == ("Infections and infestations", "Pneumonia")
    listing = view._listing_frame()
    assert listing["Patient"].tolist() == ["S1"] and listing["Grade"].tolist() == ["Grade 3"]
    assert "1 event" in view._listing_title()


def test_volcano_point_selection_filters_the_listing():
    view, layout = _view()
    overlay = layout.select(pn.pane.HoloViews)[0].object
    dmap = overlay.callback.inputs[0].callback.inputs[0]  # the points' DynamicMap (labels, guides overlaid)
    points = dmap[()]  # render once, as the browser would
    assert isinstance(points, hv.Points)
    index = int(points.data.index[points.data["TERM"] == "Sepsis"][0])
    view._on_volcano_select(dmap, [index])
    assert view.selected_term == "Sepsis"
    assert view._listing_frame()["Patient"].tolist() == ["S3"]


def test_text_from_data_is_escaped_wherever_rendered():
    adae = TINY_ADAE.assign(AEDECOD=TINY_ADAE["AEDECOD"].replace("Pneumonia", HOSTILE_TERM),
                            AEBODSYS=TINY_ADAE["AEBODSYS"].replace("Infections and infestations", HOSTILE_SOC))
    # A trial without publication categories, so the serious-event panel lists body systems.
    info = dataclasses.replace(NCT02241018, sae_categories=())
    dataset = TrialDataset.create(TINY_ADSL.copy(), cutoff="2017-06-30", info=info, adae=adae)
    view, layout = _view(dataset)
    shown = _tables(layout)[0].value  # what Tabulator gets: group headers are HTML, so escaped
    assert html.escape(HOSTILE_SOC) in set(shown[GROUP_COLUMN]) and HOSTILE_SOC not in set(shown[GROUP_COLUMN])
    assert HOSTILE_SOC in set(view.table_frame()[GROUP_COLUMN])  # the frame itself holds the data as is
    view.param.update(selected_soc=HOSTILE_SOC, selected_term=HOSTILE_TERM, search="<scr")
    rendered = [view._listing_title(), view._summary(None)]
    for text in rendered:
        assert "<script>" not in text and "<b>Bold" not in text
    assert html.escape(HOSTILE_TERM) in rendered[0] and html.escape(HOSTILE_SOC) in rendered[0]
    assert "&lt;scr" in rendered[1]
    # The focus panels list body systems as row text (Tabulator's plain-text cells escape it).
    assert HOSTILE_SOC in set(view.focus_frame(view.store.subjects())["Row"])


def test_csv_export_carries_the_data_cut_and_filters():
    view, layout = _view(serious_only=True)
    download = layout.select(pn.widgets.FileDownload)[0]
    assert download.filename == "NCT02241018_ae_incidence_cut2017-06-30.csv"
    text = download.callback().getvalue()
    assert "# Data cut: 2017-06-30" in text and "# Note: Event filters: serious only" in text
    csv = pd.read_csv(io.StringIO(text), comment="#")
    pneumonia = csv[(csv["TERM"] == "Pneumonia") & (csv["ARM"] == MSC) & (csv["BAND"] == sf.ANY_BAND)]
    assert pneumonia[["SUBJECTS", "N"]].values.tolist() == [[1, 3]]


def test_no_patients_shows_the_empty_state():
    view, layout = _view()
    alert = next(o for o in layout.select(pn.pane.Alert) if "No patients" in str(o.object))
    assert not alert.visible
    view.store.sites = ["03"]
    view.store.arms = [CONTROL]  # site 03 has no control patient
    assert view.store.subjects().empty and alert.visible
    assert view.table_frame().empty and "no patients" in view.header_html(view.store.subjects())


def test_focus_panels_and_exposure_rates_render_on_tiny_data():
    view, layout = _view()
    focus = view.focus_frame(view.store.subjects())
    # Table 4 categories need AECAT for 'Infections', which the tiny data lack: the other rows still show.
    assert set(focus["Panel"]) == {NCT02241018.captions["sae_categories"]}
    assert "Infections" not in set(focus["Row"])
    assert focus.set_index("Row").loc["Any serious adverse event", MSC_LABEL] == "2/3 (66.7%)"
    exposure = view.exposure_frame(view.store.subjects())
    assert {"Event rate per 100 patient-months (95% robust CI)",
            "Incidence rate per 100 patient-months (95% exact Poisson CI)"} <= set(exposure.columns)
    assert "2/3 (66.7%)" in set(exposure["Patients with ≥ 1 event, n/N (%)"])
    # The tiny trial is NCT02241018-shaped: AEs are collected to study day 180 (its setting), said on screen.
    note = view.exposure_note(view.store.subjects())
    assert "study day 180 (the trial&#x27;s AE collection period)" in note
    # MSC safety patients S1, S3 (180 days each, from randomization: no TRTSDT) and S5 (randomized 11 days
    # before the cut): 3 events over 371 days = 12.2 patient-months.
    first = exposure[exposure["What is counted"] == exposure["What is counted"].iloc[0]].set_index("Arm")
    assert first.loc[MSC_LABEL, "Events / patient-months"] == "3 / 12.2"


def test_ae_tab_counts_treatment_emergent_events_by_default_and_says_so():
    # S1's nausea is not treatment-emergent (TRTEMFL blank, the ADaM way of saying no).
    flagged = TINY_ADAE.assign(TRTEMFL=pd.array(["Y", None, "Y", "Y"], dtype="string"))
    view, layout = _view(_dataset(adae=flagged))
    assert view.treatment_emergent_only
    table = _tables(layout)[0]
    assert "Nausea" not in set(table.value[TERM_COLUMN])
    assert table.value.iloc[0][sf.column_label(MSC, sf.ANY_BAND)] == "2 (66.7%)"
    header = next(p for p in layout.select(pn.pane.HTML) if "Safety population" in str(p.object))
    assert "Incidence table: treatment-emergent AEs (as flagged in the data)." in header.object
    assert "Counted: treatment-emergent AEs (as flagged in the data)" in view._focus_note(view.store.subjects())
    # A patient's own listing keeps every recorded event and says which are treatment-emergent.
    listing = view._patient_listing(view.store.subjects(), "S1")
    assert listing["Preferred term"].tolist() == ["Nausea", "Pneumonia"]
    assert listing["Treatment-emergent"].fillna("").tolist() == ["", "Y"]
    assert "2 adverse events recorded, treatment-emergent or not" in view._patient_note(view.store.subjects(), "S1")
    view.treatment_emergent_only = False
    assert "Nausea" in set(table.value[TERM_COLUMN])
    assert "all recorded AEs, treatment-emergent or not" in header.object
    # Without the flag every recorded event counts by default, and the tab says so.
    plain, _ = _view()
    assert not plain.treatment_emergent_only
    assert "all recorded AEs (the data have no treatment-emergent flag)" in plain.header_html(
        plain.store.subjects(), False)


def test_safety_reads_adam_y_blank_flags():
    # SAFFL and AESER as 'Y' or blank (nullable strings): the same counts as with explicit 'N'.
    # Validation still asks for SAFFL Y/N (the loaders' side of issue 11), so the Y/blank ADSL is swapped in
    # after it, as a loader reading ADaM flags as they come would hand it over.
    adae = TINY_ADAE.assign(AESER=pd.array(["Y", None, "Y", None], dtype="string"),
                            TRTEMFL=pd.array(["Y", "Y", "Y", None], dtype="string"))
    dataset = _dataset(adae=adae)
    adsl = dataset.adsl.assign(SAFFL=pd.array(["Y", "Y", "y ", None, "Y", None], dtype="string"))
    view, layout = _view(dataclasses.replace(dataset, adsl=adsl), serious_only=True)
    assert list(_tables(layout)[0].groups) == ["MSC (N = 3)", "Control (N = 1)"]
    assert "is not in the safety population" in view._patient_note(view.store.subjects(), "S4")
    assert "MSC <b>2/3 (66.7%)</b> (2 events)" in view._summary(None)
    assert "Nausea" not in set(view.table_frame()[TERM_COLUMN])
    focus = view.focus_frame(view.store.subjects()).set_index("Row")
    assert focus.loc["Any serious adverse event", MSC_LABEL] == "2/3 (66.7%)"


@pytest.fixture(scope="module")
def pilot():
    from dashboard.loaders import load_dataset

    return load_dataset(str(shared_path("data", "external", "cdiscpilot01_adam")))


def test_three_arms_offer_a_comparison_pair(pilot):
    view, layout = _view(pilot)
    pair = [w for w in layout.select(pn.widgets.Select) if w.name in ("Compare arm", "with (reference)")]
    assert len(pair) == 2 and all(list(w.options.values()) == pilot.arms for w in pair)
    assert _pair_row(layout).visible
    view.param.update(arm_a="Xanomeline High Dose", arm_b="Placebo")
    risk = view.risk()
    assert risk is not None and risk["D_A"].iloc[0] == 84 and risk["D_B"].iloc[0] == 86
    assert "RD Xanomeline High Dose − Placebo (pp)" in _tables(layout)[0].titles.values()
    view.arm_b = "Xanomeline High Dose"
    assert view.risk() is None and "choose two different arms" in view._volcano_title()
    assert "severities" in view.header_html(view.store.subjects())


def test_pilot_ae_tab_counts_treatment_emergent_patients_like_plain_pandas(pilot):
    import pyreadstat

    raw_ae, _ = pyreadstat.read_xport(str(PILOT / "adae.xpt"))
    raw_sl, _ = pyreadstat.read_xport(str(PILOT / "adsl.xpt"))
    safety = raw_sl.loc[raw_sl["SAFFL"] == "Y", ["USUBJID", "ARM"]]
    teae = raw_ae.loc[raw_ae["TRTEMFL"] == "Y", ["USUBJID"]].merge(safety, on="USUBJID")
    expected = teae.groupby("ARM")["USUBJID"].nunique().to_dict()
    view, _ = _view(pilot)
    assert view.treatment_emergent_only  # the default: the pilot flags treatment-emergent events
    inc = view.incidence()
    overall = inc[(inc["LEVEL"] == "overall") & (inc["BAND"] == sf.ANY_BAND)].set_index("ARM")
    assert overall["SUBJECTS"].to_dict() == expected
    assert overall["N"].to_dict() == safety.groupby("ARM").size().to_dict()
    # The Overview's serious AEs are the AE tab's serious treatment-emergent ones.
    from dashboard.transforms.overview import serious_ae_by_arm

    view.serious_only = True
    serious = view.incidence()
    serious = serious[(serious["LEVEL"] == "overall") & (serious["BAND"] == sf.ANY_BAND)].set_index("ARM")
    overview = serious_ae_by_arm(view.store.subjects(), pilot.adae, pilot.arms).set_index("ARM")
    assert serious["SUBJECTS"].to_dict() == overview.loc[pilot.arms, "patients"].to_dict()


def test_bundled_exposure_rates_stop_at_day_180(bundled):
    view, _ = _view(bundled)
    exposure = view.exposure_frame(view.store.subjects())
    # Grade 3-4 infections, ITT: 94 and 117 events over ~552 and ~543 patient-months (issue 12: 17.0 vs 21.6).
    infections = exposure[exposure["What is counted"] == "Grade 3-4 infection"].set_index("Arm")
    events, rate = "Events / patient-months", "Event rate per 100 patient-months (95% robust CI)"
    assert infections.loc["MSC", events] == "94 / 552.0" and infections.loc["MSC", rate].startswith("17.0 (")
    assert infections.loc["Control", events] == "117 / 542.9" and infections.loc["Control", rate].startswith("21.6 (")


def test_bundled_focus_panel_shows_the_published_counts(bundled, published):
    view, _ = _view(bundled)
    view.store.population = "Evaluable"  # the publication's analysed patients
    focus = view.focus_frame(view.store.subjects())
    key_topics = focus[focus["Panel"].str.contains(f"within {SAFETY_FOCUS_WINDOW_DAYS} days of randomization")]
    cells = set(key_topics[["MSC", "Control"]].to_numpy().ravel())
    for measure in ("grade3_4_infection_within_180d", "grade3_4_hematologic_toxicity_within_180d"):
        for arm in ("MSC", "CONTROL"):
            assert format_proportion(published(measure, arm), 99) in cells, (measure, arm)


def test_hidden_inner_tabs_recompute_only_when_shown():
    view, layout = _view()
    inner = next(t for t in layout.select(pn.Tabs) if "Focus panels and exposure" in t._names)
    focus = inner[2].select(pn.widgets.Tabulator)[0]
    assert focus.value.empty  # not computed while its tab is hidden
    inner.active = 2
    assert "2/3 (66.7%)" in set(focus.value[MSC_LABEL])
    inner.active = 0
    view.store.sites = ["01"]  # S1 is the only MSC patient left
    assert "2/3 (66.7%)" in set(focus.value[MSC_LABEL])  # stale while hidden ...
    inner.active = 2
    assert "1/1 (100.0%)" in set(focus.value[MSC_LABEL]) and "2/3 (66.7%)" not in set(focus.value[MSC_LABEL])  # ... fresh


def test_volcano_labels_significant_terms_and_explains_its_colours():
    # MSC 3/3 with an event vs control 0/1 is not significant on the tiny data: nothing is labelled.
    view, layout = _view()
    assert sum(len(labels) for labels in view._volcano_labels()) == 0
    risk = view.risk().assign(P=lambda r: (r["AEDECOD"] == "Sepsis").map({True: 0.01, False: 0.5}))
    view.risk = lambda: risk  # as if Sepsis differed significantly
    terms = [t for labels in view._volcano_labels() for t in labels.data["TERM"]]
    assert terms == ["Sepsis"]
    key = view._volcano_key()
    assert "higher in MSC" in key and "higher in Control" in key and "p ≥ 0.05" in key
    assert view.arm_colors[MSC] in key and view.arm_colors[CONTROL] in key
    assert "Fisher exact p, unadjusted for multiple comparisons: a screening tool, not a test" in key


def test_grade_columns_are_named_as_worst_grade_with_a_note():
    view, layout = _view()
    titles = _tables(layout)[0].titles
    assert titles[sf.column_label(MSC, "Grade 3-4")] == "Worst grade 3-4"
    assert titles[sf.column_label(MSC, "Grade 5")] == "Worst grade 5"
    assert titles[sf.column_label(MSC, sf.ANY_BAND)] == sf.ANY_BAND
    notes = " ".join(str(p.object) for p in layout.select(pn.pane.HTML))
    assert f"any grade 3-4 event with onset within {SAFETY_FOCUS_WINDOW_DAYS} days" in notes
