"""Files going up (multipart, base64 JSON fields) and raw bytes coming down.

Rules:

* an upload comes from a path (``str`` or ``os.PathLike``), from ``bytes``, or from an async
  iterable of ``bytes`` chunks; it is read into memory once, so that the scheduler can resend
  it after a 429 without reopening anything;
* its size is checked before anything is sent: a path by ``stat`` and again after reading, a
  stream chunk by chunk (reading stops at the first byte over the cap);
* the file name sent is always a bare base name: ``../../etc/passwd`` becomes ``passwd``,
  ``C:\\dir\\a.mp3`` becomes ``a.mp3``; control characters are dropped; an empty result falls
  back to the call's default name. No directory part of a local path ever leaves the host.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import AsyncIterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import anyio
import attrs

from ._checks import InvalidParameterError
from ._exceptions import ResponseValidationError
from ._response import APIResponse, decode_json, raise_for_body, read_capped
from ._transport import RATE_LIMIT_EXTENSION
from .ratelimit._headers import RateLimitHeaders
from .resources._base import RAW_RESPONSE

if TYPE_CHECKING:
    from ._client import AsyncAltaBots

__all__ = [
    "MIB",
    "FileInput",
    "Upload",
    "encode_base64",
    "read_upload",
    "request_bytes",
    "request_multipart",
    "safe_filename",
]

MIB = 1024 * 1024
T = TypeVar("T")

FileInput: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | AsyncIterable[bytes]"
)
"""What an upload argument accepts: a path, the bytes themselves, or an async byte stream."""


@attrs.frozen
class Upload:
    """A file read into memory and ready to send: a safe name, the bytes, a content type."""

    filename: str
    content: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    content_type: str = "application/octet-stream"

    def multipart(self, field: str = "file") -> dict[str, tuple[str, bytes, str]]:
        """The ``files=`` mapping httpx expects for one part named ``field``."""
        return {field: (self.filename, self.content, self.content_type)}


def safe_filename(name: str | None, *, fallback: str) -> str:
    """The base name of ``name`` with no directory part and no control characters."""
    if name is None:
        return fallback
    text = str(name).replace("\\", "/").rstrip("/")
    base = text.rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if base in ("", ".", ".."):
        return fallback
    return base[:255]


def _extension(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def check_extension(field: str, filename: str, allowed: tuple[str, ...]) -> None:
    """Refuse a file whose extension is not one of ``allowed`` (lower case, no dot)."""
    ext = _extension(filename)
    if ext not in allowed:
        raise InvalidParameterError(
            field, f"file type {ext or '(none)'!r} is not accepted; use one of {', '.join(allowed)}"
        )


def _too_large(field: str, size: int, max_bytes: int) -> InvalidParameterError:
    return InvalidParameterError(
        field, f"file is {size} bytes, more than the {max_bytes}-byte limit"
    )


async def _read_stream(field: str, stream: AsyncIterable[Any], max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    iterator = stream.__aiter__()
    try:
        async for chunk in iterator:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise InvalidParameterError(
                    field, f"the stream must yield bytes, got {type(chunk).__name__}"
                )
            total += len(chunk)
            if total > max_bytes:
                raise _too_large(field, total, max_bytes)
            chunks.append(bytes(chunk))
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    return b"".join(chunks)


async def read_upload(
    file: FileInput,
    *,
    field: str = "file",
    max_bytes: int,
    filename: str | None = None,
    default_name: str = "upload.bin",
    allowed_extensions: tuple[str, ...] | None = None,
) -> Upload:
    """Read ``file`` (path, bytes or async stream) into an :class:`Upload`, size-checked.

    ``filename`` overrides the name taken from a path; either way only its base name is kept.

    Raises:
        InvalidParameterError: the file is over ``max_bytes``, of a refused type, missing,
            or not one of the accepted input kinds.
    """
    if isinstance(file, str | os.PathLike):
        path = anyio.Path(os.fspath(file))
        try:
            size = (await path.stat()).st_size
        except OSError as exc:
            raise InvalidParameterError(field, f"cannot read the file: {exc.strerror}") from None
        if size > max_bytes:
            raise _too_large(field, size, max_bytes)
        content = await path.read_bytes()
        name = safe_filename(filename or os.fspath(file), fallback=default_name)
    elif isinstance(file, bytes | bytearray | memoryview):
        content = bytes(file)
        name = safe_filename(filename, fallback=default_name)
    elif isinstance(file, AsyncIterable):
        content = await _read_stream(field, file, max_bytes)
        name = safe_filename(filename, fallback=default_name)
    else:
        raise InvalidParameterError(
            field, f"expected a path, bytes or an async byte stream, got {type(file).__name__}"
        )
    if len(content) > max_bytes:
        raise _too_large(field, len(content), max_bytes)
    if allowed_extensions is not None:
        check_extension(field, name, allowed_extensions)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Upload(name, content, content_type)


def encode_base64(content: bytes) -> str:
    """Standard base64 text of ``content`` (the ``file_base64`` fields)."""
    return base64.b64encode(content).decode("ascii")


async def request_multipart(
    client: AsyncAltaBots,
    method: str,
    path: str,
    *,
    cast_to: type[T],
    upload: Upload,
    data: Mapping[str, Any] | None = None,
    field: str = "file",
) -> T:
    """Send a multipart upload through the scheduler and structure the answer into ``cast_to``.

    The body is encoded once, up front, so that the scheduler may resend it after a 429 (not
    processed by definition) exactly as it does for JSON calls; httpx would otherwise stream
    the parts and the transport could not replay them.
    """
    request = client._build_request(method, path, files=upload.multipart(field), data=data or None)
    request.read()
    response = await client._send(request)
    content = await read_capped(response, client.max_response_bytes)
    info = response.extensions.get(RATE_LIMIT_EXTENSION)
    if isinstance(info, RateLimitHeaders):
        client._shared.last_rate_limit = info
    body, is_json = decode_json(content)
    raise_for_body(response, content, body, is_json, secret=client._api_key)
    raw = APIResponse(response, content, body, cast_to)
    if RAW_RESPONSE.get():
        return raw  # type: ignore[return-value]
    if not is_json:
        raise ResponseValidationError(
            f"{method} {request.url.path}: expected a JSON body", body=None
        )
    return raw.parse()


async def request_bytes(
    client: AsyncAltaBots,
    method: str,
    path: str,
    *,
    json: Any = None,
    idempotent: bool | None = None,
    max_bytes: int | None = None,
) -> bytes:
    """Send one call through the scheduler and return the raw body (audio and such).

    A JSON error body (or an HTTP error status) raises the mapped :class:`APIStatusError` as
    for any other call. In ``with_raw_response`` mode the :class:`APIResponse` is returned.
    """
    request = client._build_request(method, path, json=json, idempotent=idempotent)
    response = await client._send(request)
    content = await read_capped(response, max_bytes or client.max_response_bytes)
    info = response.extensions.get(RATE_LIMIT_EXTENSION)
    if isinstance(info, RateLimitHeaders):
        client._shared.last_rate_limit = info
    is_json_type = "json" in response.headers.get("content-type", "").lower()
    body, is_json = decode_json(content) if is_json_type else (None, False)
    raise_for_body(response, content, body, is_json, secret=client._api_key)
    if RAW_RESPONSE.get():
        return APIResponse(response, content, body, None)  # type: ignore[return-value]
    return content
