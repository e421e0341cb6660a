"""Test doubles for driving the limiter without HTTP: a model fixed-window server."""

from __future__ import annotations

import math
from email.utils import formatdate

import anyio

EPOCH = 1_700_000_000.0


class LoopClock:
    """Monotonic = the event loop's clock; wall = a fixed epoch + the loop clock."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def monotonic(self) -> float:
        """The loop clock."""
        return anyio.current_time()

    def wall(self) -> float:
        """A wall clock that moves with the loop clock."""
        return EPOCH + anyio.current_time() + self.offset


class ModelServer:
    """A fixed-window server counting requests; its clock is EPOCH + loop time + skew."""

    def __init__(self, limit: int, period: float, *, skew: float = 0.0) -> None:
        self.limit = limit
        self.period = period
        self.skew = skew
        self.count: dict[float, int] = {}
        self.over_quota = 0
        self.log: list[tuple[float, int]] = []

    def now(self) -> float:
        """Server time."""
        return EPOCH + anyio.current_time() + self.skew

    def handle(self) -> tuple[int, dict[str, str]]:
        """Process one request: (status, headers)."""
        now = self.now()
        window = math.floor(now / self.period) * self.period
        reset = window + self.period
        used = self.count.get(window, 0)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Reset": f"{reset:.3f}",
            "Date": formatdate(now, usegmt=True),
        }
        if used >= self.limit:
            self.over_quota += 1
            headers["X-RateLimit-Remaining"] = "0"
            headers["Retry-After"] = str(math.ceil(reset - now))
            self.log.append((window, 429))
            return 429, headers
        self.count[window] = used + 1
        headers["X-RateLimit-Remaining"] = str(self.limit - used - 1)
        self.log.append((window, 200))
        return 200, headers
