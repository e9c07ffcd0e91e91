"""`WriterThread`: the one thread that touches a SQLite store's connection, and its group
commit.

sqlite3 blocks, and a commit with `synchronous=FULL` waits for the disk; on the event
loop's thread that would stall every run. So the store hands each operation (a plain
function of the connection) to this thread and awaits an asyncio future that the thread
resolves with `loop.call_soon_threadsafe`.

Group commit: the thread takes everything queued, runs it in one transaction and commits
once; whatever arrives meanwhile waits for the next. Under load, N writes cost one fsync,
not N. Each operation runs inside its own SAVEPOINT, so one that fails (a duplicate key, a
finished run) is rolled back alone and its caller gets its error, while the others commit.
A caller's future is resolved only after the COMMIT returned: a write that returned is on
disk. Reads go the same way, so each sees every write queued before it.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from agentflow.errors import StoreError, StoreWriteError

T = TypeVar("T")

Operation = Callable[[sqlite3.Connection], Any]
"""Work for the thread: runs inside a savepoint of the group's transaction."""


@dataclass(slots=True)
class _Request:
    operation: Operation | None
    """None asks the thread to close the connection and stop."""
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Outcome:
    request: _Request
    value: Any = None
    error: BaseException | None = None


class WriterThread:
    """A daemon thread owning one sqlite3 connection; started by the first `submit`.

    `open_connection` runs on the thread before anything else; if it raises, every request
    gets that error (the store cannot work) until `stop`.
    """

    def __init__(self, path: Path, open_connection: Callable[[], sqlite3.Connection]) -> None:
        self._path = path
        self._open_connection = open_connection
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False
        # Guards start and stop against submits from other threads: a request queued after
        # the stop request would never be answered.
        self._lock = threading.Lock()

    def submit(self, operation: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue `operation`; the future resolves with its value or error once the
        transaction it ran in has committed (or failed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._stopping:
                raise StoreError(f"the SqliteStore at '{self._path}' is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name=f"agentflow-sqlite-writer:{self._path}", daemon=True
                )
                self._thread.start()
            self._queue.put(_Request(operation, loop, future))
        return future

    async def stop(self) -> None:
        """Let the queued operations finish, close the connection, end the thread.
        Idempotent; `submit` refuses work from the first call on."""
        with self._lock:
            if self._stopping:
                thread = None
            else:
                self._stopping = True
                thread = self._thread
                if thread is not None:
                    loop = asyncio.get_running_loop()
                    done: asyncio.Future[None] = loop.create_future()
                    self._queue.put(_Request(None, loop, done))
        if thread is not None:
            await done

    def _serve(self) -> None:
        try:
            connection: sqlite3.Connection | None = self._open_connection()
            failure: BaseException | None = None
        except Exception as error:  # every caller hears why the store cannot open
            connection, failure = None, error
        while True:
            group = [self._queue.get()]
            while True:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            work = [request for request in group if request.operation is not None]
            if connection is None:
                outcomes = [_Outcome(request, error=failure) for request in work]
            elif work:
                outcomes = self._run_group(connection, work)
            else:
                outcomes = []
            for outcome in outcomes:
                _answer(outcome)
            if len(work) < len(group):  # the stop request, always the last one queued
                if connection is not None:
                    connection.close()
                _answer(_Outcome(group[-1]))
                return

    def _run_group(self, connection: sqlite3.Connection, work: list[_Request]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for request in work:
                outcomes.append(self._run_one(connection, request))
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            # The transaction itself failed (disk full, I/O error, a lock held too long):
            # nothing of the group is stored, so no caller may hear that it is.
            failed = StoreWriteError(
                f"the transaction on the SQLite database at '{self._path}' failed: {error}"
                + _roll_back(connection)
            )
            failed.__cause__ = error
            answered = {id(outcome.request) for outcome in outcomes if outcome.error}
            outcomes = [o for o in outcomes if o.error] + [
                _Outcome(request, error=failed) for request in work if id(request) not in answered
            ]
        return outcomes

    def _run_one(self, connection: sqlite3.Connection, request: _Request) -> _Outcome:
        assert request.operation is not None
        connection.execute("SAVEPOINT operation")
        try:
            value = request.operation(connection)
        except sqlite3.Error as error:
            connection.execute("ROLLBACK TO operation")
            connection.execute("RELEASE operation")
            wrapped = StoreWriteError(f"the SQLite database at '{self._path}' failed: {error}")
            wrapped.__cause__ = error
            return _Outcome(request, error=wrapped)
        except Exception as error:  # handed to its caller, who alone knows what it means
            connection.execute("ROLLBACK TO operation")
            connection.execute("RELEASE operation")
            return _Outcome(request, error=error)
        connection.execute("RELEASE operation")
        return _Outcome(request, value=value)


def _roll_back(connection: sqlite3.Connection) -> str:
    """Roll back what is left of a failed transaction (SQLite has ended it already after
    some errors); what went wrong doing so, for the callers' message, or ""."""
    if not connection.in_transaction:
        return ""
    try:
        connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        return f"; rolling it back failed too: {error}"
    return ""


def _answer(outcome: _Outcome) -> None:
    """Resolve the caller's future on its own loop's thread."""
    try:
        outcome.request.loop.call_soon_threadsafe(
            _settle, outcome.request.future, outcome.value, outcome.error
        )
    except RuntimeError:
        # The caller's loop is closed: nobody is left to hear the outcome, and the work
        # itself is done (or rolled back) already.
        return


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the caller stopped waiting; the work was done regardless
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)
