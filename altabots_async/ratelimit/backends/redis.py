"""The Redis backend: one quota shared by every process and host that uses the same API key.

Install with the ``redis`` extra (``altabots-async[redis]``); built on ``redis.asyncio``, so
it runs on asyncio only. Needs Redis 6.2 or later (``ZMSCORE``); Redis Cluster ready.

How it works
------------
* **Shared state, one script.** The quota's state mirrors the pure core (limit, ``r_min``,
  pending permits, window key, reset, freeze, probe; see ``_core.py``) and lives in four
  Redis keys. Every change is one call of a constant Lua script (``EVALSHA``, reloaded after
  ``NOSCRIPT``) that reads time from Redis ``TIME`` only.
* **Local queue, shared decision.** Each process queues its callers locally (higher priority
  first, FIFO, deadlines, cancellation) and one driver task per bucket talks to Redis: each
  round trip carries every settlement that came in meanwhile *and* asks for as many permits
  as there are local waiters (up to ``batch``), so under load a round trip serves many
  permits. Permits granted for a caller that has gone are returned in the next round trip.
* **Leases.** A granted permit is a lease in a sorted set scored by its expiry; the driver
  extends this process's leases every ``heartbeat`` seconds. A process killed with SIGKILL
  stops extending them; within ``lease_ttl`` (+ one heartbeat) the next script call turns
  them into "ended without information" (the requests may have been sent, so they stay
  counted until the server's headers reflect them, exactly as in the in-memory core).
* **Keys.** ``{prefix}:{<id>}:s|l|d|w`` where ``<id>`` is a domain-separated SHA-256 of the
  bucket id (an HMAC-SHA-256 when ``secret`` is given), never the API key; the braces are a
  hash tag, so one quota's keys share a Redis Cluster slot. Every key has a TTL.
* **Cost.** Per round trip: the script's fixed work (``TIME``, ``HGETALL``, ``HSET``,
  ``PEXPIRE``...) plus a few variadic commands for the whole batch; measured with 4
  processes: 0.06 round trips and under 1 Redis command (script internals included) per
  permit (``benchmarks/bench_redis.py``).
* **Reset estimates.** Each response's reset is converted by its own process's skew
  estimate, which is never early; the script keeps the smallest estimate of a window
  (the in-memory core keeps the largest, which trails by the worst of them).
* **Restart / flush.** A missing state hash starts a new incarnation (its sequence numbers
  start above every earlier one). A process whose last call saw another incarnation is
  told so instead of being served; it re-registers its requests still in flight, then
  settles. The new state probes (one request at a time, none while re-registered requests
  are in flight) until the next response's headers resync it.
* **Failure policy.** A Redis call that fails or takes longer than ``timeout`` makes the
  bucket unavailable for ``retry_interval`` seconds; then the next caller tries again
  (reconnection is automatic). ``on_unavailable="fail_closed"`` (default) raises
  :class:`~altabots_async.BackendUnavailableError`; ``"local_fallback"`` admits callers
  through an in-memory scheduler holding ``fallback_share`` of the quota (a sliding log of
  ``floor(share * limit)`` per period; with no known limit, one request at a time). Each
  transition is logged once at WARNING.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import hmac
import itertools
import logging
import math
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

import attrs

from ..._exceptions import BackendUnavailableError, QuotaExhaustedError
from .._clock import Clock, SystemClock
from .._headers import RateLimitHeaders, ServerClock, parse_rate_limit_headers
from .._quota import Quota
from ._base import BucketSettings, Lease, LimiterStatus
from ._redis_scripts import SYNC
from .memory import MemoryBucket, MemoryLease

__all__ = ["RedisBackend", "RedisBucket", "RedisLease"]

logger = logging.getLogger("altabots_async.ratelimit.redis")

Policy = Literal["fail_closed", "local_fallback"]

_DOMAIN: Final = b"altabots-async/redis/v1\x00"
_RETRY_STATUSES: Final = frozenset({429, 503})
_MAX_SETTLEMENTS: Final = 512  # per round trip
_MAX_HEARTBEAT: Final = 2048
_SHARED: Final = "shared"
_DOWN: Final = "down"
_RATE_HEADERS: Final = frozenset({"x-ratelimit-limit", "x-ratelimit-remaining"})


class _Fallback:
    """Marker: the shared backend is down and the policy says to go local."""


_FALLBACK: Final = _Fallback()


def _mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable redis url>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _ms(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return ""
    return str(round(min(max(seconds, -1e7), 1e8) * 1000))


@attrs.define(eq=False, slots=True)
class _Waiter:
    priority: int
    arrival: int
    deadline: float | None
    future: asyncio.Future[Any]
    state: str = "queued"  # queued | granted | rejected | cancelled | unavailable
    lease: RedisLease | None = None

    def __lt__(self, other: _Waiter) -> bool:
        return (-self.priority, self.arrival) < (-other.priority, other.arrival)


@attrs.define(eq=False, slots=True)
class _Settlement:
    fields: tuple[str, ...]
    future: asyncio.Future[None]


@attrs.define(slots=True)
class _Shared:
    """The last reply of the script, on our monotonic clock."""

    known: bool = False
    available: int | None = None
    limit: int | None = None
    period: float | None = None
    reset_at: float | None = None
    frozen_until: float = -math.inf
    synced: bool = False
    leases: int = 0
    done: int = 0


class RedisLease:
    """A permit of a :class:`RedisBucket` (a lease in Redis). Settle it exactly once."""

    __slots__ = ("_bucket", "_priority", "_settled", "granted_at", "seq")

    def __init__(self, bucket: RedisBucket, seq: int, priority: int, granted_at: float) -> None:
        self._bucket = bucket
        self.seq = seq
        self._priority = priority
        self.granted_at = granted_at
        self._settled = False

    @property
    def priority(self) -> int:
        """The priority it was granted at."""
        return self._priority

    def _take(self) -> bool:
        if self._settled:
            return False
        self._settled = True
        return True

    async def observe(self, status_code: int, headers: Mapping[str, str]) -> RateLimitHeaders:
        """A response came back: resync the shared state from its headers."""
        parsed = parse_rate_limit_headers(headers)
        if self._take():
            fields = self._bucket._observation(self, status_code, parsed)
            await self._bucket._settle(self, fields)
        return parsed

    async def refund(self) -> None:
        """Never sent: the slot goes back."""
        if self._take():
            await self._bucket._settle(self, ("r", str(self.seq), "", "", "", "", "", ""))

    async def settle_unknown(self) -> None:
        """Maybe processed, nothing learned: it stays counted until the server says more."""
        if self._take():
            await self._bucket._settle(self, ("u", str(self.seq), "", "", "", "", "", ""))

    def __repr__(self) -> str:
        return f"<RedisLease seq={self.seq} priority={self._priority} settled={self._settled}>"


@attrs.define(eq=False)
class _FallbackLease:
    """A permit of the local fallback share; headers never raise the share."""

    inner: MemoryLease
    bucket: RedisBucket
    settled: bool = False

    def _take(self) -> bool:
        if self.settled:
            return False
        self.settled = True
        self.bucket._fallback_in_flight -= 1
        return True

    @property
    def priority(self) -> int:
        """The priority it was granted at."""
        return self.inner.priority

    async def observe(self, status_code: int, headers: Mapping[str, str]) -> RateLimitHeaders:
        """A response came back: only its freeze information reaches the local share."""
        if self._take():
            kept = {k: v for k, v in headers.items() if k.lower() not in _RATE_HEADERS}
            await self.inner.observe(status_code, kept)
        return parse_rate_limit_headers(headers)

    async def refund(self) -> None:
        """Never sent."""
        if self._take():
            await self.inner.refund()

    async def settle_unknown(self) -> None:
        """Maybe sent."""
        if self._take():
            await self.inner.settle_unknown()


class RedisBucket:
    """One quota shared through Redis, with this process's local queue in front of it."""

    def __init__(self, backend: RedisBackend, bucket_id: str, settings: BucketSettings) -> None:
        self.backend = backend
        self.settings = settings
        self.clock: Clock = backend.clock
        self.id = bucket_id
        tag = f"{backend.prefix}:{{{bucket_id}}}"
        self.keys: tuple[str, str, str, str] = (f"{tag}:s", f"{tag}:l", f"{tag}:d", f"{tag}:w")
        quota = settings.quota
        self._static_args: tuple[str, ...] = (
            str(round(backend.lease_ttl * 1000)),
            "" if quota is None else str(quota.limit),
            "" if quota is None else str(round(quota.period_seconds * 1000)),
            "1" if settings.probe else "0",
            repr(settings.reserve),
            "" if settings.max_in_flight is None else str(settings.max_in_flight),
            "1" if settings.pacing.value == "smooth" else "0",
        )
        # More Date samples than the default: in a burst the last few share one whole second,
        # and the reset estimate would trail by up to a second (a lost share of each window).
        self.server_clock = ServerClock(window=32)
        self.shared = _Shared()
        self._heap: list[_Waiter] = []
        self._deadlines: list[tuple[float, int, _Waiter]] = []
        self._live: dict[int, int] = {}
        self._queued = 0
        self._arrival = itertools.count(1)
        self._outbox: list[_Settlement] = []
        self._leases: dict[int, RedisLease] = {}
        self._wake = asyncio.Event()
        self._driver: asyncio.Task[None] | None = None
        self._starved = False
        self._closing = False
        self._base: int | None = None
        self._adopt: list[str] = []
        self._hb_due = 0.0
        self._mode = _SHARED
        self._retry_at = -math.inf
        self._fallback: MemoryBucket | None = None
        self._fallback_in_flight = 0
        self._logged_problems: set[tuple[str, str]] = set()
        self.retries = 0
        self.granted = 0
        self.waited = 0
        self.rejected = 0
        self.refunded = 0
        self.cancelled = 0
        self.throttled = 0
        self.round_trips = 0

    def __repr__(self) -> str:
        return (
            f"<RedisBucket id={self.id[:8]} mode={self._mode} queued={self._queued} "
            f"in_flight={len(self._leases)} remaining={self.shared.available}>"
        )

    # ------------------------------------------------------------------ local queue

    def _push(self, waiter: _Waiter) -> None:
        heapq.heappush(self._heap, waiter)
        if waiter.deadline is not None:
            heapq.heappush(self._deadlines, (waiter.deadline, waiter.arrival, waiter))
        self._live[waiter.priority] = self._live.get(waiter.priority, 0) + 1
        self._queued += 1

    def _unqueue(self, waiter: _Waiter, state: str) -> None:
        waiter.state = state
        self._queued -= 1
        count = self._live[waiter.priority] - 1
        if count:
            self._live[waiter.priority] = count
        else:
            del self._live[waiter.priority]
        if self._queued == 0:
            self._heap.clear()
            self._deadlines.clear()

    def _pop_head(self) -> _Waiter | None:
        heap = self._heap
        while heap:
            waiter = heapq.heappop(heap)
            if waiter.state == "queued":
                return waiter
        return None

    def _head(self) -> _Waiter | None:
        heap = self._heap
        while heap and heap[0].state != "queued":
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _reserve_count(self) -> int:
        limit = self.shared.limit
        if self.settings.reserve <= 0 or limit is None:
            return 0
        return math.ceil(self.settings.reserve * limit)

    def _estimate(self, now: float, priority: int) -> float:
        """Predicted grant time for a new waiter, from the last shared state we saw."""
        shared = self.shared
        start = max(now, shared.frozen_until)
        if not shared.known or shared.available is None:
            return start
        position = sum(c for p, c in self._live.items() if p >= priority) + 1
        low = priority < self.settings.reserve_priority
        reserve = self._reserve_count() if low else 0
        usable = shared.available - reserve
        if position <= max(0, usable):
            return start
        need = position - max(0, usable)
        per_window = (shared.limit or 0) - reserve
        if shared.synced and shared.reset_at is not None and per_window > 0:
            windows = math.ceil(need / per_window)
            if windows == 1:
                return max(start, shared.reset_at)
            period = shared.period if shared.period is not None else math.inf
            return max(start, shared.reset_at + (windows - 1) * period)
        return start

    def _exhausted(self, until: float | None, now: float) -> QuotaExhaustedError:
        if until is None or not math.isfinite(until):
            return QuotaExhaustedError(
                "the quota cannot serve this call within max_wait", reset_at=None, retry_after=None
            )
        wait = max(0.0, until - now)
        return QuotaExhaustedError(
            f"the quota cannot serve this call within max_wait (capacity in {wait:.3f} s)",
            reset_at=self.clock.wall() + wait,
            retry_after=wait,
        )

    def _resolve(self, waiter: _Waiter, state: str, result: Any) -> None:
        """Take a queued waiter out of the queue and hand it its result (lease or error)."""
        self._unqueue(waiter, state)
        if waiter.future.done():
            return
        if isinstance(result, BaseException):
            waiter.future.set_exception(result)
        else:
            waiter.future.set_result(result)

    # ------------------------------------------------------------------ acquiring

    async def acquire(self, *, priority: int = 0, max_wait: float | None = None) -> Lease:
        """Wait for a permit; see :meth:`RateLimiter.acquire`."""
        now = self.clock.monotonic()
        deadline = None if max_wait is None else now + max(0.0, max_wait)
        if self._mode != _SHARED and now < self._retry_at:
            return await self._unavailable(priority, deadline, now, None)
        if deadline is not None:
            eta = self._estimate(now, priority)
            if eta > deadline:
                self.rejected += 1
                raise self._exhausted(eta, now)
        loop = asyncio.get_running_loop()
        waiter = _Waiter(priority, next(self._arrival), deadline, loop.create_future())
        head = self._head()
        self._push(waiter)
        if not self._starved or head is None or priority > head.priority or deadline is not None:
            self._wake.set()
        self._ensure_driver()
        try:
            result = await waiter.future
        except BaseException:
            if waiter.state == "queued":
                self._unqueue(waiter, "cancelled")
                self.cancelled += 1
            elif waiter.state == "granted" and waiter.lease is not None:
                waiter.state = "cancelled"
                self.cancelled += 1
                lease = waiter.lease
                if lease._take():
                    self._enqueue_settlement(lease, ("r", str(lease.seq), "", "", "", "", "", ""))
            raise
        if isinstance(result, _Fallback):
            return await self._unavailable(priority, deadline, self.clock.monotonic(), None)
        assert isinstance(result, RedisLease)
        return result

    async def _unavailable(
        self, priority: int, deadline: float | None, now: float, cause: BaseException | None
    ) -> Lease:
        if self.backend.on_unavailable == "fail_closed":
            raise BackendUnavailableError(
                f"the Redis rate-limit backend at {self.backend.location} is unavailable "
                "(on_unavailable='fail_closed')"
            ) from cause
        bucket = self._fallback_bucket()
        max_wait = None if deadline is None else max(0.0, deadline - now)
        inner = await bucket.acquire(priority=priority, max_wait=max_wait)
        assert isinstance(inner, MemoryLease)
        self._fallback_in_flight += 1
        return _FallbackLease(inner, self)

    def _fallback_bucket(self) -> MemoryBucket:
        if self._fallback is None:
            shared, quota = self.shared, self.settings.quota
            limit = shared.limit if shared.limit is not None else (quota and quota.limit)
            period = shared.period if shared.period is not None else None
            if period is None and quota is not None:
                period = quota.period_seconds
            share: Quota | None = None
            max_in_flight = self.settings.max_in_flight
            if limit and period:
                share = Quota(max(1, math.floor(self.backend.fallback_share * limit)), period)
            else:
                max_in_flight = 1
            settings = BucketSettings(
                quota=share,
                pacing=self.settings.pacing,
                max_in_flight=max_in_flight,
                reserve=self.settings.reserve,
                reserve_priority=self.settings.reserve_priority,
                probe=False,
            )
            self._fallback = MemoryBucket(f"{self.id}-fallback", settings, self.clock)
        return self._fallback

    def _ensure_driver(self) -> None:
        if self._driver is None or self._driver.done():
            self._driver = asyncio.get_running_loop().create_task(
                self._drive(), name=f"altabots-redis-{self.id[:8]}"
            )

    # ------------------------------------------------------------------ settling

    def _observation(
        self, lease: RedisLease, status: int, parsed: RateLimitHeaders
    ) -> tuple[str, ...]:
        """The settlement fields of one response (durations, never our timestamps)."""
        for problem in parsed.problems:
            if problem not in self._logged_problems and len(self._logged_problems) < 64:
                self._logged_problems.add(problem)
                logger.debug("ignoring rate-limit header %s: %s", problem[0], problem[1])
        now = self.clock.monotonic()
        self.server_clock.learn(
            date=parsed.date,
            reset_epoch=parsed.reset_epoch,
            period=self.shared.period,
            sent_mono=lease.granted_at,
            received_mono=now,
        )
        offset = self.server_clock.offset(self.clock.wall() - now)
        reset_in = None
        if parsed.reset_epoch is not None:
            reset_in = parsed.reset_epoch - offset - now
        elif parsed.reset_delta is not None:
            reset_in = parsed.reset_delta
        retry_in = None
        if status in _RETRY_STATUSES:
            if parsed.retry_after is not None:
                retry_in = parsed.retry_after
            elif parsed.retry_after_epoch is not None:
                retry_in = parsed.retry_after_epoch - offset - now
        if status == 429:
            self.throttled += 1
        window = "" if parsed.reset_epoch is None else f"{parsed.reset_epoch:.3f}"
        return (
            "o",
            str(lease.seq),
            str(status),
            "" if parsed.limit is None else str(parsed.limit),
            "" if parsed.remaining is None else str(parsed.remaining),
            _ms(reset_in),
            window,
            _ms(retry_in),
        )

    def _enqueue_settlement(self, lease: RedisLease, fields: tuple[str, ...]) -> _Settlement:
        self._leases.pop(lease.seq, None)
        if fields[0] == "r":
            self.refunded += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        settlement = _Settlement(fields, future)
        self._outbox.append(settlement)
        self._wake.set()
        self._ensure_driver()
        return settlement

    async def _settle(self, lease: RedisLease, fields: tuple[str, ...]) -> None:
        """Queue a settlement for the next round trip and wait (bounded) until it is applied.

        Never raises for Redis trouble: an unapplied settlement only leaves a lease that
        expires by itself. Cancelling the caller does not withdraw it.
        """
        if self._mode != _SHARED:
            self._leases.pop(lease.seq, None)
            return
        settlement = self._enqueue_settlement(lease, fields)
        await asyncio.wait({settlement.future}, timeout=self.backend.timeout * 2 + 0.1)

    def record_retry(self) -> None:
        """Count one transparent retry."""
        self.retries += 1

    # ------------------------------------------------------------------ the driver

    async def _drive(self) -> None:
        """The one task per bucket that talks to Redis (callers never do, so a cancelled
        caller never leaves a half-read connection behind)."""
        task = asyncio.current_task()
        while not self._closing:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:  # pragma: no cover - a bug: keep the queue alive, loudly
                logger.exception("the Redis rate-limit driver failed; retrying")
                await asyncio.sleep(self.backend.retry_interval)
            # asyncio.timeout (3.11) can swallow a cancellation that lands as it expires
            if task is not None and task.cancelling():
                raise asyncio.CancelledError

    def _reject_deadlines(self, now: float, *, by_estimate: bool) -> float | None:
        """Reject waiters past their deadline (or, after a refusal, predicted to miss it)."""
        deadlines = self._deadlines
        while deadlines and (deadlines[0][2].state != "queued" or deadlines[0][0] <= now):
            _, _, waiter = heapq.heappop(deadlines)
            if waiter.state == "queued":
                self.rejected += 1
                eta = self._estimate(now, waiter.priority)
                self._resolve(waiter, "rejected", self._exhausted(eta, now))
        if by_estimate and deadlines:
            for deadline, _, waiter in list(deadlines):
                if waiter.state == "queued" and self._estimate(now, waiter.priority) > deadline:
                    self.rejected += 1
                    eta = self._estimate(now, waiter.priority)
                    self._resolve(waiter, "rejected", self._exhausted(eta, now))
        return deadlines[0][0] if deadlines else None

    async def _step(self) -> None:
        backend = self.backend
        now = self.clock.monotonic()
        # Deadlines are checked after a round trip, not before: a caller with max_wait=0
        # still gets the permits that are there.
        if self._mode != _SHARED and now < self._retry_at:
            self._fail_waiters(None)
            for settlement in self._outbox:
                if not settlement.future.done():
                    settlement.future.set_result(None)
            self._outbox.clear()
        hb_due = bool(self._leases) and now >= self._hb_due
        if not self._outbox and not self._queued and not hb_due and not self._adopt:
            self._wake.clear()
            timeout = None
            if self._leases:
                timeout = max(0.0, self._hb_due - now)
            await self._sleep(timeout)
            return
        self._wake.clear()
        settlements = self._outbox[:_MAX_SETTLEMENTS]
        del self._outbox[: len(settlements)]
        want = min(self._queued, backend.batch)
        high = sum(c for p, c in self._live.items() if p >= self.settings.reserve_priority)
        n_high = min(want, high)
        adopt, self._adopt = self._adopt, []
        heartbeat: list[str] = []
        if hb_due:
            heartbeat = [str(seq) for seq in itertools.islice(self._leases, _MAX_HEARTBEAT)]
            self._hb_due = now + backend.heartbeat
        args: list[str] = [
            *self._static_args,
            str(n_high),
            str(want - n_high),
            str(len(settlements)),
            str(len(heartbeat)),
            str(len(adopt)),
            "" if self._base is None else str(self._base),
        ]
        for settlement in settlements:
            args.extend(settlement.fields)
        args.extend(heartbeat)
        args.extend(adopt)
        try:
            reply = await backend._call(self.keys, args)
        except BaseException as exc:
            for settlement in settlements:
                if not settlement.future.done():
                    settlement.future.set_result(None)
            if isinstance(exc, asyncio.CancelledError):
                raise
            self._on_failure(exc)
            return
        self.round_trips += 1
        base = int(reply[2])
        if int(reply[13]) == 1:
            # Redis lost the state (restart, flush, expiry): first re-register our requests
            # still in flight, then send the settlements again.
            self._adopt = [str(seq) for seq in self._leases if seq < base]
            self._base = base
            self._outbox[:0] = settlements
            self._wake.set()
            return
        for settlement in settlements:
            if not settlement.future.done():
                settlement.future.set_result(None)
        if self._mode != _SHARED:
            self._mode = _SHARED
            logger.warning(
                "Redis rate-limit backend at %s is reachable again: the shared quota resumes",
                backend.location,
            )
        now = self.clock.monotonic()
        self._apply(reply, now)
        self._base = base
        granted, first = int(reply[0]), int(reply[1])
        for seq in range(first, first + granted):
            waiter = self._pop_head()
            if waiter is None:  # its caller left while we asked: return the permit
                lease = RedisLease(self, seq, 0, now)
                lease._settled = True
                self._enqueue_settlement(lease, ("r", str(seq), "", "", "", "", "", ""))
                continue
            lease = RedisLease(self, seq, waiter.priority, now)
            self._leases[seq] = lease
            if len(self._leases) == 1:
                self._hb_due = now + backend.heartbeat
            waiter.lease = lease
            self.granted += 1
            if self._starved:
                self.waited += 1
            self._resolve(waiter, "granted", lease)
        self._starved = granted < want
        if not self._starved or self._outbox:
            return
        # Refused: sleep until something may have changed.
        next_deadline = self._reject_deadlines(now, by_estimate=True)
        wait_ms, poll = int(reply[7]), int(reply[8])
        timeout = backend.heartbeat if wait_ms < 0 else wait_ms / 1000.0 + 0.001
        if poll:
            timeout = min(timeout, backend.poll_interval)
        if next_deadline is not None:
            timeout = min(timeout, max(0.0, next_deadline - now))
        if self._leases:
            timeout = min(timeout, max(0.0, self._hb_due - now))
        if self._queued:
            await self._sleep(timeout)

    async def _sleep(self, seconds: float | None) -> None:
        if self._wake.is_set():
            return
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass

    def _apply(self, reply: list[Any], now: float) -> None:
        shared = self.shared
        shared.known = True
        avail = int(reply[3])
        shared.available = None if avail < 0 else avail
        limit = int(reply[4])
        shared.limit = None if limit < 0 else limit
        reset_in = int(reply[5])
        shared.reset_at = None if reset_in < 0 else now + reset_in / 1000.0
        frozen_in = int(reply[6])
        shared.frozen_until = now + frozen_in / 1000.0 if frozen_in > 0 else -math.inf
        shared.synced = int(reply[9]) == 1
        shared.leases = int(reply[10])
        shared.done = int(reply[11])
        period = int(reply[12])
        shared.period = None if period < 0 else period / 1000.0

    def _on_failure(self, exc: BaseException) -> None:
        backend = self.backend
        if self._closing:
            return
        now = self.clock.monotonic()
        self._retry_at = now + backend.retry_interval
        self._starved = False
        if self._mode == _SHARED:
            self._mode = _DOWN
            action = (
                "failing closed (BackendUnavailableError)"
                if backend.on_unavailable == "fail_closed"
                else f"falling back to a local share of {backend.fallback_share:.0%} of the quota"
            )
            logger.warning(
                "Redis rate-limit backend at %s is unavailable (%s): %s; retrying in %.1f s",
                backend.location,
                type(exc).__name__,
                action,
                backend.retry_interval,
            )
            self._fallback = None  # rebuilt from what we know now
        # Leases of this process cannot be settled now: they expire in Redis by themselves.
        self._leases.clear()
        self._fail_waiters(exc)

    def _fail_waiters(self, cause: BaseException | None) -> None:
        if not self._queued:
            return
        policy = self.backend.on_unavailable
        while True:
            waiter = self._pop_head()
            if waiter is None:
                break
            if policy == "fail_closed":
                error = BackendUnavailableError(
                    f"the Redis rate-limit backend at {self.backend.location} is unavailable "
                    "(on_unavailable='fail_closed')"
                )
                error.__cause__ = cause
                self._resolve(waiter, "unavailable", error)
            else:
                self._resolve(waiter, "unavailable", _FALLBACK)

    async def aclose(self) -> None:
        """Stop the driver; pending settlements are flushed once, best effort."""
        self._closing = True
        self._wake.set()
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.cancel()
            try:
                await driver
            except asyncio.CancelledError:
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise
            except Exception:  # noqa: S110 - the driver's failure is already logged
                pass
        if self._outbox and self._mode == _SHARED:
            settlements, self._outbox = self._outbox, []
            args = [*self._static_args, "0", "0", str(len(settlements)), "0", "0", ""]
            for settlement in settlements:
                args.extend(settlement.fields)
            try:
                await self.backend._call(self.keys, args)
            except Exception as exc:
                logger.debug("could not flush settlements at close: %s", type(exc).__name__)
            for settlement in settlements:
                if not settlement.future.done():
                    settlement.future.set_result(None)
        self._fail_waiters(None)

    # ------------------------------------------------------------------ status

    def status(self) -> LimiterStatus:
        """A snapshot from this process's view of the shared state (no Redis call)."""
        shared = self.shared
        now = self.clock.monotonic()
        reset_at = reset_in = None
        if shared.reset_at is not None:
            reset_in = max(0.0, shared.reset_at - now)
            reset_at = self.clock.wall() + reset_in
        return LimiterStatus(
            limit=shared.limit,
            remaining=shared.available,
            reset_at=reset_at,
            reset_in=reset_in,
            frozen_for=max(0.0, shared.frozen_until - now),
            queued=self._queued,
            in_flight=len(self._leases) + self._fallback_in_flight,
            granted=self.granted,
            waited=self.waited,
            rejected=self.rejected,
            refunded=self.refunded,
            cancelled=self.cancelled,
            throttled=self.throttled,
            retries=self.retries,
        )

    @property
    def mode(self) -> str:
        """``"shared"`` or ``"down"`` (Redis unavailable: the policy decides)."""
        return self._mode


class RedisBackend:
    """Buckets shared through Redis by every process and host using the same API key.

    Args:
        url_or_client: a ``redis://`` / ``rediss://`` / ``unix://`` URL (the backend then
            opens, and closes, a ``BlockingConnectionPool``), or a caller-owned
            ``redis.asyncio.Redis`` (never closed by the backend).
        prefix: first part of every key name.
        lease_ttl: seconds a lease lives without a heartbeat (a crashed process's permits
            come back within ``lease_ttl + heartbeat``).
        heartbeat: seconds between extensions of this process's leases.
        timeout: seconds any Redis call may take before the backend counts as unavailable.
        on_unavailable: ``"fail_closed"`` (raise :class:`BackendUnavailableError`, the
            default: never silently unlimited) or ``"local_fallback"`` (admit through an
            in-memory scheduler holding ``fallback_share`` of the quota).
        fallback_share: fraction of the quota one process may use alone while Redis is
            unavailable (``floor(share * limit)`` per period; 1 / expected processes).
        secret: when given, key names use HMAC-SHA-256 with it instead of a plain hash.
        batch: most permits asked for in one round trip (one per queued caller).
        poll_interval: seconds between looks at the shared state while other processes'
            requests are in flight and may give capacity back.
        retry_interval: seconds after a failure before Redis is tried again.
        max_connections: size of the pool opened from a URL (callers wait when it is full).
        clock: injectable clock.

    Example::

        backend = RedisBackend.from_url("redis://localhost:6379/0")
        limiter = RateLimiter(Quota.PROFESSIONAL, backend=backend)
        async with AsyncAltaBots(limiter=limiter) as client:
            ...
        await backend.aclose()
    """

    def __init__(
        self,
        url_or_client: Any,
        *,
        prefix: str = "altabots",
        lease_ttl: float = 10.0,
        heartbeat: float = 2.0,
        timeout: float = 0.5,
        on_unavailable: Policy = "fail_closed",
        fallback_share: float = 0.25,
        secret: bytes | None = None,
        batch: int = 32,
        poll_interval: float = 0.025,
        retry_interval: float = 1.0,
        max_connections: int = 16,
        clock: Clock | None = None,
    ) -> None:
        if on_unavailable not in ("fail_closed", "local_fallback"):
            raise ValueError("on_unavailable must be 'fail_closed' or 'local_fallback'")
        if not 0.0 < fallback_share <= 1.0:
            raise ValueError("fallback_share must be in (0, 1]")
        if not (lease_ttl > 0 and heartbeat > 0 and timeout > 0):
            raise ValueError("lease_ttl, heartbeat and timeout must be > 0")
        if heartbeat >= lease_ttl:
            raise ValueError("heartbeat must be shorter than lease_ttl")
        if batch < 1:
            raise ValueError("batch must be >= 1")
        if not prefix or any(c in prefix for c in "{}"):
            raise ValueError("prefix must be non-empty and free of braces")
        if secret is not None and not isinstance(secret, bytes | bytearray):
            raise TypeError("secret must be bytes")
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.prefix = prefix
        self.lease_ttl = float(lease_ttl)
        self.heartbeat = float(heartbeat)
        self.timeout = float(timeout)
        self.on_unavailable: Policy = on_unavailable
        self.fallback_share = float(fallback_share)
        self.batch = batch
        self.poll_interval = float(poll_interval)
        self.retry_interval = float(retry_interval)
        self.clock: Clock = clock or SystemClock()
        self._secret = bytes(secret) if secret is not None else None
        self._buckets: dict[str, RedisBucket] = {}
        self._closed = False
        if isinstance(url_or_client, str):
            self.location = _mask_url(url_or_client)
            pool = BlockingConnectionPool.from_url(
                url_or_client,
                max_connections=max_connections,
                timeout=self.timeout,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
            )
            self.client: Any = Redis(connection_pool=pool)
            self._pool: Any = pool
            self._owned = True
        else:
            self.client = url_or_client
            self._pool = None
            self._owned = False
            their_pool = getattr(url_or_client, "connection_pool", None)
            kwargs = getattr(their_pool, "connection_kwargs", {})
            host, port, db = kwargs.get("host", "?"), kwargs.get("port", "?"), kwargs.get("db", 0)
            self.location = f"redis://{host}:{port}/{db}"
        self._script = self.client.register_script(SYNC)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisBackend:
        """A backend that opens (and closes) its own connection pool to ``url``."""
        return cls(url, **kwargs)

    def bucket_id(self, key_id: str) -> str:
        """The id used in key names: a hash of ``key_id`` (HMAC with ``secret``)."""
        data = key_id.encode("utf-8", "surrogatepass")
        if self._secret is not None:
            return hmac.new(self._secret, _DOMAIN + data, hashlib.sha256).hexdigest()[:32]
        return hashlib.sha256(_DOMAIN + data).hexdigest()[:32]

    def bucket(self, key_id: str, settings: BucketSettings) -> RedisBucket:
        """The bucket of one quota, created on first use."""
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = RedisBucket(self, self.bucket_id(key_id), settings)
            self._buckets[key_id] = bucket
        return bucket

    async def _call(self, keys: tuple[str, ...], args: list[str]) -> list[Any]:
        async with asyncio.timeout(self.timeout):
            reply = await self._script(keys=list(keys), args=args)
        assert isinstance(reply, list)
        return reply

    async def aclose(self) -> None:
        """Stop every bucket's driver; close the connection pool if the backend opened it."""
        if self._closed:
            return
        self._closed = True
        for bucket in list(self._buckets.values()):
            await bucket.aclose()
        if self._owned:
            await self.client.aclose()
            await self._pool.disconnect()

    def __repr__(self) -> str:
        return (
            f"RedisBackend({self.location!r}, prefix={self.prefix!r}, "
            f"on_unavailable={self.on_unavailable!r}, buckets={len(self._buckets)})"
        )
