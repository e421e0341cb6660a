"""Body code 40008 is a 429 (issue 11, item 1, client side), in every rejection style.

The vendor documents no HTTP 429, only ``{"code": 40008, "message": "Agent RPM request limit
exceeded"}``. Whatever the HTTP status it comes with (200, 400, 429; the simulator's
``Faults.quota_signal``), with or without rate-limit headers, it must be handled exactly like
an HTTP 429: the limiter is told (``throttled``), every caller of the key pauses (the server's
log shows nothing of ours during the freeze), the call is resent transparently, and
``RateLimitError`` surfaces only after ``max_retries``. Streamed calls too. Real time, windows
of one second opened by the first request, on the suite's transport (``make_client``).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from altabots_async import (
    AsyncAltaBots,
    RateLimiter,
    RateLimitError,
    RateLimitTransport,
    ResponseTooLargeError,
)
from altabots_async._transport import bucket_id_for
from altabots_async.testing import Context, Faults, Plan, Response, Simulator, serve
from altabots_async.types.conversations import TextDeltaEvent
from tests._fakes import LoopClock
from tests._virtual_time import virtual_params

pytestmark = pytest.mark.anyio

KEY = "sk-quota-signal"
STYLES = ["http429", "body200", "body400", "body429"]
BACKOFF = 1.0  # the limiter's freeze when a rejection names no reset (DEFAULT_429_FREEZE)


def simulator(style: str, headers: bool, period: float = 1.0, limit: int = 10) -> Simulator:
    """A simulator refusing over-quota requests in ``style``; windows open at first use."""
    faults = Faults(quota_signal=style, rejection_headers=headers)  # type: ignore[arg-type]
    return Simulator(
        {KEY: Plan.enterprise(limit, period)}, faults=faults, window_anchor="first_request"
    )


def rejections(sim: Simulator) -> list[Any]:
    """Our requests the server refused as over quota, in arrival order."""
    return [record for record in sim.requests(key=KEY) if record.over_quota]


def expected_status(style: str) -> int:
    """The HTTP status a rejection comes with in ``style``."""
    return {"http429": 429, "body200": 200, "body400": 400, "body429": 429}[style]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # 2 s each; trio runs the others
@pytest.mark.parametrize("headers", [True, False], ids=["headers", "bare"])
@pytest.mark.parametrize("style", STYLES)
async def test_a_rejection_freezes_every_caller_and_is_resent(
    make_client: Any, style: str, headers: bool
) -> None:
    """One rejection (someone else spent the window): nothing of ours reaches the server
    until the window ends (or, with no headers, the bounded back-off does), callers that
    arrive meanwhile wait, and every call succeeds; the rejection counts in ``throttled``."""
    sim = simulator(style, headers)
    rejected = anyio.Event()

    def hook(event: str, details: dict[str, object]) -> None:
        if event == "retry":
            rejected.set()

    client = await make_client(sim, api_key=KEY, hook=hook, max_retries=5)
    await client.agent.retrieve()  # the probe opens the window and teaches the quota
    sim.consume(KEY, 100)  # someone else spends what is left of it
    done: list[object] = []

    async def call() -> None:
        done.append(await client.agent.retrieve())

    with anyio.fail_after(15):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await rejected.wait()  # the rejection was read: the key is frozen now
            for _ in range(5):
                tg.start_soon(call)
    status = client.rate_limit

    first = rejections(sim)[0]
    assert first.status == expected_status(style)
    freeze_end = first.window_start + 1.0 if headers else first.arrived_at + BACKOFF
    later = [r.arrived_at for r in sim.requests(key=KEY) if r.seq > first.seq]
    assert later and min(later) >= freeze_end - 0.01  # nothing sent during the freeze
    assert len(done) == 6
    assert status.throttled == len(rejections(sim)) >= 1
    assert status.retries >= 1
    assert (status.in_flight, status.queued) == (0, 0)
    assert sim.over_quota_count() == len(rejections(sim))


@pytest.mark.parametrize("style", STYLES)
async def test_rate_limit_error_only_after_max_retries(make_client: Any, style: str) -> None:
    """A window that stays spent: the call is sent 1 + max_retries times, then the last
    rejection surfaces as RateLimitError (the vendor's code kept)."""
    sim = simulator(style, headers=False, period=60.0)
    client = await make_client(sim, api_key=KEY, max_retries=1)
    await client.agent.retrieve()
    sim.consume(KEY, 100)

    with anyio.fail_after(15), pytest.raises(RateLimitError) as info:
        await client.agent.retrieve()
    status = client.rate_limit

    expected_code = "rate_limit_exceeded" if style == "http429" else 40008
    assert info.value.code == expected_code
    assert info.value.status_code == expected_status(style)
    assert len(rejections(sim)) == 2
    assert (status.throttled, status.retries, status.in_flight) == (2, 1, 0)


@pytest.mark.parametrize("style", STYLES)
async def test_a_streamed_call_is_resent_after_a_rejection(make_client: Any, style: str) -> None:
    """A streamed message refused as over quota is resent after the freeze and streams."""
    sim = simulator(style, headers=True)
    client = await make_client(sim, api_key=KEY, max_retries=3)
    conv = await client.conversations.create(user_id="u1")  # opens the window
    sim.consume(KEY, 100)

    with anyio.fail_after(15):
        reply = await client.conversations.stream_message(conv.conversation_id, "hi").final()
    status = client.rate_limit

    sends = [r for r in sim.requests("/v2/conversation/message", key=KEY)]
    assert reply.output and reply.output[0].content is not None
    assert reply.output[0].content.text
    assert [r.over_quota for r in sends] == [True, False]
    assert (status.throttled, status.in_flight) == (1, 0)


@pytest.mark.parametrize("style", STYLES)
async def test_a_streamed_call_surfaces_rate_limit_error_without_retries(
    make_client: Any, style: str
) -> None:
    """With max_retries=0 a rejected stream raises RateLimitError when it is opened."""
    sim = simulator(style, headers=False, period=60.0)
    client = await make_client(sim, api_key=KEY, max_retries=0)
    conv = await client.conversations.create(user_id="u1")
    sim.consume(KEY, 100)

    with anyio.fail_after(15), pytest.raises(RateLimitError):
        await client.conversations.stream_message(conv.conversation_id, "hi").final()

    assert client.rate_limit.throttled == 1


@pytest.fixture(params=["httpx", "aiohttp"])
def stack(request: pytest.FixtureRequest, anyio_backend_name: str) -> str:
    """The HTTP stack under test (aiohttp on asyncio only)."""
    if request.param == "aiohttp" and anyio_backend_name != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


async def test_an_event_stream_is_never_buffered_to_look_for_the_code(stack: str) -> None:
    """Only JSON bodies are inspected: an SSE reply that mentions 40008 is handed over as it
    arrives (its first event is read while the server still holds the rest; served on
    loopback, both stacks)."""
    sim = Simulator({KEY: Plan.enterprise(100, 60.0)})
    release = threading.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'data: {"code": 11, "data": {"message_id": "m1"}}\n\n'
        yield b'data: {"code": 3, "data": "quota code 40008 is only text here"}\n\n'
        await anyio.to_thread.run_sync(release.wait)
        yield b'data: {"code": 0}\n\n'

    @sim.route("POST", "/v2/conversation/message")
    async def message(ctx: Context) -> Response:
        return Response.stream(chunks())

    first_text = None
    try:
        async with serve(sim) as url, AsyncAltaBots(KEY, base_url=url, transport=stack) as client:
            with anyio.fail_after(10):
                async with client.conversations.stream_message("c1", "hi") as stream:
                    async for event in stream:
                        if isinstance(event, TextDeltaEvent):
                            first_text = event.text
                            release.set()
    finally:
        release.set()

    assert first_text == "quota code 40008 is only text here"
    assert stream.done
    assert client.rate_limit.throttled == 0


async def test_json_bodies_are_read_within_the_cap(make_client: Any) -> None:
    """The transport reads a JSON body through the capped reader: past max_response_bytes
    a typed error, the permit settled."""
    sim = Simulator({KEY: Plan.enterprise(100, 60.0)})

    @sim.route("GET", "/v1/bot/detail")
    async def big(ctx: Context) -> Response:
        return Response.json({"code": 0, "data": {"name": "x" * (2 * 1024 * 1024)}})

    client = await make_client(sim, api_key=KEY, max_response_bytes=1024 * 1024)
    with pytest.raises(ResponseTooLargeError):
        await client.agent.retrieve()
    status = client.rate_limit

    assert (status.granted, status.in_flight) == (1, 0)


# ----------------------------------------------------------------------------- the bare transport


@pytest.mark.parametrize("anyio_backend", [virtual_params("asyncio"), virtual_params("trio")])
@pytest.mark.parametrize("status", [200, 400, 429])
async def test_the_transport_alone_resends_a_40008_after_the_freeze(status: int) -> None:
    """RateLimitTransport in a plain httpx client (any API, no options): a 40008 body with
    Retry-After 30 freezes the key for 30 s (virtual time), then the request is resent;
    the caller sees only the success."""
    arrivals: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        arrivals.append(anyio.current_time())
        if len(arrivals) == 1:
            body = {"code": 40008, "message": "Agent RPM request limit exceeded"}
            return httpx.Response(status, json=body, headers={"retry-after": "30"})
        return httpx.Response(200, json={"code": 0, "data": {"ok": True}})

    limiter = RateLimiter(clock=LoopClock())
    transport = RateLimitTransport(httpx.MockTransport(handler), limiter)
    async with httpx.AsyncClient(transport=transport, base_url="https://altatech.ai") as http:
        response = await http.get("/v1/bot/detail", headers={"Authorization": "Bearer sk-x"})

    assert response.json()["data"] == {"ok": True}
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 30.0
    assert limiter.status(bucket_id_for(response.request)).throttled == 1


@pytest.mark.parametrize("anyio_backend", [virtual_params("asyncio")])
async def test_a_head_answer_is_never_read() -> None:
    """HEAD has no body: a JSON Content-Type with a huge Content-Length is not read."""

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json", "content-length": str(1 << 40)}
        return httpx.Response(200, headers=headers)

    transport = RateLimitTransport(httpx.MockTransport(handler), RateLimiter(clock=LoopClock()))
    async with httpx.AsyncClient(transport=transport, base_url="https://altatech.ai") as http:
        response = await http.head("/v1/bot/detail", headers={"Authorization": "Bearer sk-x"})

    assert response.status_code == 200
