"""Binder's environment.yml installs what pyproject.toml says the package needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _name(requirement: Requirement) -> str:
    """The PEP 503 normalised name: 'PyYAML' and 'pyyaml' are one package."""
    return re.sub(r"[-_.]+", "-", requirement.name).lower()


def _by_name(lines: list[str]) -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    for line in lines:
        requirement = Requirement(line)
        name = _name(requirement)
        assert name not in out, f"{name} is listed twice"
        out[name] = requirement
    return out


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def _pip_section(env: dict) -> list[str]:
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(sections) == 1, "environment.yml needs exactly one pip: section"
    return [str(line).strip() for line in sections[0]]


def test_environment_is_the_course_environment():
    env = _environment()
    assert env["name"] == "prm-edu"
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda
    assert "pip" in conda
    pip = _pip_section(env)
    # The package itself, and torch from the CPU wheels (no CUDA on Binder).
    assert "-e ." in pip or "." in pip
    assert f"--extra-index-url {CPU_INDEX}" in pip


def test_environment_lists_the_same_packages_as_pyproject():
    wanted = _by_name(_pyproject()["project"]["dependencies"])
    lines = [
        line
        for line in _pip_section(_environment())
        if not line.startswith("-") and line != "."
    ]
    listed = _by_name(lines)
    assert sorted(listed) == sorted(wanted), (
        f"only in pyproject.toml: {sorted(set(wanted) - set(listed))}; "
        f"only in environment.yml: {sorted(set(listed) - set(wanted))}"
    )
    for name, requirement in wanted.items():
        mine = listed[name]
        if requirement.specifier and mine.specifier:
            assert mine.specifier == requirement.specifier, (
                f"{name}: pyproject.toml asks {requirement.specifier}, "
                f"environment.yml {mine.specifier}"
            )
        assert mine.extras == requirement.extras, name
        assert str(mine.marker) == str(requirement.marker), name


def test_python_version_fits_requires_python():
    from packaging.specifiers import SpecifierSet

    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert "3.11" in requires
