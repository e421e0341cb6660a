"""Acquire: the cost of one permit on a quota nobody exhausts, per limiter, 1 and 1,000 tasks.

Contenders: this scheduler (``RateLimiter(...).acquire()`` then settling the lease, after one
response has synced it, as a client's limiter is), ``aiolimiter.AsyncLimiter``,
pyrate-limiter's ``Limiter.try_acquire_async`` (in-memory bucket), ``limits``' async
in-memory strategies (fixed window, moving window, sliding window counter) and a bare
``asyncio.Semaphore`` (acquire + release) as the floor. Each limiter allows 10^9 per hour.
"1 task" makes the calls one after another; "1,000 tasks" spreads the same number of calls
over 1,000 concurrent tasks. Reported: microseconds per acquire (wall time of the event loop,
which is CPU time here: nothing sleeps), the best of ``REPEATS`` interleaved runs (the
machine is shared, so the minimum is the cost of the code; noise only adds), and the ratio to
aiolimiter.

Our lease is settled two ways: ``refund`` (pure bookkeeping: the analogue of a semaphore
release; the headline) and ``observe`` of a typical response's rate-limit headers (what a
request really costs the scheduler: parsing the headers and resyncing the window).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

from . import _common as c

NAME = "acquire"
LIMIT = 10**9
PERIOD = 3600.0
TASKS = (1, 1000)
REPEATS = 5

Acquire = Callable[[], Awaitable[Any]]


def _headers(remaining: int) -> dict[str, str]:
    reset = int(time.time() // PERIOD * PERIOD + PERIOD)
    return {
        "x-ratelimit-limit": str(LIMIT),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
        "date": formatdate(time.time(), usegmt=True),
    }


async def _ours(settle: str) -> Acquire:
    from altabots_async import Quota, RateLimiter

    limiter = RateLimiter(Quota.enterprise(LIMIT, PERIOD))
    lease = await limiter.acquire()
    await lease.observe(200, _headers(LIMIT - 1))  # synced, as after a client's first call
    headers = _headers(LIMIT - 2)
    acquire = limiter.acquire
    if settle == "refund":

        async def one() -> None:
            lease = await acquire()
            await lease.refund()

    else:

        async def one() -> None:
            lease = await acquire()
            await lease.observe(200, headers)

    return one


async def _aiolimiter() -> Acquire:
    from aiolimiter import AsyncLimiter

    limiter = AsyncLimiter(LIMIT, PERIOD)
    return limiter.acquire


async def _pyrate() -> Acquire:
    from pyrate_limiter import Duration, Limiter, Rate

    limiter = Limiter(Rate(LIMIT, Duration.HOUR))

    async def one() -> None:
        await limiter.try_acquire_async("bench")

    return one


async def _limits(strategy: str) -> Acquire:
    from limits import RateLimitItemPerHour
    from limits.aio import storage, strategies

    item = RateLimitItemPerHour(LIMIT)
    store = storage.MemoryStorage()
    limiter = getattr(strategies, strategy)(store)

    async def one() -> None:
        await limiter.hit(item, "bench")

    return one


async def _semaphore() -> Acquire:
    semaphore = asyncio.Semaphore(LIMIT)

    async def one() -> None:
        await semaphore.acquire()
        semaphore.release()

    return one


CONTENDERS: dict[str, Callable[[], Awaitable[Acquire]]] = {
    "altabots RateLimiter (acquire + refund)": lambda: _ours("refund"),
    "altabots RateLimiter (acquire + observe headers)": lambda: _ours("observe"),
    "aiolimiter.AsyncLimiter": _aiolimiter,
    "pyrate-limiter (in-memory)": _pyrate,
    "limits FixedWindow (async memory)": lambda: _limits("FixedWindowRateLimiter"),
    "limits MovingWindow (async memory)": lambda: _limits("MovingWindowRateLimiter"),
    "limits SlidingWindowCounter (async memory)": lambda: _limits(
        "SlidingWindowCounterRateLimiter"
    ),
    "asyncio.Semaphore (floor)": _semaphore,
}
HEADLINE = "altabots RateLimiter (acquire + refund)"
BASELINE = "aiolimiter.AsyncLimiter"


async def _measure(factory: Callable[[], Awaitable[Acquire]], tasks: int, calls: int) -> float:
    """Microseconds per acquire for ``calls`` acquisitions spread over ``tasks`` tasks."""
    one = await factory()
    for _ in range(200):
        await one()
    per_task = calls // tasks

    async def worker() -> None:
        for _ in range(per_task):
            await one()

    gc.collect()
    start = time.perf_counter()
    if tasks == 1:
        await worker()
    else:
        await asyncio.gather(*(worker() for _ in range(tasks)))
    return (time.perf_counter() - start) / (per_task * tasks) * 1e6


def run(quick: bool = False) -> dict[str, Any]:
    """Measure, write results/acquire.{json,md,png}; return the data."""
    calls = 5_000 if quick else 20_000
    repeats = 2 if quick else REPEATS
    samples: dict[str, dict[int, list[float]]] = {n: {t: [] for t in TASKS} for n in CONTENDERS}
    for _ in range(repeats):
        for name, factory in CONTENDERS.items():
            for tasks in TASKS:
                samples[name][tasks].append(asyncio.run(_measure(factory, tasks, calls)))
    cells = {n: {t: min(v) for t, v in per.items()} for n, per in samples.items()}
    ratios = {n: {t: cells[n][t] / cells[BASELINE][t] for t in TASKS} for n in cells}
    for name in cells:
        print(f"  {NAME}: {name}: {cells[name]}")
    data = {
        "calls_per_measurement": calls,
        "repeats": repeats,
        "us_per_acquire": cells,
        "ratio_vs_aiolimiter": ratios,
        "target": {"contender": HEADLINE, "max_ratio": 1.0},
        "met": all(ratios[HEADLINE][t] <= 1.0 for t in TASKS),
    }
    c.write(NAME, data, _markdown(data))
    _chart(cells)
    return data


def _markdown(data: dict[str, Any]) -> str:
    cells, ratios = data["us_per_acquire"], data["ratio_vs_aiolimiter"]
    rows = [
        [n, cells[n][1], f"{ratios[n][1]:.2f}", cells[n][1000], f"{ratios[n][1000]:.2f}"]
        for n in cells
    ]
    verdict = "met" if data["met"] else "missed"
    return "\n\n".join(
        [
            "## Acquire: one permit on a quota nobody exhausts",
            f"{data['calls_per_measurement']:,} acquisitions per measurement, best of"
            f" {data['repeats']} interleaved runs; each limiter allows 10^9 per hour. Reproduce:"
            " `python -m benchmarks acquire`.",
            c.table(
                [
                    "limiter",
                    "1 task: µs/acquire",
                    "ratio vs aiolimiter",
                    "1,000 tasks: µs/acquire",
                    "ratio vs aiolimiter",
                ],
                rows,
            ),
            f"Target (issue 3): `{HEADLINE}` ≤ 1.0x aiolimiter: **{verdict}**.",
            "![acquire](acquire.png)",
        ]
    )


def _chart(cells: dict[str, dict[int, float]]) -> None:
    plt = c.pyplot()
    names = list(cells)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    height = 0.38
    ys = range(len(names))
    ax.barh([y - height / 2 for y in ys], [cells[n][1] for n in names], height, label="1 task")
    ax.barh(
        [y + height / 2 for y in ys], [cells[n][1000] for n in names], height, label="1,000 tasks"
    )
    ax.set_yticks(list(ys), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("µs per acquire (log scale)")
    ax.set_title("Acquire + release on an unexhausted quota")
    ax.legend()
    fig.tight_layout()
    fig.savefig(c.chart_path(NAME), dpi=100)
    plt.close(fig)
