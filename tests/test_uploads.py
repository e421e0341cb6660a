"""Uploads: from a path, bytes or an async byte stream; size checks before sending; file names
reduced to their base name; base64 document helpers (``_files.py``)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
import respx

from altabots_async import AsyncAltaBots
from altabots_async._checks import InvalidParameterError
from altabots_async._files import Upload, encode_base64, read_upload, safe_filename
from altabots_async._transport import _is_replayable
from altabots_async.testing import FakeClock, Plan, Simulator

pytestmark = pytest.mark.anyio

BASE = "https://altatech.ai/"
KEY = "sk-test"
MIB = 1024 * 1024


@pytest.fixture
def router() -> respx.MockRouter:
    """A respx router that answers only what a test declares."""
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
async def client(router: respx.MockRouter) -> AsyncIterator[AsyncAltaBots]:
    """A client whose every request goes to the respx router (through the scheduler)."""
    transport = httpx.MockTransport(router.async_handler)
    async with AsyncAltaBots(api_key=KEY, transport=transport, max_retries=0) as client:
        yield client


@pytest.fixture
async def sim_client() -> AsyncIterator[AsyncAltaBots]:
    """A client talking to an in-process simulator."""
    sim = Simulator({KEY: Plan.enterprise(1000, 60.0)}, clock=FakeClock())
    async with AsyncAltaBots(
        api_key=KEY, base_url="http://localhost/", transport=sim.transport()
    ) as client:
        yield client


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    """An async byte stream yielding ``parts``."""
    for part in parts:
        yield part


class Endless:
    """An async byte stream that never ends, and records whether it was closed."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pulled = 0
        self.closed = False

    def __aiter__(self) -> Endless:
        return self

    async def __anext__(self) -> bytes:
        self.pulled += 1
        return b"x" * self.size

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/dir/a.mp3", "a.mp3"),
        ("C:\\Users\\me\\talk.wav", "talk.wav"),
        ("dir/sub/", "sub"),
        ("..", "fallback.bin"),
        ("", "fallback.bin"),
        ("a\x00b\nc.mp3", "abc.mp3"),
        (None, "fallback.bin"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    """File names lose every directory part and control character; nothing left: the default."""
    assert safe_filename(name, fallback="fallback.bin") == expected


async def test_read_upload_from_path_bytes_and_stream(tmp_path: Path) -> None:
    """The three input kinds give the same Upload; a path's directories are not kept."""
    path = tmp_path / "talk.mp3"
    path.write_bytes(b"ID3abc")

    from_path = await read_upload(path, max_bytes=10)
    from_str = await read_upload(str(path), max_bytes=10)
    from_bytes = await read_upload(b"ID3abc", max_bytes=10, filename="talk.mp3")
    from_stream = await read_upload(chunks(b"ID3", b"abc"), max_bytes=10, filename="talk.mp3")

    expected = Upload("talk.mp3", b"ID3abc", "audio/mpeg")
    assert [from_path, from_str, from_bytes, from_stream] == [expected] * 4
    assert "6 bytes" in repr(from_path)


async def test_oversize_refused_before_reading(tmp_path: Path) -> None:
    """A path over the cap is refused from its size; a stream stops at the first byte over."""
    path = tmp_path / "big.mp3"
    path.write_bytes(b"x" * 11)
    with pytest.raises(InvalidParameterError, match="11 bytes"):
        await read_upload(path, max_bytes=10)

    stream = Endless(4)
    with pytest.raises(InvalidParameterError) as info:
        await read_upload(stream, max_bytes=10)
    assert info.value.field == "file"
    assert stream.pulled == 3
    assert stream.closed

    with pytest.raises(InvalidParameterError):
        await read_upload(b"x" * 11, max_bytes=10)


async def test_bad_inputs() -> None:
    """A missing path, a non-bytes stream item and an unknown kind are refused by name."""
    with pytest.raises(InvalidParameterError, match="cannot read"):
        await read_upload("/nonexistent/dir/x.mp3", max_bytes=10)

    async def texts() -> AsyncIterator[str]:
        yield "text"

    with pytest.raises(InvalidParameterError, match="must yield bytes"):
        await read_upload(texts(), max_bytes=10)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="expected a path"):
        await read_upload(42, max_bytes=10)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "source",
    ["path", "bytes", "stream"],
)
async def test_voice_upload_sources(
    client: AsyncAltaBots, router: respx.MockRouter, tmp_path: Path, source: str
) -> None:
    """Voice to text sends the same multipart body from a path, bytes or a stream."""
    route = router.post("/v1/identify").respond(200, json={"text": "hi"})
    path = tmp_path / "question.wav"
    path.write_bytes(b"RIFFdata")
    speech = client.speech

    if source == "path":
        await speech.voice_to_text(path)
    elif source == "bytes":
        await speech.voice_to_text(b"RIFFdata", filename="question.wav")
    else:
        await speech.voice_to_text(chunks(b"RIFF", b"data"), filename="question.wav")

    content = route.calls.last.request.content
    assert b'name="file"; filename="question.wav"' in content
    assert b"Content-Type: audio/x-wav" in content or b"Content-Type: audio/wav" in content
    assert b"RIFFdata" in content
    assert str(tmp_path).encode() not in content


async def test_traversal_name_reduced(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """A ``../../etc/passwd``-style name reaches the server as its base name only."""
    route = router.post("/v1/bot/data/file/upload").respond(200, json={"data_id": "d"})

    await client.knowledge_base.upload_file(b"text", filename="../../etc/secrets.txt")

    content = route.calls.last.request.content
    assert b'filename="secrets.txt"' in content
    assert b"../" not in content
    assert b"etc" not in content


@pytest.mark.parametrize(
    ("call", "limit"),
    [
        pytest.param("voice", 25 * MIB, id="voice-25mib"),
        pytest.param("skill", 20 * MIB, id="skill-20mib"),
        pytest.param("upload-md", 10 * MIB, id="legacy-md-10mib"),
        pytest.param("upload-pdf", 30 * MIB, id="legacy-pdf-30mib"),
    ],
)
async def test_oversize_uploads_never_sent(
    client: AsyncAltaBots, router: respx.MockRouter, call: str, limit: int
) -> None:
    """Each upload's documented cap refuses one byte more before any request."""
    data = b"x" * (limit + 1)
    with pytest.raises(InvalidParameterError) as info:
        if call == "voice":
            await client.speech.voice_to_text(data, filename="a.mp3")
        elif call == "skill":
            await client.agent.skills.create(data, filename="a.zip")
        elif call == "upload-md":
            await client.knowledge_base.upload_file(data, filename="a.md")
        else:
            await client.knowledge_base.upload_file(data, filename="a.pdf")

    assert info.value.field == "file"
    assert router.calls.call_count == 0


async def test_oversize_stream_never_sent(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """An endless stream for voice to text stops at 25 MiB and sends nothing."""
    stream = Endless(MIB)

    with pytest.raises(InvalidParameterError):
        await client.speech.voice_to_text(stream, filename="a.mp3")

    assert stream.pulled == 26
    assert router.calls.call_count == 0


async def test_document_from_path_is_base64(
    client: AsyncAltaBots, router: respx.MockRouter, tmp_path: Path
) -> None:
    """A pathlib.Path in ``files`` is read, type- and size-checked and sent as base64."""
    path = tmp_path / "guide.md"
    path.write_bytes(b"# Guide\nRefunds in 5 days.")
    route = router.post("/v1/bot/doc/text/add").respond(200, json={"doc": [], "failed": []})

    await client.knowledge_base.docs.add_text(files=[path])

    sent = route.calls.last.request.content
    assert encode_base64(path.read_bytes()).encode() in sent
    assert b'"file_name":"guide.md"' in sent.replace(b" ", b"")
    assert str(tmp_path).encode() not in sent


async def test_file_from_path_helper(client: AsyncAltaBots, tmp_path: Path) -> None:
    """file_from_path builds a DocumentFile; the wrong type or an oversize file is refused."""
    sheet = tmp_path / "prices.csv"
    sheet.write_text("sku,price\nA,1\n")
    doc = await client.knowledge_base.docs.file_from_path(
        sheet, spreadsheet=True, source_url="https://x.test/p"
    )
    assert doc.file_name == "prices.csv"
    assert base64.b64decode(doc.file_base64 or "") == sheet.read_bytes()
    assert "file_base64" not in repr(doc)

    with pytest.raises(InvalidParameterError, match="not accepted"):
        await client.knowledge_base.docs.file_from_path(sheet)

    big = tmp_path / "big.md"
    with big.open("wb") as handle:
        handle.truncate(10 * MIB + 1)
    with pytest.raises(InvalidParameterError, match="limit"):
        await client.knowledge_base.docs.file_from_path(big)


async def test_uploads_round_trip_simulator(sim_client: AsyncAltaBots, tmp_path: Path) -> None:
    """A path, bytes and a stream all reach the simulator and are transcribed."""
    path = tmp_path / "a.mp3"
    path.write_bytes(b"12345")

    texts = [
        (await sim_client.speech.voice_to_text(path)).text,
        (await sim_client.speech.voice_to_text(b"12345", filename="../a.mp3")).text,
        (await sim_client.speech.voice_to_text(chunks(b"123", b"45"), filename="a.mp3")).text,
    ]

    assert texts == ["Transcript of a.mp3 (5 bytes)."] * 3


async def test_upload_body_is_replayable(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """An upload's multipart body is encoded up front, so the scheduler may resend it after a
    429 exactly as it does JSON bodies (a streamed multipart body could not be replayed)."""
    router.post("/v1/identify").respond(200, json={"text": "hi"})
    sent: list[httpx.Request] = []
    send = client._send

    async def spy(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return await send(request)

    client._send = spy  # type: ignore[method-assign]

    await client.speech.voice_to_text(chunks(b"ID3", b"..."), filename="q.mp3")

    [request] = sent
    assert _is_replayable(request)
    assert b"ID3..." in request.content


# ----------------------------------------------------------------------------- unbounded sources


async def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    """A FIFO with no writer would block open() in a worker thread forever: it is opened
    without blocking and refused as not a regular file."""
    fifo = tmp_path / "audio.mp3"
    os.mkfifo(fifo)

    with anyio.fail_after(5), pytest.raises(InvalidParameterError, match="FIFO"):
        await read_upload(fifo, max_bytes=MIB)


async def test_a_fifo_with_a_writer_is_refused_too(tmp_path: Path) -> None:
    """A FIFO whose writer would stream far past the cap is refused before any read."""
    fifo = tmp_path / "audio.mp3"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer end that never blocks us
    try:
        os.write(writer, b"x" * 4096)
        with anyio.fail_after(5), pytest.raises(InvalidParameterError, match="FIFO"):
            await read_upload(fifo, max_bytes=1024)
    finally:
        os.close(writer)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param(p, kind, marks=pytest.mark.skipif(not Path(p).exists(), reason="missing"))
        for p, kind in [("/dev/zero", "device"), ("/dev/urandom", "device"), ("/", "directory")]
    ],
)
async def test_devices_and_directories_are_refused(path: str, kind: str) -> None:
    """Only regular files are read: /dev/zero would be read without end."""
    with anyio.fail_after(5), pytest.raises(InvalidParameterError, match=kind):
        await read_upload(path, max_bytes=MIB)


PROC_FILE = Path("/proc/self/maps")


@pytest.mark.skipif(not PROC_FILE.exists(), reason="no /proc here")
async def test_a_file_whose_size_lies_is_read_at_most_to_the_cap() -> None:
    """/proc files claim size 0; the read stops past the cap (a typed error), whatever stat
    said."""
    source = PROC_FILE
    with pytest.raises(InvalidParameterError, match="larger than the 64-byte limit"):
        await read_upload(source, max_bytes=64)


async def test_a_regular_file_at_the_cap_is_read_whole(tmp_path: Path) -> None:
    """The bounded read loses nothing of a file within the cap."""
    path = tmp_path / "a.mp3"
    path.write_bytes(bytes(range(256)) * 4096)  # 1 MiB, more than one read step

    upload = await read_upload(path, max_bytes=MIB)

    assert upload.content == path.read_bytes()
