"""The vendor's own examples: the overview page and the Account category (issue 11, item 5).

Pages (vendor docs repository, under ``docs/``): ``altabots-openapi.md``,
``account/_Get_Agent_Information_.md``.
"""

from __future__ import annotations

import pytest
import respx

from altabots_async import AsyncAltaBots, BadRequestError
from altabots_async.types import Agent
from tests._vendor_examples import assert_documented_shape, assert_request, example, last_request

pytestmark = pytest.mark.anyio

# docs/account/_Get_Agent_Information_.md, "Response Example" (copied as printed).
AGENT = example("""
{
  "bot_id": "645dd86606931c4a9e0ffb1e",
  "name": "Conversational App",
  "logo": "https://altatech.ai/images/default_avatar.png",
  "bot_type": "QuestionAnswer",
  "welcome_message": "Welcome message when user first uses the bot",
  "introduction": "Introduction of the agent",
  "tags": "Tags of the agent",
  "identity_prompt": "Identity prompt of the agent",
  "ai_model": "ChatGPT",
  "ai_model_version": "3.5",
  "creativity_level": 0.3,
  "doc_correlation": 0.2,
  "irrelevant_questions": true,
  "question_limit": 100,
  "long_term_memory": true
}
""")


async def test_get_agent_information_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``GET /v1/bot/detail`` with no body; the example decodes whole, ``tags`` (a string in
    the example) as a one-item list."""
    route = router.get("/v1/bot/detail").respond(200, json=AGENT)

    agent = await client.agent.retrieve()

    assert_request(last_request(route), "GET", "/v1/bot/detail", query=[])
    assert last_request(route).content == b""
    assert agent == Agent(
        "645dd86606931c4a9e0ffb1e",
        name="Conversational App",
        logo="https://altatech.ai/images/default_avatar.png",
        bot_type="QuestionAnswer",
        welcome_message="Welcome message when user first uses the bot",
        introduction="Introduction of the agent",
        tags=["Tags of the agent"],  # type: ignore[arg-type]
        identity_prompt="Identity prompt of the agent",
        ai_model="ChatGPT",
        ai_model_version="3.5",
        creativity_level=0.3,
        doc_correlation=0.2,
        irrelevant_questions=True,
        question_limit=100,
        long_term_memory=True,
    )
    assert agent.decode_errors == ()


async def test_get_agent_information_table_form(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The field table types ``tags`` as an array: that form decodes too."""
    router.get("/v1/bot/detail").respond(200, json={**AGENT, "tags": ["a", "b"]})

    agent = await client.agent.retrieve()

    assert agent.tags == ["a", "b"]
    assert agent.decode_errors == ()


async def test_simulator_answers_agent_information_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator's ``/v1/bot/detail`` has the example's keys and kinds (``tags`` in the
    table's array form)."""
    raw = await sim_client.agent.with_raw_response.retrieve()

    assert_documented_shape(raw.body, {**AGENT, "tags": ["Tags of the agent"]})


# --------------------------------------------------------------------------- overview

# docs/altabots-openapi.md, "Response Format". Repaired: the "// ..." comments removed and
# the "{ ... }" placeholders made real objects (they are not JSON as printed).
ENVELOPE = example("""
{
  "data": {"bot_id": "645dd86606931c4a9e0ffb1e", "name": "Conversational App"},
  "meta": {},
  "links": {}
}
""")

# docs/altabots-openapi.md, "Error Handling". Repaired: the "// The HTTP status code"
# comment removed.
ERROR = example("""
{
  "error": {
    "code": "error_code",
    "message": "A human-readable error message",
    "status": 400
  }
}
""")


async def test_overview_success_envelope_is_unwrapped(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """A body in the overview's ``{data, meta, links}`` envelope yields its ``data``."""
    router.get("/v1/bot/detail").respond(200, json=ENVELOPE)

    agent = await client.agent.retrieve()

    assert (agent.bot_id, agent.name) == ("645dd86606931c4a9e0ffb1e", "Conversational App")


async def test_overview_error_envelope_is_raised(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The overview's ``{"error": {code, message, status}}`` raises with its string code."""
    router.get("/v1/bot/detail").respond(400, json=ERROR)

    with pytest.raises(BadRequestError) as info:
        await client.agent.retrieve()

    assert info.value.code == "error_code"
    assert info.value.message == "A human-readable error message"
