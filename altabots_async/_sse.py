"""Streamed replies on the wire: a tolerant parser (sans-I/O) and typed events.

The wire framing is unconfirmed: the docs print bare JSON objects, one per line (one example
glues two objects with no newline between them), while integrations read ``data: {...}``
Server-Sent Events. :class:`EventParser` accepts all of these:

* the body is split on ``\\n`` (a trailing ``\\r`` is dropped);
* an optional ``data:`` prefix is removed; blank lines and ``event:``, ``id:``, ``retry:`` and
  ``:`` (comment / keep-alive) lines are skipped;
* a line may hold several JSON objects back to back (decoded with ``raw_decode``); a JSON value
  that is cut at the end of a line (a multi-line ``data:`` field, pretty-printed JSON) is
  joined with the next line; anything else that does not decode is a malformed event;
* every event must be an object with an integer ``code``; known codes become typed events
  (:func:`to_event`), unknown codes an :class:`UnknownEvent` (never fatal); code 0 ends the
  stream;
* no event, and no unterminated line, may exceed ``MAX_SSE_EVENT_BYTES`` (8 MiB):
  :class:`ResponseTooLargeError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._constants import MAX_SSE_EVENT_BYTES
from ._convert import structure
from ._exceptions import ResponseTooLargeError, ResponseValidationError, StreamError
from .types.conversations import (
    AudioDeltaEvent,
    CitationEvent,
    CorrelateAttachmentEvent,
    CorrelatedAttachment,
    CostEvent,
    EndEvent,
    FlowOutputEvent,
    FlowOutputItem,
    MessageInfoEvent,
    StreamCitation,
    StreamEvent,
    TextDeltaEvent,
    ThoughtEvent,
    TokenUsage,
    ToolCallEvent,
    ToolResultEvent,
    UnknownEvent,
)

__all__ = ["EventParser", "to_event"]

_decoder = json.JSONDecoder()
_SKIP_PREFIXES = ("event:", "id:", "retry:", ":")
_STRUCTURAL = re.compile(r'\\.|["{}\[\]]', re.DOTALL)
"""What changes the bracket depth of JSON text: an escape pair, a quote, a bracket."""


def _incomplete(text: str, error: json.JSONDecodeError) -> bool:
    """Whether ``text`` failed only because the JSON value continues past its end."""
    return error.pos >= len(text) or error.msg.startswith("Unterminated string")


class EventParser:
    """Sans-I/O: bytes in, decoded event objects (dicts) out. See the module docstring."""

    def __init__(self, max_event_bytes: int = MAX_SSE_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self._buffer = bytearray()
        # An unfinished JSON value, kept as parts (joined only to decode) with its bracket
        # depth outside strings, scanned once per character: it is decoded again only when
        # a line may have closed it. (Joining and re-decoding on every line was quadratic:
        # 8 MiB of short continuation lines took minutes.)
        self._parts: list[str] = []
        self._pending_size = 0
        self._depth = 0
        self._in_string = False

    @property
    def _pending(self) -> str:
        return "".join(self._parts)

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Parse every complete line of ``chunk`` (with what was buffered before)."""
        self._buffer += chunk
        events: list[dict[str, Any]] = []
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                break
            line = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            events.extend(self._line(line))
        if len(self._buffer) + self._pending_size > self.max_event_bytes:
            raise ResponseTooLargeError(
                f"a stream event exceeds {self.max_event_bytes} bytes without ending"
            )
        return events

    def close(self) -> list[dict[str, Any]]:
        """At EOF: parse an unterminated last line; a half-received event is malformed."""
        events = self._line(bytes(self._buffer)) if self._buffer else []
        self._buffer.clear()
        if self._parts and self._pending.strip():
            raise StreamError("malformed stream event: the stream ended inside a JSON value")
        return events

    def _line(self, raw: bytes) -> list[dict[str, Any]]:
        if len(raw) > self.max_event_bytes:
            raise ResponseTooLargeError(f"a stream event exceeds {self.max_event_bytes} bytes")
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise StreamError("malformed stream event: not UTF-8") from None
        stripped = line.strip()
        if not stripped:
            if self._parts:  # an SSE event boundary inside an unfinished value
                raise StreamError("malformed stream event: " + _excerpt(self._pending))
            return []
        if stripped.startswith("data:"):
            stripped = stripped[5:].strip()
        elif stripped.startswith(_SKIP_PREFIXES):
            return []
        if self._parts:
            self._parts.append("\n" + stripped)
            self._pending_size += 1 + len(stripped)
            if not self._may_close(stripped):
                return []
            text = self._pending
            self._parts.clear()
            self._pending_size = 0
            return self._decode(text)
        return self._decode(stripped)

    def _may_close(self, addition: str) -> bool:
        """Scan ``addition`` (appended to the unfinished value); True when the brackets
        are balanced again outside strings, so decoding may now succeed."""
        depth, in_string = self._depth, self._in_string
        for match in _STRUCTURAL.finditer(addition):
            piece = match.group()  # an escape pair inside a string changes nothing
            if in_string:
                in_string = piece != '"'
            elif piece == '"':
                in_string = True
            elif piece in ("{", "["):
                depth += 1
            elif piece in ("}", "]"):
                depth -= 1
        self._depth, self._in_string = depth, in_string
        return depth <= 0 and not in_string

    def _start_pending(self, rest: str) -> None:
        self._parts = [rest]
        self._pending_size = len(rest)
        self._depth, self._in_string = 0, False
        self._may_close(rest)

    def _decode(self, text: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        position = 0
        length = len(text)
        while True:
            while position < length and text[position] in " \t\r\n":
                position += 1
            if position >= length:
                return events
            try:
                value, position = _decoder.raw_decode(text, position)
            except json.JSONDecodeError as exc:
                rest = text[position:]
                if _incomplete(rest, json.JSONDecodeError(exc.msg, rest, exc.pos - position)):
                    if len(rest) > self.max_event_bytes:
                        raise ResponseTooLargeError(
                            f"a stream event exceeds {self.max_event_bytes} bytes"
                        ) from None
                    self._start_pending(rest)
                    return events
                raise StreamError("malformed stream event: " + _excerpt(rest)) from None
            except RecursionError:
                raise StreamError("malformed stream event: nested too deeply") from None
            if not isinstance(value, dict):
                raise StreamError(
                    f"malformed stream event: a {type(value).__name__}, not an object"
                )
            code = value.get("code")
            if isinstance(code, str) and code.strip().lstrip("-").isdigit():
                code = int(code)
                value = {**value, "code": code}
            if isinstance(code, bool) or not isinstance(code, int):
                raise StreamError("malformed stream event: no integer 'code'")
            events.append(value)


def _excerpt(text: str) -> str:
    return repr(text[:80])


def _as_list(data: Any) -> list[Any]:
    if data is None:
        return []
    return data if isinstance(data, list) else [data]


def to_event(obj: dict[str, Any]) -> StreamEvent:
    """A decoded event object as its typed event (StreamError when the data does not fit)."""
    code: int = obj["code"]
    message = obj.get("message") if isinstance(obj.get("message"), str) else None
    data = obj.get("data")
    common: dict[str, Any] = {"message": message, "raw": obj}
    try:
        if code == 11:
            message_id = data.get("message_id") if isinstance(data, dict) else None
            return MessageInfoEvent(code, None if message_id is None else str(message_id), **common)
        if code == 3:
            if data is not None and not isinstance(data, str):
                raise ValueError(f"text delta is a {type(data).__name__}, not a string")
            return TextDeltaEvent(code, data or "", **common)
        if code == 39:
            audio = data if isinstance(data, dict) else {}
            return AudioDeltaEvent(
                code,
                str(audio.get("audioAnswer") or ""),
                str(audio.get("transcript") or ""),
                **common,
            )
        if code == 10:
            items = structure(_as_list(data), list[FlowOutputItem])
            component = obj.get("componentId")
            return FlowOutputEvent(
                code, items, None if component is None else str(component), **common
            )
        if code == 4:
            return CostEvent(code, structure(data or {}, TokenUsage), **common)
        if code == 20:
            raw = [
                item["citation"] if isinstance(item, dict) and "citation" in item else item
                for item in _as_list(data)
            ]
            return CitationEvent(code, structure(raw, list[StreamCitation]), **common)
        if code == 83:
            attachments = structure(_as_list(data), list[CorrelatedAttachment])
            return CorrelateAttachmentEvent(code, attachments, **common)
        if code == 5:
            return ToolCallEvent(code, data, **common)
        if code == 6:
            return ToolResultEvent(code, data, **common)
        if code == 41:
            return ThoughtEvent(code, data, **common)
        if code == 0:
            return EndEvent(code, **common)
    except (ResponseValidationError, ValueError, AttributeError) as exc:
        raise StreamError(f"malformed stream event (code {code}): {exc}") from None
    return UnknownEvent(code, data, **common)
