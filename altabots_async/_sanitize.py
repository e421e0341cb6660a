"""Copies without secrets: requests, responses, foreign exceptions, server text.

What an error of ours may refer to, and what may be printed:

* a request or a response it carries is a copy without credential headers (``Authorization``,
  ``Proxy-Authorization``, cookies) and without the stream of the HTTP stack below (an aiohttp
  response holds the request headers unmasked);
* its cause is a *sanitised copy* of the foreign exception: same type name, same module, same
  message (key redacted, a message that mentions request headers withheld), no traceback, no
  attributes, chained the same way to sanitised copies of its own causes (a few levels);
* a key the server echoes is masked wherever it is found, whole or as a fragment of at least
  ``MIN_FRAGMENT`` characters (a server that cut the echo, a cut of ours);
* server text printed on a terminal has its control characters escaped (:func:`printable`).

Nothing here imports the HTTP stacks beyond httpx.
"""

from __future__ import annotations

import re
from typing import Any, Final, Protocol

import httpx

__all__ = [
    "MIN_FRAGMENT",
    "SanitisedError",
    "printable",
    "redact",
    "safe_request",
    "safe_response",
    "safe_text",
    "sanitised_copy",
]

CREDENTIAL_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
_BODY_HEADERS: Final = frozenset({"content-encoding", "content-length", "transfer-encoding"})
SCRUBBED: Final = "altabots_scrubbed"
"""Marks a response copy made by :func:`safe_response` (``extensions`` key)."""
MIN_FRAGMENT: Final = 8
"""A piece of the key this long (or longer) is masked wherever it shows."""
_MAX_CHAIN: Final = 4
_MAX_TEXT: Final = 300
_WITHHELD: Final = "(details withheld: the error text mentioned request headers)"


class _Secret(Protocol):
    def reveal(self) -> str: ...


Secret = _Secret | str | None


def _reveal(secret: Secret) -> str | None:
    if secret is None or isinstance(secret, str):
        return secret or None
    return secret.reveal() or None


def _fragments(secret: str) -> re.Pattern[str]:
    grams = {secret[i : i + MIN_FRAGMENT] for i in range(len(secret) - MIN_FRAGMENT + 1)}
    return re.compile("|".join(sorted(map(re.escape, grams))))


def _mask(text: str, secret: str) -> str:
    if secret in text:
        text = text.replace(secret, "***")
    if len(secret) < MIN_FRAGMENT:
        return text
    pattern = _fragments(secret)
    match = pattern.search(text)
    if match is None:
        return text
    parts: list[str] = []
    plain = 0
    while match is not None:
        start, end = match.start(), match.end()
        while end < len(text) and text[start : end + 1] in secret:
            end += 1  # the longest piece of the key that starts here
        parts += [text[plain:start], "***"]
        plain = end
        match = pattern.search(text, end)
    parts.append(text[plain:])
    return "".join(parts)


def redact(value: Any, secret: Secret, depth: int = 0) -> Any:
    """``value`` with the key masked as ``***`` in its strings, whole or as a fragment of
    ``MIN_FRAGMENT``+ characters (dicts and lists walked to a bounded depth; deeper data is
    dropped). Redact *before* truncating: a cut through the key leaves no piece behind."""
    raw = _reveal(secret)
    if raw is None:
        return value
    if isinstance(value, str):
        return _mask(value, raw)
    if depth > 64:
        return None
    if isinstance(value, dict):
        return {redact(k, raw, depth + 1): redact(v, raw, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, raw, depth + 1) for item in value]
    return value


def safe_text(exc: BaseException, secret: Secret = None, limit: int = _MAX_TEXT) -> str:
    """An exception's text, key redacted, withheld if it mentions request headers, cut."""
    try:
        text = str(exc)
    except Exception:  # a broken __str__ is not worth an error of its own
        text = ""
    lowered = text.lower()
    if "bearer" in lowered or "authorization" in lowered:
        return _WITHHELD
    return str(redact(text, secret))[:limit]


def safe_request(request: httpx.Request | None) -> httpx.Request | None:
    """A copy of ``request`` without credential headers, body or extensions."""
    if request is None:
        return None
    headers = [
        (name, value)
        for name, value in request.headers.multi_items()
        if name.lower() not in CREDENTIAL_HEADERS
    ]
    return httpx.Request(request.method, request.url, headers=headers)


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:  # a response built without one
        return None


def safe_response(
    response: httpx.Response, *, content: bytes | None = None, secret: Secret = None
) -> httpx.Response:
    """A buffered copy of ``response``: its headers (minus cookies), ``content`` (the decoded
    body, key redacted; default: what was read, else empty) and a :func:`safe_request`."""
    if response.extensions.get(SCRUBBED):
        return response
    if content is None:
        content = response.content if hasattr(response, "_content") else b""
    raw = _reveal(secret)
    if raw is not None and raw.encode("ascii", "ignore") in content:
        content = content.replace(raw.encode("ascii", "ignore"), b"***")
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _BODY_HEADERS and name.lower() not in CREDENTIAL_HEADERS
    ]
    extensions = {k: v for k, v in response.extensions.items() if k.startswith("altabots")}
    extensions[SCRUBBED] = True
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=safe_request(_request_of(response)),
        extensions=extensions,
    )


class SanitisedError(Exception):
    """Base of the stand-ins :func:`sanitised_copy` makes for exceptions of other libraries:
    each stand-in class carries the original's name and module, and only its message."""

    def __reduce__(self) -> tuple[Any, ...]:
        original = type(self)
        return (_rebuild, (original.__module__, original.__qualname__, str(self)))


_STAND_INS: dict[tuple[str, str], type[SanitisedError]] = {}


def _stand_in(module: str, qualname: str) -> type[SanitisedError]:
    cls = _STAND_INS.get((module, qualname))
    if cls is None:
        if len(_STAND_INS) >= 256:
            _STAND_INS.clear()
        name = qualname.rsplit(".", 1)[-1]
        cls = type(name, (SanitisedError,), {"__module__": module, "__qualname__": qualname})
        _STAND_INS[(module, qualname)] = cls
    return cls


def _rebuild(module: str, qualname: str, message: str) -> SanitisedError:
    return _stand_in(module, qualname)(message)


def _copy_one(exc: BaseException, secret: Secret) -> BaseException:
    text = safe_text(exc, secret)
    if isinstance(exc, httpx.TransportError):
        try:
            return type(exc)(text)  # httpx's own class, without the request it referred to
        except TypeError:
            pass
    if isinstance(exc, SanitisedError):
        return exc
    return _stand_in(type(exc).__module__, type(exc).__qualname__)(text)


def sanitised_copy(exc: BaseException, secret: Secret = None) -> BaseException:
    """A stand-in for ``exc`` and its causes that refers to nothing of theirs (see the module
    docstring): safe to chain from, to render with frame locals, and to pickle (by value)."""
    head = _copy_one(exc, secret)
    tail, current = head, exc
    for _ in range(_MAX_CHAIN - 1):
        nxt = current.__cause__
        if nxt is None and not current.__suppress_context__:
            nxt = current.__context__
        if nxt is None:
            break
        copy = _copy_one(nxt, secret)
        tail.__cause__ = copy
        tail.__suppress_context__ = True
        tail, current = copy, nxt
    return head


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters (C0, DEL, C1: terminal escape sequences, window
    titles, clear-screen) shown as ``\\xNN``; ``keep_newlines`` keeps ``\\n`` and ``\\t``.
    Lone surrogates become ``\\udXXX`` escapes, so the result always encodes."""
    value = str(text)
    pattern = _CONTROL_KEEP_LINES if keep_newlines else _CONTROL
    value = pattern.sub(_escape, value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value
