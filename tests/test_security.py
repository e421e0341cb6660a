"""The security checklist (S-01 .. S-19 of RELIABILITY.md): one section per item.

Canary: ``KEY`` is a random-looking key; "leaks" means any 10-character piece of its secret
part shows up. Items owned by other files: S-05 (CLI) in the CLI tests, S-14..S-17 (Redis)
in ``test_redis_backend.py``; see ``tests/RELIABILITY_MATRIX.md``.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.metadata
import inspect
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
import tomllib
import traceback
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import httpx
import pytest
import trustme
from packaging.version import Version

import altabots_async
from altabots_async import (
    APIConnectionError,
    APIStatusError,
    AsyncAltaBots,
    AuthenticationError,
    ConfigurationError,
    InsecureTransportError,
    InternalServerError,
    Quota,
    QuotaExhaustedError,
    ResponseTooLargeError,
    ResponseValidationError,
)
from altabots_async._constants import MAX_ERROR_EXCERPT
from altabots_async._secret import ApiKey
from altabots_async._urls import path_param
from altabots_async.ratelimit._core import Core, Observation
from altabots_async.resources._base import Resource
from altabots_async.testing import Context, Faults, Plan, Response, Simulator, serve

pytestmark = [
    pytest.mark.anyio,
    # trio reports body generators (httpx's, a stream's) abandoned early (a cap hit,
    # a stream left after one event); the responses are closed all the same.
    pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected"),
]

SECRET = "Zx81kQ0vPp7mWc3TgH5yR2dLs9bN4fJ6"
KEY = f"sk-{SECRET}"
BASE = "https://altatech.ai/"
PIECES = [SECRET[i : i + 10] for i in range(len(SECRET) - 9)]
ROOT = Path(altabots_async.__file__).parent


def leaks(text: str | bytes) -> bool:
    """Whether ``text`` carries any 10-character piece of the key's secret part."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return any(piece in text for piece in PIECES)


def make(handler: Any = None, **kwargs: Any) -> AsyncAltaBots:
    """A client of ``BASE`` answering through ``handler`` (a MockTransport function)."""
    kwargs.setdefault("max_retries", 0)
    if handler is not None:
        kwargs.setdefault("transport", httpx.MockTransport(handler))
    return AsyncAltaBots(KEY, **kwargs)


def rendered(value: Any, depth: int = 0) -> str:
    """What an error tracker stores for a local: containers walked, everything else repr'd."""
    if depth > 8:
        return ""
    if isinstance(value, dict):
        return " ".join(
            f"{rendered(k, depth + 1)}: {rendered(v, depth + 1)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return " ".join(rendered(item, depth + 1) for item in value)
    try:
        return repr(value)
    except Exception as exc:  # a broken repr is not a leak
        return f"<repr failed: {type(exc).__name__}>"


def state(obj: Any) -> dict[str, Any]:
    """``vars(obj)``, or its slots' values for a slotted class."""
    if hasattr(obj, "__dict__"):
        return dict(vars(obj))
    names = [n for cls in type(obj).__mro__ for n in getattr(cls, "__slots__", ())]
    return {n: getattr(obj, n) for n in names if n != "__weakref__" and hasattr(obj, n)}


def exception_texts(exc: BaseException) -> Iterator[str]:
    """Every text a crash report of ``exc`` holds: messages, reprs, formatted traceback,
    ``vars()`` and the locals of every frame (``--showlocals``), across the whole chain."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield rendered(vars(current))
        yield "".join(traceback.format_exception(current))
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != __file__:  # the test's own locals aside
                for name, value in tb.tb_frame.f_locals.items():
                    yield f"{name} = {rendered(value)}"
            tb = tb.tb_next
        stack.extend([current.__cause__, current.__context__])


def agent_json() -> dict[str, Any]:
    return {"code": 0, "data": {"bot_id": "b1", "name": "Helper"}}


# ============================================================================ S-01


def _resources(obj: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    yield prefix, obj
    for name in sorted(dir(type(obj))):
        if name.startswith("_") or name == "with_raw_response":
            continue
        if isinstance(inspect.getattr_static(type(obj), name), property):
            value = getattr(obj, name)
            if isinstance(value, Resource):
                yield from _resources(value, f"{prefix}.{name}")


def all_resources(client: AsyncAltaBots) -> list[tuple[str, Any]]:
    """Every resource object of a client, sub-resources included."""
    found: list[tuple[str, Any]] = []
    for name, value in sorted(vars(client).items()):
        if isinstance(value, Resource):
            found.extend(_resources(value, name))
    return found


def test_s01_key_masked_in_every_view_of_client_options_and_resources() -> None:
    client = make()
    copy = client.with_options(priority=3, max_wait=1.0)
    request = client._build_request("GET", "v1/bot/detail")
    resources = all_resources(client) + all_resources(copy)
    assert len(resources) >= 15
    views: list[str] = []
    for obj in [client, copy, client._api_key, client.limiter, client._shared, request]:
        views += [repr(obj), str(obj), rendered(state(obj)) if not isinstance(obj, ApiKey) else ""]
    views += [repr(request.extensions), rendered(attrs.asdict(request.extensions["altabots"]))]
    for name, resource in resources:
        views += [name, repr(resource), str(resource), rendered(state(resource))]
        views.append(rendered(attrs.asdict(resource, recurse=True)))
    for text in views:
        assert not leaks(text), text
    # the wrapper refuses the usual escape hatches
    with pytest.raises(TypeError):
        __import__("pickle").dumps(client._api_key)
    assert client._api_key.fingerprint in repr(client)


async def test_s01_errors_and_responses_carry_no_key_even_in_frame_locals() -> None:
    """401, 5xx, validation, connection and quota errors, and raw responses: messages,
    reprs, vars and the locals of every traceback frame are free of the key."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("detail"):
            return httpx.Response(401, json={"code": 40127, "message": "invalid key"})
        if path.endswith("verify"):
            return httpx.Response(503, text="down", headers={"x-request-id": "r-1"})
        if path.endswith("list"):
            return httpx.Response(200, json={"code": 0, "data": {"not": "a list"}})
        raise httpx.ConnectError("refused", request=request)

    errors: list[BaseException] = []
    async with make(handler) as client:
        for call in (
            client.agent.retrieve,
            client.agent.verify_key,
            client.agent.versions.list,
            lambda: client.conversations.create(user_id="u1"),
        ):
            try:
                await call()
            except Exception as exc:
                errors.append(exc)
        raw = await client.agent.versions.with_raw_response.list()
        views = [repr(raw), rendered(vars(raw)), repr(raw.http_response), repr(raw.headers)]
        views.append(repr(raw.http_response.request.headers))

    # a QuotaExhaustedError from the scheduler (no rate-limit headers: the plan's log rules)
    limiter_client = make(lambda r: httpx.Response(200, json=agent_json()), quota=Quota(1, 3600.0))
    await limiter_client.agent.retrieve()
    with pytest.raises(QuotaExhaustedError) as quota_error:
        await limiter_client.with_options(max_wait=0.0).agent.retrieve()
    await limiter_client.aclose()
    errors.append(quota_error.value)

    kinds = {type(e).__name__ for e in errors}
    assert {"AuthenticationError", "InternalServerError", "ResponseValidationError"} <= kinds
    assert {"APIConnectionError", "QuotaExhaustedError"} <= kinds
    for error in errors:
        for text in exception_texts(error):
            assert not leaks(text), text
    for text in views:
        assert not leaks(text), text


async def test_s01_real_connection_error_frames_carry_no_key() -> None:
    """httpcore's own frames, on a refused loopback connection (httpx stack)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with make(base_url=f"http://127.0.0.1:{port}/", transport="httpx") as client:
        with pytest.raises(APIConnectionError) as info:
            await client.agent.retrieve()
    texts = list(exception_texts(info.value))
    assert any("httpcore" in text for text in texts)  # the transport's frames were walked
    for text in texts:
        assert not leaks(text), text


# ============================================================================ S-02


@pytest.fixture
def all_logs() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at DEBUG (ours, httpx, httpcore, uvicorn...)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def record_texts(record: logging.LogRecord) -> Iterator[str]:
    yield record.getMessage()
    yield repr(record.args)
    yield rendered(vars(record))
    if record.exc_info:
        yield logging.Formatter().formatException(record.exc_info)


async def test_s02_no_key_in_any_debug_log_record_over_a_real_socket(
    all_logs: list[logging.LogRecord], anyio_backend_name: str
) -> None:
    """A served simulator whose 401 body echoes the Authorization header, plus retried
    5xx: at DEBUG, no record of any logger carries the key (message, args, exc text)."""
    sim = Simulator({KEY: Plan.enterprise(1000, 3600.0)}, faults=Faults(error_rate=0.0))

    @sim.route("GET", "/v1/bot/detail")
    async def echo(ctx: Context) -> Response:
        auth = ctx.request.headers.get("authorization", "")
        return Response.json({"code": 40127, "message": f"invalid key: {auth}"}, 401)

    async with serve(sim) as url, make(base_url=url, transport="httpx", max_retries=2) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.agent.retrieve()
        sim.faults.error_rate = 1.0
        with pytest.raises(InternalServerError):
            await client.agent.verify_key()

    assert "***" in str(info.value)  # the echo was redacted, not silently dropped
    assert not leaks(str(info.value))
    assert not leaks(rendered(info.value.body))
    names = {record.name.split(".")[0] for record in all_logs}
    assert {"httpcore", "altabots_async"} <= names  # transport and retry logs were on
    for record in all_logs:
        for text in record_texts(record):
            assert not leaks(text), (record.name, text)


async def test_s02_logging_an_error_with_its_traceback_leaks_nothing(
    all_logs: list[logging.LogRecord],
) -> None:
    """``logger.exception(...)`` of a client error, as an app would: no key in the text."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": 40127, "message": f"bad key {KEY}"})

    log = logging.getLogger("app")
    async with make(handler) as client:
        try:
            await client.agent.retrieve()
        except AuthenticationError:
            log.exception("call failed")
    formatted = [logging.Formatter().format(r) for r in all_logs if r.name == "app"]
    assert formatted
    assert not any(leaks(text) for text in formatted)


# ============================================================================ S-03


async def test_s03_message_has_method_path_status_request_id_and_no_headers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404,
            json={"code": 40356, "message": "no such agent"},
            headers={"x-request-id": "req-42", "set-cookie": "session=COOKIECANARY"},
        )

    async with make(handler) as client:
        with pytest.raises(APIStatusError) as info:
            await client.agent.retrieve()
    text = str(info.value)
    for part in ("GET", "/v1/bot/detail", "404", "req-42", "40356", "no such agent"):
        assert part in text
    for forbidden in ("COOKIECANARY", "authorization", "Bearer", "set-cookie"):
        assert forbidden.lower() not in text.lower()
    assert not leaks(repr(info.value))


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(
            lambda: httpx.Response(500, json={"code": 50000, "message": "x" * 300_000}), id="json"
        ),
        pytest.param(lambda: httpx.Response(502, text="<html>" + "y" * 300_000), id="html"),
        pytest.param(
            lambda: httpx.Response(400, json={"error": {"code": "z" * 100_000, "message": "m"}}),
            id="code",
        ),
    ],
)
async def test_s03_error_text_is_truncated_to_2_kib(response: Any) -> None:
    async with make(lambda request: response()) as client:
        with pytest.raises(APIStatusError) as info:
            await client.agent.retrieve()
    assert len(str(info.value)) <= MAX_ERROR_EXCERPT + 300
    assert len(info.value.message) <= MAX_ERROR_EXCERPT


async def test_s03_echoed_key_is_redacted_from_message_and_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"code": 40127, "message": f"key {KEY} refused", "detail": [{"key": KEY}]}
        )

    async with make(handler) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.agent.retrieve()
    assert "key *** refused" in str(info.value)
    assert info.value.body == {
        "code": 40127,
        "message": "key *** refused",
        "detail": [{"key": "***"}],
    }


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (f"{KEY}\r\nX-Evil: 1", "control character"),
        (f"{KEY}\x00", "control character"),
        (f"{KEY}\x7f", "control character"),
        (f"sk-{SECRET[:16]} {SECRET[16:]}", "whitespace"),
        (f"sk-{SECRET[:16]}\t{SECRET[16:]}", "control character"),
        (f"{KEY}\u200b", "non-ASCII"),
        (f"{KEY}\u00a0x", "whitespace"),
        (f"sk-{SECRET[:16]}é{SECRET[16:]}", "non-ASCII"),
        (f"\uff53\uff4b-{SECRET}", "non-ASCII"),  # full-width "sk"
    ],
)
def test_s03_bad_keys_get_a_typed_error_that_never_echoes(
    raw: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for source in ("argument", "environment"):
        if source == "environment" and "\x00" in raw:
            continue  # an environment variable cannot hold NUL
        if source == "environment":
            monkeypatch.setenv("ALTABOTS_API_KEY", raw)
            build = lambda: AsyncAltaBots(transport="httpx")  # noqa: E731
        else:
            build = lambda: AsyncAltaBots(raw, transport="httpx")  # noqa: E731
        with pytest.raises(ConfigurationError) as info:
            build()
        assert problem in str(info.value)
        for text in exception_texts(info.value):
            assert not leaks(text), text


@pytest.mark.parametrize("raw", [f"  {KEY}\n", f"{KEY}\r\n", f"\t{KEY}"])
def test_s03_surrounding_whitespace_is_stripped(raw: str) -> None:
    """Documented choice: a key read from a file with its newline works."""
    assert AsyncAltaBots(raw, transport="httpx")._api_key.reveal() == KEY


# ============================================================================ S-04 / S-09

TRAVERSAL = "../../admin?x=1#frag%2F"
ALLOWED_HEADERS = {
    "host",
    "accept",
    "accept-encoding",
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "user-agent",
}
NOT_REQUESTS = {"webhooks.parse", "knowledge_base.docs.file_from_path"}  # local helpers


def _argument(annotation: str, text: str, files: dict[str, Path]) -> Any:
    kind = annotation.replace(" | None", "")
    if "FileInput" in kind:
        return b"hello"
    if kind.startswith("Sequence[FileItem"):
        return [files["txt"]]
    if "Time" in kind or "datetime" in kind:
        return 1_700_000_000
    if kind.startswith("Sequence[str"):
        return [text]
    if kind.startswith("Sequence["):
        return [{"question": text, "answer": text, "content": text, "record_id": text}]
    if kind.startswith("Mapping"):
        return {"field": text}
    for prefix, value in (("int", 1), ("bool", True), ("float", 0.5)):
        if kind.startswith(prefix):
            return value
    return text


async def _overrides(
    client: AsyncAltaBots, text: str, files: dict[str, Path]
) -> dict[str, dict[str, Any]]:
    """Arguments the generic filler cannot guess (enumerations, either-or pairs)."""
    docs = client.knowledge_base.docs
    qa = [{"question": text, "answer": text}]
    return {
        "knowledge_base.docs.add_spreadsheet": {"files": [files["csv"]]},
        "knowledge_base.docs.update_spreadsheet": {
            "files": [await docs.file_from_path(files["csv"], spreadsheet=True, doc_id=text)]
        },
        "knowledge_base.docs.update_text": {
            "files": [await docs.file_from_path(files["txt"], doc_id=text)]
        },
        "knowledge_base.qa.add": {"purpose": "QA_TEXT", "name": text, "qa_list": qa},
        "knowledge_base.qa.update": {"doc_id": text, "qa_list": qa},
        "users.get_cdp": {"user_id": text},
        "users.query_properties": {"user_ids": [text]},
        "users.set_user_id": {
            "user_id": text,
            "anonymous_ids": [{"anonymous_id": text, "conversation_type": "API"}],
        },
        "databases.create_table": {
            "name": "t1",
            "description": text,
            "fields": [{"name": "f1", "type": "TEXT", "description": text}],
        },
        "databases.delete_records": {"table_id": text, "delete_data": [{"record_id": text}]},
        "databases.update_records": {
            "table_id": text,
            "update_data": [{"record_id": text, "updated_fields": {"f": text}}],
        },
        "conversations.feedback": {"answer_id": text, "feedback": "POSITIVE"},
        "conversations.rate_quality": {"answer_id": text, "quality": "NONE"},
    }


async def call_every_method(
    client: AsyncAltaBots, text: str, tmp_path: Path, sent: list[httpx.Request]
) -> dict[str, int]:
    """Call every public method of every resource with ``text`` in every string argument;
    returns method name -> requests it sent."""
    files = {"txt": tmp_path / "a.txt", "csv": tmp_path / "a.csv"}
    files["txt"].write_text("hello")
    files["csv"].write_text("q,a\n1,2\n")
    overrides = await _overrides(client, text, files)
    counts: dict[str, int] = {}
    for prefix, resource in all_resources(client):
        for name in sorted(dir(type(resource))):
            if name.startswith("_") or name == "with_raw_response":
                continue
            attr = inspect.getattr_static(type(resource), name)
            qualified = f"{prefix}.{name}"
            if isinstance(attr, property) or not callable(attr) or qualified in NOT_REQUESTS:
                continue
            method = getattr(resource, name)
            kwargs: dict[str, Any] = {}
            for param in inspect.signature(method).parameters.values():
                if param.default is inspect.Parameter.empty or param.name == "text":
                    kwargs[param.name] = _argument(str(param.annotation), text, files)
            kwargs.update(overrides.get(qualified, {}))
            before = len(sent)
            with contextlib.suppress(altabots_async.AltaBotsError):
                result = method(**kwargs)
                if inspect.isawaitable(result):
                    result = await result
                if hasattr(result, "__aenter__"):  # a stream: read one event, close
                    async with result:
                        async for _ in result:
                            break
                elif hasattr(result, "__aiter__"):  # a pager: one item
                    async for _ in result:
                        break
            counts[qualified] = len(sent) - before
    return counts


async def test_s04_s09_every_resource_method_keeps_key_and_user_text_out_of_the_path(
    tmp_path: Path,
) -> None:
    """Walk every resource method with ``../../admin?x=1#frag%2F`` in every string: each
    request goes to a constant API path, the key is in no URL or body, and user text that
    lands in the query is percent-encoded."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"code": 0, "data": {}})

    async with make(handler) as client:
        counts = await call_every_method(client, TRAVERSAL, tmp_path, sent)

    silent = sorted(name for name, count in counts.items() if count == 0)
    assert len(counts) >= 75
    assert silent == [], silent
    for request in sent:
        url = str(request.url)
        assert not leaks(url) and not leaks(request.content)
        assert request.headers["authorization"] == f"Bearer {KEY}"
        path = request.url.raw_path.split(b"?")[0].decode()
        assert re.fullmatch(r"/v[12]/[a-z0-9_/-]+", path), path
        assert "admin" not in path and ".." not in path
        assert "#" not in url and "admin?x" not in url  # '?' and '#' of user text encoded
        # user text never reaches a header: each one is one of ours, with a constant value
        assert set(request.headers) <= ALLOWED_HEADERS, set(request.headers)
        assert not any("admin" in value for value in request.headers.values())
    assert any(b"admin%3Fx%3D1%23frag%252F" in r.url.raw_path for r in sent)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("../../admin?x=1", "..%2F..%2Fadmin%3Fx%3D1"),
        ("a#b", "a%23b"),
        ("%2F", "%252F"),
        ("é", "%C3%A9"),
    ],
)
def test_s09_path_param_encodes_one_segment(value: str, encoded: str) -> None:
    assert path_param(value, "id") == encoded


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\x00", "", "a\x7f"])
def test_s09_path_param_refuses_control_characters(value: str) -> None:
    with pytest.raises(ValueError, match="id"):
        path_param(value, "id")


# ============================================================================ S-06


class TLSServer:
    """A one-connection-at-a-time HTTPS server in a thread; counts what it received."""

    BODY = b'{"code": 0, "data": {}}'

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.app_bytes = 0
        self.requests = 0
        self.handshake_failures = 0
        self.failed = threading.Event()  # set at the first failed handshake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TLSServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    tls = self.context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    self.handshake_failures += 1
                    self.failed.set()
                    continue
                with tls:
                    self._serve(tls)

    def _serve(self, tls: ssl.SSLSocket) -> None:
        data = b""
        with contextlib.suppress(ssl.SSLError, OSError):
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.app_bytes += len(data)
        if b"\r\n\r\n" in data:
            self.requests += 1
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(self.BODY)}\r\nConnection: close\r\n\r\n"
            )
            with contextlib.suppress(ssl.SSLError, OSError):
                tls.sendall(head.encode() + self.BODY)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[TLSServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with TLSServer(context) as server:
        yield server


@pytest.fixture(params=["httpx", "aiohttp"])
def tls_stack(request: pytest.FixtureRequest, anyio_backend_name: str) -> str:
    if request.param == "aiohttp" and anyio_backend_name != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


async def test_s06_untrusted_certificate_is_refused_before_any_byte(
    tls_server: TLSServer, tls_stack: str
) -> None:
    """Verification is on by default: a server whose CA we do not trust gets a TLS
    failure (APIConnectionError) and not one byte of the request."""
    url = f"https://127.0.0.1:{tls_server.port}/"
    async with AsyncAltaBots(KEY, base_url=url, transport=tls_stack, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.conversations.create(user_id="u1")
    # the server thread notices the aborted handshake on its own schedule: wait for it
    assert await anyio.to_thread.run_sync(tls_server.failed.wait, 10)
    assert tls_server.app_bytes == 0
    assert tls_server.requests == 0
    assert tls_server.handshake_failures >= 1
    assert not leaks(str(info.value))


async def test_s06_trusting_the_ca_explicitly_works(
    tls_server: TLSServer, tls_stack: str, ca: trustme.CA
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    url = f"https://127.0.0.1:{tls_server.port}/"
    async with AsyncAltaBots(
        KEY, base_url=url, transport=tls_stack, max_retries=0, verify=context
    ) as client:
        raw = await client.agent.with_raw_response.verify_key()
    assert raw.status_code == 200
    assert tls_server.requests == 1


async def test_s06_verify_false_only_explicitly_and_logged_once_at_warning(
    tls_server: TLSServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"https://127.0.0.1:{tls_server.port}/"
    with caplog.at_level(logging.WARNING, "altabots_async"):
        client = AsyncAltaBots(KEY, base_url=url, transport="httpx", max_retries=0, verify=False)
        async with client:
            await client.agent.with_raw_response.verify_key()
            await client.agent.with_raw_response.verify_key()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "verification is OFF" in warnings[0].getMessage()
    assert tls_server.requests == 2
    # verify= is for the client's own transport; elsewhere it is a configuration error
    with pytest.raises(ConfigurationError):
        AsyncAltaBots(KEY, verify=False, http_client=httpx.AsyncClient())
    with pytest.raises(ConfigurationError):
        AsyncAltaBots(
            KEY, verify=False, transport=httpx.MockTransport(lambda r: httpx.Response(200))
        )


# ============================================================================ S-07


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost@evil.com/",
        "http://127.0.0.1@evil.com/",
        "http://localhost:80@evil.com/",
        "http://evil.com#@localhost/",
        "http://evil.com?@localhost/",
        "http://localhost.evil.com/",
        "http://localhost../",
        "http://127.0.0.1.nip.io/",
        "http://127.0.0.1.evil.com/",
        "http://localtest.me/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::ffff:7f00:1]x/",
        "http://[0:0:0:0:0:ffff:8.8.8.8]/",
        "http://10.0.0.1/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://%6c%6f%63%61%6c%68%6f%73%74.evil.com/",
        "HTTP://EVIL.COM/",
    ],
)
def test_s07_tricky_hosts_are_refused_before_any_socket(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judged on the parsed host: not provably loopback means refused (typed error at
    construction; no socket is ever opened)."""

    def no_socket(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_socket)
    with pytest.raises(ConfigurationError):
        AsyncAltaBots(KEY, base_url=url, transport="httpx")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://localhost/", "localhost"),
        ("http://LocalHost.:8080/", "localhost."),
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://127.255.255.254/", "127.255.255.254"),
        ("http://[::1]/", "::1"),
        ("http://[0:0:0:0:0:0:0:1]:9/", "::1"),
    ],
)
def test_s07_loopback_spellings_are_allowed(url: str, host: str) -> None:
    client = AsyncAltaBots(KEY, base_url=url, transport="httpx")
    parsed = client.base_url.host.lower().rstrip(".")
    with contextlib.suppress(ValueError):
        parsed = str(ipaddress.ip_address(parsed))
    assert parsed == host.rstrip(".")


def test_s07_insecure_transport_error_names_the_host_not_the_key() -> None:
    with pytest.raises(InsecureTransportError) as info:
        AsyncAltaBots(KEY, base_url="http://api.example.com/", transport="httpx")
    assert "api.example.com" in str(info.value)
    assert not leaks(str(info.value))


# ============================================================================ S-08


async def test_s08_redirects_are_not_followed_by_default() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "https://evil.example/steal"})

    async with make(handler) as client:
        with pytest.raises(ResponseValidationError):
            await client.agent.retrieve()
    assert seen == [f"{BASE}v1/bot/detail"]


async def test_s08_user_enabled_redirects_drop_authorization_across_origins() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "altatech.ai":
            return httpx.Response(302, headers={"location": "https://other.example/x"})
        return httpx.Response(200, json=agent_json())

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
    async with make(http_client=http) as client:
        await client.agent.retrieve()
    await http.aclose()
    assert [r.url.host for r in seen] == ["altatech.ai", "other.example"]
    assert "authorization" in seen[0].headers
    assert "authorization" not in seen[1].headers


async def test_s08_user_enabled_redirects_never_go_from_https_to_http() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": "http://altatech.ai/v1/bot/detail"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
    async with make(http_client=http) as client:
        with pytest.raises(APIConnectionError, match="https to http"):
            await client.agent.retrieve()
    await http.aclose()
    assert [r.url.scheme for r in seen] == ["https"]


# ============================================================================ S-10


def test_s10_huge_remaining_never_raises_the_rate_above_the_plan() -> None:
    core = Core(quota=Quota(10, 60.0))
    permit = core.acquire(0.0).permit
    assert permit is not None
    core.observe(permit, Observation(200, limit=10**12, remaining=10**12, reset_at=30.0), 0.0)
    granted = 0
    while core.try_grant(0.1) is not None:
        granted += 1
    assert core.limit == 10
    # Remaining is clipped to the plan's Limit, and the window's opener (the probe, already
    # counted) leaves at most Limit - 1: the first window never exceeds the plan either.
    assert granted <= 9
    later = Core(quota=Quota(10, 60.0))
    probe = later.acquire(0.0).permit
    assert probe is not None
    later.observe(probe, Observation(200, limit=10, remaining=9, reset_at=30.0), 0.0)
    for t in (30.0, 90.0, 150.0):  # every later window: the plan exactly
        count = 0
        while (permit := later.try_grant(t + 0.1)) is not None:
            later.observe(
                permit, Observation(200, limit=10**12, remaining=10**12, reset_at=t + 60.0), t + 0.1
            )
            count += 1
        assert count == 10, t


def test_s10_reset_moving_forward_on_every_response_is_not_a_new_quota() -> None:
    """With a configured plan, a Reset that jumps a period ahead on every response is not
    a new window each time: the plan's count holds."""
    core = Core(quota=Quota(10, 60.0))
    permit = core.acquire(0.0).permit
    assert permit is not None
    key = 60.0
    core.observe(permit, Observation(200, limit=10, remaining=9, reset_at=key, window=key), 0.0)
    sent = 1
    while sent < 100 and (permit := core.try_grant(1.0)) is not None:
        key += 60.0
        core.observe(permit, Observation(200, limit=10, remaining=9, reset_at=key, window=key), 1.0)
        sent += 1
    assert sent <= 10


def test_s10_retry_after_one_million_is_clamped_to_one_window_plus_slack() -> None:
    for quota, cap in ((Quota(10, 60.0), 120.0), (None, 86_400.0 + 60.0)):
        core = Core(quota=quota)
        permit = core.acquire(0.0).permit
        assert permit is not None
        core.observe(permit, Observation(429, retry_at=1_000_000.0, reset_at=2_000_000.0), 0.0)
        assert 0 < core.frozen_until <= cap


async def test_s10_hostile_numbers_over_http() -> None:
    """Remaining 10^12 with a configured plan of 5: 5 reach the server, the rest fail
    fast; then Retry-After 1000000 beyond max_wait is an immediate QuotaExhaustedError."""
    sent = 0

    def generous(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        return httpx.Response(
            200,
            json=agent_json(),
            headers={"x-ratelimit-limit": str(10**12), "x-ratelimit-remaining": str(10**12)},
        )

    async with make(generous, quota=Quota(5, 3600.0), max_wait=1.0) as client:
        outcomes: list[str] = []

        async def one() -> None:
            try:
                await client.agent.retrieve()
                outcomes.append("ok")
            except QuotaExhaustedError:
                outcomes.append("exhausted")

        async with anyio.create_task_group() as tg:
            for _ in range(40):
                tg.start_soon(one)
    assert sent == 5  # exactly the plan, whatever Remaining says
    assert outcomes.count("ok") == sent

    calls = 0

    def hostile(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, json={"code": 40008}, headers={"retry-after": "1000000"})

    async with make(hostile, max_retries=3, max_wait=5.0) as client:
        with pytest.raises(QuotaExhaustedError) as info:
            await client.agent.retrieve()
        status = client.rate_limit
    assert calls == 1
    assert info.value.retry_after is not None
    assert 5.0 < info.value.retry_after <= 86_400.0 + 60.0
    assert status.frozen_for <= 86_400.0 + 60.0


# ============================================================================ S-11

MiB = 1024 * 1024


async def test_s11_compression_bomb_from_the_simulator_fails_with_bounded_memory(
    make_client: Any,
) -> None:
    """A gzip body inflating to 64 MiB against a 1 MiB cap: ResponseTooLargeError, and the
    Python heap grows by less than cap + 8 MiB (httpx's own decoder would inflate whole
    64 KiB chunks at once, 64 MiB each)."""
    sim = Simulator({KEY: Plan.enterprise(100, 3600.0)}, faults=Faults(compression_bomb=1.0))
    client = await make_client(sim, api_key=KEY, max_response_bytes=1 * MiB)
    await anyio.lowlevel.checkpoint()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        with pytest.raises(ResponseTooLargeError):
            await client.agent.retrieve()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.fault for r in sim.log] == ["compression_bomb"]
    assert peak - start < 1 * MiB + 8 * MiB, (peak - start) / MiB


async def test_s11_default_cap_against_a_64_mib_bomb() -> None:
    bomb = gzip.compress(bytes(64 * MiB), compresslevel=9)
    assert len(bomb) < MiB

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "gzip, deflate"
        stream = httpx.ByteStream(bomb)
        return httpx.Response(200, headers={"content-encoding": "gzip"}, stream=stream)

    async with make(handler) as client:
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            with pytest.raises(ResponseTooLargeError):
                await client.agent.retrieve()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak - start < 10 * MiB + 16 * MiB, (peak - start) / MiB


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw", "identity"])
async def test_s11_small_compressed_bodies_still_decode(encoding: str) -> None:
    body = b'{"code": 0, "data": {"bot_id": "b1", "name": "Helper"}}'
    if encoding == "gzip":
        wire = gzip.compress(body)
    elif encoding == "deflate":
        wire = zlib.compress(body)
    elif encoding == "deflate-raw":
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        wire = packer.compress(body) + packer.flush()
        encoding = "deflate"
    else:
        wire = body

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-encoding": encoding}, stream=httpx.ByteStream(wire)
        )

    async with make(handler) as client:
        agent = await client.agent.retrieve()
    assert agent.bot_id == "b1"


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br", "compress"])
async def test_s11_unadvertised_encodings_are_refused(encoding: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-encoding": encoding}, stream=httpx.ByteStream(b"\x00" * 64)
        )

    async with make(handler) as client:
        with pytest.raises(ResponseValidationError, match="Content-Encoding"):
            await client.agent.retrieve()


async def test_s11_corrupt_gzip_is_a_typed_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")
        )

    async with make(handler) as client:
        with pytest.raises(ResponseValidationError, match="compressed"):
            await client.agent.retrieve()


async def test_s11_s12_gzip_bomb_in_a_stream_hits_the_event_cap_with_bounded_memory() -> None:
    """An SSE body gzip-inflating to 64 MiB of one endless ``data:`` line: the per-event cap
    (here 1 MiB) fires while the heap stays small."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    line = b"data: " + b"a" * (64 * MiB)
    bomb = packer.compress(line) + packer.flush()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-encoding": "gzip", "content-type": "text/event-stream"},
            stream=httpx.ByteStream(bomb),
        )

    async with make(handler) as client:
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            stream = client.conversations.stream_message("c1", "hi")
            stream.max_event_bytes = 1 * MiB
            with pytest.raises(ResponseTooLargeError):
                async with stream:
                    async for _ in stream:
                        pass
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert stream.response is not None and stream.response.is_closed
    assert peak - start < 1 * MiB + 8 * MiB, (peak - start) / MiB


# ============================================================================ S-12


def test_s12_endless_data_lines_inside_one_value_hit_the_cap() -> None:
    from altabots_async._streaming import EventParser

    parser = EventParser(max_event_bytes=64 * 1024)
    parser.feed(b'data: {"code": 3, "data": [\n')
    with pytest.raises(ResponseTooLargeError):
        for _ in range(10_000):
            parser.feed(b'data: "' + b"x" * 100 + b'",\n')


def test_s12_endless_keepalives_keep_the_parser_small() -> None:
    from altabots_async._streaming import EventParser

    parser = EventParser(max_event_bytes=4096)
    for _ in range(20_000):
        assert parser.feed(b": keep-alive\n\n") == []
    assert len(parser._buffer) == 0
    assert parser._pending == ""


def test_s12_many_small_events_in_one_chunk_are_fine() -> None:
    from altabots_async._streaming import EventParser

    parser = EventParser(max_event_bytes=1024)
    chunk = b'data: {"code": 3, "data": "x"}\n\n' * 10_000
    assert len(parser.feed(chunk)) == 10_000


# ============================================================================ S-13


def test_s13_no_eval_pickle_or_server_paths_in_the_package() -> None:
    """Responses never become code or paths: no eval/exec/pickle/marshal/yaml in the
    package, and files are opened only in ``_files.py``, from paths the caller gave."""
    forbidden = re.compile(r"\b(eval|exec)\(|\bpickle\.|\bmarshal\.|\byaml\.|__import__\(")
    opens = re.compile(r"\bopen\(|anyio\.Path\(|Path\([^)]*\)\.(open|write|read)")
    for path in ROOT.rglob("*.py"):
        source = path.read_text()
        rel = path.relative_to(ROOT).as_posix()
        assert not forbidden.search(source), rel
        if opens.search(source):
            assert rel in ("_files.py",) or rel.startswith(("testing/", "cli/")), rel


async def test_s13_server_file_names_are_data_never_paths(tmp_path: Path) -> None:
    """A response naming ``../../etc/passwd`` is returned as a string; nothing is written."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"code": 0, "data": {"file_name": "../../etc/passwd", "url": "/etc/passwd"}}
        )

    before = sorted(os.listdir(tmp_path))
    async with make(handler) as client:
        raw = await client.knowledge_base.with_raw_response.upload_file(b"x", filename="notes.txt")
    assert raw.body["data"]["file_name"] == "../../etc/passwd"
    assert sorted(os.listdir(tmp_path)) == before


# ============================================================================ S-18


def _floor(requirement: str) -> tuple[str, Version]:
    name, _, rest = requirement.partition(">=")
    return name.split("[")[0].strip().lower(), Version(rest.split(",")[0].strip())


def test_s18_declared_floors_carry_the_fixes_and_installed_versions_meet_them() -> None:
    project = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())["project"]
    declared = dict(
        _floor(r) for r in project["dependencies"] + project["optional-dependencies"]["redis"]
    )
    assert declared["anyio"] >= Version("4.14")  # cancellation fixes (anyio PR #1145, #947)
    assert declared["httpx"] >= Version("0.28")
    assert declared["redis"] >= Version("4.5.4")  # GHSA-24wv-mv5m-xv4h
    for name, floor in declared.items():
        try:
            installed = Version(importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            assert name == "redis", name  # only the optional extra may be absent
            continue
        assert installed >= floor, (name, installed, floor)


# ============================================================================ S-19


def test_s19_webhook_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API does not sign webhooks (no signature, no timestamp: see webhooks.py); the
    bearer check it does have goes through hmac.compare_digest; the size cap holds before
    any parsing (wrong shapes and the cap itself are in test_webhooks.py)."""
    import hmac

    from altabots_async import webhooks

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    body = b'{"conversation_id": "c", "message_id": "m", "output": []}'
    with contextlib.suppress(webhooks.WebhookError):
        webhooks.parse_webhook_event(
            body, {"authorization": "Bearer wrong"}, verify_bearer="right-token"
        )
    assert calls == [(b"wrong", b"right-token")]
    with pytest.raises(webhooks.WebhookError, match="exceeds"):
        webhooks.parse_webhook_event(
            b"x" * (2 * MiB), {"authorization": "Bearer right-token"}, verify_bearer="right-token"
        )
    # the size cap holds even for a caller presenting the right token
