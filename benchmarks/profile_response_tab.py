"""Profile what opening the Response tab costs on a large trial (issue 14: 90 s and 2.2 GB at 100,000).

    python -m dashboard generate --subjects 100000 --out /tmp/big100k
    python benchmarks/profile_response_tab.py /tmp/big100k [--top 30]

Loads the data, builds the app as a session does, renders it into a Bokeh document, then opens the
Response tab under cProfile. Prints wall seconds and peak resident memory (ru_maxrss) after each step,
the 1-minute load average (the machine is shared), and the top costs by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import time

from bokeh.document import Document

from dashboard.app import build_app, shared_dataset


def step(what: str, start: float) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{what}: {time.perf_counter() - start:.1f} s, peak RSS {peak:.0f} MiB (load {os.getloadavg()[0]:.1f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="model folder, e.g. written by `generate --subjects 100000`")
    parser.add_argument("--top", type=int, default=30, help="profile lines to print")
    args = parser.parse_args()
    start = time.perf_counter()
    dataset = shared_dataset(args.data)
    step("load", start)
    start = time.perf_counter()
    app = build_app(dataset)
    tabs = app.main[1]
    tabs.get_root(Document())
    step("build the app and render the first tab", start)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    tabs.active = tabs._names.index("Response")
    profiler.disable()
    step("open Response", start)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
