"""Processes of a DBOS cluster on 127.0.0.1, started for real: `agentflow worker` and
`agentflow serve --runner dbos` children on one PostgreSQL database, and a gate the
workflows' steps wait at (`cluster_flows.gate`)."""

from __future__ import annotations

import asyncio
import os
import signal
import socketserver
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from dbos import DBOSClient
from running_server import free_port

HERE = Path(__file__).parent
SERVER_DIR = HERE.parent / "server"


class Child:
    """A child process whose stderr is read until it says it is ready, then drained."""

    def __init__(self, command: list[str], env: dict[str, str], ready: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agentflow", *command],
            cwd=HERE,
            env={**os.environ, **env, "PYTHONPATH": f"{HERE}{os.pathsep}{SERVER_DIR}"},
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.log: list[str] = []
        for line in self.process.stderr:
            self.log.append(line)
            if ready in line:
                # Read on, so that the child never blocks on a full pipe.
                threading.Thread(target=self.log.extend, args=(self.process.stderr,)).start()
                return
        raise AssertionError(f"{command[0]} did not start:\n{''.join(self.log)}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Cluster:
    """The children of one test; `close` ends those still running."""

    def __init__(self, dsn: str, log: Path, gate: Gate | None = None) -> None:
        self.dsn = dsn
        self.log = log
        self.gate = gate
        self.children: list[Child] = []

    def _env(self, worker: str) -> dict[str, str]:
        env = {"CLUSTER_LOG": str(self.log), "CLUSTER_WORKER": worker}
        if self.gate is not None:
            env["CLUSTER_GATE"] = str(self.gate.port)
        return env

    def worker(self, name: str, *, concurrency: int = 8, lease_seconds: float = 2.0) -> Child:
        child = Child(
            [
                "worker",
                "cluster_flows:server",
                "--dsn",
                self.dsn,
                "--executor-id",
                name,
                "--concurrency",
                str(concurrency),
                "--lease-seconds",
                str(lease_seconds),
            ],
            self._env(name),
            ready=f"agentflow worker {name}: executing runs",
        )
        self.children.append(child)
        return child

    def replica(self) -> tuple[Child, str]:
        """A server replica that only enqueues; and its URL."""
        port = free_port()
        child = Child(
            [
                "serve",
                "cluster_flows:server",
                "--dsn",
                self.dsn,
                "--runner",
                "dbos",
                "--port",
                str(port),
                "--log-level",
                "info",
            ],
            self._env("replica"),
            ready="Application startup complete",
        )
        self.children.append(child)
        return child, f"http://127.0.0.1:{port}"

    def close(self) -> None:
        for child in self.children:
            child.stop()

    def starts(self) -> list[tuple[str, str, str]]:
        """`(word, step, worker)` for each step start the log holds, in order."""
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [tuple(line.split()[1:4]) for line in lines if line.startswith("start ")]  # type: ignore[misc]


class Gate:
    """A TCP server on 127.0.0.1, in threads of its own, that holds every connection until
    `open`, then sends each (and each later one) a byte: the steps of child processes wait
    at it. `close` closes it again for the steps that come after."""

    def __init__(self) -> None:
        self._opened = threading.Event()
        self._arrivals = threading.Condition()
        self.waiting = 0
        gate = self

        class Hold(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with gate._arrivals:
                    gate.waiting += 1
                    gate._arrivals.notify_all()
                gate._opened.wait()
                self.request.sendall(b"!")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Hold)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    async def until_waiting(self, count: int) -> None:
        """Until `count` steps in all have come to the gate."""

        def wait() -> None:
            with self._arrivals:
                self._arrivals.wait_for(lambda: self.waiting >= count)

        await asyncio.to_thread(wait)

    def open(self) -> None:
        self._opened.set()

    def stop(self) -> None:
        self.open()
        self._server.shutdown()
        self._server.server_close()


async def activation_result(dsn: str, run_id: str, activation: int) -> Any:
    """Wait until the DBOS workflow of the run's activation ends; what it returned
    (`agentflow.runners.dbos.activation.drive`: "ended", "parked", ...)."""
    client = await asyncio.to_thread(DBOSClient, system_database_url=dsn)
    try:
        handle = await client.retrieve_workflow_async(f"{run_id}#{activation}")
        return await handle.get_result()
    finally:
        await asyncio.to_thread(client.destroy)
