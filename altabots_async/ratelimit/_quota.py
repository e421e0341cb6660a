"""Quota: how many requests an API key may make per window."""

from __future__ import annotations

import math
from typing import ClassVar

import attrs


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Quota.{attribute.name} must be a positive int, got {value!r}")


def _positive_float(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"Quota.{attribute.name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"Quota.{attribute.name} must be finite and > 0, got {value!r}")


@attrs.frozen
class Quota:
    """A request quota: ``limit`` requests per ``period_seconds`` window.

    The presets are the AltaBots plans: ``Quota.FREE`` (100 per day) and
    ``Quota.PROFESSIONAL`` (1,000 per hour); ``Quota.enterprise(limit, period_seconds)``
    builds a custom one. ``quota.scaled(period_seconds)`` keeps the limit over a shorter
    window (tests and demos: "1,000 per 36 s").

    A configured quota is also a cap: rate-limit numbers from the server above it are
    clamped to it (a malicious intermediary cannot raise our send rate).

    Example::

        AsyncAltaBots(api_key="...", quota=Quota.PROFESSIONAL)
    """

    limit: int = attrs.field(validator=_positive_int)
    period_seconds: float = attrs.field(converter=float, validator=_positive_float)

    FREE: ClassVar[Quota]
    PROFESSIONAL: ClassVar[Quota]

    @classmethod
    def enterprise(cls, limit: int, period_seconds: float) -> Quota:
        """A custom (Enterprise contract) quota."""
        return cls(limit, period_seconds)

    def scaled(self, period_seconds: float) -> Quota:
        """The same limit over a different window length."""
        return Quota(self.limit, period_seconds)

    @property
    def rate(self) -> float:
        """Average permits per second."""
        return self.limit / self.period_seconds


Quota.FREE = Quota(100, 86_400.0)
Quota.PROFESSIONAL = Quota(1_000, 3_600.0)
