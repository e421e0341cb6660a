"""Checks made before a request is sent, so that a bad argument never spends quota.

Every check raises :class:`ValidationError` whose ``field`` names the API field at fault. It
is an :class:`InvalidParameterError` (what the other categories raise), a
:class:`ConfigurationError` and a ``ValueError``, so any of those catches it, e.g.::

    ValidationError: user_id: at most 32 characters, got 40

The limits are those stated in REFERENCE.md (§4.1, §6.2); values the reference leaves open
(ids, ``conversation_type``) are only checked for being non-empty strings.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Collection, Mapping, Sequence

from ._checks import InvalidParameterError
from ._exceptions import ConfigurationError

__all__ = [
    "CONTENT_PART_TYPES",
    "FEEDBACK_VALUES",
    "QUALITY_VALUES",
    "RESPONSE_MODES",
    "ROLES",
    "USER_FEEDBACK_VALUES",
    "USER_ID_MAX_LENGTH",
    "ValidationError",
    "check_bool",
    "check_content_parts",
    "check_max_length",
    "check_messages",
    "check_one_of",
    "check_page",
    "check_page_size",
    "check_time_range",
    "require_str",
    "to_millis",
]

USER_ID_MAX_LENGTH = 32
FEEDBACK_VALUES = ("POSITIVE", "NEGATIVE", "CANCELED")
QUALITY_VALUES = ("NONE", "UNRESOLVED", "PARTIALLY_RESOLVED", "FULLY_RESOLVED")
USER_FEEDBACK_VALUES = ("ALL", "NONE", "GOOD", "BAD")
RESPONSE_MODES = ("blocking", "streaming", "webhook")
ROLES = ("user", "assistant")
CONTENT_PART_TYPES = ("text", "image", "audio", "document")


class ValidationError(InvalidParameterError, ConfigurationError):
    """An argument breaks a limit the API documents; raised before anything is sent.

    Attributes:
        field: the API field at fault (``"user_id"``, ``"messages[1].role"``, ...).
        problem: what is wrong with it.
    """


def require_str(field: str, value: object) -> str:
    """``value`` as a non-blank string, or ValidationError."""
    if not isinstance(value, str):
        raise ValidationError(field, f"expected a string, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(field, "is required and must not be empty")
    return value


def check_max_length(field: str, value: str, limit: int) -> str:
    """``value`` when it has at most ``limit`` characters."""
    if len(value) > limit:
        raise ValidationError(field, f"at most {limit} characters, got {len(value)}")
    return value


def check_one_of(field: str, value: object, allowed: Collection[str]) -> str:
    """``value`` when it is one of ``allowed`` (exact spelling)."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed)
        raise ValidationError(field, f"must be one of {choices}, got {value!r}")
    return value


def check_bool(field: str, value: object) -> bool | None:
    """``value`` when it is None or a bool (no truthy strings or ints)."""
    if value is not None and not isinstance(value, bool):
        raise ValidationError(field, f"expected a bool, got {type(value).__name__}")
    return value


def _int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"expected an int, got {type(value).__name__}")
    return value


def check_page(value: object, field: str = "page") -> int:
    """A page number: an int from 1."""
    number = _int(field, value)
    if number < 1:
        raise ValidationError(field, f"pages start at 1, got {number}")
    return number


def check_page_size(value: object, low: int, high: int, field: str = "page_size") -> int:
    """A page size within ``[low, high]`` (the endpoint's documented range)."""
    size = _int(field, value)
    if not low <= size <= high:
        raise ValidationError(field, f"must be between {low} and {high}, got {size}")
    return size


def to_millis(field: str, value: object) -> int:
    """Epoch milliseconds from an int (already ms) or a timezone-aware ``datetime``."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValidationError(field, "a datetime must be timezone-aware")
        return math.floor(value.timestamp() * 1000)
    number = _int(field, value)
    if number < 0:
        raise ValidationError(field, f"epoch milliseconds must be >= 0, got {number}")
    return number


def check_time_range(start: object, end: object) -> tuple[int, int]:
    """(start_time, end_time) in epoch ms, with start <= end."""
    start_ms = to_millis("start_time", start)
    end_ms = to_millis("end_time", end)
    if start_ms > end_ms:
        raise ValidationError("start_time", f"must be <= end_time ({start_ms} > {end_ms})")
    return start_ms, end_ms


def _check_file(field: str, value: object) -> None:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValidationError(field, "needs at least one file")
    for index, item in enumerate(items):
        where = f"{field}[{index}]" if isinstance(value, list) else field
        if not isinstance(item, Mapping):
            raise ValidationError(where, "a file is an object {url | base64_content, format, name}")
        if not item.get("url") and not item.get("base64_content"):
            raise ValidationError(where, "a file needs 'url' or 'base64_content'")


def check_content_parts(field: str, parts: Sequence[object]) -> None:
    """Content parts: ``{type: text, text}`` or ``{type: image|audio|document, <type>: files}``."""
    if not parts:
        raise ValidationError(field, "needs at least one content part")
    for index, part in enumerate(parts):
        where = f"{field}[{index}]"
        if not isinstance(part, Mapping):
            raise ValidationError(where, f"expected an object, got {type(part).__name__}")
        kind = check_one_of(f"{where}.type", part.get("type"), CONTENT_PART_TYPES)
        if kind == "text":
            require_str(f"{where}.text", part.get("text"))
        elif kind not in part:
            raise ValidationError(f"{where}.{kind}", f"a {kind} part needs its {kind!r} files")
        else:
            _check_file(f"{where}.{kind}", part[kind])


def check_messages(messages: object) -> None:
    """Send-message ``messages``: at least one, roles user/assistant, the last one the user's."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise ValidationError("messages", "expected a list of {role, content} objects")
    if not messages:
        raise ValidationError("messages", "needs at least one message")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping):
            raise ValidationError(where, f"expected an object, got {type(message).__name__}")
        check_one_of(f"{where}.role", message.get("role"), ROLES)
        content = message.get("content")
        if isinstance(content, str):
            require_str(f"{where}.content", content)
        elif isinstance(content, Sequence) and not isinstance(content, bytes):
            check_content_parts(f"{where}.content", content)
        else:
            raise ValidationError(f"{where}.content", "expected a string or a list of parts")
    if messages[-1].get("role") != "user":
        raise ValidationError(
            f"messages[{len(messages) - 1}].role", "the last message must be the user's"
        )
