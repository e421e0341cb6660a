"""Speech endpoints (REFERENCE §4.10): voice to text on all three documented paths, and
text to audio. Both are deterministic: the transcript names the file and its size; the
audio is bytes derived from the message id."""

from __future__ import annotations

import hashlib

from .._http import Context, Response, RouteTable
from ._common import bad, extension, guard_deleted_agent, multipart, str_field
from .analytics import record_credits

__all__ = ["VOICE_TO_TEXT_PATHS", "routes"]

routes = RouteTable()

VOICE_TO_TEXT_PATHS = ("/v1/bot/identify", "/v1/identify", "/v1/audio-to-text")
AUDIO_TYPES = ("m4a", "mp3", "webm", "mp4", "mpga", "wav", "mpeg")
BAD_AUDIO_TYPE = 40325
TOO_LARGE = 40326
EMPTY_VOICE = 40371
MAX_AUDIO_BYTES = 25 * 1024 * 1024


async def voice_to_text(ctx: Context) -> Response:
    """Transcribe the ``file`` part (40325 for a bad type, 40326 over 25 MB)."""
    _, files = multipart(ctx.request)
    upload = files.get("file")
    if upload is None:
        raise bad("file is required")
    if extension(upload.filename) not in AUDIO_TYPES:
        raise bad("unsupported audio type", BAD_AUDIO_TYPE)
    if len(upload.content) > MAX_AUDIO_BYTES:
        raise bad("file over 25 MB", TOO_LARGE)
    record_credits(ctx, "asr", 0.2)
    return Response.json(
        {"text": f"Transcript of {upload.filename} ({len(upload.content)} bytes)."}
    )


for _path in VOICE_TO_TEXT_PATHS:
    routes.post(_path)(voice_to_text)


def audio_for(message_id: str) -> bytes:
    """The simulated audio of a reply: an ID3-tagged, id-derived byte string."""
    digest = hashlib.sha256(message_id.encode()).digest()
    return b"ID3\x04\x00\x00" + digest * 8


@routes.post("/v1/text-to-audio")
async def text_to_audio(ctx: Context) -> Response:
    """The audio of a reply message (``id`` required; whitespace-only ids are empty: 40371)."""
    body = ctx.request.json_object()
    if isinstance(body.get("id"), str) and body["id"] and not body["id"].strip():
        raise bad("empty voice content", EMPTY_VOICE)
    message_id = str_field(body, "id") or ""
    record_credits(ctx, "tts", 0.3)
    return Response(200, (("content-type", "audio/mpeg"),), audio_for(message_id))


guard_deleted_agent(routes)
