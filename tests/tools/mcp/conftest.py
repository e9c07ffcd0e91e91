from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from mcp_servers import NOTES_SERVER, child_processes, http_notes_server

from tools.mcp import MCPToolSet


@pytest.fixture
def notes() -> Iterator[MCPToolSet]:
    """The notes server over stdio, tools prefixed `notes_`; the test must leave no process
    behind."""
    yield MCPToolSet.stdio(sys.executable, [NOTES_SERVER], prefix="notes_")
    assert child_processes() == []


@pytest.fixture
def http_server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with http_notes_server() as server:
        yield server
