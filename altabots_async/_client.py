"""AsyncAltaBots: configuration, resources, per-call options, and the request path."""

from __future__ import annotations

import copy
import logging
import os
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._aiohttp import AutoTransport, TransportChoice, make_transport
from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    MAX_RESPONSE_BYTES,
)
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    final_statuses_for,
)
from ._options import (
    EXTENSION,
    NOT_GIVEN,
    NotGiven,
    RequestOptions,
    coerce_timeout,
    given,
)
from ._response import STRICT_EXTENSION, APIResponse, decode_json, raise_for_body, read_capped
from ._secret import ApiKey, key_id, key_problem
from ._transport import RATE_LIMIT_EXTENSION, Hook, RateLimitTransport, send_with_limiter
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

logger = logging.getLogger("altabots_async")
_MAX_CACHED_URLS = 1024


def make_inner_transport(
    choice: TransportChoice, *, verify: ssl.SSLContext | str | bool = True
) -> httpx.AsyncBaseTransport:
    """The transport that really sends: ``"auto"`` decides at the first request (see
    :class:`~altabots_async._aiohttp.AutoTransport`), ``"httpx"`` / ``"aiohttp"`` now."""
    if choice == "auto":
        if verify is True:
            return AutoTransport()
        return AutoTransport(lambda chosen: make_transport(chosen, verify=verify))
    if choice not in ("httpx", "aiohttp"):
        raise ConfigurationError(
            f"transport must be 'auto', 'httpx', 'aiohttp' or an httpx transport, not {choice!r}"
        )
    return make_transport(choice, verify=verify)


def transport_label(inner: httpx.AsyncBaseTransport) -> str:
    """The name ``client.transport_name`` shows for an inner transport."""
    if isinstance(inner, AutoTransport):
        return inner.name
    if isinstance(inner, httpx.AsyncHTTPTransport):
        return "httpx"
    if type(inner).__name__ == "AiohttpAdapter":
        return "aiohttp"
    return type(inner).__name__


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
            connect).
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
        allow_insecure_http: allow ``http://`` to a non-loopback host.
        verify: TLS certificate verification of the client's own transport: True (default,
            the system's trust store via httpx), a CA bundle path or an ``ssl.SSLContext``.
            ``verify=False`` turns verification off and logs a WARNING; it is never implied.
        hook: called as ``hook(event, details)`` on request, response and retry.
        strict: decode answers strictly: a field that does not fit its model's type raises
            :class:`ResponseValidationError`. Default False: such a field is left at its
            default, named in the model's ``decode_errors`` (its value stays in ``raw``) and
            logged at debug, so one odd field never costs a whole answer.

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
        strict: bool = False,
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
        if max_response_bytes < 1:
            raise ConfigurationError("max_response_bytes must be >= 1")
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
        self.max_response_bytes = max_response_bytes
        self.strict = strict
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
                else make_inner_transport(transport, verify=verify)
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
        logger.debug("client created: base_url=%s transport=%s", self.base_url, self.transport_name)
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
        request.extensions[EXTENSION] = RequestOptions(
            priority=self.priority,
            max_wait=self.max_wait,
            max_retries=self.max_retries,
            idempotent=idempotent,
            bucket=self._bucket,
            final_statuses=final_statuses_for(method, path),
        )
        request.extensions[STRICT_EXTENSION] = self.strict
        return request

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            if self._external_http:
                return await send_with_limiter(
                    self._send_external,
                    request,
                    self.limiter,
                    default_retries=self.max_retries,
                    hook=self._hook,
                )
            if self._http.is_closed:
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            # Straight to our RateLimitTransport: AsyncClient.send would add auth, redirect
            # and cookie handling we never use (extracting cookies alone cost ~40 µs/call).
            response = await self._transport.handle_async_request(request)
            response.request = request
            return response
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"{request.method} {request.url.path}: request timed out ({type(exc).__name__})",
                request=request,
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"{request.method} {request.url.path}: {type(exc).__name__}: {_safe(exc)}",
                request=request,
            ) from exc

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
    ) -> T:
        """Send one call through the scheduler; return the model (or APIResponse in raw mode)."""
        request = self._build_request(
            method, path, params=params, json=json, files=files, data=data, idempotent=idempotent
        )
        response = await self._send(request)
        content = await read_capped(response, self.max_response_bytes)
        info = response.extensions.get(RATE_LIMIT_EXTENSION)
        if isinstance(info, RateLimitHeaders):
            self._shared.last_rate_limit = info
        body, is_json = decode_json(content)
        raise_for_body(response, content, body, is_json, secret=self._api_key)
        raw = APIResponse(response, content, body, cast_to)
        if RAW_RESPONSE.get():
            return raw  # type: ignore[return-value]
        if not is_json and cast_to is not type(None):
            from ._exceptions import ResponseValidationError

            raise ResponseValidationError(
                f"{method} {request.url.path}: expected a JSON body", body=None
            )
        return raw.parse()

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
        the mapped exception. A JSON success body is read and handed back as a buffered
        response. The caller must close the response it gets.
        """
        request = self._build_request(method, path, params=params, json=json, idempotent=False)
        request.headers["Accept"] = "text/event-stream, application/json"
        response = await self._send(request)
        info = response.extensions.get(RATE_LIMIT_EXTENSION)
        if isinstance(info, RateLimitHeaders):
            self._shared.last_rate_limit = info
        content_type = response.headers.get("content-type", "")
        if response.status_code < 400 and "application/json" not in content_type:
            return response
        content = await read_capped(response, self.max_response_bytes)
        body, is_json = decode_json(content)
        raise_for_body(response, content, body, is_json, secret=self._api_key)
        return httpx.Response(
            response.status_code,
            headers=[
                (name, value)
                for name, value in response.headers.items()
                if name not in ("content-encoding", "content-length", "transfer-encoding")
            ],
            content=content,
            request=request,
            extensions=response.extensions,
        )


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def _safe(exc: BaseException) -> str:
    """An exception's text without anything that could carry a header value."""
    text = str(exc)
    if "Bearer" in text or "authorization" in text.lower():
        return "(details withheld: the error text mentioned request headers)"
    return text[:300]
