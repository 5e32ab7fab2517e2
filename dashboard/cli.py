"""Command line: `trial-dashboard generate | serve | validate | dictionary | report` (also `python -m dashboard`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trial-dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic NCT02241018 trial, one file per dataset")
    gen.add_argument("--out", required=True, type=Path, help="output folder")
    gen.add_argument("--seed", type=int, default=None, help="random seed (default: the bundled trial's)")
    gen.add_argument("--subjects", type=int, default=None, help="randomized subjects (default 203)")
    gen.add_argument("--cutoff", default=None, help="data cut date YYYY-MM-DD (the trial as it stood that day)")
    gen.add_argument("--format", choices=("parquet", "xpt", "csv", "dataset-json", "raw-edc"), default="parquet",
                     help="raw-edc: a non-CDISC EDC extract (CSV forms) plus the mapping.yaml that loads it")

    serve = sub.add_parser("serve", help="serve the dashboard (bundled trial unless DATA is given)")
    serve.add_argument("data", nargs="?", default=None, help="folder or files of ADaM/SDTM data")
    serve.add_argument("--port", type=int, default=5006)
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--show", action="store_true", help="open a browser")
    serve.add_argument("--num-procs", type=int, default=1,
                       help="server processes sharing the port (the data are loaded once, before they start)")

    val = sub.add_parser("validate", help="validate a dataset: exit 0 when it loads, 1 when blocked, 2 on a usage error",
                         description="Validate a trial's data. Blocking findings stop it from loading (exit 1); "
                                     "row-level findings leave rows out and informational ones change nothing "
                                     "(exit 0 unless --strict). Usage errors exit 2.")
    val.add_argument("path", nargs="+", help="folder or files of ADaM/SDTM data")
    val.add_argument("--json", action="store_true", help="print the report as JSON")
    val.add_argument("--mapping", type=Path, default=None, help="column mapping file (YAML/TOML)")
    val.add_argument("--strict", action="store_true",
                     help="also fail (exit 1) on row-level and informational findings, for data-management pipelines")

    sub.add_parser("dictionary", help="print the data dictionary (Markdown) generated from the schemas")

    rep = sub.add_parser("report", help="write the committee meeting pack (PDF, or one self-contained HTML file)")
    rep.add_argument("data", nargs="?", default=None, help="folder or files of ADaM/SDTM data (default: bundled trial)")
    rep.add_argument("--out", required=True, type=Path, help="pack.pdf or pack.html")
    rep.add_argument("--filters", default="", help="the dashboard's URL query, e.g. 'population=Evaluable&sites=01,03'")
    rep.add_argument("--sections", nargs="+", default=None,
                     help="sections in the pack: summary enrollment balance response safety quality (default: all)")
    kind = rep.add_mutually_exclusive_group()
    kind.add_argument("--closed", dest="closed", action="store_true", default=True,
                      help="closed report: results by arm (default)")
    kind.add_argument("--open", dest="closed", action="store_false",
                      help="open report: efficacy and safety pooled over the arms (DMC convention)")
    return parser


def main(argv=None) -> int:
    from .model.validation import DatasetValidationError

    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (DatasetValidationError, FileNotFoundError) as exc:
        print(f"trial-dashboard {args.command}: {exc}", file=sys.stderr)
        return 1


def _run(args) -> int:
    if args.command == "generate":
        from .synthetic.generator import generate_to_folder, simulate_trial
        from .synthetic.raw_edc import write_raw_edc

        if args.format == "raw-edc":
            paths = write_raw_edc(simulate_trial(seed=args.seed, subjects=args.subjects, cutoff=args.cutoff), args.out)
        else:
            paths = generate_to_folder(args.out, seed=args.seed, subjects=args.subjects, cutoff=args.cutoff,
                                       fmt=args.format)
        print(f"wrote {len(paths)} files to {args.out}")
        return 0
    if args.command == "serve":
        from .app import serve

        return serve(args.data, port=args.port, address=args.address, show=args.show, num_procs=args.num_procs)
    if args.command == "validate":
        from .loaders import validate_cli

        return validate_cli(args.path, as_json=args.json, mapping=args.mapping, strict=args.strict)
    if args.command == "dictionary":
        from .model.schema import data_dictionary_markdown

        sys.stdout.write(data_dictionary_markdown() + "\n")
        return 0
    if args.command == "report":
        return _report(args)
    return 2


def _report(args) -> int:
    from .loaders import load_dataset
    from .model.dataset import load_bundled
    from .report import SECTION_NAMES, build_pack

    dataset = load_bundled() if args.data is None else load_dataset(args.data)
    try:
        out = build_pack(dataset, args.out, query=args.filters, sections=args.sections or SECTION_NAMES,
                         closed=args.closed)
    except ValueError as exc:
        print(f"trial-dashboard report: {exc}", file=sys.stderr)
        return 2
    print(f"wrote the {'closed' if args.closed else 'open'} meeting pack to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
