"""Site labels: names from the sites table, else ADSL, else the bare id."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.transforms.labels import column_label, short_site_labels, site_labels

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


def test_short_site_labels_keep_the_whole_institution_and_drop_parent_and_city():
    labels = {
        "06": "06 · General Hospital of Guangzhou Military Command (Guangzhou)",
        "01": "01 · Nanfang Hospital, Southern Medical University (Guangzhou)",
        "701": "701",
        "11": "11 · Union Hospital, Tongji Medical College (Wuhan)",
        "12": "12 · Union Hospital, Fujian Medical University (Fuzhou)",
    }
    assert short_site_labels(labels) == {
        "06": "06 · General Hospital of Guangzhou Military Command",
        "01": "01 · Nanfang Hospital",
        "701": "701",
        "11": "11 · Union Hospital, Tongji Medical College (Wuhan)",  # two "Union Hospital"s: full labels
        "12": "12 · Union Hospital, Fujian Medical University (Fuzhou)",
    }


def test_column_labels_come_from_the_data_model_then_the_configuration():
    assert column_label("adsl", "EOSSTT") == "End of study status"
    assert column_label("adae", "AETOXGRN") == "CTCAE grade (1-5)"
    assert column_label("adsl", "RACE") == "Race"  # a CDISC variable the model does not define
    assert column_label("adsl", "XYZ") == "XYZ"
