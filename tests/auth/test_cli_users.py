"""`trial-dashboard users add`, driven through a pseudo-terminal: the password is asked for (twice,
not echoed), never taken from the command line, and only its hash is written."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from dashboard.auth.users import Accounts

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def run_in_terminal(args: list[str], answers: list[str], timeout: float = 60) -> tuple[int, str]:
    """Run `python -m dashboard ARGS` with a pseudo-terminal as its controlling terminal (util-linux
    `setsid --ctty`; no fork of this threaded test process), typing each answer after each new prompt
    ending in ': '; returns the exit status and everything the terminal showed. A child still running at
    `timeout` is killed and the test fails."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(["setsid", "--ctty", "--wait", sys.executable, "-m", "dashboard", *args],
                               stdin=secondary, stdout=secondary, stderr=secondary, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(secondary)
    shown, pending, deadline = b"", list(answers), time.monotonic() + timeout
    answered_at = 0  # an answer goes only to a prompt shown after the previous answer
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.5)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        if pending and shown.endswith(b": ") and shown[answered_at:].strip():
            os.write(primary, (pending.pop(0) + "\n").encode())
            answered_at = len(shown)
    os.close(primary)
    try:
        return process.wait(timeout=max(1.0, deadline - time.monotonic())), shown.decode(errors="replace")
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"`{' '.join(args)}` still running after {timeout} s; the terminal showed:\n"
                             + shown.decode(errors="replace")) from None


def test_users_add_prompts_without_echo_and_writes_only_a_hash(tmp_path):
    users = tmp_path / "users.toml"
    code, shown = run_in_terminal(["users", "add", "alice", "--role", "closed", "--file", str(users)],
                                  [PASSWORD, PASSWORD])
    assert code == 0, shown
    assert "Password for alice:" in shown and "Repeat the password:" in shown
    assert PASSWORD not in shown  # not echoed
    assert PASSWORD not in users.read_text()
    assert Accounts.read(users).verify("alice", PASSWORD) == "closed"


def test_users_add_refuses_differing_or_short_passwords(tmp_path):
    users = tmp_path / "users.toml"
    code, shown = run_in_terminal(["users", "add", "alice", "--role", "open", "--file", str(users)],
                                  [PASSWORD, PASSWORD + "!"])
    assert code == 1 and "the passwords differ" in shown and not users.exists()
    code, shown = run_in_terminal(["users", "add", "alice", "--role", "open", "--file", str(users)], ["short"])
    assert code == 1 and "at least 12 characters" in shown and not users.exists()


def test_the_password_cannot_be_given_on_the_command_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "dashboard", "users", "add", "alice", "--role", "open",
                          "--password", PASSWORD, "--file", str(tmp_path / "users.toml")],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 2 and "unrecognized arguments" in run.stderr
    assert not (tmp_path / "users.toml").exists()


def test_users_add_refuses_an_unknown_role(tmp_path):
    run = subprocess.run([sys.executable, "-m", "dashboard", "users", "add", "alice", "--role", "admin",
                          "--file", str(tmp_path / "users.toml")],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 2 and "invalid choice: 'admin'" in run.stderr
