"""A signed-in server for the auth tests: four accounts (one per role), an audit trail, a private
cookie secret; and Chromium pages that fail on console errors (as in tests/ui)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.auth.users import add_user
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
USERS = {"olive": "open", "carl": "closed", "anna": "analyst", "dora": "data-manager"}


@dataclass
class Server:
    """A `trial-dashboard serve` subprocess and where it writes."""

    process: subprocess.Popen
    url: str
    audit: Path
    output: Path

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def start_server(folder: Path, *args: str, host: str = "127.0.0.1", port: int | None = None,
                 path: str = "/login") -> Server:
    """Start `python -m dashboard serve --address HOST --port PORT ARGS` (a free port unless given) and
    wait until `path` answers."""
    port = port or free_port(host)
    output = folder / f"server-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANEL_")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve", "--address", host, "--port", str(port),
         "--cookie-secret-file", str(folder / "cookie_secret"), "--audit-log", str(folder / "audit.jsonl"), *args],
        cwd=folder, stdout=output.open("w"), stderr=subprocess.STDOUT, env=env)
    url = f"http://{host}:{port}"
    opener = urllib.request.build_opener(NoRedirect())  # an answer, even a redirect to an identity provider
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{output.read_text()}")
        try:
            opener.open(url + path, timeout=60)
            return Server(process, url, folder / "audit.jsonl", output)
        except urllib.error.HTTPError:
            return Server(process, url, folder / "audit.jsonl", output)
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"server did not answer at {url} within 180 s")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are returned as HTTP errors instead of being followed."""

    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "users.toml"
    for name, role in USERS.items():
        add_user(path, name, role, PASSWORD)
    return path


@pytest.fixture(scope="module")
def server(users_file):
    """The bundled trial served with sign-in from `users_file` (each module gets a fresh server)."""
    running = start_server(users_file.parent, "--auth", str(users_file))
    yield running
    running.stop()
