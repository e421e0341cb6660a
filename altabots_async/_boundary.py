"""The one error boundary: failures of the HTTP stacks become ours, around everything.

Like httpx's ``map_httpcore_exceptions`` (which wraps the response stream as well as the
send), one mapping covers every place a foreign exception can come from: sending (connect,
write, the wait for headers, uploads), reading a body (a connection broken after the headers,
a ``Content-Length`` longer than the body) and iterating a stream. It is applied by
:func:`guarded` (one awaited step) and :func:`guarded_chunks` (a body, chunk by chunk).

=========================================  ==============================================
raised below (any stack)                   raised to the caller
=========================================  ==============================================
``httpx.TimeoutException`` (and httpcore   :class:`APITimeoutError`
or aiohttp timeouts, ``TimeoutError``)
``httpx.TransportError`` (and httpcore,    :class:`APIConnectionError`
aiohttp, ``OSError`` failures)
anything else                              unchanged (ours, cancellation, programming errors)
=========================================  ==============================================

The error is raised outside the handler that caught the foreign one, so it has no
``__context__``; its ``__cause__`` is a sanitised copy (:func:`~._sanitize.sanitised_copy`):
nothing the HTTP stack built (aiohttp's ``request_info``, frames holding the headers) stays
reachable from it. :func:`to_httpx` is the normalisation the retry policy classifies with.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Final, TypeVar

import httpx

from ._exceptions import AltaBotsError, APIConnectionError, APITimeoutError
from ._sanitize import Secret, safe_text, sanitised_copy

__all__ = ["guarded", "guarded_chunks", "map_error", "to_httpx"]

T = TypeVar("T")

_HTTPCORE_NAMES: Final = frozenset(
    {
        "ConnectTimeout",
        "ReadTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "ConnectError",
        "ReadError",
        "WriteError",
        "RemoteProtocolError",
        "LocalProtocolError",
        "ProxyError",
        "UnsupportedProtocol",
        "NetworkError",
        "TimeoutException",
        "ProtocolError",
    }
)


def _from_httpcore(exc: BaseException) -> type[httpx.TransportError] | None:
    if not type(exc).__module__.startswith("httpcore"):
        return None
    for cls in type(exc).__mro__:
        if cls.__name__ in _HTTPCORE_NAMES:
            mapped = getattr(httpx, cls.__name__, None)
            if isinstance(mapped, type) and issubclass(mapped, httpx.TransportError):
                return mapped
    return httpx.TransportError


def to_httpx(exc: BaseException) -> httpx.TransportError | None:
    """The httpx exception that says what is known about a failure below HTTP, or None
    when ``exc`` is not one (ours, cancellation, a programming error).

    httpx exceptions stay (re-read through aiohttp's table when one wraps an aiohttp error:
    ``httpx_aiohttp`` calls every dropped connection a ``ConnectTimeout``); httpcore's become
    httpx's namesakes; aiohttp's go through its table (:mod:`._aiohttp`); ``TimeoutError``
    is a read timeout, a refused connection a connect error, any other ``OSError`` a read error.
    """
    if isinstance(exc, httpx.TransportError):
        if exc.__cause__ is not None and "aiohttp" in sys.modules:
            from ._aiohttp import map_aiohttp_error

            remapped = map_aiohttp_error(exc)
            if remapped is not None:
                return remapped
        return exc
    if isinstance(exc, AltaBotsError) or not isinstance(exc, Exception):
        return None
    httpcore_type = _from_httpcore(exc)
    if httpcore_type is not None:
        mapped: httpx.TransportError = httpcore_type(str(exc))
    elif "aiohttp" in sys.modules and type(exc).__module__.startswith("aiohttp"):
        from ._aiohttp import map_aiohttp_error

        found = map_aiohttp_error(exc)
        if found is None:
            return None
        mapped = found
    elif isinstance(exc, TimeoutError):
        mapped = httpx.ReadTimeout(str(exc) or "timed out")
    elif isinstance(exc, ConnectionRefusedError):
        mapped = httpx.ConnectError(str(exc))
    elif isinstance(exc, OSError):
        mapped = httpx.ReadError(str(exc))
    else:
        return None
    mapped.__cause__ = exc
    return mapped


def map_error(
    exc: BaseException, request: httpx.Request, secret: Secret = None
) -> AltaBotsError | None:
    """Our error for a failure below HTTP (see the module table), or None to let ``exc`` be."""
    source = to_httpx(exc)
    if source is None:
        return None
    where = f"{request.method} {request.url.path}"
    error: AltaBotsError
    if isinstance(source, httpx.TimeoutException):
        error = APITimeoutError(
            f"{where}: request timed out ({type(source).__name__})", request=request
        )
    else:
        error = APIConnectionError(
            f"{where}: {type(source).__name__}: {safe_text(source, secret)}", request=request
        )
    error.__cause__ = sanitised_copy(source, secret)
    error.__suppress_context__ = True
    return error


async def guarded(step: Awaitable[T], request: httpx.Request, secret: Secret = None) -> T:
    """Await ``step``; a failure below HTTP is raised as ours (see the module docstring)."""
    try:
        return await step
    except Exception as exc:
        error = map_error(exc, request, secret)
        if error is None:
            raise
        del exc  # not kept in this frame's locals either
    raise error


async def guarded_chunks(
    chunks: AsyncIterator[bytes], request: httpx.Request, secret: Secret = None
) -> AsyncGenerator[bytes, None]:
    """``chunks``, with a failure below HTTP raised as ours (``chunks`` is closed after; a
    failure below HTTP while closing it is dropped: the body is being abandoned anyway)."""
    error: AltaBotsError | None = None
    try:
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
            except Exception as exc:
                error = map_error(exc, request, secret)
                if error is None:
                    raise
                del exc
                break
            yield chunk
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception as close_exc:
                if to_httpx(close_exc) is None:
                    raise
                del close_exc
    assert error is not None  # the loop only breaks with one
    raise error
