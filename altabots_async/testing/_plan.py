"""Rate-limit plans of the simulated server: limit and period of a fixed window."""

from __future__ import annotations

from typing import ClassVar

import attrs

__all__ = ["Plan"]


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be a positive int, got {value!r}")


def _positive_float(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{attribute.name} must be a positive finite number, got {value!r}")


@attrs.frozen
class Plan:
    """A quota plan: at most ``limit`` counted requests per fixed window of ``period_seconds``.

    The presets mirror the AltaBots plans: ``Plan.FREE`` (100 per day), ``Plan.PROFESSIONAL``
    (1,000 per hour); ``Plan.enterprise(limit, period)`` builds a custom one. Tests shrink a
    period with :meth:`scaled`, so "100 per day" becomes "100 per 2 s" with the same limit.
    """

    FREE: ClassVar[Plan]
    PROFESSIONAL: ClassVar[Plan]

    limit: int = attrs.field(validator=_positive_int)
    period_seconds: float = attrs.field(converter=float, validator=_positive_float)
    name: str = "custom"

    @classmethod
    def enterprise(cls, limit: int, period_seconds: float) -> Plan:
        """An Enterprise plan with a contract-specific limit and period."""
        return cls(limit, period_seconds, "enterprise")

    def scaled(self, period_seconds: float) -> Plan:
        """The same plan (same limit and name) with its window set to ``period_seconds``."""
        return attrs.evolve(self, period_seconds=period_seconds)

    @classmethod
    def parse(cls, text: str) -> Plan:
        """Parse ``free``, ``pro`` / ``professional`` or ``enterprise:LIMIT:PERIOD`` (CLI syntax).

        Raises:
            ValueError: on any other spelling.
        """
        spec = text.strip().lower()
        if spec == "free":
            return cls.FREE
        if spec in ("pro", "professional"):
            return cls.PROFESSIONAL
        parts = spec.split(":")
        if len(parts) == 3 and parts[0] == "enterprise":
            try:
                return cls.enterprise(int(parts[1]), float(parts[2]))
            except ValueError as exc:
                raise ValueError(f"bad enterprise plan {text!r}: {exc}") from None
        raise ValueError(f"unknown plan {text!r}; use free, pro or enterprise:LIMIT:PERIOD_SECONDS")


Plan.FREE = Plan(100, 86_400.0, "free")
Plan.PROFESSIONAL = Plan(1_000, 3_600.0, "professional")
