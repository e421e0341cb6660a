"""Files going up (multipart, base64 JSON fields) and raw bytes coming down.

Rules:

* an upload comes from a path (``str`` or ``os.PathLike``), from ``bytes``, or from an async
  iterable of ``bytes`` chunks; it is read into memory once, so that the scheduler can resend
  it after a 429 without reopening anything;
* a path is opened once (without blocking: a FIFO with no writer cannot hang a worker
  thread), must be a regular file (FIFOs, devices, directories are refused), and is read for
  at most cap + 1 bytes, whatever ``stat`` claims (``/proc`` files say 0);
* its size is checked before anything is sent: a stream chunk by chunk (reading stops at the
  first byte over the cap), a path while it is read;
* the file name sent is always a bare base name: ``../../etc/passwd`` becomes ``passwd``,
  ``C:\\dir\\a.mp3`` becomes ``a.mp3``; control characters are dropped; an empty result falls
  back to the call's default name. No directory part of a local path ever leaves the host.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import stat
from collections.abc import AsyncIterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import anyio
import attrs

from ._checks import InvalidParameterError

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


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_STEP = 1024 * 1024


def _read_path(field: str, path: str | bytes, max_bytes: int) -> bytes:
    """Open once, require a regular file, read at most ``max_bytes`` + 1 bytes (worker thread)."""
    try:
        fd = os.open(path, _OPEN_FLAGS | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InvalidParameterError(field, f"cannot read the file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if not stat.S_ISREG(mode):
            kind = (
                "a directory"
                if stat.S_ISDIR(mode)
                else "a FIFO"
                if stat.S_ISFIFO(mode)
                else "a device"
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file"
            )
            raise InvalidParameterError(field, f"cannot upload {kind}; pass a regular file")
        if info.st_size > max_bytes:  # refused before reading (the read is capped anyway)
            raise _too_large(field, info.st_size, max_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(_READ_STEP, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InvalidParameterError(field, f"cannot read the file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise InvalidParameterError(field, f"file is larger than the {max_bytes}-byte limit")
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
        content = await anyio.to_thread.run_sync(_read_path, field, os.fspath(file), max_bytes)
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
    """Send a multipart upload through the client's one request path (the body is encoded
    up front there, so the scheduler may resend it after a 429 as it does JSON calls)."""
    return await client._request(
        method, path, cast_to=cast_to, files=upload.multipart(field), data=data or None
    )


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
    return await client._request(
        method,
        path,
        cast_to=bytes,
        json=json,
        idempotent=idempotent,
        expect="bytes",
        max_bytes=max_bytes,
    )
