"""Serving rules without a server: loopback detection, refusing a network address without sign-in,
default websocket origins, the cookie secret file, the failed sign-in limit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.auth import serving
from dashboard.auth.serving import (SignInLimiter, ServeError, check_listening, cookie_secret,
                                    default_websocket_origins, is_loopback)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("example.org", False),
])
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


def test_a_network_address_needs_sign_in_unless_explicitly_insecure():
    assert check_listening("127.0.0.1", signed_in=False, insecure_no_auth=False) is None
    assert check_listening("0.0.0.0", signed_in=True, insecure_no_auth=False) is None
    with pytest.raises(ServeError, match="--auth"):
        check_listening("0.0.0.0", signed_in=False, insecure_no_auth=False)
    assert "WITHOUT SIGN-IN" in check_listening("0.0.0.0", signed_in=False, insecure_no_auth=True)


def test_serve_on_all_interfaces_without_auth_is_refused_by_the_command(tmp_path):
    run = subprocess.run([sys.executable, "-m", "dashboard", "serve", "--address", "0.0.0.0", "--port", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 1
    assert "refusing to serve on 0.0.0.0 without sign-in" in run.stderr
    assert "Traceback" not in run.stderr


def test_default_origins_follow_the_address():
    assert default_websocket_origins("127.0.0.2", 5006) == ["127.0.0.1:5006", "127.0.0.2:5006", "localhost:5006"]
    wildcard = default_websocket_origins("0.0.0.0", 80)
    assert "0.0.0.0:80" not in wildcard
    import socket

    assert f"{socket.gethostname()}:80" in wildcard and "localhost:80" in wildcard


def test_the_cookie_secret_is_generated_once_in_a_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv(serving.COOKIE_SECRET_ENV, raising=False)
    path = tmp_path / "state" / "cookie_secret"
    first = cookie_secret(path)
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cookie_secret(path) == first
    path.chmod(0o644)
    with pytest.raises(ServeError, match="readable by other users"):
        cookie_secret(path)


def test_the_environment_overrides_the_cookie_secret_file(tmp_path, monkeypatch):
    monkeypatch.setenv(serving.COOKIE_SECRET_ENV, "s" * 40)
    assert cookie_secret(tmp_path / "never_written") == "s" * 40
    assert not (tmp_path / "never_written").exists()


def test_repeated_failures_lock_only_that_user_name(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(serving.time, "monotonic", lambda: clock[0])
    limiter = SignInLimiter(max_failures=3, window=60, lockout=300)
    assert [limiter.failed("alice") for _ in range(3)] == [False, False, True]
    assert limiter.locked_for("alice") == 300 and limiter.locked_for("bob") == 0
    clock[0] += 301
    assert limiter.locked_for("alice") == 0


def test_failures_outside_the_window_and_before_a_success_do_not_count(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(serving.time, "monotonic", lambda: clock[0])
    limiter = SignInLimiter(max_failures=3, window=60, lockout=300)
    limiter.failed("alice"), limiter.failed("alice")
    clock[0] += 61
    assert limiter.failed("alice") is False
    limiter.failed("alice")
    limiter.succeeded("alice")
    assert limiter.failed("alice") is False


def test_a_page_that_fails_to_build_shows_a_reference_not_the_error(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("cannot read /secret/path/adsl.parquet (PANEL_OAUTH_SECRET=abc)")

    monkeypatch.setattr("dashboard.app.build_app", broken)
    page = serving.session_app(None, None, None)
    assert "could not be built" in page.object
    assert "/secret/path" not in page.object and "RuntimeError" not in page.object and "abc" not in page.object


def test_oauth_needs_the_users_file_for_its_roles(monkeypatch):
    with pytest.raises(ServeError, match="--oauth-provider needs --auth"):
        serving.serve(serving.ServeOptions(oauth_provider="github"))
