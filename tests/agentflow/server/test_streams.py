"""`GET /events/{id}` on a real server: SSE frames with `id:` = the event's sequence,
resuming with `Last-Event-ID` or `after_sequence` without gap or duplicate, several
followers, NDJSON, heartbeats, and the answers for runs with nothing left to send."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from running_server import RunningServer
from sse_frames import answer, collect_sse, sse_frames, until_question

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def client(base_url: str) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        yield client


async def counted_run(client: httpx.AsyncClient, count: int = 3) -> str:
    """A Count run that streamed `count` Progress events and waits for its answer."""
    body = {"start_event": {"topic": "t", "count": count}}
    run_id: str = (await client.post("/workflows/count/run-nowait", json=body)).json()["run_id"]
    await until_question(client, run_id)
    return run_id


async def test_sse_frames_carry_the_sequence_and_end_with_the_stop_event(
    client: httpx.AsyncClient,
) -> None:
    run_id = await counted_run(client)
    await client.post(f"/events/{run_id}", json=answer("Zed"))
    async with client.stream("GET", f"/events/{run_id}", params={"after_sequence": -1}) as r:
        raw = (await r.aread()).decode()
    assert raw.startswith(
        'id: 0\ndata: {"value":{"n":0},"qualified_name":"served_flows.Progress",'
        '"type":"Progress","types":null}\n\n'
    )
    frames = await collect_sse(client, run_id, after_sequence=-1)
    assert [sequence for sequence, _ in frames] == [0, 1, 2, 3, 4]
    assert [frame["type"] for _, frame in frames] == [
        "Progress",
        "Progress",
        "Progress",
        "InputRequiredEvent",
        "StopEvent",
    ]
    assert frames[-1][1]["value"] == {"result": {"topic": "t", "got": "Zed"}}


async def test_resume_with_last_event_id_and_after_sequence(client: httpx.AsyncClient) -> None:
    run_id = await counted_run(client, count=4)
    await client.post(f"/events/{run_id}", json=answer("A"))
    every = await collect_sse(client, run_id, after_sequence=-1)
    assert [sequence for sequence, _ in every] == list(range(6))
    by_header = await collect_sse(client, run_id, headers={"Last-Event-ID": "2"})
    assert by_header == every[3:]
    # The header wins over the query parameter, as a browser's EventSource reconnects.
    both = await collect_sse(client, run_id, headers={"Last-Event-ID": "1"}, after_sequence=4)
    assert both == every[2:]
    by_query = await collect_sse(client, run_id, after_sequence=3)
    assert by_query == every[4:]
    ndjson = await client.get(
        f"/events/{run_id}",
        params={"sse": "false", "after_sequence": 1},
        headers={"Last-Event-ID": "3"},  # ignored without SSE
    )
    assert [json.loads(line) for line in ndjson.text.splitlines()] == [f for _, f in every[2:]]


async def test_a_follower_that_drops_resumes_live_without_gap_or_duplicate(
    client: httpx.AsyncClient,
) -> None:
    run_id = (await client.post("/workflows/tally/run-nowait", json={})).json()["run_id"]
    seen: list[tuple[int, dict]] = []
    async with client.stream("GET", f"/events/{run_id}", params={"after_sequence": -1}) as r:
        async for frame in sse_frames(r):
            seen.append(frame)
            break  # the first question; the connection is dropped here
    await client.post(f"/events/{run_id}", json=answer("one"))
    await client.post(f"/events/{run_id}", json=answer("end"))
    rest = await collect_sse(client, run_id, headers={"Last-Event-ID": str(seen[-1][0])})
    everything = await collect_sse(client, run_id, after_sequence=-1)
    assert seen + rest == everything
    assert everything[-1][1]["value"] == {"result": ["one"]}


async def test_two_followers_of_one_run_get_every_event(client: httpx.AsyncClient) -> None:
    run_id = (await client.post("/workflows/tally/run-nowait", json={})).json()["run_id"]
    first_questions = [asyncio.Event(), asyncio.Event()]

    async def follow(number: int) -> list[tuple[int, dict]]:
        frames = []
        async with client.stream("GET", f"/events/{run_id}", params={"after_sequence": -1}) as r:
            async for frame in sse_frames(r):
                frames.append(frame)
                first_questions[number].set()
        return frames

    followers = [asyncio.create_task(follow(0)), asyncio.create_task(follow(1))]
    await asyncio.gather(*(question.wait() for question in first_questions))
    for word in ["a", "b", "end"]:
        await client.post(f"/events/{run_id}", json=answer(word))
    one, two = await asyncio.gather(*followers)
    assert one == two
    assert [sequence for sequence, _ in one] == list(range(len(one)))
    assert one[-1][1]["value"] == {"result": ["a", "b"]}


async def test_ndjson_stream(client: httpx.AsyncClient) -> None:
    run_id = await counted_run(client, count=2)
    await client.post(f"/events/{run_id}", json=answer("x"))
    response = await client.get(f"/events/{run_id}", params={"sse": "false", "after_sequence": -1})
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["type"] for line in lines] == [
        "Progress",
        "Progress",
        "InputRequiredEvent",
        "StopEvent",
    ]
    assert response.text.endswith("}\n")


async def test_nothing_left_after_the_cursor_of_an_ended_run_is_204(
    client: httpx.AsyncClient,
) -> None:
    run_id = (await client.post("/workflows/greet/run", json={})).json()["run_id"]
    assert (
        await client.get(f"/events/{run_id}", params={"after_sequence": "now"})
    ).status_code == 204
    assert (await client.get(f"/events/{run_id}", params={"after_sequence": 0})).status_code == 204
    last = await client.get(f"/events/{run_id}", params={"after_sequence": -1})
    assert last.status_code == 200
    assert '"type":"StopEvent"' in last.text


async def test_include_qualified_name_false_leaves_it_null(client: httpx.AsyncClient) -> None:
    run_id = (await client.post("/workflows/greet/run", json={})).json()["run_id"]
    frames = await collect_sse(client, run_id, after_sequence=-1, include_qualified_name="false")
    assert frames == [
        (
            0,
            {
                "value": {"result": "Hello, World!"},
                "qualified_name": None,
                "type": "StopEvent",
                "types": None,
            },
        )
    ]


async def test_a_bad_after_sequence_is_400(client: httpx.AsyncClient) -> None:
    run_id = (await client.post("/workflows/greet/run", json={})).json()["run_id"]
    response = await client.get(f"/events/{run_id}", params={"after_sequence": "abc"})
    assert response.status_code == 400
    assert response.json() == {"detail": "after_sequence: an integer or 'now', got 'abc'"}


async def test_heartbeats_keep_a_quiet_stream_open(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve(heartbeat_seconds=0.1)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        run_id = await counted_run(client, count=0)
        async with client.stream("GET", f"/events/{run_id}", params={"after_sequence": 0}) as r:
            async for line in r.aiter_lines():
                if line.startswith(":"):
                    assert line == ": heartbeat"
                    break
                assert line == "", f"no event should come after the question: {line}"
