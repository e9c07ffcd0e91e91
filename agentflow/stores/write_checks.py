"""The checks every store makes on a write before it touches its database: sizes, the
order of `seq`s, a kind and key given twice in one write, and where a checkpoint may go.

They read only the write and two numbers the store keeps per run (its last `seq` and its
checkpoint's), so that a refused write costs no round trip and leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentflow.errors import RecordTooLargeError, StoreWriteError
from agentflow.stores.base import Checkpoint, JournalRecord


def utf8_size_over(text: str, limit: int) -> int | None:
    """`text`'s size in UTF-8 bytes when it is over `limit`, else None. A character takes
    one to four bytes, so most texts are decided by their length without encoding them."""
    if len(text) * 4 <= limit:
        return None
    size = len(text.encode("utf-8"))
    return size if size > limit else None


def check_sizes(
    run_id: str,
    records: Sequence[JournalRecord],
    checkpoint: Checkpoint | None,
    limit: int,
) -> None:
    """`RecordTooLargeError` naming the run, the record (its key, else its kind) or the
    checkpoint, and its size, for the first one over `limit`."""
    for record in records:
        size = utf8_size_over(record.data, limit)
        if size is not None:
            name = repr(record.key) if record.key is not None else f"of kind {record.kind!r}"
            raise RecordTooLargeError(
                f"run {run_id!r}: record {name} (seq {record.seq}) is {size} bytes in UTF-8, "
                f"over the store's limit of {limit}"
            )
    if checkpoint is not None:
        size = utf8_size_over(checkpoint.data, limit)
        if size is not None:
            raise RecordTooLargeError(
                f"run {run_id!r}: the checkpoint at seq {checkpoint.seq} is {size} bytes in "
                f"UTF-8, over the store's limit of {limit}"
            )


def check_order(
    run_id: str,
    records: Sequence[JournalRecord],
    checkpoint: Checkpoint | None,
    *,
    last_seq: int | None,
    checkpoint_seq: int | None,
) -> None:
    """`StoreWriteError` unless the records' seqs rise past `last_seq` (the run's last one
    stored), no two of them share a kind and key, and the checkpoint lies between the
    stored one and the last record once this write is in."""
    previous = last_seq
    seen: dict[tuple[str, str], int] = {}
    for record in records:
        if previous is not None and record.seq <= previous:
            raise StoreWriteError(
                f"run {run_id!r}: record seq {record.seq} (key {record.key!r}) does not come "
                f"after seq {previous}: seqs must rise past the ones already written"
            )
        previous = record.seq
        if record.key is not None:
            first = seen.setdefault((record.kind, record.key), record.seq)
            if first != record.seq:
                raise StoreWriteError(
                    f"run {run_id!r}: records seq {first} and {record.seq} both have kind "
                    f"{record.kind!r} and key {record.key!r}"
                )
    if checkpoint is None:
        return
    if previous is None or checkpoint.seq > previous:
        raise StoreWriteError(
            f"run {run_id!r}: the checkpoint at seq {checkpoint.seq} is ahead of the "
            f"journal, whose last record is seq {previous}"
        )
    if checkpoint_seq is not None and checkpoint.seq < checkpoint_seq:
        raise StoreWriteError(
            f"run {run_id!r}: the checkpoint at seq {checkpoint.seq} goes back before the "
            f"stored one at seq {checkpoint_seq}"
        )
