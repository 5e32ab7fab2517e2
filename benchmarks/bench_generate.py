"""Benchmark the synthetic trial generator: `python benchmarks/bench_generate.py [N ...]`.

Times each stage (simulate the history, cut the tables, validate into a TrialDataset, write parquet)
for the default 203-subject trial and 100,000 subjects (or the sizes given), best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import pandas as pd

from dashboard.synthetic.calibration import NCT02241018
from dashboard.model.dataset import TrialDataset, write_dataset
from dashboard.synthetic import calibration as cal
from dashboard.synthetic.cut import tables_at_cutoff
from dashboard.synthetic.generator import simulate_history


def run(n: int, seed: int) -> dict[str, float]:
    """Seconds per stage for one generation of n randomized subjects."""
    times = {}
    t0 = time.perf_counter()
    history = simulate_history(seed, n)
    times["simulate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = tables_at_cutoff(history, pd.Timestamp(cal.DEFAULT_CUTOFF))
    times["cut"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    dataset = TrialDataset.create(tables.pop("adsl"), cutoff=cal.DEFAULT_CUTOFF, info=NCT02241018, **tables)
    times["validate"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        write_dataset(dataset, out)
        times["write"] = time.perf_counter() - t0
    times["total"] = sum(times.values())
    times["rows"] = sum(len(df) for df in dataset.tables().values())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[cal.DEFAULT_SUBJECTS, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=cal.DEFAULT_SEED)
    args = parser.parse_args()
    print(f"cpus available: {len(os.sched_getaffinity(0))}")
    print(f"{'subjects':>9} {'rows':>9} {'simulate':>9} {'cut':>7} {'validate':>9} {'write':>7} {'total':>7}  (s, best of {args.repeat})")
    for n in args.sizes:
        best = min((run(n, args.seed) for _ in range(args.repeat)), key=lambda t: t["total"])
        print(f"{n:>9} {int(best['rows']):>9} {best['simulate']:>9.2f} {best['cut']:>7.2f} {best['validate']:>9.2f} "
              f"{best['write']:>7.2f} {best['total']:>7.2f}")


if __name__ == "__main__":
    main()
