"""The "how to read this" notes: closed toggles next to the Kaplan-Meier / cumulative-incidence curves,
the SMDs and the volcano plot (no browser)."""

from __future__ import annotations

import panel as pn
import pytest

from dashboard.config import SMD_THRESHOLD
from dashboard.store import TrialStore
from dashboard.views.balance import BalanceView
from dashboard.views.help import HELP_TEXTS, help_toggle
from dashboard.views.safety import SafetyView
from dashboard.views.survival import SurvivalView


def help_topics(layout) -> list[str]:
    """Topics of the help toggles in a layout, in order."""
    return [c.removeprefix("help-") for p in layout.select(pn.pane.HTML) for c in p.css_classes
            if c.startswith("help-")]


@pytest.mark.parametrize("topic", list(HELP_TEXTS))
def test_each_help_is_a_closed_toggle_with_its_points(topic):
    title, points = HELP_TEXTS[topic]
    markup = help_toggle(topic).object
    assert markup.startswith("<details><summary>") and "<details open" not in markup
    assert markup.count("<li>") == len(points) >= 3
    assert "How to read" in title


def test_smd_help_states_the_configured_threshold():
    assert f"above {SMD_THRESHOLD:g} is the usual mark" in " ".join(HELP_TEXTS["smd"][1])


def test_survival_curves_get_the_help_that_fits_their_method(bundled):
    view = SurvivalView(store=TrialStore(bundled))
    subjects = view.store.subjects()
    assert help_topics(view._render(subjects, "OS")) == ["kaplan_meier"]
    assert help_topics(view._render(subjects, "RELAPSE")) == ["cumulative_incidence"]  # competing events


def test_balance_and_volcano_carry_their_help(bundled):
    store = TrialStore(bundled)
    assert help_topics(BalanceView(store=store).__panel__()) == ["smd", "smd"]  # Table 1 and Love plot
    assert "volcano" in help_topics(SafetyView(store=store).__panel__())
