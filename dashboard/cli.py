"""Command line: `trial-dashboard generate | serve | users | validate | dictionary | report` (also `python -m dashboard`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .auth.roles import ROLES


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
    serve.add_argument("--address", default="127.0.0.1",
                       help="address to listen on; anything but loopback needs --auth or --oauth-provider")
    serve.add_argument("--show", action="store_true", help="open a browser")
    serve.add_argument("--num-procs", type=int, default=1,
                       help="server processes sharing the port (the data are loaded once, before they start)")
    serve.add_argument("--auth", type=Path, default=None, metavar="USERS.toml",
                       help="sign-in with the accounts and roles of this users file (see `users add`)")
    serve.add_argument("--oauth-provider", default=None,
                       help="sign-in through this Panel OAuth provider (e.g. generic, azure, okta, github; key and "
                            "secret from --oauth-key/--oauth-secret or PANEL_OAUTH_KEY/PANEL_OAUTH_SECRET); roles "
                            "from the [oauth.users]/[oauth.groups] tables of the --auth file")
    serve.add_argument("--oauth-key", default=None, help="OAuth client id")
    serve.add_argument("--oauth-secret", default=None, help="OAuth client secret (prefer PANEL_OAUTH_SECRET)")
    serve.add_argument("--oauth-redirect-uri", default=None, help="OAuth redirect URI registered with the provider")
    serve.add_argument("--allow-websocket-origin", action="append", default=[], metavar="HOST[:PORT]",
                       help="host a browser may open the page from (repeatable; default: derived from --address)")
    serve.add_argument("--prefix", default="", help="URL path prefix, for serving under a reverse proxy path")
    serve.add_argument("--insecure-no-auth", action="store_true",
                       help="serve a non-loopback address without sign-in (a warning is printed on every start)")
    serve.add_argument("--audit-log", type=Path, default=None, metavar="PATH",
                       help="append-only JSON-lines audit trail (default with sign-in: ./trial-dashboard-audit.jsonl)")
    serve.add_argument("--cookie-secret-file", type=Path, default=None, metavar="PATH",
                       help="file holding the cookie secret, generated with mode 0600 when missing "
                            "(default ~/.trial-dashboard/cookie_secret; PANEL_COOKIE_SECRET overrides)")
    serve.add_argument("--session-hours", type=float, default=8.0, help="sign-in lifetime in hours (default 8)")

    users = sub.add_parser("users", help="manage the accounts of a users file")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add or replace an account (the password is asked for, never an argument)")
    add.add_argument("name", help="user name")
    add.add_argument("--role", required=True, choices=tuple(ROLES))
    add.add_argument("--file", type=Path, default=Path("users.toml"), help="users file (default ./users.toml)")

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
    from .auth.serving import ServeError
    from .auth.users import UsersFileError
    from .model.validation import DatasetValidationError

    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (DatasetValidationError, FileNotFoundError, ServeError, UsersFileError) as exc:
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
        from .auth.serving import DEFAULT_COOKIE_SECRET_FILE, ServeOptions, serve

        return serve(ServeOptions(
            data=args.data, port=args.port, address=args.address, show=args.show, auth=args.auth,
            oauth_provider=args.oauth_provider, oauth_key=args.oauth_key, oauth_secret=args.oauth_secret,
            oauth_redirect_uri=args.oauth_redirect_uri, allow_websocket_origin=tuple(args.allow_websocket_origin),
            prefix=args.prefix, insecure_no_auth=args.insecure_no_auth, audit_log=args.audit_log,
            cookie_secret_file=args.cookie_secret_file or DEFAULT_COOKIE_SECRET_FILE, session_hours=args.session_hours,
            num_procs=args.num_procs,
        ))
    if args.command == "users":
        return _add_user(args.file, args.name, args.role)
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


def _add_user(path: Path, name: str, role: str) -> int:
    """`users add`: ask for the password twice (never echoed, never an argument) and write the account."""
    from getpass import getpass

    from .auth.users import add_user

    password = getpass(f"Password for {name}: ")
    if len(password) < 12:
        print("trial-dashboard users: the password needs at least 12 characters", file=sys.stderr)
        return 1
    if getpass("Repeat the password: ") != password:
        print("trial-dashboard users: the passwords differ", file=sys.stderr)
        return 1
    add_user(path, name, role, password)
    print(f"{name} ({role}) written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
