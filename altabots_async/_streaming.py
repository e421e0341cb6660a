"""Streamed replies (``response_mode="streaming"``, REFERENCE §4.2): a tolerant parser and
the :class:`MessageStream` users iterate.

The wire framing is unconfirmed: the docs print bare JSON objects, one per line (one example
glues two objects with no newline between them), while integrations read ``data: {...}``
Server-Sent Events. :class:`EventParser` accepts all of these:

* the body is split on ``\\n`` (a trailing ``\\r`` is dropped);
* an optional ``data:`` prefix is removed; blank lines and ``event:``, ``id:``, ``retry:`` and
  ``:`` (comment / keep-alive) lines are skipped;
* a line may hold several JSON objects back to back (decoded with ``raw_decode``); a JSON value
  that is cut at the end of a line (a multi-line ``data:`` field, pretty-printed JSON) is
  joined with the next line; anything else that does not decode is a malformed event;
* every event must be an object with an integer ``code``; known codes become typed events,
  unknown codes an :class:`UnknownEvent` (never fatal); code 0 ends the stream;
* no event, and no unterminated line, may exceed ``MAX_SSE_EVENT_BYTES`` (8 MiB):
  :class:`ResponseTooLargeError`.

Failure rules of :class:`MessageStream`: EOF before code 0, a transport error or a malformed
event raise :class:`StreamError` carrying the text received so far (``partial_text``); the
HTTP response is closed whenever iteration stops (end, error, ``break`` inside ``async with``,
cancellation).

Bounds of a whole stream (the client's ``max_stream_bytes`` / ``max_stream_events``, handed
over on the response as :class:`~._options.StreamSettings`): more decoded bytes or events
than that raise :class:`ResponseTooLargeError` (a few KiB of gzip can carry millions of tiny
events). Only the last ``STREAM_EVENTS_KEPT`` (1,000) event objects stay in
:attr:`MessageStream.events`; the text, citations, flow outputs and usage are accumulated
as they come. When the call has a ``deadline``, every read waits at most what is left of it;
past it, :class:`APITimeoutError`.
"""

from __future__ import annotations

import contextlib
import json
import re
import weakref
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import anyio
import httpx

from ._body import iter_decoded
from ._boundary import guarded_chunks
from ._constants import (
    MAX_SSE_EVENT_BYTES,
    MAX_STREAM_BYTES,
    MAX_STREAM_EVENTS,
    STREAM_EVENTS_KEPT,
)
from ._convert import structure
from ._exceptions import (
    AltaBotsError,
    APIConnectionError,
    APITimeoutError,
    ResponseTooLargeError,
    ResponseValidationError,
    StreamError,
)
from ._options import STREAM_EXTENSION, StreamSettings
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
    MessageReply,
    OutputContent,
    OutputItem,
    StreamCitation,
    StreamEvent,
    TextDeltaEvent,
    ThoughtEvent,
    TokenUsage,
    ToolCallEvent,
    ToolResultEvent,
    UnknownEvent,
    Usage,
)

__all__ = ["EventParser", "MessageStream", "MessageStreamError", "to_event"]

DRAIN_AFTER_END_SECONDS = 1.0
"""After the end event, how long the rest of the body (normally nothing) may take to arrive."""
_SKIP_PREFIXES = ("event:", "id:", "retry:", ":")
_decoder = json.JSONDecoder()
_STRUCTURAL = re.compile(r'\\.|["{}\[\]]', re.DOTALL)
"""What changes the bracket depth of JSON text: an escape pair, a quote, a bracket."""


class MessageStreamError(StreamError):
    """A streamed reply broke off or carried a malformed event.

    Attributes:
        partial_text: the reply text received before the failure.
        message_id: the reply's id, when its first event arrived.
    """

    def __init__(self, message: str, *, partial_text: str = "", message_id: str | None = None):
        super().__init__(message)
        self.partial_text = partial_text
        self.message_id = message_id


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


Opener = Callable[[], Awaitable[httpx.Response]]
_DEFAULT_SETTINGS = StreamSettings(max_bytes=MAX_STREAM_BYTES, max_events=MAX_STREAM_EVENTS)


def _settings_of(response: httpx.Response) -> StreamSettings:
    settings = response.extensions.get(STREAM_EXTENSION)
    return settings if isinstance(settings, StreamSettings) else _DEFAULT_SETTINGS


def _request_of(response: httpx.Response) -> httpx.Request:
    try:
        return response.request
    except RuntimeError:  # a response built by hand, without a request
        return httpx.Request("GET", "http://stream.invalid/")


class MessageStream:
    """A streamed reply: ``async with`` it and/or ``async for`` its typed events.

    Example::

        async with client.conversations.stream_message(cid, "hi") as stream:
            async for event in stream:
                if isinstance(event, TextDeltaEvent):
                    print(event.text, end="")
        print(stream.text, stream.message_id)

    Without ``async with`` (``async for event in client.conversations.stream_message(...)``)
    the response is closed when the stream ends or fails, and after a ``break`` when the
    iterator is finalized; ``async with`` closes it at the end of the block, deterministically.
    Iterate once; :meth:`final` reads what is left and returns the whole reply.

    Under trio, stopping before the body's end (at code 0, on ``break`` or cancellation) makes
    trio emit a ``ResourceWarning`` about httpx's own body generators when they are collected;
    the response is closed all the same.
    """

    def __init__(
        self,
        opener: Opener,
        *,
        conversation_id: str,
        max_event_bytes: int = MAX_SSE_EVENT_BYTES,
    ) -> None:
        self._opener = opener
        self.conversation_id = conversation_id
        self.max_event_bytes = max_event_bytes
        self.response: httpx.Response | None = None
        self.message_id: str | None = None
        self.usage: TokenUsage | None = None
        self.events: deque[StreamEvent] = deque(maxlen=STREAM_EVENTS_KEPT)
        """The last ``STREAM_EVENTS_KEPT`` (1,000) events; :attr:`event_count` counts all."""
        self.event_count = 0
        self.received_bytes = 0
        self.citations: list[StreamCitation] = []
        self.flow_outputs: list[FlowOutputItem] = []
        self.done = False
        self._deltas: list[str] = []
        # A weak reference: ``async for ... break`` without ``async with`` drops the last
        # strong one, and the event loop's async-generator hook then closes the response.
        self._iterator: weakref.ref[AsyncGenerator[StreamEvent, None]] | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "done" if self.done else "closed" if self._closed else "open"
        return (
            f"<MessageStream conversation_id={self.conversation_id!r} "
            f"message_id={self.message_id!r} {state} chars={len(self.text)}>"
        )

    @property
    def text(self) -> str:
        """The reply text received so far (text deltas; flow outputs when there are none)."""
        if self._deltas:
            return "".join(self._deltas)
        return "".join(item.content or "" for item in self.flow_outputs)

    async def _open(self) -> httpx.Response:
        if self._closed:
            raise StreamError("this stream is closed")
        if self.response is None:
            self.response = await self._opener()
        return self.response

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._iterator is not None:
            raise StreamError("a MessageStream can be iterated only once")
        iterator = self._iterate()
        self._iterator = weakref.ref(iterator)
        return iterator

    async def aclose(self) -> None:
        """Stop iterating and close the HTTP response (idempotent)."""
        self._closed = True
        iterator = self._iterator() if self._iterator is not None else None
        with anyio.CancelScope(shield=True):
            if iterator is not None:
                # RuntimeError: closed from another task while it is running
                with contextlib.suppress(RuntimeError):
                    await iterator.aclose()
            if self.response is not None:
                await self.response.aclose()

    def _error(self, message: str) -> MessageStreamError:
        return MessageStreamError(
            f"{message} (after {self.event_count} events; partial text kept)",
            partial_text=self.text,
            message_id=self.message_id,
        )

    def _apply(self, event: StreamEvent) -> None:
        self.events.append(event)
        self.event_count += 1
        if isinstance(event, MessageInfoEvent):
            self.message_id = event.message_id
        elif isinstance(event, TextDeltaEvent):
            self._deltas.append(event.text)
        elif isinstance(event, FlowOutputEvent):
            self.flow_outputs.extend(event.items)
        elif isinstance(event, CostEvent):
            self.usage = event.usage
        elif isinstance(event, CitationEvent):
            self.citations.extend(event.citations)
        elif isinstance(event, EndEvent):
            self.done = True

    async def _iterate(self) -> AsyncGenerator[StreamEvent, None]:
        parser = EventParser(self.max_event_bytes)
        try:
            response = await self._open()
            settings = _settings_of(response)
            # compressed bodies inflate in bounded steps; failures below HTTP become ours
            body = guarded_chunks(iter_decoded(response), _request_of(response))
            async with contextlib.aclosing(body) as chunks:
                while True:
                    chunk = await self._next_chunk(chunks, settings)
                    if chunk is None:
                        break
                    for obj in self._feed(parser, chunk, settings):
                        event = self._decode(obj, settings)
                        yield event
                        if self.done:
                            break
                    if self.done:
                        await self._drain(chunks)
                        return
            for obj in self._parsed(parser.close):
                event = self._decode(obj, settings)
                yield event
                if self.done:
                    return
            raise self._error("the stream ended before its end event (code 0)")
        finally:
            self._closed = True
            if self.response is not None:
                with anyio.CancelScope(shield=True):
                    await self.response.aclose()

    async def _next_chunk(
        self, chunks: AsyncIterator[bytes], settings: StreamSettings
    ) -> bytes | None:
        """The next decoded chunk (None at EOF), within the call's deadline."""
        try:
            if settings.deadline_at is None:
                return await chunks.__anext__()
            with anyio.move_on_after(settings.deadline_at - anyio.current_time()):
                return await chunks.__anext__()
        except StopAsyncIteration:
            return None
        except APIConnectionError as exc:  # a timeout or a failure below HTTP mid-stream
            raise self._error(f"the stream broke off: {exc}") from exc
        raise APITimeoutError(
            f"streamed reply: the call's deadline passed after {self.event_count} events",
            request=_request_of(self.response) if self.response is not None else None,
        )

    def _feed(self, parser: EventParser, chunk: bytes, settings: StreamSettings) -> list[Any]:
        self.received_bytes += len(chunk)
        if self.received_bytes > settings.max_bytes:
            raise ResponseTooLargeError(
                f"the streamed reply exceeds {settings.max_bytes} bytes once decoded"
            )
        return self._parsed(lambda: parser.feed(chunk))

    def _parsed(self, step: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        try:
            return step()
        except MessageStreamError:
            raise
        except StreamError as exc:
            raise self._error(str(exc)) from None

    async def _drain(self, chunks: AsyncIterator[bytes]) -> None:
        """After code 0: read to EOF, briefly and unparsed, so that httpx's body generators
        finish (a server normally ends the body right after code 0)."""
        drained = 0
        with (
            anyio.move_on_after(DRAIN_AFTER_END_SECONDS),
            contextlib.suppress(httpx.HTTPError, AltaBotsError),
        ):
            async for chunk in chunks:
                drained += len(chunk)
                if drained > self.max_event_bytes:
                    break

    def _decode(self, obj: dict[str, Any], settings: StreamSettings) -> StreamEvent:
        if self.event_count >= settings.max_events:
            raise ResponseTooLargeError(f"the streamed reply exceeds {settings.max_events} events")
        try:
            event = to_event(obj)
        except StreamError as exc:
            raise self._error(str(exc)) from None
        self._apply(event)
        return event

    async def until_done(self) -> None:
        """Consume the remaining events (started or not)."""
        if self.done:
            return
        if self._iterator is None:
            iterator: AsyncIterator[StreamEvent] | None = self.__aiter__()
        else:
            iterator = self._iterator()
        if iterator is not None:
            async for _ in iterator:
                pass
        if not self.done:
            raise self._error("the stream was closed before its end event (code 0)")

    async def final(self) -> MessageReply:
        """Read to the end and return the whole reply as a :class:`MessageReply`.

        ``output`` holds one item with the streamed text, or the flow outputs when the agent
        sent no text deltas; ``usage.tokens`` is the code-4 cost (streams carry no credits);
        ``create_time`` is None (streams do not send it). Citations are in :attr:`citations`.
        """
        await self.until_done()
        if self._deltas:
            output = [OutputItem(content=OutputContent(text="".join(self._deltas)))]
        else:
            output = [
                OutputItem(
                    from_component_branch=item.branch,
                    from_component_name=item.from_component_name,
                    content=OutputContent(text=item.content),
                )
                for item in self.flow_outputs
            ]
        return MessageReply(
            conversation_id=self.conversation_id,
            message_id=self.message_id or "",
            output=output,
            usage=Usage(tokens=self.usage) if self.usage is not None else None,
        )

    get_final_reply = final

    async def get_final_text(self) -> str:
        """Read to the end and return the reply text."""
        await self.until_done()
        return self.text
