"""Reading a server's SSE and NDJSON streams in tests, frame by frame."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx


async def sse_frames(response: httpx.Response) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """`(id, envelope)` per SSE frame; each frame must be exactly `id:` then one `data:`
    line then a blank line (comments, the heartbeats, are skipped)."""
    lines = response.aiter_lines()
    async for line in lines:
        if line == "" or line.startswith(":"):
            continue
        assert line.startswith("id: "), line
        sequence = int(line.removeprefix("id: "))
        data = await anext(lines)
        assert data.startswith("data: "), data
        blank = await anext(lines)
        assert blank == "", blank
        yield sequence, json.loads(data.removeprefix("data: "))


async def collect_sse(
    client: httpx.AsyncClient, run_id: str, headers: dict[str, str] | None = None, **params: Any
) -> list[tuple[int, dict[str, Any]]]:
    """Every frame of `GET /events/{run_id}` until the server ends the stream."""
    async with client.stream(
        "GET", f"/events/{run_id}", params=params, headers=headers or {}
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return [frame async for frame in sse_frames(response)]


async def until_question(client: httpx.AsyncClient, run_id: str) -> int:
    """Follow the run's SSE stream until its InputRequiredEvent; that event's sequence."""
    async with client.stream("GET", f"/events/{run_id}", params={"after_sequence": -1}) as response:
        async for sequence, frame in sse_frames(response):
            if frame["type"] == "InputRequiredEvent":
                return sequence
    raise AssertionError(f"run {run_id} ended without asking")


def answer(text: str) -> dict[str, Any]:
    """A POST /events body as llama-agents-client sends a HumanResponseEvent."""
    return {
        "event": {
            "value": {"_data": {"response": text}},
            "type": "HumanResponseEvent",
            "qualified_name": None,
        }
    }
