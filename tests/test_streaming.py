"""Streamed replies (REFERENCE §4.2): the tolerant parser, typed events, and MessageStream's
closing and failure rules, over scripted HTTP and against the simulator."""

from __future__ import annotations

import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

from altabots_async import (
    APIConnectionError,
    AsyncAltaBots,
    MessageStream,
    MessageStreamError,
    NotFoundError,
    ResponseTooLargeError,
    StreamError,
)
from altabots_async._constants import MAX_SSE_EVENT_BYTES
from altabots_async._streaming import EventParser, to_event
from altabots_async.testing import FakeClock, Plan, Simulator
from altabots_async.testing._endpoints.conversations import conversation_store
from altabots_async.types import (
    AudioDeltaEvent,
    CitationEvent,
    CorrelateAttachmentEvent,
    CostEvent,
    EndEvent,
    FlowOutputEvent,
    MessageInfoEvent,
    MessageReply,
    TextDeltaEvent,
    ThoughtEvent,
    ToolCallEvent,
    ToolResultEvent,
    UnknownEvent,
)

# A stream left before the end of its body (break, malformed or oversized event) leaves httpx's
# nested body generators (Response.aiter_raw, BoundAsyncStream.__aiter__) suspended; the HTTP
# response itself is closed (each test asserts it), but trio warns when it collects those
# generator objects, and httpx offers no way to close them all. Those tests ignore that one
# warning; a stream read to its end drains the body and leaves nothing behind.
LEFT_EARLY = pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected")

KEY = "sk-test"
CID = "65a1b2c3d4e5f60718293a4b"


def sse(obj: Any) -> bytes:
    """One ``data:`` SSE event."""
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


FULL = [
    sse({"code": 11, "message": "MessageInfo", "data": {"message_id": "m1"}}),
    sse({"code": 3, "message": "Text", "data": "Hel"}),
    sse({"code": 3, "message": "Text", "data": "lo!"}),
    sse({"code": 4, "message": "Cost", "data": {"prompt_tokens": 2, "total_tokens": 5}}),
    sse({"code": 0, "message": "End", "data": None}),
]


# ----------------------------------------------------------------------------- parser


def parse_all(data: bytes, chunk: int | None = None, cap: int = MAX_SSE_EVENT_BYTES) -> list[Any]:
    """Feed ``data`` in chunks of ``chunk`` bytes (all at once when None), then close."""
    parser = EventParser(cap)
    size = chunk or max(1, len(data))
    found: list[Any] = []
    for start in range(0, len(data), size):
        found += parser.feed(data[start : start + size])
    return found + parser.close()


@pytest.mark.parametrize("chunk", [None, 1, 2, 7, 64])
def test_chunk_boundaries_do_not_matter(chunk: int | None) -> None:
    """The same events come out however the bytes are split."""
    assert [e["code"] for e in parse_all(b"".join(FULL), chunk)] == [11, 3, 3, 4, 0]


def test_bare_json_lines() -> None:
    """Bare JSON objects one per line (the docs' examples) are events."""
    data = b'{"code": 3, "data": "a"}\n{"code": 0, "data": null}\n'

    assert parse_all(data) == [{"code": 3, "data": "a"}, {"code": 0, "data": None}]


def test_concatenated_objects_on_one_line() -> None:
    """Several JSON objects glued on one line are split with raw_decode."""
    data = b'{"code":10,"data":[],"componentId":12}{"code":4,"data":{}} {"code":0}\n'

    assert [e["code"] for e in parse_all(data)] == [10, 4, 0]


def test_sse_noise_is_skipped() -> None:
    """Blank, ``event:``, ``id:``, ``retry:`` and ``:`` comment lines are skipped; CRLF works."""
    data = b': keep-alive\r\nevent: message\r\nid: 7\r\nretry: 100\r\n\r\ndata:{"code":3,"data":"x"}\r\n'

    assert parse_all(data) == [{"code": 3, "data": "x"}]


def test_multiline_json_is_joined() -> None:
    """A JSON value spread over lines (pretty-printed, multi-line data) is joined."""
    data = b'{\n  "code": 3,\n  "data": "x"\n}\ndata: {"code":\ndata: 0}\n\n'

    assert [e["code"] for e in parse_all(data)] == [3, 0]


def test_unterminated_last_line_is_parsed_at_eof() -> None:
    """A last event without a newline is parsed when the stream ends."""
    assert parse_all(b'{"code": 0}') == [{"code": 0}]


def test_numeric_string_code_is_accepted() -> None:
    """A code sent as a numeric string is read as an integer."""
    assert parse_all(b'{"code": "3", "data": "x"}\n') == [{"code": 3, "data": "x"}]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"data: {oops}\n\n", id="not-json"),
        pytest.param(b"data: [1, 2]\n\n", id="not-object"),
        pytest.param(b'data: {"data": "x"}\n\n', id="no-code"),
        pytest.param(b'data: {"code": true}\n\n', id="bool-code"),
        pytest.param(b'data: {"code": 3, "data": \n\n', id="boundary-inside-value"),
        pytest.param(b'{"code": 3, "data": "x"', id="eof-inside-value"),
        pytest.param(b'data: {"code": 3, "data": "\xff"}\n', id="not-utf8"),
    ],
)
def test_malformed_events_raise(data: bytes) -> None:
    """Anything that is not a JSON object with an integer code is a malformed event."""
    with pytest.raises(StreamError, match="malformed"):
        parse_all(data)


def test_oversized_line_raises() -> None:
    """A complete line over the cap raises ResponseTooLargeError."""
    line = b'{"code": 3, "data": "' + b"x" * 100 + b'"}\n'

    with pytest.raises(ResponseTooLargeError):
        parse_all(line, cap=64)


def test_oversized_unterminated_line_raises_while_feeding() -> None:
    """A line that never ends raises as soon as it exceeds the cap, without buffering more."""
    parser = EventParser(64)
    parser.feed(b"data: " + b"x" * 50)

    with pytest.raises(ResponseTooLargeError):
        parser.feed(b"x" * 20)


def test_default_cap_is_8_mib() -> None:
    """The per-event cap defaults to MAX_SSE_EVENT_BYTES (8 MiB)."""
    assert EventParser().max_event_bytes == MAX_SSE_EVENT_BYTES == 8 * 1024 * 1024


# ----------------------------------------------------------------------------- typed events


def test_every_documented_code_has_its_event() -> None:
    """Codes 11, 3, 39, 10, 4, 20, 83, 5, 6, 41 and 0 become typed events; others Unknown."""
    objects = [
        {"code": 11, "message": "MessageInfo", "data": {"message_id": "m1"}},
        {"code": 3, "message": "Text", "data": "Hi"},
        {"code": 39, "message": "Audio", "data": {"audioAnswer": "QUJD", "transcript": "a"}},
        {
            "code": 10,
            "message": "FlowOutput",
            "data": [
                {
                    "content": "out",
                    "branch": "1",
                    "from_component_name": "LLM",
                    "audioDatas": [{"transcript": "t", "url": "https://a/x.mp3", "seconds": 2}],
                }
            ],
            "componentId": 12,
        },
        {
            "code": 4,
            "message": "Cost",
            "data": {
                "prompt_tokens": 1,
                "completion_tokens": 2,
                "total_tokens": 3,
                "completion_tokens_details": {"reasoning_tokens": 1},
            },
        },
        {
            "code": 20,
            "message": "Citation",
            "data": [
                {
                    "citation": {
                        "index": "1",
                        "type": "attachment",
                        "segmentIndex": 3,
                        "timestampMillis": 5,
                        "dataId": "d1",
                        "attachment": {"id": "a", "url": "https://a/f", "name": "f"},
                    }
                }
            ],
        },
        {
            "code": 83,
            "message": "CorrelateAttachment",
            "data": [{"dataId": "d1", "dataName": "f.pdf", "showDocCorrelation": True}],
        },
        {"code": 5, "data": {"tool": "search"}},
        {"code": 6, "data": {"result": 1}},
        {"code": 41, "data": "thinking"},
        {"code": 77, "message": "New", "data": {"x": 1}},
        {"code": 0, "message": "End", "data": None},
    ]

    events = [to_event(obj) for obj in objects]

    assert [type(e) for e in events] == [
        MessageInfoEvent,
        TextDeltaEvent,
        AudioDeltaEvent,
        FlowOutputEvent,
        CostEvent,
        CitationEvent,
        CorrelateAttachmentEvent,
        ToolCallEvent,
        ToolResultEvent,
        ThoughtEvent,
        UnknownEvent,
        EndEvent,
    ]
    info, text, audio, flow, cost, cite, attach, tool, result, thought, unknown, _ = events
    assert isinstance(info, MessageInfoEvent) and info.message_id == "m1"
    assert isinstance(text, TextDeltaEvent) and text.text == "Hi" and text.message == "Text"
    assert isinstance(audio, AudioDeltaEvent) and (audio.audio, audio.transcript) == ("QUJD", "a")
    assert isinstance(flow, FlowOutputEvent) and flow.component_id == "12"
    assert flow.items[0].audio_datas[0].seconds == 2.0
    assert isinstance(cost, CostEvent) and cost.usage.total_tokens == 3
    assert cost.usage.completion_tokens_details is not None
    assert cost.usage.completion_tokens_details.reasoning_tokens == 1
    assert isinstance(cite, CitationEvent) and cite.citations[0].segment_index == 3
    assert cite.citations[0].attachment is not None and cite.citations[0].attachment.url
    assert isinstance(attach, CorrelateAttachmentEvent)
    assert attach.attachments[0].show_doc_correlation is True
    assert isinstance(tool, ToolCallEvent) and tool.data == {"tool": "search"}
    assert isinstance(result, ToolResultEvent) and result.data == {"result": 1}
    assert isinstance(thought, ThoughtEvent) and thought.data == "thinking"
    assert isinstance(unknown, UnknownEvent) and unknown.code == 77
    assert unknown.raw["message"] == "New"


def test_event_with_wrong_data_shape_is_malformed() -> None:
    """A known code whose data does not fit its shape raises StreamError."""
    with pytest.raises(StreamError):
        to_event({"code": 3, "data": {"not": "text"}})
    with pytest.raises(StreamError):
        to_event({"code": 4, "data": {"total_tokens": "lots"}})


# ----------------------------------------------------------------------------- MessageStream


class ScriptedStream(httpx.AsyncByteStream):
    """A response body that yields ``chunks``, then blocks or fails, and records closing."""

    def __init__(
        self,
        chunks: list[bytes],
        *,
        then: str = "end",
        error: Exception | None = None,
    ) -> None:
        self.chunks = chunks
        self.then = then
        self.error = error
        self.sent = 0
        self.closed = False
        self.started = anyio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        self.started.set()
        if self.then == "block":
            await anyio.sleep_forever()
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        self.closed = True


class Server:
    """A MockTransport handler answering the next scripted response, recording requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.next: Callable[[], httpx.Response] = lambda: httpx.Response(200)

    def stream(self, body: ScriptedStream, content_type: str = "text/event-stream") -> None:
        self.next = lambda: httpx.Response(200, headers={"content-type": content_type}, stream=body)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.next()


@pytest.fixture
def server() -> Server:
    """The scripted server."""
    return Server()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[AsyncAltaBots]:
    """A client on the scripted server."""
    transport = httpx.MockTransport(server)
    async with AsyncAltaBots(api_key=KEY, transport=transport, max_retries=0) as client:
        yield client


@pytest.mark.anyio
async def test_full_stream(client: AsyncAltaBots, server: Server) -> None:
    """A whole stream: typed events in order, text, message id, usage, final reply, closed."""
    body = ScriptedStream(FULL)
    server.stream(body)

    async with client.conversations.stream_message(CID, "hi", corner_citation=True) as stream:
        events = [event async for event in stream]
        reply = await stream.final()

    assert [type(e) for e in events] == [
        MessageInfoEvent,
        TextDeltaEvent,
        TextDeltaEvent,
        CostEvent,
        EndEvent,
    ]
    assert (stream.text, stream.message_id, stream.done) == ("Hello!", "m1", True)
    assert isinstance(reply, MessageReply)
    assert (reply.text, reply.message_id, reply.conversation_id) == ("Hello!", "m1", CID)
    assert reply.usage is not None and reply.usage.tokens == stream.usage
    assert body.closed
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v2/conversation/message")
    assert json.loads(request.content) == {
        "conversation_id": CID,
        "response_mode": "streaming",
        "messages": [{"role": "user", "content": "hi"}],
        "conversation_config": {"corner_citation": True},
    }
    assert "text/event-stream" in request.headers["accept"]
    assert client.rate_limit.granted == 1
    assert client.rate_limit.in_flight == 0


@pytest.mark.anyio
async def test_plain_async_for_without_context_manager(
    client: AsyncAltaBots, server: Server
) -> None:
    """``async for`` alone sends the request, reads to code 0 and closes the response."""
    body = ScriptedStream(FULL)
    server.stream(body)

    texts = [
        event.text
        async for event in client.conversations.stream_message(CID, "hi")
        if isinstance(event, TextDeltaEvent)
    ]

    assert texts == ["Hel", "lo!"]
    assert body.closed


@pytest.mark.anyio
async def test_stops_reading_at_code_zero(client: AsyncAltaBots, server: Server) -> None:
    """Nothing after the end event is parsed (trailing bytes are drained unread)."""
    body = ScriptedStream([*FULL, b"data: garbage that is never parsed\n"])
    server.stream(body)

    with anyio.fail_after(5):
        reply = await client.conversations.stream_message(CID, "hi").final()

    assert reply.text == "Hello!"
    assert body.closed


@LEFT_EARLY
@pytest.mark.anyio
async def test_early_break_closes_the_response(client: AsyncAltaBots, server: Server) -> None:
    """Breaking out inside ``async with`` closes the response; the scheduler is settled."""
    body = ScriptedStream(FULL, then="block")
    server.stream(body)

    with anyio.fail_after(5):
        async with client.conversations.stream_message(CID, "hi") as stream:
            async for event in stream:
                if isinstance(event, TextDeltaEvent):
                    break

    assert body.closed
    assert body.sent == 2
    assert stream.text == "Hel"
    assert not stream.done
    assert client.rate_limit.in_flight == 0
    with pytest.raises(MessageStreamError) as info:
        await stream.final()
    assert info.value.partial_text == "Hel"


@LEFT_EARLY
@pytest.mark.anyio
async def test_early_break_without_context_manager(client: AsyncAltaBots, server: Server) -> None:
    """Breaking out of a bare ``async for`` closes the response once the iterator is dropped."""
    body = ScriptedStream(FULL, then="block")
    server.stream(body)

    with anyio.fail_after(5):
        async for _event in client.conversations.stream_message(CID, "hi"):
            break
        while not body.closed:
            await anyio.wait_all_tasks_blocked()
            await anyio.lowlevel.checkpoint()

    assert body.closed
    assert client.rate_limit.in_flight == 0


@pytest.mark.anyio
async def test_cancellation_mid_stream_closes_the_response(
    client: AsyncAltaBots, server: Server
) -> None:
    """Cancelling a consumer blocked mid-stream closes the response; nothing is left in flight."""
    body = ScriptedStream(FULL[:2], then="block")
    server.stream(body)
    seen: list[Any] = []

    async def consume() -> None:
        async with client.conversations.stream_message(CID, "hi") as stream:
            async for event in stream:
                seen.append(event)  # noqa: PERF401 (kept as received, before the cancellation)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await body.started.wait()
            await anyio.wait_all_tasks_blocked()
            tg.cancel_scope.cancel()

    assert [type(e) for e in seen] == [MessageInfoEvent, TextDeltaEvent]
    assert body.closed
    assert client.rate_limit.in_flight == 0


@pytest.mark.anyio
async def test_eof_before_end_raises_with_partial_text(
    client: AsyncAltaBots, server: Server
) -> None:
    """A stream that ends before code 0 raises StreamError carrying the partial text."""
    body = ScriptedStream(FULL[:3])
    server.stream(body)

    stream = client.conversations.stream_message(CID, "hi")
    with pytest.raises(MessageStreamError) as info:
        async for _ in stream:
            pass

    assert isinstance(info.value, StreamError)
    assert info.value.partial_text == "Hello!"
    assert info.value.message_id == "m1"
    assert "code 0" in str(info.value)
    assert body.closed


@pytest.mark.anyio
async def test_transport_error_mid_stream_raises_with_partial_text(
    client: AsyncAltaBots, server: Server
) -> None:
    """A connection dropped mid-stream raises StreamError (not a hang) with the partial text."""
    body = ScriptedStream(FULL[:2], error=httpx.ReadError("connection reset"))
    server.stream(body)

    with anyio.fail_after(5), pytest.raises(MessageStreamError) as info:
        await client.conversations.stream_message(CID, "hi").final()

    assert info.value.partial_text == "Hel"
    assert isinstance(info.value.__cause__, APIConnectionError)  # through the one boundary
    assert isinstance(info.value.__cause__.__cause__, httpx.ReadError)
    assert body.closed


@LEFT_EARLY
@pytest.mark.anyio
async def test_malformed_event_raises(client: AsyncAltaBots, server: Server) -> None:
    """A malformed event raises StreamError with what was received before it."""
    body = ScriptedStream([*FULL[:2], b"data: {not json}\n\n", *FULL[2:]])
    server.stream(body)

    with pytest.raises(MessageStreamError, match="malformed") as info:
        await client.conversations.stream_message(CID, "hi").get_final_text()

    assert info.value.partial_text == "Hel"
    assert body.closed


@LEFT_EARLY
@pytest.mark.anyio
async def test_oversized_event_raises(client: AsyncAltaBots, server: Server) -> None:
    """An event over 8 MiB raises ResponseTooLargeError and closes the response."""
    huge = b'data: {"code": 3, "data": "' + b"x" * (MAX_SSE_EVENT_BYTES + 1) + b'"}\n\n'
    body = ScriptedStream([FULL[0], huge])
    server.stream(body)

    with pytest.raises(ResponseTooLargeError):
        await client.conversations.stream_message(CID, "hi").final()

    assert body.closed


@pytest.mark.anyio
async def test_bare_json_and_concatenated_objects_over_http(
    client: AsyncAltaBots, server: Server
) -> None:
    """The docs' framing (bare lines, glued objects) works end to end."""
    body = ScriptedStream(
        [
            b'{"code":11,"data":{"message_id":"m9"}}\n{"code":3,"data":"a"}',
            b'{"code":3,"data":"b"}\n{"code":99,"data":1}{"code":0,"data":null}\n',
        ]
    )
    server.stream(body, content_type="application/x-ndjson")

    async with client.conversations.stream_message(CID, "hi") as stream:
        codes = [event.code async for event in stream]

    assert codes == [11, 3, 3, 99, 0]
    assert stream.text == "ab"


@pytest.mark.anyio
async def test_error_before_the_stream_starts(client: AsyncAltaBots, server: Server) -> None:
    """An error body before any event maps to the usual exception, at ``async with``."""
    server.next = lambda: httpx.Response(
        404, json={"code": 40356, "message": "Conversation does not exist"}
    )

    with pytest.raises(NotFoundError) as info:
        async with client.conversations.stream_message(CID, "hi"):
            pass

    assert info.value.code == 40356


@pytest.mark.anyio
async def test_json_error_with_status_200(client: AsyncAltaBots, server: Server) -> None:
    """A 200 JSON error envelope instead of a stream raises the mapped exception too."""
    server.next = lambda: httpx.Response(200, json={"code": 40356, "message": "no"})

    with pytest.raises(NotFoundError):
        async for _ in client.conversations.stream_message(CID, "hi"):
            pass


@pytest.mark.anyio
async def test_blocking_body_instead_of_a_stream(client: AsyncAltaBots, server: Server) -> None:
    """A 200 JSON body that is not a stream event (no ``code``) is a malformed stream."""
    server.next = lambda: httpx.Response(200, json={"conversation_id": CID, "message_id": "m"})

    with pytest.raises(StreamError, match="no integer 'code'"):
        await client.conversations.stream_message(CID, "hi").final()


@pytest.mark.anyio
async def test_iterate_once(client: AsyncAltaBots, server: Server) -> None:
    """A MessageStream is consumed once; a second iteration is refused."""
    server.stream(ScriptedStream(FULL))
    stream = client.conversations.stream_message(CID, "hi")
    await stream.final()

    with pytest.raises(StreamError):
        async for _ in stream:
            pass
    assert "message_id='m1'" in repr(stream)


def test_stream_message_is_lazy(server: Server) -> None:
    """Creating the stream sends nothing; it is a MessageStream."""
    client = AsyncAltaBots(api_key=KEY, transport=httpx.MockTransport(server))

    stream = client.conversations.stream_message(CID, "hi")

    assert isinstance(stream, MessageStream)
    assert server.requests == []
    assert KEY not in repr(stream)


# ----------------------------------------------------------------------------- simulator


@pytest.fixture
def sim() -> Simulator:
    """A simulator on a virtual clock."""
    return Simulator({KEY: Plan.enterprise(100, 60.0)}, clock=FakeClock())


@pytest.fixture
async def sim_client(sim: Simulator, make_client: Callable[..., Awaitable[Any]]) -> AsyncAltaBots:
    """A client on the simulator (in-process, or served over aiohttp: see ``make_client``)."""
    client: AsyncAltaBots = await make_client(sim, api_key=KEY)
    return client


@pytest.mark.anyio
async def test_sim_full_stream(sim: Simulator, sim_client: AsyncAltaBots) -> None:
    """The simulator streams 11, several 3s, 4, 0; the exchange is then in the history."""
    conv = await sim_client.conversations.create(user_id="u1")

    async with sim_client.conversations.stream_message(
        conv.conversation_id, "stream this please"
    ) as stream:
        events = [event async for event in stream]
    history = await sim_client.conversations.messages(conv.conversation_id)

    codes = [event.code for event in events]
    assert codes[0] == 11 and codes[-2:] == [4, 0]
    assert codes.count(3) >= 2
    assert stream.text == "Echo: stream this please"
    assert history.conversation_content[-1].message_id == stream.message_id
    assert [r.path for r in sim.requests()].count("/v2/conversation/message") == 1
    assert sim_client.rate_limit.in_flight == 0
    assert sim.over_quota_count() == 0


@pytest.mark.anyio
async def test_sim_stream_cut(sim: Simulator, sim_client: AsyncAltaBots) -> None:
    """A stream the simulator cuts raises StreamError with the partial text."""
    conv = await sim_client.conversations.create(user_id="u1")
    conversation_store(sim, KEY).stream_fault = "cut"

    with anyio.fail_after(5), pytest.raises(MessageStreamError) as info:
        await sim_client.conversations.stream_message(conv.conversation_id, "hello world").final()

    assert info.value.partial_text
    assert "Echo: hello world".startswith(info.value.partial_text)
    assert info.value.partial_text != "Echo: hello world"


@LEFT_EARLY
@pytest.mark.anyio
async def test_sim_malformed_event(sim: Simulator, sim_client: AsyncAltaBots) -> None:
    """A malformed event from the simulator raises StreamError."""
    conv = await sim_client.conversations.create(user_id="u1")
    conversation_store(sim, KEY).stream_fault = "malformed"

    with pytest.raises(StreamError, match="malformed"):
        async for _ in sim_client.conversations.stream_message(conv.conversation_id, "hi"):
            pass


@pytest.mark.anyio
async def test_sim_stream_unknown_conversation(sim_client: AsyncAltaBots) -> None:
    """Streaming to an unknown conversation raises NotFoundError (40356) before any event."""
    with pytest.raises(NotFoundError):
        async with sim_client.conversations.stream_message("0" * 24, "hi"):
            pass


# ----------------------------------------------------------------------------- whole-stream caps


def gzip_stream(events: int, text: str = ".") -> bytes:
    """``events`` tiny text deltas and an end event, gzip-compressed (a few KiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    delta = b'data: {"code":3,"data":"' + text.encode() + b'"}\n\n'
    body = packer.compress(sse({"code": 11, "data": {"message_id": "m1"}}))
    for _ in range(events // 1000):
        body += packer.compress(delta * 1000)
    body += packer.compress(delta * (events % 1000))
    return body + packer.compress(sse({"code": 0, "data": None})) + packer.flush()


def gzip_client(body: bytes, **options: Any) -> AsyncAltaBots:
    """A client whose streamed replies are ``body`` (gzip, SSE)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-encoding": "gzip", "content-type": "text/event-stream"},
            stream=httpx.ByteStream(body),
        )

    return AsyncAltaBots(
        KEY, base_url="https://altatech.ai/", transport=httpx.MockTransport(handler), **options
    )


@pytest.mark.anyio
@LEFT_EARLY
async def test_a_small_gzip_body_of_200k_events_hits_the_event_cap_in_bounded_memory() -> None:
    """A few KiB of gzip carrying 200,001 events: ResponseTooLargeError at the default cap
    of 100,000 events, and the heap grows by a few MiB, not by the ~78 MB of keeping them."""
    body = gzip_stream(200_000)
    assert len(body) < 16 * 1024
    async with gzip_client(body) as client:
        stream = client.conversations.stream_message(CID, "hi")
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            with pytest.raises(ResponseTooLargeError, match="100000 events"):
                async with stream:
                    async for _ in stream:
                        pass
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert stream.event_count == 100_000
    assert len(stream.events) == 1_000
    assert (peak - start) / 2**20 < 16, (peak - start) / 2**20


@pytest.mark.anyio
@LEFT_EARLY
@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_stream_events": 50}, "50 events"),
        ({"max_stream_bytes": 64 * 1024}, "65536 bytes"),
    ],
)
async def test_whole_stream_caps_are_configurable(options: dict[str, int], match: str) -> None:
    """max_stream_events / max_stream_bytes cap a whole reply with a typed error; the text
    received so far is kept on the stream."""
    async with gzip_client(gzip_stream(10_000, "abc"), **options) as client:
        stream = client.conversations.stream_message(CID, "hi")
        with pytest.raises(ResponseTooLargeError, match=match):
            await stream.final()

    assert stream.text.startswith("abcabc")
    assert stream.response is not None and stream.response.is_closed


@pytest.mark.anyio
async def test_only_the_last_events_are_kept_but_the_reply_is_whole() -> None:
    """1,500 events: ``events`` keeps the last 1,000, ``event_count`` counts all, and the
    text is complete."""
    async with gzip_client(gzip_stream(1_500, "x")) as client:
        stream = client.conversations.stream_message(CID, "hi")
        reply = await stream.final()

    assert stream.event_count == 1_502  # message info, 1,500 deltas, end
    assert len(stream.events) == 1_000
    assert isinstance(stream.events[-1], EndEvent)
    assert reply.output[0].content is not None
    assert reply.output[0].content.text == "x" * 1_500


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_stream_caps_must_be_positive_ints(bad: Any) -> None:
    """A cap that is not an int >= 1 is a ConfigurationError at construction."""
    from altabots_async import ConfigurationError

    with pytest.raises(ConfigurationError, match="max_stream_events"):
        AsyncAltaBots(KEY, max_stream_events=bad)
