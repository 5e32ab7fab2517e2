"""Response tab: server-side update time after a global filter change (median of N changes).

Builds a session store and the ResponseView on the bundled trial (or DATA), renders it into a Bokeh
document as a served session would, opens each section once (so its panes exist and follow the
filters), leaves the chosen section active, then times N site-filter changes (alternating one site
and all sites): the time for `store.sites = [...]` to return, by which point the visible panes have
recomputed their data and updated their Bokeh models (hidden sections are lazy and recompute when
opened).

    python benchmarks/bench_response.py [--runs 20] [--active 0] [--data FOLDER]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bokeh.document import Document

from dashboard.model.dataset import load_bundled, read_model_folder
from dashboard.store import TrialStore
from dashboard.views.response import ResponseView


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="filter changes to time")
    parser.add_argument("--active", type=int, default=0, help="section left active (0 by visit .. 4 subgroups)")
    parser.add_argument("--data", default=None, help="model folder (default: the bundled trial)")
    args = parser.parse_args(argv)
    dataset = read_model_folder(args.data) if args.data else load_bundled()
    store = TrialStore(dataset)
    tabs = ResponseView(store=store).__panel__()
    tabs.get_root(Document())
    for index in range(len(tabs)):
        tabs.active = index
    tabs.active = args.active
    site = store.param.sites.objects[0]
    times = []
    for run in range(args.runs):
        start = time.perf_counter()
        store.sites = [site] if run % 2 == 0 else []
        times.append(time.perf_counter() - start)
    n = len(dataset.randomized)
    print(f"Response update after a site filter change ({n} randomized, section {tabs._names[args.active]!r} "
          f"active): median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.runs} changes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
