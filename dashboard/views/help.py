"""Plain-language "how to read this" notes placed next to the plots that need them.

Each note is a closed <details> toggle (no server round trip; readable in both themes): a few
sentences for a committee member, built from the same configuration the plots use.
"""

from __future__ import annotations

from types import MappingProxyType

import panel as pn

from ..config import SMD_THRESHOLD
from .escape import escape_html

HELP_CSS = """
details { font-size: 0.88rem; line-height: 1.4; border: 1px solid rgba(128, 128, 128, 0.45); border-radius: 6px;
          padding: 4px 10px; }
summary { cursor: pointer; font-weight: 600; }
details ul { margin: 6px 0 4px 0; padding-left: 1.2rem; }
"""

# Topic -> (title, points): the plot's reading in plain words.
HELP_TEXTS = MappingProxyType({
    "kaplan_meier": ("How to read a Kaplan-Meier curve", (
        "Each curve is the estimated share of an arm's patients who have not had the event yet, over time "
        "since randomization. Each step down is one or more events.",
        "Patients whose follow-up ends without the event (censored) simply stop counting from then on; "
        "they are not counted as events.",
        "The shaded band is the 95% confidence interval: it widens as fewer patients remain, so the right end "
        "of a curve rests on few patients (see the numbers at risk below the plot).",
        "The median is the time at which a curve crosses 50%; \"not reached\" means it has not fallen that far.",
        "A lower curve means more events. The Cox hazard ratio summarises the gap over the whole follow-up "
        "(below 1: fewer events in the first arm named); the log-rank p asks whether the curves differ more "
        "than chance would explain.",
    )),
    "cumulative_incidence": ("How to read a cumulative incidence curve", (
        "Each curve is the estimated share of an arm's patients who have had this event by each time since "
        "randomization; it can only rise.",
        "Some patients first have a competing event that rules this one out (for example death before relapse). "
        "The Aalen-Johansen method counts them correctly; one minus a Kaplan-Meier curve would overstate the "
        "share.",
        "The shaded band is the 95% confidence interval; it widens as fewer patients remain at risk.",
        "A higher curve means more events. The cause-specific hazard ratio and log-rank p compare the rate of "
        "this event among patients still at risk, not the curves themselves.",
    )),
    "smd": ("How to read standardized differences (SMD)", (
        "The SMD is the difference between two arms in a baseline characteristic, measured in standard "
        "deviations, so that ages, weights and percentages can be compared on one scale.",
        "0 means the arms look alike; the sign is dropped. An absolute SMD above "
        f"{SMD_THRESHOLD:g} is the usual mark of a noteworthy imbalance.",
        "Unlike a p-value, the SMD does not grow with the number of patients. In a randomized trial imbalances "
        "arise by chance; they matter when the characteristic strongly predicts the outcome.",
        "In the Love plot each dot is one characteristic; dots right of the dashed line are above the flag "
        "threshold (the \"Flag |SMD| above\" setting).",
    )),
    "volcano": ("How to read the volcano plot", (
        "Each dot is one adverse-event term. Left to right: the difference between the two arms in the share "
        "of patients with the term (right of 0: more frequent in the first arm).",
        "Bottom to top: how surprising the difference would be by chance (-log10 of the Fisher exact p); "
        "dots above the dashed line have p < 0.05. Bigger dots: more events.",
        "With many terms, about 1 in 20 terms with no real difference still lands above the line by chance. "
        "It is an unadjusted screen, not evidence of harm: read a flagged term with its numbers, its timing "
        "and the clinical picture.",
    )),
})


def help_toggle(topic: str, **params) -> pn.pane.HTML:
    """A closed "how to read this" toggle for a topic of HELP_TEXTS (`params` go to the HTML pane)."""
    title, points = HELP_TEXTS[topic]
    items = "".join(f"<li>{escape_html(point)}</li>" for point in points)
    body = f"<details><summary>{escape_html(title)}</summary><ul>{items}</ul></details>"
    return pn.pane.HTML(body, stylesheets=[HELP_CSS], css_classes=["plot-help", f"help-{topic}"],
                        **{"margin": (5, 10), "sizing_mode": "stretch_width", **params})
