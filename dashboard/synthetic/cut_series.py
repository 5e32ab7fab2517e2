"""A series of data cuts of one simulated trial, each holding only what was known on its date.

Real cuts are not simple truncations of one history: sites enter data with a delay, a few deaths and
withdrawals are recorded weeks late, an adverse event's grade is corrected after query and a response
is re-assessed on central review. `series_tables` reproduces these, so that consecutive cuts differ
the way a committee sees them differ:

* each site enters its patients' data `SITE_LAG_DAYS` late: at a cut, a site's patients stand as they
  were that many days earlier (patients screened in between are not in the cut yet);
* a share of deaths (`LATE_OUTCOME_SHARE`) and withdrawals (`LATE_WITHDRAWAL_SHARE`) are recorded
  `LATE_OUTCOME_DAYS` late: until then the patient stands as at the end of the month before the event;
* a share of grade 2-4 adverse events (`CORRECTED_AE_SHARE`) were first recorded one grade off and
  corrected `CORRECTION_DAYS` after onset; a share of response assessments (`REASSESSED_SHARE`) were
  first recorded as a neighbouring response and re-assessed `CORRECTION_DAYS` after the assessment.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..model.dataset import SIMULATED_CUT, TrialDataset, write_dataset
from . import calibration as cal
from .cut import AESEV, tables_at_cutoff
from .generator import accrual_mode, default_cutoff, simulate_history

SITE_LAG_DAYS = (3, 45)  # each site's data-entry delay is drawn uniformly from this range (days)
LATE_OUTCOME_SHARE = 0.15
LATE_WITHDRAWAL_SHARE = 0.5  # withdrawals are recorded late more often than deaths (no SAE report forces them)
LATE_OUTCOME_DAYS = (30, 150)
CORRECTED_AE_SHARE = 0.04
REASSESSED_SHARE = 0.03
CORRECTION_DAYS = (30, 240)
# A re-assessed response was first recorded as its neighbour on the response scale.
FIRST_READ = MappingProxyType({"CR": "PR", "PR": "CR", "MR": "NR", "NR": "MR", "PD": "NR"})
QUARTERLY = "quarterly"
SERIES_SEED_OFFSET = 7919  # the series' reporting delays use their own stream, so the trial itself is unchanged


def cut_dates(spec: str, history=None) -> list[pd.Timestamp]:
    """The cut dates of `spec`: comma-separated YYYY-MM-DD dates, or 'quarterly' (every quarter end
    from the first randomization to the trial's default cut)."""
    if spec.strip().lower() == QUARTERLY:
        if history is None:
            raise ValueError("'quarterly' needs the simulated history")
        start = history.subjects["RANDDT"].min()
        end = default_cutoff(history)
        return list(pd.date_range(start, end, freq="QE").normalize())
    dates = sorted({pd.Timestamp(part.strip()).normalize() for part in spec.split(",") if part.strip()})
    if not dates:
        raise ValueError(f"no cut dates in {spec!r}")
    return dates


def reporting_delays(history, seed: int) -> dict[str, pd.DataFrame]:
    """The series' reporting delays, drawn once per trial: site lags, late outcomes, corrections."""
    rng = np.random.default_rng(seed + SERIES_SEED_OFFSET)
    sites = history.sites["SITEID"].to_numpy()
    site_lag = pd.Series(rng.integers(SITE_LAG_DAYS[0], SITE_LAG_DAYS[1] + 1, len(sites)), index=sites)
    subj = history.subjects
    outcome = subj["DTHDT"].where(subj["DTHDT"].notna(), subj["EOSDT"].where(subj["EOSSTT"] == "DISCONTINUED"))
    eligible = (subj["RANDFL"] == "Y") & outcome.notna()
    share = np.where(subj["DTHDT"].notna(), LATE_OUTCOME_SHARE, LATE_WITHDRAWAL_SHARE)
    late = eligible & (rng.random(len(subj)) < share)
    late_outcomes = pd.DataFrame({
        "USUBJID": subj.loc[late, "USUBJID"].to_numpy(),
        "EVENTDT": outcome[late].to_numpy(),
        "RECORDDT": (outcome[late] + pd.to_timedelta(rng.integers(*LATE_OUTCOME_DAYS, late.sum()), unit="D")).to_numpy(),
    })
    events = history.events
    randdt = subj["RANDDT"].to_numpy()[events["SUBJ"]]
    onset = pd.Series(randdt + pd.to_timedelta(events["ONSET"], unit="D"), index=events.index)
    pick = events["AETOXGRN"].between(2, 4) & (rng.random(len(events)) < CORRECTED_AE_SHARE)
    corrected_ae = pd.DataFrame({
        "USUBJID": subj["USUBJID"].to_numpy()[events.loc[pick, "SUBJ"]],
        "AEDECOD": events.loc[pick, "AEDECOD"].to_numpy(),
        "ASTDT": onset[pick].to_numpy(),
        "FIRSTGRN": np.where(events.loc[pick, "AETOXGRN"] < 4, events.loc[pick, "AETOXGRN"] + 1,
                             events.loc[pick, "AETOXGRN"] - 1),
        "CORRDT": (onset[pick] + pd.to_timedelta(rng.integers(*CORRECTION_DAYS, pick.sum()), unit="D")).to_numpy(),
    })
    visits = history.visits
    adt = pd.Series(subj["RANDDT"].to_numpy()[visits["SUBJ"]] + pd.to_timedelta(visits["OFFSET"], unit="D"),
                    index=visits.index)
    pick = (visits["PARAMCD"] == "OVRLRESP") & visits["AVALC"].isin(list(FIRST_READ)) & (
        rng.random(len(visits)) < REASSESSED_SHARE)
    reassessed = pd.DataFrame({
        "USUBJID": subj["USUBJID"].to_numpy()[visits.loc[pick, "SUBJ"]],
        "PARAMCD": visits.loc[pick, "PARAMCD"].to_numpy(),
        "ADT": adt[pick].to_numpy(),
        "FIRSTREAD": visits.loc[pick, "AVALC"].map(dict(FIRST_READ)).to_numpy(),
        "CORRDT": (adt[pick] + pd.to_timedelta(rng.integers(*CORRECTION_DAYS, pick.sum()), unit="D")).to_numpy(),
    })
    return {"site_lag": site_lag.rename("LAGDAYS").rename_axis("SITEID").reset_index(), "late_outcomes": late_outcomes,
            "corrected_ae": corrected_ae, "reassessed": reassessed}


def series_tables(history, cut, delays: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The model tables as known on `cut`: each patient as of their site's entry date (or the day
    before a late-recorded outcome), first-recorded grades and responses not yet corrected."""
    cut = pd.Timestamp(cut).normalize()
    subj = history.subjects
    lag = subj["SITEID"].map(delays["site_lag"].set_index("SITEID")["LAGDAYS"]).fillna(0)
    as_of = cut - pd.to_timedelta(lag, unit="D")
    late = delays["late_outcomes"]
    # Month ends keep the number of distinct "as of" dates (one plain cut each) small at any trial size.
    events = late.loc[late["RECORDDT"] > cut].set_index("USUBJID")["EVENTDT"]
    pending = events.dt.to_period("M").dt.start_time - pd.Timedelta(days=1)
    held = subj["USUBJID"].map(pending)
    as_of = as_of.where(held.isna() | (held >= as_of), held)
    parts: dict[str, list[pd.DataFrame]] = {}
    positions = pd.Series(np.arange(len(subj)), index=subj.index)
    for date, members in positions.groupby(as_of):
        for name, df in tables_at_cutoff(_sub_history(history, members.to_numpy()), date).items():
            if name != "sites":
                parts.setdefault(name, []).append(df)
    # Rows by subject as the history lists them (ADTTE by subject id, as a plain cut sorts it), each
    # subject's rows in their drawn order.
    position_of = pd.Series(np.arange(len(subj)), index=subj["USUBJID"].to_numpy())
    out = {}
    for name, frames in parts.items():
        df = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        key = (lambda c: c) if name == "adtte" else (lambda c: c.map(position_of))
        out[name] = df.sort_values("USUBJID", key=key, kind="stable").reset_index(drop=True)
    out["sites"] = tables_at_cutoff(_sub_history(history, positions.to_numpy()[:1]), cut)["sites"]
    out["adae"] = _first_recorded_grades(out["adae"], delays["corrected_ae"], cut)
    out["adrs"] = _first_reads(out["adrs"], delays["reassessed"], cut)
    return out


def _sub_history(history, positions: np.ndarray):
    """The history of the subjects at `positions` only (records renumbered to them, in their order)."""
    renumber = pd.Series(np.arange(len(positions)), index=positions)

    def records(df: pd.DataFrame) -> pd.DataFrame:
        kept = df.loc[df["SUBJ"].isin(positions)].copy()
        kept["SUBJ"] = kept["SUBJ"].map(renumber).to_numpy()
        return kept

    return replace(history, subjects=history.subjects.iloc[positions].reset_index(drop=True),
                   visits=records(history.visits), events=records(history.events), doses=records(history.doses))


def _first_recorded_grades(adae: pd.DataFrame, corrected: pd.DataFrame, cut) -> pd.DataFrame:
    """ADAE with the grades not yet corrected on `cut` as first recorded."""
    open_ = corrected.loc[corrected["CORRDT"] > cut, ["USUBJID", "AEDECOD", "ASTDT", "FIRSTGRN"]]
    if open_.empty or adae.empty:
        return adae
    merged = adae.merge(open_.drop_duplicates(["USUBJID", "AEDECOD", "ASTDT"]), how="left",
                        on=["USUBJID", "AEDECOD", "ASTDT"])
    first = merged["FIRSTGRN"].notna() & (merged["AETOXGRN"] < 5)
    out = adae.copy()
    out.loc[first.to_numpy(), "AETOXGRN"] = merged.loc[first, "FIRSTGRN"].astype(int).to_numpy()
    out["AESEV"] = out["AETOXGRN"].map(dict(AESEV))
    return out


def _first_reads(adrs: pd.DataFrame, reassessed: pd.DataFrame, cut) -> pd.DataFrame:
    """ADRS with the responses not yet re-assessed on `cut` as first read."""
    open_ = reassessed.loc[reassessed["CORRDT"] > cut, ["USUBJID", "PARAMCD", "ADT", "FIRSTREAD"]]
    if open_.empty or adrs.empty:
        return adrs
    merged = adrs.merge(open_.drop_duplicates(["USUBJID", "PARAMCD", "ADT"]), how="left",
                        on=["USUBJID", "PARAMCD", "ADT"])
    first = merged["FIRSTREAD"].notna().to_numpy()
    out = adrs.copy()
    out.loc[first, "AVALC"] = merged.loc[first, "FIRSTREAD"].to_numpy()
    return out


def simulate_series(cuts: str, seed: int | None = None, subjects: int | None = None,
                    accrual: str | None = None) -> list[TrialDataset]:
    """The synthetic trial at each cut of `cuts` ('2016-06-30,2017-06-30' or 'quarterly'), oldest first."""
    seed = cal.DEFAULT_SEED if seed is None else int(seed)
    n = cal.DEFAULT_SUBJECTS if subjects is None else int(subjects)
    mode = accrual_mode(seed, n, accrual)
    history = simulate_history(seed, n, mode)
    delays = reporting_delays(history, seed)
    out = []
    for cut in cut_dates(cuts, history):
        tables = series_tables(history, cut, delays)
        provenance = {"generator": cal.GENERATOR_NAME, "generator_version": cal.GENERATOR_VERSION, "seed": seed,
                      "subjects": n, "cutoff": cut.date().isoformat(), "series": "reporting delays (cut_series.py)"}
        if mode != cal.ACCRUAL_PUBLISHED:
            provenance["accrual"] = mode
        out.append(TrialDataset.create(tables.pop("adsl"), cutoff=cut, cutoff_source=SIMULATED_CUT,
                                       info=cal.NCT02241018, provenance=provenance, **tables))
    return out


def generate_series_to_folder(out, cuts: str, seed=None, subjects=None, fmt: str = "parquet") -> list[Path]:
    """Write each cut of the series into `out/YYYY-MM-DD/` (one file per table plus metadata.json)."""
    out = Path(out)
    paths: list[Path] = []
    for dataset in simulate_series(cuts, seed=seed, subjects=subjects):
        paths += write_dataset(dataset, out / dataset.cutoff.date().isoformat(), fmt=fmt, validated=True)
    return paths
