"""What only SqliteStore does, beyond the contract (test_store_contract.py): its migrations
and their version, WAL, a writer thread of its own, group commit, the journal rows a
checkpoint drops or keeps, expiry when a run ends, and a file it cannot open."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import agentflow.stores.sqlite as sqlite_store
from agentflow.errors import StoreError, StoreVersionError, StoreWriteError
from agentflow.stores import SqliteStore
from agentflow.stores.base import Checkpoint, JournalRecord
from agentflow.stores.migrations import find_migrations
from agentflow.stores.sqlite_schema import VERSION_TABLE, split_statements

WORKFLOW = "tests.flows:Order"


def record(seq: int, key: str | None = None) -> JournalRecord:
    return JournalRecord(seq, "execution", key or f"step@{seq}", "{}")


def query(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the file with a connection of the test's own, as another process would."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Every statement a store's connection runs, with the id of the thread that ran it."""
    seen: list[tuple[int, str]] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(lambda sql: seen.append((threading.get_ident(), sql)))
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    return seen


async def test_the_migrations_are_applied_once_and_their_version_recorded(path: Path) -> None:
    migrations = find_migrations("sqlite")
    for _ in range(2):
        async with SqliteStore(path) as store:
            await store.create_run(f"run-{_}", WORKFLOW, None)
    assert query(path, f"SELECT version, name FROM {VERSION_TABLE} ORDER BY version") == [
        (migration.version, migration.name) for migration in migrations
    ]
    assert {"runs", "journal"} <= {
        name for (name,) in query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }


async def test_a_database_newer_than_the_code_is_refused_naming_both_versions(
    path: Path,
) -> None:
    async with SqliteStore(path) as store:
        await store.create_run("r", WORKFLOW, None)
    known = find_migrations("sqlite")[-1].version
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            f"INSERT INTO {VERSION_TABLE} VALUES (?, '9999_from_the_future.sql', '')",
            (known + 41,),
        )
    connection.close()
    store = SqliteStore(path)
    with pytest.raises(StoreVersionError, match=rf"version {known + 41}.*version {known}\b"):
        await store.get_run("r")
    await store.close()


async def test_the_file_is_in_wal_mode(path: Path) -> None:
    async with SqliteStore(path) as store:
        await store.create_run("r", WORKFLOW, None)
    assert query(path, "PRAGMA journal_mode") == [("wal",)]


async def test_every_statement_runs_on_the_writer_thread_never_the_loops(
    path: Path, statements: list[tuple[int, str]]
) -> None:
    async with SqliteStore(path) as store:
        await store.create_run("r", WORKFLOW, None)
        await store.write("r", [record(1)])
        await store.load("r")
    ran = [sql for _, sql in statements]
    assert "PRAGMA synchronous=FULL" in ran
    assert any(sql.startswith("INSERT INTO journal") for sql in ran)
    threads = {thread for thread, _ in statements}
    assert len(threads) == 1
    assert threading.get_ident() not in threads


async def test_writes_queued_during_a_commit_share_the_next_one(
    path: Path, statements: list[tuple[int, str]]
) -> None:
    async with SqliteStore(path) as store:
        await store.create_run("r", WORKFLOW, None)
        # Another process holds the write lock, so the store's thread waits in its BEGIN
        # while every write below is queued; the last coroutine gather starts lets go.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")

        async def let_go() -> None:
            other.execute("COMMIT")

        async def duplicate() -> BaseException | None:
            try:
                await store.write("r", [record(1000, key="step@1")])
            except StoreWriteError as error:
                return error
            return None

        commits_before = sum(sql == "COMMIT" for _, sql in statements)
        *_, refused, _ = await asyncio.gather(
            *(store.write("r", [record(seq)]) for seq in range(1, 51)), duplicate(), let_go()
        )
        other.close()
        commits = sum(sql == "COMMIT" for _, sql in statements) - commits_before
        # At most the group the thread had taken before the lock, then all the others.
        assert commits <= 2
        assert isinstance(refused, StoreWriteError)
        assert "step@1" in str(refused)
        assert [r.seq for r in (await store.load("r")).records] == list(range(1, 51))


async def test_close_lets_the_writes_already_queued_finish(path: Path) -> None:
    store = SqliteStore(path)
    await store.create_run("r", WORKFLOW, None)
    # gather starts the writes (each queues itself) before close queues its stop.
    await asyncio.gather(*(store.write("r", [record(seq)]) for seq in range(1, 21)), store.close())
    with pytest.raises(StoreError, match="closed"):
        await store.write("r", [record(21)])
    async with SqliteStore(path) as reopened:
        assert [r.seq for r in (await reopened.load("r")).records] == list(range(1, 21))


async def test_a_database_error_reaches_its_caller_as_a_store_write_error(path: Path) -> None:
    async with SqliteStore(path) as store:
        await store.create_run("r", WORKFLOW, None)
        with pytest.raises(StoreWriteError, match="CHECK constraint") as raised:
            await store.write("r", status="paused")  # type: ignore[arg-type]
        assert isinstance(raised.value.__cause__, sqlite3.IntegrityError)
        assert str(path) in str(raised.value)
        assert (await store.get_run("r")).status == "running"  # type: ignore[union-attr]


@pytest.mark.parametrize(("keep_history", "kept"), [(False, [4]), (True, [0, 1, 2, 3, 4])])
async def test_a_checkpoint_drops_the_rows_it_folds_unless_history_is_kept(
    path: Path, keep_history: bool, kept: list[int]
) -> None:
    async with SqliteStore(path, keep_history=keep_history) as store:
        await store.create_run("r", WORKFLOW, None, [record(0)])
        await store.write("r", [record(1), record(2)])
        await store.write("r", [record(3)], checkpoint=Checkpoint(3, "{}"))
        await store.write("r", [record(4)])
        assert [r.seq for r in (await store.load("r")).records] == [4]
    assert [seq for (seq,) in query(path, "SELECT seq FROM journal ORDER BY seq")] == kept


@pytest.mark.parametrize(("every", "left"), [(60.0, ["first", "live"]), (0.0, ["live"])])
async def test_a_run_that_ends_drops_expired_runs_at_most_once_a_minute(
    path: Path, monkeypatch: pytest.MonkeyPatch, every: float, left: list[str]
) -> None:
    monkeypatch.setattr(sqlite_store, "TTL_SWEEP_SECONDS", every)
    async with SqliteStore(path, ttl=timedelta(microseconds=1)) as store:
        for run_id in ["first", "second", "live"]:
            await store.create_run(run_id, WORKFLOW, None)
        await store.write("first", status="completed", result="1")
        await store.write("second", status="failed", result='"boom"')
        assert sorted([r.run_id async for r in store.list_runs() if r.run_id != "second"]) == left


async def test_a_path_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)  # a directory
    with pytest.raises(StoreError, match=str(tmp_path)):
        await store.get_run("r")
    with pytest.raises(StoreError, match=str(tmp_path)):
        await store.create_run("r", WORKFLOW, None)
    await store.close()
    with pytest.raises(StoreError, match=str(tmp_path)):
        async with SqliteStore(tmp_path):
            pass


def test_a_script_splits_into_its_statements_semicolons_in_strings_and_comments_kept() -> None:
    script = "-- one; two\nCREATE TABLE t (a TEXT DEFAULT 'x;y');\n\nINSERT INTO t VALUES ('z');\n"
    assert split_statements(script) == [
        "-- one; two\nCREATE TABLE t (a TEXT DEFAULT 'x;y');",
        "INSERT INTO t VALUES ('z');",
    ]
    with pytest.raises(ValueError, match="not complete"):
        split_statements("INSERT INTO t VALUES ('z);")


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [migration.version for migration in find_migrations("sqlite")]
    assert versions == list(range(1, len(versions) + 1))
    with pytest.raises(LookupError, match="'nosql'"):
        find_migrations("nosql")
