"""How the Phoenix test finds and starts Phoenix, and what it says when it cannot: skipped
only when Phoenix is missing and AGENTFLOW_REQUIRE_PHOENIX is unset (CI sets it)."""

from __future__ import annotations

from pathlib import Path

import phoenix_server
import pytest
from phoenix_server import (
    EXECUTABLE_VARIABLE,
    REQUIRE_VARIABLE,
    PhoenixUnavailableError,
    executable_or_skip,
    start,
)


@pytest.fixture
def no_phoenix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither AGENTFLOW_PHOENIX nor a `.venv-phoenix` in the checkout."""
    monkeypatch.delenv(EXECUTABLE_VARIABLE, raising=False)
    monkeypatch.setattr(phoenix_server, "DEFAULT_VENV", tmp_path / ".venv-phoenix")


@pytest.mark.usefixtures("no_phoenix")
def test_a_missing_phoenix_skips_the_test_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(REQUIRE_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"pip install -e '\.\[phoenix\]'"):
        executable_or_skip()


@pytest.mark.usefixtures("no_phoenix")
def test_a_missing_phoenix_fails_the_test_when_it_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match=rf"{REQUIRE_VARIABLE} is set, and Arize"):
        executable_or_skip()


def test_a_configured_executable_that_is_not_there_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(EXECUTABLE_VARIABLE, str(tmp_path / "phoenix"))
    with pytest.raises(PhoenixUnavailableError, match=rf"{EXECUTABLE_VARIABLE}=.* is not a file"):
        executable_or_skip()


def test_a_configured_executable_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    executable = tmp_path / "phoenix"
    executable.write_text("")
    monkeypatch.setenv(EXECUTABLE_VARIABLE, str(executable))
    assert executable_or_skip() == executable


def test_a_phoenix_that_exits_at_start_is_an_error_with_its_log(tmp_path: Path) -> None:
    executable = tmp_path / "phoenix"
    executable.write_text('#!/bin/sh\necho "cannot open $PHOENIX_WORKING_DIR/phoenix.db"\nexit 3\n')
    executable.chmod(0o755)
    with pytest.raises(PhoenixUnavailableError, match="Phoenix exited with 3") as raised:
        start(executable)
    working_dir = Path(str(raised.value).split("cannot open ")[1].split("/phoenix.db")[0])
    assert working_dir.name.startswith("agentflow-phoenix-")
    assert not working_dir.exists()
