"""What every store checks before it writes: the same rules, worded the same way, whatever
the database.

Each check raises the `StoreError` subclass the contract names (`agentflow.stores.base`),
before anything is written, so that a refused write leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentflow.errors import RecordTooLargeError, RunFinishedError, StoreWriteError
from agentflow.stores.base import TERMINAL_STATUSES, Checkpoint, JournalRecord, StreamEntry


def utf8_size_over(text: str, limit: int) -> int | None:
    """`text`'s size in UTF-8 bytes when it is over `limit`, else None. A character takes
    one to four bytes, so most texts are decided by their length without encoding them."""
    if len(text) * 4 <= limit:
        return None
    size = len(text.encode("utf-8"))
    return size if size > limit else None


def check_sizes(run_id: str, records: Sequence[JournalRecord], limit: int) -> None:
    """Refuse a record whose data is over `limit` UTF-8 bytes, naming the run, the record
    (its key, or its kind when it has none) and the size. A checkpoint is not limited: it
    holds the whole live run (a fan-out's thousands of pending events), which a resume
    needs, and each event in it was held to the limit when its record was written."""
    for record in records:
        size = utf8_size_over(record.data, limit)
        if size is not None:
            what = f"key {record.key!r}" if record.key is not None else f"kind {record.kind!r}"
            raise RecordTooLargeError(
                f"run {run_id!r}: the record at seq {record.seq} ({what}) is {size} bytes, "
                f"over the store's limit of {limit} bytes"
            )


def check_not_finished(run_id: str, status: str) -> None:
    """A run that ended is never written again: its terminal status is final."""
    if status in TERMINAL_STATUSES:
        raise RunFinishedError(f"run {run_id!r} has ended ({status}); it cannot be written")


def check_order(run_id: str, records: Sequence[JournalRecord], last_seq: int | None) -> int | None:
    """Refuse records that do not come after `last_seq` (the last one stored) and after one
    another, and a kind+key given twice in one write; return the new last seq.

    A stored kind+key is the database's to find (a unique index), as only it sees them all.
    """
    keys: set[tuple[str, str]] = set()
    for record in records:
        if last_seq is not None and record.seq <= last_seq:
            raise StoreWriteError(
                f"run {run_id!r}: the record at seq {record.seq} does not come after seq "
                f"{last_seq}, the last one stored or written before it"
            )
        last_seq = record.seq
        if record.key is not None:
            if (record.kind, record.key) in keys:
                raise StoreWriteError(
                    f"run {run_id!r}: a {record.kind!r} record with key {record.key!r} is "
                    f"written twice (again at seq {record.seq})"
                )
            keys.add((record.kind, record.key))
    return last_seq


def check_checkpoint(
    run_id: str,
    checkpoint: Checkpoint,
    last_seq: int | None,
    previous_seq: int | None,
) -> None:
    """A checkpoint folds records the journal has (up to `last_seq`, this write's included)
    and never goes back behind the one it replaces."""
    if last_seq is None or checkpoint.seq > last_seq:
        raise StoreWriteError(
            f"run {run_id!r}: the checkpoint at seq {checkpoint.seq} is ahead of the journal, "
            f"whose last record is at seq {last_seq}"
        )
    if previous_seq is not None and checkpoint.seq < previous_seq:
        raise StoreWriteError(
            f"run {run_id!r}: the checkpoint at seq {checkpoint.seq} would go back behind "
            f"the stored checkpoint at seq {previous_seq}"
        )


def duplicate_key_error(run_id: str, record: JournalRecord) -> StoreWriteError:
    """The error for a record whose kind+key the store already holds."""
    return StoreWriteError(
        f"run {run_id!r}: a {record.kind!r} record with key {record.key!r} is already "
        f"stored (refused at seq {record.seq}); a completion is recorded once"
    )


def check_stream(
    run_id: str, stream: Sequence[StreamEntry], last_seq: int | None, limit: int
) -> int | None:
    """Refuse stream entries whose seqs do not come after `last_seq` (the last one stored)
    and after one another, or whose data is over `limit` UTF-8 bytes; the new last seq."""
    for entry in stream:
        if last_seq is not None and entry.seq <= last_seq:
            raise StoreWriteError(
                f"run {run_id!r}: the stream entry at seq {entry.seq} does not come after "
                f"stream seq {last_seq}, the last one stored or written before it"
            )
        last_seq = entry.seq
        size = utf8_size_over(entry.data, limit)
        if size is not None:
            raise RecordTooLargeError(
                f"run {run_id!r}: the stream entry at seq {entry.seq} (key {entry.key!r}) is "
                f"{size} bytes, over the store's limit of {limit} bytes"
            )
    return last_seq
