"""The served dashboard in Chromium: identity and data cut, filters update the overview, links, themes.

Expected numbers come from the store computed in this process on the same bundled data (and the
published randomized count); the page fixture fails a test on any browser console error.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from dashboard.app import available_views
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import load_bundled
from dashboard.links import apply_query
from dashboard.store import TrialStore
from dashboard.transforms.overview import ALL_ARMS, study_status_by_arm

MSC, CONTROL = NCT02241018.arm_order
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def dataset():
    return load_bundled()


def expected_store(dataset, **query) -> TrialStore:
    store = TrialStore(dataset)
    assert apply_query(store, query) == []
    return store


def card(page, label: str):
    return page.locator(".card").filter(has=page.locator(".label", has_text=re.compile(f"^{label}$", re.I)))


def expect_overview_matches(page, store: TrialStore) -> None:
    subjects = store.subjects()
    total = int((store.dataset.adsl["ITTFL"] == "Y").sum())
    expect(page.locator(".patient-count")).to_contain_text(f"{len(subjects)} of {total} patients", timeout=TIMEOUT)
    expect(card(page, "Randomized").locator(".value")).to_have_text(str(len(subjects)), timeout=TIMEOUT)
    status = study_status_by_arm(subjects, store.dataset.arms).set_index(["ARM", "STATUS"])
    for label in ("Completed", "Died"):
        expect(card(page, label).locator(".value")).to_have_text(str(status.loc[(ALL_ARMS, label), "n"]))


def choose(page, widget_label: str, option: str) -> None:
    group = page.locator(".bk-input-group").filter(has=page.locator("label", has_text=re.compile(f"^{widget_label}$")))
    group.locator(".choices").click()
    page.get_by_role("option", name=option).click()
    page.keyboard.press("Escape")


def test_page_shows_trial_data_cut_provenance_and_randomized_vs_target(page, app_url, dataset, published):
    page.goto(app_url)
    randomized = published("randomized")
    expect(page.locator(".patient-count")).to_contain_text(f"{randomized} of {randomized} patients", timeout=TIMEOUT)
    assert dataset.info.registry_id in page.title()
    expect(page.get_by_text(f"Data cut {dataset.cutoff.date()}", exact=True)).to_be_visible()
    expect(page.locator(".banner")).to_contain_text(dataset.info.title)
    expect(page.locator(".banner")).to_contain_text(dataset.provenance_text())
    expect(card(page, "Randomized").locator(".value")).to_have_text(str(randomized))
    target = published("registry_planned_enrollment")
    expect(card(page, "Randomized")).to_contain_text(f"of {target} targeted ({100 * randomized / target:.1f}%)")
    shown, _ = available_views(dataset)
    expect(page.locator(".bk-tab")).to_have_text([view.title for view in shown])


def test_arm_filter_updates_count_overview_and_url_then_reset_restores(page, app_url, dataset):
    page.goto(app_url)
    expect_overview_matches(page, TrialStore(dataset))
    choose(page, "Arm", f"{CONTROL} (Control)")
    expect_overview_matches(page, TrialStore(dataset, arms=[CONTROL]))
    expect(page).to_have_url(re.compile(r"\?arms=Control$"))
    page.get_by_role("button", name="Reset filters").click()
    expect_overview_matches(page, TrialStore(dataset))
    expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/$"))


def test_shared_link_reopens_the_same_filters(page, app_url, dataset):
    sites = TrialStore(dataset).param.sites.objects[:2]
    query = {"arms": "MSC", "sites": ",".join(sites)}
    page.goto(f"{app_url}?arms=MSC&sites={','.join(sites)}")
    expect_overview_matches(page, expected_store(dataset, **query))
    chosen = page.locator(".bk-input-group").filter(has=page.locator("label", has_text=re.compile("^Arm$")))
    expect(chosen.locator(".choices__list--multiple .choices__item")).to_have_text([f"{MSC} (MSC)Remove item"])
    page.get_by_role("button", name="Evaluable").click()
    expect(page).to_have_url(re.compile(r"population=Evaluable"))
    url = page.url
    page.goto(url)
    store = expected_store(dataset, **query, population="Evaluable")
    total = int((dataset.adsl["EFFFL"] == "Y").sum())
    expect(page.locator(".patient-count")).to_contain_text(f"{len(store.subjects())} of {total} patients", timeout=TIMEOUT)


def test_empty_selection_says_no_patients_match(page, app_url, dataset):
    randomized = set(dataset.randomized["RANDDT"].dt.date)
    first, last = min(randomized), max(randomized)
    day = next(first + dt.timedelta(days=i) for i in range((last - first).days) if first + dt.timedelta(days=i) not in randomized)
    page.goto(f"{app_url}?randomization_dates={day}..{day}")
    expect(page.locator(".patient-count")).to_contain_text(f"0 of {len(dataset.randomized)} patients",
                                                           timeout=TIMEOUT)
    expect(page.get_by_text("No patients match the current filters.")).to_be_visible()
    expect(page.locator(".card").first).to_be_hidden()


def test_theme_button_switches_to_dark_and_keeps_the_filters(page, app_url, dataset):
    page.goto(f"{app_url}?arms=Control")
    expect_overview_matches(page, TrialStore(dataset, arms=[CONTROL]))
    page.get_by_role("button", name="Dark theme").click()
    expect(page).to_have_url(re.compile(r"\?arms=Control&theme=dark$"), timeout=TIMEOUT)
    expect_overview_matches(page, TrialStore(dataset, arms=[CONTROL]))
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = map(int, re.findall(r"\d+", background)[:3])
    assert max(red, green, blue) < 80, background
    expect(page.get_by_role("button", name="Light theme")).to_be_visible()
