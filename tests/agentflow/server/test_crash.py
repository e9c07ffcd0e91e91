"""`agentflow serve` killed with SIGKILL and started again on the same SQLite store: a chain
killed mid-way finishes without running its completed steps again, a run waiting for a human
completes when answered after the restart, and runs that ended before the kill still answer
from the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from running_server import free_port
from sse_frames import answer, collect_sse, sse_frames, until_question

pytestmark = pytest.mark.timeout(60)

HERE = Path(__file__).parent


class ServeProcess:
    """`agentflow serve served_flows:server` in a child process."""

    def __init__(self, tmp_path: Path, *, hold: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SERVED_STORE": str(tmp_path / "runs.db"),
            "SERVED_LOG": str(tmp_path / "steps.log"),
        }
        if hold:
            env["SERVED_HOLD"] = "1"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentflow",
                "serve",
                "served_flows:server",
                "--port",
                str(self.port),
                "--log-level",
                "info",
            ],
            cwd=HERE,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.log: list[str] = []
        for line in self.process.stderr:  # uvicorn says when the lifespan has run
            self.log.append(line)
            if "Application startup complete" in line:
                # Read on, so that the child never blocks on a full pipe.
                threading.Thread(target=self.log.extend, args=(self.process.stderr,)).start()
                return
        raise AssertionError(f"agentflow serve did not start: {''.join(self.log)}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.kill()


async def test_kill_9_and_restart(tmp_path: Path, processes: list[ServeProcess]) -> None:
    first = ServeProcess(tmp_path, hold=True)
    processes.append(first)
    async with httpx.AsyncClient(base_url=first.url, timeout=20) as client:
        done = await client.post("/workflows/greet/run", json={"handler_id": "greet1"})
        assert done.json()["status"] == "completed"
        await client.post("/workflows/chain/run-nowait", json={"handler_id": "chain1"})
        async with client.stream("GET", "/events/chain1", params={"after_sequence": -1}) as r:
            async for _, frame in sse_frames(r):
                assert frame["type"] == "Progress"  # step b has started and waits
                break
        await client.post("/workflows/ask/run-nowait", json={"handler_id": "ask1"})
        await until_question(client, "ask1")
    first.kill()

    second = ServeProcess(tmp_path, hold=False)
    processes.append(second)
    async with httpx.AsyncClient(base_url=second.url, timeout=20) as client:
        chain = await collect_sse(client, "chain1", after_sequence=-1)
        assert chain[-1][1]["value"] == {"result": "chain done"}
        finished = await client.get("/handlers/chain1")
        assert (finished.status_code, finished.json()["status"]) == (200, "completed")

        await until_question(client, "ask1")
        waiting = await client.get("/handlers/ask1")
        assert waiting.status_code == 202
        assert [q["value"] for q in waiting.json()["questions"]] == [{"prefix": "Name? "}]
        sent = await client.post("/events/ask1", json=answer("Zed"))
        assert sent.status_code == 200
        asked = await collect_sse(client, "ask1", after_sequence=-1)
        assert asked[-1][1]["value"] == {"result": {"got": "Zed"}}

        before = await client.get("/handlers/greet1")
        assert before.status_code == 200
        assert before.json()["result"]["value"] == {"result": "Hello, World!"}
        assert (await client.get("/results/greet1")).json()["result"] == "Hello, World!"
        # Its stream, stored by the process before the kill, is replayed from the store.
        replayed = await collect_sse(client, "greet1")
        assert replayed[-1][1]["value"] == {"result": "Hello, World!"}
        assert [seq for seq, _ in replayed] == list(range(len(replayed)))
        listed = await client.get("/handlers", params={"status": "completed"})
        assert {h["handler_id"] for h in listed.json()["handlers"]} == {"greet1", "chain1", "ask1"}

    steps = Counter((tmp_path / "steps.log").read_text().split())
    # a completed before the kill and is not run again; b and ask were under way at the
    # kill, so they run once more; c ran only after the restart.
    assert steps == Counter({"a": 1, "b": 2, "c": 1, "ask": 2})


def progress_or_kind(frames: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, Any]]:
    """`(id, n)` for a Progress frame, `(id, type)` for any other."""
    return [
        (sequence, frame["value"]["n"] if frame["type"] == "Progress" else frame["type"])
        for sequence, frame in frames
    ]


async def test_a_client_resumes_with_last_event_id_across_a_kill_9(
    tmp_path: Path, processes: list[ServeProcess]
) -> None:
    first = ServeProcess(tmp_path, hold=False)
    processes.append(first)
    async with httpx.AsyncClient(base_url=first.url, timeout=20) as client:
        await client.post("/workflows/talk/run-nowait", json={"handler_id": "talk1"})
        # The run is stored as waiting before it asks: Progress 0..2 are stored by then;
        # `first`, which streamed 0 and 1, has completed and does not run again.
        assert await until_question(client, "talk1") == 3
    first.kill()

    second = ServeProcess(tmp_path, hold=False)
    processes.append(second)
    async with httpx.AsyncClient(base_url=second.url, timeout=20) as client:
        # A client that had seen up to seq 1 when the server died.
        async with client.stream(
            "GET", "/events/talk1", headers={"Last-Event-ID": "1"}
        ) as response:
            seen = []
            async for frame in sse_frames(response):
                seen.append(frame)
                if frame[1]["type"] == "InputRequiredEvent":
                    break
        assert progress_or_kind(seen) == [(2, 2), (3, "InputRequiredEvent")]
        assert (await client.post("/events/talk1", json=answer("go"))).status_code == 200
        rest = await collect_sse(client, "talk1", headers={"Last-Event-ID": "3"})
        assert progress_or_kind(rest) == [(4, 3), (5, 4), (6, 5), (7, "StopEvent")]
        everything = await collect_sse(client, "talk1", after_sequence=-1)
        assert progress_or_kind(everything) == [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, "InputRequiredEvent"),
            (4, 3),
            (5, 4),
            (6, 5),
            (7, "StopEvent"),
        ]
    steps = Counter((tmp_path / "steps.log").read_text().split())
    assert steps == Counter({"first": 1, "second": 2, "third": 1})  # second was waiting


async def test_a_post_retried_with_its_idempotency_key_after_a_kill_9_is_sent_once(
    tmp_path: Path, processes: list[ServeProcess]
) -> None:
    """The answer was journalled and acknowledged, but the client did not hear back before
    the server died: its retry to the restarted server changes nothing."""
    retried = {"Idempotency-Key": "word-1"}
    first = ServeProcess(tmp_path, hold=False)
    processes.append(first)
    async with httpx.AsyncClient(base_url=first.url, timeout=20) as client:
        await client.post("/workflows/tally/run-nowait", json={"handler_id": "tally1"})
        await until_question(client, "tally1")
        sent = await client.post("/events/tally1", json=answer("one"), headers=retried)
        assert sent.status_code == 200
    first.kill()

    second = ServeProcess(tmp_path, hold=False)
    processes.append(second)
    async with httpx.AsyncClient(base_url=second.url, timeout=20) as client:
        again = await client.post("/events/tally1", json=answer("one"), headers=retried)
        assert (again.status_code, again.json()) == (200, {"status": "sent"})
        await client.post("/events/tally1", json=answer("end"))
        frames = await collect_sse(client, "tally1", after_sequence=-1)
        assert frames[-1][1]["value"] == {"result": ["one"]}
        late = await client.post("/events/tally1", json=answer("one"), headers=retried)
        assert late.status_code == 200  # the run has ended, but it took this very send
        other = await client.post("/events/tally1", json=answer("two"))
        assert other.status_code == 409
