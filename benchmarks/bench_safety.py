"""Adverse events tab: server-side update time after a filter change (median of N changes).

Builds a session store and the SafetyView, renders it into a Bokeh document as a served session
would (incidence table, volcano plot and listing visible; a row chosen so the listing is filled),
then times N changes of
  - a global filter (`store.sites`, alternating one site and all sites), and
  - the view's "serious only" switch (alternating on and off):
the time for the assignment to return, by which point the visible panes have recomputed their
data and updated their Bokeh models. `--subjects N` benchmarks a synthetic trial of N randomized
patients from `dashboard.synthetic.generator.simulate_trial` (simulation time is reported apart).

    python benchmarks/bench_safety.py                       # the bundled trial
    python benchmarks/bench_safety.py --subjects 100000     # a 100,000-patient synthetic trial
    python benchmarks/bench_safety.py --data FOLDER         # a model folder written by write_dataset
"""

from __future__ import annotations

import argparse
import statistics
import time

from bokeh.document import Document

from dashboard.model.dataset import load_bundled, read_model_folder
from dashboard.store import TrialStore
from dashboard.transforms import safety as sf
from dashboard.views.safety import SafetyView


def _dataset(args):
    if args.data:
        return read_model_folder(args.data), None
    if args.subjects:
        from dashboard.synthetic.generator import simulate_trial

        start = time.perf_counter()
        dataset = simulate_trial(subjects=args.subjects)
        return dataset, time.perf_counter() - start
    return load_bundled(), None


def _time(change, runs: int) -> list[float]:
    times = []
    for run in range(runs):
        start = time.perf_counter()
        change(run)
        times.append(time.perf_counter() - start)
    return times


def _report(label: str, times: list[float]) -> str:
    return (f"{label}: median {statistics.median(times) * 1000:.0f} ms "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {len(times)} changes")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="filter changes to time")
    parser.add_argument("--subjects", type=int, default=None, help="simulate a trial of this many randomized patients")
    parser.add_argument("--data", default=None, help="model folder (default: the bundled trial)")
    args = parser.parse_args(argv)
    dataset, simulated = _dataset(args)
    store = TrialStore(dataset)
    start = time.perf_counter()
    view = SafetyView(store=store)
    view.__panel__().get_root(Document())
    first = time.perf_counter() - start
    top = view.table_frame().iloc[1]  # the largest body system: its listing is shown while timing
    view.param.update(selected_soc=str(top["AEBODSYS"]), selected_term=str(top["AEDECOD"]))
    site = store.param.sites.objects[0]
    sites = _time(lambda run: setattr(store, "sites", [site] if run % 2 == 0 else []), args.runs)
    serious = _time(lambda run: setattr(view, "serious_only", run % 2 == 0), args.runs)
    n_ae = 0 if dataset.adae is None else len(dataset.adae)
    print(f"Adverse events tab, {len(dataset.randomized)} randomized patients, {n_ae} adverse events"
          + (f" (simulated in {simulated:.1f} s)" if simulated is not None else ""))
    print(f"view built and first rendered (incidence tab): {first * 1000:.0f} ms; terms in table: "
          f"{int((view.table_frame()['LEVEL'] == 'pt').sum())}; listing: {sf.SOC_TOTAL!r} of {top['AEBODSYS']!r}")
    print(_report("update after a site filter change", sites))
    print(_report("update after switching 'serious only'", serious))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
