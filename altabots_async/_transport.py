"""RateLimitTransport: every request waits for a permit, every response resyncs the quota.

The retry loop lives here, where "was it sent?" is known. Each attempt is classified, and the
pure functions of :mod:`._retry` decide whether to resend it and after how long:

* connect errors (refused, connect or pool timeout, proxy refused): never sent; the permit
  is refunded and any request is retried after a jittered backoff;
* an over-quota rejection: HTTP 429, or the vendor's body code 40008 whatever the HTTP
  status (200, 400, 429). Not processed; the limiter is told it was a 429 (``observe(429,
  headers)``): every caller of the key freezes until ``Retry-After`` / Reset (or a bounded
  back-off when neither is given), it counts in ``throttled``, and this request is resent
  when the freeze ends;
* 5xx, read/write timeouts, dropped connections (also while reading the body): maybe
  processed; only idempotent requests (GET/PUT/DELETE/HEAD/OPTIONS, or marked so) are
  retried, with full-jitter exponential backoff (a 503's ``Retry-After`` is honoured through
  the limiter);
* a status the endpoint documents as final (``RequestOptions.final_statuses``): never;
* cancellation while in flight: the permit counts as spent (the request may have been sent).

To see a body code, the transport reads JSON bodies (``Content-Type`` ``*json*``; never an
event stream or a download) before it settles the permit, through the capped reader of
:mod:`._body` (``RequestOptions.max_response_bytes``, default 10 MiB; gzip and deflate
inflated in 64 KiB steps). The body is kept on the response, so it is read once.

It is a plain ``httpx.AsyncBaseTransport``: any httpx client can use it for any API that
sends ``X-RateLimit-*`` headers. It raises httpx's exceptions (the client maps them to its
own in :mod:`._boundary`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final

import anyio
import httpx

from ._body import buffer_body, buffered, decode_json
from ._boundary import to_httpx
from ._constants import MAX_RESPONSE_BYTES
from ._options import (
    EXTENSION,
    JSON_EXTENSION,
    RATE_LIMIT_EXTENSION,
    RETRIES_EXTENSION,
    RequestOptions,
)
from ._response import find_error
from ._retry import (
    RATE_LIMIT_CODES,
    Outcome,
    backoff_delay,
    classify_error,
    classify_response,
    is_idempotent,
    retry_delay,
    should_retry,
)
from ._secret import key_id
from .ratelimit._headers import HEADER_NAMES
from .ratelimit._limiter import RateLimiter
from .ratelimit.backends._base import Lease

__all__ = [
    "RATE_LIMIT_EXTENSION",
    "RETRIES_EXTENSION",
    "Hook",
    "RateLimitTransport",
    "backoff_delay",
    "bucket_id_for",
    "observed_headers",
    "send_with_limiter",
]

logger = logging.getLogger("altabots_async")

Send = Callable[[httpx.Request], Awaitable[httpx.Response]]
Hook = Callable[[str, dict[str, object]], None]


def bucket_id_for(request: httpx.Request) -> str:
    """The quota a request belongs to: the id of its bearer token (the same id the client
    uses, so a request without options shares its key's bucket), else a hash of the whole
    Authorization header."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return key_id(token.strip())
    digest = hashlib.sha256(b"altabots-async/v1\x00" + auth.encode("latin-1", "replace"))
    return digest.hexdigest()[:32]


_OBSERVED_HEADERS: Final = frozenset(name.encode("ascii") for name in HEADER_NAMES)
"""Every header ``parse_rate_limit_headers`` reads, as the raw (lower-case) names."""
_BODY_HEADERS: Final = frozenset({b"content-type", b"content-length", b"content-encoding"})
_WANTED: Final = {
    **{name: name.decode("ascii") for name in _OBSERVED_HEADERS},
    **{name: None for name in _BODY_HEADERS},
}
"""Raw lower-case name -> the scheduler's key (str), or None for a body header."""


def scan_headers(headers: httpx.Headers) -> tuple[dict[str, str], dict[bytes, bytes]]:
    """The headers the scheduler reads, and the body's ``Content-Type``, ``-Length`` and
    ``-Encoding`` (raw, by lower-case name), in one pass.

    Names are lower case; a repeated header is joined with ``", "`` as ``httpx.Headers.get``
    does. (Each ``httpx.Headers.get`` scans and decodes the whole list: six of them per
    response cost more than this.)
    """
    found: dict[str, str] = {}
    body: dict[bytes, bytes] = {}
    wanted = _WANTED
    for raw_name, raw_value in headers.raw:
        name = raw_name.lower()
        if name not in wanted:
            continue
        key = wanted[name]
        if key is None:
            body[name] = raw_value
            continue
        value = raw_value.decode("latin-1")
        found[key] = f"{found[key]}, {value}" if key in found else value
    return found, body


def observed_headers(headers: httpx.Headers) -> dict[str, str]:
    """The headers the scheduler reads (see :func:`scan_headers`)."""
    return scan_headers(headers)[0]


def _is_replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream)


def _is_json(content_type: bytes) -> bool:
    content_type = content_type.lower()
    return b"json" in content_type and b"event-stream" not in content_type


async def _read_json(response: httpx.Response, cap: int, body: dict[bytes, bytes]) -> bytes:
    """Read (capped) and keep the body, with the header values already scanned."""
    return await buffer_body(
        response,
        cap,
        content_length=body.get(b"content-length", b"").decode("latin-1"),
        content_encoding=body.get(b"content-encoding", b"").decode("latin-1"),
    )


_CODE_MARKERS: Final = tuple(str(code).encode("ascii") for code in RATE_LIMIT_CODES)


def _body_code(content: bytes) -> int | str | None:
    """The API code of an error body, looked for only when a rate-limit code shows."""
    for marker in _CODE_MARKERS:
        if marker in content:
            break
    else:
        return None
    body, is_json = decode_json(content)
    found = find_error(body) if is_json else None
    return found[0] if found is not None else None


class _Attempt:
    """How one attempt ended: a response, or a failure below HTTP (classified)."""

    __slots__ = ("error", "outcome", "response", "retry_after", "status")

    def __init__(
        self,
        outcome: Outcome,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
        status: int | None = None,
    ) -> None:
        self.outcome = outcome
        self.response = response
        self.error = error
        self.status = status
        self.retry_after = (
            status == 503 and response is not None and "retry-after" in response.headers
        )

    def final(self) -> httpx.Response:
        """The response to hand back, or the failure raised."""
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


async def _settle_failure(lease: Lease, outcome: Outcome | None) -> None:
    with anyio.CancelScope(shield=True):
        if outcome is Outcome.NEVER_SENT:
            await lease.refund()
        else:
            await lease.settle_unknown()


async def _attempt(send: Send, request: httpx.Request, lease: Lease, cap: int) -> _Attempt:
    """Send once, read a JSON body, settle the permit exactly once; classify."""
    try:
        response = await send(request)
    except Exception as exc:
        failure = to_httpx(exc)
        outcome = classify_error(failure) if failure is not None else None
        await _settle_failure(lease, outcome)
        if outcome is None:
            raise
        return _Attempt(outcome, error=exc)
    except BaseException:  # cancelled in flight: it may have been sent
        await _settle_failure(lease, None)
        raise
    headers, body = scan_headers(response.headers)
    status = response.status_code
    code = None
    is_json = request.method != "HEAD" and _is_json(body.get(b"content-type", b""))
    response.extensions[JSON_EXTENSION] = is_json
    if is_json:
        try:
            content = buffered(response, cap)  # a small body the stack read whole already
            if content is None:
                content = await _read_json(response, cap, body)
            code = _body_code(content)
        except BaseException as exc:  # broken mid-body, over the cap, cancelled
            with anyio.CancelScope(shield=True):
                response.extensions[RATE_LIMIT_EXTENSION] = await lease.observe(status, headers)
            if not isinstance(exc, Exception):
                raise
            failure = to_httpx(exc)
            if failure is None:
                raise
            return _Attempt(classify_error(failure), error=exc, status=status)
    outcome = classify_response(status, code)
    observed = 429 if outcome is Outcome.THROTTLED else status
    response.extensions[RATE_LIMIT_EXTENSION] = await lease.observe(observed, headers)
    return _Attempt(outcome, response=response, status=status)


def _options_of(request: httpx.Request, default_retries: int) -> RequestOptions:
    options = request.extensions.get(EXTENSION)
    if isinstance(options, RequestOptions):
        return options
    return RequestOptions(max_retries=default_retries)


async def send_with_limiter(
    send: Send,
    request: httpx.Request,
    limiter: RateLimiter,
    *,
    default_retries: int = 3,
    hook: Hook | None = None,
    max_body_bytes: int = MAX_RESPONSE_BYTES,
) -> httpx.Response:
    """Send one request through the limiter, with the retry rules of this module."""
    options = _options_of(request, default_retries)
    bucket = limiter.bucket(options.bucket or bucket_id_for(request))
    idempotent = is_idempotent(request.method, options.idempotent)
    max_retries = options.max_retries if _is_replayable(request) else 0
    max_wait = options.max_wait if options.max_wait is not None else limiter.max_wait
    attempt = 0
    while True:
        lease = await bucket.acquire(priority=options.priority, max_wait=max_wait)
        if hook is not None:
            hook("request", {"method": request.method, "url": request.url.path, "attempt": attempt})
        result = await _attempt(send, request, lease, options.max_response_bytes or max_body_bytes)
        if result.response is not None:
            result.response.extensions[RETRIES_EXTENSION] = attempt
            if hook is not None:
                hook("response", {"status": result.status, "attempt": attempt})
        if not should_retry(
            result.outcome,
            attempt=attempt,
            max_retries=max_retries,
            idempotent=idempotent,
            status=result.status,
            final_statuses=options.final_statuses,
        ):
            return result.final()
        if result.response is not None:
            await result.response.aclose()
        attempt += 1
        bucket.record_retry()
        delay = retry_delay(
            result.outcome, attempt - 1, status=result.status, retry_after=result.retry_after
        )
        _report_retry(request, result, attempt, delay, hook)
        if delay:
            await anyio.sleep(delay)


def _report_retry(
    request: httpx.Request, result: _Attempt, attempt: int, delay: float, hook: Hook | None
) -> None:
    if result.error is not None:
        reason = type(result.error).__name__
    elif result.outcome is Outcome.THROTTLED and result.status != 429:
        reason = f"HTTP {result.status} with an over-quota code"
    else:
        reason = f"HTTP {result.status}"
    if hook is not None:
        error = type(result.error).__name__ if result.error is not None else "HTTPStatusError"
        hook("retry", {"attempt": attempt, "delay": delay, "error": error})
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "retrying %s %s (attempt %d) after %s in %.3f s",
            request.method,
            request.url.path,
            attempt,
            reason,
            delay,
        )


class RateLimitTransport(httpx.AsyncBaseTransport):
    """An httpx transport that queues every request through a :class:`RateLimiter`.

    Args:
        inner: the transport that really sends (httpx's pool, an aiohttp-backed one, or
            ``httpx.ASGITransport`` around the simulator).
        limiter: the scheduler (shared by every client that should share a quota).
        max_retries: default transparent retries when a request carries no options.
        hook: called as ``hook(event, details)`` on request, response and retry.
        max_body_bytes: cap on a JSON body read to look for the over-quota code, when the
            request's options set none (default 10 MiB).

    Example::

        limiter = RateLimiter(Quota.PROFESSIONAL)
        transport = RateLimitTransport(httpx.AsyncHTTPTransport(), limiter)
        client = httpx.AsyncClient(transport=transport)
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        limiter: RateLimiter,
        *,
        max_retries: int = 3,
        hook: Hook | None = None,
        max_body_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.inner = inner
        self.limiter = limiter
        self.max_retries = max_retries
        self.hook = hook
        self.max_body_bytes = max_body_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Acquire, send through the inner transport, observe, retry where safe."""
        return await send_with_limiter(
            self.inner.handle_async_request,
            request,
            self.limiter,
            default_retries=self.max_retries,
            hook=self.hook,
            max_body_bytes=self.max_body_bytes,
        )

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"RateLimitTransport(inner={type(self.inner).__name__}, limiter={self.limiter!r})"
