"""Starting a run: a run id the server makes is not looked up in the store (a SQLite
store answers from its own thread, a round trip per run), one the client gives is."""

from __future__ import annotations

import httpx
from running_server import RunningServer
from served_flows import make_server

from agentflow.stores import MemoryStore
from agentflow.stores.base import RunInfo


class ReadCountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.looked_up: list[str] = []

    async def get_run(self, run_id: str) -> RunInfo | None:
        self.looked_up.append(run_id)
        return await super().get_run(run_id)


async def test_only_a_run_id_the_client_gives_is_looked_up_in_the_store() -> None:
    store = ReadCountingStore()
    running = RunningServer(make_server(store)).start()  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(base_url=running.url) as client:
            made = await client.post("/workflows/greet/run-nowait", json={})
            assert made.status_code == 200
            assert store.looked_up == []

            given = await client.post("/workflows/greet/run", json={"handler_id": "mine"})
            assert given.status_code == 200
            assert store.looked_up == ["mine"]
            again = await client.post("/workflows/greet/run", json={"handler_id": "mine"})
            assert again.status_code == 409
    finally:
        running.stop()
