"""The signed-in server over plain HTTP: sign-in required, wrong passwords refused and logged, the
per-user limit, sign-out, security headers, and no traceback, path or setting in any response."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from dashboard.auth.serving import SECURITY_HEADERS

from .conftest import PASSWORD, NoRedirect

LEAKS = ("Traceback", "File \"", "/work/", "site-packages", "PYTHONPATH", "cookie_secret")


def client():
    """An HTTP client with its own cookies that does not follow redirects."""
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect()), jar


def fetch(opener, url: str, data: dict | None = None):
    """(status, headers, body) of a request, whatever its status."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        response = opener.open(url, data=body, timeout=120)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")
    return response.status, response.headers, response.read().decode(errors="replace")


def sign_in(server, name: str, password: str):
    opener, jar = client()
    fetch(opener, server.url + "/login")
    status, headers, _ = fetch(opener, server.url + "/login", {"username": name, "password": password})
    return opener, jar, status, headers


def audit_lines(server) -> list[dict]:
    return [json.loads(line) for line in server.audit.read_text().splitlines()]


def test_the_dashboard_needs_sign_in(server):
    opener, _ = client()
    status, headers, _ = fetch(opener, server.url + "/")
    assert status == 302 and headers["Location"].startswith("./login")


def test_wrong_passwords_are_refused_and_logged_without_the_password(server):
    _, jar, status, headers = sign_in(server, "carl", "not the password")
    assert status == 302 and headers["Location"].endswith("/login?error=invalid")
    assert "user" not in {cookie.name for cookie in jar}
    failed = [e for e in audit_lines(server) if e["event"] == "sign-in-failed" and e["user"] == "carl"]
    assert failed and failed[-1]["role"] is None and failed[-1]["data_cut"]
    assert "not the password" not in server.audit.read_text() and PASSWORD not in server.audit.read_text()


def test_a_right_password_signs_in_and_the_page_is_served(server):
    opener, jar, status, headers = sign_in(server, "anna", PASSWORD)
    assert status == 302 and "user" in {cookie.name for cookie in jar}
    status, _, body = fetch(opener, server.url + "/")
    assert status == 200 and "bokeh" in body.lower()
    assert [e for e in audit_lines(server) if e["event"] == "sign-in" and e["user"] == "anna"][-1]["role"] == "analyst"
    assert [e for e in audit_lines(server) if e["event"] == "session-start" and e["user"] == "anna"]


def test_repeated_failures_lock_that_user_even_with_the_right_password(server):
    for _ in range(5):
        sign_in(server, "dora", "guessing")
    _, jar, status, headers = sign_in(server, "dora", PASSWORD)
    assert headers["Location"].endswith("error=locked") and "user" not in {cookie.name for cookie in jar}
    assert audit_lines(server)[-1]["event"] == "sign-in-locked"
    opener, _ = client()
    _, _, body = fetch(opener, server.url + "/login?error=locked")
    assert "Too many failed sign-ins" in body
    _, _, _, headers = sign_in(server, "olive", PASSWORD)  # other users are not locked
    assert headers["Location"] == "/"


def test_the_sign_in_page_shows_only_its_own_messages(server):
    opener, _ = client()
    _, _, body = fetch(opener, server.url + "/login?error=" + urllib.parse.quote("Call +1 555 0100 <b>now</b>"))
    assert "555" not in body and "<b>now" not in body


def test_sign_out_ends_the_sign_in_and_is_logged(server):
    opener, jar, _, _ = sign_in(server, "carl", PASSWORD)
    status, _, _ = fetch(opener, server.url + "/logout")
    assert status == 200 and "user" not in {cookie.name for cookie in jar if cookie.value}
    assert fetch(opener, server.url + "/")[0] == 302
    assert audit_lines(server)[-1] | {"time": None} == {
        "time": None, "event": "sign-out", "user": "carl", "role": "closed", "session": None,
        "data_cut": audit_lines(server)[-1]["data_cut"]}


@pytest.mark.parametrize("path", ["/login", "/", "/no/such/page", "/static/../../etc/passwd", "/ws"])
def test_responses_carry_security_headers_and_leak_nothing(server, path):
    opener, _, _, _ = sign_in(server, "anna", PASSWORD)
    status, headers, body = fetch(opener, server.url + path)
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, (path, name)
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    for leak in LEAKS:
        assert leak not in body, (path, leak)


def test_under_a_prefix_sign_in_and_the_page_live_below_it(users_file):
    from .conftest import start_server

    prefixed = start_server(users_file.parent, "--auth", str(users_file), "--prefix", "/dmc", path="/dmc/login")
    try:
        opener, _ = client()
        status, headers, _ = fetch(opener, prefixed.url + "/dmc/")
        assert status == 302 and "login" in headers["Location"]
        fetch(opener, prefixed.url + "/dmc/login")
        status, headers, _ = fetch(opener, prefixed.url + "/dmc/login", {"username": "carl", "password": PASSWORD})
        assert status == 302
        status, _, body = fetch(opener, prefixed.url + "/dmc/")
        assert status == 200 and "static/" in body
        assert fetch(opener, prefixed.url + "/")[0] == 404
    finally:
        prefixed.stop()


def test_an_oauth_provider_is_passed_through_to_panel(users_file):
    from .conftest import start_server

    oauth = start_server(users_file.parent, "--auth", str(users_file), "--oauth-provider", "github",
                         "--oauth-key", "dashboard-client-id", "--oauth-secret", "not-used-here")
    try:
        opener, _ = client()
        status, headers, _ = fetch(opener, oauth.url + "/login")
        location = urllib.parse.urlparse(headers["Location"])
        assert status == 302 and location.netloc == "github.com" and location.path == "/login/oauth/authorize"
        assert urllib.parse.parse_qs(location.query)["client_id"] == ["dashboard-client-id"]
    finally:
        oauth.stop()
