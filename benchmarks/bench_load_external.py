"""Time `load_dataset` on the public CDISC datasets (median of N runs): `python benchmarks/bench_load_external.py [N]`."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from dashboard.loaders import load_dataset

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "external"


def main(runs: int = 5) -> None:
    for name in ("cdiscpilot01_adam", "pharmaverse_onco_adam"):
        folder = EXTERNAL / name
        if not folder.exists():
            print(f"{name}: not found at {folder}")
            continue
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            ds = load_dataset(folder)
            times.append(time.perf_counter() - start)
        rows = sum(len(t) for t in ds.tables().values())
        print(f"{name}: median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}) "
              f"over {runs} runs; {rows} rows in {len(ds.tables())} tables, {len(ds.report.warnings)} warnings")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
