"""Coverage of the enrollment forecast's prediction bands on synthetic trials cut early.

For each seed, the synthetic NCT02241018 trial is simulated with stochastic accrual (a Poisson-gamma
recruitment draw that runs until 203 patients are randomized, so the completion date differs from
seed to seed; see `dashboard/synthetic/ASSUMPTIONS.md`). The real completion date is the day its
target-th patient was randomized; the trial is cut at earlier dates, the forecast made at each cut
is checked against that date, and the share of forecasts whose 80% and 95% bands hold it is
printed. Cuts at which the target was already reached give no forecast and are counted apart.
`--model-trials` also checks trials recruited exactly as the forecast model assumes.

    python benchmarks/bench_forecast_coverage.py --seeds 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from dashboard.config import DAYS_PER_MONTH
from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset
from dashboard.synthetic import calibration as cal
from dashboard.synthetic.cut import tables_at_cutoff
from dashboard.synthetic.generator import simulate_history
from dashboard.transforms.enrollment import site_activation
from dashboard.transforms.forecast import STATUS_FORECAST, forecast_completion


def coverage(seeds, cutoffs, target: int = NCT02241018.target_enrollment) -> pd.DataFrame:
    """One row per (seed, cut): real completion date, forecast median and whether each band holds it."""
    rows = []
    for seed in seeds:
        history = simulate_history(seed, cal.DEFAULT_SUBJECTS, cal.ACCRUAL_STOCHASTIC)
        subjects = history.subjects
        truth = subjects.loc[subjects["RANDFL"] == "Y", "RANDDT"].sort_values().iloc[target - 1]
        for cut in cutoffs:
            cut = pd.Timestamp(cut)
            tables = tables_at_cutoff(history, cut)
            early = TrialDataset.create(tables.pop("adsl"), cutoff=cut, info=NCT02241018, **tables)
            result = forecast_completion(early.randomized, site_activation(early.adsl, early.sites), early.cutoff,
                                         target=target, seed=seed)
            row = {"seed": seed, "cutoff": cut.date().isoformat(), "status": result.status, "truth": truth}
            if result.status == STATUS_FORECAST:
                lo80, hi80 = result.interval(0.80)
                lo95, hi95 = result.interval(0.95)
                row |= {"median": result.median, "error_days": (result.median - truth).days,
                        "in80": lo80 <= truth <= hi80, "in95": lo95 <= truth <= hi95,
                        "below80": truth < lo80, "width80_days": (hi80 - lo80).days,
                        "pit": result.probability_by(truth)}
            rows.append(row)
    return pd.DataFrame(rows)


def model_coverage(trials: int, seed: int = 1, sites: int = 8, alpha: float = 3.0, mean_rate: float = 1.0,
                   target: int = 150) -> pd.DataFrame:
    """Coverage on trials simulated from the Poisson-gamma model itself, cut after 12 months."""
    rng = np.random.default_rng(seed)
    start, cut = pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01")
    rows = []
    for i in range(trials):
        starts = np.sort(rng.uniform(0, 6, sites))
        rates = rng.gamma(alpha, mean_rate / alpha, sites)
        ids, dates = [], []
        for j, (s, lam) in enumerate(zip(starts, rates)):
            times = rng.uniform(s, 120, rng.poisson(lam * (120 - s)))
            ids += [f"{j + 1:02d}"] * len(times)
            dates += [(start + pd.Timedelta(days=float(t) * DAYS_PER_MONTH)).normalize() for t in times]
        subjects = pd.DataFrame({"SITEID": ids, "RANDDT": pd.to_datetime(dates)})
        activation = pd.DataFrame({"SITEID": [f"{j + 1:02d}" for j in range(sites)],
                                   "ACTIVDT": [(start + pd.Timedelta(days=float(s) * DAYS_PER_MONTH)).normalize()
                                               for s in starts]})
        result = forecast_completion(subjects.loc[subjects["RANDDT"] <= cut], activation, cut, target, seed=i)
        if result.status != STATUS_FORECAST:
            continue
        truth = subjects["RANDDT"].sort_values().iloc[target - 1]
        lo80, hi80 = result.interval(0.80)
        lo95, hi95 = result.interval(0.95)
        rows.append({"in80": lo80 <= truth <= hi80, "in95": lo95 <= truth <= hi95})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100, help="number of seeds (1..N)")
    parser.add_argument("--cutoffs", nargs="+", default=["2015-12-31", "2016-06-30", "2016-12-31", "2017-06-30"],
                        help="early data cut dates")
    parser.add_argument("--model-trials", type=int, default=0, help="trials simulated from the model (0 = skip)")
    args = parser.parse_args(argv)
    if args.model_trials:
        start = time.perf_counter()
        model = model_coverage(args.model_trials)
        print(f"Poisson-gamma trials ({len(model)} forecasts, {time.perf_counter() - start:.0f} s): "
              f"80% band coverage {model['in80'].mean():.3f}, 95% band coverage {model['in95'].mean():.3f}")
    start = time.perf_counter()
    table = coverage(range(1, args.seeds + 1), args.cutoffs)
    forecasts = table.loc[table["status"] == STATUS_FORECAST]
    truths = table.drop_duplicates("seed")["truth"]
    print(f"{len(forecasts)} forecasts from {args.seeds} seeds x {len(args.cutoffs)} cuts "
          f"({time.perf_counter() - start:.0f} s); other statuses: "
          f"{table.loc[table['status'] != STATUS_FORECAST, 'status'].value_counts().to_dict()}")
    print("real completion dates (target-th randomization) over seeds: "
          + ", ".join(f"{q:.0%} {truths.quantile(q).date()}" for q in (0.1, 0.5, 0.9)))
    summary = forecasts.groupby("cutoff").agg(
        forecasts=("in80", "size"), coverage80=("in80", "mean"), coverage95=("in95", "mean"),
        truth_below80=("below80", "mean"), median_error_days=("error_days", "median"),
        median_width80_days=("width80_days", "median"))
    print(summary.round(3).to_string())
    n = len(forecasts)
    pit = np.histogram(forecasts["pit"].astype(float), bins=5, range=(0, 1))[0]
    print(f"overall: 80% band coverage {forecasts['in80'].mean():.3f} ({int(forecasts['in80'].sum())}/{n}), "
          f"95% band coverage {forecasts['in95'].mean():.3f} ({int(forecasts['in95'].sum())}/{n}); "
          f"forecast probability of completion by the real date, in fifths: {pit.tolist()} (uniform if calibrated)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
