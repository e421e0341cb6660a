"""Pure parsing of rate-limit headers. Never raises; bad values become "unknown".

Rules (documented in the README, "Rate-limit headers"):

* ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining``: a non-negative integer (a decimal is
  floored; a list such as ``"100, 100;w=60"`` uses its first item). Anything else: unknown.
* ``X-RateLimit-Reset``: a number whose form is decided by magnitude, because real servers
  disagree: ``>= 1e11`` epoch milliseconds, ``>= 1e9`` epoch seconds, otherwise
  delta-seconds. An HTTP-date is also accepted. Negative, NaN, infinite or garbage: unknown.
* ``Retry-After``: delta-seconds (integer or decimal) or an HTTP-date (RFC 1123, RFC 850,
  asctime); ``Retry-After-Ms`` / ``retry-after-ms`` in milliseconds wins when present.
* ``Date``: an HTTP-date; the server's clock, used to correct skew.

Each distinct (header, reason) problem is reported in ``problems`` so the caller can log it
once at debug level.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Final

import attrs
import httpx

_MS_THRESHOLD: Final = 1e11
_EPOCH_THRESHOLD: Final = 1e9
_MAX_COUNT: Final = 10**12  # beyond any plan; larger numbers are treated as garbage
_MAX_HEADER_LEN: Final = 256

HEADER_NAMES: Final = frozenset(
    {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after",
     "retry-after-ms", "date"}
)  # fmt: skip
"""Every header :func:`parse_rate_limit_headers` reads (lower case): a transport may pass
only these on, and a header added to the parser must be added here (a test checks it)."""


@attrs.frozen
class RateLimitHeaders:
    """What the rate-limit headers of one response said (each field None when unknown).

    Attributes:
        limit: ``X-RateLimit-Limit``.
        remaining: ``X-RateLimit-Remaining``.
        reset_epoch: the reset as a Unix time in the server's clock (seconds).
        reset_delta: the reset as seconds from when the response was produced.
        retry_after: seconds to wait, from ``Retry-After`` (delta form) or ``Retry-After-Ms``.
        retry_after_epoch: ``Retry-After`` given as an HTTP-date (server clock).
        date: the server's ``Date`` as a Unix time.
        problems: ``(header, reason)`` for every value that was present but unusable.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_epoch: float | None = None
    reset_delta: float | None = None
    retry_after: float | None = None
    retry_after_epoch: float | None = None
    date: float | None = None
    problems: tuple[tuple[str, str], ...] = ()

    @property
    def has_quota_info(self) -> bool:
        """True when the response carried a usable Remaining."""
        return self.remaining is not None


def _number(raw: str) -> float | None:
    text = raw.strip()
    if "," in text:
        text = text.split(",", 1)[0].strip()
    if ";" in text:
        text = text.split(";", 1)[0].strip()
    if not text or len(text) > 64 or not text.isascii():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value


def _count(raw: str) -> tuple[int | None, str | None]:
    value = _number(raw)
    if value is None:
        return None, "not a number"
    if value < 0:
        return None, "negative"
    if value > _MAX_COUNT:
        return None, "absurdly large"
    return math.floor(value), None


@functools.lru_cache(maxsize=64)
def parse_http_date(raw: str) -> float | None:
    """An HTTP-date (RFC 1123, RFC 850 or asctime) as a Unix time, or None.

    Memoized: a server's ``Date`` changes once a second, and parsing one costs ~10 µs.
    """
    text = raw.strip()
    if not text or len(text) > 64:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # asctime and zone-less forms are GMT by definition
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    try:
        value = parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    return value[: _MAX_HEADER_LEN + 1]


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders:
    """Parse one response's rate-limit headers (any mapping; names are case-insensitive).

    Never raises.
    """
    if not isinstance(headers, httpx.Headers):
        headers = {str(k).lower(): v for k, v in headers.items() if isinstance(v, str)}
    problems: list[tuple[str, str]] = []

    def note(name: str, reason: str) -> None:
        problems.append((name, reason))

    limit = remaining = None
    raw = _get(headers, "x-ratelimit-limit")
    if raw is not None:
        limit, why = _count(raw)
        if why:
            note("x-ratelimit-limit", why)
    raw = _get(headers, "x-ratelimit-remaining")
    if raw is not None:
        remaining, why = _count(raw)
        if why:
            note("x-ratelimit-remaining", why)
    if limit is not None and remaining is not None and remaining > limit:
        note("x-ratelimit-remaining", "above limit")
        remaining = limit

    reset_epoch = reset_delta = None
    raw = _get(headers, "x-ratelimit-reset")
    if raw is not None:
        value = _number(raw)
        if value is None:
            date_value = parse_http_date(raw)
            if date_value is None:
                note("x-ratelimit-reset", "not a number or date")
            else:
                reset_epoch = date_value
        elif value < 0:
            note("x-ratelimit-reset", "negative")
        elif value >= 1e16:
            note("x-ratelimit-reset", "absurdly large")
        elif value >= _MS_THRESHOLD:
            reset_epoch = value / 1000.0
        elif value >= _EPOCH_THRESHOLD:
            reset_epoch = value
        else:
            reset_delta = value

    retry_after = retry_after_epoch = None
    raw_ms = _get(headers, "retry-after-ms")
    if raw_ms is not None:
        value = _number(raw_ms)
        if value is None or value < 0:
            note("retry-after-ms", "not a non-negative number")
        else:
            retry_after = value / 1000.0
    raw = _get(headers, "retry-after")
    if raw is not None and retry_after is None:
        value = _number(raw)
        if value is not None:
            if value < 0:
                note("retry-after", "negative")
            else:
                retry_after = value
        else:
            retry_after_epoch = parse_http_date(raw)
            if retry_after_epoch is None:
                note("retry-after", "not a number or date")

    date = None
    raw = _get(headers, "date")
    if raw is not None:
        date = parse_http_date(raw)
        if date is None:
            note("date", "not an HTTP-date")

    return RateLimitHeaders(
        limit=limit,
        remaining=remaining,
        reset_epoch=reset_epoch,
        reset_delta=reset_delta,
        retry_after=retry_after,
        retry_after_epoch=retry_after_epoch,
        date=date,
        problems=tuple(problems),
    )


@attrs.define
class ServerClock:
    """Estimates the server's clock on our monotonic clock: ``server_time ~ mono + offset``.

    Every bound below is a fact, so the estimate never runs ahead of the server (a reset is
    never predicted early) and it follows a server whose clock steps (only the last few
    samples of each kind are kept):

    * ``Date`` was stamped before we received the response and is truncated to the second:
      ``offset >= Date - received``.
    * a response of the window ending at Reset ``R`` was produced before ``R``:
      ``offset < R - sent``; and, with a known period ``P``, after ``R - P``:
      ``offset >= R - P - received``.
    * the first response naming a later window than ``R`` was produced after ``R``:
      ``offset >= R - received``.

    With ``Date`` the estimate is the best lower bound. Without it, once a window has been
    seen to turn, the best lower bound too; before that, our own wall clock is the guess,
    clamped into the bounds learned from Reset values.
    """

    window: int = 3
    _dates: list[float] = attrs.field(factory=list)
    _lower: list[float] = attrs.field(factory=list)
    _upper: list[float] = attrs.field(factory=list)
    _turns: list[float] = attrs.field(factory=list)

    @staticmethod
    def _push(samples: list[float], value: float, window: int) -> None:
        samples.append(value)
        if len(samples) > window:
            del samples[0]

    def learn(
        self,
        *,
        date: float | None,
        reset_epoch: float | None,
        period: float | None,
        sent_mono: float,
        received_mono: float,
        previous_window: float | None = None,
    ) -> None:
        """Record what one response tells about the server's clock.

        ``previous_window`` is the Reset of the window we knew before this response: when
        this response names a later window, the server's clock had passed that reset.
        """
        if date is not None:
            self._push(self._dates, date - received_mono, self.window)
        if (
            reset_epoch is not None
            and previous_window is not None
            and reset_epoch > previous_window + 0.05
        ):
            self._push(self._turns, previous_window - received_mono, self.window)
        if reset_epoch is not None:
            self._push(self._upper, reset_epoch - sent_mono, self.window)
            if period is not None:
                self._push(self._lower, reset_epoch - period - received_mono, self.window)

    def offset(self, wall_minus_mono: float) -> float:
        """Best estimate of server_time - mono that is not ahead of the server."""
        upper = min(self._upper) if self._upper else math.inf
        lower = max(self._lower) if self._lower else -math.inf
        if self._dates:
            lower = max(lower, max(self._dates))
            return min(lower, upper)
        if self._turns:
            # We saw the server's windows turn: the best lower bound is a fact and is as
            # tight as our first look at each new window. Never ahead of the server.
            turned = max(lower, max(self._turns))
            return min(turned, upper) if turned <= upper else turned
        guess = min(wall_minus_mono, upper)
        return max(guess, lower) if lower <= upper else guess

    @property
    def known(self) -> bool:
        """Whether any Date header has been seen."""
        return bool(self._dates)
