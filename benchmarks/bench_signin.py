"""Sign-in overhead on page load: the same bundled trial served twice (loopback, without sign-in, and
with `--auth`), timed over HTTP.

    python benchmarks/bench_signin.py [--runs N]

Reports, as medians: the sign-in itself (POST /login: argon2 check, cookie, audit line), the page
request (GET /, which builds the session) without and with a sign-in cookie, and the difference.
Page figures exclude the browser's drawing (the same for both servers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.auth.users import add_user  # noqa: E402
from tests.auth.conftest import PASSWORD, start_server  # noqa: E402
from tests.auth.test_http import client, fetch  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        users = folder / "users.toml"
        add_user(users, "carl", "closed", PASSWORD)
        (folder / "open").mkdir()
        plain = start_server(folder / "open", path="/")
        signed = start_server(folder, "--auth", str(users))
        try:
            opener, _ = client()
            fetch(opener, plain.url + "/")  # warm both servers (the first session imports the views)
            fetch(opener, signed.url + "/login", {"username": "carl", "password": PASSWORD})
            fetch(opener, signed.url + "/")
            signin_s, plain_s, signed_s = [], [], []
            for _ in range(runs):
                signed_opener, _ = client()
                fetch(signed_opener, signed.url + "/login")
                signin_s.append(timed(lambda: fetch(signed_opener, signed.url + "/login",
                                                    {"username": "carl", "password": PASSWORD})))
                plain_s.append(timed(lambda: fetch(opener, plain.url + "/")))
                signed_s.append(timed(lambda: fetch(signed_opener, signed.url + "/")))
        finally:
            plain.stop()
            signed.stop()
    print(f"sign-in (POST /login, argon2id check): {median_ms(signin_s):.0f} ms (median of {runs})")
    print(f"page GET /, no sign-in:               {median_ms(plain_s):.0f} ms")
    print(f"page GET /, signed in (closed role):  {median_ms(signed_s):.0f} ms")
    print(f"overhead per page load:               {median_ms(signed_s) - median_ms(plain_s):+.0f} ms")


if __name__ == "__main__":
    main()
