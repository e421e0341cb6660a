"""Pure fixed-window quota accounting per key (no I/O, time passed in)."""

from __future__ import annotations

import math
from typing import Literal, TypeAlias

import attrs

from ._plan import Plan

__all__ = ["QuotaBook", "QuotaSnapshot", "WindowAnchor"]

WindowAnchor: TypeAlias = Literal["epoch", "first_request"]


@attrs.frozen
class QuotaSnapshot:
    """One key's current window as the server sees it.

    Attributes:
        limit: the plan's limit.
        used: requests counted in this window (outside consumption included).
        window_start: server time the window opened, epoch seconds.
        window_end: server time the window closes (the next one opens), epoch seconds.
    """

    limit: int
    used: int
    window_start: float
    window_end: float

    @property
    def remaining(self) -> int:
        """Requests the window can still count."""
        return max(0, self.limit - self.used)


@attrs.define
class _Window:
    start: float
    end: float
    used: int = 0


class QuotaBook:
    """Fixed windows per key.

    With ``anchor="epoch"`` a window starts at ``floor(now / period) * period``; with
    ``"first_request"`` it starts at the first request that arrives when no window is open.
    Only the current window of each key is kept; a clock stepping back opens a new window.
    """

    def __init__(self, anchor: WindowAnchor = "epoch") -> None:
        """Accounting with windows anchored as ``anchor`` says."""
        if anchor not in ("epoch", "first_request"):
            raise ValueError(f"window_anchor must be 'epoch' or 'first_request', got {anchor!r}")
        self.anchor: WindowAnchor = anchor
        self._windows: dict[str, _Window] = {}

    def _current(self, key_id: str, plan: Plan, now: float) -> _Window:
        window = self._windows.get(key_id)
        period = plan.period_seconds
        if self.anchor == "epoch":
            start = math.floor(now / period) * period
            if window is None or window.start != start or window.end != start + period:
                window = self._windows[key_id] = _Window(start, start + period)
        elif window is None or not window.start <= now < window.end:
            window = self._windows[key_id] = _Window(now, now + period)
        return window

    def snapshot(self, key_id: str, plan: Plan, now: float) -> QuotaSnapshot:
        """The window ``now`` falls in (opening it if needed), without counting anything."""
        window = self._current(key_id, plan, now)
        return QuotaSnapshot(plan.limit, window.used, window.start, window.end)

    def try_count(self, key_id: str, plan: Plan, now: float) -> tuple[bool, QuotaSnapshot]:
        """Count one request if the window has room; the snapshot is taken after counting."""
        window = self._current(key_id, plan, now)
        counted = window.used < plan.limit
        if counted:
            window.used += 1
        return counted, QuotaSnapshot(plan.limit, window.used, window.start, window.end)

    def consume(self, key_id: str, plan: Plan, now: float, n: int) -> tuple[int, QuotaSnapshot]:
        """Count up to ``n`` requests (as many as fit); return how many were counted."""
        window = self._current(key_id, plan, now)
        taken = max(0, min(n, plan.limit - window.used))
        window.used += taken
        return taken, QuotaSnapshot(plan.limit, window.used, window.start, window.end)

    def reset(self, key_id: str | None = None) -> None:
        """Forget the window of ``key_id`` (every key when None): the quota refills."""
        if key_id is None:
            self._windows.clear()
        else:
            self._windows.pop(key_id, None)
