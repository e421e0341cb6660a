"""Pure quota accounting per key, in the window kinds real limiters use (no I/O, time passed in).

* ``"fixed"``: fixed windows, anchored at the epoch (``floor(now / period) * period``, as the
  AltaBots plans and GitHub do) or at the first request after the previous window closed
  (slowapi / ``limits``' fixed window from the first hit). Reset: the window's end.
* ``"moving"``: a true sliding log (``limits``' moving window): at most ``limit`` requests in
  any ``period``. Remaining: ``limit`` minus the requests of the last ``period``; Reset: when
  the oldest of them leaves the log (capacity comes back one request at a time).
* ``"sliding"``: the sliding-window counter (``limits``' sliding window, Cloudflare's): the
  previous fixed window's count weighted by the share of it still inside ``period``, plus the
  current window's count. Reset: the current fixed window's end.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Literal, TypeAlias

import attrs

from ._plan import Plan

__all__ = ["QuotaBook", "QuotaSnapshot", "WindowAnchor", "WindowKind"]

WindowAnchor: TypeAlias = Literal["epoch", "first_request"]
WindowKind: TypeAlias = Literal["fixed", "moving", "sliding"]


@attrs.frozen
class QuotaSnapshot:
    """One key's current window as the server sees it.

    Attributes:
        limit: the plan's limit.
        used: requests counted in this window (outside consumption included; for a sliding
            counter, the weighted count rounded up).
        window_start: server time the window opened, epoch seconds (for a moving window, the
            fixed window the time falls in: what the log's per-window statistics use).
        window_end: server time capacity next comes back (the Reset), epoch seconds.
        period: the plan's period in seconds (None: ``window_end - window_start``).
    """

    limit: int
    used: int
    window_start: float
    window_end: float
    period: float | None = None

    @property
    def period_seconds(self) -> float:
        """The plan's window length."""
        return self.period if self.period is not None else self.window_end - self.window_start

    @property
    def remaining(self) -> int:
        """Requests the window can still count."""
        return max(0, self.limit - self.used)


class _Policy:
    """One key's accounting under one plan (subclasses: the window kinds)."""

    def snapshot(self, plan: Plan, now: float) -> QuotaSnapshot:
        raise NotImplementedError

    def room(self, plan: Plan, now: float) -> int:
        return self.snapshot(plan, now).remaining

    def take(self, plan: Plan, now: float, n: int) -> None:
        raise NotImplementedError


@attrs.define
class _Fixed(_Policy):
    anchor: WindowAnchor
    start: float = -math.inf
    end: float = -math.inf
    used: int = 0

    def _current(self, plan: Plan, now: float) -> None:
        period = plan.period_seconds
        if self.anchor == "epoch":
            start = math.floor(now / period) * period
            if start != self.start or self.end != start + period:
                self.start, self.end, self.used = start, start + period, 0
        elif not self.start <= now < self.end:
            self.start, self.end, self.used = now, now + period, 0

    def snapshot(self, plan: Plan, now: float) -> QuotaSnapshot:
        self._current(plan, now)
        return QuotaSnapshot(plan.limit, self.used, self.start, self.end, plan.period_seconds)

    def take(self, plan: Plan, now: float, n: int) -> None:
        self._current(plan, now)
        self.used += n


@attrs.define
class _Moving(_Policy):
    log: deque[float] = attrs.field(factory=deque)

    def _trim(self, plan: Plan, now: float) -> None:
        horizon = now - plan.period_seconds
        log = self.log
        while log and (log[0] <= horizon or log[0] > now + plan.period_seconds):
            log.popleft()  # expired (or from before a backward clock step)

    def snapshot(self, plan: Plan, now: float) -> QuotaSnapshot:
        self._trim(plan, now)
        period = plan.period_seconds
        end = self.log[0] + period if self.log else now + period
        start = math.floor(now / period) * period
        return QuotaSnapshot(plan.limit, len(self.log), start, end, period)

    def take(self, plan: Plan, now: float, n: int) -> None:
        self._trim(plan, now)
        self.log.extend([now] * n)


@attrs.define
class _Sliding(_Policy):
    start: float = -math.inf
    used: int = 0
    previous: int = 0

    def _current(self, plan: Plan, now: float) -> None:
        period = plan.period_seconds
        start = math.floor(now / period) * period
        if start == self.start:
            return
        self.previous = self.used if start == self.start + period else 0
        self.start, self.used = start, 0

    def _weighted(self, plan: Plan, now: float) -> float:
        share = 1.0 - (now - self.start) / plan.period_seconds
        return self.previous * max(0.0, share) + self.used

    def snapshot(self, plan: Plan, now: float) -> QuotaSnapshot:
        self._current(plan, now)
        used = math.ceil(self._weighted(plan, now) - 1e-9)
        period = plan.period_seconds
        return QuotaSnapshot(plan.limit, used, self.start, self.start + period, period)

    def room(self, plan: Plan, now: float) -> int:
        self._current(plan, now)
        return max(0, math.floor(plan.limit - self._weighted(plan, now) + 1e-9))

    def take(self, plan: Plan, now: float, n: int) -> None:
        self._current(plan, now)
        self.used += n


class QuotaBook:
    """Quota accounting per key in one window kind (see the module docstring).

    Only the state a kind needs is kept per key (the current fixed window; the last period's
    log; two window counts); a clock stepping back opens a new fixed window.
    """

    def __init__(self, anchor: WindowAnchor = "epoch", kind: WindowKind = "fixed") -> None:
        """Accounting in windows of ``kind``; fixed windows are anchored as ``anchor`` says."""
        if anchor not in ("epoch", "first_request"):
            raise ValueError(f"window_anchor must be 'epoch' or 'first_request', got {anchor!r}")
        if kind not in ("fixed", "moving", "sliding"):
            raise ValueError(f"window_kind must be 'fixed', 'moving' or 'sliding', got {kind!r}")
        self.anchor: WindowAnchor = anchor
        self.kind: WindowKind = kind
        self._windows: dict[str, _Policy] = {}

    def _policy(self, key_id: str) -> _Policy:
        policy = self._windows.get(key_id)
        if policy is None:
            if self.kind == "moving":
                policy = _Moving()
            elif self.kind == "sliding":
                policy = _Sliding()
            else:
                policy = _Fixed(self.anchor)
            self._windows[key_id] = policy
        return policy

    def snapshot(self, key_id: str, plan: Plan, now: float) -> QuotaSnapshot:
        """The window ``now`` falls in (opening it if needed), without counting anything."""
        return self._policy(key_id).snapshot(plan, now)

    def try_count(self, key_id: str, plan: Plan, now: float) -> tuple[bool, QuotaSnapshot]:
        """Count one request if the window has room; the snapshot is taken after counting."""
        counted, snap, _ = self.try_count_all(key_id, (plan,), now)
        return counted, snap

    def consume(self, key_id: str, plan: Plan, now: float, n: int) -> tuple[int, QuotaSnapshot]:
        """Count up to ``n`` requests (as many as fit); return how many were counted."""
        taken, _ = self.consume_all(key_id, (plan,), now, n)
        return taken, self.snapshot(key_id, plan, now)

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
        policies = [self._policy(_policy_key(key_id, i)) for i in range(len(plans))]
        counted = all(p.room(plan, now) >= 1 for p, plan in zip(policies, plans, strict=True))
        if counted:
            for policy, plan in zip(policies, plans, strict=True):
                policy.take(plan, now, 1)
        snaps = [p.snapshot(plan, now) for p, plan in zip(policies, plans, strict=True)]
        starts = tuple(s.window_start for s in snaps)
        if counted:
            return True, min(snaps, key=lambda s: (s.remaining, -s.window_end)), starts
        full = [s for s in snaps if s.remaining == 0] or snaps
        return False, max(full, key=lambda s: s.window_end), starts

    def consume_all(
        self, key_id: str, plans: Sequence[Plan], now: float, n: int
    ) -> tuple[int, tuple[float, ...]]:
        """Count up to ``n`` requests in every policy (as many as all have room for)."""
        policies = [self._policy(_policy_key(key_id, i)) for i in range(len(plans))]
        room = min(p.room(plan, now) for p, plan in zip(policies, plans, strict=True))
        taken = max(0, min(n, room))
        for policy, plan in zip(policies, plans, strict=True):
            policy.take(plan, now, taken)
        starts = tuple(
            p.snapshot(plan, now).window_start for p, plan in zip(policies, plans, strict=True)
        )
        return taken, starts

    def reset(self, key_id: str | None = None) -> None:
        """Forget the windows of ``key_id`` (every key when None): the quota refills."""
        if key_id is None:
            self._windows.clear()
            return
        for name in [k for k in self._windows if k.split("/")[0] == key_id]:
            del self._windows[name]


def _policy_key(key_id: str, index: int) -> str:
    return key_id if index == 0 else f"{key_id}/{index}"
