"""What only MemoryStore does, beyond the contract (test_store_contract.py): expiry when a
run ends, at most once a minute, since it has no opening to prune at."""

from __future__ import annotations

from datetime import timedelta

import pytest

import agentflow.stores.memory as memory_store
from agentflow.stores import MemoryStore

WORKFLOW = "tests.flows:Order"


@pytest.mark.parametrize(("every", "left"), [(60.0, ["first", "live"]), (0.0, ["live"])])
async def test_a_run_that_ends_drops_expired_runs_at_most_once_a_minute(
    monkeypatch: pytest.MonkeyPatch, every: float, left: list[str]
) -> None:
    monkeypatch.setattr(memory_store, "TTL_SWEEP_SECONDS", every)
    async with MemoryStore(ttl=timedelta(microseconds=1)) as store:
        for run_id in ["first", "second", "live"]:
            await store.create_run(run_id, WORKFLOW, None)
        await store.write("first", status="completed", result="1")
        await store.write("second", status="failed", result='"boom"')
        assert sorted([r.run_id async for r in store.list_runs() if r.run_id != "second"]) == left
