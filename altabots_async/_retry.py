"""The retry policy as small pure functions: classify, should it be retried, how long to wait.

:class:`~._transport.RateLimitTransport` asks them after every attempt; each is tested as a
table (``tests/test_retry_policy.py``). The rules:

==================  =========================================  =====================  ===========
outcome             what came back                             resent?                wait
==================  =========================================  =====================  ===========
``THROTTLED``       HTTP 429, or body code 40008 (whatever     always (not            the limiter's
                    the HTTP status: 200, 400, 429)            processed)             freeze
``NEVER_SENT``      connect error or timeout, pool timeout,    always (nothing        backoff
                    proxy refused                              left the host)
``SERVER_ERROR``    HTTP 500, 502, 503, 504                    idempotent calls only  backoff; a 503
                                                                                      with
                                                                                      Retry-After:
                                                                                      the limiter's
``MAYBE_SENT``      read/write timeout, dropped connection,    idempotent calls only  backoff
                    protocol error (also mid-body)
``FINAL``           any other answer, or a failure that a      never                  —
                    resend cannot fix (unsupported protocol)
==================  =========================================  =====================  ===========

Bounded by ``max_retries``; a status the endpoint documents as final (``final_statuses``) is
never resent. Backoff is full jitter: uniform in [0, min(8 s, 0.5 s * 2**attempt)].
"""

from __future__ import annotations

import enum
import random
from collections.abc import Container
from typing import Final

import httpx

from ._constants import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY

__all__ = [
    "IDEMPOTENT_METHODS",
    "RATE_LIMIT_CODES",
    "RETRYABLE_STATUSES",
    "Outcome",
    "backoff_delay",
    "classify_error",
    "classify_response",
    "is_idempotent",
    "retry_delay",
    "should_retry",
]

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
RETRYABLE_STATUSES: Final = frozenset({500, 502, 503, 504})
RATE_LIMIT_CODES: Final = frozenset({40008})
"""Body codes that mean "over quota" (the vendor's "Agent RPM request limit exceeded")."""


class Outcome(enum.Enum):
    """What one attempt came to (see the module table)."""

    FINAL = "final"
    THROTTLED = "throttled"
    NEVER_SENT = "never_sent"
    SERVER_ERROR = "server_error"
    MAYBE_SENT = "maybe_sent"


def classify_response(status: int, code: int | str | None = None) -> Outcome:
    """An answer: its HTTP status and the API code of its body (None: none or not read)."""
    if status == 429 or _is_rate_limit_code(code):
        return Outcome.THROTTLED
    if status in RETRYABLE_STATUSES:
        return Outcome.SERVER_ERROR
    return Outcome.FINAL


def _is_rate_limit_code(code: int | str | None) -> bool:
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    return isinstance(code, int) and not isinstance(code, bool) and code in RATE_LIMIT_CODES


_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_NOT_FIXED_BY_RESENDING: Final = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def classify_error(exc: httpx.TransportError) -> Outcome:
    """A failure below HTTP (normalised to httpx's classes by ``_boundary.to_httpx``)."""
    if isinstance(exc, _NEVER_SENT):
        return Outcome.NEVER_SENT
    if isinstance(exc, _NOT_FIXED_BY_RESENDING):
        return Outcome.FINAL
    return Outcome.MAYBE_SENT


def is_idempotent(method: str, marked: bool | None = None) -> bool:
    """Whether resending after "maybe processed" is safe: as marked, else by method."""
    return marked if marked is not None else method.upper() in IDEMPOTENT_METHODS


def should_retry(
    outcome: Outcome,
    *,
    attempt: int,
    max_retries: int,
    idempotent: bool,
    status: int | None = None,
    final_statuses: Container[int] = frozenset(),
) -> bool:
    """Whether to resend after ``attempt`` (0 for the first try) ended in ``outcome``."""
    if attempt >= max_retries or outcome is Outcome.FINAL:
        return False
    if status is not None and status in final_statuses:
        return False
    if outcome in (Outcome.THROTTLED, Outcome.NEVER_SENT):
        return True
    return idempotent


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0 ** min(attempt, 32))
    return (rng or random).uniform(0.0, ceiling)


def retry_delay(
    outcome: Outcome,
    attempt: int,
    *,
    status: int | None = None,
    retry_after: bool = False,
    rng: random.Random | None = None,
) -> float:
    """Seconds to sleep before resend number ``attempt + 1``.

    0 when the limiter paces the resend itself: after a rejection (it froze every caller of
    the key until Retry-After / Reset, or a bounded back-off), and after a 503 that carried
    ``Retry-After`` (it froze until then). Otherwise :func:`backoff_delay`.
    """
    if outcome is Outcome.THROTTLED or (status == 503 and retry_after):
        return 0.0
    return backoff_delay(attempt, rng)
