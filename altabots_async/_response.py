"""Reading responses: capped bodies, both success envelopes, both error envelopes."""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import AsyncGenerator, Iterator
from typing import Any, Generic, TypeVar, cast

import httpx

from ._constants import MAX_ERROR_EXCERPT
from ._convert import structure
from ._exceptions import (
    APIStatusError,
    ResponseTooLargeError,
    ResponseValidationError,
    endpoint_error,
    error_class_for,
)
from ._secret import ApiKey
from ._transport import RATE_LIMIT_EXTENSION, RETRIES_EXTENSION
from .ratelimit._headers import RateLimitHeaders

T = TypeVar("T")

STRICT_EXTENSION = "altabots_strict"
"""Key in ``httpx.Request.extensions``: decode this call's answer strictly (see
``AsyncAltaBots(strict=...)``); absent or False: leniently."""

_SUCCESS_CODES = frozenset({0, 200})
_ENVELOPE_KEYS = frozenset({"data", "meta", "links", "code", "message", "msg", "success"})


_DECODE_STEP = 64 * 1024
"""Most bytes one decompression step may produce (bounds memory whatever the ratio)."""


class _Inflater:
    """A gzip/deflate decoder whose every step yields at most ``_DECODE_STEP`` bytes.

    httpx's own decoders inflate each received chunk whole: a 64 KiB chunk of a gzip bomb
    becomes 64 MiB in one call. ``deflate`` is tried as zlib-wrapped first, then raw (servers
    send both), as httpx does.
    """

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        wbits = zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)
        self._first = True

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._obj.decompress(data, _DECODE_STEP)
            except zlib.error as exc:
                if self._first and not self._gzip:
                    self._first = False
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise ResponseValidationError(f"invalid compressed body: {exc}") from None
            self._first = False
            data = self._obj.unconsumed_tail
            if out:
                yield out
            if self._obj.eof:
                return

    def flush(self) -> Iterator[bytes]:
        while True:
            out = self._obj.decompress(self._obj.unconsumed_tail, _DECODE_STEP)
            if not out:
                return
            yield out


_IDENTITY = frozenset({"", "identity"})


async def iter_decoded(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """The body, decoded from the raw bytes in steps of at most 64 KiB.

    Only ``gzip`` and ``deflate`` (the encodings we advertise) are decoded; any other
    ``Content-Encoding`` (``br``, ``zstd``, ...) raises :class:`ResponseValidationError`
    rather than letting an unbounded decoder inflate it. A response whose body was already
    read into memory (a test double, a buffered response) is handed out as it is.
    """
    if hasattr(response, "_content"):
        content = response.content
        for start in range(0, len(content), _DECODE_STEP):
            yield content[start : start + _DECODE_STEP]
        return
    encodings = [
        part.strip().lower()
        for part in response.headers.get("content-encoding", "").split(",")
        if part.strip().lower() not in _IDENTITY
    ]
    if not encodings:
        raw = cast(AsyncGenerator[bytes, None], response.aiter_raw())
        async with contextlib.aclosing(raw):
            async for chunk in raw:
                yield chunk
        return
    if len(encodings) > 1 or encodings[0] not in ("gzip", "x-gzip", "deflate"):
        await response.aclose()
        raise ResponseValidationError(
            f"unsupported Content-Encoding {response.headers.get('content-encoding')!r} "
            "(only gzip and deflate are accepted)"
        )
    inflater = _Inflater(encodings[0])
    raw = cast(AsyncGenerator[bytes, None], response.aiter_raw())
    async with contextlib.aclosing(raw):
        async for chunk in raw:
            for piece in inflater.feed(chunk):
                yield piece
    for piece in inflater.flush():
        yield piece


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Read a streamed body, failing once more than ``max_bytes`` have been decoded.

    Compressed bodies are inflated in bounded steps (:func:`iter_decoded`), so a small
    compressed body that expands past the cap fails after at most ``max_bytes`` + 64 KiB of
    output was produced, whatever its compression ratio.
    """
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        await response.aclose()
        raise ResponseTooLargeError(f"response body of {length} bytes exceeds {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    body = iter_decoded(response)
    try:
        async for chunk in body:
            total += len(chunk)
            if total > max_bytes:
                raise ResponseTooLargeError(f"response body exceeds {max_bytes} bytes once decoded")
            chunks.append(chunk)
    finally:
        await body.aclose()
        await response.aclose()
    return b"".join(chunks)


def _excerpt(content: bytes) -> str:
    text = content[:MAX_ERROR_EXCERPT].decode("utf-8", "replace")
    return " ".join(text.split())[:500]


def decode_json(content: bytes) -> tuple[Any, bool]:
    """(value, ok): the decoded JSON, or (None, False) for an empty or non-JSON body."""
    if not content.strip():
        return None, False
    try:
        return json.loads(content), True
    except (ValueError, RecursionError):
        return None, False


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


def unwrap(body: Any) -> Any:
    """The payload of a success body: ``data`` of an envelope, else the body itself."""
    if isinstance(body, dict) and "data" in body and set(body) <= _ENVELOPE_KEYS:
        return body["data"]
    return body


def redact(value: Any, secret: ApiKey | str | None, depth: int = 0) -> Any:
    """``value`` with every occurrence of ``secret`` in its strings replaced by ``***``
    (dicts and lists walked to a bounded depth; deeper data is dropped)."""
    if isinstance(secret, ApiKey):
        secret = secret.reveal()
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, "***") if secret in value else value
    if depth > 64:
        return None
    if isinstance(value, dict):
        return {
            redact(k, secret, depth + 1): redact(v, secret, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(item, secret, depth + 1) for item in value]
    return value


def raise_for_body(
    response: httpx.Response,
    content: bytes,
    body: Any,
    is_json: bool,
    *,
    secret: ApiKey | None = None,
) -> None:
    """Raise the mapped APIStatusError if the response is an error (by status or body).

    The message is the server's (or an excerpt of a non-JSON body), at most 2 KiB, with
    ``secret`` (the API key, which a server may echo) replaced by ``***`` there and in
    ``body``. No header is ever part of it.
    """
    status = response.status_code
    found = find_error(body) if is_json else None
    if found is None and status < 400:
        return
    request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
    if request_id is not None:
        request_id = request_id[:128]
    method = response.request.method if response._request is not None else None
    path = response.request.url.path if response._request is not None else None
    if found is not None:
        code, message = found
    elif is_json:
        code, message = None, _excerpt(content)
    else:
        excerpt = _excerpt(content)
        code, message = None, f"(non-JSON body) {excerpt}" if content else "(empty body)"
    if message is not None:
        message = redact(message[:MAX_ERROR_EXCERPT], secret)
    if isinstance(code, str):
        code = redact(code[:128], secret)
    if request_id is not None:
        request_id = redact(request_id, secret)
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
        response=response,
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


def ensure_ok(response: APIResponse[Any]) -> None:
    """Raise unless ``response`` is a success (used by the request path)."""
    raise_for_body(
        response.http_response, response.content, response.body, response.body is not None
    )


__all__ = ["APIResponse", "APIStatusError", "decode_json", "find_error", "read_capped", "unwrap"]
