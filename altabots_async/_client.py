"""AsyncAltaBots: configuration, resources, per-call options, and the request path."""

from __future__ import annotations

import copy
import logging
import os
import ssl
from collections.abc import Mapping
from functools import partial
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio
import httpx

from ._aiohttp import TransportChoice, make_inner_transport, transport_label
from ._boundary import guarded, map_error
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
from ._exceptions import ConfigurationError, final_statuses_for
from ._options import (
    EXTENSION,
    NOT_GIVEN,
    STREAM_EXTENSION,
    NotGiven,
    RequestOptions,
    StreamSettings,
    check_counts,
    check_deadline,
    clean_params,
    coerce_timeout,
    given,
)
from ._pipeline import Expect, run_call, send_following_redirects
from ._proxy import describe, resolve_proxy
from ._requests import SharedState, call_headers
from ._response import STRICT_EXTENSION
from ._secret import ApiKey, key_id, load_key
from ._transport import Hook, RateLimitTransport, send_with_limiter
from ._urls import normalize_base_url
from .ratelimit._headers import RateLimitHeaders
from .ratelimit._limiter import RateLimiter
from .ratelimit._quota import Quota
from .ratelimit.backends._base import LimiterStatus
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

logger = logging.getLogger("altabots_async")
_BODYLESS = frozenset({"GET", "DELETE", "HEAD", "OPTIONS"})
_NO_BODY = httpx.ByteStream(b"")

__all__ = ["AsyncAltaBots", "make_inner_transport", "transport_label"]


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
        strict: decode answers strictly: a field that does not fit its model's type raises
            :class:`ResponseValidationError`. Default False: such a field is left at its
            default, named in the model's ``decode_errors`` (its value stays in ``raw``) and
            logged at debug, so one odd field never costs a whole answer.
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
        strict: bool = False,
    ) -> None:
        try:
            self._api_key: ApiKey = load_key(api_key, ENV_API_KEY)
        finally:
            del api_key  # gone from this frame's locals before an error leaves it
        self._bucket = key_id(self._api_key.reveal())
        raw_url = base_url if base_url is not None else os.environ.get(ENV_BASE_URL)
        self.base_url = normalize_base_url(
            raw_url or DEFAULT_BASE_URL, allow_insecure_http=allow_insecure_http
        )
        check_counts(
            max_retries=max_retries,
            max_response_bytes=max_response_bytes,
            max_stream_bytes=max_stream_bytes,
            max_stream_events=max_stream_events,
        )
        if limiter is not None and quota is not None:
            raise ConfigurationError(
                "pass either quota=... or limiter=... (configure the quota on the limiter)"
            )
        self.timeout = coerce_timeout(given(timeout, DEFAULT_TIMEOUT))
        self.max_retries = max_retries
        self.priority = priority
        self.max_wait = max_wait
        self.deadline = check_deadline(deadline)
        self.max_response_bytes = max_response_bytes
        self.strict = strict
        self.max_stream_bytes = max_stream_bytes
        self.max_stream_events = max_stream_events
        self.limiter = limiter or RateLimiter(quota, max_in_flight=max_in_flight)
        self._hook = hook
        self._shared = SharedState()
        self._option_cache: dict[
            tuple[bool | None, int | None, frozenset[int]], RequestOptions
        ] = {}
        self._connect(http_client, transport, verify, proxy, trust_env)
        logger.debug("client created: %r proxy=%s", self, describe(self.proxy))
        self._bind_resources()

    def _connect(
        self,
        http_client: httpx.AsyncClient | None,
        transport: TransportChoice | httpx.AsyncBaseTransport,
        verify: ssl.SSLContext | str | bool,
        proxy: str | httpx.URL | httpx.Proxy | None,
        trust_env: bool,
    ) -> None:
        """The HTTP side: a caller-owned client, a transport passed in, or our own stack
        (with ``verify`` and the proxy), always under the :class:`RateLimitTransport`."""
        own_stack = http_client is None and not isinstance(transport, httpx.AsyncBaseTransport)
        for name, value, default in (("verify", verify, True), ("proxy", proxy, None)):
            if value is not default and not own_stack:
                raise ConfigurationError(
                    f"{name}=... configures the client's own transport; configure the "
                    "http_client or transport you pass instead"
                )
        if verify is False:
            logger.warning(
                "TLS certificate verification is OFF (verify=False): anyone on the network "
                "path can read the API key and the traffic"
            )
        self.proxy = (
            resolve_proxy(self.base_url, proxy, trust_env=trust_env, environ=os.environ)
            if own_stack
            else None
        )
        self._owns_http = http_client is None
        self._external_http = http_client is not None
        self._inner: httpx.AsyncBaseTransport | None = None
        if http_client is not None:
            self._http = http_client
            return
        self._inner = (
            transport
            if isinstance(transport, httpx.AsyncBaseTransport)
            else make_inner_transport(transport, verify=verify, proxy=self.proxy)
        )
        self._transport = RateLimitTransport(
            self._inner, self.limiter, max_retries=self.max_retries, hook=self._hook
        )
        self._http = httpx.AsyncClient(
            transport=self._transport, timeout=self.timeout, follow_redirects=False
        )

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
        clone._option_cache = {}
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
            clone.deadline = check_deadline(deadline)
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
        multipart = files is not None
        content: dict[str, Any] = {
            "params": clean_params(params),
            "json": json if not multipart else None,
            "files": files,
            "data": data,
        }
        if not self._external_http and method in _BODYLESS and not any(content.values()):
            # The hot path (a GET): complete headers built once; httpx would copy, prepare
            # and look them up again on every request (same bytes on the wire).
            request = httpx.Request(
                method,
                self._shared.url(self.base_url, path),
                headers=self._shared.bodyless_headers(
                    self._http.headers, self._api_key, self.base_url
                ),
                stream=_NO_BODY,
                extensions={"timeout": self.timeout.as_dict()},
            )
            request._content = b""  # what request.read() stores, without its ABC checks
        elif self._external_http:
            request = self._http.build_request(
                method,
                self._shared.url(self.base_url, path),
                headers=call_headers(self._api_key, json_body=not multipart),
                timeout=self.timeout,
                **content,
            )
        else:
            # Our own pool: the same request AsyncClient.build_request would make (its
            # default headers merged once per client, no cookies), without re-merging
            # headers, URL and params on every call.
            request = httpx.Request(
                method,
                self._shared.url(self.base_url, path),
                headers=self._shared.request_headers(
                    self._http.headers, self._api_key, json_body=not multipart
                ),
                extensions={"timeout": self.timeout.as_dict()},
                **content,
            )
        if multipart:
            # Encoded once, up front, so that the scheduler may resend it after a 429 (not
            # processed by definition) as it does JSON calls; httpx would otherwise stream
            # the parts and the transport could not replay them.
            request.read()
        final = final_statuses_for(method, path)
        request.extensions[EXTENSION] = self._options(idempotent, max_bytes, final)
        if self.strict:
            request.extensions[STRICT_EXTENSION] = True
        return request

    def _options(
        self, idempotent: bool | None, max_bytes: int | None, final: frozenset[int]
    ) -> RequestOptions:
        """What the scheduler needs to know about a call (a deadline caps the queue wait);
        immutable, so made once per client (and per ``with_options`` copy) and kind."""
        cache_key = (idempotent, max_bytes, final)
        options = self._option_cache.get(cache_key)
        if options is not None:
            return options
        max_wait, deadline = self.max_wait, self.deadline
        if deadline is not None:
            max_wait = deadline if max_wait is None else min(max_wait, deadline)
        options = RequestOptions(
            priority=self.priority,
            max_wait=max_wait,
            max_retries=self.max_retries,
            idempotent=idempotent,
            bucket=self._bucket,
            max_response_bytes=max_bytes or self.max_response_bytes,
            final_statuses=final,
        )
        if len(self._option_cache) < 64:
            self._option_cache[cache_key] = options
        return options

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Through the scheduler, inside the one error boundary (``_boundary.py``)."""
        if self._external_http:
            step = send_with_limiter(
                partial(send_following_redirects, self._http),
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
        # The boundary inline (as in ``guarded``): one coroutine frame less per call.
        try:
            response = await self._transport.handle_async_request(request)
        except Exception as exc:
            error = map_error(exc, request, self._api_key)
            if error is None:
                raise
            del exc
        else:
            response.request = request
            return response
        raise error

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

    async def _call(
        self,
        request: httpx.Request,
        cast_to: type[Any] | None,
        expect: Expect,
        max_bytes: int | None = None,
    ) -> Any:
        """The one response pipeline (``_pipeline.py``), within the call's deadline."""
        return await run_call(
            self._send,
            request,
            cast_to=cast_to,
            expect=expect,
            max_bytes=max_bytes or self.max_response_bytes,
            secret=self._api_key,
            on_rate_limit=self._shared.record,
            deadline=self.deadline,
        )

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
