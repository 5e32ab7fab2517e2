"""The users file (TOML): accounts with argon2 password hashes and roles, and the identity-provider
user/group -> role mapping. Imports no Panel.

    [users.alice]
    role = "closed"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

    [oauth.users]            # identity-provider user name (or e-mail) -> role
    "bob@example.org" = "analyst"

    [oauth.groups]           # identity-provider group (the `groups` claim) -> role
    "dmc-members" = "closed"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import tomli_w
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .roles import ROLES

GROUPS_CLAIM = "groups"


class UsersFileError(ValueError):
    """The users file cannot be read or names an unknown role."""


@dataclass(frozen=True)
class Accounts:
    """The contents of a users file: password accounts (name -> (role, hash)) and the OAuth role mapping."""

    passwords: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    oauth_users: Mapping[str, str] = field(default_factory=dict)
    oauth_groups: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> "Accounts":
        """Read and check a users file (every role must be one of `ROLES`)."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UsersFileError(f"{Path(path).name} is not valid TOML: {exc}") from None
        users = {}
        for name, entry in data.get("users", {}).items():
            if not isinstance(entry, dict) or "role" not in entry or "password_hash" not in entry:
                raise UsersFileError(f"user {name!r} needs a role and a password_hash")
            users[name] = (entry["role"], entry["password_hash"])
        oauth = data.get("oauth", {})
        accounts = cls(users, dict(oauth.get("users", {})), dict(oauth.get("groups", {})))
        unknown = {role for role, _ in users.values()} | set(accounts.oauth_users.values()) | set(accounts.oauth_groups.values())
        unknown -= set(ROLES)
        if unknown:
            raise UsersFileError(f"unknown role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")
        return accounts

    def verify(self, name: str, password: str) -> str | None:
        """The user's role when the password matches its salted hash, else None."""
        entry = self.passwords.get(name)
        if entry is None:
            PasswordHasher().hash(password)  # same work as a real check: timing does not reveal who exists
            return None
        role, password_hash = entry
        try:
            PasswordHasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return role

    def role_of(self, user: str | None, user_info: Mapping | None = None) -> str | None:
        """The role of a signed-in user: the password account's, else the OAuth user mapping's, else the
        first mapped group in the identity provider's `groups` claim (None: no role, no access)."""
        if not user:
            return None
        if user in self.passwords:
            return self.passwords[user][0]
        if user in self.oauth_users:
            return self.oauth_users[user]
        groups = (user_info or {}).get(GROUPS_CLAIM) or []
        for group in [groups] if isinstance(groups, str) else groups:
            if group in self.oauth_groups:
                return self.oauth_groups[group]
        return None


def add_user(path: str | Path, name: str, role: str, password: str) -> None:
    """Add (or replace) a password account in the users file, creating it with mode 0600."""
    if role not in ROLES:
        raise UsersFileError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if not name or name != name.strip():
        raise UsersFileError("a user name must be non-empty, without leading or trailing spaces")
    path = Path(path)
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.setdefault("users", {})[name] = {"role": role, "password_hash": PasswordHasher().hash(password)}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        tomli_w.dump(data, out)
