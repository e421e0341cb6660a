"""Streamed replies (``response_mode="streaming"``, REFERENCE §4.2): the
:class:`MessageStream` users iterate (the wire format and its parser: ``_sse.py``).

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
from ._exceptions import (
    AltaBotsError,
    APIConnectionError,
    APITimeoutError,
    ResponseTooLargeError,
    StreamError,
)
from ._options import STREAM_EXTENSION, StreamSettings
from ._sse import EventParser, to_event
from .types.conversations import (
    CitationEvent,
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
    TokenUsage,
    Usage,
)

__all__ = ["EventParser", "MessageStream", "MessageStreamError", "to_event"]

DRAIN_AFTER_END_SECONDS = 1.0
"""After the end event, how long the rest of the body (normally nothing) may take to arrive."""


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
