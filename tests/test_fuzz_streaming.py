"""Fuzzing the streaming parser (issue 7, item 4, and S-12): only our typed errors come
out (``StreamError``, ``ResponseTooLargeError``), never KeyError/TypeError/RecursionError,
and never a hang: the parser's decoding work stays linear in the bytes fed.

Also a round-trip property: events framed in any of the accepted ways (SSE ``data:`` lines,
bare JSON lines, objects glued together, pretty-printed multi-line values, CRLF, comments
and keep-alives between them) and cut into arbitrary chunks come out exactly as sent.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from altabots_async import AsyncAltaBots, ResponseTooLargeError, StreamError
from altabots_async import _sse as streaming  # the parser lives in _sse.py
from altabots_async._streaming import EventParser, to_event
from altabots_async.types.conversations import StreamEvent

CODES = [0, 3, 4, 5, 6, 10, 11, 20, 39, 41, 83, 7, 999]
FUZZ = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
events = st.builds(
    lambda code, data, message: {"code": code, "data": data, "message": message},
    st.sampled_from(CODES),
    json_values,
    st.one_of(st.none(), st.text(max_size=10)),
)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


def parse_all(data: bytes, cuts: list[int], cap: int = 1 << 20) -> list[dict[str, Any]]:
    parser = EventParser(max_event_bytes=cap)
    out: list[dict[str, Any]] = []
    for piece in chunked(data, cuts):
        out.extend(parser.feed(piece))
    out.extend(parser.close())
    return out


def frame(objs: list[dict[str, Any]], style: str, newline: bytes) -> bytes:
    if style == "sse":
        body = b"".join(
            b": keep-alive" + newline + b"data: " + json.dumps(o).encode() + newline + newline
            for o in objs
        )
    elif style == "bare":
        body = b"".join(json.dumps(o).encode() + newline for o in objs)
    elif style == "glued":
        body = b"".join(json.dumps(o).encode() for o in objs) + newline
    else:  # pretty-printed, one data: line per line of the value
        body = b"".join(
            b"".join(
                b"data: " + line.encode() + newline for line in json.dumps(o, indent=1).split("\n")
            )
            + newline
            for o in objs
        )
    return body


@FUZZ
@given(
    objs=st.lists(events, max_size=6),
    style=st.sampled_from(["sse", "bare", "glued", "pretty"]),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_framed_events_round_trip_through_any_chunking(
    objs: list[dict[str, Any]], style: str, newline: bytes, cuts: list[int]
) -> None:
    assert parse_all(frame(objs, style, newline), cuts) == objs


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.one_of(
                st.sampled_from(
                    [
                        b"data: ",
                        b"{",
                        b"}",
                        b"[",
                        b"]",
                        b'"',
                        b"\\",
                        b"\n",
                        b"\r\n",
                        b":",
                        b",",
                        b'{"code": 3, "data": "x"}',
                        b'{"code": "0"}',
                        b"event: x\n",
                        b"\xff",
                        b'"code"',
                        b"1e999",
                        b"-",
                        b"nul",
                        b"\n\n",
                        b"  ",
                    ]
                ),
                st.binary(max_size=6),
            ),
            max_size=60,
        ).map(b"".join),
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=6),
    cap=st.sampled_from([16, 64, 1 << 20]),
)
def test_arbitrary_bytes_give_only_typed_errors(data: bytes, cuts: list[int], cap: int) -> None:
    try:
        objs = parse_all(data, cuts, cap)
    except (StreamError, ResponseTooLargeError):
        return
    for obj in objs:
        assert isinstance(obj, dict) and isinstance(obj["code"], int)
        with contextlib.suppress(StreamError):
            assert isinstance(to_event(obj), StreamEvent)


@FUZZ
@given(
    obj=st.dictionaries(st.sampled_from(["code", "data", "message", "componentId"]), json_values)
)
def test_to_event_on_any_object_gives_an_event_or_stream_error(obj: dict[str, Any]) -> None:
    obj["code"] = obj.get("code") if isinstance(obj.get("code"), int) else 3
    try:
        event = to_event(obj)
    except StreamError:
        return
    assert isinstance(event, StreamEvent)


@pytest.mark.parametrize(
    ("opening", "line"),
    [
        (b'data: {"code": 3, "data": [', b'data: "' + b"a" * 60 + b'",'),
        (b'data: {"code": 3, "data": [', b"data: , [1]"),
        (b"[", b"1,"),
        (b'{"code": 3, "data": "', b"x"),  # an endless string (malformed: raw newline)
    ],
)
def test_endless_continuation_lines_cost_linear_work(
    opening: bytes, line: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a hang: an unfinished value fed line after line up to the cap is decoded a
    bounded number of times (the work counted in characters handed to the JSON decoder)."""
    work = [0]
    real = streaming._decoder

    class Counting:
        def raw_decode(self, text: str, position: int = 0) -> Any:
            work[0] += len(text) - position
            return real.raw_decode(text, position)

    monkeypatch.setattr(streaming, "_decoder", Counting())
    cap = 512 * 1024
    parser = EventParser(max_event_bytes=cap)
    fed = 0
    with pytest.raises((ResponseTooLargeError, StreamError)):
        parser.feed(opening + b"\n")
        chunk = (line + b"\n") * 200
        while fed < 4 * cap:
            parser.feed(chunk)
            fed += len(chunk)
    assert work[0] <= 4 * (fed + len(opening)) + 4096, (work[0], fed)


@FUZZ
@given(body=st.binary(max_size=300), gzip=st.booleans())
def test_message_stream_over_http_fails_only_typed_and_closes(body: bytes, gzip: bool) -> None:
    """The whole MessageStream on random bodies (optionally gzip-framed): iteration ends
    normally or with a typed error, and the response is always closed."""
    import zlib

    wire = body
    headers = {"content-type": "text/event-stream"}
    if gzip:
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)
        wire = packer.compress(body) + packer.flush()
        headers["content-encoding"] = "gzip"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(wire))

    async def main() -> None:
        async with AsyncAltaBots(
            "sk-fuzz", transport=httpx.MockTransport(handler), max_retries=0
        ) as client:
            stream = client.conversations.stream_message("c1", "hi")
            try:
                async with stream:
                    async for _ in stream:
                        pass
            except (StreamError, ResponseTooLargeError):
                pass
            assert stream.response is not None and stream.response.is_closed

    anyio.run(main)
