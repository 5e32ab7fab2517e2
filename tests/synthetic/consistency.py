"""Cross-table consistency rules of a synthetic trial; `problems(ds)` lists every violation."""

from __future__ import annotations

import pandas as pd

from dashboard.synthetic import calibration as cal
from dashboard.synthetic.cut import TTE_PARAMS

DATE_COLUMNS = {"adrs": ["ADT"], "adae": ["ASTDT", "AENDT"], "adex": ["ASTDT"], "adtte": ["ADT"]}


def problems(ds) -> list[str]:
    out: list[str] = []

    def check(mask, message):
        mask = pd.Series(mask).fillna(False).astype(bool)
        if mask.any():
            out.append(f"{message}: {int(mask.sum())} rows")

    adsl = ds.adsl
    rand = adsl.loc[adsl["RANDFL"] == "Y"].set_index("USUBJID")
    sf = adsl.loc[adsl["ARM"] == "Screen Failure"]
    dead = rand["DTHFL"] == "Y"
    # Screening and randomization.
    check(adsl["RANDDT"] < adsl["SCRNDT"], "randomized before screening")
    check(rand["TRTSDT"] < rand["RANDDT"], "treated before randomization")
    check(rand["TRTEDT"] < rand["TRTSDT"], "last dose before first dose")
    check(sf["SFREAS"].isna(), "screen failure without reason")
    check(sf["RANDFL"] != "N", "screen failure randomized")
    check(~adsl["SITEID"].isin(ds.sites["SITEID"]), "site missing from sites table")
    activ = adsl["SITEID"].map(ds.sites.set_index("SITEID")["ACTIVDT"])
    check(adsl["SCRNDT"] < activ, "screened before site activation")
    non_randomized = set(adsl.loc[adsl["RANDFL"] == "N", "USUBJID"])
    for name in ("adrs", "adae", "adex", "adtte"):
        check(getattr(ds, name)["USUBJID"].isin(non_randomized), f"{name} rows for non-randomized subjects")
    # Death and disposition.
    check(dead != rand["DTHDT"].notna(), "DTHFL disagrees with DTHDT")
    check(dead & (rand["EOSSTT"] != "DISCONTINUED"), "dead but not discontinued")
    check(dead & (rand["DCSREAS"] != "Death"), "dead with another discontinuation reason")
    check(dead & (rand["EOSDT"] != rand["DTHDT"]), "EOSDT differs from DTHDT")
    check(dead & (rand["LSTALVDT"] != rand["DTHDT"]), "LSTALVDT differs from DTHDT")
    check(~dead & (rand["DCSREAS"] == "Death"), "discontinued for death without a death")
    check((rand["EOSSTT"] == "ONGOING") & rand["EOSDT"].notna(), "ongoing with an end-of-study date")
    check((rand["EOSSTT"] != "ONGOING") & rand["EOSDT"].isna(), "ended without an end-of-study date")
    check(dead & rand["DTHCAUS"].isna(), "death without a cause")
    # Nothing after death (or after the last-known-alive date).
    last = rand["DTHDT"].fillna(rand["LSTALVDT"])
    for name, columns in DATE_COLUMNS.items():
        df = getattr(ds, name)
        for col in columns:
            check(df[col] > df["USUBJID"].map(last), f"{name}.{col} after death / last known alive")
    # Safety population and exposure.
    exposed = set(ds.adex["USUBJID"])
    check((rand["SAFFL"] == "Y") != rand.index.isin(exposed), "SAFFL disagrees with exposure")
    # Grade 5 adverse events match deaths.
    g5 = ds.adae.loc[ds.adae["AETOXGRN"] == 5]
    check(~g5["USUBJID"].isin(rand.index[dead]), "grade 5 AE without a death")
    check(g5["AENDT"] != g5["USUBJID"].map(rand["DTHDT"]), "grade 5 AE not ending on the death date")
    check(g5["AEOUT"] != "FATAL", "grade 5 AE not FATAL")
    check(g5["USUBJID"].duplicated(), "more than one grade 5 AE per subject")
    check((ds.adae["AEOUT"] == "FATAL") & (ds.adae["AETOXGRN"] != 5), "FATAL outcome below grade 5")
    in_window = dead & ((rand["DTHDT"] - rand["RANDDT"]).dt.days < cal.AE_WINDOW_DAYS)
    ae_cause = rand["DTHCAUS"].isin(list(cal.FATAL_AE_TERMS))
    check(in_window & ae_cause & ~rand.index.isin(g5["USUBJID"]), "AE-cause death in window without grade 5 AE")
    check(~ae_cause & rand.index.isin(g5["USUBJID"]), "grade 5 AE for a non-AE cause of death")
    # Study days.
    for name, date, day in (("adrs", "ADT", "ADY"), ("adae", "ASTDT", "ASTDY"), ("adex", "ASTDT", "ASTDY")):
        df = getattr(ds, name)
        check((df[date] - df["USUBJID"].map(rand["RANDDT"])).dt.days + 1 != df[day], f"{name}.{day} wrong")
    # Time to event.
    tte = ds.adtte
    wide = {code: tte.loc[tte["PARAMCD"] == code].set_index("USUBJID") for code in TTE_PARAMS}
    for code, rows in wide.items():
        if len(rows) != len(rand) or not rows.index.equals(rows.index.unique()):
            out.append(f"ADTTE {code}: not one row per randomized subject")
        check(rows["AVAL"] != (rows["ADT"] - rows["STARTDT"]).dt.days, f"ADTTE {code} AVAL != ADT - STARTDT")
        check(rows["STARTDT"] != rows.index.map(rand["RANDDT"]), f"ADTTE {code} STARTDT != RANDDT")
        check((rows["CMPEVFL"] == "Y") & (rows["CNSR"] != 1), f"ADTTE {code} competing event not censored")
    os_, ffs, cg, rel, nrm = (wide[c] for c in ("OS", "FFS", "CGVHD", "RELAPSE", "NRM"))
    deaths = rand["DTHDT"]
    check((os_["CNSR"] == 0) != os_.index.map(dead).astype(bool), "OS events disagree with deaths")
    check((os_["CNSR"] == 0) & (os_["ADT"] != os_.index.map(deaths)), "OS event date != DTHDT")
    check((os_["CNSR"] == 1) & (os_["ADT"] != os_.index.map(rand["LSTALVDT"])), "OS censored not at LSTALVDT")
    check(ffs["ADT"] > os_["ADT"], "FFS after OS")
    check((os_["CNSR"] == 0) & (ffs["CNSR"] != 0), "death without FFS failure")
    check((nrm["CNSR"] == 0) & (os_["CNSR"] != 0), "NRM event without death")
    check((nrm["CNSR"] == 0) & (rel["CNSR"] == 0), "NRM event after a relapse")
    check((rel["CNSR"] == 0) & (nrm["CMPEVFL"] != "Y"), "relapse not competing for NRM")
    check((rel["CMPEVFL"] == "Y") & (nrm["CNSR"] != 0), "death without relapse not an NRM event")
    first_competing = pd.concat([rel["ADT"].where(rel["CNSR"] == 0), os_["ADT"].where(os_["CNSR"] == 0)], axis=1).min(axis=1)
    check((cg["CMPEVFL"] == "Y") & (cg["ADT"] != first_competing), "cGVHD competing date is not the first relapse/death")
    check((cg["CNSR"] == 0) & (cg["ADT"] > first_competing), "cGVHD after relapse/death")
    check((cg["CNSR"] == 1) & (cg["CMPEVFL"] == "N") & first_competing.notna(), "cGVHD competing event not flagged")
    return out
