"""The in-memory backend (default): the pure core driven by anyio, buckets in this process.

One timer, no background task: among the queued callers exactly one is the *timekeeper*; it
sleeps until the core's next wake-up (a reset, the end of a freeze, a smooth-pacing slot, a
deadline) and then pumps the core. Everyone else sleeps on its own event until it is granted,
rejected, or handed the timekeeper role. Responses pump the core synchronously, so a permit
that comes back is handed on at once. All bookkeeping on cancellation is synchronous, so a
cancelled caller takes nothing and leaves nothing behind.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import anyio
import attrs

from ..._exceptions import QuotaExhaustedError
from .._clock import Clock, SystemClock
from .._core import Core, Observation, Permit, Waiter
from .._headers import RateLimitHeaders, ServerClock, parse_rate_limit_headers
from .._parker import new_parker
from ._base import BucketSettings, Lease, LimiterStatus

__all__ = ["MemoryBackend", "MemoryBucket", "MemoryLease"]

logger = logging.getLogger("altabots_async.ratelimit")

_RETRY_STATUSES = frozenset({429, 503})


class MemoryBucket:
    """An in-process bucket: the pure :class:`Core` driven by anyio events."""

    def __init__(self, key_id: str, settings: BucketSettings, clock: Clock) -> None:
        self.key_id = key_id
        self.settings = settings
        self.clock = clock
        self.core = Core(
            quota=settings.quota,
            pacing=settings.pacing,
            max_in_flight=settings.max_in_flight,
            reserve=settings.reserve,
            reserve_priority=settings.reserve_priority,
            probe=settings.probe,
        )
        self.server_clock = ServerClock()
        self.retries = 0
        self._timekeeper: Waiter | None = None
        self._tk_wake: float = math.inf
        self._logged: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        core = self.core
        now = self.clock.monotonic()
        return (
            f"<MemoryBucket key={self.key_id[:8]} remaining={core.available(now)} "
            f"limit={core.limit} queued={core.queued} in_flight={len(core.in_flight)} "
            f"next_wakeup={core.next_wakeup(now)}>"
        )

    # ------------------------------------------------------------------ waiting

    async def acquire(self, *, priority: int = 0, max_wait: float | None = None) -> Lease:
        """Wait for a permit; see :meth:`RateLimiter.acquire`."""
        core = self.core
        now = self.clock.monotonic()
        permit = core.try_grant(now, priority)
        if permit is not None:
            return MemoryLease(self, permit)
        deadline = None if max_wait is None else now + max(0.0, max_wait)
        decision = core.acquire(now, priority, deadline)
        if decision.permit is not None:
            return MemoryLease(self, decision.permit)
        if decision.waiter is None:
            raise self._exhausted(decision.rejected_until, now)
        waiter = decision.waiter
        waiter.token = new_parker()
        if self._timekeeper is None:
            self._timekeeper = waiter
            self._tk_wake = math.inf
        elif deadline is not None and deadline < self._tk_wake:
            self._nudge()
        try:
            while True:
                if waiter is self._timekeeper:
                    wake = core.next_wakeup(now)
                    self._tk_wake = math.inf if wake is None else wake
                    with anyio.move_on_after(max(0.0, self._tk_wake - now)):
                        await waiter.token.wait()
                else:
                    await waiter.token.wait()
                now = self.clock.monotonic()
                if waiter.state == "queued":
                    waiter.token = new_parker()
                    self._pump(now)
                if waiter.state == "granted":
                    assert waiter.permit is not None
                    self._leave(waiter, now)
                    return MemoryLease(self, waiter.permit)
                if waiter.state == "rejected":
                    self._leave(waiter, now)
                    raise self._exhausted(waiter.rejected_until, now)
        except BaseException:
            if waiter.state in ("queued", "granted"):
                core.cancel(waiter, self.clock.monotonic())
            self._leave(waiter, self.clock.monotonic())
            raise

    def _exhausted(self, until: float | None, now: float) -> QuotaExhaustedError:
        offset = self.clock.wall() - now
        if until is None or not math.isfinite(until):
            return QuotaExhaustedError(
                "the quota cannot serve this call within max_wait", reset_at=None, retry_after=None
            )
        wait = max(0.0, until - now)
        return QuotaExhaustedError(
            f"the quota cannot serve this call within max_wait (capacity in {wait:.3f} s)",
            reset_at=until + offset,
            retry_after=wait,
        )

    def _leave(self, waiter: Waiter, now: float) -> None:
        """A waiter is done (granted, rejected or cancelled): hand the timer on, pump."""
        if waiter is self._timekeeper:
            self._timekeeper = None
            self._tk_wake = math.inf
        self._pump(now)

    def _nudge(self) -> None:
        tk = self._timekeeper
        if tk is not None and tk.token is not None:
            tk.token.set()

    def _pump(self, now: float) -> None:
        core = self.core
        if not core.queued and self._timekeeper is None and not core._heap and not core._deadlines:
            return  # nobody waits: pumping would change nothing (the uncontended fast path)
        granted, rejected = core.pump(now)
        for waiter in granted:
            waiter.token.set()
        for waiter in rejected:
            waiter.token.set()
        tk = self._timekeeper
        if tk is not None and tk.state != "queued":
            self._timekeeper = tk = None
        if core.queued == 0:
            return
        if tk is None:
            head = core._head()
            if head is not None:
                self._timekeeper = head
                self._tk_wake = -math.inf
                head.token.set()
            return
        wake = core.next_wakeup(now)
        if wake is not None and wake < self._tk_wake:
            self._nudge()

    # ------------------------------------------------------------------ settling

    def _observation(self, permit: Permit, status: int, parsed: RateLimitHeaders) -> Observation:
        core = self.core
        now = self.clock.monotonic()
        wall_minus_mono = self.clock.wall() - now
        self.server_clock.learn(
            date=parsed.date,
            reset_epoch=parsed.reset_epoch,
            period=self.core.period if self.core.period_exact else None,
            sent_mono=permit.granted_at,
            received_mono=now,
            previous_window=core.window_key if core.window_key is not None else core.stale_key,
        )
        offset = self.server_clock.offset(wall_minus_mono)
        reset_at = None
        if parsed.reset_epoch is not None:
            reset_at = parsed.reset_epoch - offset
        elif parsed.reset_delta is not None:
            reset_at = now + parsed.reset_delta
        retry_at = None
        if status in _RETRY_STATUSES:
            if parsed.retry_after is not None:
                retry_at = now + parsed.retry_after
            elif parsed.retry_after_epoch is not None:
                retry_at = parsed.retry_after_epoch - offset
        return Observation(
            status=status,
            limit=parsed.limit,
            remaining=parsed.remaining,
            reset_at=reset_at,
            retry_at=retry_at,
            window=parsed.reset_epoch,
        )

    def _log_problems(self, parsed: RateLimitHeaders) -> None:
        for problem in parsed.problems:
            if problem not in self._logged and len(self._logged) < 64:
                self._logged.add(problem)
                logger.debug("ignoring rate-limit header %s: %s", problem[0], problem[1])

    def observe(self, permit: Permit, status: int, headers: Mapping[str, str]) -> RateLimitHeaders:
        """Feed one response into the bucket; pump the queue."""
        parsed = parse_rate_limit_headers(headers)
        if parsed.problems:
            self._log_problems(parsed)
        obs = self._observation(permit, status, parsed)
        now = self.clock.monotonic()
        self.core.observe(permit, obs, now)
        if status == 429 and logger.isEnabledFor(logging.DEBUG):
            logger.debug("429 received: every caller of this key pauses until its reset")
        self._pump(now)
        return parsed

    def settle(self, permit: Permit, *, sent: bool) -> None:
        """End a permit without a response: refunded (never sent) or unknown (maybe sent)."""
        now = self.clock.monotonic()
        if sent:
            self.core.settle_unknown(permit, now)
        else:
            self.core.refund(permit, now)
        self._pump(now)

    def record_retry(self) -> None:
        """Count one transparent retry."""
        self.retries += 1

    def status(self) -> LimiterStatus:
        """A snapshot; see :class:`LimiterStatus`."""
        core = self.core
        now = self.clock.monotonic()
        remaining = core.available(now)
        reset_at = reset_in = None
        if core.reset_at is not None:
            reset_in = max(0.0, core.reset_at - now)
            reset_at = self.clock.wall() + reset_in
        stats = core.stats
        return LimiterStatus(
            limit=core.limit,
            remaining=remaining,
            reset_at=reset_at,
            reset_in=reset_in,
            frozen_for=max(0.0, core.frozen_until - now),
            queued=core.queued,
            in_flight=len(core.in_flight),
            granted=stats.granted,
            waited=stats.waited,
            rejected=stats.rejected,
            refunded=stats.refunded,
            cancelled=stats.cancelled,
            throttled=stats.throttled,
            retries=self.retries,
        )


@attrs.define(eq=False)
class MemoryLease:
    """A permit of a :class:`MemoryBucket`."""

    bucket: MemoryBucket
    permit: Permit

    @property
    def priority(self) -> int:
        """The priority it was granted at."""
        return self.permit.priority

    async def observe(self, status_code: int, headers: Mapping[str, str]) -> RateLimitHeaders:
        """A response came back."""
        return self.bucket.observe(self.permit, status_code, headers)

    async def refund(self) -> None:
        """Never sent: the slot goes back."""
        self.bucket.settle(self.permit, sent=False)

    async def settle_unknown(self) -> None:
        """Maybe processed, nothing learned: the slot stays spent until the server says more."""
        self.bucket.settle(self.permit, sent=True)


class MemoryBackend:
    """The default backend: buckets live in this process (and this event loop)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._buckets: dict[str, MemoryBucket] = {}

    def bucket(self, key_id: str, settings: BucketSettings) -> MemoryBucket:
        """The bucket of one quota, created on first use."""
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = MemoryBucket(key_id, settings, self.clock)
        return bucket

    async def aclose(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"MemoryBackend(buckets={len(self._buckets)})"
