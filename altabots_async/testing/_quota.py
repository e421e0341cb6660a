"""Pure fixed-window quota accounting per key (no I/O, time passed in)."""

from __future__ import annotations

import math
from collections.abc import Sequence
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

    def try_count_all(
        self, key_id: str, plans: Sequence[Plan], now: float
    ) -> tuple[bool, QuotaSnapshot, tuple[float, ...]]:
        """Count one request against every policy of a key, or against none.

        The request is counted only when every policy's window has room. Returns whether it
        was counted, the binding snapshot (the one to put in the headers) and the start of each
        policy's window. Binding: when counted, the policy with the least remaining (ties: the
        later reset); when refused, the full policy whose window ends last (waiting for it is
        waiting for all).
        """
        windows = [self._current(_policy_key(key_id, i), p, now) for i, p in enumerate(plans)]
        counted = all(w.used < p.limit for w, p in zip(windows, plans, strict=True))
        if counted:
            for window in windows:
                window.used += 1
        snaps = [
            QuotaSnapshot(p.limit, w.used, w.start, w.end)
            for w, p in zip(windows, plans, strict=True)
        ]
        starts = tuple(w.start for w in windows)
        if counted:
            return True, min(snaps, key=lambda s: (s.remaining, -s.window_end)), starts
        full = [s for s in snaps if s.remaining == 0]
        return False, max(full, key=lambda s: s.window_end), starts

    def consume_all(
        self, key_id: str, plans: Sequence[Plan], now: float, n: int
    ) -> tuple[int, tuple[float, ...]]:
        """Count up to ``n`` requests in every policy (as many as all have room for)."""
        windows = [self._current(_policy_key(key_id, i), p, now) for i, p in enumerate(plans)]
        room = min(p.limit - w.used for w, p in zip(windows, plans, strict=True))
        taken = max(0, min(n, room))
        for window in windows:
            window.used += taken
        return taken, tuple(w.start for w in windows)

    def reset(self, key_id: str | None = None) -> None:
        """Forget the windows of ``key_id`` (every key when None): the quota refills."""
        if key_id is None:
            self._windows.clear()
            return
        for name in [k for k in self._windows if k.split("/")[0] == key_id]:
            del self._windows[name]


def _policy_key(key_id: str, index: int) -> str:
    return key_id if index == 0 else f"{key_id}/{index}"
