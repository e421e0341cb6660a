"""altabots-async: the asyncio client of the AltaBots API, with a header-synced rate-limit
scheduler that every concurrent caller of one API key shares."""

from typing import TYPE_CHECKING, Any

from ._checks import InvalidParameterError
from ._client import AsyncAltaBots
from ._exceptions import (
    AgentDeletedError,
    AltaBotsError,
    AnonymousUserNotFoundError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BackendUnavailableError,
    BadRequestError,
    ConfigurationError,
    InsecureTransportError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    StreamError,
    UserNotFoundError,
)
from ._options import NOT_GIVEN, RequestOptions
from ._response import APIResponse
from ._streaming import MessageStream, MessageStreamError
from ._transport import RateLimitTransport
from ._validation import ValidationError
from ._version import __version__
from .ratelimit import LimiterStatus, Pacing, Quota, RateLimiter, RateLimitHeaders

if TYPE_CHECKING:
    from .ratelimit.backends.redis import RedisBackend
from .resources.conversations import KnowledgeScope
from .webhooks import WebhookError, WebhookEvent, parse_webhook_event

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AgentDeletedError",
    "AltaBotsError",
    "AnonymousUserNotFoundError",
    "AsyncAltaBots",
    "AuthenticationError",
    "BackendUnavailableError",
    "BadRequestError",
    "ConfigurationError",
    "InsecureTransportError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidParameterError",
    "KnowledgeScope",
    "LimiterStatus",
    "MessageStream",
    "MessageStreamError",
    "NotFoundError",
    "Pacing",
    "PermissionDeniedError",
    "Quota",
    "QuotaExhaustedError",
    "RateLimitError",
    "RateLimitHeaders",
    "RateLimitTransport",
    "RateLimiter",
    "RedisBackend",
    "RequestOptions",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "StreamError",
    "UserNotFoundError",
    "ValidationError",
    "WebhookError",
    "WebhookEvent",
    "__version__",
    "parse_webhook_event",
]


def __getattr__(name: str) -> Any:
    """``RedisBackend`` is imported on first use (needs the ``redis`` extra)."""
    if name == "RedisBackend":
        from .ratelimit.backends.redis import RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
