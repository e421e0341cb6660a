"""Per-call options, and the sentinel that tells "not given" from None."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Final, Literal, TypeVar

import attrs
import httpx

from ._exceptions import ConfigurationError

T = TypeVar("T")


class _NotGiven(Enum):
    """The type of :data:`NOT_GIVEN`."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = _NotGiven.NOT_GIVEN
"""An omitted option: use the client's default. (``None`` is a value: ``timeout=None`` means
no timeout, ``max_wait=None`` means wait as long as it takes.)"""

NotGiven = Literal[_NotGiven.NOT_GIVEN]

EXTENSION = "altabots"
"""Key of :class:`RequestOptions` in ``httpx.Request.extensions``."""
RATE_LIMIT_EXTENSION: Final = "altabots_rate_limit"
"""Key in ``httpx.Response.extensions`` of the parsed :class:`RateLimitHeaders`."""
RETRIES_EXTENSION: Final = "altabots_retries"
"""Key in ``httpx.Response.extensions`` of the number of transparent retries made."""
JSON_EXTENSION: Final = "altabots_json"
"""Key in ``httpx.Response.extensions``: whether the transport saw a JSON ``Content-Type``
(it then read the body, kept on the response)."""
STREAM_EXTENSION: Final = "altabots_stream"
"""Key in ``httpx.Response.extensions`` of a streamed reply's :class:`StreamSettings`."""


@attrs.frozen
class RequestOptions:
    """What the scheduler needs to know about one request.

    Attributes:
        priority: higher first (default 0); calls at or above the limiter's
            ``reserve_priority`` may use the reserve.
        max_wait: longest time to wait in the queue (None: as long as it takes).
        max_retries: transparent retries (429 always; 5xx/timeouts for idempotent calls;
            connect errors for all).
        idempotent: whether resending after "maybe processed" failures is safe.
        bucket: the quota's id (a hash of the API key); None: derived from Authorization.
        max_response_bytes: cap on a JSON body the transport reads to look for the
            over-quota code (None: the transport's default, 10 MiB).
        final_statuses: HTTP statuses this endpoint documents as final: never resent.
    """

    priority: int = 0
    max_wait: float | None = None
    max_retries: int = 3
    idempotent: bool | None = None
    bucket: str | None = None
    max_response_bytes: int | None = None
    final_statuses: frozenset[int] = frozenset()


@attrs.frozen
class StreamSettings:
    """Limits of one streamed reply (set by the client on the response it opens).

    Attributes:
        max_bytes: most decoded bytes the whole stream may carry.
        max_events: most events it may carry.
        deadline_at: ``anyio.current_time()`` by which the whole call must be done, or None.
    """

    max_bytes: int
    max_events: int
    deadline_at: float | None = None


def given(value: T | NotGiven, default: T) -> T:
    """``value`` unless it is NOT_GIVEN."""
    return default if value is NOT_GIVEN else value


def coerce_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """A number (seconds), an ``httpx.Timeout`` or None (no timeout); anything else is a
    :class:`ConfigurationError` (also a ``ValueError``)."""
    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(
            "timeout must be a positive number of seconds, an httpx.Timeout or None"
        )
    return httpx.Timeout(float(value))


def clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters without the ones left at None."""
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def check_counts(**values: int) -> None:
    """Each value an int >= 1 (``max_retries``: >= 0), else :class:`ConfigurationError`."""
    for name, value in values.items():
        low = 0 if name == "max_retries" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigurationError(f"{name} must be an int >= {low}")


def check_deadline(value: float | None) -> float | None:
    """A positive number of seconds as a float, or None; else :class:`ConfigurationError`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError("deadline must be a positive number of seconds or None")
    return float(value)
