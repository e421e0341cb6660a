"""A virtual clock for deterministic tests of the simulator (and of code that talks to it)."""

from __future__ import annotations

import heapq
import itertools

import anyio
import anyio.lowlevel

__all__ = ["FakeClock"]


class FakeClock:
    """A wall clock that only moves when told to.

    Pass it as ``Simulator(clock=clock)``: server time is then ``clock.now`` (epoch seconds).
    ``clock.sleep`` is an async sleep in this virtual time: a sleeper wakes when
    :meth:`advance` or :meth:`set` moves ``now`` to or past its deadline. Pass it as
    ``Simulator(sleep=clock.sleep)`` to make injected latency virtual too.

    The default start, 1,700,000,000.0, is a multiple of every small test period (1, 2, 5, 10 s),
    so epoch-aligned windows start exactly at ``now``.

    Sleepers belong to the event loop that created them: advance the clock from that loop.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        """Start the clock at ``start`` epoch seconds."""
        self.now: float = float(start)
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._counter = itertools.count()

    def __call__(self) -> float:
        """The current virtual time, in epoch seconds."""
        return self.now

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now!r}, sleepers={self.sleepers})"

    @property
    def sleepers(self) -> int:
        """How many ``sleep`` calls are waiting for the clock to move."""
        return sum(1 for _, _, event in self._sleepers if not event.is_set())

    @property
    def next_deadline(self) -> float | None:
        """The earliest deadline of a waiting sleeper, or None."""
        live = [deadline for deadline, _, event in self._sleepers if not event.is_set()]
        return min(live) if live else None

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (>= 0) and wake every sleeper now due."""
        if seconds < 0:
            raise ValueError("a FakeClock never goes backwards through advance(); use set()")
        self.set(self.now + seconds)

    def set(self, now: float) -> None:
        """Jump to ``now`` (backwards too, to model a wall-clock step) and wake due sleepers."""
        self.now = float(now)
        while self._sleepers and self._sleepers[0][0] <= self.now:
            _, _, event = heapq.heappop(self._sleepers)
            event.set()

    async def sleep(self, seconds: float) -> None:
        """Wait until virtual time reaches ``now + seconds``; a non-positive delay only yields."""
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._counter), event))
        try:
            await event.wait()
        finally:
            event.set()  # a cancelled sleeper no longer counts as waiting
