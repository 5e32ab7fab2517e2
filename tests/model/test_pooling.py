"""pooled(): the DMC open report's trial, with no arm left in any table."""

import pandas as pd

from dashboard.model.pooling import ARM_COLUMNS, POOLED_ARM, pooled
from dashboard.transforms.overview import randomized_by_arm
from dashboard.transforms.safety import ae_incidence_by_arm, safety_denominators, select_events
from tests.conftest import shared_path


def _arm_values(dataset) -> set[str]:
    """Every arm name or code the randomized subjects carry, in any arm column of any table."""
    names = set()
    for df in dataset.tables().values():
        for column in (c for c in ARM_COLUMNS if c in df.columns):
            values = df.loc[df["RANDFL"] == "Y", column] if "RANDFL" in df.columns else df[column]
            names |= {str(v) for v in values.dropna().unique() if not str(v).replace(".", "").isdigit()}
    return names


def _cells(dataset) -> set[str]:
    """Every text cell of every table and of the quarantine."""
    out = set()
    for df in [*dataset.tables().values(), dataset.quarantine]:
        for column in df.columns:
            if not pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_datetime64_any_dtype(df[column]):
                out |= {str(v) for v in df[column].dropna().unique()}
    return out


def _assert_no_arm_left(original, pool):
    arms = _arm_values(original) - {POOLED_ARM, "ALL"}
    assert len(arms) >= 2
    assert not arms & _cells(pool), f"arm names left in the pooled tables: {arms & _cells(pool)}"
    assert pool.arms == [POOLED_ARM]
    assert pool.adex is None
    for name, df in pool.tables().items():
        assert len(df) == len(original.tables()[name]), name  # no subject or record dropped


def test_tiny_trial_has_one_arm_whose_counts_are_the_totals(tiny):
    pool = pooled(tiny)
    _assert_no_arm_left(tiny, pool)
    by_arm = randomized_by_arm(pool.randomized).set_index("ARM")
    assert by_arm.loc[POOLED_ARM, "n"] == len(tiny.randomized) == by_arm["N"].iloc[0]
    assert pool.adsl.loc[pool.adsl["RANDFL"] == "N", "ARM"].tolist() == ["Screen Failure"]
    assert tiny.adsl["ARM"].nunique() == 3  # the original is not modified


def test_bundled_trial_pooled_everywhere(bundled):
    pool = pooled(bundled)
    _assert_no_arm_left(bundled, pool)
    assert pool.provenance["pooled"] is True
    denominators = safety_denominators(pool.randomized)
    assert denominators.to_dict() == {POOLED_ARM: int((bundled.randomized["SAFFL"] == "Y").sum())}
    pooled_incidence = ae_incidence_by_arm(select_events(pool.adae, pool.randomized), pool.randomized)
    by_arm = ae_incidence_by_arm(select_events(bundled.adae, bundled.randomized), bundled.randomized)
    assert set(pooled_incidence["ARM"]) == {POOLED_ARM}
    keys = ["LEVEL", "AEBODSYS", "AEDECOD", "BAND"]
    totals = by_arm.groupby(keys, observed=True)[["SUBJECTS", "EVENTS", "N"]].sum()
    merged = pooled_incidence.set_index(keys)[["SUBJECTS", "EVENTS", "N"]].join(totals, rsuffix="_arms")
    assert len(merged) == len(totals) and merged["SUBJECTS"].sum() > 0
    for column in ("SUBJECTS", "EVENTS", "N"):
        assert (merged[column] == merged[f"{column}_arms"]).all(), column


def test_cdisc_pilot_pooled_everywhere():
    from dashboard.loaders import load_dataset

    original = load_dataset([shared_path("data", "external", "cdiscpilot01_adam")])
    _assert_no_arm_left(original, pooled(original))
