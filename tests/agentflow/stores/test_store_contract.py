"""What every run store does, checked on each kind (see conftest.KINDS): runs and their
journal, atomic writes, terminal statuses, size limits, listing, pruning, closing, and
data that outlives the store object where the store is persistent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from agentflow.errors import (
    RecordTooLargeError,
    RunExistsError,
    RunFinishedError,
    RunNotFoundError,
    StoreError,
    StoreWriteError,
)
from agentflow.stores.base import Checkpoint, JournalRecord, RunStore

WORKFLOW = "tests.flows:Order"


def record(
    seq: int, kind: str = "execution", key: str | None = "step@{seq}", data: str = "{}"
) -> JournalRecord:
    """A record; its key defaults to a step's lineage named by its seq, and None stays
    None (a record that is not keyed, such as "started" or "sent")."""
    return JournalRecord(
        seq=seq, kind=kind, key=key.format(seq=seq) if key is not None else None, data=data
    )


async def test_a_created_run_is_running_with_its_workflow_and_version(store: RunStore) -> None:
    before = datetime.now(UTC)
    info = await store.create_run("order-42", WORKFLOW, "3", [record(0, "started", None)])
    assert (info.run_id, info.workflow, info.version, info.status) == (
        "order-42",
        WORKFLOW,
        "3",
        "running",
    )
    assert info.created_at.tzinfo is not None
    assert (
        before - timedelta(seconds=5) <= info.created_at <= datetime.now(UTC) + timedelta(seconds=5)
    )
    assert await store.get_run("order-42") == info
    loaded = await store.load("order-42")
    assert loaded.info == info
    assert loaded.checkpoint is None
    assert [r.seq for r in loaded.records] == [0]


async def test_a_run_id_is_taken_once(store: RunStore) -> None:
    await store.create_run("a", WORKFLOW, None)
    with pytest.raises(RunExistsError, match="'a'"):
        await store.create_run("a", WORKFLOW, None)


async def test_an_unknown_run_is_named(store: RunStore) -> None:
    assert await store.get_run("nope") is None
    with pytest.raises(RunNotFoundError, match="'nope'"):
        await store.load("nope")
    with pytest.raises(RunNotFoundError, match="'nope'"):
        await store.write("nope", [record(1)])


async def test_records_come_back_in_order_with_their_fields(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None, [record(0, "started", None, '{"start": 1}')])
    await store.write("r", [record(1, data='{"a": "é"}'), record(2, "sent", None, "[]")])
    await store.write("r", [record(3)])
    loaded = await store.load("r")
    assert loaded.records == [
        JournalRecord(0, "started", None, '{"start": 1}'),
        JournalRecord(1, "execution", "step@1", '{"a": "é"}'),
        JournalRecord(2, "sent", None, "[]"),
        JournalRecord(3, "execution", "step@3", "{}"),
    ]


async def test_a_write_is_all_or_nothing(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None, [record(0, "started", None)])
    with pytest.raises(StoreWriteError):
        await store.write("r", [record(1), record(1, key="other")])  # seq 1 twice
    with pytest.raises(StoreWriteError):
        await store.write("r", [record(2, key="dup"), record(3, key="dup")])  # key twice
    with pytest.raises(StoreWriteError):
        await store.write("r", [record(4)], status="waiting", checkpoint=Checkpoint(9, "{}"))
    await store.write("r", [record(5)])
    with pytest.raises(StoreWriteError):
        await store.write("r", [record(4, key="late")])  # before what is stored
    loaded = await store.load("r")
    assert [r.seq for r in loaded.records] == [0, 5]
    assert loaded.info.status == "running"
    assert loaded.checkpoint is None


async def test_a_completed_execution_is_recorded_once(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", [record(1, key="charge@ev-7")])
    with pytest.raises(StoreWriteError, match="charge@ev-7"):
        await store.write("r", [record(2, key="charge@ev-7")])


async def test_a_checkpoint_folds_the_records_up_to_its_seq(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None, [record(0, "started", None)])
    await store.write("r", [record(1), record(2)])
    await store.write("r", [record(3)], checkpoint=Checkpoint(3, '{"snapshot": 3}'))
    await store.write("r", [record(4)])
    loaded = await store.load("r")
    assert loaded.checkpoint == Checkpoint(3, '{"snapshot": 3}')
    assert [r.seq for r in loaded.records] == [4]
    await store.write("r", [record(5)], checkpoint=Checkpoint(5, '{"snapshot": 5}'))
    loaded = await store.load("r")
    assert loaded.checkpoint == Checkpoint(5, '{"snapshot": 5}')
    assert loaded.records == []


async def test_a_checkpoint_cannot_go_back(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", [record(1), record(2)], checkpoint=Checkpoint(2, "{}"))
    with pytest.raises(StoreWriteError, match="checkpoint"):
        await store.write("r", checkpoint=Checkpoint(1, "{}"))


async def test_status_and_result(store: RunStore) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", status="waiting")
    assert (await store.get_run("r")).status == "waiting"  # type: ignore[union-attr]
    await store.write("r", [record(1)], status="running")
    await store.write("r", status="completed", result='{"result": "ok"}')
    info = await store.get_run("r")
    assert info is not None
    assert (info.status, info.result) == ("completed", '{"result": "ok"}')
    assert info.updated_at >= info.created_at


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
async def test_a_run_that_ended_is_never_written_again(store: RunStore, status: str) -> None:
    await store.create_run("r", WORKFLOW, None)
    await store.write("r", status=status, result="null")  # type: ignore[arg-type]
    with pytest.raises(RunFinishedError, match="'r'"):
        await store.write("r", [record(1)])
    with pytest.raises(RunFinishedError):
        await store.write("r", status="running")
    assert (await store.load("r")).records == []


async def test_a_record_over_the_limit_is_refused_naming_it(
    open_store: Callable[..., RunStore],
) -> None:
    async with open_store(max_record_bytes=100) as store:
        await store.create_run("r", WORKFLOW, None)
        fits = "x" * 100
        await store.write("r", [record(1, data=fits)])
        too_large = "é" * 51  # 102 bytes in UTF-8, though 51 characters
        with pytest.raises(RecordTooLargeError) as raised:
            await store.write("r", [record(2, key="summarise@ev-3", data=too_large)])
        message = str(raised.value)
        assert "'r'" in message
        assert "summarise@ev-3" in message
        assert "102" in message
        assert [r.seq for r in (await store.load("r")).records] == [1]


async def test_a_checkpoint_is_not_held_to_the_record_limit(
    open_store: Callable[..., RunStore],
) -> None:
    """A checkpoint holds the whole live run (every pending event of a fan-out), which a
    resume needs: only records are limited."""
    async with open_store(max_record_bytes=100) as store:
        await store.create_run("r", WORKFLOW, None)
        await store.write("r", [record(1)], checkpoint=Checkpoint(1, "é" * 500))
        assert (await store.load("r")).checkpoint == Checkpoint(1, "é" * 500)


async def test_list_runs_filters_and_puts_the_latest_first(store: RunStore) -> None:
    for run_id, workflow in [("a", WORKFLOW), ("b", "other:Flow"), ("c", WORKFLOW)]:
        await store.create_run(run_id, workflow, None)
    await store.write("b", status="waiting")
    await store.write("a", status="completed", result="1")
    await store.write("c", [record(1)])  # written last
    assert [r.run_id async for r in store.list_runs()] == ["c", "a", "b"]
    assert [r.run_id async for r in store.list_runs(status="waiting")] == ["b"]
    assert [r.run_id async for r in store.list_runs(workflow=WORKFLOW)] == ["c", "a"]
    assert [r.run_id async for r in store.list_runs(limit=2)] == ["c", "a"]
    assert [r.run_id async for r in store.list_runs(status="failed")] == []


async def test_prune_drops_only_runs_that_ended(store: RunStore) -> None:
    for run_id in ["done", "failed", "live", "waiting"]:
        await store.create_run(run_id, WORKFLOW, None, [record(0, "started", None)])
    await store.write("done", status="completed", result="1")
    await store.write("failed", status="failed", result='"boom"')
    await store.write("waiting", status="waiting")
    assert await store.prune(older_than=timedelta(days=1)) == 0
    assert await store.prune(older_than=timedelta(0)) == 2
    assert sorted([r.run_id async for r in store.list_runs()]) == ["live", "waiting"]
    with pytest.raises(RunNotFoundError):
        await store.load("done")
    await store.create_run("done", WORKFLOW, None)  # its id and records are gone
    assert (await store.load("done")).records == []


async def test_concurrent_writes_each_get_their_own_outcome(store: RunStore) -> None:
    runs = [f"run-{n}" for n in range(10)]
    for run_id in runs:
        await store.create_run(run_id, WORKFLOW, None)

    async def write_all(run_id: str) -> None:
        for seq in range(1, 11):
            await store.write(run_id, [record(seq)])

    async def write_a_duplicate() -> BaseException | None:
        try:
            await store.write("run-0", [record(100, key="step@1")])  # key of seq 1
        except StoreWriteError as error:
            return error
        return None

    *_, duplicate = await asyncio.gather(*(write_all(r) for r in runs), write_a_duplicate())
    for run_id in runs:
        assert [r.seq for r in (await store.load(run_id)).records] == list(range(1, 11))
    # Either the duplicate came first (then one of run-0's writes failed instead, which
    # would have failed write_all) or it came after and was refused.
    assert isinstance(duplicate, StoreWriteError)


async def test_a_closed_store_refuses_work(open_store: Callable[..., RunStore]) -> None:
    store = open_store()
    await store.create_run("r", WORKFLOW, None)
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        await store.get_run("r")


async def test_the_data_outlives_the_store_object(reopen: Callable[..., RunStore]) -> None:
    async with reopen() as store:
        await store.create_run("r", WORKFLOW, "1", [record(0, "started", None)])
        await store.write("r", [record(1)], status="waiting", checkpoint=Checkpoint(1, "{}"))
    async with reopen() as store:
        loaded = await store.load("r")
        assert loaded.info.status == "waiting"
        assert loaded.checkpoint == Checkpoint(1, "{}")
        assert loaded.records == []


async def test_a_ttl_drops_runs_that_ended_long_ago_when_the_store_opens(
    reopen: Callable[..., RunStore],
) -> None:
    async with reopen() as store:
        await store.create_run("old", WORKFLOW, None)
        await store.create_run("live", WORKFLOW, None)
        await store.write("old", status="completed", result="1")
    async with reopen(ttl=timedelta(microseconds=1)) as store:
        assert [r.run_id async for r in store.list_runs()] == ["live"]


def test_options_are_checked(open_store: Callable[..., RunStore]) -> None:
    with pytest.raises(ValueError, match="max_record_bytes"):
        open_store(max_record_bytes=0)
    with pytest.raises(ValueError, match="ttl"):
        open_store(ttl=timedelta(0))
