"""Fault matrix rows about clocks: R-04 server clock skew with ``Date``, R-05 without it
(both against the simulator's ``clock_offset`` / ``send_date`` switches, in virtual time on
asyncio and trio), and R-16 steps of our own wall clock (``time-machine``, real time).

The simulator's log is the authority: ``over_quota`` marks a request that found its window
full (it got a 429 and was not counted).
"""

from __future__ import annotations

import collections
import itertools
import math
import time

import anyio
import pytest
import time_machine

from altabots_async import AsyncAltaBots, Quota, RateLimiter
from altabots_async.testing import Faults, Plan, Simulator

from ._fakes import EPOCH, LoopClock
from ._virtual_time import virtual_params

pytestmark = pytest.mark.anyio

KEY = "sk-clock-test"
LIMIT = 20
PERIOD = 2.0
PLAN = Quota(LIMIT, PERIOD)
OFFSETS = [-3600.0, -300.0, -120.0, -2.0, 0.0, 2.0, 120.0, 300.0, 3600.0]


async def drive(client: AsyncAltaBots, calls: int, tasks: int) -> list[BaseException]:
    """``tasks`` workers share ``calls`` requests; returns the errors that surfaced."""
    remaining = calls
    errors: list[BaseException] = []

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            try:
                await client.agent.retrieve()
            except Exception as exc:
                errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(worker)
    return errors


def skewed_run_sim(offset: float, send_date: bool) -> Simulator:
    return Simulator(
        {KEY: Plan.enterprise(LIMIT, PERIOD)},
        clock=lambda: EPOCH + anyio.current_time(),
        faults=Faults(clock_offset=offset, send_date=send_date, latency=(0.002, 0.03)),
        seed=int(offset) % 97,
    )


def first_arrivals(sim: Simulator) -> dict[float, float]:
    """Window start -> the server time the first request of that window arrived."""
    first: dict[float, float] = {}
    for record in sim.log:
        if record.window_start is not None and record.counted:
            start = record.window_start
            first[start] = min(first.get(start, math.inf), record.arrived_at)
    return first


class TestSkewWithDate:
    @pytest.fixture(params=["asyncio", "trio"])
    def anyio_backend(self, request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
        return virtual_params(request.param)

    @pytest.mark.parametrize("offset", OFFSETS)
    async def test_r04_skew_table_with_date(self, offset: float) -> None:
        """Server clock off by up to an hour, ``Date`` sent: 0 over quota, 0 429s, and
        every new window's first request reaches the server within 1 s (+ RTT) of its
        reset (the ``Date`` header has one-second resolution)."""
        sim = skewed_run_sim(offset, send_date=True)
        limiter = RateLimiter(clock=LoopClock())
        async with AsyncAltaBots(
            KEY, base_url="http://127.0.0.1/", transport=sim.transport(), limiter=limiter
        ) as client:
            with anyio.fail_after(120):
                errors = await drive(client, 5 * LIMIT, 30)

        assert errors == []
        assert sim.over_quota_count(KEY) == 0
        assert all(r.status != 429 for r in sim.log)
        counts = sim.counted_per_window(KEY)
        assert max(counts.values()) <= LIMIT
        starts = sorted(counts)
        assert all(b - a == pytest.approx(PERIOD) for a, b in itertools.pairwise(starts))
        for start, arrived in sorted(first_arrivals(sim).items())[1:]:
            assert start <= arrived <= start + 1.0 + 0.06, (start, arrived - start)


class TestSkewWithoutDate:
    @pytest.fixture(params=["asyncio", "trio"])
    def anyio_backend(self, request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
        return virtual_params(request.param)

    @pytest.mark.parametrize("offset", OFFSETS)
    async def test_r05_skew_table_without_date(self, offset: float) -> None:
        """Same offsets, ``Date`` stripped: the server never counts past a window's limit,
        at most one 429 per window (the one that teaches the freeze), none surfaced."""
        sim, errors = await self.run(offset)
        assert errors == []
        counts = sim.counted_per_window(KEY)
        assert max(counts.values()) <= LIMIT
        throttled = self.throttled(sim)
        assert all(n <= 1 for n in throttled.values()), throttled

    @pytest.mark.parametrize("offset", [o for o in OFFSETS if o < 0])
    async def test_r05_offset_learned_within_three_windows_server_behind(
        self, offset: float
    ) -> None:
        """Server clock behind, no ``Date``: once a window is seen to turn, the offset is
        a known lower bound, so no 429 after the first three windows."""
        sim, _ = await self.run(offset)
        starts = sorted(sim.counted_per_window(KEY))
        late = [w for w in self.throttled(sim) if w >= starts[0] + 3 * PERIOD]
        assert late == []

    @pytest.mark.xfail(
        strict=True,
        reason="documented limitation: with no Date header (which RFC 9110 requires of origin "
        "servers with a clock) and no configured quota, nothing bounds how far a server clock "
        "may run ahead, so the first Reset looks that far away and the client waits for it; "
        "configure quota= (the period then bounds the error) and it keeps going",
    )
    @pytest.mark.parametrize("offset", [120.0, 3600.0])
    async def test_r05_unknown_quota_server_far_ahead_keeps_going(self, offset: float) -> None:
        _, errors = await self.run(offset, quota=None)
        assert errors == []

    @staticmethod
    async def run(
        offset: float, quota: Quota | None = PLAN
    ) -> tuple[Simulator, list[BaseException]]:
        """Without Date, the configured plan gives the period the Reset bounds need."""
        sim = skewed_run_sim(offset, send_date=False)
        limiter = RateLimiter(quota, clock=LoopClock())
        async with AsyncAltaBots(
            KEY, base_url="http://127.0.0.1/", transport=sim.transport(), limiter=limiter
        ) as client:
            with anyio.fail_after(60):
                errors = await drive(client, 6 * LIMIT, 30)
        return sim, errors

    @staticmethod
    def throttled(sim: Simulator) -> collections.Counter[float]:
        return collections.Counter(
            r.window_start for r in sim.log if r.status == 429 and r.window_start is not None
        )


# ============================================================================ R-16


@pytest.fixture
def real_time_sim() -> Simulator:
    """A simulator whose clock is the monotonic clock (never stepped by time-machine)."""
    base = 1_800_000_000.0 - time.monotonic()
    return Simulator(
        {KEY: Plan.enterprise(LIMIT, 1.0)},
        clock=lambda: base + time.monotonic(),
        faults=Faults(latency=(0.001, 0.01)),
        seed=16,
    )


@pytest.mark.parametrize("step", [3600.0, -3600.0])
async def test_r16_wall_clock_steps_mid_run(
    real_time_sim: Simulator, step: float, anyio_backend_name: str
) -> None:
    """Our wall clock jumps an hour forward or back mid-run (monotonic untouched): 0 over
    quota, no wait longer than one window + margin, and the run finishes on time."""
    sim = real_time_sim

    async def batch(client: AsyncAltaBots, n: int) -> float:
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for _ in range(n):
                tg.start_soon(client.agent.retrieve)
        return time.monotonic() - started

    with time_machine.travel(time.time(), tick=True) as traveller:
        async with AsyncAltaBots(
            KEY, base_url="http://127.0.0.1/", transport=sim.transport()
        ) as client:
            with anyio.fail_after(30):
                await batch(client, LIMIT)  # one window's worth before the step
                traveller.shift(step)
                elapsed = await batch(client, 3 * LIMIT)  # three windows' worth after it
                status = client.rate_limit

    assert sim.over_quota_count(KEY) == 0
    assert status.throttled == 0
    # three windows of work take at most three windows + margin (Date resolution, latency):
    # the step added no wait
    assert elapsed <= 3 * 1.0 + 1.5, elapsed
    counts = sim.counted_per_window(KEY)
    assert sum(counts.values()) == 4 * LIMIT
    assert max(counts.values()) <= LIMIT
