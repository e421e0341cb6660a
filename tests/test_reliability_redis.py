"""Redis rows the backend's own tests leave open: D-03 (the scripts read time from Redis
``TIME`` only, so a worker's skewed clock cannot move a window) and D-09 (hostile key
state: keys deleted between calls, a key of the wrong type planted, TTLs removed by hand).

Real ``redis-server`` (``REDIS_URL``), a fresh key prefix per test.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator

import anyio
import pytest
import time_machine

from altabots_async import AltaBotsError, BackendUnavailableError, RateLimiter
from altabots_async.ratelimit.backends import _redis_scripts
from altabots_async.ratelimit.backends.redis import RedisBackend

from ._redis_support import dump_prefix

pytestmark = [pytest.mark.redis, pytest.mark.anyio, pytest.mark.timeout(60)]

KEY_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def anyio_backend() -> str:
    """redis.asyncio runs on asyncio only."""
    return "asyncio"


@pytest.fixture
async def limiter(redis_url: str, prefix: str) -> AsyncIterator[RateLimiter]:
    backend = RedisBackend(redis_url, prefix=prefix)
    yield RateLimiter(backend=backend)
    await backend.aclose()


def headers(limit: int, remaining: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(time.time()) + 30),
    }


async def one_call(limiter: RateLimiter, remaining: int) -> None:
    lease = await limiter.acquire(KEY_ID, max_wait=5.0)
    await lease.observe(200, headers(100, remaining))


# ============================================================================ D-03


def test_d03_scripts_take_no_client_timestamp() -> None:
    """Every script reads the clock with ``redis.call('TIME')``; no ARGV is a timestamp
    (the client passes only durations, limits and counts)."""
    sources = {
        name: value
        for name, value in vars(_redis_scripts).items()
        if isinstance(value, str) and "redis.call" in value
    }
    assert sources
    uses_time = [name for name, text in sources.items() if "'TIME'" in text or '"TIME"' in text]
    assert uses_time
    for name, text in sources.items():
        for match in re.finditer(r"local (\w+)\s*=\s*tonumber\(ARGV\[[^\]]+\]\)", text):
            words = match.group(1).lower().split("_")
            assert not {"now", "time", "ts", "stamp", "timestamp", "clock"} & set(words), (
                name,
                match,
            )


async def test_d03_a_worker_whose_clock_is_off_by_an_hour_shares_the_same_windows(
    limiter: RateLimiter, redis_url: str, prefix: str
) -> None:
    """Two acquires around a 3,600 s step of this process's wall clock land in one Redis
    window state (no second window appears, counts continue)."""
    await one_call(limiter, 99)
    before = dump_prefix(redis_url, prefix)
    with time_machine.travel(time.time() + 3600, tick=True):
        lease = await limiter.acquire(KEY_ID, max_wait=5.0)
        await lease.refund()
    after = dump_prefix(redis_url, prefix)
    assert set(after) == set(before)


# ============================================================================ D-09


async def test_d09_keys_deleted_between_calls_reinitialise(
    limiter: RateLimiter, redis_url: str, prefix: str
) -> None:
    import redis

    await one_call(limiter, 99)
    client = redis.Redis.from_url(redis_url)
    try:
        for _ in range(3):
            for key in client.scan_iter(match=f"{prefix}:*"):
                client.delete(key)
            await one_call(limiter, 98)  # no Lua error: the state is rebuilt
    finally:
        client.close()


@pytest.mark.parametrize("planted", ["string", "list", "zset", "hash"])
async def test_d09_a_key_of_the_wrong_type_gives_a_typed_error_or_recovers(
    limiter: RateLimiter, redis_url: str, prefix: str, planted: str
) -> None:
    """Every key of ours replaced by one of another type: the next calls either work
    (re-initialised) or raise our typed error, never a raw Redis/Lua error."""
    import redis

    await one_call(limiter, 99)
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        assert keys
        for key in keys:
            kind = client.type(key).decode()
            client.delete(key)
            target = planted if planted != kind else ("string" if kind != "string" else "list")
            if target == "string":
                client.set(key, "garbage", ex=60)
            elif target == "list":
                client.rpush(key, "garbage")
                client.expire(key, 60)
            elif target == "zset":
                client.zadd(key, {"garbage": 1.0})
                client.expire(key, 60)
            else:
                client.hset(key, mapping={"garbage": "x"})
                client.expire(key, 60)
        outcomes: list[str] = []
        for _ in range(3):
            try:
                await one_call(limiter, 98)
                outcomes.append("ok")
            except AltaBotsError as exc:
                outcomes.append(type(exc).__name__)
            except redis.RedisError as exc:  # a raw error is the failure this test looks for
                pytest.fail(f"raw Redis error surfaced: {type(exc).__name__}: {exc}")
        assert outcomes
    finally:
        client.close()


async def test_d09_ttls_removed_by_hand_come_back_and_no_key_is_left_without_one(
    limiter: RateLimiter, redis_url: str, prefix: str
) -> None:
    import redis

    await one_call(limiter, 99)
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.persist(key)
        for remaining in (98, 97, 96):
            await one_call(limiter, remaining)
    finally:
        client.close()
    dump = dump_prefix(redis_url, prefix)
    assert dump
    without_ttl = [key for key, (_, pttl) in dump.items() if pttl < 0]
    assert without_ttl == []


# ============================================================================ D-08


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _redis_server(binary: str, port: int) -> subprocess.Popen[bytes]:
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_ping(port: int) -> None:
    import redis

    client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)  # a subprocess starting: nothing to await
        raise AssertionError(f"redis-server on {port} did not start")
    finally:
        client.close()


async def test_d08_read_only_primary_gives_typed_errors_then_recovers() -> None:
    """Our Redis becomes a replica mid-run (READONLY): acquires fail with our typed error
    (never a raw READONLY), and within 1 s of it being writable again they succeed."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not found")
    primary_port, other_port = _free_port(), _free_port()
    procs = [_redis_server(binary, primary_port), _redis_server(binary, other_port)]
    admin = redis.Redis(port=primary_port)
    backend = RedisBackend(f"redis://127.0.0.1:{primary_port}/0", timeout=0.3, retry_interval=0.1)
    limiter = RateLimiter(backend=backend, probe=False)
    try:
        _wait_ping(primary_port)
        _wait_ping(other_port)
        lease = await limiter.acquire(KEY_ID)
        await lease.refund()
        admin.replicaof("127.0.0.1", other_port)
        errors: list[str] = []
        for _ in range(5):
            try:
                lease = await limiter.acquire(KEY_ID, max_wait=1.0)
                await lease.refund()
            except AltaBotsError as exc:
                errors.append(type(exc).__name__)
            except redis.RedisError as exc:
                pytest.fail(f"raw Redis error surfaced: {type(exc).__name__}: {exc}")
        assert errors, "a read-only Redis accepted our writes"
        admin.replicaof("no", "one")
        writable_at = time.monotonic()
        while True:
            try:
                lease = await limiter.acquire(KEY_ID, max_wait=1.0)
                await lease.refund()
                break
            except AltaBotsError:
                assert time.monotonic() - writable_at < 1.0 + 0.5
                await anyio.sleep(0.05)
        assert time.monotonic() - writable_at <= 1.0 + 0.5
    finally:
        admin.close()
        await backend.aclose()
        for proc in procs:
            proc.terminate()
            proc.wait(5)


# ============================================================================ D-06


async def _stall_run(ops_after: int) -> None:
    import os
    import signal

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not found")
    port = _free_port()
    proc = _redis_server(binary, port)
    backend = RedisBackend(f"redis://127.0.0.1:{port}/0", timeout=0.3, retry_interval=0.1)
    limiter = RateLimiter(backend=backend, probe=False)
    durations: list[float] = []
    outcomes: dict[str, int] = {"ok": 0, "unavailable": 0}
    running = True

    async def worker() -> None:
        while running:
            started = time.monotonic()
            try:
                lease = await limiter.acquire(KEY_ID, max_wait=1.0)
                await lease.refund()
                outcomes["ok"] += 1
            except BackendUnavailableError:
                outcomes["unavailable"] += 1
                await anyio.sleep(0.01)
            durations.append(time.monotonic() - started)

    try:
        _wait_ping(port)
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(worker)
            await anyio.sleep(0.5)
            os.kill(proc.pid, signal.SIGSTOP)
            await anyio.sleep(3.0)
            os.kill(proc.pid, signal.SIGCONT)
            await anyio.sleep(1.0)
            running = False
        assert outcomes["unavailable"] > 0 and outcomes["ok"] > 0, outcomes
        # every acquire returned or raised within the backend timeout (+ a generous margin
        # for a loaded 2-core machine; the row's figure is 50 ms)
        assert max(durations) <= 0.3 + 0.5, max(durations)
        for _ in range(ops_after):  # afterwards: every operation answers, state consistent
            lease = await limiter.acquire(KEY_ID, max_wait=1.0)
            await lease.refund()
        status = limiter.status(KEY_ID)
        assert status.in_flight == 0
    finally:
        await backend.aclose()
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(5)


async def test_d06_redis_stalled_by_sigstop_under_load() -> None:
    """SIGSTOP the redis-server for 3 s under 20 looping callers: each call returns or
    raises BackendUnavailableError within the timeout, and 1,000 operations afterwards all
    succeed."""
    await _stall_run(1_000)


@pytest.mark.slow
async def test_d06_redis_stalled_by_sigstop_under_load_soak() -> None:
    await _stall_run(10_000)


# ============================================================================ D-07


class DelayProxy:
    """A loopback TCP proxy adding ``delay`` seconds to every chunk, each way (asyncio)."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> DelayProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pump(source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                await asyncio.sleep(self.delay)
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()


async def _cancel_run(calls: int, redis_url: str, prefix: str) -> None:
    import random

    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    rng = random.Random(7)
    async with DelayProxy(port, 0.05) as proxy:
        backend = RedisBackend(
            f"redis://127.0.0.1:{proxy.port}/0",
            prefix=prefix,
            timeout=2.0,
            lease_ttl=2.0,
            heartbeat=0.5,
            max_connections=8,
        )
        limiter = RateLimiter(backend=backend, probe=False, max_in_flight=50)
        outcomes: dict[str, int] = {"ok": 0, "cancelled": 0}

        async def one() -> None:
            with anyio.move_on_after(rng.uniform(0.0, 1.0)) as scope:
                lease = await limiter.acquire(KEY_ID)
                try:
                    await anyio.sleep(rng.uniform(0.0, 0.05))
                except BaseException:
                    with anyio.CancelScope(shield=True):
                        await lease.settle_unknown()
                    raise
                await lease.observe(200, {})
                outcomes["ok"] += 1
            if scope.cancelled_caught:
                outcomes["cancelled"] += 1

        try:
            async with anyio.create_task_group() as tg:
                for _ in range(calls):
                    tg.start_soon(one)
            pool = backend.client.connection_pool
            opened = len(pool._available_connections) + len(pool._in_use_connections)
            assert opened <= 8  # never more than the pool's size
            # redis-py answers every command with its own reply afterwards
            for index in range(20):
                assert await backend.client.echo(f"m{index}") == f"m{index}".encode()
        finally:
            await backend.aclose()
    assert outcomes["ok"] > 0 and outcomes["cancelled"] > 0, outcomes
    assert outcomes["ok"] + outcomes["cancelled"] == calls
    await anyio.sleep(2.0 + 0.5)  # one lease TTL: whatever a cancellation left must be gone
    leases = [
        (key, value)
        for key, (value, _) in dump_prefix(redis_url, prefix).items()
        if key.endswith(b":l") and value
    ]
    assert leases == []


async def test_d07_cancel_during_redis_calls_through_a_slow_proxy(
    redis_url: str, prefix: str
) -> None:
    """300 acquires cancelled at random moments while every Redis round trip takes
    100 ms more (a delaying proxy): no wrong reply afterwards, the pool stays within its
    size, and no lease outlives its TTL."""
    await _cancel_run(300, redis_url, prefix)


@pytest.mark.slow
async def test_d07_cancel_during_redis_calls_soak(redis_url: str, prefix: str) -> None:
    await _cancel_run(1_000, redis_url, prefix)


# ============================================================================ R-13 at L3


async def _redis_herd(
    workers: int, per_worker: int, limit: int, redis_url: str, prefix: str
) -> None:
    from ._fakes import ModelServer

    class WallServer(ModelServer):
        def now(self) -> float:
            return time.time()

    period = 2.0
    server = WallServer(limit, period)
    backends = [RedisBackend(redis_url, prefix=prefix) for _ in range(workers)]
    limiters = [RateLimiter(backend=b) for b in backends]
    admitted_at: list[float] = []

    async def call(limiter: RateLimiter) -> None:
        lease = await limiter.acquire(KEY_ID)
        admitted_at.append(time.time())
        status, answer = server.handle()
        await lease.observe(status, answer)

    try:
        # wait for a fresh server window, then spend it so that everybody below waits
        await anyio.sleep(period - time.time() % period + 0.05)
        for _ in range(limit):
            await call(limiters[0])
        with anyio.fail_after(period * (workers * per_worker // limit + 4) + 10):
            async with anyio.create_task_group() as tg:
                for limiter in limiters:
                    for _ in range(per_worker):
                        tg.start_soon(call, limiter)
    finally:
        for backend in backends:
            await backend.aclose()
    assert server.over_quota == 0  # 0 429s: nobody ran into a window beyond its limit
    counts = [server.count[w] for w in sorted(server.count)]
    assert max(counts) <= limit
    assert counts[1] == limit  # the first window after the reset: exactly Limit
    assert len(admitted_at) == limit + workers * per_worker


async def test_r13_herd_at_reset_across_four_redis_workers(redis_url: str, prefix: str) -> None:
    """R-13 at L3 (CI size): 4 workers x 50 waiters on one Redis quota of 50 per 2 s,
    blocked at a reset: the first window after it admits exactly the limit, 0 429s."""
    await _redis_herd(4, 50, 50, redis_url, prefix)


@pytest.mark.slow
async def test_r13_herd_at_reset_across_four_redis_workers_soak(
    redis_url: str, prefix: str
) -> None:
    """The row's size: 4 x 250 waiters."""
    await _redis_herd(4, 250, 100, redis_url, prefix)
