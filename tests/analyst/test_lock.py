"""constraints.txt (the lock) pins every dependency of pyproject.toml, theirs in turn, and what is installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")


def _lock() -> dict[str, str]:
    lines = [line.strip() for line in (ROOT / "constraints.txt").read_text().splitlines()]
    pins = [PIN.match(line) for line in lines if line and not line.startswith("#")]
    assert all(pins), "every line of constraints.txt is NAME==VERSION"
    return {canonicalize_name(m[1]): m[2] for m in pins}


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return [r for r in map(Requirement, listed) if canonicalize_name(r.name) != canonicalize_name(project["name"])]


def test_lock_pins_every_pyproject_dependency_within_its_bounds():
    lock = _lock()
    missing = [str(r) for r in _project_requirements() if canonicalize_name(r.name) not in lock]
    assert missing == [], "run scripts/lock.sh"
    outside = {r.name: lock[canonicalize_name(r.name)] for r in _project_requirements()
               if not r.specifier.contains(lock[canonicalize_name(r.name)], prereleases=True)}
    assert outside == {}, "pinned versions outside pyproject.toml's bounds"


def test_lock_pins_the_dependencies_of_the_dependencies():
    lock, seen, todo = _lock(), set(), [r.name for r in _project_requirements()]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    assert sorted(seen - set(lock)) == [], "installed dependencies the lock does not pin: run scripts/lock.sh"


def test_installed_versions_match_the_lock():
    lock = _lock()
    installed = {canonicalize_name(d.metadata["Name"]) for d in metadata.distributions()}
    # metadata.version: the distribution Python imports (the first on sys.path), like pip freeze
    differ = {name: (pinned, metadata.version(name)) for name, pinned in lock.items()
              if name in installed and metadata.version(name) != pinned}
    assert differ == {}, "installed versions differ from constraints.txt (pinned, installed)"
