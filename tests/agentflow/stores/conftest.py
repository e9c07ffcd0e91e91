"""The stores under test: every contract test runs once per kind in `KINDS`.

A kind knows how to make a fresh location (a file, a database) per test and how to open a
store there, so that a test can close a store and open it again on the same data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from postgres_databases import DATABASES

from agentflow.stores.base import RunStore
from agentflow.stores.memory import MemoryStore
from agentflow.stores.sqlite import SqliteStore


@dataclass(frozen=True)
class StoreKind:
    name: str
    persistent: bool
    """False for a store whose data lives only as long as the object (MemoryStore)."""
    fresh_location: Callable[[Path], str]
    """A new, empty place for a store's data, made from the test's tmp_path."""
    open: Callable[..., RunStore]
    """`open(location, **options)`: a store on that location, with RunStore's options."""


def _open_postgres(dsn: str, **options: Any) -> RunStore:
    from agentflow.stores.postgres import PostgresStore

    return PostgresStore(dsn, **options)


KINDS: list[StoreKind] = [
    StoreKind(
        name="memory",
        persistent=False,
        fresh_location=lambda tmp_path: "",
        open=lambda location, **options: MemoryStore(**options),
    ),
    StoreKind(
        name="sqlite",
        persistent=True,
        fresh_location=lambda tmp_path: str(tmp_path / "runs.db"),
        open=lambda location, **options: SqliteStore(location, **options),
    ),
    # A database per location, on the session's server (postgres_databases.py).
    StoreKind("postgres", True, lambda _: DATABASES.fresh(), _open_postgres),
]
"""Each store adds its kind here."""


@pytest.fixture(autouse=True)
def _drop_postgres_databases() -> Iterator[None]:
    """Drop the databases a test made, after it; stop the server the session started."""
    yield
    DATABASES.drop_made()


@pytest.fixture(autouse=True, scope="session")
def _stop_postgres() -> Iterator[None]:
    yield
    DATABASES.stop()


@pytest.fixture(params=[kind.name for kind in KINDS])
def kind(request: pytest.FixtureRequest) -> StoreKind:
    return next(kind for kind in KINDS if kind.name == request.param)


@pytest.fixture
def location(kind: StoreKind, tmp_path: Path) -> str:
    return kind.fresh_location(tmp_path)


@pytest.fixture
def open_store(kind: StoreKind, location: str) -> Callable[..., RunStore]:
    """Open a store of the test's kind on the test's location, with options."""

    def opened(**options: Any) -> RunStore:
        return kind.open(location, **options)

    return opened


@pytest.fixture(params=[kind.name for kind in KINDS if kind.persistent])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., RunStore]:
    """Open a persistent store, again and again, on one fresh location."""
    kind = next(kind for kind in KINDS if kind.name == request.param)
    where = kind.fresh_location(tmp_path)

    def opened(**options: Any) -> RunStore:
        return kind.open(where, **options)

    return opened


@pytest.fixture
async def store(open_store: Callable[..., RunStore]) -> AsyncIterator[RunStore]:
    async with open_store() as opened:
        yield opened
