"""The vendor's own examples: the Conversation category (issue 11, item 5).

Pages (vendor docs repository, under ``docs/conversation/``): Create_Conversation.md,
Send_Message_V2.md, Get_Conversation_List.md, Get_Conversation_Detail.md,
Generate_Suggested_Questions.md, Get_Correlated_Dataset.md, Agent_Response_Feedback.md,
Agent_Feedback_Evaluation.md, Human_Handoff_Service_Webhook.md, Webhook_Mode_V2.md.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from altabots_async import AsyncAltaBots
from altabots_async.types import TextDeltaEvent
from altabots_async.webhooks import (
    HandoffEstablishEvent,
    LegacyReplyEvent,
    parse_webhook_event,
)
from tests._vendor_examples import (
    assert_contains,
    assert_documented_shape,
    assert_request,
    example,
    last_request,
)

pytestmark = pytest.mark.anyio

# --------------------------------------------------------------------------- create

# docs/conversation/Create_Conversation.md, "Request Example" body and "Response Example".
CREATE_REQUEST = example('{"user_id": "your_user_id"}')
CREATE = example('{"conversation_id": "657303a8a764d47094874bbe"}')


async def test_create_conversation_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """``POST /v1/conversation {user_id}`` gives the conversation id."""
    route = router.post("/v1/conversation").respond(200, json=CREATE)

    conversation = await client.conversations.create(user_id="your_user_id")

    assert_request(last_request(route), "POST", "/v1/conversation", body=CREATE_REQUEST)
    assert conversation.conversation_id == "657303a8a764d47094874bbe"
    assert conversation.to_dict() == CREATE


# --------------------------------------------------------------------------- send message

# docs/conversation/Send_Message_V2.md, "Request Example" body (as printed).
SEND_REQUEST = example("""
{
    "conversation_id": "686e2646cb8ee942d9a62d79",
    "response_mode": "blocking",
    "messages": [
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "I have uploaded 2 image files, please OCR and return 2 json records."
                },
                {
                    "type": "image",
                    "image": [
                        {
                            "base64_content": "<complete_base64_string>",
                            "format": "jpeg",
                            "name": "TAXI1"
                        },
                        {
                            "url": "https://altatech.ai/example.png",
                            "format": "png",
                            "name": "TAXI2"
                        }
                    ]
                },
                {
                    "type": "audio",
                    "audio": [
                        {
                            "url": "https://altatech.ai/example.mp3",
                            "format": "mp3",
                            "name": "example1 audio"
                        }
                    ]
                },
                {
                    "type": "document",
                    "document": [
                        {
                            "base64_content": "<complete_base64_string>",
                            "format": "pdf",
                            "name": "example pdf"
                        }
                    ]
                }
            ]
        }
    ],
    "conversation_config": {
        "long_term_memory": false,
        "short_term_memory": false,
        "knowledge": {
            "data_ids": [
                "58c70da0403cc812641b9356",
                "59c70da0403cc812641df35a"
            ],
            "group_ids": [
                "67c70da0403cc812641b93je",
                "69c70da0403cc812641df35f"
            ]
        },
        "custom_variables": {
            "var_current_url": "https://altatech.ai/example",
            "var_session_id": "abcdef"
        },
        "corner_citation": true
    }
}
""")

# docs/conversation/Send_Message_V2.md, the custom short-term memory example. Repaired: the
# printed fragment ("messages": [...]) is wrapped in braces to make it an object.
MEMORY_REQUEST = example("""
{
"messages": [
    {
        "role": "user",
        "content": "Hello"
    },
    {
        "role": "assistant",
        "content": "Hello! How can I assist you today?"
    },
    {
        "role": "user",
        "content": "Hello"
    }
]
}
""")

# docs/conversation/Send_Message_V2.md, "Response Example" (as printed).
REPLY = example("""
{
    "create_time": 1679587005,
    "conversation_id": "657303a8a764d47094874bbe",
    "message_id": "65a4ccfC7ce58e728d5897e0",
    "output": [
        {
            "from_component_branch": "1",
            "from_component_name": "Component Name",
            "content": {
                "text": "Hi, is there anything I can help you?",
                "audio": [
                    {
                        "audio": "http://altatech.ai/example.mp3",
                        "transcript": "Transcribed audio content"
                    }
                ]
            }
        }
    ],
    "usage": {
        "tokens": {
           "total_tokens": 29,
            "prompt_tokens": 19,
            "prompt_tokens_details": {
                "audio_tokens": 0,
                "text_tokens": 0
            },
            "completion_tokens": 10,
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "text_tokens": 0
            }
        },
        "credits": {
            "total_credits": 0.0,
            "text_input_credits": 0.0,
            "text_output_credits": 0.0,
            "audio_input_credits": 0.0,
            "audio_output_credits": 0.0
        }
    },
    "citations": [
        {
            "index": "1",
            "name": null,
            "type": "attachment",
            "content": "Text fragment of the citation",
            "segment_id": "b405464c-bbab-4a86-8",
            "segment_index": 1,
            "position": "",
            "timestamp_millis": 1772712445224,
            "data_id": "2328972389327892",
            "bot_id": "69a64bf0e01fd8172ca9826e",
            "attachment": {
                "id": "2328972389327892",
                "url": "https://altatech.ai/gfs/api/media/ailab/bot/chat/file/69a80c3cf303e87b81dfb127/20260305200722sus8a5.png",
                "name": "example.png",
                "type": "png"
            },
            "component_id": null
        }
    ]
}
""")

# docs/conversation/Send_Message_V2.md, "Text message streaming data" (as printed: one JSON
# object per line).
TEXT_STREAM = """\
{"code":11,"message":"MessageInfo","data":{"message_id":"6785dba0f06d872bff9ee347"}}
{"code":3,"message":"Text","data":"I"}
{"code":3,"message":"Text","data":" can"}
{"code":3,"message":"Text","data":" help"}
{"code":3,"message":"Text","data":" you"}
{"code":3,"message":"Text","data":" with"}
{"code":3,"message":"Text","data":" that"}
{"code":3,"message":"Text","data":"."}
{"code":10,"message":"FlowOutput","data":[{"content":"Hello","branch":null,"from_component_name": "User Input"}]}
{"code":4,"message":"Cost","data":{"prompt_tokens":4922,"completion_tokens":68,"total_tokens":4990,"prompt_tokens_details":{"audio_tokens":0,"text_tokens":4922},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"text_tokens":68}}}
{"code":0,"message":"End","data":null}
"""

# docs/conversation/Send_Message_V2.md, "Audio message streaming data" (as printed).
AUDIO_STREAM = """\
{"code":11,"message":"MessageInfo","data":{"message_id":"67b857b6be1f2906861a5e75"}}
{"code":39,"message":"Audio","data":{"audioAnswer":"","transcript":"Hello"}}
{"code":39,"message":"Audio","data":{"audioAnswer":"","transcript":", please"}}
{"code":39,"message":"Audio","data":{"audioAnswer":"","transcript":" ask"}}
{"code":39,"message":"Audio","data":{"audioAnswer":"","transcript":" anything"}}
{"code":39,"message":"Audio","data":{"audioAnswer":"EQAUAA0...IA3bi","transcript":""}}
{"code":39,"message":"Audio","data":{"audioAnswer":"EQAUAA0...IA3bi","transcript":""}}
{"code":39,"message":"Audio","data":{"audioAnswer":"EQAUAA0...IA3bi","transcript":""}}
{"code":10,"message":"FlowOutput","data":[{"content":" Audio:https://altatech.ai/example.wav,Transcript:(Hello! How can I assist you today?)","audioDatas":[{"transcript":"Hello! How can I assist you today?","url":"https://altatech.ai/example.wav","seconds":3}],"from_component_name":"AI Model-1"}],"componentId":12}
{"code":4,"message":"Cost","data":{"prompt_tokens":4922,"completion_tokens":68,"total_tokens":4990,"prompt_tokens_details":{"audio_tokens":0,"text_tokens":4922},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"text_tokens":68}}}
{"code":0,"message":"End","data":null}
"""

# docs/conversation/Send_Message_V2.md, "Correlate Attachment" and "Citation" (as printed),
# followed here by an End event to close the stream.
CITATION_STREAM = """\
{"code":83,"message":"CorrelateAttachment","data":[{"dataId":"69b1580c1c34273cb83caa24","dataName":"20260310175133jdj5gy.mp4","dataType":"mp4","url":"https://altatech.ai/gfs/api/media/ailab/bot/chat/file/69aa7d15014f3d626657ac70/20260311195437gmc4dr.mp4","content":"...","segmentId":"9c92b533-f457-4840-9","segmentIndex":1,"dimensions":0,"timestampMillis":1773230092549,"position":"","componentId":null,"showDocCorrelation":null,"nodeId":null}]}
{"code":20,"message":"Citation","data":[{"citation":{"index":"1","name":null,"type":"attachment","tool":null,"doc":null,"attachment":{"id":"69b1580c1c34273cb83caa24","url":"https://altatech.ai/gfs/api/media/ailab/bot/chat/file/69aa7d15014f3d626657ac70/20260311195437gmc4dr.mp4","name":"20260310175133jdj5gy.mp4","type":"mp4","content":"..."},"segmentIndex":1,"timestampMillis":1773230092549,"position":"","segmentId":"9c92b533-f457-4840-9","botId":"697b097da21cf757465bcd0a","dataId":"69b1580c1c34273cb83caa24","toolId":null,"content":"..."}}]}
{"code":0,"message":"End","data":null}
"""


async def test_send_message_request_and_blocking_reply_examples(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The request example is exactly what ``send_message`` sends for the same arguments;
    the blocking reply example decodes whole (output, usage, citations)."""
    route = router.post("/v2/conversation/message").respond(200, json=REPLY)
    config = SEND_REQUEST["conversation_config"]

    reply = await client.conversations.send_message(
        SEND_REQUEST["conversation_id"],
        messages=SEND_REQUEST["messages"],
        long_term_memory=config["long_term_memory"],
        short_term_memory=config["short_term_memory"],
        knowledge=config["knowledge"],
        custom_variables=config["custom_variables"],
        corner_citation=config["corner_citation"],
    )

    assert_request(last_request(route), "POST", "/v2/conversation/message", body=SEND_REQUEST)
    assert reply.decode_errors == ()
    assert (reply.conversation_id, reply.message_id, reply.create_time) == (
        "657303a8a764d47094874bbe",
        "65a4ccfC7ce58e728d5897e0",
        1679587005,
    )
    assert reply.text == "Hi, is there anything I can help you?"
    [item] = reply.output
    assert item.content is not None
    assert [(a.audio, a.transcript) for a in item.content.audio] == [
        ("http://altatech.ai/example.mp3", "Transcribed audio content")
    ]
    assert reply.usage is not None and reply.usage.tokens is not None
    assert reply.usage.tokens.total_tokens == 29
    assert reply.usage.credits is not None and reply.usage.credits.total_credits == 0.0
    [citation] = reply.citations
    assert (citation.index, citation.type, citation.segment_index) == ("1", "attachment", 1)
    assert citation.attachment is not None and citation.attachment.name == "example.png"
    assert_contains(reply.to_dict(), REPLY)


async def test_send_message_custom_memory_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The short-term memory example's ``messages`` go out unchanged."""
    route = router.post("/v2/conversation/message").respond(200, json=REPLY)

    await client.conversations.send_message("c1", messages=MEMORY_REQUEST["messages"])

    sent = last_request(route)
    assert_request(
        sent,
        "POST",
        "/v2/conversation/message",
        body={"conversation_id": "c1", "response_mode": "blocking", **MEMORY_REQUEST},
    )


@pytest.mark.parametrize(
    ("stream", "message_id", "text"),
    [
        pytest.param(
            TEXT_STREAM, "6785dba0f06d872bff9ee347", "I can help you with that.", id="text"
        ),
        pytest.param(
            AUDIO_STREAM,
            "67b857b6be1f2906861a5e75",
            " Audio:https://altatech.ai/example.wav,Transcript:(Hello! How can I assist you "
            "today?)",
            id="audio",
        ),
        pytest.param(CITATION_STREAM, None, "", id="citations"),
    ],
)
async def test_streaming_examples(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    stream: str,
    message_id: str | None,
    text: str,
) -> None:
    """The page's streamed events (bare JSON lines) decode to the documented reply; the
    request says ``response_mode: streaming``."""
    route = router.post("/v2/conversation/message").respond(
        200, content=stream.encode(), headers={"content-type": "text/event-stream"}
    )

    async with client.conversations.stream_message("c1", "hi") as reply:
        events = [event async for event in reply]

    assert_request(
        last_request(route),
        "POST",
        "/v2/conversation/message",
        body={
            "conversation_id": "c1",
            "response_mode": "streaming",
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert reply.done
    assert reply.message_id == message_id
    assert reply.text == text
    assert len(events) == stream.count("\n")
    if stream is TEXT_STREAM:
        assert sum(isinstance(e, TextDeltaEvent) for e in events) == 7
        assert reply.usage is not None and reply.usage.total_tokens == 4990
    if stream is CITATION_STREAM:
        [citation] = reply.citations
        assert (citation.index, citation.bot_id) == ("1", "697b097da21cf757465bcd0a")


async def test_simulator_answers_send_message_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator's created conversation and blocking reply have the examples' keys and
    kinds (``citations`` only with ``corner_citation``, as the page says)."""
    created = await sim_client.conversations.with_raw_response.create(user_id="u1")
    assert_documented_shape(created.body, CREATE)
    conversation = created.parse()
    with_citations = await sim_client.conversations.with_raw_response.send_message(
        conversation.conversation_id, "hello", corner_citation=True
    )
    without = await sim_client.conversations.with_raw_response.send_message(
        conversation.conversation_id, "hello"
    )

    assert_documented_shape(
        with_citations.body,
        REPLY,
        optional=["body.citations", "body.output[0].content.audio"],
    )
    assert_documented_shape(
        without.body, REPLY, optional=["body.citations", "body.output[0].content.audio"]
    )
    assert "citations" not in without.body


# --------------------------------------------------------------------------- list

START, END = 1691942400000, 1699868066999  # the page's curl example

# docs/conversation/Get_Conversation_List.md, "Response Example" (as printed).
CONVERSATIONS = example("""
{
  "list": [
    {
      "conversation_id": "AaACmo05Yrqb6bOSTbsg",
      "user_id": "3",
      "recent_chat_time": 1694572952383,
      "subject": "2+3=?",
      "conversation_type": "API",
      "message_count": 2,
      "cost_credit": 0.01,
      "bot_id": "64b902a84f1ff25d1c60c10b"
    },
    {
      "conversation_id": "64ec1508c9c1ed5605e6ff28",
      "user_id": "33",
      "recent_chat_time": 1693194862160,
      "subject": "Hello!",
      "conversation_type": "API",
      "message_count": 20,
      "cost_credit": 0.59,
      "bot_id": "64b902a84f1ff25d1c60c10b"
    }
  ],
  "total": 2
}
""")


async def test_get_conversation_list_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The curl example's query; both rows decode."""
    route = router.get("/v1/bot/conversation/page").respond(200, json=CONVERSATIONS)

    page = await client.conversations.list(
        start_time=START, end_time=END, conversation_type="API", user_id="1234567890", page=1,
        page_size=50,
    )  # fmt: skip

    assert_request(
        last_request(route),
        "GET",
        "/v1/bot/conversation/page",
        query=[
            ("page", "1"),
            ("conversation_type", "API"),
            ("start_time", str(START)),
            ("end_time", str(END)),
            ("page_size", "50"),
            ("user_id", "1234567890"),
        ],
    )
    assert page.total == 2
    assert [(c.conversation_id, c.message_count, c.cost_credit) for c in page.conversations] == [
        ("AaACmo05Yrqb6bOSTbsg", 2, 0.01),
        ("64ec1508c9c1ed5605e6ff28", 20, 0.59),
    ]


# --------------------------------------------------------------------------- messages v2

# docs/conversation/Get_Conversation_Detail.md, "Example Response" (as printed).
MESSAGES = example("""
{
  "total": 2,
  "conversation_content": [
    {
      "message_id": "645dd86906931c4a9e0ffb1f",
      "parent_message_id": "545dd86906931c4a9e0ffb1f",
      "create_time": 1683871849906,
      "feedback": "POSITIVE",
      "role": "user",
      "content": [
        {
          "branch_content": [
            {
              "type": "text",
              "text": "I have uploaded 2 image files, please OCR and return 2 json records."
            },
            {
              "type": "image",
              "image": [
                {
                  "url": "https://altabots.ai/example.png",
                  "format": "jpeg",
                  "name": "TAXI1",
                  "size": 1024
                },
                {
                  "url": "https://altabots.ai/example.png",
                  "format": "png",
                  "name": "TAXI2",
                  "size": 1024
                }
              ]
            },
            {
              "type": "audio",
              "audio": [
                {
                  "url": "https://altabots.ai/example.mp3",
                  "format": "mp3",
                  "name": "example1 audio",
                  "size": 1024
                }
              ]
            },
            {
              "type": "document",
              "document": [
                {
                  "url": "https://altabots.ai/example.pdf",
                  "format": "pdf",
                  "name": "example pdf",
                  "size": 1024
                }
              ]
            }
          ]
        }
      ]
    },
    {
      "message_id": "745dd86906931c4a9e0ffb1f",
      "parent_message_id": "645dd86906931c4a9e0ffb1f",
      "create_time": 1683871849906,
      "feedback": "POSITIVE",
      "role": "assistant",
      "content": [
        {
          "from_component_branch": "1",
          "branch_content": [
            {
              "type": "text",
              "text": "Hi, is there anything I can help you?"
            },
            {
              "type": "audio",
              "audio": [
                {
                  "url": "http://altabots.ai/example.mp3",
                  "transcript": "Transcribed text content of the audio"
                }
              ]
            }
          ]
        },
        {
          "from_component_branch": "2",
          "branch_content": [
            {
              "type": "document",
              "document": [
                {
                  "url": "https://altabots.ai/example.pdf",
                  "format": "pdf",
                  "name": "example pdf"
                }
              ]
            },
            {
              "type": "image",
              "image": [
                {
                  "url": "https://altabots.ai/example.png",
                  "format": "png",
                  "name": "TAXI2"
                }
              ]
            }
          ]
        }
      ]
    }
  ]
}
""")


@pytest.mark.parametrize("total", [2, "2"], ids=["example-number", "table-string"])
async def test_get_conversation_detail_example(
    client: AsyncAltaBots, router: respx.MockRouter, total: object
) -> None:
    """``GET /v2/messages?conversation_id&page&page_size``; both messages decode; ``total``
    decodes as the example's number and as the table's string."""
    route = router.get("/v2/messages").respond(200, json={**MESSAGES, "total": total})

    page = await client.conversations.messages("xxxxxx", page=1, page_size=100)

    assert_request(
        last_request(route),
        "GET",
        "/v2/messages",
        query=[("conversation_id", "xxxxxx"), ("page", "1"), ("page_size", "100")],
    )
    assert page.total == 2
    user, assistant = page.conversation_content
    assert (user.role, assistant.role) == ("user", "assistant")
    assert user.text == "I have uploaded 2 image files, please OCR and return 2 json records."
    assert [p.type for p in user.content[0].branch_content] == [
        "text",
        "image",
        "audio",
        "document",
    ]
    assert [b.from_component_branch for b in assistant.content] == ["1", "2"]
    assert page.decode_errors == ()


# --------------------------------------------------------------------------- 7, 8, 11, 12

# docs/conversation/Generate_Suggested_Questions.md, "Response Example" (as printed).
QUESTIONS = example("""
{
    "questions": [
        "What kind of support do you need about the product?",
        "Do you have any questions about our service?",
        "Do you have any advices about our product?"
    ]
}
""")

# docs/conversation/Get_Correlated_Dataset.md, "Response Example" (as printed).
DATASET = example("""
{
    "conversation_id": "65dc320df07244300b25b993",
    "question_id": "65dc323ef07244300b25b9c5",
    "answer_id": "65dc323ef07244300b25b9c6",
    "correlate_dataset": [
        {
            "content": "The Great Wall of China was built to resist the invasion of northern nomadic tribes.",
            "data_id": "65dc3234f07244300b25b9b9",
            "data_name": "Chinese History",
            "source_url": "https://www.example.com/chinese-history",
            "score": 0.93492633
        }
    ]
}
""")

# docs/conversation/Agent_Response_Feedback.md, request body and "Response Example".
FEEDBACK_REQUEST = example('{"answer_id": "123456789", "feedback": "POSITIVE"}')
FEEDBACK = example('{"affectCount": 0}')

# docs/conversation/Agent_Feedback_Evaluation.md, request body and "Response Example".
# Repaired: the page prints the response as "{", a ```html block holding
# '"affectCount": 1', and "}"; joined back into one object.
QUALITY_REQUEST = example('{"answer_id": "123456789", "quality": "FULLY_RESOLVED"}')
QUALITY = example('{"affectCount": 1}')


async def test_generate_suggested_questions_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``GET /v1/next/question?answer_id``; the three questions."""
    route = router.get("/v1/next/question").respond(200, json=QUESTIONS)

    result = await client.conversations.suggested_questions("65deb0cb2bab4d7c8061d87d")

    assert_request(
        last_request(route),
        "GET",
        "/v1/next/question",
        query=[("answer_id", "65deb0cb2bab4d7c8061d87d")],
    )
    assert result.questions == QUESTIONS["questions"]


@pytest.mark.parametrize("score", [0.93492633, "0.93492633"], ids=["example", "table-string"])
async def test_get_correlated_dataset_example(
    client: AsyncAltaBots, router: respx.MockRouter, score: object
) -> None:
    """``GET /v1/correlate/dataset?message_id``; ``score`` is a number in the example and a
    string in the table: both decode to a float."""
    dataset = {
        **DATASET,
        "correlate_dataset": [{**DATASET["correlate_dataset"][0], "score": score}],
    }
    route = router.get("/v1/correlate/dataset").respond(200, json=dataset)

    result = await client.conversations.correlated_dataset("65e04591a0e1e42392696d78")

    assert_request(
        last_request(route),
        "GET",
        "/v1/correlate/dataset",
        query=[("message_id", "65e04591a0e1e42392696d78")],
    )
    [chunk] = result.correlate_dataset
    assert (chunk.data_name, chunk.score) == ("Chinese History", 0.93492633)
    assert result.answer_id == "65dc323ef07244300b25b9c6"


async def test_feedback_and_quality_examples(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """Feedback and quality post the examples' bodies and read ``affectCount``."""
    feedback_route = router.post("/v1/message/feedback").respond(200, json=FEEDBACK)
    quality_route = router.post("/v1/message/quality").respond(200, json=QUALITY)

    feedback = await client.conversations.feedback("123456789", "POSITIVE")
    quality = await client.conversations.rate_quality("123456789", "FULLY_RESOLVED")

    assert_request(
        last_request(feedback_route), "POST", "/v1/message/feedback", body=FEEDBACK_REQUEST
    )
    assert_request(last_request(quality_route), "POST", "/v1/message/quality", body=QUALITY_REQUEST)
    assert (feedback.affect_count, quality.affect_count) == (0, 1)
    assert quality.to_dict() == QUALITY


async def test_simulator_answers_history_reads_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator's list, messages, suggestions, dataset, feedback and quality answers
    have the examples' keys and kinds."""
    conversation = await sim_client.conversations.create(user_id="u1")
    reply = await sim_client.conversations.send_message(conversation.conversation_id, "hello")
    conversations = sim_client.conversations.with_raw_response

    listing = await conversations.list(start_time=0, end_time=2_000_000_000_000)
    messages = await conversations.messages(conversation.conversation_id)
    questions = await conversations.suggested_questions(reply.message_id)
    dataset = await conversations.correlated_dataset(reply.message_id)
    feedback = await conversations.feedback(reply.message_id, "POSITIVE")
    quality = await conversations.rate_quality(reply.message_id, "FULLY_RESOLVED")

    assert_documented_shape(listing.body, CONVERSATIONS)
    user, assistant = messages.body["conversation_content"]
    assert_documented_shape(  # "total" as the field table types it: a string
        {**messages.body, "conversation_content": []}, {**MESSAGES, "total": "2"}
    )
    documented_user = MESSAGES["conversation_content"][0]
    documented_user = {  # the table: from_component_branch is "empty for user messages"
        **documented_user,
        "content": [{"from_component_branch": "", **documented_user["content"][0]}],
    }
    assert_documented_shape(  # a first message has no parent
        user, documented_user, nullable=["body.parent_message_id"]
    )
    assert_documented_shape(assistant, MESSAGES["conversation_content"][1])
    assert_documented_shape(questions.body, QUESTIONS)
    assert_documented_shape(dataset.body, DATASET)
    assert_documented_shape(feedback.body, FEEDBACK)
    assert_documented_shape(quality.body, QUALITY)


# --------------------------------------------------------------------------- human handoff

# docs/conversation/Human_Handoff_Service_Webhook.md, "Create Conversation ID" request
# example: what AltaBots POSTs to your /conversation/establish (as printed).
ESTABLISH = example("""
{
  "body": [
    {
      "text": "human service",
      "message_type": "QUESTION"
    },
    {
      "text": "",
      "message_type": "ANSWER"
    }
  ],
  "timestamp": 1742265090895,
  "email": "bob@gmail.com",
  "conversation_id": "67d8db020fa31d1ef64f53dg",
  "bot_id": "665d88b03ce2b13cf2d573454",
  "user_info": {
    "phone": null,
    "email": "bob@gmail.com",
    "user_id": "KDslas",
    "anonymous_id": "652face5184b30540a6ea7fe"
  }
}
""")


def test_handoff_establish_example_parses() -> None:
    """The establish payload of the page parses as a handoff request."""
    event = parse_webhook_event(httpx.Response(200, json=ESTABLISH).content, {})

    assert isinstance(event, HandoffEstablishEvent)
    assert event.conversation_id == "67d8db020fa31d1ef64f53dg"
    assert [m.message_type for m in event.body] == ["QUESTION", "ANSWER"]
    assert event.user_info is not None and event.user_info.user_id == "KDslas"


async def test_handoff_reply_and_close_requests(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``/v1/human/message/receive`` takes conversation_id, timestamp and body;
    ``/v1/human/close`` conversation_id and timestamp (the page's parameter tables; it
    prints no JSON example). The close page's response table lists the same two fields."""
    reply_route = router.post("/v1/human/message/receive").respond(
        200, json={"code": 0, "message": "OK"}
    )
    close_route = router.post("/v1/human/close").respond(
        200, json={"conversation_id": "67d8db020fa31d1ef64f53dg", "timestamp": 1742265090895}
    )

    ack = await client.conversations.human.reply(
        "67d8db020fa31d1ef64f53dg", "Hello, I'm Ann.", timestamp=1742265090895
    )
    closed = await client.conversations.human.close(
        "67d8db020fa31d1ef64f53dg", timestamp=1742265090895
    )

    assert_request(
        last_request(reply_route),
        "POST",
        "/v1/human/message/receive",
        body={
            "conversation_id": "67d8db020fa31d1ef64f53dg",
            "timestamp": 1742265090895,
            "body": "Hello, I'm Ann.",
        },
    )
    assert_request(
        last_request(close_route),
        "POST",
        "/v1/human/close",
        body={"conversation_id": "67d8db020fa31d1ef64f53dg", "timestamp": 1742265090895},
    )
    assert (ack.code, ack.message) == (0, "OK")
    assert (closed.conversation_id, closed.timestamp) == (
        "67d8db020fa31d1ef64f53dg",
        1742265090895,
    )


# --------------------------------------------------------------------------- webhook mode

# docs/conversation/Webhook_Mode_V2.md, "Request Example" body: what AltaBots POSTs to your
# webhook (as printed; the legacy shape, while the page's field table is the V2 one).
WEBHOOK_PUSH = example("""
{
  "message_id": "65a4ccfC7ce58e728d5897e0",
  "message_type": "ANSWER",
  "text": "Hi, is there anything I can help you?",
  "flow_output": [
    {
      "content": "你好",
      "branch": "1",
      "from_component_name": "User Input"
    }
  ],
  "create_time": 1679587005,
  "conversation_id": "657303a8a764d47094874bbe"
}
""")


def test_webhook_mode_example_parses() -> None:
    """The webhook push of the page parses (legacy shape); the V2 shape of its field table
    is the blocking reply, whose example is tested above."""
    event = parse_webhook_event(httpx.Response(200, json=WEBHOOK_PUSH).content, {})

    assert isinstance(event, LegacyReplyEvent)
    assert event.text == "Hi, is there anything I can help you?"
    assert [item.content for item in event.flow_output] == ["你好"]
