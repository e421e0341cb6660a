"""AsyncAltaBots: configuration, resources, per-call options, and the request path."""

from __future__ import annotations

import copy
import logging
import os
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio
import httpx

from ._aiohttp import TransportChoice, make_inner_transport, transport_label
from ._body import buffer_body, decode_json
from ._boundary import guarded
from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    MAX_RESPONSE_BYTES,
    MAX_STREAM_BYTES,
    MAX_STREAM_EVENTS,
)
from ._exceptions import APITimeoutError, ConfigurationError, ResponseValidationError
from ._options import (
    EXTENSION,
    NOT_GIVEN,
    RATE_LIMIT_EXTENSION,
    STREAM_EXTENSION,
    NotGiven,
    RequestOptions,
    StreamSettings,
    coerce_timeout,
    given,
)
from ._proxy import describe, resolve_proxy
from ._response import APIResponse, raise_for_body
from ._secret import ApiKey, key_id, key_problem
from ._transport import Hook, RateLimitTransport, send_with_limiter
from ._urls import normalize_base_url
from ._version import __version__
from .ratelimit._headers import RateLimitHeaders
from .ratelimit._limiter import RateLimiter
from .ratelimit._quota import Quota
from .ratelimit.backends._base import LimiterStatus
from .resources._base import RAW_RESPONSE
from .resources.agent import AgentResource
from .resources.analytics import AnalyticsResource
from .resources.conversations import ConversationsResource
from .resources.databases import DatabasesResource
from .resources.knowledge import KnowledgeBaseResource
from .resources.speech import SpeechResource
from .resources.users import UsersResource
from .resources.webhooks import WebhooksResource
from .resources.workflows import WorkflowsResource

T = TypeVar("T")
Expect = Literal["json", "bytes", "stream"]

logger = logging.getLogger("altabots_async")
_MAX_CACHED_URLS = 1024

__all__ = ["AsyncAltaBots", "make_inner_transport", "transport_label"]


class _Shared:
    """What a client and its ``with_options`` copies share."""

    def __init__(self) -> None:
        self.last_rate_limit: RateLimitHeaders | None = None
        self.urls: dict[str, httpx.URL] = {}  # path -> joined URL (parsing one costs ~20 µs)
        self.headers: dict[bool, httpx.Headers] = {}  # json body? -> the request headers


class AsyncAltaBots:
    """The asyncio client of the AltaBots API.

    Args:
        api_key: the agent's API key; falls back to ``ALTABOTS_API_KEY``. Missing:
            :class:`ConfigurationError` here, not at the first call.
        base_url: falls back to ``ALTABOTS_BASE_URL``, then ``https://altatech.ai/``. Plain
            ``http://`` is refused for non-loopback hosts unless ``allow_insecure_http=True``.
        quota: the plan, e.g. ``Quota.PROFESSIONAL``; None: learned from the server.
        limiter: a :class:`RateLimiter` to share with other clients (then leave ``quota``
            unset and configure the limiter instead).
        timeout: seconds, an ``httpx.Timeout``, or None (no timeout). Default 60 s (10 s to
            connect). It bounds each step (connecting, each read, each write), not the
            call: a server that drips a byte just inside it can hold a call much longer.
        deadline: seconds the whole call may take, or None (default: no deadline): queue
            wait, every attempt and retry, and reading the body (a streamed reply to its
            end). Past it: :class:`APITimeoutError`; a queue that cannot serve the call in
            time raises :class:`QuotaExhaustedError` at once, as ``max_wait`` does.
        max_retries: transparent retries (429 always; connect errors always; 5xx and
            timeouts only for idempotent calls). Default 3.
        http_client: a caller-owned ``httpx.AsyncClient``; it is not closed by this client.
        transport: ``"auto"`` (the fastest installed), ``"httpx"``, ``"aiohttp"``, or an
            ``httpx.AsyncBaseTransport`` to send through (e.g. ``httpx.ASGITransport`` around
            the simulator).
        priority, max_wait: defaults for every call (see :meth:`with_options`).
        max_in_flight: at most this many requests in flight (when the client makes its own
            limiter).
        max_response_bytes: cap on a decoded response body (default 10 MiB).
        max_stream_bytes, max_stream_events: caps on a whole streamed reply, decoded bytes
            (default 32 MiB) and events (default 100,000); past either,
            :class:`ResponseTooLargeError`.
        allow_insecure_http: allow ``http://`` to a non-loopback host.
        verify: TLS certificate verification of the client's own transport: True (default,
            the system's trust store via httpx), a CA bundle path or an ``ssl.SSLContext``.
            ``verify=False`` turns verification off and logs a WARNING; it is never implied.
        hook: called as ``hook(event, details)`` on request, response and retry.
        proxy: an ``http://`` or ``https://`` proxy URL (or ``httpx.Proxy``) for the client's
            own transport; None: from the environment when ``trust_env``.
        trust_env: read ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY``
            (default True; loopback hosts always go direct). See ``_proxy.py``.

    Example::

        async with AsyncAltaBots(quota=Quota.PROFESSIONAL) as client:
            agent = await client.agent.retrieve()
    """

    agent: AgentResource
    knowledge_base: KnowledgeBaseResource
    analytics: AnalyticsResource
    users: UsersResource
    workflows: WorkflowsResource
    databases: DatabasesResource
    speech: SpeechResource
    conversations: ConversationsResource
    webhooks: WebhooksResource

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        quota: Quota | None = None,
        limiter: RateLimiter | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: TransportChoice | httpx.AsyncBaseTransport = "auto",
        priority: int = 0,
        max_wait: float | None = None,
        max_in_flight: int | None = DEFAULT_MAX_IN_FLIGHT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        allow_insecure_http: bool = False,
        verify: ssl.SSLContext | str | bool = True,
        hook: Hook | None = None,
        deadline: float | None = None,
        max_stream_bytes: int = MAX_STREAM_BYTES,
        max_stream_events: int = MAX_STREAM_EVENTS,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
        trust_env: bool = True,
    ) -> None:
        raw_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if raw_key is None or not raw_key.strip():
            raise ConfigurationError(
                f"no API key: pass api_key=... or set the {ENV_API_KEY} environment variable"
            )
        problem = key_problem(raw_key)
        if problem is not None:
            # Raised from here with the key out of every local, so that frame-local capture
            # (error trackers, --showlocals) of this error cannot see it.
            del api_key, raw_key
            raise ConfigurationError(problem)
        self._api_key = ApiKey(raw_key)
        self._bucket = key_id(self._api_key.reveal())
        raw_url = base_url if base_url is not None else os.environ.get(ENV_BASE_URL)
        self.base_url = normalize_base_url(
            raw_url or DEFAULT_BASE_URL, allow_insecure_http=allow_insecure_http
        )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError("max_retries must be an int >= 0")
        for name, cap in (
            ("max_response_bytes", max_response_bytes),
            ("max_stream_bytes", max_stream_bytes),
            ("max_stream_events", max_stream_events),
        ):
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise ConfigurationError(f"{name} must be an int >= 1")
        if limiter is not None and quota is not None:
            raise ConfigurationError(
                "pass either quota=... or limiter=... (configure the quota on the limiter)"
            )
        try:
            self.timeout = coerce_timeout(given(timeout, DEFAULT_TIMEOUT))
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self.max_retries = max_retries
        self.priority = priority
        self.max_wait = max_wait
        self.deadline = _check_deadline(deadline)
        self.max_response_bytes = max_response_bytes
        self.max_stream_bytes = max_stream_bytes
        self.max_stream_events = max_stream_events
        self.limiter = limiter or RateLimiter(quota, max_in_flight=max_in_flight)
        self._hook = hook
        self._shared = _Shared()
        if verify is not True and http_client is not None:
            raise ConfigurationError(
                "verify=... configures the client's own transport; configure the "
                "http_client you pass instead"
            )
        if verify is False:
            logger.warning(
                "TLS certificate verification is OFF (verify=False): anyone on the network "
                "path can read the API key and the traffic"
            )
        self._owns_http = http_client is None
        self._external_http = http_client is not None
        own_transport = http_client is None and not isinstance(transport, httpx.AsyncBaseTransport)
        if proxy is not None and not own_transport:
            raise ConfigurationError(
                "proxy=... configures the client's own transport; configure the http_client "
                "or transport you pass instead"
            )
        self.proxy = (
            resolve_proxy(self.base_url, proxy, trust_env=trust_env, environ=os.environ)
            if own_transport
            else None
        )
        if http_client is not None:
            self._http = http_client
            self._inner: httpx.AsyncBaseTransport | None = None
        else:
            if verify is not True and isinstance(transport, httpx.AsyncBaseTransport):
                raise ConfigurationError(
                    "verify=... configures the client's own transport; set it on the "
                    "transport you pass instead"
                )
            inner = (
                transport
                if isinstance(transport, httpx.AsyncBaseTransport)
                else make_inner_transport(transport, verify=verify, proxy=self.proxy)
            )
            self._inner = inner
            self._transport = RateLimitTransport(
                inner, self.limiter, max_retries=max_retries, hook=hook
            )
            self._http = httpx.AsyncClient(
                transport=self._transport,
                timeout=self.timeout,
                follow_redirects=False,
            )
        logger.debug(
            "client created: base_url=%s transport=%s proxy=%s",
            self.base_url,
            self.transport_name,
            describe(self.proxy),
        )
        self._bind_resources()

    def _bind_resources(self) -> None:
        self.agent = AgentResource(self)
        self.knowledge_base = KnowledgeBaseResource(self)
        self.analytics = AnalyticsResource(self)
        self.users = UsersResource(self)
        self.workflows = WorkflowsResource(self)
        self.databases = DatabasesResource(self)
        self.speech = SpeechResource(self)
        self.conversations = ConversationsResource(self)
        self.webhooks = WebhooksResource(self)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool this client opened (a caller-owned one stays open)."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether the underlying HTTP client is closed."""
        return self._http.is_closed

    @property
    def transport_name(self) -> str:
        """The HTTP stack that sends: ``"httpx"``, ``"aiohttp"``, ``"auto"`` (not chosen
        yet: it is chosen at the first request), ``"caller-owned"`` (``http_client=...``) or
        the class name of a transport passed in."""
        if self._inner is None:
            return "caller-owned"
        return transport_label(self._inner)

    def __repr__(self) -> str:
        return (
            f"<AsyncAltaBots base_url={str(self.base_url)!r} key={self._api_key.fingerprint} "
            f"transport={self.transport_name}>"
        )

    # ------------------------------------------------------------------ options

    def with_options(
        self,
        *,
        priority: int | NotGiven = NOT_GIVEN,
        max_wait: float | NotGiven | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A light copy with other per-call defaults, sharing the limiter and the pool.

        Example: ``await client.with_options(priority=10, max_wait=2.0).agent.retrieve()``
        """
        clone = copy.copy(self)
        clone._owns_http = False
        if priority is not NOT_GIVEN:
            clone.priority = priority
        if max_wait is not NOT_GIVEN:
            clone.max_wait = max_wait
        if timeout is not NOT_GIVEN:
            clone.timeout = coerce_timeout(timeout)
        if max_retries is not NOT_GIVEN:
            if max_retries < 0:
                raise ConfigurationError("max_retries must be >= 0")
            clone.max_retries = max_retries
        if deadline is not NOT_GIVEN:
            clone.deadline = _check_deadline(deadline)
        clone._bind_resources()
        return clone

    # ------------------------------------------------------------------ rate limit view

    @property
    def rate_limit(self) -> LimiterStatus:
        """The scheduler's view of this key: limit, remaining, reset, queued, in flight."""
        return self.limiter.status(self._bucket)

    @property
    def last_rate_limit(self) -> RateLimitHeaders | None:
        """The rate-limit headers of the latest response (any call of this client)."""
        return self._shared.last_rate_limit

    # ------------------------------------------------------------------ request path

    def _headers(self, *, json_body: bool) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key.reveal()}",
            "User-Agent": f"altabots-async/{__version__}",
            "Accept": "application/json",
            # Only what read_capped can inflate in bounded steps (httpx would add br/zstd
            # whenever those packages are importable).
            "Accept-Encoding": "gzip, deflate",
        }
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _request_headers(self, *, json_body: bool) -> httpx.Headers:
        """The client's default headers with ours on top, built once per client."""
        headers = self._shared.headers.get(json_body)
        if headers is None:
            headers = httpx.Headers(self._http.headers)
            headers.update(self._headers(json_body=json_body))
            self._shared.headers[json_body] = headers
        return headers

    def _url(self, path: str) -> httpx.URL:
        """``base_url`` joined with ``path``, cached per client (bounded)."""
        urls = self._shared.urls
        url = urls.get(path)
        if url is None:
            if len(urls) >= _MAX_CACHED_URLS:
                urls.clear()
            url = urls[path] = self.base_url.join(path.lstrip("/"))
        return url

    def _build_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        max_bytes: int | None = None,
    ) -> httpx.Request:
        url = self._url(path)
        multipart = files is not None
        if self._external_http:
            request = self._http.build_request(
                method,
                url,
                params=_clean_params(params),
                json=json if not multipart else None,
                files=files,
                data=data,
                headers=self._headers(json_body=not multipart),
                timeout=self.timeout,
            )
        else:
            # Our own pool: the same request AsyncClient.build_request would make (its
            # default headers merged once per client, no cookies), without re-merging
            # headers, URL and params on every call.
            request = httpx.Request(
                method,
                url,
                params=_clean_params(params),
                json=json if not multipart else None,
                files=files,
                data=data,
                headers=self._request_headers(json_body=not multipart),
                extensions={"timeout": self.timeout.as_dict()},
            )
        if multipart:
            # Encoded once, up front, so that the scheduler may resend it after a 429 (not
            # processed by definition) as it does JSON calls; httpx would otherwise stream
            # the parts and the transport could not replay them.
            request.read()
        max_wait = self.max_wait
        if self.deadline is not None:
            max_wait = self.deadline if max_wait is None else min(max_wait, self.deadline)
        request.extensions[EXTENSION] = RequestOptions(
            priority=self.priority,
            max_wait=max_wait,
            max_retries=self.max_retries,
            idempotent=idempotent,
            bucket=self._bucket,
            max_response_bytes=max_bytes or self.max_response_bytes,
        )
        return request

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Through the scheduler, inside the one error boundary (``_boundary.py``)."""
        if self._external_http:
            step = send_with_limiter(
                self._send_external,
                request,
                self.limiter,
                default_retries=self.max_retries,
                hook=self._hook,
                max_body_bytes=self.max_response_bytes,
            )
            return await guarded(step, request, self._api_key)
        if self._http.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        # Straight to our RateLimitTransport: AsyncClient.send would add auth, redirect
        # and cookie handling we never use (extracting cookies alone cost ~40 µs/call).
        response = await guarded(
            self._transport.handle_async_request(request), request, self._api_key
        )
        response.request = request
        return response

    async def _send_external(self, request: httpx.Request) -> httpx.Response:
        """Send through a caller-owned ``http_client``. If it follows redirects, httpx drops
        ``Authorization`` when the origin changes; on top of that a redirect from https to
        anything else is refused (it would carry the body in clear)."""
        http = self._http
        response = await http.send(request, stream=True, follow_redirects=False)
        hops = 0
        while http.follow_redirects and response.next_request is not None:
            target = response.next_request
            await response.aclose()
            if request.url.scheme == "https" and target.url.scheme != "https":
                raise httpx.UnsupportedProtocol(
                    "refusing to follow a redirect from https to http", request=request
                )
            hops += 1
            if hops > http.max_redirects:
                raise httpx.TooManyRedirects("too many redirects", request=request)
            response = await http.send(target, stream=True, follow_redirects=False)
        return response

    async def _execute(
        self,
        request: httpx.Request,
        cast_to: type[T] | None,
        expect: Expect,
        max_bytes: int | None,
    ) -> Any:
        """The one response pipeline: send, record the rate-limit info, read the body capped,
        decode it, raise for an error, then build the model, the bytes, the raw response or
        (``expect="stream"``, success that is not JSON) hand back the open response."""
        response = await self._send(request)
        info = response.extensions.get(RATE_LIMIT_EXTENSION)
        if info is not None:
            self._shared.last_rate_limit = info
        json_type = "json" in response.headers.get("content-type", "").lower()
        if expect == "stream" and response.status_code < 400 and not json_type:
            return response
        cap = max_bytes or self.max_response_bytes
        content = await guarded(buffer_body(response, cap), request, self._api_key)
        skip = expect == "bytes" and not json_type
        body, is_json = (None, False) if skip else decode_json(content)
        raise_for_body(response, content, body, is_json, secret=self._api_key)
        if expect == "stream":
            return response  # a JSON success, read: the stream parser takes it from memory
        raw = APIResponse(response, content, body, cast_to)
        if RAW_RESPONSE.get():
            return raw
        if expect == "bytes":
            return content
        if not is_json and cast_to is not type(None):
            raise ResponseValidationError(
                f"{request.method} {request.url.path}: expected a JSON body", body=None
            )
        return raw.parse()

    async def _call(
        self,
        request: httpx.Request,
        cast_to: type[T] | None = None,
        expect: Expect = "json",
        max_bytes: int | None = None,
    ) -> Any:
        """:meth:`_execute` within the call's ``deadline`` (when one is set)."""
        deadline = self.deadline
        if deadline is None:
            return await self._execute(request, cast_to, expect, max_bytes)
        with anyio.move_on_after(deadline):
            return await self._execute(request, cast_to, expect, max_bytes)
        raise APITimeoutError(
            f"{request.method} {request.url.path}: the call's deadline of {deadline:g} s passed",
            request=request,
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        expect: Literal["json", "bytes"] = "json",
        max_bytes: int | None = None,
    ) -> T:
        """Send one call through the scheduler; return the model (or APIResponse in raw mode).

        ``expect="bytes"``: the raw body (downloads); ``max_bytes`` overrides the body cap.
        """
        request = self._build_request(
            method,
            path,
            params=params,
            json=json,
            files=files,
            data=data,
            idempotent=idempotent,
            max_bytes=max_bytes,
        )
        result: T = await self._call(request, cast_to, expect, max_bytes)
        return result

    async def _stream(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one streaming call through the scheduler; return the open response.

        An error (HTTP status >= 400, or a JSON error body) is read, capped, and raised as
        the mapped exception. A JSON success body is read and handed back buffered. The
        response carries the stream's limits (:class:`StreamSettings`, including what is
        left of the call's deadline). The caller must close the response it gets.
        """
        started = anyio.current_time()
        request = self._build_request(method, path, params=params, json=json, idempotent=False)
        request.headers["Accept"] = "text/event-stream, application/json"
        response: httpx.Response = await self._call(request, None, "stream")
        response.extensions[STREAM_EXTENSION] = StreamSettings(
            max_bytes=self.max_stream_bytes,
            max_events=self.max_stream_events,
            deadline_at=None if self.deadline is None else started + self.deadline,
        )
        return response


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def _check_deadline(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError("deadline must be a positive number of seconds or None")
    return float(value)
