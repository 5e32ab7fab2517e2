"""ADaM-shaped tables of a simulated trial as they stood on a data cut date.

Nothing after the cut is used: patients screened later are absent, later visits, events and doses
are dropped, deaths and end-of-study after the cut are unknown, ongoing events lose their end
date, and time-to-event endpoints are recomputed with open follow-up censored at the cut.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd

from ..model.schema import TABLE_SPECS
from . import calibration as cal

AESEV = MappingProxyType({1: "MILD", 2: "MODERATE", 3: "SEVERE", 4: "SEVERE", 5: "SEVERE"})
ONGOING = "NOT RECOVERED/NOT RESOLVED"
TTE_PARAMS = MappingProxyType({
    "OS": "Overall survival",
    "FFS": "Failure-free survival",
    "CGVHD": "Time to chronic GVHD",
    "RELAPSE": "Time to relapse",
    "NRM": "Time to non-relapse mortality",
})


def tables_at_cutoff(history, cutoff) -> dict[str, pd.DataFrame]:
    """The six tables of the data model at `cutoff`, from a `TrialHistory`."""
    cut = pd.Timestamp(cutoff).normalize()
    allsub = history.subjects
    seen = allsub["SCRNDT"] <= cut
    s = allsub.loc[seen]
    rand = (s["RANDFL"] == "Y") & (s["RANDDT"] <= cut)
    sites = history.sites.loc[history.sites["ACTIVDT"] <= cut].reset_index(drop=True)
    adex = _adex(history.doses, allsub, rand, cut)
    adsl = _adsl(s, rand, adex, history.sites, cut)
    keep = set(s.index[rand])
    adrs = _adrs(history.visits, allsub, keep, cut)
    adae = _adae(history.events, allsub, keep, cut)
    adtte = _adtte(s.loc[rand], cut)
    tables = {"adsl": adsl, "sites": sites, "adrs": adrs, "adae": adae, "adtte": adtte, "adex": adex}
    return {name: _ordered(name, df) for name, df in tables.items()}


def _ordered(name: str, df: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in TABLE_SPECS[name].column_names if c in df.columns]
    return df[columns].reset_index(drop=True)


def _adsl(s: pd.DataFrame, rand: pd.Series, adex: pd.DataFrame, sites: pd.DataFrame, cut) -> pd.DataFrame:
    sf = s["RANDFL"] == "N"
    pending = ~sf & ~rand
    arm_name = s["ARMKEY"].map(cal.ARM_NAME)
    out = pd.DataFrame(index=s.index)
    out["STUDYID"] = cal.STUDYID
    for c in ("USUBJID", "SUBJID", "SITEID"):
        out[c] = s[c]
    site = sites.set_index("SITEID")
    out["SITENAME"] = s["SITEID"].map(site["SITENAME"])
    out["SITECITY"] = s["SITEID"].map(site["CITY"])
    out["ARM"] = np.where(rand, arm_name, np.where(pending, "Not Assigned", "Screen Failure"))
    out["ARMCD"] = np.where(rand, s["ARMKEY"].map(cal.ARM_CODE), np.where(pending, "NOTASSGN", "SCRNFAIL"))
    first = adex.groupby("USUBJID")["ASTDT"].min()
    last = adex.groupby("USUBJID")["ASTDT"].max()
    out["TRTSDT"] = s["USUBJID"].map(first)
    out["TRTEDT"] = s["USUBJID"].map(last)
    out["TRT01P"] = arm_name.where(rand)
    out["TRT01A"] = arm_name.where(out["TRTSDT"].notna())
    out["RANDFL"] = np.where(rand, "Y", "N")
    out["ITTFL"] = out["RANDFL"]
    out["SAFFL"] = np.where(out["TRTSDT"].notna(), "Y", "N")
    withdrawn_known = s["WITHDRAWN"] & (s["EOSDT"] <= cut)
    out["EFFFL"] = np.where(rand & ~withdrawn_known, "Y", "N")
    out["SCRNDT"] = s["SCRNDT"]
    out["SFREAS"] = s["SFREAS"].where(sf)
    out["RANDDT"] = s["RANDDT"].where(rand)
    for c in ("AGE", "AGEGR1", "SEX", "DIAG", "DISSTAT", "HLAMATCH", "DONREL", "GRAFTSRC", "CONDREG", "GVHDPROP",
              "HSCTDT", "AGVHDDT", "HSCTGVDY", "AGVHDGR", "SKINFL", "LIVERFL", "UGIFL", "LGIFL", "NORGANS"):
        out[c] = s[c]
    out["STRATGR"] = s["STRATGR"].where(~sf)
    dead = rand & (s["DTHDT"] <= cut)
    ended = (rand & (s["EOSDT"] <= cut)) | sf
    out["EOSSTT"] = np.where(sf, "NOT RANDOMIZED", np.where(ended, s["EOSSTT"], "ONGOING"))
    out["EOSDT"] = s["EOSDT"].where(ended)
    out["DCSREAS"] = s["DCSREAS"].where(ended)
    out["DTHFL"] = np.where(dead, "Y", "N")
    out["DTHDT"] = s["DTHDT"].where(dead)
    out["DTHCAUS"] = s["DTHCAUS"].where(dead)
    out["LSTALVDT"] = np.where(rand, s["LSTALVDT"].clip(upper=cut), s["SCRNDT"])
    out["LSTALVDT"] = pd.to_datetime(out["LSTALVDT"])
    return out


def _adrs(visits: pd.DataFrame, allsub: pd.DataFrame, keep: set, cut) -> pd.DataFrame:
    v = visits.loc[visits["SUBJ"].isin(keep)].copy()
    v["ADT"] = allsub["RANDDT"].to_numpy()[v["SUBJ"]] + pd.to_timedelta(v["OFFSET"], unit="D")
    v = v.loc[v["ADT"] <= cut]
    v["USUBJID"] = allsub["USUBJID"].to_numpy()[v["SUBJ"]]
    v["ADY"] = v["OFFSET"] + 1
    return v


def _adae(events: pd.DataFrame, allsub: pd.DataFrame, keep: set, cut) -> pd.DataFrame:
    ae = events.loc[events["SUBJ"].isin(keep)].copy()
    randdt = allsub["RANDDT"].to_numpy()[ae["SUBJ"]]
    ae["ASTDT"] = randdt + pd.to_timedelta(ae["ONSET"], unit="D")
    ae = ae.loc[ae["ASTDT"] <= cut].copy()
    randdt = allsub["RANDDT"].to_numpy()[ae["SUBJ"]]
    end = randdt + pd.to_timedelta(ae["END"], unit="D")
    open_at_cut = end.isna() | (end > cut)
    ae["AENDT"] = end.where(~open_at_cut)
    # A fatal event whose death is after the cut was, at the cut, an ongoing grade 4 event.
    not_yet_fatal = (ae["AETOXGRN"] == 5) & open_at_cut
    ae["AETOXGRN"] = np.where(not_yet_fatal, 4, ae["AETOXGRN"])
    ae["AEOUT"] = np.where(open_at_cut, ONGOING, ae["AEOUT"])
    ae["USUBJID"] = allsub["USUBJID"].to_numpy()[ae["SUBJ"]]
    ae["AESEQ"] = ae.groupby("SUBJ").cumcount() + 1
    ae["ASTDY"] = ae["ONSET"] + 1
    ae["AENDY"] = np.where(open_at_cut, np.nan, ae["END"] + 1)
    ae["AENDY"] = ae["AENDY"].astype("Int64") if len(ae) else ae["AENDY"]
    ae["AESEV"] = ae["AETOXGRN"].map(dict(AESEV))
    ae["TRTEMFL"] = "Y"
    return ae


def _adex(doses: pd.DataFrame, allsub: pd.DataFrame, rand: pd.Series, cut) -> pd.DataFrame:
    x = doses.loc[doses["SUBJ"].isin(set(rand.index[rand]))].copy()
    x["ASTDT"] = allsub["RANDDT"].to_numpy()[x["SUBJ"]] + pd.to_timedelta(x["OFFSET"], unit="D")
    x = x.loc[x["ASTDT"] <= cut]
    x["USUBJID"] = allsub["USUBJID"].to_numpy()[x["SUBJ"]]
    x["ASTDY"] = x["OFFSET"] + 1
    return x


def _adtte(s: pd.DataFrame, cut) -> pd.DataFrame:
    """OS, FFS, CGVHD, RELAPSE and NRM per randomized subject, recomputed at the cut."""
    start = s["RANDDT"]
    censor = s["LSTALVDT"].clip(upper=cut)

    def seen(col):
        return s[col].where(s[col] <= cut)

    death, relapse, cgvhd, ffs = seen("DTHDT"), seen("RELAPSEDT"), seen("CGVHDDT"), seen("FFSDT")
    rows = []

    def emit(code, adt, cnsr, cmp, desc):
        rows.append(pd.DataFrame({
            "USUBJID": s["USUBJID"].to_numpy(), "PARAMCD": code, "PARAM": TTE_PARAMS[code],
            "STARTDT": start.to_numpy(), "ADT": pd.to_datetime(adt).to_numpy(),
            "CNSR": np.asarray(cnsr, dtype=int), "CMPEVFL": np.asarray(cmp, dtype=object),
            "EVNTDESC": np.asarray(desc, dtype=object),
        }))

    alive_desc = np.where(s["EOSSTT"].eq("DISCONTINUED") & (s["EOSDT"] <= cut), "Censored: " +
                          s["DCSREAS"].fillna("").str.lower(), "Censored: alive at last follow-up")
    has = death.notna()
    emit("OS", death.fillna(censor), ~has, "N", np.where(has, "Death", alive_desc))
    has = ffs.notna()
    emit("FFS", ffs.fillna(censor), ~has, "N", np.where(has, s["FFSEVENT"], alive_desc))
    # cGVHD: relapse or death without cGVHD compete.
    has = cgvhd.notna()
    competing = pd.concat([relapse, death], axis=1).min(axis=1)
    comp = ~has & competing.notna()
    comp_desc = np.where(relapse.notna() & (relapse <= death.fillna(relapse)), "Relapse without chronic GVHD",
                         "Death without chronic GVHD")
    emit("CGVHD", cgvhd.fillna(competing).fillna(censor), ~has, np.where(comp, "Y", "N"),
         np.where(has, "Chronic GVHD (" + s["CGVHDSEV"].fillna("").str.lower() + ")",
                  np.where(comp, comp_desc, alive_desc)))
    # Relapse: death without relapse competes.
    has = relapse.notna()
    comp = ~has & death.notna()
    emit("RELAPSE", relapse.fillna(death).fillna(censor), ~has, np.where(comp, "Y", "N"),
         np.where(has, "Relapse", np.where(comp, "Death without relapse", alive_desc)))
    # Non-relapse mortality: relapse competes.
    has = death.notna() & relapse.isna()
    comp = relapse.notna()
    emit("NRM", death.where(has).fillna(relapse).fillna(censor), ~has, np.where(comp, "Y", "N"),
         np.where(has, "Death without relapse", np.where(comp, "Relapse", alive_desc)))
    out = pd.concat(rows, ignore_index=True)
    out["AVAL"] = (out["ADT"] - out["STARTDT"]).dt.days.astype(float)
    order = {code: i for i, code in enumerate(TTE_PARAMS)}
    return out.sort_values(["USUBJID", "PARAMCD"], key=lambda c: c.map(order) if c.name == "PARAMCD" else c,
                           kind="stable")
