"""One error boundary (issue 14, seam 1) and errors that hold no key (issue 15, item 1).

Every failure point of a call (connect, write, headers, mid-body, mid-stream) is provoked by
a loopback server that misbehaves on purpose (``tests/_misbehaving.py``), on both HTTP
stacks, and must reach the caller as an ``AltaBotsError`` subclass whose whole chain refers
to nothing the HTTP stack built: rendered with ``traceback.TracebackException(...,
capture_locals=True)`` (what error trackers and ``--showlocals`` do), no piece of the key.
"""

from __future__ import annotations

import socket
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from altabots_async import (
    AltaBotsError,
    APIConnectionError,
    APITimeoutError,
    AsyncAltaBots,
    MessageStreamError,
)
from altabots_async._boundary import map_error, to_httpx
from altabots_async._sanitize import SanitisedError
from tests._misbehaving import misbehaving
from tests.test_security import KEY, exception_texts, leaks

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected"),
]

Call = Callable[[AsyncAltaBots], Awaitable[Any]]


@pytest.fixture(params=["httpx", "aiohttp"])
def stack(request: pytest.FixtureRequest, anyio_backend_name: str) -> str:
    """The HTTP stack under test (aiohttp on asyncio only)."""
    if request.param == "aiohttp" and anyio_backend_name != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


def closed_url() -> str:
    """A loopback URL nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


async def retrieve(client: AsyncAltaBots) -> Any:
    return await client.agent.retrieve()


async def upload(client: AsyncAltaBots) -> Any:
    return await client.speech.voice_to_text(b"\0" * (512 * 1024), filename="big.mp3")


async def download(client: AsyncAltaBots) -> Any:
    return await client.speech.text_to_audio("m1")


async def stream(client: AsyncAltaBots) -> Any:
    return await client.conversations.stream_message("c1", "hi").final()


FAILURE_POINTS: list[tuple[str, str | None, Call, type[AltaBotsError]]] = [
    ("connect", None, retrieve, APIConnectionError),
    ("write (upload reset)", "reset_on_accept", upload, APIConnectionError),
    ("headers never come", "close_before_headers", retrieve, APIConnectionError),
    ("headers not HTTP", "garbage", retrieve, APIConnectionError),
    ("headers too late", "stall", retrieve, APITimeoutError),
    ("mid-body JSON, short", "short_json", retrieve, APIConnectionError),
    ("mid-body JSON, reset", "reset_json", retrieve, APIConnectionError),
    ("mid-body download", "short_bytes", download, APIConnectionError),
    ("mid-stream reset", "reset_stream", stream, MessageStreamError),
]


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception reachable from it through causes and contexts."""
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        stack += [current.__cause__, current.__context__]
    return seen


def assert_holds_no_key(exc: BaseException) -> None:
    """Nothing of the HTTP stack is reachable from ``exc``, and no rendering shows the key."""
    for link in chain(exc):
        if isinstance(link, AltaBotsError):
            request = getattr(link, "request", None)
            assert request is None or "authorization" not in request.headers
            continue
        # a foreign exception is only ever a sanitised stand-in: no traceback, no request
        assert link.__traceback__ is None, repr(link)
        assert isinstance(link, SanitisedError | httpx.TransportError), repr(link)
        if isinstance(link, httpx.TransportError):
            assert link._request is None
    rendered = "".join(
        traceback.TracebackException(
            type(exc), exc, exc.__traceback__, capture_locals=True
        ).format()
    )
    assert not leaks(rendered), rendered
    for text in exception_texts(exc):
        assert not leaks(text), text


@pytest.mark.parametrize(
    ("point", "mode", "call", "expected"),
    FAILURE_POINTS,
    ids=[point for point, *_ in FAILURE_POINTS],
)
async def test_every_failure_point_is_ours_and_holds_no_key(
    stack: str, point: str, mode: str | None, call: Call, expected: type[AltaBotsError]
) -> None:
    """Connect, write, headers, mid-body and mid-stream failures all surface as our error
    classes on both stacks, and their chains render no piece of the key."""
    timeout = httpx.Timeout(5.0, read=0.3)
    if mode is None:
        async with AsyncAltaBots(
            KEY, base_url=closed_url(), transport=stack, max_retries=0, timeout=timeout
        ) as client:
            with pytest.raises(AltaBotsError) as info:
                await call(client)
    else:
        with misbehaving(mode) as server:
            async with AsyncAltaBots(
                KEY, base_url=server.url, transport=stack, max_retries=0, timeout=timeout
            ) as client:
                with pytest.raises(AltaBotsError) as info:
                    await call(client)

    assert isinstance(info.value, expected), (point, repr(info.value))
    assert_holds_no_key(info.value)


async def test_a_broken_json_body_of_a_get_is_resent_and_of_a_post_is_not(stack: str) -> None:
    """A connection that breaks after the headers of a JSON answer is "maybe processed":
    an idempotent GET is resent (bounded by max_retries), a POST is not."""
    with misbehaving("reset_json") as server:
        async with AsyncAltaBots(
            KEY, base_url=server.url, transport=stack, max_retries=2
        ) as client:
            with pytest.raises(APIConnectionError):
                await client.agent.retrieve()
            gets = len(server.requests)
            with pytest.raises(APIConnectionError):
                await client.conversations.create(user_id="u1")
            posts = len(server.requests) - gets
            status = client.rate_limit

    assert (gets, posts) == (3, 1)
    assert status.in_flight == 0


FOREIGN: list[tuple[str, Callable[[], BaseException], type[AltaBotsError]]] = [
    ("httpx.ReadError", lambda: httpx.ReadError("reset"), APIConnectionError),
    ("httpx.WriteTimeout", lambda: httpx.WriteTimeout("slow"), APITimeoutError),
    (
        "ConnectionResetError",
        lambda: ConnectionResetError(104, "reset by peer"),
        APIConnectionError,
    ),
    ("ConnectionRefusedError", lambda: ConnectionRefusedError(111, "refused"), APIConnectionError),
    ("TimeoutError", lambda: TimeoutError(), APITimeoutError),
]


@pytest.mark.parametrize(("name", "make", "expected"), FOREIGN, ids=[n for n, *_ in FOREIGN])
async def test_raw_foreign_errors_of_any_transport_are_mapped(
    name: str, make: Callable[[], BaseException], expected: type[AltaBotsError]
) -> None:
    """A transport of the caller's that leaks raw OS or httpx errors still gives ours."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise make()

    async with AsyncAltaBots(
        KEY, base_url="https://altatech.ai/", transport=httpx.MockTransport(handler), max_retries=0
    ) as client:
        with pytest.raises(AltaBotsError) as info:
            await client.agent.retrieve()

    assert type(info.value) is expected
    assert_holds_no_key(info.value)


def test_the_mapping_table_of_httpcore_and_aiohttp() -> None:
    """httpcore's exceptions become their httpx namesakes, aiohttp's go through its table,
    and what is not a failure below HTTP (ours, a bug) is left alone."""
    import aiohttp
    import httpcore

    request = httpx.Request("GET", "https://altatech.ai/v1/bot/detail")
    cases: list[tuple[BaseException, type[BaseException] | None]] = [
        (httpcore.ReadTimeout("x"), httpx.ReadTimeout),
        (httpcore.ConnectError("x"), httpx.ConnectError),
        (httpcore.RemoteProtocolError("x"), httpx.RemoteProtocolError),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError),
        (ValueError("a bug"), None),
        (APIConnectionError("ours"), None),
    ]

    found = [type(to_httpx(exc)) if to_httpx(exc) is not None else None for exc, _ in cases]

    assert [expected for _, expected in cases] == found
    assert map_error(ValueError("a bug"), request) is None
