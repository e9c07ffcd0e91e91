"""`RunStream`: how a durable run numbers what it streams, and what of it is left to store.

Every event a run writes to its stream gets the next seq when it is written and waits, as a
`StreamEntry`, for the journal's next write (`take`): the run never waits for the store to
stream. A run resumed after a crash goes on from the stored stream's next seq, and an
execution that runs again had stored a prefix of its writes (the store holds a prefix of
what the run wrote): its first that many writes are neither numbered nor stored again
(`replayed`), so the stored stream holds each event once. The run's terminal StopEvent is
the last entry (`close`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from agentflow.events import Event
from agentflow.runtime.execution import current_execution
from agentflow.stores.base import StreamEntry

if TYPE_CHECKING:
    from agentflow.durable.journal import RunJournal
    from agentflow.runtime.run import WorkflowRun


class RunStream:
    """The numbering of one durable run's stream; see the module docstring."""

    __slots__ = ("behind", "closed", "next_seq", "pending", "replayed", "seqs")

    def __init__(
        self, next_seq: int = 0, replayed: dict[str, int] | None = None, *, behind: bool = True
    ) -> None:
        self.behind = behind
        """True when entries go out with the run's next write; False (`"exit"`) when they
        wait for the next checkpoint."""
        self.next_seq = next_seq
        """The seq the next event written to the stream gets."""
        self.pending: list[StreamEntry] = []
        """Entries numbered and not yet handed to a write."""
        self.replayed: dict[str, int] = replayed or {}
        """For a lineage that re-runs: how many entries it stored before the crash."""
        self.seqs: deque[int | None] = deque()
        """The seq of each event on the live stream not consumed yet, in stream order
        (None: a replayed write), for `DurableRun.numbered_stream`."""
        self.closed = False
        """True once the terminal event is numbered: nothing is stored after it."""

    def number(self, key: str | None, data: str, storing: bool) -> int | None:
        """The seq of the event `data` the execution `key` (None: not a step) writes now,
        queued in `pending`; None for a replayed write, and, when not `storing` (the
        journal failed) or after the end, for any write."""
        if key is not None and self.replayed:
            left = self.replayed.get(key)
            if left:
                if left == 1:
                    del self.replayed[key]
                else:
                    self.replayed[key] = left - 1
                self.seqs.append(None)
                return None
        if self.closed or not storing:
            self.seqs.append(None)
            return None
        seq = self.next_seq
        self.next_seq = seq + 1
        self.pending.append(StreamEntry(seq, key, data))
        self.seqs.append(seq)
        return seq

    def due(self) -> bool:
        """True when entries wait that the next write takes whatever it carries."""
        return self.behind and bool(self.pending)

    def take(self) -> list[StreamEntry]:
        """The entries to write now; they are no longer pending."""
        taken, self.pending = self.pending, []
        return taken

    def close(self, terminal: str) -> list[StreamEntry]:
        """Number the run's terminal event (`terminal`: its text) and take what is
        pending with it: the end's write."""
        self.closed = True
        self.pending.append(StreamEntry(self.next_seq, None, terminal))
        self.seqs.append(self.next_seq)
        self.next_seq += 1
        return self.take()


async def numbered(
    events: AsyncIterator[Event], seqs: deque[int | None]
) -> AsyncIterator[tuple[int | None, Event]]:
    """Each event with its seq (see `RunStream.seqs`), let go of as it is taken."""
    async for event in events:
        yield (seqs.popleft() if seqs else None), event


async def unnumbered(events: AsyncIterator[Event], seqs: deque[int | None]) -> AsyncIterator[Event]:
    """The events alone; their seqs are let go of as they are taken."""
    async for event in events:
        if seqs:
            seqs.popleft()
        yield event


def stored_writes(
    run: WorkflowRun, journal: RunJournal, write: Callable[[Event], None]
) -> Callable[[Event], None]:
    """A durable run's `write_to_stream`: each write is numbered and queued for the store
    under the lineage of the execution that made it (`RunStream.number` skips what a
    re-run execution had stored before), then streamed by `write`."""

    def write_and_number(event: Event) -> None:
        execution = current_execution.get()
        key = step = None
        if execution is not None and execution.link is run.link:
            step = execution.step
            consumed = journal.id_of(execution.event)
            if consumed is not None:
                key = f"{step}@{consumed}"
        journal.streamed(key, journal.journalled_text(event, "streamed event", step))
        write(event)

    return write_and_number
