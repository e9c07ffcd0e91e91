"""Crashing a durable agent run in process and counting what reached the wire.

`crash_image` copies a SQLite store's files as a `kill -9` at that moment would leave them
(the database and its write-ahead log: a commit that returned is in one of them), so a
test can resume a run from the copy in a fresh workflow. `ToolModel` is a respx side effect
answering an agent as an OpenAI server would, by what each request holds, and logging
every request it answers.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from llm_wire import calls_reply, text_reply


def crash_image(database: Path, into: Path) -> Path:
    """The files a process killed now leaves, copied to `into`; the copy's path."""
    copy = into / "crashed.db"
    shutil.copyfile(database, copy)
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    return copy


@dataclass
class ToolModel:
    """Asks for `calls` (id, tool, arguments) in parallel while the conversation has no
    tool result, then answers with `answer` followed by the results it read, in call order.
    `requests` logs each request as "ask" or "answer"."""

    calls: list[tuple[str, str, str]]
    answer: str = "Done:"
    requests: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        results = [m["content"] for m in messages if m["role"] == "tool"]
        if not results:
            self.requests.append("ask")
            return calls_reply(*self.calls)
        self.requests.append("answer")
        return text_reply(self.answer, *(f" {result}" for result in results))
