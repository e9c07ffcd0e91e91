"""`RunBoard`: the DBOS runner's bookkeeping in PostgreSQL, beside the store's tables.

One row per run (`agentflow_runner_runs`) says who drives it: `queued` (a DBOS workflow for
it is enqueued and nobody took it yet), `running` (a worker drives it, under a lease it
renews), `parked` (it waits for an answer and no process holds it) or `ended`. Each DBOS
workflow enqueued for a run is an *activation*, numbered; only the latest may drive it.

Events and cancels sent to a run from any server replica go to its inbox
(`agentflow_runner_inbox`), never straight into its journal: the journal is written only by
the one process that drives the run, which takes the inbox in order and sends each event
into the run with its key as the idempotency key, so a crash anywhere delivers it once.

The two races that matter are settled by the run row's lock (`SELECT ... FOR UPDATE`): a
replica posting to a parked run re-queues it in the transaction of its post, and a worker
parks a run only in a transaction that finds its inbox empty. Whoever comes second sees
what the first did.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from agentflow.server.errors import ApiError
from agentflow.stores.base import TERMINAL_STATUSES

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.rows import TupleRow

    from agentflow.stores.postgres import PostgresStore

RunState = Literal["queued", "running", "parked", "ended"]
ParkVerdict = Literal["parked", "busy", "gone"]
INBOX_CHANNEL = "agentflow_runner_inbox"
"""NOTIFY channel of posts to inboxes; the payload is the run id."""


def activation_id(run_id: str, activation: int) -> str:
    """The DBOS workflow id of a run's activation."""
    return f"{run_id}#{activation}"


@dataclass(frozen=True, slots=True)
class BoardRun:
    """A run's row."""

    run_id: str
    served_name: str
    start_event: str
    state: RunState
    activation: int
    owner: str | None


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An event (or a cancel) sent to a run, in the order of its id."""

    id: int
    key: str
    kind: Literal["event", "cancel"]
    step: str | None
    data: str | None


@dataclass(frozen=True, slots=True)
class Posted:
    """What a post did: `sent` False when an earlier post had its key; `requeue` is the
    activation to enqueue when the post woke a parked run."""

    sent: bool
    requeue: int | None


class RunBoard:
    """The runner's tables, over the store's connections; see the module docstring."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def add(self, run_id: str, served_name: str, start_event: str) -> bool:
        """Add a new run, queued as activation 1; False when the id is taken."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "INSERT INTO agentflow_runner_runs"
                " (run_id, served_name, start_event, state, activation)"
                " VALUES (%s, %s, %s, 'queued', 1) ON CONFLICT DO NOTHING",
                [run_id, served_name, start_event],
            )
            return cursor.rowcount == 1

    async def get(self, run_id: str) -> BoardRun | None:
        async with self.store.connection() as connection:
            cursor = await connection.execute(f"{_SELECT_RUN} WHERE run_id = %s", [run_id])
            row = await cursor.fetchone()
        return None if row is None else BoardRun(*row)

    async def not_started(self) -> list[BoardRun]:
        """Runs no worker has put in the store yet (queued, activation 1)."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                f"{_SELECT_RUN} WHERE state = 'queued' AND activation = 1"
                " AND NOT EXISTS (SELECT 1 FROM agentflow_runs r WHERE r.run_id ="
                " agentflow_runner_runs.run_id) ORDER BY updated_at DESC"
            )
            return [BoardRun(*row) for row in await cursor.fetchall()]

    async def post(
        self,
        run_id: str,
        kind: Literal["event", "cancel"],
        step: str | None,
        data: str | None,
        key: str | None,
    ) -> Posted:
        """Put an event (or a cancel) in the run's inbox; a parked run is queued again.
        404 for an unknown run; 409 for an ended one, unless `key` was posted before."""
        item_key = key if key is not None else uuid.uuid4().hex
        async with self.store.connection() as connection, connection.transaction():
            run = await _locked(connection, run_id)
            if run is None:
                raise ApiError(404, f"no run {run_id!r}")
            if run.state == "ended" or await _ended_in_store(connection, run_id):
                if key is not None and await _has_key(connection, run_id, key):
                    return Posted(sent=False, requeue=None)
                raise ApiError(409, f"run {run_id!r} has ended")
            cursor = await connection.execute(
                "INSERT INTO agentflow_runner_inbox (run_id, key, kind, step, data)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [run_id, item_key, kind, step, data],
            )
            if cursor.rowcount == 0:
                return Posted(sent=False, requeue=None)
            await connection.execute("SELECT pg_notify(%s, %s)", [INBOX_CHANNEL, run_id])
            if run.state != "parked":
                return Posted(sent=True, requeue=None)
            return Posted(sent=True, requeue=await _requeue(connection, run_id))

    async def claim(
        self, run_id: str, activation: int, owner: str, lease: timedelta
    ) -> BoardRun | None:
        """Take the run for `owner`, under a lease, if `activation` is its latest and it
        is queued (or was `owner`'s already, or its holder's lease ran out); None otherwise
        (another activation or a live worker drives it, or it is over)."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "UPDATE agentflow_runner_runs SET state = 'running', owner = %s,"
                " lease_until = now() + %s, updated_at = now()"
                " WHERE run_id = %s AND activation = %s AND (state = 'queued' OR"
                " (state = 'running' AND (owner = %s OR lease_until < now())))"
                " RETURNING run_id, served_name, start_event, state, activation, owner",
                [owner, lease, run_id, activation, owner],
            )
            row = await cursor.fetchone()
        return None if row is None else BoardRun(*row)

    async def inbox(self, run_id: str) -> list[InboxItem]:
        """The run's undelivered events and cancels, oldest first."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "SELECT id, key, kind, step, data FROM agentflow_runner_inbox"
                " WHERE run_id = %s AND NOT delivered ORDER BY id",
                [run_id],
            )
            return [InboxItem(*row) for row in await cursor.fetchall()]

    async def delivered(self, item: InboxItem) -> None:
        async with self.store.connection() as connection:
            await connection.execute(
                "UPDATE agentflow_runner_inbox SET delivered = true WHERE id = %s", [item.id]
            )

    async def sent_count(self, run_id: str) -> int:
        """How many events were posted to the run (each answers its oldest question)."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "SELECT count(*) FROM agentflow_runner_inbox WHERE run_id = %s AND kind = 'event'",
                [run_id],
            )
            row = await cursor.fetchone()
        return 0 if row is None else int(row[0])

    async def park(
        self, run_id: str, activation: int, owner: str, wake_at: float | None
    ) -> ParkVerdict:
        """Mark the run parked if `owner` still holds it for `activation` and its inbox is
        empty: "parked" (to be woken at `wake_at`, `time.time()` seconds, if given); "busy"
        when the inbox holds something (drive it on), "gone" when another activation or
        worker has it."""
        async with self.store.connection() as connection, connection.transaction():
            run = await _locked(connection, run_id)
            if (
                run is None
                or run.activation != activation
                or run.state != "running"
                or run.owner != owner
            ):
                return "gone"
            cursor = await connection.execute(
                "SELECT 1 FROM agentflow_runner_inbox WHERE run_id = %s AND NOT delivered LIMIT 1",
                [run_id],
            )
            if await cursor.fetchone() is not None:
                return "busy"
            await connection.execute(
                "UPDATE agentflow_runner_runs SET state = 'parked', owner = NULL,"
                " lease_until = NULL, wake_at = to_timestamp(%s), updated_at = now()"
                " WHERE run_id = %s",
                [wake_at, run_id],
            )
            return "parked"

    async def end(self, run_id: str, activation: int) -> None:
        async with self.store.connection() as connection:
            await connection.execute(
                "UPDATE agentflow_runner_runs SET state = 'ended', owner = NULL,"
                " lease_until = NULL, updated_at = now()"
                " WHERE run_id = %s AND activation = %s",
                [run_id, activation],
            )

    async def renew(self, owner: str, run_ids: Sequence[str], lease: timedelta) -> set[str]:
        """Renew `owner`'s leases on `run_ids` and its own heartbeat; the runs whose lease
        it still held (another worker took the others over)."""
        async with self.store.connection() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO agentflow_runner_workers (executor_id, alive_until)"
                " VALUES (%s, now() + %s) ON CONFLICT (executor_id)"
                " DO UPDATE SET alive_until = excluded.alive_until",
                [owner, lease],
            )
            cursor = await connection.execute(
                "UPDATE agentflow_runner_runs SET lease_until = now() + %s"
                " WHERE owner = %s AND state = 'running' AND run_id = ANY(%s)"
                " RETURNING run_id",
                [lease, owner, list(run_ids)],
            )
            return {row[0] for row in await cursor.fetchall()}

    async def expired(self) -> list[BoardRun]:
        """Running runs whose lease ran out: their worker died (or stalled)."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                f"{_SELECT_RUN} WHERE state = 'running' AND lease_until < now()"
            )
            return [BoardRun(*row) for row in await cursor.fetchall()]

    async def stale_queued(self, older_than: timedelta) -> list[BoardRun]:
        """Runs queued for longer than `older_than`: their DBOS workflow may be lost (the
        poster died between its post and the enqueue) or held by a dead worker."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                f"{_SELECT_RUN} WHERE state = 'queued' AND updated_at < now() - %s",
                [older_than],
            )
            return [BoardRun(*row) for row in await cursor.fetchall()]

    async def dead_workers(self) -> list[str]:
        """Workers whose heartbeat ran out (`forget_workers` once they are dealt with)."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "SELECT executor_id FROM agentflow_runner_workers WHERE alive_until < now()"
            )
            return [row[0] for row in await cursor.fetchall()]

    async def requeue(self, run_id: str, activation: int, owner: str | None = None) -> int | None:
        """Give the run a new activation, if `activation` is still its latest, it has not
        ended or parked, and (given an `owner`) that worker still holds it; the new number,
        to enqueue."""
        async with self.store.connection() as connection, connection.transaction():
            run = await _locked(connection, run_id)
            if (
                run is None
                or run.activation != activation
                or run.state in ("ended", "parked")
                or (owner is not None and run.owner != owner)
            ):
                return None
            return await _requeue(connection, run_id)

    async def release_expired(self, run_id: str, activation: int) -> bool:
        """Queue the run again, for its activation's recovery, if its holder's lease has
        run out; False when another reaper did, or the holder renewed it: only the caller
        that gets True recovers the activation."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "UPDATE agentflow_runner_runs SET state = 'queued', owner = NULL,"
                " lease_until = NULL, updated_at = now() WHERE run_id = %s"
                " AND activation = %s AND state = 'running' AND lease_until < now()",
                [run_id, activation],
            )
            return cursor.rowcount == 1

    async def wake_due(self) -> list[tuple[str, int]]:
        """Queue again the parked runs whose wake-up time has come (a wait of theirs times
        out); `(run_id, activation)` of each, to enqueue."""
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "UPDATE agentflow_runner_runs SET state = 'queued',"
                " activation = activation + 1, wake_at = NULL, updated_at = now()"
                " WHERE state = 'parked' AND wake_at < now() RETURNING run_id, activation"
            )
            return [(row[0], int(row[1])) for row in await cursor.fetchall()]

    async def live_workers(self) -> set[str]:
        async with self.store.connection() as connection:
            cursor = await connection.execute(
                "SELECT executor_id FROM agentflow_runner_workers WHERE alive_until >= now()"
            )
            return {row[0] for row in await cursor.fetchall()}

    async def forget_workers(self, executor_ids: list[str]) -> None:
        """Forget dead workers once their activations are recovered."""
        async with self.store.connection() as connection:
            await connection.execute(
                "DELETE FROM agentflow_runner_workers WHERE executor_id = ANY(%s)"
                " AND alive_until < now()",
                [executor_ids],
            )


_SELECT_RUN = (
    "SELECT run_id, served_name, start_event, state, activation, owner FROM agentflow_runner_runs"
)


async def _locked(connection: AsyncConnection[TupleRow], run_id: str) -> BoardRun | None:
    cursor = await connection.execute(f"{_SELECT_RUN} WHERE run_id = %s FOR UPDATE", [run_id])
    row = await cursor.fetchone()
    return None if row is None else BoardRun(*row)


async def _ended_in_store(connection: AsyncConnection[TupleRow], run_id: str) -> bool:
    """True once the run's end is in the store, before its worker marked the row ended."""
    cursor = await connection.execute(
        "SELECT 1 FROM agentflow_runs WHERE run_id = %s AND status = ANY(%s)",
        [run_id, list(TERMINAL_STATUSES)],
    )
    return await cursor.fetchone() is not None


async def _has_key(connection: AsyncConnection[TupleRow], run_id: str, key: str) -> bool:
    cursor = await connection.execute(
        "SELECT 1 FROM agentflow_runner_inbox WHERE run_id = %s AND key = %s", [run_id, key]
    )
    return await cursor.fetchone() is not None


async def _requeue(connection: AsyncConnection[TupleRow], run_id: str) -> int:
    cursor = await connection.execute(
        "UPDATE agentflow_runner_runs SET state = 'queued', activation = activation + 1,"
        " owner = NULL, lease_until = NULL, updated_at = now() WHERE run_id = %s"
        " RETURNING activation",
        [run_id],
    )
    row = await cursor.fetchone()
    assert row is not None, "the run's row is locked"
    return int(row[0])
