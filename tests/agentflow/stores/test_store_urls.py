"""`open_store`: a run store from a URL (`sqlite:///`, `postgresql://`, `memory://`), and the
errors a malformed or unknown URL gets, with any password masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from postgres_databases import DATABASES

from agentflow.stores import MemoryStore, PostgresStore, SqliteStore, open_store


def test_sqlite_with_three_slashes_is_a_path_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/runs.db")
    assert isinstance(store, SqliteStore)
    assert store.path == Path("data/runs.db")


def test_sqlite_with_four_slashes_is_an_absolute_path(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/runs.db", keep_history=True)
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / "runs.db"
    assert store.path.is_absolute()
    assert store.keep_history is True  # options reach the store


async def test_a_sqlite_url_opens_a_working_store(tmp_path: Path) -> None:
    async with open_store(f"sqlite:///{tmp_path}/runs.db") as store:
        await store.create_run("r1", "m:Flow", None)
    async with open_store(f"sqlite:///{tmp_path}/runs.db") as again:
        assert [info.run_id async for info in again.list_runs()] == ["r1"]


def test_memory_url_is_a_memory_store() -> None:
    store = open_store("memory://", max_record_bytes=10)
    assert isinstance(store, MemoryStore)
    assert store.max_record_bytes == 10


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_postgres_urls_are_the_store_s_dsn(scheme: str) -> None:
    url = DATABASES.fresh_url().replace("postgresql://", f"{scheme}://", 1)
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    async with store:
        await store.create_run("r1", "m:Flow", None)
        assert (await store.get_run("r1")) is not None


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("mysql://root:hunter2@db/runs", "'mysql'"),
        ("runs.db", "no scheme"),
        ("sqlite://runs.db", "sqlite:///"),  # two slashes: a host, not a path
        ("sqlite:///", "no path"),
        ("memory://somewhere", "memory://"),
        ("postgresql:", "postgresql://"),
    ],
)
def test_a_malformed_or_unknown_url_names_its_scheme_and_the_accepted_forms(
    url: str, named: str
) -> None:
    with pytest.raises(ValueError, match="store URL") as raised:
        open_store(url)
    message = str(raised.value)
    assert named in message
    for form in ("sqlite:///relative/path.db", "sqlite:////absolute/path.db", "memory://"):
        assert form in message
    assert "postgresql://" in message


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:hunter2@db/runs",
        "redis://:hunter2@localhost:6379/0",
        "mongodb://root:hunter2@db/runs?password=hunter2",
        "host=db password=hunter2",
    ],
)
def test_a_password_never_appears_in_the_error(url: str) -> None:
    with pytest.raises(ValueError, match="store URL") as raised:
        open_store(url)
    assert "hunter2" not in str(raised.value)
    assert "***" in str(raised.value)


def test_importing_the_stores_and_naming_open_store_imports_no_database_driver() -> None:
    code = (
        "import sys, agentflow.stores; "
        "print(agentflow.stores.open_store.__module__); "
        "print(sorted(m for m in ('sqlite3', 'psycopg', 'psycopg_pool') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout.splitlines() == ["agentflow.stores.urls", "[]"]
