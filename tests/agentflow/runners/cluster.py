"""Processes of a DBOS cluster on 127.0.0.1, started for real: `agentflow worker` and
`agentflow serve --runner dbos` children on one PostgreSQL database, and a gate the
workflows' steps wait at (`cluster_flows.gate`)."""

from __future__ import annotations

import asyncio
import os
import signal
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
    """A TCP server on 127.0.0.1 that holds every connection until `open`, then sends each
    (and each later one) a byte: the steps of child processes wait at it."""

    def __init__(self) -> None:
        self.port = 0
        self.waiting = 0
        self._opened = asyncio.Event()
        self._arrived = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> Gate:
        self._server = await asyncio.start_server(self._hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.waiting += 1
        self._arrived.set()
        await self._opened.wait()
        writer.write(b"!")
        await writer.drain()
        writer.close()

    async def until_waiting(self, count: int) -> None:
        """Until `count` steps wait at the gate."""
        while self.waiting < count:
            self._arrived.clear()
            await self._arrived.wait()

    def open(self) -> None:
        self._opened.set()

    async def close(self) -> None:
        self.open()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def activation_result(dsn: str, run_id: str, activation: int) -> Any:
    """Wait until the DBOS workflow of the run's activation ends; what it returned
    (`agentflow.runners.dbos.activation.drive`: "ended", "parked", ...)."""
    client = await asyncio.to_thread(DBOSClient, system_database_url=dsn)
    try:
        handle = await client.retrieve_workflow_async(f"{run_id}#{activation}")
        return await handle.get_result()
    finally:
        await asyncio.to_thread(client.destroy)
