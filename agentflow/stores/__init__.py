"""Durable run stores: where runs are journalled so that they survive the process.

    from agentflow.stores import SqliteStore, PostgresStore, MemoryStore

`SqliteStore` (the embedded default; the standard library's sqlite3), `PostgresStore` (the
store for several machines; the `postgres` extra) and `MemoryStore` (this process only, for
tests) share one contract, `RunStore` (`agentflow.stores.base`); `open_store(url)` makes
the one a URL names (`sqlite:///runs.db`, `postgresql://...`, `memory://`). Each loads when
first named, so that `import agentflow` imports no database driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agentflow.stores.base import (
    Checkpoint,
    JournalRecord,
    RunInfo,
    RunStatus,
    RunStore,
    StoredRun,
)

if TYPE_CHECKING:
    from agentflow.stores.memory import MemoryStore
    from agentflow.stores.postgres import PostgresStore
    from agentflow.stores.sqlite import SqliteStore
    from agentflow.stores.urls import open_store

__all__ = [
    "Checkpoint",
    "JournalRecord",
    "MemoryStore",
    "PostgresStore",
    "RunInfo",
    "RunStatus",
    "RunStore",
    "SqliteStore",
    "StoredRun",
    "open_store",
]

_LAZY_NAMES = {
    "MemoryStore": "agentflow.stores.memory",
    "PostgresStore": "agentflow.stores.postgres",
    "SqliteStore": "agentflow.stores.sqlite",
    "open_store": "agentflow.stores.urls",
}


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.stores' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
