"""Time building the meeting pack (closed and open, PDF and HTML).

    python benchmarks/bench_report.py                 # the bundled trial (203 patients)
    python benchmarks/bench_report.py /tmp/big        # a generated trial, e.g.
                                                      #   python -m dashboard generate --subjects 100000 --out /tmp/big

Prints the time to load the data, to build each pack's HTML (every section: the transforms and the
figures) and to lay it out as a PDF (WeasyPrint), with the page count and file size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None, help="model folder (default: the bundled trial)")
    parser.add_argument("--query", default="", help="dashboard URL filters, e.g. population=Evaluable")
    args = parser.parse_args()

    from pypdf import PdfReader

    from dashboard.loaders import load_dataset
    from dashboard.model.dataset import load_bundled
    from dashboard.report.pack import pack_html, pack_pdf

    start = time.perf_counter()
    dataset = load_bundled() if args.data is None else load_dataset(args.data)
    print(f"load: {time.perf_counter() - start:.1f} s ({len(dataset.randomized):,} randomized, "
          f"{0 if dataset.adae is None else len(dataset.adae):,} adverse events)")
    with tempfile.TemporaryDirectory() as folder:
        for closed in (True, False):
            kind = "closed" if closed else "open"
            sections: dict[str, float] = {}
            last = [time.perf_counter(), None]

            def progress(_fraction, what, sections=sections, last=last):
                now = time.perf_counter()
                if last[1] is not None:
                    sections[last[1]] = now - last[0]
                last[:] = [now, what]

            start = time.perf_counter()
            html = pack_html(dataset, query=args.query, closed=closed, progress=progress)
            built = time.perf_counter() - start
            start = time.perf_counter()
            pdf = pack_pdf(html)
            laid_out = time.perf_counter() - start
            path = Path(folder) / f"{kind}.pdf"
            path.write_bytes(pdf)
            pages = len(PdfReader(path).pages)
            detail = ", ".join(f"{name} {seconds:.1f}" for name, seconds in sections.items())
            print(f"{kind}: HTML {built:.1f} s ({detail}); PDF layout {laid_out:.1f} s; total {built + laid_out:.1f} s; "
                  f"{pages} pages, {len(pdf) / 1e6:.1f} MB PDF, {len(html.encode()) / 1e6:.1f} MB HTML")


if __name__ == "__main__":
    main()
