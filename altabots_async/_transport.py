"""RateLimitTransport: every request waits for a permit, every response resyncs the quota.

The retry loop lives here, where "was it sent?" is known:

* connect errors (``httpx.ConnectError``, ``ConnectTimeout``): never sent; the permit is
  refunded and any request is retried (bounded by ``max_retries``) after a jittered backoff;
* 429: not processed; the limiter freezes every caller of the key until ``Retry-After`` /
  Reset and this request is resent when the freeze ends (it was not processed);
* 5xx, read/write timeouts, dropped connections: maybe processed; only idempotent requests
  (GET/PUT/DELETE/HEAD/OPTIONS, or marked so) are retried, with full-jitter exponential
  backoff (a 503's ``Retry-After`` is honoured through the limiter);
* cancellation while in flight: the permit counts as spent (the request may have been sent);
* a status in ``RequestOptions.final_statuses`` (an endpoint's documented answer, such as
  503 "User ID Not Found") is returned at once, never retried.

It is a plain ``httpx.AsyncBaseTransport``: any httpx client can use it for any API that
sends ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Final

import anyio
import httpx

from ._constants import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY
from ._options import EXTENSION, RequestOptions
from ._secret import key_id
from .ratelimit._headers import HEADER_NAMES
from .ratelimit._limiter import RateLimiter

logger = logging.getLogger("altabots_async")

_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
_RETRY_5XX: Final = frozenset({500, 502, 503, 504})
RATE_LIMIT_EXTENSION: Final = "altabots_rate_limit"
"""Key in ``httpx.Response.extensions`` of the parsed :class:`RateLimitHeaders`."""
RETRIES_EXTENSION: Final = "altabots_retries"

Send = Callable[[httpx.Request], Awaitable[httpx.Response]]
Hook = Callable[[str, dict[str, object]], None]


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0 ** min(attempt, 32))
    return (rng or random).uniform(0.0, ceiling)


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


def observed_headers(headers: httpx.Headers) -> dict[str, str]:
    """The headers the scheduler reads, found in one pass over the raw list.

    Names are lower case; a repeated header is joined with ``", "`` as ``httpx.Headers.get``
    does. (Each ``httpx.Headers.get`` scans and decodes the whole list: six of them per
    response cost more than this.)
    """
    found: dict[str, str] = {}
    for raw_name, raw_value in headers.raw:
        name = raw_name.lower()
        if name in _OBSERVED_HEADERS:
            key = name.decode("latin-1")
            value = raw_value.decode("latin-1")
            found[key] = f"{found[key]}, {value}" if key in found else value
    return found


def _is_replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream)


async def send_with_limiter(
    send: Send,
    request: httpx.Request,
    limiter: RateLimiter,
    *,
    default_retries: int = 3,
    hook: Hook | None = None,
) -> httpx.Response:
    """Send one request through the limiter, with the retry rules of this module."""
    options = request.extensions.get(EXTENSION)
    if not isinstance(options, RequestOptions):
        options = RequestOptions(max_retries=default_retries)
    bucket = limiter.bucket(options.bucket or bucket_id_for(request))
    idempotent = (
        options.idempotent if options.idempotent is not None else request.method in _IDEMPOTENT
    )
    replayable = _is_replayable(request)
    max_retries = options.max_retries if replayable else 0
    max_wait = options.max_wait if options.max_wait is not None else limiter.max_wait
    attempt = 0
    while True:
        lease = await bucket.acquire(priority=options.priority, max_wait=max_wait)
        if hook is not None:
            hook("request", {"method": request.method, "url": request.url.path, "attempt": attempt})
        try:
            response = await send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            with anyio.CancelScope(shield=True):
                await lease.refund()
            if attempt >= max_retries:
                raise
            error: BaseException = exc
            retry_status = None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            with anyio.CancelScope(shield=True):
                await lease.settle_unknown()
            if not idempotent or attempt >= max_retries:
                raise
            error = exc
            retry_status = None
        except BaseException:
            with anyio.CancelScope(shield=True):
                await lease.settle_unknown()
            raise
        else:
            info = await lease.observe(response.status_code, observed_headers(response.headers))
            response.extensions[RATE_LIMIT_EXTENSION] = info
            response.extensions[RETRIES_EXTENSION] = attempt
            status = response.status_code
            if hook is not None:
                hook("response", {"status": status, "attempt": attempt})
            retry = attempt < max_retries and status not in options.final_statuses
            retry = retry and (status == 429 or (status in _RETRY_5XX and idempotent))
            if not retry:
                return response
            await response.aclose()
            retry_status = status
            error = httpx.HTTPStatusError(f"HTTP {status}", request=request, response=response)
        attempt += 1
        bucket.record_retry()
        if retry_status == 429 or (retry_status == 503 and "retry-after" in response.headers):
            delay = 0.0  # the limiter's freeze makes the next acquire wait
        else:
            delay = backoff_delay(attempt - 1)
        if hook is not None:
            hook("retry", {"attempt": attempt, "delay": delay, "error": type(error).__name__})
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "retrying %s %s (attempt %d) after %s in %.3f s",
                request.method,
                request.url.path,
                attempt,
                type(error).__name__ if retry_status is None else f"HTTP {retry_status}",
                delay,
            )
        if delay:
            await anyio.sleep(delay)


class RateLimitTransport(httpx.AsyncBaseTransport):
    """An httpx transport that queues every request through a :class:`RateLimiter`.

    Args:
        inner: the transport that really sends (httpx's pool, an aiohttp-backed one, or
            ``httpx.ASGITransport`` around the simulator).
        limiter: the scheduler (shared by every client that should share a quota).
        max_retries: default transparent retries when a request carries no options.

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
    ) -> None:
        self.inner = inner
        self.limiter = limiter
        self.max_retries = max_retries
        self.hook = hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Acquire, send through the inner transport, observe, retry where safe."""
        return await send_with_limiter(
            self.inner.handle_async_request,
            request,
            self.limiter,
            default_retries=self.max_retries,
            hook=self.hook,
        )

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"RateLimitTransport(inner={type(self.inner).__name__}, limiter={self.limiter!r})"
