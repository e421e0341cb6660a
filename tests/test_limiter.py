"""The anyio driver: waking, cancellation, deadlines, priorities, memory (asyncio and trio)."""

from __future__ import annotations

import gc
import random
import tracemalloc

import anyio
import anyio.lowlevel
import pytest

from altabots_async import QuotaExhaustedError, RateLimiter
from altabots_async.ratelimit._core import Core
from altabots_async.ratelimit._parker import new_parker

from ._fakes import LoopClock, ModelServer

pytestmark = pytest.mark.anyio


async def _call(
    limiter: RateLimiter,
    server: ModelServer,
    *,
    priority: int = 0,
    latency: float = 0.0,
    max_wait: float | None = None,
) -> int:
    """One request through the limiter against the model server."""
    lease = await limiter.acquire("k", priority=priority, max_wait=max_wait)
    try:
        if latency:
            await anyio.sleep(latency)
        status, headers = server.handle()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await lease.settle_unknown()
        raise
    await lease.observe(status, headers)
    return status


async def test_waiters_released_window_by_window() -> None:
    """30 callers on 10 per 1 s: three windows, never more than the limit in one."""
    server = ModelServer(10, 1.0)
    limiter = RateLimiter(clock=LoopClock())
    results: list[int] = []

    async def one() -> None:
        results.append(await _call(limiter, server))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(30):
                tg.start_soon(one)

    assert server.over_quota == 0
    assert results == [200] * 30
    assert max(server.count.values()) <= 10
    status = limiter.status("k")
    assert (status.queued, status.in_flight) == (0, 0)


async def test_deadline_fails_fast() -> None:
    """max_wait=0.1 with the next permit 5 s away: QuotaExhaustedError within 50 ms."""
    server = ModelServer(1, 5.0)
    limiter = RateLimiter(clock=LoopClock())
    # Align to the start of a 5 s window so the next permit is ~5 s away.
    await _call(limiter, server)
    start = anyio.current_time()

    with pytest.raises(QuotaExhaustedError) as info:
        await _call(limiter, server, max_wait=0.1)

    assert anyio.current_time() - start < 0.05
    assert info.value.retry_after is not None
    assert 0 < info.value.retry_after <= 5.0 + 1.0
    assert server.log[-1][1] == 200  # nothing more was sent


async def test_cancelled_waiters_leave_nothing() -> None:
    """Cancel 30 % of 300 queued callers at random: no leaked permit, no entry left."""
    server = ModelServer(20, 0.3)
    limiter = RateLimiter(clock=LoopClock())
    rng = random.Random(7)
    done = 0

    async def one(scope: anyio.CancelScope) -> None:
        nonlocal done
        with scope:
            await _call(limiter, server, latency=rng.uniform(0, 0.01))
            done += 1

    scopes = [anyio.CancelScope() for _ in range(300)]
    with anyio.fail_after(15):
        async with anyio.create_task_group() as tg:
            for scope in scopes:
                tg.start_soon(one, scope)
            await anyio.wait_all_tasks_blocked()
            for scope in rng.sample(scopes, 90):
                scope.cancel()
                if rng.random() < 0.5:
                    await anyio.lowlevel.checkpoint()

    status = limiter.status("k")
    assert status.queued == 0
    assert status.in_flight == 0
    assert server.over_quota == 0
    assert done + status.cancelled >= 210
    bucket = limiter.bucket("k")
    core = bucket.core  # type: ignore[attr-defined]
    assert core.pending == {} or all(p.done_mark >= 0 for p in core.pending.values())


async def test_cancel_in_flight_counts_as_sent() -> None:
    """A request cancelled after it was sent keeps its permit spent (no refund)."""
    server = ModelServer(3, 30.0)
    limiter = RateLimiter(clock=LoopClock())
    await _call(limiter, server)  # probe: remaining 2
    with anyio.move_on_after(0.01):
        await _call(limiter, server, latency=1.0)

    status = limiter.status("k")
    assert status.in_flight == 0
    assert status.remaining == 1
    assert status.refunded == 0


async def test_refund_when_never_sent() -> None:
    """A permit refunded before sending gives its slot straight to the next waiter."""
    server = ModelServer(2, 30.0)
    limiter = RateLimiter(clock=LoopClock())
    await _call(limiter, server)  # remaining 1
    lease = await limiter.acquire("k")
    assert limiter.status("k").remaining == 0
    await lease.refund()

    assert limiter.status("k").remaining == 1


async def test_priority_jumps_the_queue() -> None:
    """Higher priority callers are served first, FIFO within a priority."""
    server = ModelServer(1, 0.2)
    limiter = RateLimiter(clock=LoopClock())
    await _call(limiter, server)
    order: list[str] = []

    async def one(name: str, priority: int) -> None:
        await _call(limiter, server, priority=priority)
        order.append(name)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for index in range(3):
                tg.start_soon(one, f"low{index}", 0)
                await anyio.wait_all_tasks_blocked()
            tg.start_soon(one, "high", 5)

    assert order == ["high", "low0", "low1", "low2"]


async def test_429_freezes_all_callers() -> None:
    """A 429 from another consumer's usage pauses every caller until the reset."""
    server = ModelServer(5, 1.0)
    limiter = RateLimiter(clock=LoopClock())
    await _call(limiter, server)
    window = max(server.count)
    server.count[window] = 5  # an outside consumer took the rest
    statuses: list[int] = []

    async def one() -> None:
        statuses.append(await _call(limiter, server))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(one)

    assert statuses.count(429) == 1  # only the first finds out; everybody else waits
    assert limiter.status("k").throttled == 1


async def test_many_queued_waiters_memory() -> None:
    """100,000 queued waiters cost under 1 KiB each (tracemalloc, scheduler data)."""
    core = Core()
    core.acquire(0.0)  # the probe holds the only permit
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    waiters = [core.acquire(0.0).waiter for _ in range(100_000)]
    for waiter in waiters:
        assert waiter is not None
        waiter.token = new_parker()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    used = sum(stat.size_diff for stat in after.compare_to(before, "filename"))

    assert used / 100_000 <= 1024
    assert core.queued == 100_000
