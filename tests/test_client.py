"""The client: configuration, request shape, envelopes, error mapping, secrets (respx)."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from altabots_async import (
    AgentDeletedError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncAltaBots,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InsecureTransportError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    __version__,
)
from altabots_async.types import Agent

pytestmark = pytest.mark.anyio

KEY = "sk-SECRETSECRETSECRET-0123456789"
BASE = "https://altatech.ai/"
AGENT = {
    "bot_id": "64b7c3f0e4b0a1b2c3d4e5f6",
    "name": "Helper",
    "logo": "https://example.com/logo.png",
    "bot_type": "QuestionAnswer",
    "welcome_message": "Hi",
    "introduction": "An agent",
    "tags": ["support", "faq"],
    "identity_prompt": "You are helpful",
    "ai_model": "ChatGPT",
    "ai_model_version": "3.5",
    "creativity_level": 0.3,
    "doc_correlation": 0.5,
    "irrelevant_questions": False,
    "question_limit": 2000,
    "long_term_memory": True,
}


def make(**kwargs: object) -> AsyncAltaBots:
    """A client that talks to respx (no quota probing surprises: headers absent)."""
    kwargs.setdefault("api_key", KEY)
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("transport", "httpx")  # respx mocks the httpx transport
    return AsyncAltaBots(**kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ configuration


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key and no ALTABOTS_API_KEY: ConfigurationError at construction."""
    monkeypatch.delenv("ALTABOTS_API_KEY", raising=False)

    with pytest.raises(ConfigurationError, match="ALTABOTS_API_KEY"):
        AsyncAltaBots()


def test_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALTABOTS_API_KEY and ALTABOTS_BASE_URL are the fallbacks."""
    monkeypatch.setenv("ALTABOTS_API_KEY", KEY)
    monkeypatch.setenv("ALTABOTS_BASE_URL", "https://eu.example.com/api")

    client = AsyncAltaBots()

    assert str(client.base_url) == "https://eu.example.com/api/"


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without argument or environment the base URL is https://altatech.ai/."""
    monkeypatch.delenv("ALTABOTS_BASE_URL", raising=False)

    assert str(make().base_url) == BASE


@pytest.mark.parametrize(
    "url",
    [
        "http://altatech.ai/",
        "http://localhost.evil.com/",
        "http://127.0.0.1.nip.io/",
        "http://10.0.0.1/",
        "http://[::ffff:8.8.8.8]/",
    ],
)
def test_plain_http_refused_off_loopback(url: str) -> None:
    """http:// to a non-loopback host is refused, judged on the parsed host."""
    with pytest.raises(InsecureTransportError):
        make(base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/",
        "http://127.0.0.1/",
        "http://127.9.9.9:1/",
        "http://[::1]:80/",
        "http://LOCALHOST./",
    ],
)
def test_plain_http_allowed_on_loopback(url: str) -> None:
    """Loopback hosts may use plain http (the simulator)."""
    assert make(base_url=url).base_url.scheme == "http"


def test_userinfo_trick_refused() -> None:
    """http://localhost@evil.com is not loopback, and credentials in URLs are refused."""
    with pytest.raises(ConfigurationError):
        make(base_url="http://localhost@evil.com/")


def test_insecure_http_opt_in() -> None:
    """allow_insecure_http=True lets a caller who insists use http:// anywhere."""
    assert (
        make(base_url="http://altatech.ai/", allow_insecure_http=True).base_url.host
        == "altatech.ai"
    )


@pytest.mark.parametrize(
    "bad", ["sk-abc\n\n", "sk-a\x00b", "sk a b", "sk-ünïcode", "   ", "sk-\r\nX-Evil: 1"]
)
def test_bad_keys_refused_without_echo(bad: str) -> None:
    """Keys with control, inner whitespace or non-ASCII characters: a typed error naming
    the problem, never the value."""
    if bad == "sk-abc\n\n":
        assert make(api_key=bad)._api_key.reveal() == "sk-abc"  # surrounding whitespace stripped
        return
    with pytest.raises(ConfigurationError) as info:
        make(api_key=bad)

    assert bad.strip() not in str(info.value) or not bad.strip()


def test_key_never_in_repr() -> None:
    """repr/str of the client and its parts show a fingerprint, never the key."""
    client = make()

    for text in (
        repr(client),
        str(client),
        repr(client._api_key),
        repr(client.agent),
        repr(vars(client)),
    ):
        assert KEY not in text
        assert KEY[:12] not in text


# ------------------------------------------------------------------ request shape


@respx.mock
async def test_agent_retrieve_request_shape() -> None:
    """GET /v1/bot/detail with Bearer auth, JSON content type and our User-Agent."""
    route = respx.get(f"{BASE}v1/bot/detail").mock(return_value=httpx.Response(200, json=AGENT))
    async with make() as client:
        agent = await client.agent.retrieve()

    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"altabots-async/{__version__}"
    assert KEY not in str(request.url)
    assert agent == Agent(**{**AGENT, "tags": ["support", "faq"]})  # type: ignore[arg-type]


@respx.mock
async def test_envelope_is_unwrapped() -> None:
    """The overview's {data, meta, links} envelope gives the same model as a flat body."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(200, json={"data": AGENT, "meta": {}, "links": {}})
    )
    async with make() as client:
        agent = await client.agent.retrieve()

    assert agent.bot_id == AGENT["bot_id"]


@respx.mock
async def test_code_zero_envelope_is_unwrapped() -> None:
    """{code: 0, message: OK, data: ...} is a success envelope too."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(200, json={"code": 0, "message": "OK", "data": AGENT})
    )
    async with make() as client:
        agent = await client.agent.retrieve()

    assert agent.name == "Helper"


@respx.mock
async def test_tags_as_string_become_a_list() -> None:
    """tags documented as an array but sent as a string: exposed as a list."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(200, json={**AGENT, "tags": "support, faq"})
    )
    async with make() as client:
        agent = await client.agent.retrieve()

    assert agent.tags == ["support", "faq"]


@respx.mock
async def test_unknown_fields_and_enum_values_kept() -> None:
    """Extra fields are tolerated; an unknown bot_type is kept as is."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(200, json={**AGENT, "bot_type": "LoopAgent", "new_field": 1})
    )
    async with make() as client:
        agent = await client.agent.retrieve()

    assert agent.bot_type == "LoopAgent"


@respx.mock
async def test_body_not_fitting_model_names_field() -> None:
    """With strict=True, a body missing a required field or with a wrong type raises and
    names the field (the lenient default: tests/test_lenient_decoding.py)."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(200, json={"name": "x", "creativity_level": "very"})
    )
    async with make(strict=True) as client:
        with pytest.raises(ResponseValidationError) as info:
            await client.agent.retrieve()

    assert "bot_id" in str(info.value)
    assert "creativity_level" in str(info.value)


# ------------------------------------------------------------------ errors


ERROR_CASES = [
    (400, {"code": 40000, "message": "Invalid parameter"}, BadRequestError, 40000),
    (200, {"code": 40000, "message": "Invalid parameter"}, BadRequestError, 40000),
    (
        401,
        {"code": 40127, "message": "Developer authentication failed"},
        AuthenticationError,
        40127,
    ),
    (
        200,
        {"code": 40127, "message": "Developer authentication failed"},
        AuthenticationError,
        40127,
    ),
    (200, {"code": 20059, "message": "Bot deleted"}, AgentDeletedError, 20059),
    (400, {"code": 40378, "message": "Bot deleted"}, AgentDeletedError, 40378),
    (
        404,
        {"error": {"code": "not_found", "message": "No such thing", "status": 404}},
        NotFoundError,
        "not_found",
    ),
    (
        429,
        {"error": {"code": "rate_limit_exceeded", "message": "Slow down", "status": 429}},
        RateLimitError,
        "rate_limit_exceeded",
    ),
    (500, {"code": 50000, "message": "Internal error"}, InternalServerError, 50000),
    (
        502,
        {"error": {"code": "bad_gateway", "message": "upstream", "status": 502}},
        InternalServerError,
        "bad_gateway",
    ),
    (403, {"code": 40353, "message": "Plan"}, PermissionDeniedError, 40353),
    (200, {"code": 40356, "msg": "Conversation does not exist"}, NotFoundError, 40356),
    (418, {"code": 12345, "message": "odd"}, APIStatusError, 12345),
]


@pytest.mark.parametrize(("status", "body", "cls", "code"), ERROR_CASES)
@respx.mock
async def test_error_mapping(
    status: int, body: dict[str, object], cls: type[APIStatusError], code: object
) -> None:
    """Both error envelopes, whatever the HTTP status, map to the documented classes."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(status, json=body, headers={"x-request-id": "req-1"})
    )
    async with make() as client:
        with pytest.raises(cls) as info:
            await client.agent.retrieve()

    assert type(info.value) is cls
    assert info.value.code == code
    assert info.value.status_code == status
    assert info.value.request_id == "req-1"
    assert "GET /v1/bot/detail" in str(info.value)
    assert KEY not in str(info.value)


@respx.mock
async def test_html_error_page() -> None:
    """A proxy's HTML error page: APIStatusError with the status and a short excerpt."""
    html = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 5000 + "</body></html>"
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(502, text=html, headers={"content-type": "text/html"})
    )
    async with make() as client:
        with pytest.raises(InternalServerError) as info:
            await client.agent.retrieve()

    assert info.value.status_code == 502
    assert "502 Bad Gateway" in info.value.message
    assert len(info.value.message) <= 520


@respx.mock
async def test_non_json_success_is_validation_error() -> None:
    """A 200 that is not JSON cannot fit the model."""
    respx.get(f"{BASE}v1/bot/detail").mock(return_value=httpx.Response(200, text="<html>"))
    async with make() as client:
        with pytest.raises(ResponseValidationError):
            await client.agent.retrieve()


@respx.mock
async def test_401_echoing_the_key_does_not_leak_it() -> None:
    """Even a server that echoes the key in its error body never gets it into our message
    beyond the server's own text (and never from our headers)."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(401, json={"code": 40127, "message": "bad key"})
    )
    async with make() as client:
        with pytest.raises(AuthenticationError) as info:
            await client.agent.retrieve()

    assert KEY not in str(info.value)
    assert KEY not in repr(info.value.__dict__.get("message"))


@respx.mock
async def test_connect_error_mapped() -> None:
    """A connection failure becomes APIConnectionError, chained to the cause."""
    respx.get(f"{BASE}v1/bot/detail").mock(side_effect=httpx.ConnectError("refused"))
    async with make() as client:
        with pytest.raises(APIConnectionError) as info:
            await client.agent.retrieve()

    assert isinstance(info.value.__cause__, httpx.ConnectError)


@respx.mock
async def test_timeout_mapped() -> None:
    """A read timeout becomes APITimeoutError."""
    respx.get(f"{BASE}v1/bot/detail").mock(side_effect=httpx.ReadTimeout("slow"))
    async with make() as client:
        with pytest.raises(APITimeoutError):
            await client.agent.retrieve()


@respx.mock
async def test_body_cap() -> None:
    """A body over max_response_bytes fails with a typed error."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(200, json={**AGENT, "introduction": "x" * 5000})
    )
    async with make(max_response_bytes=1000) as client:
        with pytest.raises(ResponseTooLargeError):
            await client.agent.retrieve()


# ------------------------------------------------------------------ raw access, options


@respx.mock
async def test_raw_response_has_rate_limit_info() -> None:
    """with_raw_response gives status, headers, parsed rate-limit info and the model."""
    respx.get(f"{BASE}v1/bot/detail").mock(
        return_value=httpx.Response(
            200,
            json=AGENT,
            headers={
                "X-RateLimit-Limit": "1000",
                "X-RateLimit-Remaining": "999",
                "X-RateLimit-Reset": "1700003600",
            },
        )
    )
    async with make() as client:
        raw = await client.agent.with_raw_response.retrieve()
        latest = client.last_rate_limit

    assert raw.status_code == 200
    assert raw.headers["x-ratelimit-limit"] == "1000"
    assert raw.rate_limit is not None
    assert raw.rate_limit.remaining == 999
    assert raw.parse().bot_id == AGENT["bot_id"]
    assert latest is not None
    assert latest.limit == 1000


async def test_with_options_shares_pool_and_limiter() -> None:
    """with_options returns a light copy sharing the limiter and the connection pool."""
    client = make()
    copy = client.with_options(priority=5, max_wait=1.0, timeout=3.0, max_retries=2)

    assert copy._http is client._http
    assert copy.limiter is client.limiter
    assert (copy.priority, copy.max_wait, copy.max_retries) == (5, 1.0, 2)
    assert copy.agent._client is copy
    assert client.priority == 0
    await copy.aclose()
    assert not client.is_closed
    await client.aclose()
    assert client.is_closed


async def test_caller_owned_http_client_not_closed() -> None:
    """A passed-in httpx.AsyncClient is not closed by the client, and calls still go
    through the scheduler."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=AGENT)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with make(http_client=http) as client:
        await client.agent.retrieve()
        status = client.rate_limit

    assert not http.is_closed
    assert status.granted == 1
    await http.aclose()


async def test_no_key_in_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """S-02: at DEBUG, no record of ours, httpx's or httpcore's carries the key."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": 40127, "message": f"bad key {KEY}"[:12]})

    caplog.set_level(logging.DEBUG)
    async with make(transport=httpx.MockTransport(handler), max_retries=1) as client:
        with pytest.raises(AuthenticationError):
            await client.agent.retrieve()

    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)


def test_bucket_of_a_bare_request_is_the_clients() -> None:
    """A request without options lands in the same bucket as the client's own calls."""
    from altabots_async._transport import bucket_id_for

    client = make()
    request = httpx.Request(
        "GET", "https://altatech.ai/v1/bot/detail", headers={"Authorization": f"Bearer {KEY}"}
    )

    assert bucket_id_for(request) == client._bucket
