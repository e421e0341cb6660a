"""The pure scheduler core, with exact times (no clock, no I/O)."""

from __future__ import annotations

import math

import pytest

from altabots_async import Quota
from altabots_async.ratelimit._core import Core, Observation, Pacing, Permit


def obs(
    remaining: int, reset: float, *, limit: int = 10, status: int = 200, **kw: float
) -> Observation:
    """An observation of a server whose window ends at ``reset`` (server clock = ours)."""
    return Observation(
        status=status, limit=limit, remaining=remaining, reset_at=reset, window=reset, **kw
    )


def grant(core: Core, now: float, priority: int = 0) -> Permit:
    """Acquire and insist on an immediate grant."""
    decision = core.acquire(now, priority)
    assert decision.permit is not None, decision
    return decision.permit


def synced_core(limit: int = 10, remaining: int = 10, reset: float = 100.0, **kw: object) -> Core:
    """A core that has seen one response (the probe) from a fresh window."""
    core = Core(**kw)  # type: ignore[arg-type]
    probe = grant(core, 0.0)
    core.observe(probe, obs(remaining, reset, limit=limit), 0.0)
    return core


def test_probe_first_then_full_speed() -> None:
    """With nothing known, one request goes first; its headers open the window."""
    core = Core()
    probe = grant(core, 0.0)

    assert core.acquire(0.0).waiter is not None  # second caller waits for the probe

    core.observe(probe, obs(9, 60.0), 0.1)
    granted, rejected = core.pump(0.1)

    assert len(granted) == 1
    assert rejected == []
    assert core.available(0.1) == 8


def test_in_flight_counted_until_reflected() -> None:
    """Permits in flight are subtracted until a response proves them counted."""
    core = synced_core(remaining=5)
    permits = [grant(core, 1.0) for _ in range(5)]

    assert core.available(1.0) == 0
    assert core.acquire(1.0).waiter is not None

    # in-order responses: remaining 4,3,2,1,0 -> estimate exact at every step
    for index, permit in enumerate(permits):
        core.observe(permit, obs(4 - index, 100.0), 1.5)
        assert core.available(1.5) == 0


def test_reordered_responses_recover_to_server_value() -> None:
    """A low Remaining arriving first makes us conservative; later ones restore the count."""
    core = synced_core(remaining=10)
    a, b, c = (grant(core, 1.0) for _ in range(3))

    core.observe(c, obs(7, 100.0), 2.0)  # processed last, answered first
    assert core.available(2.0) == 5  # a, b might not be counted yet

    core.observe(a, obs(9, 100.0), 2.1)
    assert core.available(2.1) == 6
    core.observe(b, obs(8, 100.0), 2.2)

    assert core.available(2.2) == 7  # exactly the server's remaining


def test_remaining_only_falls_within_a_window() -> None:
    """A stale higher Remaining of the same window never raises the estimate."""
    core = synced_core(remaining=10)
    a = grant(core, 1.0)
    b = grant(core, 1.0)
    core.observe(a, obs(3, 100.0), 2.0)  # another consumer spent 6
    core.observe(b, obs(9, 100.0), 2.0)

    assert core.available(2.0) == 3


def test_reset_refills_to_limit() -> None:
    """At the reset one request confirms the new window; its answer opens the rest."""
    core = synced_core(remaining=0, reset=10.0)
    assert core.available(9.99) == 0
    assert core.available(10.0) == 1  # confirming: one at a time
    probe = grant(core, 10.0)
    assert core.available(10.0) == 0

    core.observe(probe, obs(9, 20.0), 10.1)

    assert core.available(10.1) == 9


def test_waiters_released_at_reset_no_stampede() -> None:
    """Queued waiters get at most Limit permits when the window opens."""
    core = synced_core(limit=3, remaining=0, reset=10.0)
    waiters = [core.acquire(1.0).waiter for _ in range(5)]
    assert core.next_wakeup(1.0) == 10.0

    granted, _ = core.pump(10.0)
    assert len(granted) == 1  # the new window is confirmed first
    assert granted[0].permit is not None
    core.observe(granted[0].permit, obs(2, 20.0, limit=3), 10.1)
    granted, _ = core.pump(10.1)

    assert [w.state for w in waiters if w] == ["granted"] * 3 + ["queued"] * 2
    assert len(granted) == 2


def test_in_flight_across_reset_stays_pending() -> None:
    """A request still in flight at the reset may land in the new window: it is subtracted."""
    core = synced_core(limit=3, remaining=1, reset=10.0)
    permit = grant(core, 9.0)

    assert core.available(10.0) == 1  # confirming the new window first

    core.observe(permit, obs(2, 20.0, limit=3), 10.2)  # it did land in the new window

    assert core.available(10.2) == 2


def test_late_response_from_old_window_costs_nothing() -> None:
    """A response carrying the previous window's reset does not lower the new window."""
    core = synced_core(limit=5, remaining=5, reset=10.0)
    old = grant(core, 9.9)
    assert core.available(10.0) == 1  # confirming the new window
    probe = grant(core, 10.0)

    core.observe(old, obs(0, 10.0, limit=5), 10.1)  # late, from the old window
    core.observe(probe, obs(4, 20.0, limit=5), 10.1)

    assert core.available(10.1) == 4


def test_server_new_window_before_our_estimate() -> None:
    """A response from a later window resyncs even before our reset estimate passes."""
    core = synced_core(limit=5, remaining=0, reset=10.0)
    core.observe(None, obs(4, 20.0, limit=5), 9.5)

    assert core.available(9.5) == 4
    assert core.reset_at == 20.0


def test_429_freezes_everybody_until_retry_after() -> None:
    """One 429 pauses every caller until Retry-After; the 429 itself is not counted."""
    core = synced_core(remaining=5, reset=100.0)
    permit = grant(core, 1.0)
    core.observe(permit, obs(0, 100.0, status=429, retry_at=31.0), 1.0)

    assert core.available(30.9) == 0
    assert core.acquire(2.0).waiter is not None
    assert core.next_wakeup(2.0) == 100.0  # remaining 0: the reset, not only Retry-After


def test_429_with_remaining_left_waits_retry_after_only() -> None:
    """A 429 that leaves Remaining (another limit) freezes until Retry-After."""
    core = synced_core(remaining=5, reset=100.0)
    permit = grant(core, 1.0)
    core.observe(permit, obs(5, 100.0, status=429, retry_at=4.0), 1.0)

    assert core.available(3.9) == 0
    assert core.available(4.0) == 5


def test_429_without_hints_backs_off_exponentially() -> None:
    """No Retry-After and no Reset: a freeze of 1 s, doubling on repeated 429s."""
    core = Core()
    p1 = grant(core, 0.0)
    core.observe(p1, Observation(status=429), 0.0)
    assert core.frozen_until == 1.0
    p2 = grant(core, 1.0)
    core.observe(p2, Observation(status=429), 1.0)

    assert core.frozen_until == 3.0


def test_deadline_rejected_at_once_when_infeasible() -> None:
    """A caller that cannot be served before its deadline is told so at once."""
    core = synced_core(remaining=0, reset=60.0)

    decision = core.acquire(1.0, deadline=6.0)

    assert decision.permit is None
    assert decision.waiter is None
    assert decision.rejected_until == 60.0


def test_deadline_expiry_while_queued() -> None:
    """A queued caller still waiting at its deadline is rejected then."""
    core = synced_core(limit=1, remaining=0, reset=10.0, quota=Quota(1, 10.0))
    waiter = core.acquire(1.0, deadline=12.0).waiter  # feasible: reset at 10
    ahead = core.acquire(1.0, priority=5).waiter  # but a higher priority jumps ahead
    assert waiter is not None and ahead is not None
    granted, rejected = core.pump(10.0)
    assert granted == [ahead]
    assert core.next_wakeup(10.0) == 12.0

    granted, rejected = core.pump(12.0)

    assert rejected == [waiter]
    assert waiter.rejected_until == 20.0
    assert core.queued == 0


def test_priority_order_and_fifo() -> None:
    """Higher priority first; FIFO within a priority."""
    core = synced_core(limit=10, remaining=0, reset=10.0)
    low1 = core.acquire(1.0, priority=0).waiter
    high = core.acquire(1.1, priority=5).waiter
    low2 = core.acquire(1.2, priority=0).waiter
    mid = core.acquire(1.3, priority=1).waiter
    core.observe(None, obs(10, 20.0), 10.0)  # the new window's first answer arrives

    granted, _ = core.pump(10.0)

    assert granted == [high, mid, low1, low2]


def test_high_priority_behind_many_low_gets_next_permit() -> None:
    """A high-priority call queued behind 10,000 low ones gets the next permit."""
    core = synced_core(limit=1, remaining=0, reset=10.0)
    for _ in range(10_000):
        core.acquire(1.0, priority=0)
    vip = core.acquire(2.0, priority=9).waiter

    granted, _ = core.pump(10.0)

    assert granted == [vip]


def test_reserve_kept_for_high_priority() -> None:
    """Low priority may not dip into the reserve; high priority may."""
    core = synced_core(limit=10, remaining=9, reserve=0.2, reserve_priority=5)
    for _ in range(7):  # 9 left, 2 of them reserved
        grant(core, 1.0, priority=0)
    assert core.acquire(1.0, priority=0).waiter is not None

    vip = core.acquire(1.0, priority=5)

    assert vip.permit is not None


def test_cancelled_waiter_leaves_nothing() -> None:
    """A cancelled waiter takes no permit and leaves the queue."""
    core = synced_core(limit=2, remaining=0, reset=10.0)
    a = core.acquire(1.0).waiter
    b = core.acquire(1.0).waiter
    assert a is not None and b is not None
    core.cancel(a, 2.0)
    core.observe(None, obs(2, 20.0, limit=2), 10.0)

    granted, _ = core.pump(10.0)

    assert granted == [b]
    assert core.queued == 0
    assert core.available(10.0) == 1


def test_granted_then_cancelled_refunds() -> None:
    """A waiter granted in the same tick it was cancelled hands its permit back."""
    core = synced_core(limit=1, remaining=0, reset=10.0)
    a = core.acquire(1.0).waiter
    assert a is not None
    core.pump(10.0)
    assert a.state == "granted"

    core.cancel(a, 10.0)

    assert core.available(10.0) == 1
    assert core.in_flight == {}


def test_refund_gives_slot_back_unknown_keeps_it() -> None:
    """Never sent: refunded. Maybe processed: stays spent until the server says more."""
    core = synced_core(remaining=3)
    a = grant(core, 1.0)
    b = grant(core, 1.0)
    core.refund(a, 1.0)
    core.settle_unknown(b, 1.0)

    assert core.available(1.0) == 2
    assert core.stats.refunded == 1

    c = grant(core, 2.0)  # granted after b ended: its answer covers b
    core.observe(c, obs(1, 100.0), 2.1)

    assert core.available(2.1) == 1


def test_settle_twice_is_harmless() -> None:
    """A permit is settled once; later settles do nothing."""
    core = synced_core(remaining=3)
    a = grant(core, 1.0)
    core.refund(a, 1.0)
    core.refund(a, 1.0)
    core.settle_unknown(a, 1.0)
    core.observe(a, obs(0, 100.0), 1.0)

    assert core.available(1.0) == 3


def test_smooth_pacing_spreads_permits() -> None:
    """Smooth pacing spaces the remaining permits evenly until the reset."""
    core = synced_core(limit=5, remaining=4, reset=8.0, pacing=Pacing.SMOOTH)
    grant(core, 0.0)

    assert core.acquire(1.0).waiter is not None
    assert core.next_wakeup(1.0) == pytest.approx(2.0)
    granted, _ = core.pump(2.0)
    assert len(granted) == 1


def test_max_in_flight_caps_grants() -> None:
    """No more than max_in_flight permits are out at once."""
    core = synced_core(remaining=10, max_in_flight=2)
    a = grant(core, 1.0)
    grant(core, 1.0)
    waiter = core.acquire(1.0).waiter
    assert waiter is not None

    core.observe(a, obs(9, 100.0), 1.1)
    granted, _ = core.pump(1.1)

    assert granted == [waiter]


def test_no_headers_falls_back_to_sliding_log() -> None:
    """A server that sends no headers: the configured quota, never more in any period."""
    core = Core(quota=Quota(3, 10.0))
    probe = grant(core, 0.0)
    core.observe(probe, Observation(status=200), 0.1)
    grant(core, 1.0)
    grant(core, 2.0)

    assert core.acquire(3.0).waiter is not None
    assert core.next_wakeup(3.0) == 10.0
    granted, _ = core.pump(10.0)
    assert len(granted) == 1


def test_no_headers_no_quota_is_unlimited_but_capped() -> None:
    """Nothing configured and no headers: only max_in_flight applies."""
    core = Core(max_in_flight=3)
    probe = grant(core, 0.0)
    core.observe(probe, Observation(status=200), 0.1)

    permits = [core.acquire(0.2).permit for _ in range(3)]

    assert all(permits)
    assert core.acquire(0.2).waiter is not None


def test_error_without_headers_probes_again() -> None:
    """A 5xx without headers on the probe does not switch headers off; the next one probes."""
    core = Core()
    probe = grant(core, 0.0)
    core.observe(probe, Observation(status=500), 0.1)

    assert core.no_headers is False
    assert core.available(0.1) == 1


def test_configured_quota_caps_server_numbers() -> None:
    """Remaining and Limit above the configured plan are clamped to it."""
    core = Core(quota=Quota(10, 100.0))
    probe = grant(core, 0.0)
    core.observe(probe, obs(10**12, 50.0, limit=10**12), 0.1)

    assert core.limit == 10
    assert core.available(0.1) == 9  # the probe itself counted


def test_absurd_reset_clamped_to_one_window() -> None:
    """A reset years away is clamped to one window plus slack, never 'wait forever'."""
    core = Core(quota=Quota(10, 100.0))
    probe = grant(core, 0.0)
    core.observe(probe, obs(0, 1e12, limit=10), 0.0)

    assert core.reset_at == 160.0


def test_reset_in_past_is_not_a_burst() -> None:
    """A reset already past is treated as 'now', and the observed Remaining still holds."""
    core = Core(quota=Quota(10, 100.0))
    probe = grant(core, 50.0)
    core.observe(probe, obs(2, 10.0, limit=10), 50.0)

    assert core.reset_at == 50.0
    assert core.available(50.0) == 1  # the window rolled over: confirm it first
    assert core.r_min == 10
    assert core.reset_at == 150.0


def test_estimate_counts_whole_windows() -> None:
    """A waiter needing more permits than one window has is placed windows ahead."""
    core = synced_core(limit=10, remaining=0, reset=10.0, quota=Quota(10, 10.0))
    for _ in range(15):
        core.acquire(1.0)

    assert core.estimate(1.0, 0) == 20.0
    assert math.isfinite(core.estimate(1.0, 9))


def test_short_windows_after_local_rollover() -> None:
    """Regression: with 0.3 s windows and no known period, responses of the window after a
    local rollover are not mistaken for late ones (which would grant a second full window)."""
    core = Core()
    probe = grant(core, 0.0)
    core.observe(probe, obs(4, 0.3, limit=5), 0.01)
    assert core.available(0.31) == 1  # rolled over at 0.3: confirm first
    confirm = grant(core, 0.31)
    core.observe(confirm, obs(4, 0.6, limit=5), 0.315)
    permits = [grant(core, 0.32) for _ in range(4)]
    for index, permit in enumerate(permits):
        core.observe(permit, obs(3 - index, 0.6, limit=5), 0.32)

    assert core.available(0.33) == 0


def test_reserve_does_not_block_the_probe() -> None:
    """Regression: with a reserve, low-priority calls still get the probe and the request
    that confirms a new window (the reserve is checked against the window's real count)."""
    core = Core(quota=Quota(10, 10.0), reserve=0.2, reserve_priority=10)
    probe = core.try_grant(0.0, 0)
    assert probe is not None
    core.observe(probe, obs(9, 10.0, limit=10), 0.1)
    for _ in range(7):
        grant(core, 0.2)
    assert core.try_grant(0.2, 0) is None  # the last two are the reserve

    confirm = core.try_grant(10.0, 0)  # the window rolled: confirm it, low priority or not

    assert confirm is not None
