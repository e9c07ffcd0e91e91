"""The server is an extra: `import agentflow` (and the command line) loads no web framework,
and without the extra `agentflow.server` says which extra to install."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest

from agentflow.errors import MissingExtraError


def test_importing_agentflow_and_its_command_loads_no_web_framework() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import agentflow, agentflow.cli, sys;"
         "print(sorted(m for m in sys.modules if m.split('.')[0] in "
         "('starlette', 'uvicorn', 'sse_starlette') or m.startswith('agentflow.server')))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert loaded.strip() == "[]"


def test_without_the_extra_the_server_names_it(
    uninstalled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uninstalled("starlette", "sse_starlette")
    for name in [name for name in sys.modules if name.startswith("agentflow.server")]:
        monkeypatch.delitem(sys.modules, name)  # back after the test
    with pytest.raises(MissingExtraError) as raised:
        importlib.import_module("agentflow.server")
    assert (raised.value.extra, raised.value.feature) == ("server", "WorkflowServer")
