"""The meeting pack: published numbers in the closed PDF, nothing by arm in the open one, escaping,
self-contained HTML and the `report` command."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from dashboard.cli import main
from dashboard.model.pooling import POOLED_ARM
from dashboard.report import SECTION_NAMES, build_pack, pack_filename, pack_html
from dashboard.report.sections import SECTION_TITLES
from dashboard.transforms.formatting import format_proportion

from tests.conftest import shared_path

from ..hostile_data import PAYLOADS, hostile_dataset

EVALUABLE = "population=Evaluable"  # the publication's analysed patients

pytestmark = pytest.mark.slow


def pdf_text(path: Path) -> str:
    """Every page's text, whitespace runs collapsed to one space."""
    reader = PdfReader(path)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", " ".join(page.extract_text() for page in reader.pages)))


def pages(path: Path) -> list[str]:
    return [re.sub(r"\s+", " ", unicodedata.normalize("NFKC", p.extract_text())) for p in PdfReader(path).pages]


def arm_mentions(text: str, dataset) -> list[str]:
    """Arm names and short labels written as words in `text` ('MSC-aGVHD' or 'MSCs' are not the arm 'MSC')."""
    names = set(dataset.arms) | {dataset.info.arm_short_labels.get(a, a) for a in dataset.arms}
    return sorted(n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text))


@pytest.fixture(scope="module")
def bundled_packs(bundled, tmp_path_factory):
    """Closed and open PDF packs of the bundled trial, Evaluable population."""
    folder = tmp_path_factory.mktemp("packs")
    return {kind: build_pack(bundled, folder / f"{kind}.pdf", query=EVALUABLE, closed=kind == "closed")
            for kind in ("closed", "open")}


def test_closed_pack_states_the_published_numbers(bundled_packs, published):
    text = pdf_text(bundled_packs["closed"])
    assert f"{published('randomized')} randomized of the target of {published('registry_planned_enrollment')}" in text
    for arm, label in (("MSC", "MSC"), ("CONTROL", "Control")):
        n = published("n_analyzed", arm)
        responders = round(published("overall_response_pct", arm) * n / 100)
        assert f"{label} {format_proportion(responders, n)}" in text, arm  # primary endpoint, Evaluable
        assert format_proportion(published("grade3_4_infection_within_180d", arm), n) in text, arm  # focus panel
    assert "95% Newcombe CI" in text and "Pearson chi-square test" in text
    assert "Kaplan-Meier" in text and "Numbers at risk" in text and "Cox HR" in text


def test_every_page_names_trial_cut_report_kind_and_confidentiality(bundled, bundled_packs):
    cut = bundled.cutoff.date().isoformat()
    for kind, path in bundled_packs.items():
        every = pages(path)
        assert len(every) > 10
        for number, page in enumerate(every, start=1):
            assert f"{kind.upper()} REPORT" in page and "CONFIDENTIAL" in page, (kind, number)
            assert f"Page {number} of {len(every)}" in page, (kind, number)
            if number > 1:
                assert f"Data cut {cut}" in page and bundled.info.registry_id in page, (kind, number)


def test_cover_has_provenance_checksums_filters_and_version(bundled, bundled_packs):
    cover = pages(bundled_packs["closed"])[0]
    sha = bundled.provenance["files"]["adsl"]["sha256"]
    assert sha in cover.replace(" ", "")
    assert "Filters population = Evaluable" in cover
    assert "Evaluable (EFFFL = Y)" in cover and "Generated" in cover and "trial-dashboard 0.1.0" in cover


def test_contents_give_the_page_each_section_starts_on(bundled_packs):
    every = pages(bundled_packs["closed"])
    assert every[1].startswith("Contents")
    for title in SECTION_TITLES.values():
        number = int(re.search(rf"{re.escape(title)} \.+ ?(\d+)", every[1]).group(1))
        assert every[number - 1].startswith(title), (title, number)


def test_open_pack_has_no_result_by_arm(bundled, bundled_packs, published):
    text = pdf_text(bundled_packs["open"])
    assert arm_mentions(text, bundled) == []
    assert POOLED_ARM in text and "OPEN REPORT" in text
    n = published("n_analyzed", "MSC") + published("n_analyzed", "CONTROL")
    responders = sum(round(published("overall_response_pct", a) * published("n_analyzed", a) / 100)
                     for a in ("MSC", "CONTROL"))
    assert f"{POOLED_ARM} {format_proportion(responders, n)}" in text  # pooled primary endpoint only
    assert "Only one arm matches" not in text and "Not compared between arms in the open report" in text
    closed = pdf_text(bundled_packs["closed"])
    assert arm_mentions(closed, bundled) == sorted(set(bundled.arms) | set(bundled.info.arm_short_labels.values()))


def test_cdisc_pilot_closed_and_open_packs(tmp_path):
    from dashboard.loaders import load_dataset

    pilot = load_dataset([shared_path("data", "external", "cdiscpilot01_adam")])
    closed = pdf_text(build_pack(pilot, tmp_path / "closed.pdf"))
    opened = pdf_text(build_pack(pilot, tmp_path / "open.pdf", closed=False))
    assert f"{len(pilot.randomized)} of {len(pilot.randomized)} patients" in closed
    assert arm_mentions(closed, pilot) == sorted(set(pilot.arms) | {pilot.info.arm_short_labels.get(a, a)
                                                                    for a in pilot.arms})
    assert arm_mentions(opened, pilot) == [] and POOLED_ARM in opened


def test_hostile_values_are_escaped_everywhere(tiny):
    html = pack_html(hostile_dataset(tiny))
    markup = [p for p in PAYLOADS if "<" in p]  # the others are inert in a static page (no template, no TeX)
    assert markup and not any(p in html for p in markup)
    assert "<script" not in html and "<img" not in html and "javascript:alert(3)\"" not in html
    assert 'href="javascript' not in html  # Markdown text from the views stays text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_html_pack_is_one_self_contained_file(tiny, tmp_path):
    path = build_pack(tiny, tmp_path / "pack.html", sections=["summary", "safety"])
    html = path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)
    assert '<section class="chapter" id="summary">' in html and 'id="response"' not in html
    assert "<svg" not in html or "xlink:href=\"http" not in html
    assert pack_filename(tiny, closed=True, fmt="pdf") == "NCT02241018_meeting-pack_closed_cut2017-06-30.pdf"


def test_report_command(tmp_path, capsys):
    out = tmp_path / "pack.html"
    assert main(["report", "--out", str(out), "--open", "--sections", "summary", "quality"]) == 0
    assert "open meeting pack" in capsys.readouterr().out and "OPEN report" in out.read_text()
    assert main(["report", "--out", str(out), "--sections", "nonsense"]) == 2
    assert "unknown section(s) nonsense" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "pack.docx")]) == 2
    assert set(SECTION_NAMES) == {"summary", "enrollment", "balance", "response", "safety", "quality"}
