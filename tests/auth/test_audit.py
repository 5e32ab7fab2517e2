"""The audit trail: one JSON object a line, appended, with who, role, session and data cut."""

from __future__ import annotations

import json
import stat

import pytest

from dashboard.auth.audit import AuditLog, SessionAudit


def test_events_are_appended_as_json_lines_with_the_fixed_fields(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text('{"event": "from an earlier run"}\n')
    log = AuditLog(path, data_cut="2017-06-30")
    log.record("sign-in", user="alice", role="closed")
    SessionAudit(log, "alice", "closed", "s-1").record("filters-applied", filters={"sites": "01"})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"event": "from an earlier run"}  # never rewritten
    assert [line["event"] for line in lines[1:]] == ["sign-in", "filters-applied"]
    for line in lines[1:]:
        assert {"time", "event", "user", "role", "session", "data_cut"} <= set(line)
        assert line["data_cut"] == "2017-06-30" and line["user"] == "alice"
    assert lines[2]["session"] == "s-1" and lines[2]["filters"] == {"sites": "01"}


def test_a_new_trail_is_private(tmp_path):
    log = AuditLog(tmp_path / "new" / "audit.jsonl", data_cut="2017-06-30")
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_unknown_events_are_refused(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", data_cut="2017-06-30")
    with pytest.raises(ValueError, match="unknown audit event"):
        log.record("password-changed", user="alice", role="closed")


def test_the_trail_reads_back_newest_first_with_details_as_json(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", data_cut="2017-06-30")
    log.record("sign-in", user="alice", role="closed")
    log.record("export", user="alice", role="closed", session="s-1", file="ae.csv")
    frame = log.frame()
    assert list(frame["event"]) == ["export", "sign-in"]
    assert json.loads(frame.loc[0, "details"]) == {"file": "ae.csv"}
    assert frame.loc[1, "details"] == ""
