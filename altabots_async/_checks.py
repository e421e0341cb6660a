"""Local checks of call arguments, run before a request is built (so no quota is spent).

Each check raises :class:`InvalidParameterError` (a ``ValueError``) naming the field and the
rule it broke, e.g. ``files: at most 20 items per call, got 21``. The limits come from the
API reference (REFERENCE.md §4.3-§4.10); they live in :mod:`._constants`-style module
constants here so that a test can name them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ._exceptions import AltaBotsError

__all__ = [
    "DAY_MS",
    "InvalidParameterError",
    "check_choice",
    "check_count",
    "check_identifier",
    "check_ids",
    "check_int_range",
    "check_length",
    "check_number_range",
    "check_time_range",
    "compact",
    "require",
    "require_text",
    "time_ms",
    "time_range",
]

DAY_MS = 86_400_000
"""One day in milliseconds (time ranges are epoch milliseconds)."""


class InvalidParameterError(AltaBotsError, ValueError):
    """A call argument breaks a documented rule; raised before anything is sent.

    Attributes:
        field: the API field at fault (wire spelling, e.g. ``"files[3].file_name"``).
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def require(field: str, value: Any) -> None:
    """``value`` must be given (not None)."""
    if value is None:
        raise InvalidParameterError(field, "is required")


def require_text(field: str, value: Any, *, max_length: int | None = None) -> str:
    """A non-blank string, at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise InvalidParameterError(field, f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidParameterError(field, "must not be empty")
    if max_length is not None and len(value) > max_length:
        raise InvalidParameterError(field, f"at most {max_length} characters, got {len(value)}")
    return value


def check_length(field: str, value: str | None, low: int, high: int) -> None:
    """A string of ``low``..``high`` characters (None passes: the field is optional)."""
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidParameterError(field, f"must be a string, got {type(value).__name__}")
    if not low <= len(value) <= high:
        raise InvalidParameterError(field, f"must be {low}-{high} characters, got {len(value)}")


def check_int_range(field: str, value: int | None, low: int, high: int) -> None:
    """An int in ``low``..``high`` inclusive (None passes)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(field, f"must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidParameterError(field, f"must be between {low} and {high}, got {value}")


def check_number_range(field: str, value: float | None, low: float, high: float) -> None:
    """A finite number in ``low``..``high`` inclusive (None passes)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(field, f"must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidParameterError(field, f"must be between {low} and {high}, got {value}")


def check_count(field: str, items: Collection[Any] | None, *, high: int, low: int = 0) -> None:
    """A list of ``low``..``high`` items (None passes unless ``low`` > 0)."""
    if items is None:
        if low > 0:
            raise InvalidParameterError(field, "is required")
        return
    if isinstance(items, str | bytes | Mapping):
        raise InvalidParameterError(field, f"must be a list, got {type(items).__name__}")
    count = len(items)
    if count < low:
        raise InvalidParameterError(field, f"needs at least {low} item(s), got {count}")
    if count > high:
        raise InvalidParameterError(field, f"at most {high} items per call, got {count}")


def check_choice(field: str, value: str | None, choices: Iterable[str]) -> None:
    """One of ``choices`` (None passes)."""
    if value is None:
        return
    allowed = tuple(choices)
    if value not in allowed:
        raise InvalidParameterError(field, f"must be one of {', '.join(allowed)}, got {value!r}")


def check_time_range(start_time: int, end_time: int, *, max_days: int | None) -> None:
    """Epoch-millisecond bounds: ints >= 0, start <= end, at most ``max_days`` apart."""
    for name, value in (("start_time", start_time), ("end_time", end_time)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameterError(
                name, f"must be epoch milliseconds (int), got {type(value).__name__}"
            )
        if value < 0:
            raise InvalidParameterError(name, f"must be >= 0, got {value}")
    if end_time < start_time:
        raise InvalidParameterError("end_time", "must not be before start_time")
    if max_days is not None and end_time - start_time > max_days * DAY_MS:
        raise InvalidParameterError("end_time", f"the range may span at most {max_days} days")


_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


def check_identifier(field: str, value: Any, *, max_length: int) -> str:
    """A database name: ``[a-z][a-z0-9_]*``, at most ``max_length`` characters."""
    text = require_text(field, value, max_length=max_length)
    if _IDENTIFIER.fullmatch(text) is None:
        raise InvalidParameterError(
            field, "must start with a lowercase letter and hold only a-z, 0-9 and _"
        )
    return text


def check_ids(field: str, ids: Sequence[str] | None, *, high: int, low: int = 1) -> list[str]:
    """A list of ``low``..``high`` non-empty id strings."""
    check_count(field, ids, low=low, high=high)
    result = list(ids or ())
    for index, value in enumerate(result):
        require_text(f"{field}[{index}]", value)
    return result


def compact(**fields: Any) -> dict[str, Any]:
    """A JSON body or query without the fields left at None."""
    return {key: value for key, value in fields.items() if value is not None}


def time_ms(field: str, value: int | datetime) -> int:
    """Epoch milliseconds from an int (taken as ms) or an aware ``datetime``."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidParameterError(field, "a datetime must be timezone-aware")
        return int(value.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(
            field, f"must be epoch milliseconds (int) or a datetime, got {type(value).__name__}"
        )
    return value


def time_range(
    start_time: int | datetime, end_time: int | datetime, *, max_days: int | None
) -> tuple[int, int]:
    """Both bounds as epoch milliseconds, checked by :func:`check_time_range`."""
    start, end = time_ms("start_time", start_time), time_ms("end_time", end_time)
    check_time_range(start, end, max_days=max_days)
    return start, end
