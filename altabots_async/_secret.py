"""The API key, wrapped so that it never shows in a repr, str, log line or exception."""

from __future__ import annotations

import hashlib
import os
from typing import Final

from ._exceptions import ConfigurationError

_DOMAIN: Final = b"altabots-async/v1\x00"


def fingerprint(raw: str) -> str:
    """A short, domain-separated SHA-256 fingerprint of a key (safe to print or store)."""
    return hashlib.sha256(_DOMAIN + raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def key_id(raw: str) -> str:
    """128-bit domain-separated id of a key, used to name shared state (Redis keys)."""
    return hashlib.sha256(_DOMAIN + raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def key_problem(value: object) -> str | None:
    """What is wrong with a key (named, never echoed), or None when it is acceptable.

    Surrounding whitespace (a secret file read with its newline, a ``.env`` saved with CRLF)
    is allowed and stripped; what is left must be non-empty visible ASCII.
    """
    if not isinstance(value, str):
        return "api_key must be a str"
    stripped = value.strip(" \t\r\n")
    if not stripped:
        return "api_key is empty"
    for index, char in enumerate(stripped):
        if not ("!" <= char <= "~"):
            kind = (
                "a control character"
                if ord(char) < 32 or ord(char) == 127
                else "whitespace"
                if char.isspace()
                else "a non-ASCII character"
            )
            return (
                f"api_key contains {kind} at position {index}; "
                "keys are visible ASCII (check for a stray newline or copy-paste artefact)"
            )
    return None


def load_key(api_key: str | None, env_name: str) -> ApiKey:
    """The key given, else the environment's, checked (:class:`ConfigurationError` naming
    the problem, raised with the key out of every local of this frame)."""
    raw = api_key if api_key is not None else os.environ.get(env_name)
    del api_key
    if raw is None or not isinstance(raw, str) or not raw.strip():
        problem = key_problem(raw) if raw is not None and not isinstance(raw, str) else None
        del raw
        raise ConfigurationError(
            problem or f"no API key: pass api_key=... or set the {env_name} environment variable"
        )
    problem = key_problem(raw)
    if problem is not None:
        del raw  # error trackers and --showlocals capture frame locals
        raise ConfigurationError(problem)
    return ApiKey(raw)


class ApiKey:
    """An API key. ``repr``/``str`` show only a fingerprint; ``reveal()`` gives the value.

    Validation at construction: surrounding whitespace (a secret file read with its newline,
    a ``.env`` saved with CRLF) is stripped; what is left must be non-empty visible ASCII
    (no CR, LF, NUL, spaces or other control or non-ASCII characters). A bad key raises
    :class:`ConfigurationError` naming the problem, never the value.
    """

    __slots__ = ("_fingerprint", "_value")

    def __init__(self, value: str) -> None:
        problem = key_problem(value)
        if problem is not None:
            del value  # not in this frame's locals when the error's traceback is captured
            raise ConfigurationError(problem)
        self._value = value.strip(" \t\r\n")
        self._fingerprint = fingerprint(self._value)

    @property
    def fingerprint(self) -> str:
        """A 16-hex-digit fingerprint, safe to show."""
        return self._fingerprint

    def reveal(self) -> str:
        """The key itself. Only for building the Authorization header."""
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey(fingerprint={self._fingerprint!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("ApiKey cannot be pickled")
