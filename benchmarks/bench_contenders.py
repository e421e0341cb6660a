"""Contenders (issue 6): the same quota-bound workload through four ways of calling the API.

The workload: ``CALLS`` calls of ``GET /v1/bot/detail`` by ``CONCURRENCY`` concurrent
workers, against the simulator in its own process on a plan of ``LIMIT`` requests per
``PERIOD`` seconds (epoch-aligned fixed windows), while an external consumer that nobody
tells the contenders about tries to eat ``EXTERNAL_SHARE`` of each window through the
simulator's admin API: half at the top of each window, the rest in slices over the other
nine tenths (of those it gets what a greedy contender left). Every run starts at a window
boundary on a fresh server state.

Contenders:

* **altabots-async**: this client, told the plan (``Quota.enterprise(LIMIT, PERIOD)``),
  default settings;
* **httpx + aiolimiter**: ``AsyncLimiter(LIMIT, PERIOD)`` in front of ``httpx.AsyncClient``,
  a 429 is a failed call;
* **httpx + stamina retry**: ``httpx.AsyncClient``, retrying 429s with stamina's jittered
  exponential backoff (10 attempts, 0.5 s initial wait, 5 s cap);
* **raw httpx**: ``httpx.AsyncClient``, no limiter, no retry.

Reported, from the server's log: requests sent, 429s caused, calls that failed, wasted calls
(requests that did not produce a successful call), and wall time against the theoretical
minimum: the start of the first window by which the quota left to us (``LIMIT`` minus what
the external consumer ate in each window) adds up to ``CALLS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from . import _common as c

NAME = "contenders"
CALLS = 2_000
CONCURRENCY = 200
LIMIT = 1_000
PERIOD = 5.0
EXTERNAL_SHARE = 0.30
SLICES = 10  # the external consumer eats a slice every PERIOD / SLICES (see _slices)
RUN_TIMEOUT = 120.0

Call = Callable[[], Awaitable[Any]]


@contextlib.asynccontextmanager
async def _altabots(url: str) -> AsyncIterator[Call]:
    from altabots_async import AsyncAltaBots, Quota

    quota = Quota.enterprise(LIMIT, PERIOD)
    async with AsyncAltaBots(c.BENCH_KEY, base_url=url, quota=quota) as client:
        yield client.agent.retrieve


@contextlib.asynccontextmanager
async def _aiolimiter(url: str) -> AsyncIterator[Call]:
    from aiolimiter import AsyncLimiter

    limiter = AsyncLimiter(LIMIT, PERIOD)
    async with httpx.AsyncClient(base_url=url, headers=c.AUTH, timeout=30) as http:

        async def call() -> Any:
            async with limiter:
                response = await http.get(c.ENDPOINT)
            response.raise_for_status()
            return response.json()

        yield call


def _is_429(exc: Exception) -> bool:
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 429


@contextlib.asynccontextmanager
async def _stamina(url: str) -> AsyncIterator[Call]:
    import stamina
    import stamina.instrumentation

    stamina.instrumentation.set_on_retry_hooks([])  # no log line per retry
    async with httpx.AsyncClient(base_url=url, headers=c.AUTH, timeout=30) as http:

        @stamina.retry(on=_is_429, attempts=10, wait_initial=0.5, wait_max=5.0, timeout=None)
        async def call() -> Any:
            response = await http.get(c.ENDPOINT)
            response.raise_for_status()
            return response.json()

        yield call


@contextlib.asynccontextmanager
async def _raw(url: str) -> AsyncIterator[Call]:
    async with httpx.AsyncClient(base_url=url, headers=c.AUTH, timeout=30) as http:

        async def call() -> Any:
            response = await http.get(c.ENDPOINT)
            response.raise_for_status()
            return response.json()

        yield call


CONTENDERS: dict[str, Callable[[str], contextlib.AbstractAsyncContextManager[Call]]] = {
    "altabots-async": _altabots,
    "httpx + aiolimiter": _aiolimiter,
    "httpx + stamina retry": _stamina,
    "raw httpx": _raw,
}


async def _admin(http: httpx.AsyncClient, method: str, action: str, body: Any = None) -> Any:
    response = await http.request(method, f"/__simulator__/{action}", json=body)
    response.raise_for_status()
    return response.json()


def _slices() -> list[int]:
    """What the external consumer asks for at each tenth of a window: half of its share at
    the top of the window (a job that runs on the hour, ahead of everyone), the rest spread
    over the other nine tenths (traffic the contenders only see as a falling Remaining)."""
    share = round(LIMIT * EXTERNAL_SHARE)
    top = share // 2
    rest = [(share - top) // (SLICES - 1)] * (SLICES - 1)
    rest[-1] += share - top - sum(rest)
    return [top, *rest]


async def _external(http: httpx.AsyncClient, start: float, stop: asyncio.Event) -> None:
    """Eat the slices of each window at every PERIOD / SLICES seconds, until stopped."""
    slices = _slices()
    step = PERIOD / SLICES
    tick = 1  # the first window's top slice was eaten before the contender started
    while not stop.is_set():
        delay = start + tick * step - time.time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, delay))
        if stop.is_set():
            return
        n = slices[tick % SLICES]
        await _admin(http, "POST", "consume", {"key": c.BENCH_KEY, "n": n})
        tick += 1


async def _run_contender(name: str, url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as admin:
        await _admin(admin, "POST", "reset")
        start = (time.time() // PERIOD + 1) * PERIOD + 0.02  # the next window boundary
        await asyncio.sleep(start - time.time())
        stop = asyncio.Event()
        await _admin(admin, "POST", "consume", {"key": c.BENCH_KEY, "n": _slices()[0]})
        external = asyncio.create_task(_external(admin, start, stop))
        ok = failed = 0
        errors: dict[str, int] = {}
        left = CALLS
        timed_out = False
        async with CONTENDERS[name](url) as call:

            async def worker() -> None:
                nonlocal ok, failed, left
                while left > 0:
                    left -= 1
                    try:
                        await call()
                    except Exception as exc:
                        failed += 1
                        kind = type(exc).__name__
                        if isinstance(exc, httpx.HTTPStatusError):
                            kind = f"HTTP {exc.response.status_code}"
                        errors[kind] = errors.get(kind, 0) + 1
                    else:
                        ok += 1

            t0 = time.time()
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(worker() for _ in range(CONCURRENCY))), RUN_TIMEOUT
                )
            except TimeoutError:
                timed_out = True
            wall = time.time() - t0
        stop.set()
        await external
        log = await _admin(admin, "GET", "log")
    return _summarize(name, log, start, wall, ok, failed, errors, timed_out)


def _summarize(
    name: str,
    log: list[dict[str, Any]],
    start: float,
    wall: float,
    ok: int,
    failed: int,
    errors: dict[str, int],
    timed_out: bool,
) -> dict[str, Any]:
    first_window = (start - 0.02) // PERIOD * PERIOD
    windows: dict[int, dict[str, int]] = {}
    for record in log:
        if record["window_start"] is None:
            continue
        index = round((record["window_start"] - first_window) / PERIOD)
        slot = windows.setdefault(index, {"ours": 0, "outside": 0, "429": 0})
        if record["method"] == "OUTSIDE":
            slot["outside"] += 1
        elif record["over_quota"]:
            slot["429"] += 1
        elif record["counted"]:
            slot["ours"] += 1
    ours = [r for r in log if r["method"] != "OUTSIDE"]
    rejected = sum(1 for r in ours if r["over_quota"])
    # Theoretical minimum: the first window by whose start the quota left to us covers CALLS.
    # Windows the external consumer did not reach (after the run) are assumed eaten as planned.
    planned_outside = round(LIMIT * EXTERNAL_SHARE)
    cumulative, index = 0, 0
    while True:
        outside = windows.get(index, {}).get("outside", planned_outside)
        if index not in windows:
            outside = planned_outside
        cumulative += LIMIT - outside
        if cumulative >= CALLS:
            break
        index += 1
    minimum = index * PERIOD
    result = {
        "contender": name,
        "calls": CALLS,
        "succeeded": ok,
        "failed": failed,
        "errors": errors,
        "timed_out": timed_out,
        "requests_sent": len(ours),
        "http_429": rejected,
        "wasted_calls": len(ours) - ok,
        "external_consumed": sum(1 for r in log if r["method"] == "OUTSIDE"),
        "over_quota_at_server": rejected,
        "wall_s": wall,
        "theoretical_min_s": minimum,
        "wall_vs_min": wall / minimum if minimum else float("nan"),
        "windows": {str(k): v for k, v in sorted(windows.items())},
    }
    print(f"  {NAME}: {json.dumps({k: v for k, v in result.items() if k != 'windows'})}")
    return result


def run(quick: bool = False) -> dict[str, Any]:
    """Run every contender once, write results/contenders.{json,md,png}; return the data."""
    plan = f"enterprise:{LIMIT}:{PERIOD:g}"
    with c.simulator_process(plan) as url:
        results = [asyncio.run(_run_contender(name, url)) for name in CONTENDERS]
    data = {
        "workload": {
            "calls": CALLS,
            "concurrency": CONCURRENCY,
            "limit": LIMIT,
            "period_s": PERIOD,
            "external_share": EXTERNAL_SHARE,
        },
        "results": results,
    }
    c.write(NAME, data, _markdown(data))
    _chart(results)
    return data


def _markdown(data: dict[str, Any]) -> str:
    rows = [
        [
            r["contender"],
            f"{r['wall_s']:.1f}" + (" (timed out)" if r["timed_out"] else ""),
            f"{r['theoretical_min_s']:.1f}",
            f"{r['wall_vs_min']:.2f}",
            r["succeeded"],
            r["failed"],
            r["requests_sent"],
            r["http_429"],
            r["wasted_calls"],
            r["external_consumed"],
        ]
        for r in data["results"]
    ]
    w = data["workload"]
    return "\n\n".join(
        [
            "## Contenders: the same quota-bound workload four ways (issue 6)",
            f"{w['calls']:,} calls, {w['concurrency']} concurrent, a quota of {w['limit']:,} per"
            f" {w['period_s']:g} s window, and an external consumer, unseen by the contenders,"
            f" trying to eat {w['external_share']:.0%} of each window, half at its top and half"
            " in nine later slices (of which it gets what the contender left: last column)."
            " One run each, each starting at a window"
            " boundary on a fresh simulator state. Counts are from the server's log."
            " Reproduce: `python -m benchmarks contenders`.",
            c.table(
                [
                    "contender",
                    "wall s",
                    "theoretical min s",
                    "wall / min",
                    "succeeded",
                    "failed",
                    "requests sent",
                    "429s caused",
                    "wasted calls",
                    "external consumer got",
                ],
                rows,
            ),
            "The theoretical minimum is the start of the first window by which the quota left"
            " over by the external consumer covers every call (the last calls then go out at"
            " once). Wasted calls are requests that did not yield a successful call.",
            "![contenders](contenders.png)",
        ]
    )


def _chart(results: list[dict[str, Any]]) -> None:
    plt = c.pyplot()
    fig, axes = plt.subplots(
        len(results), 1, figsize=(9, 2.3 * len(results)), sharex=True, sharey=True
    )
    last = max(max((int(k) for k in r["windows"]), default=0) for r in results)
    xs = list(range(last + 1))
    for ax, r in zip(axes, results, strict=True):
        ours = [r["windows"].get(str(i), {}).get("ours", 0) for i in xs]
        outside = [r["windows"].get(str(i), {}).get("outside", 0) for i in xs]
        rejected = [r["windows"].get(str(i), {}).get("429", 0) for i in xs]
        ax.bar(xs, ours, color="tab:blue", label="our calls served")
        ax.bar(xs, outside, bottom=ours, color="tab:gray", label="external consumer")
        tops = [a + b for a, b in zip(ours, outside, strict=True)]
        ax.bar(xs, rejected, bottom=tops, color="tab:red", label="429s (wasted)")
        ax.axhline(LIMIT, color="black", linewidth=0.8, linestyle="--")
        ax.set_title(
            f"{r['contender']}: {r['wall_s']:.1f} s (min {r['theoretical_min_s']:.0f} s),"
            f" {r['http_429']} x 429, {r['failed']} failed",
            fontsize=9,
        )
        ax.set_ylabel("requests")
    axes[0].legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel(f"window ({PERIOD:g} s each) since the start")
    axes[-1].set_xticks(xs)
    fig.tight_layout()
    fig.savefig(c.chart_path(NAME), dpi=100)
    plt.close(fig)
