"""What every run store does with a run's stream, checked on each kind (see conftest.KINDS):
entries written with the records in one transaction, numbered strictly upwards, kept past
checkpoints, counted per lineage for a resume, read from any seq, dropped with the run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from agentflow.errors import RecordTooLargeError, RunNotFoundError, StoreWriteError
from agentflow.stores.base import Checkpoint, JournalRecord, RunStore, StreamEntry

WORKFLOW = "tests.flows:Order"


def entry(seq: int, key: str | None = "emit@1") -> StreamEntry:
    return StreamEntry(seq, key, f'{{"n": {seq}}}')


def record(seq: int) -> JournalRecord:
    return JournalRecord(seq, "execution", f"step@{seq}", "{}")


async def test_stream_entries_come_back_in_order_from_any_seq(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", [record(1)], stream=[entry(0), entry(1, None)])
    await store.write("r", stream=[entry(2, "other@4")])
    assert await store.read_stream("r") == [entry(0), entry(1, None), entry(2, "other@4")]
    assert await store.read_stream("r", after=0) == [entry(1, None), entry(2, "other@4")]
    assert await store.read_stream("r", after=0, limit=1) == [entry(1, None)]
    assert await store.read_stream("r", after=2) == []


async def test_a_stream_seq_must_come_after_the_stored_ones(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", stream=[entry(0), entry(1)])
    with pytest.raises(StoreWriteError, match=r"'r'.*stream entry at seq 1 .*after stream seq 1"):
        await store.write("r", [record(1)], stream=[entry(1)])
    with pytest.raises(StoreWriteError, match=r"stream entry at seq 3 .*after stream seq 4"):
        await store.write("r", stream=[entry(4), entry(3)])
    # Nothing of a refused write is kept: neither its records nor its entries.
    assert [e.seq for e in await store.read_stream("r")] == [0, 1]
    assert (await store.load("r")).records == []
    await store.write("r", [record(1)], stream=[entry(5)])  # gaps are the runtime's business
    assert [e.seq for e in await store.read_stream("r")] == [0, 1, 5]


async def test_a_refused_record_takes_its_stream_entries_with_it(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", [record(1)])
    with pytest.raises(StoreWriteError):
        await store.write("r", [record(1)], stream=[entry(0)])  # seq 1 is stored
    assert await store.read_stream("r") == []


async def test_a_checkpoint_keeps_the_stream(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", [record(1)], stream=[entry(0), entry(1)])
    await store.write("r", [record(2)], checkpoint=Checkpoint(2, "{}"), stream=[entry(2)])
    assert (await store.load("r")).records == []
    assert [e.seq for e in await store.read_stream("r")] == [0, 1, 2]


async def test_the_position_gives_the_next_seq_and_the_entries_per_lineage(
    store: RunStore,
) -> None:
    await store.create_run("r", WORKFLOW, None)
    position = await store.stream_position("r", ["emit@1"])
    assert (position.next_seq, position.counts) == (0, {})
    await store.write("r", stream=[entry(0), entry(1, "b@2"), entry(2), entry(3, None)])
    position = await store.stream_position("r", ["emit@1", "c@3"])
    assert (position.next_seq, position.counts) == (4, {"emit@1": 2})


async def test_an_entry_over_the_limit_is_refused_naming_it(
    open_store: Callable[..., RunStore],
) -> None:
    async with open_store(max_record_bytes=100) as store:
        await store.create_run("r", WORKFLOW, None)
        with pytest.raises(RecordTooLargeError, match=r"seq 0 \(key 'emit@1'\) is 200 bytes"):
            await store.write("r", [record(1)], stream=[StreamEntry(0, "emit@1", "é" * 100)])
        assert await store.read_stream("r") == []
        assert (await store.load("r")).records == []


async def test_an_unknown_run_has_no_stream(store: RunStore) -> None:
    with pytest.raises(RunNotFoundError, match="'nope'"):
        await store.read_stream("nope")
    with pytest.raises(RunNotFoundError, match="'nope'"):
        await store.stream_position("nope")
    with pytest.raises(RunNotFoundError, match="'nope'"):
        await store.write("nope", stream=[entry(0)])


async def test_the_stream_is_dropped_with_its_run(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", stream=[entry(0)])
    await store.write("r", status="completed", result="1", stream=[entry(1, None)])
    assert await store.prune(timedelta(0)) == 1
    with pytest.raises(RunNotFoundError):
        await store.read_stream("r")
    # A new run under the same id starts a stream of its own.
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", stream=[entry(0)])
    assert await store.read_stream("r") == [entry(0)]
