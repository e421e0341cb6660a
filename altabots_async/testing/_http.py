"""Tiny request/response types and the router behind the simulator's endpoints."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl

import attrs

if TYPE_CHECKING:
    from ._state import KeyStore, SimState

__all__ = [
    "Context",
    "HTTPError",
    "Handler",
    "Request",
    "Response",
    "RouteTable",
    "Router",
]


@attrs.frozen
class Request:
    """An incoming request as handlers see it.

    ``headers`` has lower-cased names; repeated headers are joined with ``", "``.
    ``query`` is the raw query string; ``query_params`` keeps repeated keys in order.
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""

    @property
    def query_params(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair of the query string, repeats kept, in order."""
        return parse_qsl(self.query, keep_blank_values=True)

    def query_one(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``, or ``default``."""
        for key, value in self.query_params:
            if key == name:
                return value
        return default

    def query_all(self, name: str) -> list[str]:
        """Every value of query parameter ``name`` (``a=1&a=2`` and ``a=1,2`` both give two)."""
        values: list[str] = []
        for key, value in self.query_params:
            if key == name:
                values.extend(part for part in value.split(",") if part)
        return values

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            HTTPError: 400 / 40000 when the body is empty or not valid JSON.
        """
        if not self.body:
            raise HTTPError(400, 40000, "Request body is required")
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPError(400, 40000, f"Invalid JSON body: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; 400 / 40000 when it is anything else."""
        data = self.json()
        if not isinstance(data, dict):
            raise HTTPError(400, 40000, "Request body must be a JSON object")
        return data


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@attrs.frozen
class Response:
    """What a handler returns: a status, headers and either a body or a stream of chunks.

    Build one with :meth:`json`, :meth:`error`, :meth:`text` or :meth:`stream`.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunks: AsyncIterator[bytes] | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()
    ) -> Response:
        """A JSON response (compact, UTF-8)."""
        return cls(
            status,
            (("content-type", "application/json"), *headers),
            _dumps(data),
        )

    @classmethod
    def error(
        cls, status: int, code: int, message: str, headers: Sequence[tuple[str, str]] = ()
    ) -> Response:
        """An error in the endpoint pages' shape: ``{"code": <int>, "message": <text>}``."""
        return cls.json({"code": code, "message": message}, status, headers)

    @classmethod
    def text(
        cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8"
    ) -> Response:
        """A plain text response."""
        return cls(status, (("content-type", content_type),), text.encode())

    @classmethod
    def stream(
        cls,
        chunks: AsyncIterator[bytes],
        status: int = 200,
        content_type: str = "text/event-stream",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Response:
        """A streamed body: each chunk of ``chunks`` is sent as it is produced (SSE and such)."""
        return cls(
            status,
            (("content-type", content_type), ("cache-control", "no-cache"), *headers),
            b"",
            chunks,
        )

    def with_headers(self, headers: Sequence[tuple[str, str]]) -> Response:
        """A copy with ``headers`` appended."""
        return attrs.evolve(self, headers=(*self.headers, *headers))


class HTTPError(Exception):
    """Raise from a handler to answer ``{"code": code, "message": message}`` with ``status``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        """Record the HTTP status, the API error code and the message."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_response(self) -> Response:
        """The error as a :class:`Response`."""
        return Response.error(self.status, self.code, self.message)


@attrs.frozen
class Context:
    """What a handler gets: the request, the shared state, the caller's store and the time.

    Attributes:
        request: the parsed request.
        state: the simulator's shared :class:`SimState`.
        key_id: fingerprint of the caller's API key (never the key itself).
        now: server time (skew included) when the request was counted, epoch seconds.
        rng: the simulator's seeded random generator (use it for any random choice).
    """

    request: Request
    state: SimState
    key_id: str
    now: float
    rng: random.Random

    @property
    def store(self) -> KeyStore:
        """The caller's per-key store (created on first use)."""
        return self.state.store(self.key_id)


Handler: TypeAlias = Callable[[Context], Awaitable[Response]]


class RouteTable:
    """Routes declared by one endpoint module, before a simulator includes them.

    Usage in ``_endpoints/<category>.py``::

        routes = RouteTable()

        @routes.get("/v1/bot/detail")
        async def bot_detail(ctx: Context) -> Response: ...
    """

    def __init__(self) -> None:
        """An empty table."""
        self.entries: list[tuple[str, str, Handler]] = []

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        """Decorator: register ``handler`` for ``method path``."""

        def register(handler: Handler) -> Handler:
            self.entries.append((method.upper(), path, handler))
            return handler

        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        """Decorator for a GET route."""
        return self.route("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        """Decorator for a POST route."""
        return self.route("POST", path)

    def put(self, path: str) -> Callable[[Handler], Handler]:
        """Decorator for a PUT route."""
        return self.route("PUT", path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        """Decorator for a DELETE route."""
        return self.route("DELETE", path)


class Router:
    """Exact-path routing: ``(method, path) -> handler``. A later registration wins."""

    def __init__(self) -> None:
        """An empty router."""
        self._routes: dict[str, dict[str, Handler]] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Register ``handler`` for ``method path`` (replacing any previous one)."""
        self._routes.setdefault(path, {})[method.upper()] = handler

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""

        def register(handler: Handler) -> Handler:
            self.add(method, path, handler)
            return handler

        return register

    def include(self, table: RouteTable) -> None:
        """Register every route of ``table``."""
        for method, path, handler in table.entries:
            self.add(method, path, handler)

    def routes(self) -> list[tuple[str, str]]:
        """Every registered ``(method, path)``, sorted by path."""
        return sorted(
            (method, path) for path, methods in self._routes.items() for method in methods
        )

    def resolve(self, method: str, path: str) -> Handler | HTTPError:
        """The handler for ``method path``, or the 404 / 405 error to answer."""
        methods = self._routes.get(path)
        if methods is None and path.endswith("/") and len(path) > 1:
            methods = self._routes.get(path.rstrip("/"))
        if methods is None:
            return HTTPError(404, 404, "Not found")
        handler = methods.get(method.upper())
        if handler is None:
            return HTTPError(405, 405, "Method not allowed")
        return handler
