"""Arm balance tab: server-side update time after a global filter change (median of N changes).

Builds a session store and the BalanceView on the bundled trial (or DATA), renders it into a Bokeh
document as a served session would, opens each sub-tab once (so its plots exist and follow the
filters), leaves the chosen sub-tab active, then times N site-filter changes (alternating one site
and all sites): the time for `store.sites = [...]` to return, by which point every pane has
recomputed its data and updated its Bokeh models.

    python benchmarks/bench_balance.py [--runs 20] [--active 0] [--data FOLDER]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bokeh.document import Document

from dashboard.model.dataset import load_bundled, read_model_folder
from dashboard.store import TrialStore
from dashboard.transforms.balance import baseline_table
from dashboard.views.balance import BalanceView


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="filter changes to time")
    parser.add_argument("--active", type=int, default=0, help="sub-tab left active (0 Table 1 .. 3 strata)")
    parser.add_argument("--data", default=None, help="model folder (default: the bundled trial)")
    args = parser.parse_args(argv)
    dataset = read_model_folder(args.data) if args.data else load_bundled()
    store = TrialStore(dataset)
    layout = BalanceView(store=store).__panel__()
    layout.get_root(Document())
    tabs = layout.objects[-1]
    for index in range(len(tabs)):
        tabs.active = index
    tabs.active = args.active
    site = store.param.sites.objects[0]
    times = []
    for run in range(args.runs):
        start = time.perf_counter()
        store.sites = [site] if run % 2 == 0 else []
        times.append(time.perf_counter() - start)
    table_times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        baseline_table(store.subjects(), arms=dataset.arms)
        table_times.append(time.perf_counter() - start)
    n = len(dataset.randomized)
    print(f"Arm balance update after a site filter change ({n} randomized, sub-tab {tabs._names[args.active]!r} "
          f"active, all sub-tabs rendered): median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.runs} changes")
    print(f"  of which baseline_table alone: median {statistics.median(table_times) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
