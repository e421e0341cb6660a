"""The exception tree, and a pure mapping from (HTTP status, API code) to a class.

```
AltaBotsError
├── ConfigurationError (also ValueError)      bad arguments or environment at construction
│   └── InsecureTransportError                plain http:// to a non-loopback host
├── APIConnectionError                        the request may not have reached the server
│   └── APITimeoutError
├── APIStatusError                            the server answered with an error
│   ├── BadRequestError            400 / 40000, 40005, 40332, 403100, 403103, 20040
│   ├── AuthenticationError        401 / 40127, 40107
│   ├── PermissionDeniedError      403 / 40113, 403131, 20055, 40353, 4032xx
│   ├── NotFoundError              404 / 40356, 403106, 40348
│   │   └── UserNotFoundError      503 on Query User Attributes ("User ID Not Found")
│   │       └── AnonymousUserNotFoundError   504 there ("Anonymous User ID Not Found")
│   ├── AgentDeletedError          20059, 40378
│   ├── InsufficientCreditsError   20022, 40379
│   ├── RateLimitError             429 / 40008
│   └── InternalServerError        5xx / 50000
├── QuotaExhaustedError                       client side: cannot be served within max_wait
├── ResponseValidationError                   a body that does not fit its model
├── StreamError                               a streamed reply broke off or was malformed
├── ResponseTooLargeError                     a body or event over its cap
└── BackendUnavailableError                   the shared limiter backend (Redis) failed
```

Where an endpoint's own page gives a status or code its own meaning, that meaning wins over
the generic rules: :data:`ENDPOINT_ERRORS` (one table, next to the code table) maps an
endpoint to ``{status or code: (exception class, meaning, page)}``; those statuses are never
retried (:func:`final_statuses_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

import httpx

from ._sanitize import SCRUBBED, safe_request, safe_response

__all__ = [
    "ENDPOINT_ERRORS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AgentDeletedError",
    "AltaBotsError",
    "AnonymousUserNotFoundError",
    "AuthenticationError",
    "BackendUnavailableError",
    "BadRequestError",
    "ConfigurationError",
    "InsecureTransportError",
    "InsufficientCreditsError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExhaustedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "StreamError",
    "UserNotFoundError",
]


class AltaBotsError(Exception):
    """Base class of every error this library raises.

    Every error pickles and unpickles (Celery result backends, process pools, joblib): its
    attributes travel, a request or response it refers to is a copy without credentials, and
    its chained cause stays behind (pickle never keeps one). An error's cause is never a
    foreign exception itself but a sanitised copy (same type name and message).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, _portable(vars(self))))


def _portable(state: dict[str, Any]) -> dict[str, Any]:
    """An error's attributes as they may leave the process: no credentials, no live I/O."""
    out: dict[str, Any] = {}
    for name, value in state.items():
        if isinstance(value, httpx.Request):
            value = safe_request(value)
        elif isinstance(value, httpx.Response):
            value = safe_response(value)
        elif isinstance(value, BaseException):
            continue
        out[name] = value
    return out


def _restore(cls: type[AltaBotsError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Unpickle an error without calling its ``__init__`` (keyword-only arguments)."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(AltaBotsError, ValueError):
    """Bad construction arguments or environment (missing or malformed key, bad URL)."""


class InsecureTransportError(ConfigurationError):
    """A plain ``http://`` base URL to a non-loopback host without ``allow_insecure_http=True``."""


class APIConnectionError(AltaBotsError):
    """The request failed below HTTP: DNS, connect, TLS, reset, protocol error."""

    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message)
        self.request = safe_request(request)
        """The request, without its credential headers (None if unknown)."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""

    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None = None
    ):
        super().__init__(message, request=request)


class APIStatusError(AltaBotsError):
    """The API answered with an error (an HTTP error status or an error body).

    Attributes:
        status_code: the HTTP status.
        code: the API's error code (an int such as 40127, or a string from the
            ``{"error": {"code": ...}}`` envelope), or None.
        message: the API's message, or a short excerpt of a non-JSON body.
        request_id: the server's request id header, where present.
        body: the decoded JSON body, or None.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | str | None = None,
        request_id: str | None = None,
        body: Any = None,
        method: str | None = None,
        path: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body
        self.method = method
        self.path = path
        if response is not None and not response.extensions.get(SCRUBBED):
            response = safe_response(response)
        self.response = response
        """The response, buffered, without credential headers in it or its request."""
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        parts.append(f"HTTP {self.status_code}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        text = (
            ": ".join([" ".join(parts[:1]), ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
        )
        text = f"{text}: {self.message}" if self.message else text
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class BadRequestError(APIStatusError):
    """Invalid parameters (HTTP 400, codes 40000, 40005, 40332, 20040, ...)."""


class AuthenticationError(APIStatusError):
    """The API key was refused (HTTP 401, codes 40127, 40107)."""


class PermissionDeniedError(APIStatusError):
    """The key may not do this (HTTP 403, codes 40113, 20055, 40353, 403131, 4032xx)."""


class NotFoundError(APIStatusError):
    """The resource does not exist (HTTP 404, codes 40356, 403106, 40348)."""


class UserNotFoundError(NotFoundError):
    """The user id asked about is unknown to the agent: Query User Attributes
    (``GET /v2/user-property/query``) answers HTTP 503 "User ID Not Found" (also taken as
    body code 503). Not retried: it is the endpoint's answer, not an outage.
    """


class AnonymousUserNotFoundError(UserNotFoundError):
    """The anonymous id asked about is unknown: Query User Attributes answers HTTP 504
    "Anonymous User ID Not Found" (also taken as body code 504). Not retried. A
    :class:`UserNotFoundError`, so one ``except`` catches both.
    """


class AgentDeletedError(APIStatusError):
    """The agent behind the key was deleted (codes 20059 and 40378, which mean the same)."""


class InsufficientCreditsError(APIStatusError):
    """The account has no credits left for this call (codes 20022, 40379)."""


class RateLimitError(APIStatusError):
    """HTTP 429 (or code 40008) that survived the scheduler's transparent retries."""


class InternalServerError(APIStatusError):
    """HTTP 5xx or code 50000."""


class QuotaExhaustedError(AltaBotsError):
    """The quota cannot serve this call within its ``max_wait``; raised at once, nothing sent.

    Attributes:
        reset_at: Unix time (local wall clock) at which capacity is expected back, or None.
        retry_after: seconds from now until then (never negative), or None.
    """

    def __init__(self, message: str, *, reset_at: float | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.reset_at = reset_at
        self.retry_after = retry_after


class ResponseValidationError(AltaBotsError):
    """A response body did not fit its model; the message names the field(s) at fault."""

    def __init__(self, message: str, *, body: Any = None, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.body = body
        self.errors = errors or []


class StreamError(AltaBotsError):
    """A streamed reply was cut off or carried a malformed event."""


class ResponseTooLargeError(AltaBotsError):
    """A response body, decompressed body or stream event exceeded its configured cap."""


class BackendUnavailableError(AltaBotsError):
    """The shared rate-limit backend (Redis) is unreachable or timed out (fail-closed policy)."""


_CODE_MAP: dict[int, type[APIStatusError]] = {
    40000: BadRequestError,
    40005: BadRequestError,
    40332: BadRequestError,
    403100: BadRequestError,
    403103: BadRequestError,
    20040: BadRequestError,
    40325: BadRequestError,
    40326: BadRequestError,
    40364: BadRequestError,
    40371: BadRequestError,
    40380: BadRequestError,
    40382: BadRequestError,
    403201: BadRequestError,
    403202: BadRequestError,
    40127: AuthenticationError,
    40107: AuthenticationError,
    40113: PermissionDeniedError,
    403131: PermissionDeniedError,
    20055: PermissionDeniedError,
    40353: PermissionDeniedError,
    40358: PermissionDeniedError,
    200116: PermissionDeniedError,
    200222: PermissionDeniedError,
    403200: PermissionDeniedError,
    403204: PermissionDeniedError,
    20059: AgentDeletedError,
    40378: AgentDeletedError,
    40356: NotFoundError,
    403106: NotFoundError,
    40348: NotFoundError,
    403203: NotFoundError,
    20022: InsufficientCreditsError,
    40379: InsufficientCreditsError,
    40008: RateLimitError,
    50000: InternalServerError,
    50101: InternalServerError,
    40381: InternalServerError,
}

_STATUS_MAP: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}


class EndpointMeaning(NamedTuple):
    """What one endpoint's page says a status or code means."""

    error: type[APIStatusError]
    meaning: str
    page: str
    """The vendor page that documents it (under ``docs/`` of the vendor's docs repository)."""


ENDPOINT_ERRORS: Final[Mapping[str, Mapping[int, EndpointMeaning]]] = {
    "GET /v2/user-property/query": {
        503: EndpointMeaning(
            UserNotFoundError, "User ID Not Found", "users/Query User Attributes.md"
        ),
        504: EndpointMeaning(
            AnonymousUserNotFoundError,
            "Anonymous User ID Not Found",
            "users/Query User Attributes.md",
        ),
    },
}
"""Endpoint-specific meanings, keyed by ``"METHOD /path"``, then by the number the page
gives (an HTTP status, also matched as a body code: the pages do not say which it is).
Every other page's error table uses the generic codes of ``_CODE_MAP`` / ``_STATUS_MAP``."""


def _endpoint_table(method: str, path: str) -> Mapping[int, EndpointMeaning] | None:
    """The table of the endpoint ``method path`` (``path`` may carry a base-URL prefix)."""
    path = "/" + path.partition("?")[0].lstrip("/")
    for key, table in ENDPOINT_ERRORS.items():
        want_method, _, want_path = key.partition(" ")
        if method.upper() == want_method and (path == want_path or path.endswith(want_path)):
            return table
    return None


def endpoint_error(
    method: str, path: str, status_code: int, code: int | str | None
) -> EndpointMeaning | None:
    """The endpoint's own meaning of this answer, or None (then the generic rules apply).

    A body code listed for the endpoint wins; else the HTTP status, unless the body carries
    a generic code of its own that means something else (a gateway's 503 with 50000 stays
    an :class:`InternalServerError`).
    """
    table = _endpoint_table(method, path)
    if table is None:
        return None
    if isinstance(code, int) and not isinstance(code, bool) and code in table:
        return table[code]
    if status_code in table and not (isinstance(code, int) and code in _CODE_MAP):
        return table[status_code]
    return None


def final_statuses_for(method: str, path: str) -> frozenset[int]:
    """The HTTP statuses that are the endpoint's documented answer (never retried)."""
    table = _endpoint_table(method, path)
    return frozenset(table) if table is not None else frozenset()


def error_class_for(status_code: int, code: int | str | None) -> type[APIStatusError]:
    """Pick the most specific class: the API code first, then the HTTP status."""
    if isinstance(code, int) and code in _CODE_MAP:
        return _CODE_MAP[code]
    if isinstance(code, int) and code in _STATUS_MAP:  # status-style codes (User, DevKey pages)
        return _STATUS_MAP[code]
    if status_code in _STATUS_MAP:
        return _STATUS_MAP[status_code]
    if status_code >= 500 or (isinstance(code, int) and 500 <= code < 600):
        return InternalServerError
    return APIStatusError
