"""The one response pipeline: what happens to every call after it is built.

send (through the scheduler, inside the error boundary) -> record the rate-limit info ->
read the body, capped -> decode it -> raise for an error (status or body) -> build the
model, the bytes, the raw response, or hand back an open stream. JSON calls, downloads,
uploads and streams all go through :func:`run_call`; uploads only prepare their request.
The whole of it runs within the call's ``deadline`` when one is set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
import httpx

from ._body import buffer_body, buffered, decode_json
from ._boundary import guarded
from ._exceptions import APITimeoutError, ResponseValidationError
from ._options import JSON_EXTENSION, RATE_LIMIT_EXTENSION
from ._response import APIResponse, raise_for_body
from ._sanitize import Secret
from .ratelimit._headers import RateLimitHeaders
from .resources._base import RAW_RESPONSE

__all__ = ["Expect", "run_call", "send_following_redirects"]

Expect = Literal["json", "bytes", "stream"]
"""``json``: the model; ``bytes``: the raw body (downloads); ``stream``: the open response."""

Send = Callable[[httpx.Request], Awaitable[httpx.Response]]


def _json_type(response: httpx.Response) -> bool:
    known = response.extensions.get(JSON_EXTENSION)  # the transport looked already
    if isinstance(known, bool):
        return known
    return "json" in response.headers.get("content-type", "").lower()


async def _execute(
    send: Send,
    request: httpx.Request,
    *,
    cast_to: type[Any] | None,
    expect: Expect,
    max_bytes: int,
    secret: Secret,
    on_rate_limit: Callable[[RateLimitHeaders], None],
) -> Any:
    response = await send(request)
    info = response.extensions.get(RATE_LIMIT_EXTENSION)
    if info is not None:
        on_rate_limit(info)
    json_type = _json_type(response)
    if expect == "stream" and response.status_code < 400 and not json_type:
        return response
    content = buffered(response, max_bytes)  # JSON bodies: read by the transport already
    if content is None:
        content = await guarded(buffer_body(response, max_bytes), request, secret)
    skip = expect == "bytes" and not json_type
    body, is_json = (None, False) if skip else decode_json(content)
    raise_for_body(response, content, body, is_json, secret=secret)
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


async def run_call(
    send: Send,
    request: httpx.Request,
    *,
    cast_to: type[Any] | None,
    expect: Expect,
    max_bytes: int,
    secret: Secret,
    on_rate_limit: Callable[[RateLimitHeaders], None],
    deadline: float | None,
) -> Any:
    """Run one call through the pipeline (see the module docstring).

    ``send`` puts the request through the scheduler and maps failures below HTTP (the
    client's ``_send``); ``secret`` is masked wherever server text is kept; past
    ``deadline`` seconds the call raises :class:`APITimeoutError`.
    """
    options: dict[str, Any] = {
        "cast_to": cast_to,
        "expect": expect,
        "max_bytes": max_bytes,
        "secret": secret,
        "on_rate_limit": on_rate_limit,
    }
    if deadline is None:
        return await _execute(send, request, **options)
    with anyio.move_on_after(deadline):
        return await _execute(send, request, **options)
    raise APITimeoutError(
        f"{request.method} {request.url.path}: the call's deadline of {deadline:g} s passed",
        request=request,
    )


async def send_following_redirects(
    http: httpx.AsyncClient, request: httpx.Request
) -> httpx.Response:
    """Send through a caller-owned ``http_client``. If it follows redirects, httpx drops
    ``Authorization`` when the origin changes; on top of that a redirect from https to
    anything else is refused (it would carry the body in clear)."""
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
