"""Durable runs journalled by agentflow at 9083816, in saved-context format version 1, resume
with this version and finish with the result they would have had.

`journal_format_1.db` was written by that version running `journal_format_1_flows.Asks`
once per durability mode (run ids "sync", "async", "exit"), each suspended while it waited
for its answer: journal records, the exit mode's checkpoint and the state all hold models
as `{"__model__", "fields", "extra"}`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from journal_format_1_flows import Asks

from agentflow.events import HumanResponseEvent
from agentflow.stores import SqliteStore

SAVED = Path(__file__).parent / "journal_format_1.db"


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_a_run_journalled_in_format_1_resumes_with_the_right_result(
    tmp_path: Path, durability: str
) -> None:
    path = tmp_path / "runs.db"
    shutil.copy(SAVED, path)
    store = SqliteStore(str(path))
    try:
        resumed = await Asks(store, durability).resume(durability)
        assert await resumed.send_event_confirmed(HumanResponseEvent(response="Ada"))
        assert await resumed == "Ada 1 x,y 3 7"
        info = await store.get_run(durability)
        assert info is not None
        assert info.status == "completed"
    finally:
        await store.close()
