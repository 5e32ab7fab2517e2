"""Enrollment tab update time after a filter change (server side: transforms, forecast, Bokeh models).

Builds the tab on the bundled trial, renders it once, then changes the site filter (cycling through
single sites and back to all sites) and times each change until every bound pane has re-rendered.
Reports the median and range of `--repeats` changes (browser drawing time not included).

    python benchmarks/bench_enrollment.py --repeats 20
"""

from __future__ import annotations

import argparse
import statistics
import time

from bokeh.document import Document

from dashboard.model.dataset import load_bundled
from dashboard.store import TrialStore
from dashboard.views.enrollment import EnrollmentView


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="filter changes to time")
    args = parser.parse_args(argv)
    dataset = load_bundled()
    store = TrialStore(dataset)
    layout = EnrollmentView(store=store).__panel__()
    start = time.perf_counter()
    layout.get_root(Document())
    first = time.perf_counter() - start
    choices = [[site] for site in store.param.sites.objects] + [[]]
    store.sites = choices[0]  # warm the caches once
    store.sites = []
    times = []
    for i in range(args.repeats):
        value = choices[i % len(choices)] if i % 2 == 0 else []
        start = time.perf_counter()
        store.sites = value
        times.append(time.perf_counter() - start)
    print(f"Enrollment tab on {dataset.info.registry_id} ({len(dataset.randomized)} randomized, "
          f"{len(store.param.sites.objects)} sites): first render {first:.2f} s")
    print(f"site-filter change, {len(times)} repeats: median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
