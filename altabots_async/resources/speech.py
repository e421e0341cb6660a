"""The Speech category: ``client.speech`` (REFERENCE §4.10, endpoints 62-63; vendor pages
``docs/speech/*.md``).

Voice to text: the AltaBots page (speech/Voice_to_Text.md) names two paths, ``/v1/bot/identify``
on its "Request URL" line and ``/v1/identify`` in its own curl example. The default is
``/v1/identify``, on this evidence:

* the page is a copy of GPTBots' legacy "Voice to Text" page for the same API. There, the
  English page's URL line is a leftover from another page (``/v1/bot/detail``, the agent
  detail endpoint) while its curl example says ``/v1/identify``, and the Chinese original
  gives ``/v1/identify`` on both its URL line and its example
  (gptbots.ai/docs/api-doc/chat/voice-to-text; gptbots.gitbook.io/gptbots.zh, "语音转文本");
* ``/v1/bot/identify`` appears nowhere else, in either vendor's docs: it reads as that
  leftover ``/v1/bot/...`` merged with the right name;
* GPTBots' current reference renamed the endpoint ``/v1/audio-to-text``, never
  ``/v1/bot/identify``.

``path=`` picks another (``VOICE_TO_TEXT_PATHS`` lists every one seen in the docs).
"""

from __future__ import annotations

import attrs

from .._checks import InvalidParameterError, require_text
from .._files import MIB, FileInput, read_upload, request_bytes, request_multipart
from ..types.speech import Transcription
from ._base import Resource

VOICE_TO_TEXT_PATH = "/v1/identify"
"""The default voice-to-text path (see the module notes for why)."""
VOICE_TO_TEXT_PATHS = ("/v1/identify", "/v1/bot/identify", "/v1/audio-to-text")
"""Paths seen in the docs for voice-to-text; the first is the default."""
VOICE_MAX_BYTES = 25 * MIB
AUDIO_EXTENSIONS = ("m4a", "mp3", "webm", "mp4", "mpga", "wav", "mpeg")
AUDIO_MAX_BYTES = 50 * MIB
"""Cap on a text-to-audio answer (the client's JSON cap is smaller)."""


@attrs.define
class SpeechResource(Resource):
    """``client.speech``: transcription of audio files, and replies read aloud."""

    async def voice_to_text(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        path: str = VOICE_TO_TEXT_PATH,
    ) -> Transcription:
        """Transcribe an audio file (m4a, mp3, webm, mp4, mpga, wav, mpeg; <= 25 MB).

        ``file`` is a path, bytes or an async byte stream; give ``filename`` (for its
        extension) with bytes or a stream. ``path`` picks the endpoint: ``/v1/identify`` by
        default, the path of the page's own curl example and of GPTBots' page it was copied
        from; the page's URL line says ``/v1/bot/identify`` (see the module notes).

        Example: ``text = (await client.speech.voice_to_text("question.mp3")).text``
        """
        require_text("path", path)
        if "://" in path or ".." in path or path.startswith("//") or "?" in path:
            raise InvalidParameterError("path", "must be a plain API path such as /v1/identify")
        upload = await read_upload(
            file,
            max_bytes=VOICE_MAX_BYTES,
            filename=filename,
            default_name="audio.mp3",
            allowed_extensions=AUDIO_EXTENSIONS,
        )
        return await request_multipart(
            self._client, "POST", path.lstrip("/"), cast_to=Transcription, upload=upload
        )

    async def text_to_audio(self, message_id: str, *, max_bytes: int = AUDIO_MAX_BYTES) -> bytes:
        """The audio of an agent reply (by its ``message_id``), as bytes.

        Example: ``audio = await client.speech.text_to_audio(reply.message_id)``
        """
        require_text("id", message_id)
        return await request_bytes(
            self._client,
            "POST",
            "v1/text-to-audio",
            json={"id": message_id},
            max_bytes=max_bytes,
        )
