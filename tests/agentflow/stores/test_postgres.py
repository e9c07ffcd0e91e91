"""What only the PostgreSQL store does: its migrations, its history and TTL on the tables
themselves, the errors of a server it cannot reach, and the extra it needs. The contract
it shares with the other stores is in test_store_contract.py."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from postgres_databases import DATABASES
from postgres_server import free_port

from agentflow.errors import MissingExtraError, StoreError, StoreVersionError
from agentflow.stores.base import Checkpoint, JournalRecord
from agentflow.stores.migrations import find_migrations
from agentflow.stores.postgres import PostgresStore

WORKFLOW = "tests.flows:Order"


@pytest.fixture
def dsn() -> str:
    return DATABASES.fresh()


async def rows(dsn: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        cursor = await connection.execute(query, parameters)
        return await cursor.fetchall()


def record(seq: int) -> JournalRecord:
    return JournalRecord(seq, "execution", f"step@{seq}", "{}")


async def test_the_migrations_are_applied_once(dsn: str) -> None:
    latest = find_migrations("postgres")[-1].version
    async with contextlib.AsyncExitStack() as stores:
        opened = [await stores.enter_async_context(PostgresStore(dsn)) for _ in range(4)]
        # Opened at once: the advisory lock lets one migrate while the others wait.
        await asyncio.gather(*(store.get_run("r") for store in opened))
    async with PostgresStore(dsn) as store:
        await store.create_run("r", WORKFLOW, None)
    versions = await rows(dsn, "SELECT version, name FROM agentflow_schema_version")
    assert versions == [(1, "0001_initial.sql"), (2, "0002_stream.sql"), (3, "0003_runner.sql")]
    assert latest == 3


async def test_a_database_newer_than_the_code_is_refused_naming_both_versions(dsn: str) -> None:
    async with PostgresStore(dsn) as store:
        await store.get_run("r")
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        await connection.execute(
            "INSERT INTO agentflow_schema_version (version, name) VALUES (7, '0007_later.sql')"
        )
    async with PostgresStore(dsn) as store:
        with pytest.raises(StoreVersionError) as raised:
            await store.get_run("r")
    assert "version 7" in str(raised.value)
    assert f"version {find_migrations('postgres')[-1].version}," in str(raised.value)


@pytest.mark.parametrize(("keep_history", "rows_left"), [(False, [4]), (True, [1, 2, 3, 4])])
async def test_a_checkpoint_drops_the_rows_it_folds_unless_history_is_kept(
    dsn: str, keep_history: bool, rows_left: list[int]
) -> None:
    async with PostgresStore(dsn, keep_history=keep_history) as store:
        await store.create_run("r", WORKFLOW, None, [record(1)])
        await store.write("r", [record(2), record(3)], checkpoint=Checkpoint(3, "{}"))
        await store.write("r", [record(4)])
        assert [r.seq for r in (await store.load("r")).records] == [4]
    stored = await rows(dsn, "SELECT seq FROM agentflow_journal WHERE run_id = 'r' ORDER BY seq")
    assert [seq for (seq,) in stored] == rows_left


async def test_a_checkpoint_without_history_still_holds_the_last_seq(dsn: str) -> None:
    async with PostgresStore(dsn) as store:
        await store.create_run("r", WORKFLOW, None)
        await store.write("r", [record(1), record(2)], checkpoint=Checkpoint(2, "{}"))
        with pytest.raises(StoreError, match="seq 2"):
            await store.write("r", [record(2)])


async def test_a_ttl_sweeps_when_a_run_ends_at_most_once_a_minute(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("agentflow.stores.postgres.monotonic", lambda: clock[0])
    async with PostgresStore(dsn, ttl=timedelta(microseconds=1)) as store:
        for run_id in ["a", "b", "c"]:
            await store.create_run(run_id, WORKFLOW, None)
        await store.write("a", status="completed", result="1")
        clock[0] += 61
        await store.write("b", status="failed", result="2")  # sweeps "a"
        await store.write("c", status="completed", result="3")  # too soon to sweep "b"
        assert sorted([r.run_id async for r in store.list_runs()]) == ["b", "c"]


async def test_close_finishes_the_writes_under_way(dsn: str) -> None:
    store = PostgresStore(dsn, max_size=1)  # the writes queue for its one connection
    runs = [f"run-{n}" for n in range(5)]
    for run_id in runs:
        await store.create_run(run_id, WORKFLOW, None)
    await asyncio.gather(*(store.write(run_id, [record(1)]) for run_id in runs), store.close())
    async with PostgresStore(dsn) as reopened:
        for run_id in runs:
            assert [r.seq for r in (await reopened.load(run_id)).records] == [1]


async def test_an_unreachable_server_is_named_without_the_password() -> None:
    port = free_port()
    async with PostgresStore(
        f"postgresql://someone:pass-w0rd-secret@127.0.0.1:{port}/runs"
    ) as store:
        with pytest.raises(StoreError) as raised:
            await store.create_run("r", WORKFLOW, None)
        assert "pass-w0rd-secret" not in repr(store)
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message
    assert "pass-w0rd-secret" not in message


@pytest.fixture
async def store(dsn: str) -> AsyncIterator[PostgresStore]:
    async with PostgresStore(dsn) as opened:
        yield opened


async def test_a_stored_key_repeated_names_the_key(store: PostgresStore) -> None:
    await store.create_run("r", WORKFLOW, None, [JournalRecord(1, "execution", "pay@ev-1", "{}")])
    with pytest.raises(StoreError, match=r"kind and key.*pay@ev-1"):
        await store.write("r", [JournalRecord(2, "execution", "pay@ev-1", "{}")])


def test_without_the_extra_the_store_names_it(
    uninstalled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uninstalled("psycopg", "psycopg_pool")
    monkeypatch.delitem(sys.modules, "agentflow.stores.postgres")  # back after the test
    with pytest.raises(MissingExtraError) as raised:
        importlib.import_module("agentflow.stores.postgres")
    assert (raised.value.extra, raised.value.feature) == ("postgres", "PostgresStore")


def test_importing_the_stores_loads_no_database_driver() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import agentflow, agentflow.stores, sys;"
         "print(sorted(m for m in sys.modules if m.startswith('psycopg')))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert loaded.strip() == "[]"
