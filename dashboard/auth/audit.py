"""The audit trail: one JSON object a line, appended, never rewritten. Imports no Panel.

Each line: time (UTC, ISO 8601), event, user, role, session (Bokeh session id; null for sign-in
events, which happen before a session exists), data_cut, and the event's details. Never a password.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

EVENTS = ("sign-in", "sign-in-failed", "sign-in-locked", "sign-out", "sign-in-expired", "session-start", "session-end",
          "tab-opened", "filters-applied", "export", "link-refused")


class AuditLog:
    """An append-only JSON-lines file shared by every session of a server (writes are serialized)."""

    def __init__(self, path: str | Path, data_cut: str):
        self.path = Path(path)
        self.data_cut = data_cut
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))

    def record(self, event: str, *, user: str | None, role: str | None, session: str | None = None,
               **details) -> None:
        """Append one event line (details must not hold passwords)."""
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        line = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), "event": event,
                "user": user, "role": role, "session": session, "data_cut": self.data_cut, **details}
        text = json.dumps(line, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(text)

    def frame(self) -> pd.DataFrame:
        """The whole trail as a table, newest first (details as JSON text in one column)."""
        return audit_frame(self.path)


def audit_frame(path: str | Path) -> pd.DataFrame:
    """The audit lines of `path` as a table, newest first: the fixed fields, then the details as JSON."""
    fixed = ["time", "event", "user", "role", "session", "data_cut"]
    rows = []
    for text in Path(path).read_text(encoding="utf-8").splitlines():
        if not text.strip():
            continue
        entry = json.loads(text)
        details = {k: v for k, v in entry.items() if k not in fixed}
        rows.append({**{k: entry.get(k) for k in fixed},
                     "details": json.dumps(details, ensure_ascii=False) if details else ""})
    return pd.DataFrame(rows, columns=[*fixed, "details"]).iloc[::-1].reset_index(drop=True)


@dataclass(frozen=True)
class SessionAudit:
    """The audit trail as one session writes it: who, in which role and session."""

    log: AuditLog
    user: str | None
    role: str | None
    session: str | None

    def record(self, event: str, **details) -> None:
        """Append an event of this session."""
        self.log.record(event, user=self.user, role=self.role, session=self.session, **details)
