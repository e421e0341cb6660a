"""The vendor's own examples: the History category (issue 11, item 5).

Pages (vendor docs repository, under ``docs/history/``): Get_Correlated_Document_.md,
Get_Q_A_List_.md.
"""

from __future__ import annotations

import pytest
import respx

from altabots_async import AsyncAltaBots, BadRequestError
from tests._vendor_examples import (
    assert_contains,
    assert_documented_shape,
    assert_request,
    example,
    last_request,
)

pytestmark = pytest.mark.anyio

# docs/history/Get_Correlated_Document_.md, "Response Example" (as printed).
REFERENCES = example("""
{
    "code": 0,
    "msg": "success",
    "data": {
        "conversationId": "65dc320df07244300b25b993",
        "questionId": "65dc323ef07244300b25b9c5",
        "answerId": "65dc323ef07244300b25b9c6",
        "refDoc": [
            {
                "dataId": "65dc3234f07244300b25b9b9",
                "dataName": "歷史資料",
                "sourceUrl": "https://www.example.com/history"
            }
        ]
    }
}
""")

# docs/history/Get_Q_A_List_.md, "Response Example" (as printed).
QA = example("""
{
    "qa": [
        {
            "id": "xxxxxx",
            "q_time": 1699891200,
            "q": "xxxxxx",
            "a": "xxxxxx",
            "user_feedback": "GOOD",
            "convo_id": "xxxxxx",
            "convo_type": "API",
            "aid": "xxxxxx",
            "user_id": "xxxxxx"
        },
        {
            "id": "xxxxxx",
            "q_time": 1699891214,
            "q": "xxxxxx",
            "a": "xxxxxx",
            "user_feedback": "BAD",
            "convo_id": "xxxxxx",
            "convo_type": "API",
            "aid": "xxxxxx",
            "user_id": "xxxxxx"
        }
    ]
}
""")


async def test_get_correlated_document_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``POST /v1/bot/data/references {"message_id"}``; the ``{code, msg, data}`` answer
    is unwrapped and its camelCase fields decode."""
    route = router.post("/v1/bot/data/references").respond(200, json=REFERENCES)

    references = await client.conversations.references("xxxxx")

    assert_request(
        last_request(route), "POST", "/v1/bot/data/references", body={"message_id": "xxxxx"}
    )
    assert (references.conversation_id, references.answer_id) == (
        "65dc320df07244300b25b993",
        "65dc323ef07244300b25b9c6",
    )
    [doc] = references.ref_doc
    assert (doc.data_id, doc.data_name, doc.source_url) == (
        "65dc3234f07244300b25b9b9",
        "歷史資料",
        "https://www.example.com/history",
    )
    assert_contains(references.to_dict(), REFERENCES["data"])


async def test_correlated_document_failure_uses_msg(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The page's failure response is ``{code, msg}`` (not ``message``): read as an error."""
    router.post("/v1/bot/data/references").respond(
        200, json={"code": 40000, "msg": "Invalid parameter"}
    )

    with pytest.raises(BadRequestError) as info:
        await client.conversations.references("xxxxx")

    assert info.value.message == "Invalid parameter"


async def test_get_q_a_list_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The curl example's query; both pairs decode (``aid`` too, which only the example
    shows)."""
    route = router.get("/v1/message/qa/record/page").respond(200, json=QA)

    page = await client.conversations.qa_records(
        start_time=1732982400000, end_time=1735660799999, user_feedback="ALL", page=1, page_size=10
    )

    assert_request(
        last_request(route),
        "GET",
        "/v1/message/qa/record/page",
        query=[
            ("page", "1"),
            ("page_size", "10"),
            ("start_time", "1732982400000"),
            ("end_time", "1735660799999"),
            ("user_feedback", "ALL"),
        ],
    )
    assert [(r.q_time, r.user_feedback, r.aid) for r in page.qa] == [
        (1699891200, "GOOD", "xxxxxx"),
        (1699891214, "BAD", "xxxxxx"),
    ]
    assert page.to_dict() == QA


async def test_simulator_answers_history_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator's references and Q&A list have the examples' keys and kinds."""
    conversation = await sim_client.conversations.create(user_id="u1")
    reply = await sim_client.conversations.send_message(conversation.conversation_id, "hello")
    await sim_client.conversations.feedback(reply.message_id, "POSITIVE")

    references = await sim_client.conversations.with_raw_response.references(reply.message_id)
    qa = await sim_client.conversations.with_raw_response.qa_records(
        start_time=0, end_time=2_000_000_000_000
    )

    assert_documented_shape(references.body, REFERENCES)
    assert qa.body["qa"]
    assert_documented_shape(qa.body, QA)
