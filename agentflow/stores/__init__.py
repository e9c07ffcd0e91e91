"""Durable run stores: where runs are journalled so that they survive the process.

    from agentflow.stores import SqliteStore, PostgresStore, MemoryStore

`SqliteStore` (the embedded default; the standard library's sqlite3), `PostgresStore` (the
store for several machines; the `postgres` extra) and `MemoryStore` (this process only, for
tests) share one contract, `RunStore` (`agentflow.stores.base`). Each loads when first
named, so that `import agentflow` imports no database driver.
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
]

_STORES = {
    "MemoryStore": "agentflow.stores.memory",
    "PostgresStore": "agentflow.stores.postgres",
    "SqliteStore": "agentflow.stores.sqlite",
}


def __getattr__(name: str) -> Any:
    module = _STORES.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.stores' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
