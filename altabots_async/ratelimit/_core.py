"""The scheduler's pure core: state and ``now`` in, decisions out. No I/O, no clock, no anyio.

Theory of operation
-------------------
The server is the source of truth. Every response's rate-limit headers become an
``Observation`` (limit, remaining, the window's reset on our monotonic clock, a retry time).
Between responses we count locally.

Invariants (each one is tested):

1. **Never over the limit.** ``available = r_min - len(pending)`` where ``r_min`` is the lowest
   Remaining seen in the current server window and ``pending`` holds every permit that may
   consume quota but may not be reflected in ``r_min`` yet: permits granted after that
   observation, permits still in flight when it arrived, and permits that ended without
   information. A permit leaves ``pending`` only when we know it is reflected: its own
   response reported Remaining >= r_min (it was processed before the r_min request), or a
   later r_min came from a request granted after it completed.
2. **The whole quota is used.** As in-flight requests return, ``pending`` shrinks, so the
   estimate recovers to the exact server value; at the window's reset it refills to Limit.
3. **Permits are conserved.** ``granted = sent + refunded``; a refunded permit (never sent)
   gives its slot back; a sent one is spent even if its caller was cancelled.
4. **Priority order.** Higher priority first, FIFO within a priority (a heap keyed on
   ``(-priority, arrival)``); low priorities may not dip into the reserve.
5. **Freeze on 429.** A 429 freezes every grant until ``Retry-After`` / Reset: one shared
   back-off for every caller of the key.
6. **Deadlines fail fast.** A waiter whose predicted grant time is past its deadline is
   rejected at once; one that is still queued at its deadline is rejected then.
7. **Probe first.** Until the first response with quota information, one request at a time.

Where headers never come, a configured ``Quota`` is enforced by a sliding log (never more
than ``limit`` grants in any ``period``), which is safe whatever the server's window
alignment; with no quota either, only ``max_in_flight`` and 429 freezes apply.
"""

from __future__ import annotations

import contextlib
import heapq
import math
from collections import deque
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import attrs

from ._quota import Quota

__all__ = ["Core", "Decision", "Observation", "Pacing", "Permit", "Waiter"]

_KEY_TOLERANCE = 0.05  # seconds: two epoch-form resets this close name the same window


class Pacing(StrEnum):
    """``burst``: use permits as soon as they exist. ``smooth``: spread them until Reset."""

    BURST = "burst"
    SMOOTH = "smooth"


@attrs.frozen
class Observation:
    """One response, as the core sees it (times on our monotonic clock).

    Attributes:
        status: HTTP status, or 0 when the request failed without a response.
        limit, remaining: from the headers, or None.
        reset_at: monotonic time of the window's reset, or None.
        retry_at: monotonic time before which the server asks us not to retry (429/503).
        window: the reset as the server sent it in epoch form (server clock), which names
            the server's window exactly, free of our skew estimate's noise; None for
            delta-seconds resets.
    """

    status: int
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    retry_at: float | None = None
    window: float | None = None


@attrs.define(eq=False, slots=True)
class Permit:
    """The right to send one request. Returned by ``acquire``; settled exactly once."""

    seq: int
    granted_at: float
    priority: int
    done_mark: int = -1  # grant counter when it ended without information (-1: in flight)
    settled: bool = False
    log_time: float | None = None


@attrs.define(eq=False, slots=True)
class Waiter:
    """A queued request (pure data; the driver attaches its event as ``token``)."""

    priority: int
    deadline: float | None
    arrival: int
    token: Any = None
    state: str = "queued"  # queued | granted | cancelled | rejected
    permit: Permit | None = None
    rejected_until: float | None = None

    def __lt__(self, other: Waiter) -> bool:  # heap order
        return (-self.priority, self.arrival) < (-other.priority, other.arrival)


@attrs.frozen
class Decision:
    """Result of ``Core.acquire``: a permit now, a queued waiter, or a rejection."""

    permit: Permit | None = None
    waiter: Waiter | None = None
    rejected_until: float | None = None  # set when rejected: monotonic time capacity returns


@attrs.define
class Stats:
    """Counters since the core was created."""

    granted: int = 0
    waited: int = 0
    rejected: int = 0
    refunded: int = 0
    cancelled: int = 0
    throttled: int = 0
    observed: int = 0


@attrs.define
class Core:
    """The pure scheduler state machine for one quota (one API key).

    Every method takes ``now`` (monotonic seconds) and never reads a clock.
    """

    quota: Quota | None = None
    pacing: Pacing = Pacing.BURST
    max_in_flight: int | None = None
    reserve: float = 0.0
    reserve_priority: int = 1
    probe: bool = True

    # server-synced window
    limit: int | None = None
    period: float | None = None
    period_exact: bool = False  # configured, or learned from the server's window keys
    reset_at: float | None = None
    window_key: float | None = None
    stale_key: float | None = None
    r_min: int | None = None
    synced: bool = False
    no_headers: bool = False
    pending: dict[int, Permit] = attrs.field(factory=dict)
    in_flight: dict[int, Permit] = attrs.field(factory=dict)
    frozen_until: float = -math.inf
    freeze_streak: int = 0
    confirming: bool = False  # rolled over locally; waiting for the new window's first answer
    _probe_seq: int = -1
    outside_margin: int = 0  # largest burst of someone else's use seen lately
    _outside_now: int = 0  # ... in the current window
    smooth_next: float = -math.inf
    _log: deque[float] = attrs.field(factory=deque)
    _seq: int = 0
    _min_mark: int = 0  # grant counter when the current r_min was observed
    _arrival: int = 0
    _heap: list[Waiter] = attrs.field(factory=list)
    _deadlines: list[tuple[float, int, Waiter]] = attrs.field(factory=list)
    _live: dict[int, int] = attrs.field(factory=dict)  # priority -> queued count
    queued: int = 0
    stats: Stats = attrs.field(factory=Stats)

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= self.reserve < 1.0:
            raise ValueError("reserve must be in [0, 1)")
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        if self.quota is not None:
            self.limit = self.quota.limit
            self.period = self.quota.period_seconds
            self.period_exact = True

    # ------------------------------------------------------------------ capacity

    @property
    def window_cap(self) -> float:
        """The longest wait any server number may impose: one window plus slack."""
        return (self.period if self.period is not None else 86_400.0) + 60.0

    def _roll(self, now: float) -> None:
        """Local window rollover: at the server's reset the bucket refills to Limit."""
        if self.reset_at is None or now < self.reset_at:
            return
        if self.limit is not None:
            self.r_min = self.limit
        # Until a response of the new window confirms it, one request at a time: the reset
        # we estimate is a little late by design, and someone else may have spent the new
        # window meanwhile.
        self.confirming = True
        old_reset = self.reset_at
        if self.window_key is not None:
            self.stale_key = self.window_key
            self.window_key = None
        if self.period is not None:
            steps = max(1, math.ceil((now - old_reset) / self.period + 1e-12))
            self.reset_at = old_reset + steps * self.period
            if self.reset_at <= now:
                self.reset_at = now + self.period
        else:
            self.reset_at = None
        self._new_window_margin()
        # Permits in flight may land in the new window; those that ended before it did not.
        self.pending = {
            s: p for s, p in self.pending.items() if p.done_mark < 0 or p.granted_at >= old_reset
        }
        self.smooth_next = -math.inf

    def _log_trim(self, now: float) -> None:
        if self.period is None:
            return
        horizon = now - self.period
        log = self._log
        while log and log[0] <= horizon:
            log.popleft()

    def available(self, now: float) -> int | None:
        """Permits we may still send now (None: unlimited as far as we know)."""
        self._roll(now)
        if now < self.frozen_until:
            return 0
        if self.synced and self.r_min is not None:
            avail = max(0, self.r_min - len(self.pending))
            if self.confirming:
                return 0 if self._probe_seq in self.in_flight else min(1, avail)
            return avail
        if self.probe and not self.no_headers:
            return 0 if self.in_flight else 1
        if self.limit is not None and self.period is not None:
            self._log_trim(now)
            return max(0, self.limit - len(self._log))
        return None

    def _window_left(self) -> int | None:
        """What the current window has left by our count (call after ``available``)."""
        if self.synced and self.r_min is not None:
            return max(0, self.r_min - len(self.pending))
        if self.limit is None:
            return None
        if self.probe and not self.no_headers:
            return max(0, self.limit - len(self.in_flight))
        return max(0, self.limit - len(self._log)) if self.period is not None else None

    def _reserve_count(self) -> int:
        if self.reserve <= 0 or self.limit is None:
            return 0
        return math.ceil(self.reserve * self.limit)

    def _can_grant(self, now: float, priority: int) -> bool:
        if self.max_in_flight is not None and len(self.in_flight) >= self.max_in_flight:
            return False
        avail = self.available(now)
        if avail is None:
            return True
        if avail <= 0:
            return False
        # The reserve and careful mode look at what the window really has left, not at the
        # one-at-a-time allowance while a window is probed or confirmed.
        left = self._window_left()
        if left is not None and priority < self.reserve_priority:
            left -= self._reserve_count()
            if left <= 0:
                return False
        if self.in_flight and left is not None and left <= self.outside_margin:
            # Someone else spends this key too: the last permits go one at a time, so a
            # burst of theirs costs us at most one 429 instead of one per request in flight.
            return False
        return not (self.pacing is Pacing.SMOOTH and now < self.smooth_next)

    def _grant(self, now: float, priority: int) -> Permit:
        self._seq += 1
        permit = Permit(self._seq, now, priority)
        if self.confirming:
            self._probe_seq = permit.seq
        self.in_flight[permit.seq] = permit
        self.pending[permit.seq] = permit
        if not self.synced and self.period is not None:
            permit.log_time = now
            self._log.append(now)
        if self.pacing is Pacing.SMOOTH and self.synced and self.reset_at is not None:
            # What is left of the window: not available(), which is 0 while a confirming
            # request is in flight and would push the next slot to the reset.
            left = max(0, self.r_min - len(self.pending)) if self.r_min is not None else 0
            self.smooth_next = now + max(0.0, self.reset_at - now) / (left + 1)
        self.stats.granted += 1
        return permit

    # ------------------------------------------------------------------ queueing

    def try_grant(self, now: float, priority: int = 0) -> Permit | None:
        """The uncontended path of :meth:`acquire`: a permit now, or None (then ``acquire``).

        Grants exactly when ``acquire`` would grant at once with nobody queued; it only
        skips building a :class:`Decision`, which costs as much as the rest of this path.
        """
        if self.queued or not self._can_grant(now, priority):
            return None
        return self._grant(now, priority)

    def acquire(self, now: float, priority: int = 0, deadline: float | None = None) -> Decision:
        """Ask for a permit: granted now, queued (returns the waiter) or rejected at once."""
        head = self._head() if self.queued else None
        if (head is None or head.priority < priority) and self._can_grant(now, priority):
            return Decision(permit=self._grant(now, priority))
        if deadline is not None:
            eta = self.estimate(now, priority)
            if eta > deadline:
                self.stats.rejected += 1
                return Decision(rejected_until=eta)
        self._arrival += 1
        waiter = Waiter(priority, deadline, self._arrival)
        heapq.heappush(self._heap, waiter)
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, waiter.arrival, waiter))
        self._live[priority] = self._live.get(priority, 0) + 1
        self.queued += 1
        return Decision(waiter=waiter)

    def _unqueue(self, waiter: Waiter) -> None:
        self.queued -= 1
        count = self._live[waiter.priority] - 1
        if count:
            self._live[waiter.priority] = count
        else:
            del self._live[waiter.priority]

    def cancel(self, waiter: Waiter, now: float) -> None:
        """A queued waiter gave up: it takes nothing. A granted one hands its permit back."""
        if waiter.state == "queued":
            waiter.state = "cancelled"
            self._unqueue(waiter)
            self.stats.cancelled += 1
        elif waiter.state == "granted" and waiter.permit is not None:
            waiter.state = "cancelled"
            self.refund(waiter.permit, now)
            self.stats.cancelled += 1

    def _head(self) -> Waiter | None:
        heap = self._heap
        while heap and heap[0].state != "queued":
            heapq.heappop(heap)
        return heap[0] if heap else None

    def pump(self, now: float) -> tuple[list[Waiter], list[Waiter]]:
        """Grant what can be granted, reject expired deadlines. Returns (granted, rejected)."""
        granted: list[Waiter] = []
        rejected: list[Waiter] = []
        deadlines = self._deadlines
        while deadlines and (deadlines[0][2].state != "queued" or deadlines[0][0] <= now):
            _, _, waiter = heapq.heappop(deadlines)
            if waiter.state == "queued":
                waiter.state = "rejected"
                self._unqueue(waiter)
                waiter.rejected_until = self.estimate(now, waiter.priority)
                self.stats.rejected += 1
                rejected.append(waiter)
        while True:
            head = self._head()
            if head is None or not self._can_grant(now, head.priority):
                break
            heapq.heappop(self._heap)
            self._unqueue(head)
            head.state = "granted"
            head.permit = self._grant(now, head.priority)
            self.stats.waited += 1
            granted.append(head)
        if self.queued == 0:
            self._heap.clear()
            self._deadlines.clear()
        return granted, rejected

    def estimate(self, now: float, priority: int) -> float:
        """Predicted monotonic time at which a new waiter of this priority would be granted."""
        ahead = sum(c for p, c in self._live.items() if p >= priority)
        position = ahead + 1
        avail = self.available(now)
        if avail is None:
            return now
        usable = avail - (self._reserve_count() if priority < self.reserve_priority else 0)
        start = max(now, self.frozen_until)
        if position <= max(0, usable):
            if self.pacing is Pacing.SMOOTH and self.reset_at is not None and avail > 0:
                return max(start, self.smooth_next) + (position - 1) * (
                    max(0.0, self.reset_at - now) / avail
                )
            return start
        need = position - max(0, usable)
        per_window = (self.limit or 0) - (
            self._reserve_count() if priority < self.reserve_priority else 0
        )
        if self.synced and self.reset_at is not None and per_window > 0:
            windows = math.ceil(need / per_window)
            if windows == 1:
                return max(start, self.reset_at)
            if self.period is None:
                return math.inf
            return max(start, self.reset_at + (windows - 1) * self.period)
        if not self.synced and self.period is not None and self._log:
            if need <= len(self._log):
                return max(start, self._log[need - 1] + self.period)
            return max(start, now + self.period * math.ceil(need / max(1, self.limit or 1)))
        if self.synced and self.reset_at is None:
            return max(start, now + (self.period or 60.0))
        return start

    def next_wakeup(self, now: float) -> float | None:
        """When the driver should call ``pump`` again if nothing else happens (None: never)."""
        candidates: list[float] = []
        if self._deadlines:
            candidates.append(self._deadlines[0][0])
        head = self._head()
        if head is not None:
            self.available(now)  # roll the window
            if now < self.frozen_until:
                candidates.append(self.frozen_until)
            elif self.max_in_flight is not None and len(self.in_flight) >= self.max_in_flight:
                pass  # a settle will pump
            elif self.pacing is Pacing.SMOOTH and now < self.smooth_next:
                candidates.append(self.smooth_next)
            elif self.synced and self.reset_at is not None:
                candidates.append(self.reset_at)
            elif (
                not self.synced
                and self.period is not None
                and self._log
                and not (self.probe and not self.no_headers)
            ):
                candidates.append(self._log[0] + self.period)
            elif self.synced and self.reset_at is None and not self.in_flight:
                candidates.append(now + (self.period or 1.0))
        return min(candidates) if candidates else None

    # ------------------------------------------------------------------ settling

    def refund(self, permit: Permit, now: float) -> None:
        """The request was never sent: its slot goes back."""
        if permit.settled:
            return
        permit.settled = True
        self.in_flight.pop(permit.seq, None)
        self.pending.pop(permit.seq, None)
        if permit.log_time is not None:
            with contextlib.suppress(ValueError):
                self._log.remove(permit.log_time)
        self.stats.refunded += 1

    def settle_unknown(self, permit: Permit, now: float) -> None:
        """The request may have been processed but we learned nothing (no headers, error)."""
        if permit.settled:
            return
        permit.settled = True
        self.in_flight.pop(permit.seq, None)
        if permit.seq in self.pending:
            permit.done_mark = self._seq

    def observe(self, permit: Permit | None, obs: Observation, now: float) -> None:
        """A response came back for ``permit`` (None: an unsolicited observation)."""
        if permit is not None:
            if permit.settled:
                return
            permit.settled = True
            self.in_flight.pop(permit.seq, None)
        self.stats.observed += 1
        if obs.limit is not None:
            cap = self.quota.limit if self.quota is not None else obs.limit
            self.limit = min(obs.limit, cap)
        throttled = obs.status == 429
        if throttled:
            self.stats.throttled += 1
            self._freeze(obs, now)
            if permit is not None:
                self.pending.pop(permit.seq, None)  # a 429 was not processed
        elif obs.status == 503 and obs.retry_at is not None:
            self.frozen_until = max(self.frozen_until, min(obs.retry_at, now + self.window_cap))
        else:
            self.freeze_streak = 0
        if obs.remaining is None:
            if permit is not None and not throttled and permit.seq in self.pending:
                permit.done_mark = self._seq
            if not self.synced and 200 <= obs.status < 300:
                self.no_headers = True
            return
        remaining = obs.remaining if self.limit is None else min(obs.remaining, self.limit)
        reset_at = obs.reset_at
        if reset_at is not None:
            reset_at = min(max(reset_at, now), now + self.window_cap)
        self._sync(permit, remaining, reset_at, obs.window, now, 200 <= obs.status < 300)

    def _freeze(self, obs: Observation, now: float) -> None:
        until = obs.retry_at
        if obs.reset_at is not None and (obs.remaining in (0, None)):
            until = max(until or -math.inf, obs.reset_at)
        if until is None or until <= now:
            delay = min(1.0 * 2**self.freeze_streak, self.window_cap)
            until = now + delay
        self.freeze_streak += 1
        self.frozen_until = max(self.frozen_until, min(until, now + self.window_cap))

    def _window_order(self, reset_at: float | None, window: float | None) -> int:
        """-1: the response belongs to an earlier window, 0: the current one, 1: a later one.

        Epoch-form resets name the server's window exactly (every response of one window
        carries the same value), so they are compared with a tiny tolerance. Delta-form
        resets are compared on our clock, with room for rounding and latency.
        """
        if window is not None:
            if self.stale_key is not None and window <= self.stale_key + _KEY_TOLERANCE:
                return -1
            if self.window_key is None:
                return 1 if self.stale_key is not None else 0
            if window > self.window_key + _KEY_TOLERANCE:
                return 1
            return -1 if window < self.window_key - _KEY_TOLERANCE else 0
        if reset_at is None or self.reset_at is None:
            return 0
        tol = 1.5 if self.period is None else min(1.5, self.period / 2)
        if reset_at > self.reset_at + tol:
            return 1
        return -1 if reset_at < self.reset_at - tol else 0

    def _sync(
        self,
        permit: Permit | None,
        remaining: int,
        reset_at: float | None,
        window: float | None,
        now: float,
        succeeded: bool = True,
    ) -> None:
        self._roll(now)
        seq = permit.seq if permit is not None else self._seq + 1
        # A successful request that opens a window was counted in it: at most Limit - 1 can
        # be left (a server claiming Limit would let the opener slip in over the plan).
        opening = remaining
        if succeeded and permit is not None and self.limit is not None:
            opening = min(remaining, max(0, self.limit - 1))
        if not self.synced:
            self.synced = True
            self.r_min = opening
            self.reset_at = reset_at if reset_at is not None else now + (self.period or 60.0)
            self.window_key = window
            self._drop_reflected(seq)
            self._log.clear()
            return
        assert self.r_min is not None
        order = self._window_order(reset_at, window)
        if (
            order > 0
            and self.quota is not None
            and self.stale_key is None
            and self.reset_at is not None
            and now < self.reset_at - max(1.5, 0.05 * self.quota.period_seconds)
        ):
            # With a configured plan the server's windows cannot turn faster than its
            # period: a Reset that jumps ahead long before the current window should end is
            # not a new quota (a hostile or broken server cannot refill the bucket at will).
            order = 0
        if order >= 0:
            self.confirming = False
        if order < 0:
            # A late response from an earlier window: processed there, costs nothing now.
            if permit is not None:
                self.pending.pop(permit.seq, None)
            return
        if order > 0:
            # The server has moved to a new window (maybe before our estimate of its reset).
            previous = self.window_key if self.window_key is not None else self.stale_key
            if self.quota is None and window is not None and previous is not None:
                # Keys of two windows differ by a whole number of periods: the smallest
                # gap seen is the period (or a multiple of it, which is only more careful).
                gap = window - previous
                self.period = gap if self.period is None else min(self.period, gap)
                self.period_exact = True
            elif self.quota is None and reset_at is not None and self.reset_at is not None:
                gap = reset_at - self.reset_at
                if gap > 0.5 and not self.period_exact:
                    self.period = gap if self.period is None else min(self.period, gap)
            self.r_min = opening
            self.reset_at = reset_at if reset_at is not None else self.reset_at
            self.window_key = window
            self.stale_key = None
            self._new_window_margin()
            self._drop_reflected(seq)
            return
        if reset_at is not None:
            # Every estimate is a never-early bound (the server clock is bounded from
            # below), so the smallest one of the window is the tightest that is still safe.
            self.reset_at = reset_at if self.reset_at is None else min(self.reset_at, reset_at)
        if window is not None and self.window_key is None:
            self.window_key = window
        if remaining < self.r_min:
            # More went than our own requests can explain: someone else uses this key.
            ours = 1 + len(self.pending) - (seq in self.pending)  # O(1): once per response
            unexplained = self.r_min - remaining - ours
            if unexplained > 0:
                self._outside_now = max(self._outside_now, unexplained)
                self.outside_margin = max(self.outside_margin, unexplained)
            self.r_min = remaining
            self._drop_reflected(seq)
        elif permit is not None and permit.seq in self.pending:
            if permit.seq <= self._min_mark:
                # Granted before the r_min observation and reports no lower count:
                # it was processed before that request, so r_min already reflects it.
                self.pending.pop(permit.seq, None)
            else:
                permit.done_mark = self._seq

    def _new_window_margin(self) -> None:
        """Keep last window's evidence of an outside consumer; let old evidence fade."""
        self.outside_margin = max(self._outside_now, self.outside_margin // 2)
        self._outside_now = 0

    def _drop_reflected(self, seq: int) -> None:
        """A new r_min came from the request granted as ``seq``: drop what it reflects."""
        self._min_mark = self._seq
        self.pending.pop(seq, None)
        self.pending = {
            s: p for s, p in self.pending.items() if p.done_mark < 0 or p.done_mark >= seq
        }

    # ------------------------------------------------------------------ introspection

    def waiters(self) -> Iterator[Waiter]:
        """Live queued waiters (unordered)."""
        return (w for w in self._heap if w.state == "queued")
