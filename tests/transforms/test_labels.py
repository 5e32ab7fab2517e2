"""Site labels: names from the sites table, else ADSL, else the bare id."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.transforms.labels import site_labels

ADSL = pd.DataFrame({"SITEID": ["1", "2", "2", "3"], "SITENAME": ["Nanfang Hospital", None, None, "Guangzhou First"]})


def test_sites_table_wins_and_adds_the_city_unless_already_in_the_name():
    sites = pd.DataFrame({"SITEID": ["1", "3"], "SITENAME": ["Nanfang Hospital", "Guangzhou First"],
                          "CITY": ["Guangzhou", "Guangzhou"]})
    assert site_labels(ADSL, sites) == {"1": "1 · Nanfang Hospital (Guangzhou)", "2": "2", "3": "3 · Guangzhou First"}


def test_adsl_names_without_a_sites_table():
    assert site_labels(ADSL) == {"1": "1 · Nanfang Hospital", "2": "2", "3": "3 · Guangzhou First"}


def test_site_labels_needs_siteid():
    with pytest.raises(KeyError, match="SITEID"):
        site_labels(pd.DataFrame({"USUBJID": ["P1"]}))
