"""The public :class:`RateLimiter`: settings, and one bucket per API key from its backend."""

from __future__ import annotations

import math

from ._clock import Clock, SystemClock
from ._core import Core, Pacing
from ._quota import Quota
from .backends._base import Backend, Bucket, BucketSettings, Lease, LimiterStatus
from .backends.memory import MemoryBackend


class RateLimiter:
    """The rate-limit scheduler: one quota per API key, shared by every client given it.

    Every request waits here for a permit before it is sent, and its response resyncs the
    quota from the ``X-RateLimit-*`` headers. Pass one instance to several clients to share a
    quota; pass ``backend=RedisBackend(...)`` to share it across processes and hosts.

    Args:
        quota: the plan (``Quota.PROFESSIONAL``...). None: learned from the first response
            (one probe request, then full speed). Also a cap on the server's numbers.
        backend: where the state lives (default: this process).
        pacing: ``"burst"`` (default) or ``"smooth"`` (spread the remaining permits evenly
            until the reset).
        max_in_flight: at most this many requests of one key in flight at once.
        reserve: fraction of each window only callers with ``priority >= reserve_priority``
            may use (keeps interactive calls from being starved by batch jobs).
        reserve_priority: the priority that may use the reserve.
        max_wait: default deadline for :meth:`acquire` (None: wait as long as it takes).
        clock: injectable clock (tests).

    Example::

        limiter = RateLimiter(Quota.PROFESSIONAL, reserve=0.1)
        async with AsyncAltaBots(limiter=limiter) as a, AsyncAltaBots(limiter=limiter) as b:
            ...
    """

    def __init__(
        self,
        quota: Quota | None = None,
        *,
        backend: Backend | None = None,
        pacing: Pacing | str = Pacing.BURST,
        max_in_flight: int | None = None,
        reserve: float = 0.0,
        reserve_priority: int = 1,
        max_wait: float | None = None,
        probe: bool = True,
        clock: Clock | None = None,
    ) -> None:
        if quota is not None and not isinstance(quota, Quota):
            raise TypeError("quota must be a Quota")
        if max_wait is not None and (not math.isfinite(max_wait) or max_wait < 0):
            raise ValueError("max_wait must be a finite number >= 0")
        self.settings = BucketSettings(
            quota=quota,
            pacing=Pacing(pacing),
            max_in_flight=max_in_flight,
            reserve=reserve,
            reserve_priority=reserve_priority,
            probe=probe,
        )
        Core(
            quota=quota, max_in_flight=max_in_flight, reserve=reserve
        )  # validate the settings now, not on first use
        self.max_wait = max_wait
        self.clock: Clock = clock or SystemClock()
        self.backend: Backend = backend if backend is not None else MemoryBackend(self.clock)

    @property
    def quota(self) -> Quota | None:
        """The configured quota (None: learned from the server)."""
        return self.settings.quota

    def bucket(self, key_id: str = "default") -> Bucket:
        """The bucket of one quota (one API key id)."""
        return self.backend.bucket(key_id, self.settings)

    async def acquire(
        self, key_id: str = "default", *, priority: int = 0, max_wait: float | None = None
    ) -> Lease:
        """Wait for a permit for ``key_id``; settle the returned lease exactly once.

        Raises:
            QuotaExhaustedError: at once, when the quota cannot serve the call within
                ``max_wait`` (or the limiter's default); nothing is consumed.
        """
        wait = self.max_wait if max_wait is None else max_wait
        return await self.bucket(key_id).acquire(priority=priority, max_wait=wait)

    def status(self, key_id: str = "default") -> LimiterStatus:
        """A snapshot of one bucket: limit, remaining, reset, queued, in flight, counters."""
        return self.bucket(key_id).status()

    async def aclose(self) -> None:
        """Close the backend."""
        await self.backend.aclose()

    def __repr__(self) -> str:
        return f"RateLimiter(quota={self.settings.quota!r}, backend={self.backend!r})"
