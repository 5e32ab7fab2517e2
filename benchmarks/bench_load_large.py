"""Load a 1,000,000-row AE CSV: wall time, peak memory, and a readable report of 1,000 bad dates.

`python benchmarks/bench_load_large.py [--rows N] [--bad N] [--profile]`

Times are wall and CPU seconds (CPU is the figure to compare on a shared machine).

Builds, in a temporary folder, the bundled trial's ADSL and its ADAE repeated until N rows (each copy
renumbers AESEQ per subject) as plain ADaM CSV files, then loads them with `load_dataset` in a fresh
process (so the peak resident memory, VmHWM, is the load's own, next to the same process's memory
after its imports, before loading). A second folder has `--bad` AE onset dates made unreadable; its validation
report must give the count with at most 5 example rows. `--profile` prints the load's top costs
(cProfile, by own time).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.model import load_bundled
from dashboard.model.validation import MAX_EXAMPLES

ISO = "%Y-%m-%d"


def write_trial(folder: Path, rows: int, bad_dates: int = 0) -> Path:
    """ADSL and an ADAE of `rows` rows as CSV in `folder`; `bad_dates` onset dates spread through it unreadable."""
    folder.mkdir(parents=True, exist_ok=True)
    trial = load_bundled()
    _as_text(trial.adsl).to_csv(folder / "adsl.csv", index=False)
    adae = _as_text(trial.adae)
    copies = math.ceil(rows / len(adae))
    big = pd.concat([adae] * copies, ignore_index=True).head(rows)
    big["AESEQ"] = (big.groupby("USUBJID").cumcount() + 1).astype(str)
    if bad_dates:
        where = np.linspace(0, rows - 1, bad_dates).astype(int)
        big.loc[where, "ASTDT"] = "31/02/2015"
    big.to_csv(folder / "adae.csv", index=False)
    return folder


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as an export writes it: dates ISO text, everything else as written by pandas."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime(ISO)
    return out


def _memory_mib(field: str) -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), from /proc (Linux).

    Not `ru_maxrss`: Linux carries it across exec, so a child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(folder: str, profile: bool) -> None:
    """Run in a fresh process: load the folder, print JSON with seconds and memory (MiB)."""
    from dashboard.loaders import load_dataset

    before = _memory_mib("VmRSS")
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start, cpu = time.perf_counter(), time.process_time()
    ds = load_dataset(folder)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
        print(text.getvalue(), file=sys.stderr)
    peak = _memory_mib("VmHWM")
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_before_mib": before, "peak_rss_mib": peak, "ae_rows": len(ds.adae),
                      "warnings": len(ds.report.warnings)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="AE rows")
    parser.add_argument("--bad", type=int, default=1_000, help="unreadable AE onset dates in the second load")
    parser.add_argument("--profile", action="store_true", help="print the load's top costs (cProfile)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile)
        return
    from dashboard.loaders import validate_path
    from dashboard.loaders.report import format_text

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        clean = write_trial(Path(tmp) / "clean", args.rows)
        size = (clean / "adae.csv").stat().st_size / 2**20
        print(f"wrote {args.rows:,} AE rows ({size:.0f} MiB CSV) in {time.perf_counter() - start:.1f} s")
        command = [sys.executable, __file__, "--child", str(clean)] + (["--profile"] if args.profile else [])
        result = json.loads(subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout)
        print(f"load_dataset: {result['seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU; peak RSS {result['peak_rss_mib']:.0f} MiB "
              f"(after imports, before loading {result['rss_before_mib']:.0f} MiB); {result['ae_rows']:,} AE rows, "
              f"{result['warnings']} warnings")
        broken = write_trial(Path(tmp) / "broken", args.rows, bad_dates=args.bad)
        start, cpu = time.perf_counter(), time.process_time()
        report = validate_path(broken)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        dates = [f for f in report.findings if f.column == "ASTDT" and f.count == args.bad]
        text = format_text(report)
        print(f"validate_path with {args.bad:,} bad onset dates: {seconds:.1f} s wall, {cpu:.1f} s CPU; report {len(text.splitlines())} "
              f"lines, {len(text):,} characters")
        assert dates, f"no ASTDT finding counting {args.bad} rows: {[str(f) for f in report.findings]}"
        assert len(dates[0].examples) <= MAX_EXAMPLES
        print("\n".join(line for line in text.splitlines() if "ASTDT" in line or "row " in line))


if __name__ == "__main__":
    main()
