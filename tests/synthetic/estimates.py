"""Published figures recomputed from a dataset's rows (the straightforward transforms the tests use)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter

from dashboard.config import DAYS_PER_MONTH, RESPONDER_CATEGORIES
from dashboard.synthetic import calibration as cal

ARM_KEY = {name: key for key, name in cal.ARM_NAME.items()}


def with_arm_key(adsl: pd.DataFrame) -> pd.DataFrame:
    return adsl.assign(ARMKEY=adsl["ARM"].map(ARM_KEY))


def evaluable(ds) -> pd.DataFrame:
    adsl = with_arm_key(ds.adsl)
    return adsl.loc[adsl["EFFFL"] == "Y", ["USUBJID", "ARMKEY"]]


def count(ds, t: cal.CountTarget) -> int:
    adsl = with_arm_key(ds.adsl)
    pop = adsl.loc[(adsl[t.population] == "Y") & (adsl["ARMKEY"] == t.arm)]
    return int(pop[t.column].isin(list(t.values)).sum())


def statistic(ds, t: cal.StatTarget) -> float:
    adsl = with_arm_key(ds.adsl)
    values = adsl.loc[(adsl["EFFFL"] == "Y") & (adsl["ARMKEY"] == t.arm), t.column].astype(float)
    return float(getattr(values, t.stat)())


def responders(ds, t: cal.ResponseTarget) -> int:
    rows = ds.adrs.merge(evaluable(ds), on="USUBJID")
    hit = rows.loc[(rows["PARAMCD"] == "OVRLRESP") & (rows["AVISIT"] == t.visit) & (rows["ARMKEY"] == t.arm)
                   & rows["AVALC"].isin(RESPONDER_CATEGORIES)]
    return int(hit["USUBJID"].nunique())


def severe_ae_patients(ds, t: cal.AeTarget) -> int:
    ae = ds.adae.merge(evaluable(ds), on="USUBJID")
    hit = ae.loc[(ae["ARMKEY"] == t.arm) & (ae["AECAT"] == t.category) & ae["AETOXGRN"].between(3, 4)
                 & (ae["ASTDY"] <= cal.AE_WINDOW_DAYS)]
    return int(hit["USUBJID"].nunique())


def sae_patients(ds, t: cal.SaeTarget) -> int:
    ae = ds.adae.merge(evaluable(ds), on="USUBJID")
    ser = ae.loc[(ae["AESER"] == "Y") & (ae["ARMKEY"] == t.arm)]
    platelets = set(ser.loc[ser["AEDECOD"] == cal.PLATELETS_DECREASED, "USUBJID"])
    neutrophils = set(ser.loc[ser["AEDECOD"] == cal.NEUTROPHILS_DECREASED, "USUBJID"])
    special = {
        "any serious adverse event": set(ser["USUBJID"]),
        "infections": set(ser.loc[ser["AECAT"] == "INFECTION", "USUBJID"]),
        "hematologic (total)": platelets | neutrophils,
        "hematologic: platelets decreased": platelets - neutrophils,
        "hematologic: platelets and neutrophils both decreased": platelets & neutrophils,
    }
    if t.category in special:
        return len(special[t.category])
    return int(ser.loc[ser["AEDECOD"].isin(cal.SAE_CATEGORIES[t.category]), "USUBJID"].nunique())


def tte_estimate(ds, t: cal.TteTarget) -> float:
    """The lifelines estimate a TteTarget describes, among evaluable patients."""
    rows = ds.adtte.merge(evaluable(ds), on="USUBJID")
    rows = rows.loc[rows["PARAMCD"] == t.paramcd]
    if t.kind == "hr":
        time = rows["AVAL"].to_numpy(dtype=float)
        event = (rows["CNSR"] == 0).to_numpy()
        if t.day is not None:
            event &= time <= t.day
            time = np.minimum(time, t.day)
        frame = pd.DataFrame({"T": time, "E": event, "MSC": (rows["ARMKEY"] == "MSC").astype(int).to_numpy()})
        return float(np.exp(CoxPHFitter().fit(frame, "T", "E").params_["MSC"]))
    arm = rows.loc[rows["ARMKEY"] == t.arm]
    time = arm["AVAL"].to_numpy(dtype=float)
    if t.kind in ("median", "survival"):
        km = KaplanMeierFitter().fit(time, arm["CNSR"] == 0)
        if t.kind == "median":
            return float(km.median_survival_time_) / DAYS_PER_MONTH
        return 100 * float(km.survival_function_at_times(t.day).iloc[0])
    code = np.where(arm["CNSR"] == 0, 1, np.where(arm["CMPEVFL"] == "Y", 2, 0))
    # Deterministic sub-day offsets break ties between event types (lifelines would jitter randomly).
    time = time + np.arange(len(time)) * 1e-6
    aj = AalenJohansenFitter(calculate_variance=False).fit(time, code, event_of_interest=1)
    cif = aj.cumulative_density_
    return 100 * float(cif.loc[cif.index <= t.day].iloc[-1, 0])
