"""Starting the test MCP server (`notes_server.py`) over stdio or streamable HTTP, and
telling whether it left processes behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NOTES_SERVER = str(Path(__file__).with_name("notes_server.py"))


def child_processes() -> list[int]:
    """This process's children, zombies included (a child not reaped is a leak too)."""
    me = str(os.getpid())
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # The command name is in parentheses and may hold spaces: fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[1] == me:
            children.append(int(entry.name))
    return children


def is_alive(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def http_notes_server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The notes server on 127.0.0.1, once uvicorn says it listens: its URL and process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, NOTES_SERVER, "--http", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "Uvicorn running on" in line:
                break
        else:
            raise RuntimeError(f"the HTTP notes server exited with {process.wait()}")
        yield f"http://127.0.0.1:{port}/mcp", process
    finally:
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
