"""Per-call options, and the sentinel that tells "not given" from None."""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal, TypeVar

import attrs
import httpx

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
        final_statuses: HTTP statuses that are this endpoint's documented answer, never
            retried (e.g. 503 "User ID Not Found" of Query User Attributes).
    """

    priority: int = 0
    max_wait: float | None = None
    max_retries: int = 3
    idempotent: bool | None = None
    bucket: str | None = None
    final_statuses: frozenset[int] = frozenset()


def given(value: T | NotGiven, default: T) -> T:
    """``value`` unless it is NOT_GIVEN."""
    return default if value is NOT_GIVEN else value


def coerce_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """A number (seconds), an ``httpx.Timeout`` or None (no timeout)."""
    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("timeout must be a positive number of seconds, an httpx.Timeout or None")
    return httpx.Timeout(float(value))
