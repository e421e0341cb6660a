"""Both HTTP stacks behave the same: errors, timeouts, streaming, cancellation, accounting.

Every test runs against the simulator served on a loopback port (uvicorn), once through
httpx's own pool and once through the aiohttp adapter (asyncio only: aiohttp has no trio
support). The ``make_client`` fixture in ``conftest.py`` runs the rest of the suite on the
transport that ``ALTABOTS_TEST_TRANSPORT`` names.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from altabots_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncAltaBots,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from altabots_async import _aiohttp as stacks
from altabots_async._client import make_inner_transport
from altabots_async._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_MAX_IN_FLIGHT
from altabots_async.testing import Context, Plan, Response, Simulator, serve

pytestmark = pytest.mark.anyio

KEY = "sk-transport-test"
LIMIT = 1_000


@pytest.fixture(params=["httpx", "aiohttp"])
def stack(request: pytest.FixtureRequest, anyio_backend_name: str) -> str:
    """The HTTP stack under test (aiohttp on asyncio only)."""
    if request.param == "aiohttp" and anyio_backend_name != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


@pytest.fixture
def sim() -> Simulator:
    """A simulator on the real clock with a quota these tests never exhaust by accident."""
    return Simulator({KEY: Plan.enterprise(LIMIT, 3600.0)})


@pytest.fixture
async def url(sim: Simulator) -> AsyncIterator[str]:
    """The simulator served on loopback."""
    async with serve(sim) as base_url:
        yield base_url


def inner(stack: str, **limits: Any) -> httpx.AsyncBaseTransport:
    """A fresh inner transport of ``stack`` (optionally with other pool limits)."""
    if not limits:
        return make_inner_transport(stack)  # type: ignore[arg-type]
    pool = httpx.Limits(**limits)
    if stack == "aiohttp":
        return stacks.aiohttp_transport(limits=pool)
    return httpx.AsyncHTTPTransport(limits=pool)


def client_for(url: str, stack: str, **options: Any) -> AsyncAltaBots:
    """A client of ``url`` sending through ``stack``."""
    options.setdefault("transport", stack)
    return AsyncAltaBots(KEY, base_url=url, **options)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- choosing the stack


async def test_named_stacks_report_their_name(stack: str) -> None:
    """transport="httpx" / "aiohttp" say so in transport_name and repr."""
    client = client_for("http://127.0.0.1:1", stack)

    assert stack == client.transport_name
    assert f"transport={stack}" in repr(client)
    await client.aclose()


def test_auto_outside_a_loop_decides_at_first_request() -> None:
    """A client built outside any loop says "auto" until its first request picks a stack."""
    client = AsyncAltaBots(KEY, base_url="http://127.0.0.1:1")

    assert client.transport_name == "auto"


async def test_auto_picks_aiohttp_on_asyncio_and_httpx_on_trio(
    url: str, anyio_backend_name: str
) -> None:
    """Auto: aiohttp on asyncio when installed, httpx under trio; named once chosen."""
    expected = "aiohttp" if anyio_backend_name == "asyncio" else "httpx"
    auto = stacks.AutoTransport()
    async with AsyncAltaBots(KEY, base_url=url, transport=auto) as client:
        await client.agent.retrieve()

        assert expected == client.transport_name


async def test_auto_falls_back_to_httpx_without_aiohttp(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the aiohttp extra, "auto" sends through httpx."""
    monkeypatch.setattr(stacks, "aiohttp_available", lambda: False)
    async with client_for(url, "auto") as client:
        await client.agent.retrieve()

        assert client.transport_name == "httpx"


async def test_aiohttp_under_trio_is_a_clear_error(url: str, anyio_backend_name: str) -> None:
    """transport="aiohttp" under trio fails with a ConfigurationError, not a loop error."""
    if anyio_backend_name != "trio":
        pytest.skip("trio only")
    from altabots_async import ConfigurationError

    async with client_for(url, "aiohttp", max_retries=0) as client:
        with pytest.raises(ConfigurationError, match="asyncio only"):
            await client.agent.retrieve()


def test_sniffio_is_importable() -> None:
    """sniffio is a runtime dependency: without it httpcore retries its import per request."""
    import sniffio

    assert callable(sniffio.current_async_library)


def test_package_imports_without_aiohttp_loaded() -> None:
    """Importing the client does not import aiohttp (it is loaded at the first request)."""
    code = "import sys, altabots_async; print('aiohttp' in sys.modules)"
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------- success and accounting


async def test_concurrent_calls_are_accounted_identically(
    url: str, stack: str, sim: Simulator
) -> None:
    """20 concurrent calls: all succeed, the limiter and the server agree on every count."""
    async with client_for(url, stack) as client:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.agent.retrieve)
        status = client.rate_limit
        last = client.last_rate_limit

    assert (status.granted, status.in_flight, status.queued) == (20, 0, 0)
    assert sim.counted_per_window(KEY).popitem()[1] == 20
    assert last is not None
    assert status.remaining == LIMIT - 20
    assert sim.over_quota_count() == 0


# ---------------------------------------------------------------------- errors


async def test_status_errors_map_the_same(url: str, stack: str, sim: Simulator) -> None:
    """401, 404, 5xx and 429 surface as the same exception classes on both stacks."""
    async with AsyncAltaBots("sk-unknown", base_url=url, transport=stack) as bad:
        with pytest.raises(AuthenticationError):
            await bad.agent.retrieve()
    async with client_for(url, stack, max_retries=0) as client:
        with pytest.raises(NotFoundError):
            await client._request("GET", "v1/no/such/path", cast_to=dict)
        sim.faults.error_rate = 1.0
        with pytest.raises(InternalServerError):
            await client.agent.retrieve()
        sim.faults.error_rate = 0.0
        sim.consume(KEY, LIMIT)
        with pytest.raises(RateLimitError):
            await client.agent.retrieve()
        status = client.rate_limit

    assert status.throttled == 1
    assert status.in_flight == 0


async def test_connect_error_is_never_sent_and_refunded(stack: str) -> None:
    """Nobody listening: APIConnectionError from httpx.ConnectError; every permit refunded."""
    url = f"http://127.0.0.1:{closed_port()}"
    async with client_for(url, stack, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.agent.retrieve()
        status = client.rate_limit

    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert (status.granted, status.refunded, status.in_flight) == (1, 1, 0)


async def test_disconnect_after_processing_is_not_resent(
    url: str, stack: str, sim: Simulator
) -> None:
    """The server processes a POST, then drops the connection: maybe processed, not resent."""
    sim.faults.disconnect_rate = 1.0
    async with client_for(url, stack, max_retries=3) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.conversations.create(user_id="u1")

    cause = info.value.__cause__
    assert isinstance(cause, httpx.RemoteProtocolError | httpx.ReadError)
    assert not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)
    assert len(sim.requests("/v1/conversation")) == 1


async def test_read_timeout_maps_to_timeout(url: str, stack: str, sim: Simulator) -> None:
    """A response that never comes: APITimeoutError from an httpx.TimeoutException."""
    sim.faults.stall_rate = 1.0
    sim.faults.stall_seconds = 0.5  # the server finishes on its own before shutdown
    timeout = httpx.Timeout(5.0, read=0.05)
    async with client_for(url, stack, max_retries=0, timeout=timeout) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.agent.retrieve()
        status = client.rate_limit

    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert (status.granted, status.in_flight) == (1, 0)


def test_aiohttp_errors_map_by_what_is_known() -> None:
    """The adapter's table: never-sent failures are connect errors, the rest are not."""
    if importlib.util.find_spec("aiohttp") is None:
        pytest.skip("aiohttp not installed")
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    key = ConnectionKey("h", 1, False, True, None, None, None)
    cases = [
        (aiohttp.ClientConnectorError(key, OSError(111, "refused")), httpx.ConnectError),
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError("read"), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.ClientError("other"), httpx.TransportError),
    ]
    mapped = [type(stacks.map_aiohttp_error(exc)) for exc, _ in cases]
    wrapped = httpx.ConnectTimeout("as httpx-aiohttp maps it")
    wrapped.__cause__ = aiohttp.ServerDisconnectedError()

    assert [expected for _, expected in cases] == mapped
    assert isinstance(stacks.map_aiohttp_error(wrapped), httpx.RemoteProtocolError)
    assert stacks.map_aiohttp_error(ValueError("not ours")) is None


# ---------------------------------------------------------------------- streaming, cancellation


def add_stream_route(sim: Simulator, release: threading.Event) -> None:
    """``GET /v1/test/stream``: one chunk, then nothing until ``release`` is set."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: first\n\n"
        await anyio.to_thread.run_sync(release.wait)
        yield b"data: last\n\n"

    @sim.route("GET", "/v1/test/stream")
    async def stream(ctx: Context) -> Response:
        return Response.stream(chunks())


def add_slow_route(sim: Simulator, arrived: threading.Event, release: threading.Event) -> None:
    """``GET /v1/test/slow``: signals ``arrived``, answers once ``release`` is set."""

    @sim.route("GET", "/v1/test/slow")
    async def slow(ctx: Context) -> Response:
        arrived.set()
        await anyio.to_thread.run_sync(release.wait)
        return Response.json({"ok": True})


async def test_stream_closed_early_releases_the_connection(
    url: str, stack: str, sim: Simulator
) -> None:
    """aclose() on a half-read stream frees its connection: a pool of one serves the next."""
    release = threading.Event()
    add_stream_route(sim, release)
    transport = inner(stack, max_connections=1, max_keepalive_connections=1)
    try:
        async with client_for(url, stack, transport=transport) as client:
            with anyio.fail_after(10):
                # Headers in, the body left unread (its first chunk is on the wire), closed.
                # (Reading part of it through httpx's nested generators trips trio's
                # async-generator finalizer warnings, unrelated to what is tested here.)
                response = await client._send(client._build_request("GET", "v1/test/stream"))
                content_type = response.headers["content-type"]
                await response.aclose()
                agent = await client.agent.retrieve()
            status = client.rate_limit
    finally:
        release.set()

    assert content_type.startswith("text/event-stream")
    assert response.is_closed
    assert agent.name
    assert (status.granted, status.in_flight) == (2, 0)


async def test_cancelled_request_releases_connection_and_counts(
    url: str, stack: str, sim: Simulator
) -> None:
    """A call cancelled in flight counts as sent and frees its connection (pool of one)."""
    arrived, release = threading.Event(), threading.Event()
    add_slow_route(sim, arrived, release)
    transport = inner(stack, max_connections=1, max_keepalive_connections=1)
    try:
        async with client_for(url, stack, transport=transport, max_retries=0) as client:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:

                    async def slow_call() -> None:
                        await client._request("GET", "v1/test/slow", cast_to=dict)

                    tg.start_soon(slow_call)
                    await anyio.to_thread.run_sync(arrived.wait)
                    tg.cancel_scope.cancel()
                agent = await client.agent.retrieve()
            status = client.rate_limit
    finally:
        release.set()

    assert agent.name
    assert (status.granted, status.in_flight, status.refunded) == (2, 0, 0)


# ---------------------------------------------------------------------- in-flight cap


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and records the most requests it ever had in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.active = 0
        self.peak = 0
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Count, send, uncount."""
        self.active += 1
        self.sent += 1
        self.peak = max(self.peak, self.active)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.active -= 1

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()


def test_pool_fits_the_in_flight_cap() -> None:
    """The pool keeps a connection alive for every permitted in-flight request."""
    assert DEFAULT_CONNECTION_LIMITS.max_keepalive_connections is not None
    assert DEFAULT_CONNECTION_LIMITS.max_connections is not None

    assert DEFAULT_CONNECTION_LIMITS.max_keepalive_connections >= DEFAULT_MAX_IN_FLIGHT
    assert DEFAULT_CONNECTION_LIMITS.max_connections >= DEFAULT_MAX_IN_FLIGHT


@pytest.mark.parametrize("cap", [8, DEFAULT_MAX_IN_FLIGHT])
async def test_in_flight_never_exceeds_the_cap(
    url: str, stack: str, sim: Simulator, cap: int
) -> None:
    """500 concurrent callers: never more than max_in_flight requests on the wire."""
    sim.faults.latency = 0.002  # responses overlap, so the cap is what holds them back
    counting = CountingTransport(inner(stack))
    async with client_for(url, stack, transport=counting, max_in_flight=cap) as client:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for _ in range(500):
                    tg.start_soon(client.agent.retrieve)
        status = client.rate_limit

    assert counting.peak <= cap
    assert 500 == counting.sent == status.granted
    assert status.in_flight == 0


async def test_make_client_fixture_uses_the_run_transport(
    make_client: Any, transport_name: str
) -> None:
    """The suite-wide fixture builds working clients on ALTABOTS_TEST_TRANSPORT's stack."""
    sim = Simulator({"sk-test": Plan.enterprise(10, 60.0)})
    client = await make_client(sim)
    agent = await client.agent.retrieve()
    expected = "aiohttp" if transport_name == "aiohttp" else "SimulatorTransport"

    assert agent.name
    assert expected == client.transport_name
    assert list(sim.counted_per_window().values()) == [1]
