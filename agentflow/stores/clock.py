"""`WriteClock`: the time a store stamps on a write, in UTC, never the same twice.

`list_runs` puts the most recently written run first and `prune` drops runs written before a
cutoff; two writes stamped with the same microsecond (a coarse system clock, or a clock
stepped back) would make that order a coin toss. Each store owns one clock and stamps its
writes and cutoffs with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_TICK = timedelta(microseconds=1)


class WriteClock:
    """Hands out strictly increasing, timezone-aware UTC times. Not thread-safe: the store
    calls it from one thread (the event loop's, or its writer thread)."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)

    def now(self) -> datetime:
        now = datetime.now(UTC)
        self._last = now if now > self._last else self._last + _TICK
        return self._last
