"""Choosing the HTTP stack: httpx's own pool or aiohttp behind the same httpx interface.

``aiohttp_transport()`` builds an ``AiohttpAdapter``: it wraps
``httpx_aiohttp.AiohttpTransport`` (extra ``altabots-async[aiohttp]``) and fixes what the
request path depends on. The library maps every ``aiohttp.ClientConnectionError`` to
``httpx.ConnectTimeout``, so a server that closed the connection *after* processing a request
would look "never sent", and a POST would be resent. Here each aiohttp failure maps to the
httpx class that says what is known:

=====================================  ==========================  =====================
aiohttp                                httpx                       sent?
=====================================  ==========================  =====================
``ClientConnectorError`` (refused,     ``ConnectError``            never
DNS, TLS handshake)
``ConnectionTimeoutError`` (connect    ``ConnectTimeout``          never
or waiting for a pooled connection)
``SocketTimeoutError``, other          ``ReadTimeout``             maybe
``ServerTimeoutError``, ``TimeoutError``
``ServerDisconnectedError``,           ``RemoteProtocolError``     maybe
``ClientPayloadError``,
``ClientResponseError`` (bad HTTP)
other ``ClientOSError`` / connection   ``ReadError``               maybe
errors (reset by peer)
proxy errors                           ``ProxyError``              never
bad or non-HTTP URL                    ``UnsupportedProtocol``     never
any other ``aiohttp.ClientError``      ``TransportError``          maybe
=====================================  ==========================  =====================

The table is applied in one place (``_Mapped``) around the send, the body read and its
close. A body with a ``Content-Length`` of at most 64 KiB and no ``Content-Encoding`` (most
API answers) is read whole right away (one step instead of a chain of generators per chunk;
aiohttp enforces the length). Our own exceptions come later, from the client's one error
boundary (``_boundary.py``), which also sanitises what it chains to.

Timeouts map as httpx-aiohttp maps them: ``connect`` to aiohttp's ``sock_connect``,
``read`` to ``sock_read`` (per read, as in httpx), ``pool`` to aiohttp's ``connect`` (waiting
for a pooled connection *and* connecting); aiohttp has no ``write`` timeout. A streamed body
closed before it was read to the end closes its connection (aiohttp cannot reuse it), and a
request cancelled in flight closes its connection too: the pool never leaks one (tested in
``tests/test_transports.py`` on both stacks).

``AutoTransport`` is ``transport="auto"``: the client is usually built outside any event
loop, so the stack is chosen at the first request, from the running async library: aiohttp
(measured faster, see ``benchmarks/results/RESULTS.md``) on asyncio when installed, httpx
otherwise and always under trio.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

import httpx
import sniffio

from ._body import keep_body
from ._constants import DEFAULT_CONNECTION_LIMITS
from ._exceptions import ConfigurationError

if TYPE_CHECKING:
    from httpx_aiohttp import AiohttpTransport

__all__ = [
    "AutoTransport",
    "TransportChoice",
    "aiohttp_available",
    "aiohttp_transport",
    "make_inner_transport",
    "make_transport",
    "map_aiohttp_error",
    "transport_label",
]

logger = logging.getLogger("altabots_async")

TransportChoice = Literal["auto", "httpx", "aiohttp"]
_INSTALL_HINT: Final = "transport='aiohttp' needs the extra: pip install 'altabots-async[aiohttp]'"


def aiohttp_available() -> bool:
    """Whether ``httpx-aiohttp`` (and so aiohttp) is installed (checked without importing)."""
    return importlib.util.find_spec("httpx_aiohttp") is not None


def _table() -> tuple[tuple[type[BaseException], type[httpx.TransportError]], ...]:
    """The aiohttp -> httpx mapping, most specific first."""
    import aiohttp

    return (
        (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
        (aiohttp.ClientHttpProxyError, httpx.ProxyError),
        (aiohttp.ClientConnectorError, httpx.ConnectError),
        (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
        (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
        (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
        (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
        (aiohttp.ClientConnectionError, httpx.ReadError),
        (asyncio.TimeoutError, httpx.ReadTimeout),
        (aiohttp.ClientError, httpx.TransportError),
    )


_TABLE: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] | None = None


def map_aiohttp_error(
    exc: BaseException, request: httpx.Request | None = None
) -> httpx.TransportError | None:
    """The httpx exception for an aiohttp failure (or one httpx-aiohttp mapped), else None.

    ``exc`` may be the aiohttp exception itself or an httpx exception raised ``from`` one.
    """
    global _TABLE  # built on first failure: aiohttp is imported lazily
    if _TABLE is None:
        _TABLE = _table()
    source = exc
    if isinstance(exc, httpx.TransportError):
        if exc.__cause__ is None:
            return None
        source = exc.__cause__
    for aiohttp_type, httpx_type in _TABLE:
        if isinstance(source, aiohttp_type):
            text = str(source) or type(source).__name__
            mapped = httpx_type(text, request=request)
            mapped.__cause__ = source
            return mapped
    return None


class _Mapped:
    """The one place the adapter maps a failure (sending, reading and closing a body): a
    context manager, as a class (a generator-based one costs microseconds per call)."""

    __slots__ = ("_request",)

    def __init__(self, request: httpx.Request) -> None:
        self._request = request

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        mapped = map_aiohttp_error(exc, self._request)
        if mapped is not None:
            raise mapped from mapped.__cause__


class _MappedStream(httpx.AsyncByteStream):
    """A response body whose read and close failures are mapped like the request's."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _Mapped(self._request):
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _Mapped(self._request):
            await self._inner.aclose()


_SMALL_BODY: Final = 64 * 1024
"""A body with a ``Content-Length`` up to this, and no ``Content-Encoding``, is read whole."""


def _small_and_plain(source: Any) -> bool:
    length = source.content_length
    return (
        length is not None
        and length <= _SMALL_BODY
        and source.headers.get("Content-Encoding", "identity").lower() in ("identity", "")
    )


async def _read_whole(response: httpx.Response, source: Any) -> None:
    """Read a small plain body in one step (no generator layers per chunk: most API answers
    are a few hundred bytes) and keep it on the response; aiohttp enforces the length."""
    content = await source.read()
    source.release()
    response.stream = httpx.ByteStream(content)
    keep_body(response, content)


def _adapter_class() -> type[AiohttpTransport]:
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        raise ConfigurationError(_INSTALL_HINT) from None

    class AiohttpAdapter(AiohttpTransport):
        """``httpx_aiohttp.AiohttpTransport`` with failures mapped by what is known."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.client is None and _running_library() != "asyncio":
                raise ConfigurationError(
                    "transport='aiohttp' runs on asyncio only; use 'httpx' or 'auto' under "
                    f"{_running_library()}"
                )
            with _Mapped(request):
                response: httpx.Response = await super().handle_async_request(request)
                source = getattr(response.stream, "_aiohttp_response", None)
                if source is not None and _small_and_plain(source):
                    await _read_whole(response, source)
                    return response
            response.stream = _MappedStream(response.stream, request)  # type: ignore[arg-type]
            return response

    return AiohttpAdapter


_ADAPTER: type[AiohttpTransport] | None = None


def aiohttp_transport(
    *, limits: httpx.Limits = DEFAULT_CONNECTION_LIMITS, **kwargs: Any
) -> httpx.AsyncBaseTransport:
    """An aiohttp-backed httpx transport (``AiohttpAdapter``) with our error mapping.

    The class subclasses ``httpx_aiohttp.AiohttpTransport`` and is made on first use, so
    that importing this module never imports aiohttp.

    Raises:
        ConfigurationError: when the ``aiohttp`` extra is not installed.
    """
    global _ADAPTER  # a cached subclass of an optional dependency
    if _ADAPTER is None:
        _ADAPTER = _adapter_class()
    return _ADAPTER(limits=limits, **kwargs)


def _running_library() -> str | None:
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return None


def _choose(library: str | None) -> Literal["httpx", "aiohttp"]:
    if library in (None, "asyncio") and aiohttp_available():
        return "aiohttp"
    return "httpx"


def make_transport(
    choice: Literal["httpx", "aiohttp"],
    *,
    verify: ssl.SSLContext | str | bool = True,
    proxy: httpx.Proxy | None = None,
) -> httpx.AsyncBaseTransport:
    """A fresh inner transport of the named stack (``verify``: TLS verification, as httpx;
    ``proxy``: an HTTP(S) proxy both stacks use the same way: ``CONNECT`` for https targets,
    absolute-form requests for http ones)."""
    if choice == "aiohttp":
        return aiohttp_transport(verify=verify, proxy=_auth_as_header(proxy))
    return httpx.AsyncHTTPTransport(limits=DEFAULT_CONNECTION_LIMITS, verify=verify, proxy=proxy)


def _auth_as_header(proxy: httpx.Proxy | None) -> httpx.Proxy | None:
    """The proxy with its credentials moved into its headers, where aiohttp takes them
    without its deprecated ``BasicAuth`` (which httpx-aiohttp would pass). aiohttp treats
    an ``Authorization`` among the proxy headers as the proxy's: it sends it as
    ``Proxy-Authorization`` on the ``CONNECT`` of an https target and on the request itself
    for an http one, as httpx does (``tests/test_security_second_pass.py`` checks both)."""
    if proxy is None or proxy.auth is None:
        return proxy
    user, password = proxy.auth
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    headers = httpx.Headers(proxy.headers)
    headers["Authorization"] = f"Basic {token}"
    return httpx.Proxy(proxy.url, ssl_context=proxy.ssl_context, headers=headers)


class AutoTransport(httpx.AsyncBaseTransport):
    """``transport="auto"``: aiohttp on asyncio when installed, else httpx; chosen lazily.

    Inside a running loop the choice is made at construction; outside one (the usual case:
    a client built at import time or in app setup) at the first request. ``name`` is
    ``"auto"`` until then, and then the chosen stack's name.
    """

    def __init__(self, factory: Callable[[Literal["httpx", "aiohttp"]], Any] = make_transport):
        self._factory = factory
        self._inner: httpx.AsyncBaseTransport | None = None
        self.name = "auto"
        library = _running_library()
        if library is not None:
            self._decide(library)

    def _decide(self, library: str | None) -> httpx.AsyncBaseTransport:
        choice = _choose(library)
        self._inner = self._factory(choice)
        self.name = choice
        logger.debug("transport auto: %s (async library %s)", choice, library)
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the chosen stack (choosing it now if not yet done)."""
        inner = self._inner
        if inner is None:
            inner = self._decide(_running_library())
        return await inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the chosen stack, if any."""
        if self._inner is not None:
            await self._inner.aclose()

    def __repr__(self) -> str:
        return f"AutoTransport(name={self.name!r})"


def make_inner_transport(
    choice: TransportChoice,
    *,
    verify: ssl.SSLContext | str | bool = True,
    proxy: httpx.Proxy | None = None,
) -> httpx.AsyncBaseTransport:
    """The transport that really sends: ``"auto"`` decides at the first request (see
    :class:`AutoTransport`), ``"httpx"`` / ``"aiohttp"`` now; ``verify`` and ``proxy`` go to
    whichever stack is made."""
    if choice == "auto":
        if verify is True and proxy is None:
            return AutoTransport()
        return AutoTransport(lambda chosen: make_transport(chosen, verify=verify, proxy=proxy))
    if choice not in ("httpx", "aiohttp"):
        raise ConfigurationError(
            f"transport must be 'auto', 'httpx', 'aiohttp' or an httpx transport, not {choice!r}"
        )
    return make_transport(choice, verify=verify, proxy=proxy)


def transport_label(inner: httpx.AsyncBaseTransport) -> str:
    """The name ``client.transport_name`` shows for an inner transport."""
    if isinstance(inner, AutoTransport):
        return inner.name
    if isinstance(inner, httpx.AsyncHTTPTransport):
        return "httpx"
    if type(inner).__name__ == "AiohttpAdapter":
        return "aiohttp"
    return type(inner).__name__
