"""The vendor's own examples: the Speech category (issue 11, items 4 and 5).

Pages (vendor docs repository, under ``docs/speech/``): Voice_to_Text.md, Text_to_Audio.md.
"""

from __future__ import annotations

import pytest
import respx

from altabots_async import AsyncAltaBots
from altabots_async.resources.speech import VOICE_TO_TEXT_PATH
from tests._vendor_examples import assert_documented_shape, assert_request, example, last_request

pytestmark = pytest.mark.anyio

# docs/speech/Voice_to_Text.md, "Response Example" (as printed).
TRANSCRIPT = example("""
{
  "text": "Hi, is there anything I can help you?"
}
""")

# docs/speech/Text_to_Audio.md, request body (as printed); its "Response Example" is the
# words "Byte stream, streaming return." (no JSON).
AUDIO_REQUEST = example('{"id": "Message id"}')


async def test_voice_to_text_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """By default the upload goes where the page's curl example sends it, ``/v1/identify``,
    as multipart with a ``file`` part; the example answer decodes."""
    route = router.post("/v1/identify").respond(200, json=TRANSCRIPT)

    result = await client.speech.voice_to_text(b"ID3audio", filename="question.mp3")

    sent = last_request(route)
    assert_request(sent, "POST", "/v1/identify", query=[])
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="question.mp3"' in sent.content
    assert b"ID3audio" in sent.content
    assert result.text == "Hi, is there anything I can help you?"
    assert result.to_dict() == TRANSCRIPT
    assert VOICE_TO_TEXT_PATH == "/v1/identify"


async def test_voice_to_text_url_line_path_on_request(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The page's "Request URL" line, ``/v1/bot/identify``, stays reachable with ``path=``."""
    route = router.post("/v1/bot/identify").respond(200, json=TRANSCRIPT)

    result = await client.speech.voice_to_text(
        b"ID3audio", filename="question.mp3", path="/v1/bot/identify"
    )

    assert route.call_count == 1
    assert result.text == TRANSCRIPT["text"]


async def test_text_to_audio_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """``POST /v1/text-to-audio {"id"}``; the byte stream comes back as bytes."""
    route = router.post("/v1/text-to-audio").respond(
        200, content=b"ID3\x04audio-bytes", headers={"content-type": "audio/mpeg"}
    )

    audio = await client.speech.text_to_audio("Message id")

    assert_request(last_request(route), "POST", "/v1/text-to-audio", body=AUDIO_REQUEST)
    assert audio == b"ID3\x04audio-bytes"


async def test_simulator_answers_voice_to_text_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator transcribes on the default path, in the example's form."""
    raw = await sim_client.speech.with_raw_response.voice_to_text(b"RIFF", filename="q.wav")

    assert raw.http_response.request.url.path == "/v1/identify"
    assert_documented_shape(raw.body, TRANSCRIPT)
