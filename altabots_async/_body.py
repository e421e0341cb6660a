"""Bodies coming down: decoded in bounded steps, capped, buffered once, decoded as JSON.

The transport (which must look at JSON bodies for the vendor's over-quota code) and the
response pipeline read bodies only through here, never through ``aread()`` of an unbounded
body: :func:`buffer_body` reads at most the cap, inflating gzip/deflate 64 KiB at a time, and
keeps the result on the response so that it is read once.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import AsyncGenerator, Iterator
from typing import Any, cast

import httpx

from ._exceptions import ResponseTooLargeError, ResponseValidationError

__all__ = [
    "buffer_body",
    "buffered",
    "decode_json",
    "is_buffered",
    "iter_decoded",
    "keep_body",
    "read_capped",
]

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


async def iter_decoded(
    response: httpx.Response, content_encoding: str | None = None
) -> AsyncGenerator[bytes, None]:
    """The body, decoded from the raw bytes in steps of at most 64 KiB.

    Only ``gzip`` and ``deflate`` (the encodings we advertise) are decoded; any other
    ``Content-Encoding`` (``br``, ``zstd``, ...) raises :class:`ResponseValidationError`
    rather than letting an unbounded decoder inflate it. A response whose body was already
    read into memory (a test double, a buffered response) is handed out as it is.
    ``content_encoding``: the header's value when the caller has it ("" for none).
    """
    if hasattr(response, "_content"):
        content = response.content
        for start in range(0, len(content), _DECODE_STEP):
            yield content[start : start + _DECODE_STEP]
        return
    if content_encoding is None:
        content_encoding = response.headers.get("content-encoding", "")
    encodings = [
        part.strip().lower()
        for part in content_encoding.split(",")
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


def is_buffered(response: httpx.Response) -> bool:
    """Whether the body was read already (a buffered response, or one read here)."""
    return hasattr(response, "_content")


def buffered(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The body when it was read already (checked against the cap), else None."""
    if not hasattr(response, "_content"):
        return None
    content = response.content
    if len(content) > max_bytes:
        raise ResponseTooLargeError(f"response body exceeds {max_bytes} bytes once decoded")
    return content


async def read_capped(
    response: httpx.Response,
    max_bytes: int,
    *,
    content_length: str | None = None,
    content_encoding: str | None = None,
) -> bytes:
    """Read a streamed body, failing once more than ``max_bytes`` have been decoded.

    Compressed bodies are inflated in bounded steps (:func:`iter_decoded`), so a small
    compressed body that expands past the cap fails after at most ``max_bytes`` + 64 KiB of
    output was produced, whatever its compression ratio. A body read already is returned
    as it is (checked against the cap). The response is closed either way.
    ``content_length`` / ``content_encoding``: the headers' values when the caller has them
    ("" for none), so that they are not looked up again.
    """
    content = buffered(response, max_bytes)
    if content is not None:
        return content
    length = response.headers.get("content-length") if content_length is None else content_length
    if length and length.isdigit() and int(length) > max_bytes:
        await response.aclose()
        raise ResponseTooLargeError(f"response body of {length} bytes exceeds {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    body = iter_decoded(response, content_encoding)
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


def keep_body(response: httpx.Response, content: bytes) -> None:
    """Keep the decoded body on the response, where httpx's own ``aread()`` keeps it
    (``response.content``; every reader here takes it from there without reading again)."""
    response._content = content


async def buffer_body(
    response: httpx.Response,
    max_bytes: int,
    *,
    content_length: str | None = None,
    content_encoding: str | None = None,
) -> bytes:
    """:func:`read_capped`, then :func:`keep_body`."""
    content = await read_capped(
        response, max_bytes, content_length=content_length, content_encoding=content_encoding
    )
    keep_body(response, content)
    return content


def decode_json(content: bytes) -> tuple[Any, bool]:
    """(value, ok): the decoded JSON, or (None, False) for an empty or non-JSON body."""
    if not content.strip():
        return None, False
    try:
        return json.loads(content), True
    except (ValueError, RecursionError):
        return None, False
