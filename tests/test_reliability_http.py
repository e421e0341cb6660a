"""Fault matrix rows that need the HTTP path: R-11 cancel in flight with held responses,
R-14 retries and idempotency, R-15 streams and the connection pool.

The simulator's log is the authority on what reached the server and was processed.
"""

from __future__ import annotations

import collections
import json
import random
import statistics
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from altabots_async import (
    APIConnectionError,
    AsyncAltaBots,
    InternalServerError,
    Quota,
    RateLimiter,
)
from altabots_async._constants import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY
from altabots_async._transport import backoff_delay
from altabots_async.testing import Context, Faults, Plan, Response, Simulator, serve

from ._fakes import LoopClock
from ._virtual_time import virtual_params

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected"),
]

KEY = "sk-reliability-http"


# ============================================================================ R-14


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 6])
def test_r14_backoff_is_full_jitter(attempt: int) -> None:
    """Full jitter: uniform over [0, min(cap, base * 2**attempt)] (mean half the ceiling),
    with a coefficient of variation near 1/sqrt(3) across 100 clients."""
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0**attempt)
    delays = [backoff_delay(attempt, random.Random(client)) for client in range(100)]
    assert all(0.0 <= d <= ceiling for d in delays)
    mean = statistics.fmean(delays)
    cv = statistics.pstdev(delays) / mean
    assert cv >= 0.3
    assert 0.35 * ceiling <= mean <= 0.65 * ceiling
    assert len({round(d, 6) for d in delays}) == 100  # no two clients in lock step


class TestRetriesVirtualTime:
    @pytest.fixture(params=["asyncio", "trio"])
    def anyio_backend(self, request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
        return virtual_params(request.param)

    async def test_r14_100_clients_retrying_one_503_spread_out(self) -> None:
        """100 clients each get one 503 without Retry-After at the same instant: their
        retries are spread (coefficient of variation >= 0.3), each within the ceiling."""
        random.seed(14)
        first: dict[str, float] = {}
        retry: dict[str, float] = {}

        async def handler(request: httpx.Request) -> httpx.Response:
            client_id = request.headers["authorization"]
            now = anyio.current_time()
            if client_id not in first:
                first[client_id] = now
                return httpx.Response(503, json={"code": 50000, "message": "busy"})
            retry.setdefault(client_id, now)
            return httpx.Response(200, json={"code": 0, "data": {"bot_id": "b", "name": "n"}})

        async def one(index: int) -> None:
            async with AsyncAltaBots(
                f"sk-client-{index:03d}",
                transport=httpx.MockTransport(handler),
                limiter=RateLimiter(clock=LoopClock(), probe=False),
            ) as client:
                await client.agent.retrieve()

        async with anyio.create_task_group() as tg:
            for index in range(100):
                tg.start_soon(one, index)
        delays = [retry[c] - first[c] for c in first]
        assert len(delays) == 100
        assert all(0.0 <= d <= INITIAL_RETRY_DELAY for d in delays)
        cv = statistics.pstdev(delays) / statistics.fmean(delays)
        assert cv >= 0.3, cv

    async def test_r14_retry_after_on_503_is_honoured(self) -> None:
        """A 503 with Retry-After: 3 is retried no sooner than 3 s later (the limiter's
        freeze, shared by every caller of the key)."""
        seen: list[float] = []

        async def handler(request: httpx.Request) -> httpx.Response:
            seen.append(anyio.current_time())
            if len(seen) == 1:
                return httpx.Response(503, json={"code": 50000}, headers={"retry-after": "3"})
            return httpx.Response(200, json={"code": 0, "data": {"bot_id": "b", "name": "n"}})

        async with AsyncAltaBots(
            KEY,
            transport=httpx.MockTransport(handler),
            limiter=RateLimiter(clock=LoopClock(), probe=False),
        ) as client:
            raw = await client.agent.with_raw_response.retrieve()
        assert raw.retries_taken == 1
        assert len(seen) == 2
        assert seen[1] - seen[0] >= 3.0


async def test_r14_faults_never_duplicate_a_post_and_charge_every_attempt(
    make_client: Any, transport_name: str
) -> None:
    """5xx 20 %, connection reset before counting 5 %, disconnect after processing 5 %
    (and, in process, connect errors 5 %), over GETs and POSTs with max_retries=5:

    * every POST reached the server's counter at most once (0 duplicates);
    * GETs were retried (some needed several attempts) and all but a few succeeded;
    * every attempt was charged: the server never counted one beyond a window's limit;
    * failures that surfaced are the typed ones, and only for POSTs that may have been
      processed or GETs out of retries.
    """
    faults = Faults(error_rate=0.2, reset_rate=0.05, disconnect_rate=0.05)
    if transport_name == "httpx":
        faults.connect_error_rate = 0.05
    sim = Simulator({KEY: Plan.enterprise(120, 2.0)}, faults=faults, seed=1414)
    client = await make_client(sim, api_key=KEY, max_retries=5, quota=Quota(120, 2.0))
    outcomes: collections.Counter[str] = collections.Counter()
    surfaced: list[BaseException] = []

    async def post(index: int) -> None:
        try:
            await client.conversations.create(user_id=f"user-{index:04d}")
            outcomes["post-ok"] += 1
        except (APIConnectionError, InternalServerError) as exc:
            outcomes["post-failed"] += 1
            surfaced.append(exc)

    async def get() -> None:
        try:
            await client.agent.retrieve()
            outcomes["get-ok"] += 1
        except (APIConnectionError, InternalServerError) as exc:
            outcomes["get-failed"] += 1
            surfaced.append(exc)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for index in range(120):
                tg.start_soon(post, index)
                tg.start_soon(get)

    per_post: collections.Counter[str] = collections.Counter()
    for record in sim.log:
        if record.method == "POST" and record.counted and record.body:
            per_post[json.loads(record.body)["user_id"]] += 1
    assert per_post and max(per_post.values()) == 1  # 0 duplicate POSTs
    assert sim.over_quota_count(KEY) <= 1  # a 429 is possible only as a lesson, never a loss
    counts = sim.counted_per_window(KEY)
    assert max(counts.values()) <= 120
    gets_seen = sum(1 for r in sim.log if r.method == "GET")
    assert gets_seen > 120  # GETs were retried
    assert outcomes["get-ok"] >= 115
    assert outcomes["post-ok"] + outcomes["post-failed"] == 120
    assert outcomes["post-failed"] >= 1  # some POSTs were maybe-processed: not resent
    status = client.rate_limit
    assert (status.queued, status.in_flight) == (0, 0)


# ============================================================================ R-11


async def test_r11_cancel_in_flight_with_held_responses(make_client: Any) -> None:
    """20 requests processed by the server, their responses held; the callers are
    cancelled: every permit counts as spent (no refund, no double release), nothing is left
    in flight, and the client works on once the server lets go."""
    hold = anyio.Event()
    sim = Simulator({KEY: Plan.enterprise(100, 3600.0)})
    client = await make_client(sim, api_key=KEY, max_retries=0)
    await client.agent.verify_key()  # the probe, answered at once
    sim.faults.hold = hold
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.agent.retrieve)
            while sum(1 for r in sim.log if r.path == "/v1/bot/detail") < 20:
                await anyio.sleep(0.01)
            tg.cancel_scope.cancel()
        status = client.rate_limit
        hold.set()
        agent = await client.agent.retrieve()
    assert agent.name
    assert status.in_flight == 0
    assert status.refunded == 0
    assert status.granted == 21
    assert status.cancelled == 0  # not queued when cancelled: they were sent
    served = sum(1 for r in sim.log if r.counted)
    assert served == 22
    after = client.rate_limit
    assert (after.granted, after.in_flight, after.refunded) == (22, 0, 0)


# ============================================================================ R-15


def add_stall_route(sim: Simulator) -> None:
    """``GET /v1/test/stall``: one event, then nothing (a read timeout mid-stream)."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'data: {"code": 3, "data": "x"}\n\n'
        await anyio.sleep_forever()

    @sim.route("GET", "/v1/test/stall")
    async def stall(ctx: Context) -> Response:
        return Response.stream(chunks())


async def stream_cycles(cycles: int, timeouts: int, anyio_backend_name: str) -> None:
    sim = Simulator({KEY: Plan.enterprise(100_000, 3600.0)})
    add_stall_route(sim)
    pool = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    transport = httpx.AsyncHTTPTransport(limits=pool)
    timeout = httpx.Timeout(10.0, read=0.2, pool=5.0)
    async with serve(sim) as url:
        client = AsyncAltaBots(KEY, base_url=url, transport=transport, timeout=timeout)
        async with client:
            conversation = await client.conversations.create(user_id="u-stream")
            with anyio.fail_after(300):
                for index in range(cycles):
                    stream = client.conversations.stream_message(
                        conversation.conversation_id, f"hello {index}"
                    )
                    async with stream:
                        async for _ in stream:
                            break  # one event, then away
                for _ in range(timeouts):
                    response = await client._send(client._build_request("GET", "v1/test/stall"))
                    with pytest.raises(httpx.ReadTimeout):
                        async for _ in response.aiter_raw():
                            pass
                    await response.aclose()
                # the pool is healthy: 20 calls at once, no PoolTimeout
                async with anyio.create_task_group() as tg:
                    for _ in range(20):
                        tg.start_soon(client.agent.retrieve)
            status = client.rate_limit
            busy = [c for c in transport._pool.connections if not c.is_idle()]
    assert busy == []
    assert status.in_flight == 0
    assert status.granted == 1 + cycles + timeouts + 20  # each stream's permit counted once
    assert sim.over_quota_count(KEY) == 0


async def test_r15_stream_cycles_and_mid_stream_timeouts(anyio_backend_name: str) -> None:
    """200 cycles of open / read one event / leave, and 20 read timeouts mid-stream, on a
    pool of 10: no connection left busy, no PoolTimeout after, one permit per stream."""
    await stream_cycles(200, 20, anyio_backend_name)


@pytest.mark.slow
async def test_r15_stream_cycles_soak(anyio_backend_name: str) -> None:
    await stream_cycles(1000, 100, anyio_backend_name)


# ============================================================================ R-06 (soak)


@pytest.mark.slow
async def test_r06_one_process_load_soak(make_client: Any) -> None:
    """500 tasks, 40 per 5 s, latency 5-300 ms (responses reordered), 60 s: 0 over quota,
    0 429s, every full window used, wall time within one period of the floor. (CI size:
    ``test_proofs.py::test_500_tasks_zero_over_quota_full_use``.)"""
    limit, period, windows = 40, 5.0, 12
    sim = Simulator(
        {KEY: Plan.enterprise(limit, period)}, faults=Faults(latency=(0.005, 0.3)), seed=6
    )
    client = await make_client(sim, api_key=KEY)
    calls = limit * windows
    remaining = calls
    started = anyio.current_time()

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await client.agent.retrieve()

    with anyio.fail_after(windows * period * 2 + 30):
        async with anyio.create_task_group() as tg:
            for _ in range(500):
                tg.start_soon(worker)
    elapsed = anyio.current_time() - started
    counts = sim.counted_per_window(KEY)
    shares = [counts[w] / limit for w in sorted(counts)[1:-1]]
    assert sim.over_quota_count(KEY) == 0
    assert all(r.status != 429 for r in sim.log)
    assert all(share >= 0.995 for share in shares), shares
    assert elapsed <= (windows - 1) * period * 1.01 + 2 * period


# ============================================================================ R-07 (soak)


@pytest.mark.slow
async def test_r07_outside_consumer_soak(make_client: Any) -> None:
    """An unseen consumer spending 30 % of every window in three bursts at random
    moments, 100 per 5 s, 12 windows, 500 tasks: 0 errors surfaced, 429s <= 2 % of calls, >= 95 % of
    what the outsider left used. (CI size: ``test_proofs.py::test_outside_consumer``.)"""
    import math

    limit, period, windows = 100, 5.0, 12  # at 40 per window one 429 is already 3.6 %
    share = int(limit * 0.3)
    sim = Simulator(
        {KEY: Plan.enterprise(limit, period)}, faults=Faults(latency=(0.005, 0.3)), seed=7
    )
    client = await make_client(sim, api_key=KEY, max_retries=5)
    rng = random.Random(70)
    calls = (limit - share) * windows
    remaining = calls
    errors: list[BaseException] = []
    done = anyio.Event()

    async def outsider() -> None:
        while not done.is_set():
            window = math.floor(sim.now() / period)
            for _ in range(3):
                sim.consume(KEY, share // 3)
                await anyio.sleep(rng.uniform(0.05, period / 3))
            while math.floor(sim.now() / period) == window and not done.is_set():
                await anyio.sleep(0.02)

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            try:
                await client.agent.retrieve()
            except Exception as exc:
                errors.append(exc)

    with anyio.fail_after(windows * period * 3 + 30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(outsider)
            async with anyio.create_task_group() as inner:
                for _ in range(500):
                    inner.start_soon(worker)
            done.set()

    ours_429 = sum(1 for r in sim.log if r.status == 429 and r.method != "OUTSIDE")
    assert errors == []
    assert ours_429 <= 0.02 * calls
    ours = collections.Counter(
        r.window_start for r in sim.log if r.counted and r.method != "OUTSIDE"
    )
    full = [ours[w] for w in sorted(ours)[1:-1]]
    left = limit - 3 * (share // 3)  # what the outsider leaves in each window
    assert sum(full) >= 0.95 * left * len(full), full
