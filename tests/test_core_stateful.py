"""R-03: a Hypothesis state machine drives the pure core against a model fixed-window server.

Random interleavings of acquire, pump, send, refund, server processing, reordered delivery,
lost responses, cancellation and time steps. After every step: nothing the client sent was
over quota at the server (unless an outside consumer ate it), permits are conserved, and
priority order held.
"""

from __future__ import annotations

import math
import os

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from altabots_async import Quota
from altabots_async.ratelimit._core import Core, Observation, Permit, Waiter

LIMIT = 5
PERIOD = 10.0


class _Fixed:
    """A stand-in for ``st.data()`` that always draws the given value."""

    def __init__(self, value: object) -> None:
        self.value = value

    def draw(self, strategy: object) -> object:
        return self.value


class SchedulerMachine(RuleBasedStateMachine):
    """The core against a server that counts every request it processes."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.period = PERIOD
        self.core = Core()
        self.count: dict[float, int] = {}
        self.over_quota: dict[float, int] = {}
        self.outside_windows: set[float] = set()
        self.granted: list[Permit] = []
        self.sent: list[Permit] = []
        self.processed: list[tuple[Permit, Observation]] = []
        self.waiters: list[Waiter] = []
        self.settled = 0
        self.last_grant_priorities: list[int] = []

    @initialize(
        configured=st.booleans(),
        max_in_flight=st.none() | st.integers(1, 4),
        start=st.floats(0, 25),
        period=st.sampled_from([0.3, 1.0, PERIOD]),
    )
    def setup(
        self, configured: bool, max_in_flight: int | None, start: float, period: float
    ) -> None:
        self.now = start
        self.period = period
        self.core = Core(
            quota=Quota(LIMIT, period) if configured else None, max_in_flight=max_in_flight
        )

    def _window(self) -> float:
        return math.floor(self.now / self.period) * self.period

    @rule(priority=st.integers(0, 2), deadline=st.none() | st.floats(0, 30))
    def submit(self, priority: int, deadline: float | None) -> None:
        """A caller asks for a permit."""
        due = None if deadline is None else self.now + deadline
        decision = self.core.acquire(self.now, priority, due)
        if decision.permit is not None:
            self.granted.append(decision.permit)
        elif decision.waiter is not None:
            self.waiters.append(decision.waiter)
        else:
            assert decision.rejected_until is not None
            assert due is not None and decision.rejected_until > due

    @rule(k=st.integers(1, 2 * LIMIT), priority=st.integers(0, 2))
    def burst(self, k: int, priority: int) -> None:
        """Many callers arrive at once."""
        for _ in range(k):
            self.submit(priority, None)

    @precondition(lambda self: self.granted)
    @rule()
    def send_all(self) -> None:
        """Every granted permit is used."""
        self.sent.extend(self.granted)
        self.granted.clear()

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def process_all(self, data: st.DataObject) -> None:
        """The server processes everything in transit, in a random order."""
        order = data.draw(st.permutations(list(self.sent)))
        for permit in order:
            self.server_processes(_Fixed(permit), lost=False)

    @precondition(lambda self: self.processed)
    @rule(data=st.data())
    def deliver_all(self, data: st.DataObject) -> None:
        """Every processed response arrives, reordered."""
        order = data.draw(st.permutations(list(self.processed)))
        for item in order:
            self.deliver(_Fixed(item), lost=False)

    @rule()
    def pump(self) -> None:
        """The driver pumps: grants in priority order, rejects expired deadlines."""
        granted, rejected = self.core.pump(self.now)
        priorities = [w.priority for w in granted]
        assert priorities == sorted(priorities, reverse=True)
        head = self.core._head()
        if granted and head is not None and not rejected:
            assert head.priority <= priorities[-1]
        for waiter in granted:
            assert waiter.permit is not None
            self.granted.append(waiter.permit)
            self.waiters.remove(waiter)
        for waiter in rejected:
            assert waiter.deadline is not None and waiter.deadline <= self.now
            self.waiters.remove(waiter)

    @precondition(lambda self: self.waiters)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """A queued caller is cancelled."""
        waiter = data.draw(st.sampled_from(self.waiters))
        self.core.cancel(waiter, self.now)
        assert waiter.state == "cancelled"
        self.waiters.remove(waiter)

    @precondition(lambda self: self.granted)
    @rule(data=st.data(), refund=st.booleans())
    def send_or_refund(self, data: st.DataObject, refund: bool) -> None:
        """A granted permit is used (request sent) or handed back (never sent)."""
        permit = data.draw(st.sampled_from(self.granted))
        self.granted.remove(permit)
        if refund:
            self.core.refund(permit, self.now)
            self.settled += 1
        else:
            self.sent.append(permit)

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), lost=st.booleans())
    def server_processes(self, data: st.DataObject | _Fixed, lost: bool) -> None:
        """The server receives a request (or it is lost on the way, never counted)."""
        permit = data.draw(st.sampled_from(self.sent))
        self.sent.remove(permit)
        if lost:
            self.core.settle_unknown(permit, self.now)
            self.settled += 1
            return
        window = self._window()
        reset = window + self.period
        used = self.count.get(window, 0)
        if used < LIMIT:
            self.count[window] = used + 1
            result = Observation(200, LIMIT, LIMIT - used - 1, reset, None, reset)
        else:
            self.over_quota[window] = self.over_quota.get(window, 0) + 1
            result = Observation(429, LIMIT, 0, reset, reset, reset)
        self.processed.append((permit, result))

    @precondition(lambda self: self.processed)
    @rule(data=st.data(), lost=st.booleans())
    def deliver(self, data: st.DataObject | _Fixed, lost: bool) -> None:
        """A response reaches the client, in any order (or is lost after processing)."""
        item = data.draw(st.sampled_from(self.processed))
        self.processed.remove(item)
        permit, result = item
        if lost:
            self.core.settle_unknown(permit, self.now)
        else:
            self.core.observe(permit, result, self.now)
        self.settled += 1

    @rule(dt=st.floats(0, 2))
    def advance(self, dt: float) -> None:
        """Time passes (up to two windows)."""
        self.now += dt * self.period

    @rule(frac=st.floats(0, 0.99))
    def next_window(self, frac: float) -> None:
        """Time moves into the next server window."""
        self.now = (math.floor(self.now / self.period) + 1 + frac) * self.period

    @rule(k=st.integers(1, LIMIT))
    def outside_consumer(self, k: int) -> None:
        """Someone else spends quota of the same key."""
        window = self._window()
        self.count[window] = min(LIMIT, self.count.get(window, 0) + k)
        self.outside_windows.add(window)

    @invariant()
    def never_over_quota(self) -> None:
        """In every window no outside consumer touched, the server never had to refuse us."""
        for window, refused in self.over_quota.items():
            assert refused == 0 or window in self.outside_windows, (window, refused)

    @invariant()
    def permits_conserved(self) -> None:
        """granted = in flight + settled; the core's in-flight matches ours."""
        in_flight = len(self.granted) + len(self.sent) + len(self.processed)
        assert self.core.stats.granted == in_flight + self.settled
        assert len(self.core.in_flight) == in_flight

    @invariant()
    def queue_consistent(self) -> None:
        """The core's queue holds exactly the live waiters."""
        assert self.core.queued == len(self.waiters)
        assert all(w.state == "queued" for w in self.waiters)

    @invariant()
    def estimate_never_negative(self) -> None:
        """Available permits are never negative nor above the limit once synced."""
        avail = self.core.available(self.now)
        if avail is not None and self.core.synced:
            assert 0 <= avail <= LIMIT


TestScheduler = SchedulerMachine.TestCase
TestScheduler.settings = settings(
    max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "300")),
    stateful_step_count=60,
    deadline=None,
)
