"""Reading responses: capped bodies, both success envelopes, both error envelopes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import httpx

from ._body import decode_json, iter_decoded, read_capped
from ._constants import MAX_ERROR_EXCERPT
from ._convert import structure
from ._exceptions import APIStatusError, ResponseValidationError, endpoint_error, error_class_for
from ._options import RATE_LIMIT_EXTENSION, RETRIES_EXTENSION
from ._sanitize import Secret, redact, safe_response
from .ratelimit._headers import RateLimitHeaders

T = TypeVar("T")

_SUCCESS_CODES = frozenset({0, 200})
_ENVELOPE_KEYS = frozenset({"data", "meta", "links", "code", "message", "msg", "success"})


def _excerpt(content: bytes | str, secret: Secret = None) -> str:
    """A short one-line excerpt of a body, the key masked before the cut."""
    if isinstance(content, bytes):
        content = content[: 2 * MAX_ERROR_EXCERPT].decode("utf-8", "replace")
    text = " ".join(redact(content[: 2 * MAX_ERROR_EXCERPT], secret).split())
    return text[:500]


def find_error(body: Any) -> tuple[int | str | None, str | None] | None:
    """(code, message) when a decoded body is an error envelope, else None.

    Two shapes: ``{"error": {"code", "message", "status"}}`` (the overview) and a top-level
    integer ``code`` other than 0/200 with ``message`` or ``msg`` (the endpoint pages).
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        return (
            code if isinstance(code, int | str) and not isinstance(code, bool) else None,
            message if isinstance(message, str) else None,
        )
    if isinstance(error, str) and "data" not in body:
        return None, error
    code = body.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and code not in _SUCCESS_CODES:
        message = body.get("message", body.get("msg"))
        if message is None and "data" in body:
            return None
        return code, message if isinstance(message, str) else None
    return None


STRICT_EXTENSION = "altabots_strict"
"""Key in ``httpx.Request.extensions``: decode this call's answer strictly (see
``AsyncAltaBots(strict=...)``); absent or False: leniently."""


def unwrap(body: Any) -> Any:
    """The payload of a success body: ``data`` of an envelope, else the body itself."""
    if isinstance(body, dict) and "data" in body and set(body) <= _ENVELOPE_KEYS:
        return body["data"]
    return body


def raise_for_body(
    response: httpx.Response,
    content: bytes,
    body: Any,
    is_json: bool,
    *,
    secret: Secret = None,
) -> None:
    """Raise the mapped APIStatusError if the response is an error (by status or body).

    The message is the server's (or an excerpt of a non-JSON body), at most 2 KiB, with
    ``secret`` (the API key, which a server may echo) masked first, whole or in pieces, there
    and in ``code``, ``request_id``, ``body`` and the response copy the error keeps. No header
    is ever part of the message.
    """
    status = response.status_code
    found = find_error(body) if is_json else None
    if found is None and status < 400:
        return
    request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
    if request_id is not None:
        request_id = redact(request_id, secret)[:128]
    method = response.request.method if response._request is not None else None
    path = response.request.url.path if response._request is not None else None
    if found is not None:
        code, message = found
    elif is_json:
        code, message = None, _excerpt(content, secret)
    else:
        excerpt = _excerpt(content, secret)
        code, message = None, f"(non-JSON body) {excerpt}" if content else "(empty body)"
    if message is not None:
        message = redact(message, secret)[:MAX_ERROR_EXCERPT]
    if isinstance(code, str):
        code = redact(code, secret)[:128]
    effective_status = status if status >= 400 else 400
    meaning = endpoint_error(method or "", path or "", status, code)
    if meaning is not None:
        cls = meaning.error
        if found is None or not message:  # the page's words, and what the server sent
            message = f"{meaning.meaning} ({message})" if message else meaning.meaning
    else:
        cls = error_class_for(effective_status, code)
    raise cls(
        message or "",
        status_code=status,
        code=code,
        request_id=request_id,
        body=redact(body, secret) if is_json else None,
        method=method,
        path=path,
        response=safe_response(response, content=content, secret=secret),
    )


class APIResponse(Generic[T]):
    """The raw side of a call: status, headers, rate-limit info, and the parsed model.

    Returned by ``client.<resource>.with_raw_response.<method>(...)``.
    """

    def __init__(
        self,
        http_response: httpx.Response,
        content: bytes,
        body: Any,
        cast_to: type[T] | None,
    ) -> None:
        self.http_response = http_response
        self.content = content
        self.body = body
        self._cast_to = cast_to

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers."""
        return self.http_response.headers

    @property
    def rate_limit(self) -> RateLimitHeaders | None:
        """The parsed ``X-RateLimit-*`` / ``Retry-After`` / ``Date`` headers."""
        info = self.http_response.extensions.get(RATE_LIMIT_EXTENSION)
        return info if isinstance(info, RateLimitHeaders) else None

    @property
    def retries_taken(self) -> int:
        """How many transparent retries the scheduler made for this call."""
        value = self.http_response.extensions.get(RETRIES_EXTENSION, 0)
        return value if isinstance(value, int) else 0

    @property
    def strict(self) -> bool:
        """Whether :meth:`parse` decodes strictly (the client's ``strict`` option)."""
        request = getattr(self.http_response, "_request", None)
        return bool(request is not None and request.extensions.get(STRICT_EXTENSION))

    def parse(self) -> T:
        """The body structured into the call's model.

        Leniently by default: a field that does not fit its type is left at its default and
        named in the model's ``decode_errors`` (its value stays in ``raw``). With
        ``AsyncAltaBots(strict=True)`` such a field raises :class:`ResponseValidationError`.
        A body that cannot be the answer at all raises it either way.
        """
        if self._cast_to is None:
            raise ResponseValidationError("this call has no model", body=self.body)
        return structure(unwrap(self.body), self._cast_to, strict=self.strict)

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code}] {self.http_response.request.url.path}>"


__all__ = [
    "APIResponse",
    "APIStatusError",
    "decode_json",
    "find_error",
    "iter_decoded",
    "raise_for_body",
    "read_capped",
    "redact",
    "unwrap",
]
