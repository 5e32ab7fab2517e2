"""Network helpers of the tests that start servers (all on loopback addresses)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until_answers(process: subprocess.Popen, url: str, log: Path, timeout: float = 180) -> bytes:
    """The body of the first answer of `url`, waiting for the server `process` to start; fails with the
    server's output (the file `log`) when it exits first, and kills it when it does not answer within `timeout`
    seconds. A server's output goes to a file, never to an unread pipe: a full pipe blocks the server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=60) as answer:  # a page builds a whole session: slow when busy
                return answer.read()
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"the server did not answer at {url} within {timeout} s")
