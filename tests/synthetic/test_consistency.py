"""The bundled trial is internally consistent and follows the protocol and design assumptions."""

from __future__ import annotations

import pandas as pd

from dashboard.synthetic import calibration as cal

from .consistency import problems


def test_bundled_tables_are_mutually_consistent(bundled):
    assert problems(bundled) == []


def test_enrollment_window_sites_and_screening(bundled):
    adsl = bundled.adsl
    rand = adsl.loc[adsl["RANDFL"] == "Y"]
    assert rand["RANDDT"].min().strftime("%Y-%m") == "2014-09"
    assert rand["RANDDT"].max().strftime("%Y-%m") == "2019-03"
    per_site = rand["SITEID"].value_counts()
    assert per_site.idxmax() == cal.SITES[0].siteid and per_site.max() >= 2 * per_site.iloc[1:].max() * 0.9
    assert per_site.min() < per_site.iloc[1]  # unequal accrual
    sf = adsl.loc[adsl["RANDFL"] == "N"]
    assert (sf["ARM"] == "Screen Failure").all() and sf["SFREAS"].notna().all()
    assert len(sf) == round(cal.DEFAULT_SUBJECTS * cal.SCREEN_FAILURES_PER_RANDOMIZED)
    activation = rand["SITEID"].map(bundled.sites.set_index("SITEID")["ACTIVDT"])
    assert (rand["RANDDT"] >= activation).all()
    assert bundled.sites["ACTIVDT"].nunique() == len(bundled.sites)


def test_permuted_blocks_keep_each_stratum_balanced(bundled):
    rand = bundled.adsl.loc[bundled.adsl["RANDFL"] == "Y"].sort_values("RANDDT")
    assert set(rand["STRATGR"]) == {"II", "III-IV"}
    assert ((rand["AGVHDGR"] == "II") == (rand["STRATGR"] == "II")).all()
    for _, stratum in rand.groupby(["SITEID", "STRATGR"]):
        running = (stratum["ARMCD"] == "MSC").cumsum() - (stratum["ARMCD"] == "CTRL").cumsum()
        assert running.abs().max() <= max(cal.BLOCK_SIZES) // 2


def test_exposure_follows_the_dosing_rules(bundled):
    ex = bundled.adex.merge(bundled.adsl[["USUBJID", "ARMCD"]], on="USUBJID")
    bas = ex.loc[ex["EXTRT"] == "Basiliximab"]
    msc = ex.loc[ex["EXTRT"] == "Mesenchymal stromal cells"]
    assert (bas["EXDOSE"] == cal.BASILIXIMAB_MG).all() and (bas["EXDOSU"] == "mg").all()
    assert set(bas.loc[bas["EXCYCLE"] == 1, "ASTDY"]) == set(cal.BASILIXIMAB_DAYS)
    assert (msc["ARMCD"] == "MSC").all()
    assert set(msc.loc[msc["EXCYCLE"] == 1, "ASTDY"]) == set(cal.MSC_DAYS)
    assert msc.groupby("USUBJID").size().max() <= 2 * len(cal.MSC_DAYS)
    assert msc["EXDOSE"].median() == 1.0
    # No MSC infusion after a complete response was assessed in cycle 1.
    rs = bundled.adrs.loc[(bundled.adrs["PARAMCD"] == "OVRLRESP") & (bundled.adrs["AVALC"] == "CR")]
    first_cr = rs.loc[rs["AVISITN"] <= 28].groupby("USUBJID")["ADY"].min()
    cycle1 = msc.loc[msc["EXCYCLE"] == 1]
    assert not (cycle1["ASTDY"] > cycle1["USUBJID"].map(first_cr)).any()
    # A second cycle only for partial responders at day 28.
    pr28 = set(bundled.adrs.loc[(bundled.adrs["AVISIT"] == "Day 28") & (bundled.adrs["AVALC"] == "PR"), "USUBJID"])
    assert set(ex.loc[ex["EXCYCLE"] == 2, "USUBJID"]) <= pr28


def test_response_path_and_organ_stages(bundled):
    rs = bundled.adrs
    ovr = rs.loc[rs["PARAMCD"] == "OVRLRESP"]
    assert set(ovr["AVISIT"]) == {f"Day {d}" for d in bundled.info.visit_days}
    assert set(ovr["AVALC"]) <= {"CR", "PR", "MR", "NR", "PD"}
    cr = ovr.loc[ovr["AVALC"] == "CR", ["SKINSTG", "LIVERSTG", "GISTG"]]
    assert (cr == 0).all().all()
    base = rs.loc[rs["PARAMCD"] == "AGVHDSTG"].set_index("USUBJID")
    adsl = bundled.adsl.set_index("USUBJID")
    assert (base["AVALC"] == adsl.loc[base.index, "AGVHDGR"]).all()
    assert ((base["SKINSTG"] > 0) == (adsl.loc[base.index, "SKINFL"] == "Y")).all()
    assert ((base["LIVERSTG"] > 0) == (adsl.loc[base.index, "LIVERFL"] == "Y")).all()
    iv = base["AVALC"] == "IV"
    assert (base.loc[iv, ["SKINSTG", "LIVERSTG", "GISTG"]].max(axis=1) == 4).all()
    # Early visits carry a mix of responses, improving towards day 28.
    share = ovr.groupby("AVISITN")["AVALC"].apply(lambda s: s.isin(["CR", "PR"]).mean())
    assert share[7] < share[14] < share[28]


def test_adverse_events_have_meddra_terms_and_infection_types(bundled):
    ae = bundled.adae
    assert ae["AEBODSYS"].notna().all() and ae["AEDECOD"].notna().all()
    infections = ae.loc[ae["AECAT"] == "INFECTION"]
    assert (infections["AEBODSYS"] == "Infections and infestations").all()
    assert set(infections["INFTYPE"]) == {"CMV", "EBV", "Bacterial", "Fungal", "Other viral"}
    assert ae.loc[ae["AECAT"] != "INFECTION", "INFTYPE"].isna().all()
    assert set(ae["AETOXGRN"]) == {1, 2, 3, 4, 5}
    assert (ae["ASTDY"] <= cal.AE_WINDOW_DAYS).all()
    assert pd.Series(ae["AESEV"]).notna().all()


def test_deaths_are_attributed(bundled):
    dead = bundled.adsl.loc[bundled.adsl["DTHFL"] == "Y"]
    assert dead["DTHCAUS"].notna().all()
    assert {"Relapse", "Infection", "Chronic GVHD"} <= set(dead["DTHCAUS"])
