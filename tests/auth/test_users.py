"""The users file: salted argon2 hashes written 0600, password checks, roles for OAuth users and groups."""

from __future__ import annotations

import stat

import pytest

from dashboard.auth.roles import ROLES
from dashboard.auth.users import Accounts, UsersFileError, add_user

PASSWORD = "correct horse battery"


def test_added_accounts_store_salted_argon2_hashes_in_a_private_file(tmp_path):
    path = tmp_path / "users.toml"
    add_user(path, "alice", "closed", PASSWORD)
    add_user(path, "bob", "open", PASSWORD)
    text = path.read_text()
    assert PASSWORD not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = Accounts.read(path)
    hashes = [h for _, h in accounts.passwords.values()]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert hashes[0] != hashes[1]  # same password, different salts


def test_verify_returns_the_role_only_for_the_right_password(tmp_path):
    path = tmp_path / "users.toml"
    add_user(path, "alice", "analyst", PASSWORD)
    accounts = Accounts.read(path)
    assert accounts.verify("alice", PASSWORD) == "analyst"
    assert accounts.verify("alice", PASSWORD + "x") is None
    assert accounts.verify("mallory", PASSWORD) is None


def test_adding_an_existing_user_replaces_the_account(tmp_path):
    path = tmp_path / "users.toml"
    add_user(path, "alice", "closed", PASSWORD)
    add_user(path, "alice", "data-manager", "another long password")
    accounts = Accounts.read(path)
    assert accounts.verify("alice", PASSWORD) is None
    assert accounts.verify("alice", "another long password") == "data-manager"


def test_unknown_roles_are_refused_when_writing_and_reading(tmp_path):
    path = tmp_path / "users.toml"
    with pytest.raises(UsersFileError, match="unknown role"):
        add_user(path, "alice", "admin", PASSWORD)
    path.write_text('[oauth.groups]\n"dmc" = "superuser"\n')
    with pytest.raises(UsersFileError, match="superuser"):
        Accounts.read(path)


def test_oauth_roles_come_from_the_user_then_the_group_mapping(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text('[oauth.users]\n"eve@example.org" = "analyst"\n\n'
                    '[oauth.groups]\n"dmc-members" = "closed"\n"data-team" = "data-manager"\n')
    accounts = Accounts.read(path)
    assert accounts.role_of("eve@example.org", {"groups": ["dmc-members"]}) == "analyst"
    assert accounts.role_of("fay@example.org", {"groups": ["staff", "data-team"]}) == "data-manager"
    assert accounts.role_of("gus@example.org", {"groups": "dmc-members"}) == "closed"
    assert accounts.role_of("hal@example.org", {"groups": ["staff"]}) is None
    assert accounts.role_of(None) is None


def test_every_role_the_issue_defines_exists():
    assert set(ROLES) == {"open", "closed", "analyst", "data-manager"}
