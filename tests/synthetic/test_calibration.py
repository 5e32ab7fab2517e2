"""calibration.py agrees with the reference file, and its helpers and Markdown are consistent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dashboard.synthetic import calibration as cal
from dashboard.synthetic.sampling import exact_sample, quota
from tests.conftest import shared_path

ASSUMPTIONS_MD = Path(cal.__file__).with_name("ASSUMPTIONS.md")


@pytest.fixture(scope="module")
def records():
    return {r["id"]: r for r in json.loads(shared_path(cal.REFERENCE_FILE).read_text())["records"]}


@pytest.mark.parametrize("target", cal.all_targets(), ids=lambda t: t.ref)
def test_target_matches_reference_record(records, target):
    record = records[target.ref]
    assert record["arm"] == target.arm
    assert float(record["value"]) == pytest.approx(float(target.value))
    if isinstance(target, cal.TteTarget) and target.kind == "hr":
        assert (record["ci95_low"], record["ci95_high"]) == (target.ci_low, target.ci_high)
    if isinstance(target, cal.SaeTarget):
        assert record["category"] == target.category
    if isinstance(target, cal.ResponseTarget):
        assert record["timepoint"] == target.visit.lower()


def test_totals_match_reference(records):
    for ref, value in cal.TOTAL_TARGETS.values():
        assert records[ref]["value"] == value


def test_every_target_id_is_used_once():
    refs = [t.ref for t in cal.all_targets()]
    assert len(refs) == len(set(refs))


def test_assumptions_markdown_is_up_to_date():
    assert ASSUMPTIONS_MD.read_text() == cal.assumptions_markdown(), (
        "regenerate with: python -m dashboard.synthetic.calibration > dashboard/synthetic/ASSUMPTIONS.md")


def test_organ_patterns_reproduce_table1_organ_counts():
    for arm in cal.ARM_KEYS:
        counts = dict(zip(cal.ORGAN_PATTERNS, cal.ORGAN_PATTERN_COUNTS[arm]))
        lower, upper, both = cal.GUT_SITE_COUNTS[arm]

        def target(column, value):
            return next(t.value for t in cal.BASELINE_TARGETS if t.arm == arm and t.column == column
                        and t.values == (value,))

        assert sum(counts.values()) == 99
        assert sum(v for p, v in counts.items() if "S" in p) == target("SKINFL", "Y")
        assert sum(v for p, v in counts.items() if "L" in p) == target("LIVERFL", "Y")
        assert sum(v for p, v in counts.items() if "G" in p) == lower + upper + both
        assert lower + both == target("LGIFL", "Y") and upper + both == target("UGIFL", "Y")
        for k in (1, 2, 3):
            assert sum(v for p, v in counts.items() if len(p) == k) == target("NORGANS", k)


def test_response_classes_reproduce_published_counts():
    for t in cal.RESPONSE_TARGETS:
        counts = dict(zip(cal.RESPONSE_CLASSES, cal.RESPONSE_CLASS_COUNTS[t.arm]))
        responders = counts["durable"] if t.visit == "Day 56" else counts["durable"] + counts["lost_flare"] + counts["lost_died"]
        assert responders == t.value
        assert sum(counts.values()) == 99


def test_quota_is_exact_for_integer_counts_and_proportional_otherwise():
    assert list(quota(99, [36, 41, 22])) == [36, 41, 22]
    scaled = quota(1000, [36, 41, 22])
    assert scaled.sum() == 1000 and np.abs(scaled / 1000 - np.array([36, 41, 22]) / 99).max() < 0.001
    assert quota(0, [1, 2]).sum() == 0


def test_exact_sample_hits_published_median_and_range():
    rng = np.random.default_rng(1)
    values = exact_sample(rng, 99, cal.AGE_QUANTILES["MSC"])
    assert (np.median(values), values.min(), values.max(), (values < 18).sum()) == (28, 16, 59, 14)


def test_sites_lead_centre_and_shares():
    assert len(cal.SITES) == 9
    assert cal.SITES[0].name.startswith("Nanfang Hospital")
    assert max(cal.SITES, key=lambda s: s.share) is cal.SITES[0]
    assert sum(s.share for s in cal.SITES) == pytest.approx(1.0)
