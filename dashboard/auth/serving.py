"""Serving safely: sign-in on Panel's own auth (password accounts with argon2 hashes, or an OAuth
provider), a per-user limit on failed sign-ins, the audit trail of sign-ins and sign-outs, websocket
origins derived from the address, security headers, and the refusal to serve a network address
without sign-in.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import signal
import socket
import stat
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlencode

import tornado.escape
from panel.auth import (STATE_COOKIE_NAME, BasicAuthProvider, BasicLoginHandler, LogoutHandler, OAuthProvider,
                        _validate_next_url)
from panel.config import config as panel_config
from panel.io.resources import LOCAL_DIST
from panel.io.state import state as panel_state
from tornado.web import OutputTransform, decode_signed_value

from .audit import AuditLog
from .users import Accounts

log = logging.getLogger(__name__)

COOKIE_SECRET_ENV = "PANEL_COOKIE_SECRET"  # Panel's own variable
DEFAULT_COOKIE_SECRET_FILE = Path.home() / ".trial-dashboard" / "cookie_secret"
INSECURE_WARNING = ("WARNING: serving on {address} WITHOUT SIGN-IN (--insecure-no-auth): anyone who can reach "
                    "port {port} sees every result by arm and patient-level data.")
SIGN_IN_ERRORS = {
    "invalid": "Invalid user name or password.",
    "locked": "Too many failed sign-ins for this user name: wait {minutes} minutes and try again.",
}
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    # Bokeh and Panel run inline scripts, build callbacks (CustomJS) with Function() and load module bundles from blob: URLs.
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class ServeError(ValueError):
    """The serve options are unsafe or inconsistent (the message says what to change)."""


def is_loopback(address: str) -> bool:
    """Whether `address` (an IP or host name) only accepts connections from this machine."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def default_websocket_origins(address: str, port: int) -> list[str]:
    """The origins (host:port) a browser may open the page from: the address itself, plus for a
    wildcard address (0.0.0.0 or ::) this machine's host names and addresses, plus localhost."""
    hosts = {address, "localhost", "127.0.0.1"}
    if address in ("0.0.0.0", "::", ""):
        hosts.discard(address)
        hosts |= {socket.gethostname(), socket.getfqdn()}
        try:
            hosts |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
        except OSError:
            pass
    return sorted(f"[{h}]:{port}" if ":" in h else f"{h}:{port}" for h in hosts if h)


def check_listening(address: str, *, signed_in: bool, insecure_no_auth: bool) -> str | None:
    """Refuse a network address without sign-in (ServeError); returns the warning to print on every
    start when that was explicitly allowed with --insecure-no-auth."""
    if is_loopback(address) or signed_in:
        return None
    if not insecure_no_auth:
        raise ServeError(f"refusing to serve on {address} without sign-in: give --auth USERS.toml or "
                         "--oauth-provider NAME (or --insecure-no-auth to accept that anyone who can reach "
                         "the port sees everything)")
    return INSECURE_WARNING


def cookie_secret(path: Path = DEFAULT_COOKIE_SECRET_FILE) -> str:
    """The secret signing the sign-in cookies: $PANEL_COOKIE_SECRET, else the file at `path`, generated
    (mode 0600) the first time. A file readable by other users is refused."""
    from_env = os.environ.get(COOKIE_SECRET_ENV)
    if from_env:
        return from_env
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ServeError(f"the cookie secret file {path} is readable by other users (mode {mode:o}): chmod 600 it")
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ServeError(f"the cookie secret in {path} is too short (fewer than 32 characters)")
    return secret


@dataclass
class SignInLimiter:
    """At most `max_failures` failed sign-ins per user name within `window` seconds; then that name is
    locked for `lockout` seconds (successful sign-ins clear the count). One per server process."""

    max_failures: int = 5
    window: float = 900.0
    lockout: float = 900.0
    _failures: dict = field(default_factory=lambda: defaultdict(deque))
    _locked_until: dict = field(default_factory=dict)

    def locked_for(self, name: str) -> float:
        """Seconds the name stays locked (0 when it may try)."""
        remaining = self._locked_until.get(name, 0.0) - time.monotonic()
        if remaining <= 0:
            self._locked_until.pop(name, None)
            return 0.0
        return remaining

    def failed(self, name: str) -> bool:
        """Count a failure; True when it locks the name."""
        now = time.monotonic()
        failures = self._failures[name]
        failures.append(now)
        while failures and failures[0] < now - self.window:
            failures.popleft()
        if len(failures) >= self.max_failures:
            failures.clear()
            self._locked_until[name] = now + self.lockout
            return True
        return False

    def succeeded(self, name: str) -> None:
        """Forget the name's failures."""
        self._failures.pop(name, None)


class PasswordLoginHandler(BasicLoginHandler):
    """Panel's basic sign-in page, checking argon2 hashes from the users file, limiting failures per
    user name and writing sign-ins to the audit trail. Error messages come from a fixed list (the URL
    carries a code, never text)."""

    accounts: Accounts
    limiter: SignInLimiter
    audit: AuditLog

    def get(self):
        code = self.get_argument("error", "")
        minutes = max(1, round(self.limiter.lockout / 60))
        message = SIGN_IN_ERRORS.get(code, "").format(minutes=minutes)
        next_url = _validate_next_url(self.get_argument("next", panel_state.base_url))
        if next_url:
            self.set_cookie("next_url", next_url)
        self.write(self._login_template.render(login_endpoint=self._login_endpoint, errormessage=message,
                                               PANEL_CDN=LOCAL_DIST))

    def post(self):
        name = self.get_argument("username", "")
        password = self.get_argument("password", "")
        if self.limiter.locked_for(name):
            self.audit.record("sign-in-locked", user=name, role=None)
            return self._refuse("locked")
        role = self.accounts.verify(name, password)
        if role is None:
            locked = self.limiter.failed(name)
            self.audit.record("sign-in-failed", user=name, role=None, locked=locked)
            return self._refuse("locked" if locked else "invalid")
        self.limiter.succeeded(name)
        self.set_current_user(name)
        self.audit.record("sign-in", user=name, role=role)
        self.redirect(_validate_next_url(self.get_cookie("next_url", panel_state.base_url)))

    def _refuse(self, code: str) -> None:
        self.redirect(f"{self.request.path}?{urlencode({'error': code})}")


class AuditedLogoutHandler(LogoutHandler):
    """Panel's sign-out page, writing the sign-out to the audit trail."""

    accounts: Accounts
    audit: AuditLog

    def get(self):
        cookie = self.get_secure_cookie("user", max_age_days=panel_config.oauth_expiry)
        if cookie:
            user = tornado.escape.to_unicode(cookie)
            self.audit.record("sign-out", user=user, role=self.accounts.role_of(user))
        for name in ("user", "id_token", "access_token", "refresh_token", "oauth_expiry", STATE_COOKIE_NAME):
            self.clear_cookie(name, path=panel_config.cookie_path)
        self.write(self._logout_template.render(PANEL_CDN=LOCAL_DIST, LOGIN_ENDPOINT=self._login_endpoint))


class PasswordAuthProvider(BasicAuthProvider):
    """Panel's basic auth provider with the users file's accounts, the failure limit and the audit trail."""

    def __init__(self, accounts: Accounts, audit: AuditLog, limiter: SignInLimiter, **kwargs):
        self.accounts, self.audit, self.limiter = accounts, audit, limiter
        super().__init__(**kwargs)

    @cached_property
    def login_handler(self):
        return type("LoginHandler", (PasswordLoginHandler,), {
            "accounts": self.accounts, "audit": self.audit, "limiter": self.limiter,
            "_login_endpoint": self._login_endpoint, "_login_template": self._login_template})

    @cached_property
    def logout_handler(self):
        return _logout_handler(self)


class AuditedOAuthProvider(OAuthProvider):
    """Panel's OAuth provider (the `--oauth-provider` one), writing sign-outs to the audit trail."""

    def __init__(self, accounts: Accounts, audit: AuditLog, **kwargs):
        self.accounts, self.audit = accounts, audit
        super().__init__(**kwargs)

    @cached_property
    def logout_handler(self):
        return _logout_handler(self)


def _logout_handler(provider: BasicAuthProvider) -> type:
    """The sign-out handler class of a provider: its accounts, audit trail, endpoints and template."""
    return type("LogoutHandler", (AuditedLogoutHandler,), {
        "accounts": provider.accounts, "audit": provider.audit, "_login_endpoint": provider._login_endpoint,
        "_logout_template": provider._logout_template})


class SecurityHeaders(OutputTransform):
    """Adds the security headers (CSP with frame-ancestors, X-Frame-Options, nosniff, referrer policy)
    to every HTTP response; a Tornado output transform, set through the application settings."""

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)
        return status_code, headers, chunk



@dataclass(frozen=True)
class ServeOptions:
    """How `trial-dashboard serve` listens and who may sign in (the command-line options)."""

    data: str | None = None
    port: int = 5006
    address: str = "127.0.0.1"
    show: bool = False
    auth: Path | None = None  # users file (password accounts; with an OAuth provider, its role mapping)
    oauth_provider: str | None = None
    oauth_key: str | None = None
    oauth_secret: str | None = None
    oauth_redirect_uri: str | None = None
    allow_websocket_origin: tuple[str, ...] = ()
    prefix: str = ""
    insecure_no_auth: bool = False
    audit_log: Path | None = None
    cookie_secret_file: Path = DEFAULT_COOKIE_SECRET_FILE
    session_hours: float = 8.0
    max_failed_sign_ins: int = 5
    num_procs: int = 1  # server processes sharing the port (the data are loaded once, before they fork)

    @property
    def signed_in(self) -> bool:
        """Whether users must sign in."""
        return self.auth is not None or self.oauth_provider is not None


def serve(options: ServeOptions) -> int:
    """Serve the dashboard as `options` say; prints the URL (and the no-sign-in warning when allowed)."""
    import panel as pn

    from ..app import DATA_ENV, open_cut

    if options.oauth_provider and options.auth is None:
        raise ServeError("--oauth-provider needs --auth USERS.toml: its [oauth.users] / [oauth.groups] tables "
                         "give the identity provider's users their roles")
    warning = check_listening(options.address, signed_in=options.signed_in,
                              insecure_no_auth=options.insecure_no_auth)
    path = options.data if options.data is not None else os.environ.get(DATA_ENV)
    dataset, _ = open_cut(path)  # fail before serving if the data cannot load (a series: its latest cut)
    accounts = Accounts.read(options.auth) if options.auth else None
    audit_path = options.audit_log or (Path("trial-dashboard-audit.jsonl") if options.signed_in else None)
    audit = AuditLog(audit_path, data_cut=dataset.cutoff.date().isoformat()) if audit_path else None
    prefix = "/" + options.prefix.strip("/") if options.prefix.strip("/") else ""
    origins = list(options.allow_websocket_origin) or default_websocket_origins(options.address, options.port)
    kwargs: dict = dict(port=options.port, address=options.address, show=options.show, websocket_origin=origins,
                        title="trial-dashboard", prefix=prefix, transforms=[SecurityHeaders],
                        num_procs=options.num_procs,
                        liveness=True)  # GET /liveness: 200 while the server answers (health checks, deploy/)
    if options.num_procs != 1:
        os.register_at_fork(after_in_child=_end_with_parent)
    if options.signed_in:
        panel_config.oauth_expiry = options.session_hours / 24
        panel_config.authorize_callback = lambda user_info: accounts.role_of(panel_state.user, user_info) is not None
        kwargs["cookie_secret"] = cookie_secret(options.cookie_secret_file)
        kwargs["cookie_path"] = prefix or "/"
        provider_args = dict(login_endpoint="/login", logout_endpoint="/logout")
        if options.oauth_provider:
            panel_config.oauth_provider = options.oauth_provider
            for name in ("oauth_key", "oauth_secret", "oauth_redirect_uri"):
                if getattr(options, name):
                    setattr(panel_config, name, getattr(options, name))
            kwargs["auth_provider"] = AuditedOAuthProvider(accounts, audit, **provider_args)
        else:
            limiter = SignInLimiter(max_failures=options.max_failed_sign_ins)
            kwargs["auth_provider"] = PasswordAuthProvider(accounts, audit, limiter, **provider_args)
    if warning:
        print(warning.format(address=options.address, port=options.port), file=sys.stderr, flush=True)
    print(f"trial-dashboard: serving on http://{options.address}:{options.port}{prefix}/", flush=True)
    pn.serve({"": lambda: session_app(path, accounts, audit)}, **kwargs)
    return 0


def _end_with_parent() -> None:
    """In a forked server process: receive SIGTERM when the parent server exits (Linux), so that
    stopping `serve --num-procs N` stops its N processes too."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def session_app(path: str | None, accounts: Accounts | None, audit: AuditLog | None):
    """The page of one session: the dashboard as the signed-in user's role may see it. A failure is
    logged on the server and shown without any detail (no traceback, path or setting reaches the page)."""
    import panel as pn

    from ..app import build_app
    from .audit import SessionAudit
    from .roles import ROLES

    session = pn.state.curdoc.session_context.id if pn.state.curdoc and pn.state.curdoc.session_context else None
    try:
        user = pn.state.user if accounts is not None else None
        role = ROLES[accounts.role_of(user, pn.state.user_info)] if accounts is not None else None
        session_audit = SessionAudit(audit, user, role.name if role else None, session) if audit else None
        if accounts is not None:
            _reload_when_sign_in_expires(session_audit)
        return build_app(path, role=role, audit=session_audit)
    except Exception:
        log.exception("session %s: the dashboard could not be built", session)
        return pn.pane.Alert(f"The dashboard could not be built for this page. The server log has the details "
                             f"(reference {session}).", alert_type="danger")


def _reload_when_sign_in_expires(audit) -> None:
    """End an open page when its sign-in expires (--session-hours): the page reloads, and the server
    then asks for the sign-in again. Checked every minute (more often for short lifetimes)."""
    import panel as pn

    cookie = pn.state.cookies.get("user")
    lifetime_ms = panel_config.oauth_expiry * 86_400_000

    def check() -> None:
        if decode_signed_value(panel_config.cookie_secret, "user", cookie, max_age_days=panel_config.oauth_expiry):
            return
        callback.stop()
        if audit is not None:
            audit.record("sign-in-expired")
        pn.state.location.reload = True

    callback = pn.state.add_periodic_callback(check, period=int(min(60_000, max(1_000, lifetime_ms / 4))))
