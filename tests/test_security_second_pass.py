"""Security, second pass (issue 15): pickled errors, echoed keys cut at the limit, the total
deadline of a call, and proxies. (Item 1 is ``test_boundary.py``; item 4 is in
``test_streaming.py``, 6 in ``test_uploads.py``, 8-10 in ``test_cli.py``, 12 in
``test_webhooks.py``; see ``tests/RELIABILITY_MATRIX.md``.)"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

import altabots_async
from altabots_async import (
    AltaBotsError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncAltaBots,
    AuthenticationError,
    ConfigurationError,
    InvalidParameterError,
    MessageStreamError,
    Quota,
    QuotaExhaustedError,
    ResponseValidationError,
    WebhookError,
)
from altabots_async._constants import MAX_ERROR_EXCERPT
from altabots_async._proxy import describe, resolve_proxy
from altabots_async._sanitize import sanitised_copy
from altabots_async.testing import Context, Plan, Response, Simulator, serve
from tests._tiny_proxy import tiny_proxy
from tests.test_security import KEY, SECRET, leaks

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected"),
]

BASE = "https://altatech.ai/"


@pytest.fixture(params=["httpx", "aiohttp"])
def stack(request: pytest.FixtureRequest, anyio_backend_name: str) -> str:
    """The HTTP stack under test (aiohttp on asyncio only)."""
    if request.param == "aiohttp" and anyio_backend_name != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


def mock_client(handler: Any, **options: Any) -> AsyncAltaBots:
    """A client of ``BASE`` answered by ``handler`` (an httpx MockTransport function)."""
    options.setdefault("max_retries", 0)
    return AsyncAltaBots(KEY, base_url=BASE, transport=httpx.MockTransport(handler), **options)


# ============================================================================ item 2: pickle


def key_request() -> httpx.Request:
    return httpx.Request("GET", BASE + "v1/bot/detail", headers={"Authorization": f"Bearer {KEY}"})


def key_response(status: int) -> httpx.Response:
    return httpx.Response(status, json={"code": 40127, "message": "no"}, request=key_request())


def instance_of(cls: type[AltaBotsError]) -> AltaBotsError:
    """An instance of ``cls`` built the way the library builds one (key-bearing parts given)."""
    if issubclass(cls, APIStatusError):
        return cls(
            "denied",
            status_code=401,
            code=40127,
            request_id="r-1",
            body={"code": 40127},
            method="GET",
            path="/v1/bot/detail",
            response=key_response(401),
        )
    if issubclass(cls, APIConnectionError):
        return cls("refused", request=key_request())
    if issubclass(cls, QuotaExhaustedError):
        return cls("quota used up", reset_at=1_700_000_000.0, retry_after=4.5)
    if issubclass(cls, InvalidParameterError):
        return cls("user_id", "at most 32 characters")
    if issubclass(cls, MessageStreamError):
        return cls("cut", partial_text="Hel", message_id="m1")
    if issubclass(cls, WebhookError):
        return cls("not JSON", reason="bad_json")
    if issubclass(cls, ResponseValidationError):
        return cls("bad field", body={"a": 1}, errors=["a: bad"])
    return cls("message")


PUBLIC_ERRORS = sorted(
    (
        value
        for name in altabots_async.__all__
        if isinstance(value := getattr(altabots_async, name), type)
        and issubclass(value, AltaBotsError)
    ),
    key=lambda cls: cls.__name__,
)
ATTRIBUTES = (
    "status_code",
    "code",
    "message",
    "request_id",
    "body",
    "method",
    "path",
    "reset_at",
    "retry_after",
    "partial_text",
    "message_id",
    "reason",
    "field",
    "problem",
    "errors",
)


def assert_round_trip(error: AltaBotsError) -> None:
    """``error`` pickles without the key and unpickles to an equal error."""
    data = pickle.dumps(error)
    copy = pickle.loads(data)  # noqa: S301 - our own bytes

    assert not leaks(data)
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    for name in ATTRIBUTES:
        assert getattr(copy, name, None) == getattr(error, name, None), name
    for name in ("request", "response"):
        original, restored = getattr(error, name, None), getattr(copy, name, None)
        assert (original is None) == (restored is None), name
    if isinstance(error, APIStatusError) and error.response is not None:
        assert copy.response is not None
        assert copy.response.status_code == error.response.status_code
        assert "authorization" not in copy.response.request.headers
    if isinstance(error, APIConnectionError) and error.request is not None:
        assert copy.request is not None
        assert "authorization" not in copy.request.headers


@pytest.mark.parametrize("cls", PUBLIC_ERRORS, ids=[cls.__name__ for cls in PUBLIC_ERRORS])
def test_every_public_error_pickles_and_unpickles_without_the_key(
    cls: type[AltaBotsError],
) -> None:
    """Every exported error class (APIStatusError included) survives pickle (Celery, process
    pools, joblib) with its attributes, and the bytes hold no piece of the key."""
    assert_round_trip(instance_of(cls))


async def test_errors_raised_by_calls_pickle_without_the_key() -> None:
    """The errors real calls raise (401 echoing the key, 5xx, connection refused) pickle
    without the key; their sanitised causes pickle too."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("detail"):
            return httpx.Response(401, json={"code": 40127, "message": f"bad key {KEY}"})
        if request.url.path.endswith("verify"):
            return httpx.Response(418, text=f"teapot {KEY}")
        raise httpx.ConnectError("refused", request=request)

    errors: list[AltaBotsError] = []
    async with mock_client(handler) as client:
        for call in (
            client.agent.retrieve,
            client.agent.verify_key,
            lambda: client.conversations.create(user_id="u1"),
        ):
            with pytest.raises(AltaBotsError) as info:
                await call()
            errors.append(info.value)

    assert [type(e) for e in errors] == [AuthenticationError, APIStatusError, APIConnectionError]
    for error in errors:
        assert_round_trip(error)
    cause = errors[2].__cause__
    assert cause is not None
    restored = pickle.loads(pickle.dumps(cause))  # noqa: S301 - our own bytes
    assert (type(restored).__name__, str(restored)) == ("ConnectError", "refused")


def test_a_sanitised_stand_in_keeps_name_module_and_message_and_pickles() -> None:
    """A foreign exception's stand-in shows the original's module, name and message."""
    import aiohttp

    original = aiohttp.ServerDisconnectedError("Server disconnected")
    copy = sanitised_copy(original)
    restored = pickle.loads(pickle.dumps(copy))  # noqa: S301 - our own bytes

    for stand_in in (copy, restored):
        assert type(stand_in).__name__ == "ServerDisconnectedError"
        assert type(stand_in).__module__ == type(original).__module__
        assert str(stand_in) == str(original)
        assert stand_in.__traceback__ is None


# ============================================================================ item 5: echo


@pytest.mark.parametrize("cut", [1, 10, 16, 17, 18, 30])
async def test_an_echoed_key_straddling_the_cut_leaves_no_piece(cut: int) -> None:
    """A key echoed across the 2 KiB message cut (or the 128-char code cut) is masked
    first, then cut: no piece of it survives in str(exc), message, code or body."""
    message = "x" * (MAX_ERROR_EXCERPT - cut) + KEY + " and more"
    code = "c" * (128 - cut) + KEY

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"code": code, "message": message}})

    async with mock_client(handler) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.agent.retrieve()
    error = info.value

    for text in (str(error), error.message, str(error.code), repr(error.body)):
        assert not leaks(text), text
    assert error.response is not None
    assert not leaks(error.response.content)
    assert len(error.message) <= MAX_ERROR_EXCERPT


async def test_a_key_the_server_already_cut_is_masked_too() -> None:
    """A server that echoes only the start of the key (its own cut): the piece is masked."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": 40127, "message": f"bad key {KEY[:20]}"})

    async with mock_client(handler) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.agent.retrieve()

    assert not leaks(str(info.value))
    assert "***" in info.value.message


# ============================================================================ item 7: deadline


def drip_simulator(content_type: str, chunk: bytes, every: float) -> Simulator:
    """A simulator whose agent and message routes drip ``chunk`` every ``every`` s, forever."""
    sim = Simulator({KEY: Plan.enterprise(100, 3600.0)})

    async def drip() -> AsyncIterator[bytes]:
        yield chunk
        while True:
            await anyio.sleep(every)
            yield chunk

    @sim.route("GET", "/v1/bot/detail")
    async def agent(ctx: Context) -> Response:
        return Response.stream(drip(), content_type=content_type)

    @sim.route("POST", "/v2/conversation/message")
    async def message(ctx: Context) -> Response:
        return Response.stream(drip(), content_type=content_type)

    return sim


async def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(stack: str) -> None:
    """A body dripped one byte every 0.2 s never trips the per-read timeout (1 s); the
    call's deadline (1 s) ends it with APITimeoutError, and the permit is settled."""
    sim = drip_simulator("application/json", b" ", 0.2)
    async with (
        serve(sim) as url,
        AsyncAltaBots(
            KEY, base_url=url, transport=stack, timeout=1.0, deadline=1.0, max_retries=0
        ) as client,
    ):
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="deadline"):
            await client.agent.retrieve()
        elapsed = time.monotonic() - started
        status = client.rate_limit

    assert 0.9 <= elapsed < 2.5
    assert (status.granted, status.in_flight) == (1, 0)


async def test_a_dripping_stream_cannot_outlive_the_deadline(stack: str) -> None:
    """A streamed reply whose events keep coming slowly ends at the call's deadline."""
    event = b'data: {"code": 3, "data": "."}\n\n'
    sim = drip_simulator("text/event-stream", event, 0.2)
    async with (
        serve(sim) as url,
        AsyncAltaBots(KEY, base_url=url, transport=stack, timeout=1.0, deadline=1.0) as client,
    ):
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="deadline"):
            await client.conversations.stream_message("c1", "hi").final()
        elapsed = time.monotonic() - started

    assert 0.9 <= elapsed < 2.5


async def test_a_queue_that_cannot_serve_within_the_deadline_fails_at_once() -> None:
    """The deadline caps the queue wait too: QuotaExhaustedError at once, nothing sent."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"code": 0, "data": {"bot_id": "b", "name": "n"}})

    async with mock_client(handler, quota=Quota(1, 3600.0)) as client:
        await client.agent.retrieve()
        started = time.monotonic()
        with pytest.raises(QuotaExhaustedError):
            await client.with_options(deadline=5.0).agent.retrieve()
        elapsed = time.monotonic() - started

    assert elapsed < 0.5
    assert len(sent) == 1


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "5", True])
def test_a_bad_deadline_is_a_configuration_error(bad: Any) -> None:
    """deadline must be a positive number of seconds (or None)."""
    with pytest.raises(ConfigurationError, match="deadline"):
        AsyncAltaBots(KEY, deadline=bad)
    with pytest.raises(ConfigurationError, match="deadline"):
        AsyncAltaBots(KEY).with_options(deadline=bad)


# ============================================================================ proxy


ENV_CASES: list[tuple[str, dict[str, str], str | None]] = [
    ("https://altatech.ai/", {}, None),
    ("https://altatech.ai/", {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128"),
    ("https://altatech.ai/", {"https_proxy": "p:3128"}, "http://p:3128"),
    ("https://altatech.ai/", {"HTTP_PROXY": "http://p:3128"}, None),  # http only
    ("http://api.test/", {"HTTP_PROXY": "http://p:3128"}, "http://p:3128"),
    ("https://altatech.ai/", {"ALL_PROXY": "http://p:3128"}, "http://p:3128"),
    ("https://altatech.ai/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "altatech.ai"}, None),
    ("https://altatech.ai/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".altatech.ai"}, None),
    ("https://api.altatech.ai/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "altatech.ai"}, None),
    ("https://altatech.ai/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
    ("https://altatech.ai/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "tech.ai"}, "http://p:1"),
    (
        "https://altatech.ai/",
        {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "altatech.ai:8443"},
        "http://p:1",
    ),
    ("https://altatech.ai/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "altatech.ai:443"}, None),
    ("http://127.0.0.1:8000/", {"HTTP_PROXY": "http://p:1"}, None),  # loopback goes direct
    ("http://localhost/", {"HTTP_PROXY": "http://p:1"}, None),
    ("http://api.test/", {"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}, None),  # CGI
]


@pytest.mark.parametrize(("base", "environ", "expected"), ENV_CASES)
def test_proxy_from_the_environment(
    base: str, environ: dict[str, str], expected: str | None
) -> None:
    """HTTPS_PROXY / HTTP_PROXY / ALL_PROXY by scheme, NO_PROXY exempts, loopback direct."""
    proxy = resolve_proxy(httpx.URL(base), None, trust_env=True, environ=environ)

    assert expected == (None if proxy is None else str(proxy.url).rstrip("/"))


def test_an_explicit_proxy_wins_and_trust_env_false_ignores_the_environment() -> None:
    """proxy= is used as given (even for loopback); trust_env=False reads nothing."""
    url = httpx.URL("http://127.0.0.1:8000/")
    environ = {"HTTP_PROXY": "http://env:1", "ALL_PROXY": "http://env:2"}

    explicit = resolve_proxy(url, "http://mine:3128", trust_env=True, environ=environ)
    ignored = resolve_proxy(httpx.URL(BASE), None, trust_env=False, environ=environ)

    assert explicit is not None and explicit.url.host == "mine"
    assert ignored is None


@pytest.mark.parametrize("proxy", ["socks5://user:hunter2@p:1080", "ftp://user:hunter2@p:21"])
def test_an_unsupported_proxy_is_refused_without_echoing_it(proxy: str) -> None:
    """Only http:// and https:// proxies (both stacks must behave the same); the error
    names the scheme, never the password."""
    with pytest.raises(ConfigurationError) as info:
        AsyncAltaBots(KEY, proxy=proxy, transport="httpx")

    assert "hunter2" not in str(info.value)


def test_proxy_credentials_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    """A proxy's password shows nowhere: describe(), the client's debug line, its repr."""
    caplog.set_level(logging.DEBUG, logger="altabots_async")
    client = AsyncAltaBots(KEY, proxy="http://user:hunter2@127.0.0.1:3128", transport="httpx")

    assert describe(client.proxy) == "http://***@127.0.0.1:3128"
    assert "hunter2" not in caplog.text and "hunter2" not in repr(client)
    assert "http://***@127.0.0.1:3128" in caplog.text


async def test_an_explicit_proxy_carries_every_call(stack: str) -> None:
    """proxy=... sends through the proxy on both stacks (absolute-form for http targets),
    with Proxy-Authorization from the proxy URL's credentials."""
    sim = Simulator({KEY: Plan.enterprise(100, 3600.0)})
    async with serve(sim) as url:
        upstream = httpx.URL(url)
        assert upstream.port is not None
        with tiny_proxy((upstream.host, upstream.port)) as proxy:
            proxy_url = f"http://user:hunter2@127.0.0.1:{proxy.port}"
            async with AsyncAltaBots(KEY, base_url=url, transport=stack, proxy=proxy_url) as c:
                agent = await c.agent.retrieve()

    assert agent.name
    assert len(sim.requests("/v1/bot/detail")) == 1
    first_line, _, headers = proxy.heads[0].partition("\r\n")
    assert first_line.startswith(f"GET {url.rstrip('/')}/v1/bot/detail ")
    assert "proxy-authorization: basic" in headers.lower()


async def test_http_proxy_from_the_environment(stack: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY carries calls to a (non-loopback) http:// base URL on both stacks."""
    sim = Simulator({KEY: Plan.enterprise(100, 3600.0)})
    async with serve(sim) as url:
        upstream = httpx.URL(url)
        assert upstream.port is not None
        with tiny_proxy((upstream.host, upstream.port)) as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            async with AsyncAltaBots(
                KEY, base_url="http://api.altabots.test/", allow_insecure_http=True, transport=stack
            ) as client:
                agent = await client.agent.retrieve()

    assert agent.name
    assert proxy.heads[0].startswith("GET http://api.altabots.test/v1/bot/detail ")


async def test_https_proxy_from_the_environment_tunnels_and_never_sees_the_key(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS_PROXY: both stacks ask the proxy for a CONNECT tunnel to the API's host; what
    the proxy is told holds no key. (This proxy refuses: a typed error, the permit back.)"""
    with tiny_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://user:hunter2@127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with AsyncAltaBots(KEY, transport=stack, max_retries=0) as client:
            with pytest.raises(APIConnectionError):
                await client.agent.retrieve()
            status = client.rate_limit

    assert proxy.heads and proxy.heads[0].startswith("CONNECT altatech.ai:443 ")
    lines = proxy.heads[0].lower().split("\r\n")
    assert any(line.startswith("proxy-authorization: basic ") for line in lines)
    assert not any(line.startswith("authorization:") for line in lines)
    assert not any(leaks(head) for head in proxy.heads)
    assert SECRET not in "".join(proxy.heads)
    assert (status.granted, status.refunded) == (1, 1)


def test_no_proxy_is_read_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client resolves its proxy once, from the environment: NO_PROXY naming the host
    leaves it without one; a passed-in transport or http_client is never given one."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    base = "http://api.altabots.test/"
    monkeypatch.setenv("NO_PROXY", "api.altabots.test")
    exempt = AsyncAltaBots(KEY, base_url=base, allow_insecure_http=True, transport="httpx")
    monkeypatch.delenv("NO_PROXY")
    proxied = AsyncAltaBots(KEY, base_url=base, allow_insecure_http=True, transport="httpx")
    own = AsyncAltaBots(
        KEY, base_url=base, allow_insecure_http=True, transport=httpx.MockTransport(print)
    )

    assert exempt.proxy is None
    assert proxied.proxy is not None and proxied.proxy.url.port == 3128
    assert own.proxy is None
    with pytest.raises(ConfigurationError, match="proxy"):
        AsyncAltaBots(KEY, proxy="http://p:1", transport=httpx.MockTransport(print))
