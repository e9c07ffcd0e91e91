"""A throwaway Arize Phoenix server for the tests: `phoenix serve` on 127.0.0.1, free ports,
SQLite in a temporary working directory, nothing fetched from the internet.

Phoenix runs from a venv of its own, made with the `phoenix` extra (pyproject.toml says why
it is not in `dev`). The test finds its `phoenix` executable in AGENTFLOW_PHOENIX, else in
`.venv-phoenix` at the checkout's root. Without it the test is skipped, unless
AGENTFLOW_REQUIRE_PHOENIX is set (`.ci/run` sets it): then it fails, so CI never passes
without having run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from running_server import free_port

EXECUTABLE_VARIABLE = "AGENTFLOW_PHOENIX"
"""The `phoenix` executable to start (in a venv made with the `phoenix` extra)."""
REQUIRE_VARIABLE = "AGENTFLOW_REQUIRE_PHOENIX"
"""When set, a missing Phoenix fails the test instead of skipping it."""
DEFAULT_VENV = Path(__file__).resolve().parents[2] / ".venv-phoenix"
INSTALL_HINT = "python3 -m venv .venv-phoenix && .venv-phoenix/bin/pip install -e '.[phoenix]'"
STARTUP_DEADLINE = 180.0
"""Seconds Phoenix may take to create its database and answer: about 15 s on a quiet
machine, several times that on a loaded CI machine."""


class PhoenixUnavailableError(RuntimeError):
    """Phoenix could not be started; the message says what to install or set."""


def find_executable() -> Path | None:
    """The `phoenix` executable to use, or None when there is none."""
    configured = os.environ.get(EXECUTABLE_VARIABLE)
    if configured:
        executable = Path(configured)
        if not executable.is_file():
            raise PhoenixUnavailableError(
                f"{EXECUTABLE_VARIABLE}={configured} is not a file: point it at the `phoenix` "
                f"executable of a venv made with `{INSTALL_HINT}`"
            )
        return executable
    default = DEFAULT_VENV / "bin" / "phoenix"
    return default if default.is_file() else None


def executable_or_skip() -> Path:
    """The `phoenix` executable; without one the calling test is skipped, or fails when
    AGENTFLOW_REQUIRE_PHOENIX is set."""
    executable = find_executable()
    if executable is not None:
        return executable
    reason = f"Arize Phoenix is not installed: {INSTALL_HINT} (or set {EXECUTABLE_VARIABLE})"
    if os.environ.get(REQUIRE_VARIABLE):
        pytest.fail(f"{REQUIRE_VARIABLE} is set, and {reason}")
    pytest.skip(reason)


@dataclass
class PhoenixServer:
    """A Phoenix this module started: where it answers, and the process to stop."""

    url: str
    """The web UI, the REST API (`/v1/...`) and OTLP/HTTP ingestion (`/v1/traces`)."""
    process: subprocess.Popen[bytes]
    working_dir: Path
    """Its SQLite database and its log (`phoenix.log`), removed by `stop()`."""

    def log_tail(self, lines: int = 40) -> str:
        text = (self.working_dir / "phoenix.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def pause(self, seconds: float) -> None:
        """Wait `seconds` between two polls of Phoenix, ending early with an error when the
        process exits (a poll would otherwise wait for a server that is gone)."""
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return
        raise PhoenixUnavailableError(
            f"Phoenix exited with {self.process.returncode}:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.working_dir, ignore_errors=True)


def _environment(working_dir: Path, port: int, grpc_port: int) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PHOENIX_", "OTEL_"))
    }
    return {
        **inherited,
        "PHOENIX_WORKING_DIR": str(working_dir),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        # No web fonts, version checks or telemetry: only 127.0.0.1 is reached from here.
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start(executable: Path) -> PhoenixServer:
    """Start `phoenix serve` and return it once its HTTP endpoint answers."""
    working_dir = Path(tempfile.mkdtemp(prefix="agentflow-phoenix-"))
    port, grpc_port = free_port(), free_port()
    with (working_dir / "phoenix.log").open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "serve"],
            env=_environment(working_dir, port, grpc_port),
            cwd=working_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = PhoenixServer(f"http://127.0.0.1:{port}", process, working_dir)
    deadline = time.monotonic() + STARTUP_DEADLINE
    try:
        while not _answers(server.url):
            if time.monotonic() > deadline:
                raise PhoenixUnavailableError(
                    f"Phoenix did not answer on {server.url} within {STARTUP_DEADLINE:.0f} s:\n"
                    f"{server.log_tail()}"
                )
            server.pause(0.25)
        return server
    except BaseException:
        server.stop()
        raise
