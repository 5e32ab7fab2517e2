"""environment.yml (conda) and pyproject.toml (pip) must list the same dependencies and bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def _split(requirement: str) -> tuple[str, str]:
    name, spec = REQUIREMENT.match(requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = [r for r in project["dependencies"] + extras["test"] + extras["notebook"]
                    if not r.startswith(project["name"])]  # the test extra includes the notebook extra by name
    return dict([("python", project["requires-python"].replace(" ", "")), *map(_split, requirements)])


def _environment() -> dict[str, str]:
    entries = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = [e for e in entries if isinstance(e, str) and e != "pip"]
    return dict(map(_split, conda))


def test_split_reads_names_and_bounds():
    assert _split("pandas>=2.2,<3") == ("pandas", ">=2.2,<3")
    assert _split("PyYAML >= 6") == ("pyyaml", ">=6")


def test_environment_and_pyproject_list_the_same_dependencies():
    pip, conda = _pyproject(), _environment()
    assert sorted(set(pip) - set(conda)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(conda) - set(pip)) == [], "in environment.yml but not pyproject.toml"
    drift = {name: (pip[name], conda[name]) for name in pip if pip[name] != conda[name]}
    assert drift == {}, f"version bounds differ (pyproject, environment): {drift}"


def test_the_test_extra_installs_the_notebook_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "trial-dashboard[notebook]" in extras["test"]  # the notebook tests run from `pip install .[test]`
    assert {"jupyterlab", "ipywidgets", "jupyter-bokeh", "nbconvert", "nbclient", "ipykernel"} <= {
        _split(r)[0] for r in extras["notebook"]}


def test_environment_installs_the_project_itself():
    entries = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pip_lists = [e["pip"] for e in entries if isinstance(e, dict) and "pip" in e]
    assert pip_lists == [["-e ."]]
