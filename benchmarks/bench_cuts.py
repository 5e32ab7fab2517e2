"""Series of data cuts: generation, loading and memory, switching the cut shown, and the diff between cuts.

`python benchmarks/bench_cuts.py [--subjects N] [--cuts 2016-06-30,2017-06-30,...]`

Generates the synthetic trial's series (N randomized subjects, default: the bundled 203) into a
temporary folder, then reports:
  * load: wall/CPU seconds of `load_series`, and the traced peak memory (tracemalloc) of loading the
    whole series against loading only its latest cut;
  * memory: bytes of the tables held by the series (each shared table counted once) against the
    bytes if every cut held its own copy;
  * switch: seconds to build a session's store and app on each cut (what "as of" does per page);
  * diff: seconds of `change_listing` + `change_counts` for each pair of consecutive cuts.
Times are wall and CPU seconds (CPU is the figure to compare on a shared machine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

BUNDLED_CUTS = "2016-06-30,2017-06-30,2018-06-30,2019-06-30"


def timed(function, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def table_bytes(frames) -> int:
    return sum(df.memory_usage(deep=True).sum() for df in frames)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=None, help="randomized subjects (default: the bundled 203)")
    parser.add_argument("--cuts", default=BUNDLED_CUTS)
    args = parser.parse_args(argv)

    import panel as pn

    from dashboard.app import build_app
    from dashboard.loaders import load_dataset
    from dashboard.loaders.cuts import load_series
    from dashboard.store import TrialStore
    from dashboard.synthetic.cut_series import generate_series_to_folder
    from dashboard.transforms.changes import change_counts, change_listing

    pn.extension("tabulator")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cuts"
        _, wall, cpu = timed(generate_series_to_folder, folder, args.cuts, subjects=args.subjects)
        print(f"generate: {len(args.cuts.split(','))} cuts, {args.subjects or 203} subjects: wall {wall:.1f} s, cpu {cpu:.1f} s")

        tracemalloc.start()
        series, wall, cpu = timed(load_series, folder)
        series_held, series_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        latest = load_dataset(sorted(folder.iterdir())[-1])
        one_held, one_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del latest
        print(f"load: {len(series.cuts)} cuts in wall {wall:.2f} s, cpu {cpu:.2f} s; traced memory held "
              f"{series_held / 2**20:.1f} MiB, peak {series_peak / 2**20:.1f} MiB (latest cut alone: held "
              f"{one_held / 2**20:.1f} MiB, peak {one_peak / 2**20:.1f} MiB)")

        every = [df for cut in series.cuts for df in cut.tables().values()]
        unique = list({id(df): df for df in every}.values())
        shared = [f"{cut.cutoff.date()} {n}" for i, cut in enumerate(series.cuts[1:], 1)
                  for n, df in cut.tables().items() if df is series.cuts[i - 1].tables()[n]]
        print(f"memory: tables held {table_bytes(unique) / 2**20:.2f} MiB vs {table_bytes(every) / 2**20:.2f} MiB "
              f"unshared (whole tables; shared columns are counted in each table); whole tables shared with the "
              f"previous cut: {', '.join(shared) or 'none'}; latest cut alone "
              f"{table_bytes(series.latest.tables().values()) / 2**20:.2f} MiB")

        for date in series.dates:
            def switch():
                store = TrialStore(series.at(date), series=series)
                build_app(store=store)
                return store.subjects()
            subjects, wall, cpu = timed(switch)
            print(f"switch to {date}: store + app in wall {wall:.2f} s, cpu {cpu:.2f} s ({len(subjects)} patients)")

        day = series.latest.info.primary_visit_day
        for before, after in zip(series.cuts, series.cuts[1:]):
            def diff():
                listing = change_listing(before.tables(), after.tables(), day)
                return listing, change_counts(listing)
            (listing, _), wall, cpu = timed(diff)
            print(f"diff {before.cutoff.date()} -> {after.cutoff.date()}: {len(listing)} changes in wall {wall:.2f} s, "
                  f"cpu {cpu:.2f} s")


if __name__ == "__main__":
    main()
