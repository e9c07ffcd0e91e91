"""Installing: every install line in the README and docs installs this checkout (never the
unrelated `agentflow` package on PyPI), with extras that exist, and every extra the code
asks for on a missing import is one pyproject.toml defines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = set(PROJECT["optional-dependencies"])
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / ".ci" / "run"]
SOURCES = [
    path
    for package in ("agentflow", "tools", "agents", "examples")
    for path in sorted((ROOT / package).rglob("*.py"))
]
INSTALL = re.compile(r"pip install[^\n`&#)]*")  # up to the end of the command
CHECKOUT = re.compile(r"pip install -e (?:\.|'\.\[([a-z0-9,-]+|\{extra\})\]')(?:\s|$)")


def install_lines() -> list[tuple[str, str]]:
    return [
        (path.relative_to(ROOT).as_posix(), match.group().strip())
        for path in [*DOCUMENTS, *SOURCES]
        for match in INSTALL.finditer(path.read_text(encoding="utf-8"))
    ]


def test_the_distribution_is_not_named_after_the_pypi_agentflow() -> None:
    # `agentflow` on PyPI belongs to another author: `pip install agentflow` is not us.
    assert PROJECT["name"] != "agentflow"
    assert PROJECT["scripts"] == {"agentflow": "agentflow.cli:main"}  # the command keeps its name


def test_every_install_line_installs_this_checkout_with_extras_that_exist() -> None:
    lines = install_lines()
    assert len(lines) >= 5, lines  # the README's own lines at least
    for where, line in lines:
        match = CHECKOUT.search(line)
        assert match, f"{where}: {line!r} does not install this checkout"
        named = set(match.group(1).split(",")) if match.group(1) else set()
        named.discard("{extra}")  # MissingExtraError's message, filled in with a real extra
        assert named <= EXTRAS, f"{where}: {line!r} names extras pyproject lacks"


def test_extras_that_include_others_name_this_distribution() -> None:
    for extra, requirements in PROJECT["optional-dependencies"].items():
        for requirement in requirements:
            if requirement.startswith(("agentflow", PROJECT["name"])):
                name, _, included = requirement.partition("[")
                assert name == PROJECT["name"], f"extra {extra!r} includes {requirement!r}"
                assert set(included.rstrip("]").split(",")) <= EXTRAS


def test_every_extra_a_missing_import_names_exists() -> None:
    named = {
        (path.relative_to(ROOT).as_posix(), extra)
        for path in SOURCES
        for extra in re.findall(r'extra_needed\(\s*"([^"]+)"', path.read_text(encoding="utf-8"))
    }
    assert {extra for _, extra in named} >= {"web", "research", "documents", "llama-index"}
    assert [(where, extra) for where, extra in named if extra not in EXTRAS] == []


def test_the_license_file_is_the_mit_license_pyproject_names() -> None:
    assert PROJECT["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the agentflow authors\n")
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
