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
    """Run `python -m dashboard ARGS` on a pseudo-terminal, typing each answer after each prompt ending
    in ': '; returns the exit status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal, as for a person at a terminal
        os.chdir(ROOT)
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "dashboard", *args])
    shown, pending, deadline = b"", list(answers), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        if pending and shown.rstrip().endswith(b":"):
            os.write(fd, (pending.pop(0) + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


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
