"""The request path's fast paths decide exactly what the slow paths would.

Each shortcut (found by profiling, see ``benchmarks/results/RESULTS.md``) is checked against
the code it skips: ``Core.try_grant`` against ``Core.acquire``, the clock against
``anyio.current_time()``, the memoized ``Date`` parser against the parser, the one-pass
header scan against ``httpx.Headers.get``.
"""

from __future__ import annotations

import random

import anyio
import httpx
import pytest

from altabots_async import Quota, RateLimiter
from altabots_async._transport import observed_headers
from altabots_async.ratelimit._clock import SystemClock
from altabots_async.ratelimit._core import Core, Observation, Permit
from altabots_async.ratelimit._headers import parse_http_date, parse_rate_limit_headers

pytestmark = pytest.mark.anyio


def _twin_step(rng: random.Random, cores: tuple[Core, Core], held: list[list[Permit]]) -> None:
    """One random step on both cores: the first acquires via try_grant, the second via acquire."""
    now = rng.choice([0.0, 0.5, 1.0, 2.5])
    action = rng.random()
    fast, slow = cores
    if action < 0.6:
        priority = rng.choice([0, 1])
        permit = fast.try_grant(now, priority)
        if permit is None:
            decision = fast.acquire(now, priority, None)
            fast_granted = decision.permit is not None
            if decision.permit is not None:
                held[0].append(decision.permit)
        else:
            fast_granted = True
            held[0].append(permit)
        decision = slow.acquire(now, priority, None)
        if decision.permit is not None:
            held[1].append(decision.permit)

        assert fast_granted == (decision.permit is not None)
    elif held[0] and held[1]:
        index = rng.randrange(min(len(held[0]), len(held[1])))
        remaining = rng.randint(0, 5)
        for core, permits in zip(cores, held, strict=True):
            permit = permits.pop(index)
            obs = Observation(200, limit=5, remaining=remaining, reset_at=10.0, window=100.0)
            core.observe(permit, obs, now)
            core.pump(now)


@pytest.mark.parametrize("seed", range(20))
def test_try_grant_grants_exactly_when_acquire_would(seed: int) -> None:
    """Random acquire/observe sequences: try_grant + acquire == acquire, step by step."""
    rng = random.Random(seed)
    settings = {"quota": Quota.enterprise(5, 10.0), "max_in_flight": 3, "reserve": 0.2}
    cores = (Core(**settings), Core(**settings))  # type: ignore[arg-type]
    held: list[list[Permit]] = [[], []]
    for _ in range(200):
        _twin_step(rng, cores, held)
    fast, slow = cores

    assert (slow.stats.granted, slow.queued) == (fast.stats.granted, fast.queued)
    assert slow.available(3.0) == fast.available(3.0)


def test_try_grant_leaves_the_queue_to_acquire() -> None:
    """With anyone queued, try_grant never jumps the queue."""
    core = Core(quota=Quota.enterprise(5, 10.0), max_in_flight=1)
    first = core.try_grant(0.0)
    assert first is not None
    queued = core.acquire(0.0).waiter
    core.refund(first, 0.0)  # capacity is back, but a waiter is ahead of any newcomer

    assert queued is not None
    assert core.try_grant(0.0) is None


async def test_system_clock_is_the_loop_clock() -> None:
    """SystemClock.monotonic reads the running loop's clock (asyncio and trio alike)."""
    clock = SystemClock()
    before = anyio.current_time()
    now = clock.monotonic()
    after = anyio.current_time()

    assert before <= now <= after


async def test_uncontended_limiter_still_queues_after_a_cancelled_waiter() -> None:
    """Skipping the pump when nobody waits keeps the timekeeper hand-off intact."""
    limiter = RateLimiter(Quota.enterprise(1_000, 60.0), max_in_flight=1, probe=False)
    held = await limiter.acquire()
    with anyio.move_on_after(0.01):
        await limiter.acquire()  # queued behind the held permit, then cancelled
    await held.refund()
    with anyio.fail_after(5):
        lease = await limiter.acquire()
        await lease.refund()
    status = limiter.status()

    assert (status.queued, status.in_flight, status.granted) == (0, 0, 2)


def test_http_date_parser_is_memoized_and_exact() -> None:
    """The cached parser answers as the parser does, and repeats come from the cache."""
    text = "Sun, 06 Nov 1994 08:49:37 GMT"
    first = parse_http_date(text)
    hits = parse_http_date.cache_info().hits
    second = parse_http_date(text)

    assert first == second == 784111777.0
    assert parse_http_date.cache_info().hits == hits + 1
    assert parse_http_date("not a date") is None


def test_one_pass_header_scan_matches_httpx_get() -> None:
    """observed_headers finds what httpx.Headers.get finds, for every header the parser reads."""
    headers = httpx.Headers(
        [
            ("Content-Type", "application/json"),
            ("X-RateLimit-Limit", "100"),
            ("x-ratelimit-remaining", "7"),
            ("X-RATELIMIT-RESET", "1700000060"),
            ("Retry-After", "3"),
            ("retry-after", "4"),
            ("Date", "Tue, 14 Nov 2023 22:13:20 GMT"),
        ]
    )
    names = [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "retry-after-ms",
        "date",
    ]
    found = observed_headers(headers)

    assert {n: headers.get(n) for n in names if n in headers} == found
    assert parse_rate_limit_headers(headers) == parse_rate_limit_headers(found)
