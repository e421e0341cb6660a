"""The backend protocol: where a quota's shared state lives.

A backend hands out one :class:`Bucket` per quota (per API key id). A bucket queues callers
(priority, FIFO, deadlines, cancellation) and grants :class:`Lease` objects; every lease is
settled exactly once: ``observe`` (a response came back), ``refund`` (never sent) or
``settle_unknown`` (maybe processed, nothing learned).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import attrs

from .._core import Pacing
from .._headers import RateLimitHeaders
from .._quota import Quota


@attrs.frozen
class BucketSettings:
    """How one bucket behaves (copied from the :class:`RateLimiter`)."""

    quota: Quota | None = None
    pacing: Pacing = Pacing.BURST
    max_in_flight: int | None = None
    reserve: float = 0.0
    reserve_priority: int = 1
    probe: bool = True


@attrs.frozen
class LimiterStatus:
    """A snapshot of one bucket, for dashboards, logs and tests.

    Attributes:
        limit: the window's limit, if known.
        remaining: permits we may still send in this window (our safe estimate).
        reset_at: Unix time (our wall clock) of the window's reset, if known.
        reset_in: seconds until then.
        frozen_for: seconds left of a 429 freeze (0 when not frozen).
        queued, in_flight: callers waiting, requests granted and not yet answered.
        granted, waited, rejected, refunded, cancelled, throttled, retries: counters.
    """

    limit: int | None
    remaining: int | None
    reset_at: float | None
    reset_in: float | None
    frozen_for: float
    queued: int
    in_flight: int
    granted: int
    waited: int
    rejected: int
    refunded: int
    cancelled: int
    throttled: int
    retries: int


class Lease(Protocol):
    """One granted permit. Settle it exactly once."""

    @property
    def priority(self) -> int:
        """The priority it was granted at."""
        ...

    async def observe(self, status_code: int, headers: Mapping[str, str]) -> RateLimitHeaders:
        """A response came back: resync the bucket from its headers; returns what was parsed."""
        ...

    async def refund(self) -> None:
        """The request was never sent: give the slot back."""
        ...

    async def settle_unknown(self) -> None:
        """The request may have reached the server, but no response was read."""
        ...


class Bucket(Protocol):
    """The queue and state of one quota."""

    async def acquire(self, *, priority: int = 0, max_wait: float | None = None) -> Lease:
        """Wait for a permit (higher priority first); QuotaExhaustedError past ``max_wait``."""
        ...

    def status(self) -> LimiterStatus:
        """A snapshot of the bucket."""
        ...

    def record_retry(self) -> None:
        """Count one transparent retry (for the status counters)."""
        ...


class Backend(Protocol):
    """Where buckets live: in this process (memory) or shared (Redis)."""

    def bucket(self, key_id: str, settings: BucketSettings) -> Bucket:
        """The bucket for one quota, created on first use."""
        ...

    async def aclose(self) -> None:
        """Release what the backend opened."""
        ...
