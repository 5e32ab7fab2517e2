"""Command line: `trial-dashboard generate | serve | validate | dictionary` (also `python -m dashboard`)."""

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
    gen.add_argument("--cuts", default=None,
                     help="write a series of data cuts, one sub-folder per cut: dates YYYY-MM-DD,YYYY-MM-DD,... "
                          "or 'quarterly' (each holds what was known that day; --cutoff is then ignored)")
    gen.add_argument("--format", choices=("parquet", "xpt", "csv", "dataset-json", "raw-edc"), default="parquet",
                     help="raw-edc: a non-CDISC EDC extract (CSV forms) plus the mapping.yaml that loads it")

    serve = sub.add_parser("serve", help="serve the dashboard (bundled trial unless DATA is given)")
    serve.add_argument("data", nargs="?", default=None, help="folder or files of ADaM/SDTM data")
    serve.add_argument("--port", type=int, default=5006)
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--show", action="store_true", help="open a browser")

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

        if args.cuts:
            from .synthetic.cut_series import generate_series_to_folder

            if args.format == "raw-edc":
                print("trial-dashboard generate: --cuts writes model folders; raw-edc is not supported", file=sys.stderr)
                return 2
            paths = generate_series_to_folder(args.out, args.cuts, seed=args.seed, subjects=args.subjects,
                                              fmt=args.format)
        elif args.format == "raw-edc":
            paths = write_raw_edc(simulate_trial(seed=args.seed, subjects=args.subjects, cutoff=args.cutoff), args.out)
        else:
            paths = generate_to_folder(args.out, seed=args.seed, subjects=args.subjects, cutoff=args.cutoff,
                                       fmt=args.format)
        print(f"wrote {len(paths)} files to {args.out}")
        return 0
    if args.command == "serve":
        from .app import serve

        return serve(args.data, port=args.port, address=args.address, show=args.show)
    if args.command == "validate":
        from .loaders import validate_cli

        return validate_cli(args.path, as_json=args.json, mapping=args.mapping, strict=args.strict)
    if args.command == "dictionary":
        from .model.schema import data_dictionary_markdown

        sys.stdout.write(data_dictionary_markdown() + "\n")
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
