"""The Conversation category: exact requests, example responses, validation, pagination, and
round trips against the simulator (REFERENCE §4.1, endpoints 1-15)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from altabots_async import (
    AgentDeletedError,
    AsyncAltaBots,
    BadRequestError,
    InvalidParameterError,
    KnowledgeScope,
    NotFoundError,
    ValidationError,
)
from altabots_async.resources.conversations import ConversationsResource
from altabots_async.testing import FakeClock, Plan, Simulator
from altabots_async.types import (
    Conversation,
    FeedbackResult,
    LogTree,
    MessageReply,
)

pytestmark = pytest.mark.anyio

BASE = "https://altatech.ai/"
KEY = "sk-test"
CID = "65a1b2c3d4e5f60718293a4b"
MID = "65a1b2c3d4e5f60718293a4c"
END_MS = 4_000_000_000_000

Call = Callable[[ConversationsResource], Awaitable[Any]]


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
def sim() -> Simulator:
    """A simulator on a virtual clock; the key on 1,000 requests per 60 s."""
    return Simulator({KEY: Plan.enterprise(1000, 60.0)}, clock=FakeClock())


@pytest.fixture
async def sim_client(sim: Simulator, make_client: Callable[..., Awaitable[Any]]) -> AsyncAltaBots:
    """A client on the simulator (in-process, or served over aiohttp: see ``make_client``)."""
    client: AsyncAltaBots = await make_client(sim, api_key=KEY)
    return client


# ----------------------------------------------------------------------------- reference examples

USAGE = {
    "tokens": {
        "total_tokens": 29,
        "prompt_tokens": 19,
        "completion_tokens": 10,
        "prompt_tokens_details": {"audio_tokens": 0, "text_tokens": 19},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "text_tokens": 10},
    },
    "credits": {
        "total_credits": 0.000564,
        "text_input_credits": 0.000114,
        "text_output_credits": 0.00045,
        "audio_input_credits": 0.0,
        "audio_output_credits": 0.0,
    },
}
REPLY = {
    "conversation_id": CID,
    "message_id": MID,
    "create_time": 1735023968,
    "output": [
        {
            "from_component_branch": "1",
            "from_component_name": "Component A",
            "content": {
                "text": "Hello! ",
                "audio": [{"audio": "https://a/x.mp3", "transcript": "hi"}],
            },
        },
        {"from_component_name": "Component B", "content": {"text": "How can I help?"}},
    ],
    "usage": USAGE,
    "citations": [
        {
            "index": "1",
            "name": "guide.pdf",
            "type": "attachment",
            "content": "chunk",
            "segment_id": "s1",
            "segment_index": 2,
            "timestamp_millis": 1735023968000,
            "data_id": "d1",
            "bot_id": "b1",
            "attachment": {
                "id": "a1",
                "url": "https://a/g.pdf",
                "name": "guide.pdf",
                "type": "pdf",
            },
            "component_id": "c1",
        }
    ],
}
LEGACY_REPLY = {
    "message_id": MID,
    "message_type": "ANSWER",
    "text": "I am fine.",
    "flow_output": [{"content": "I am fine.", "branch": "1", "from_component_name": "LLM"}],
    "create_time": 1679587005,
    "conversation_id": CID,
}
CONVERSATION_PAGE = {
    "list": [
        {
            "conversation_id": CID,
            "user_id": "u1",
            "recent_chat_time": 1722333033000,
            "subject": "hello",
            "conversation_type": "API",
            "message_count": 2,
            "cost_credit": 1.25,
            "bot_id": "b1",
        }
    ],
    "total": 1,
}
MESSAGES_V2 = {
    "total": "2",
    "conversation_content": [
        {
            "message_id": "q1",
            "parent_message_id": "",
            "create_time": 1722333033000,
            "feedback": "",
            "role": "user",
            "content": [
                {
                    "from_component_branch": "",
                    "branch_content": [
                        {"type": "text", "text": "what is this?"},
                        {"type": "image", "image": [{"url": "https://a/i.png", "format": "png"}]},
                    ],
                }
            ],
        },
        {
            "message_id": "a1",
            "parent_message_id": "q1",
            "create_time": 1722333034000,
            "feedback": "POSITIVE",
            "role": "assistant",
            "content": [
                {
                    "from_component_branch": "1",
                    "branch_content": [{"type": "text", "text": "A cat."}],
                }
            ],
        },
    ],
}
MESSAGES_V1 = {
    "total": 1,
    "messages": [
        {
            "message_id": "q1",
            "parent_message_id": None,
            "message_type": "QUESTION",
            "text": "hi",
            "create_time": 1679587005000,
        }
    ],
}
DATASET = {
    "conversation_id": CID,
    "question_id": "q1",
    "answer_id": MID,
    "correlate_dataset": [
        {
            "content": "chunk text",
            "data_id": "d1",
            "data_name": "faq.pdf",
            "source_url": "https://a/faq.pdf",
            "score": 0.8132,
        }
    ],
}
REFERENCES = {
    "code": 0,
    "msg": "success",
    "data": {
        "conversationId": CID,
        "questionId": "q1",
        "answerId": MID,
        "refDoc": [{"dataId": "d1", "dataName": "faq.pdf", "sourceUrl": "https://a/faq.pdf"}],
    },
}
QA = {
    "qa": [
        {
            "id": "r1",
            "q_time": 1722333033,
            "q": "hi",
            "a": "hello",
            "user_feedback": "GOOD",
            "convo_id": CID,
            "convo_type": "API",
            "aid": MID,
            "user_id": "u1",
        }
    ]
}
LOGTREE = {
    "msgId": MID,
    "conversationId": CID,
    "traceId": "t1",
    "treeData": [
        {
            "logComponentName": "Agent",
            "logComponentType": "AGENT",
            "actionName": "run",
            "runningStatus": "SUCCESS",
            "input": "hi",
            "output": "hello",
            "latencyMillis": 321,
            "inputTokens": 5,
            "outputTokens": 7,
            "extension": None,
            "children": [{"logComponentName": "LLM", "runningStatus": "SUCCESS", "children": []}],
        }
    ],
    "summary": {
        "runningStatus": "SUCCESS",
        "totalLatencyMillis": 321,
        "totalTokens": 12,
        "stepCount": 2,
        "credit": 0.5,
    },
}

# Each case: id, the call, method, path, expected query (GET) or JSON body (POST), the response
# body, and a check of the parsed result.
CASES: list[Any] = [
    pytest.param(
        lambda c: c.create(user_id="u1"),
        "POST",
        "/v1/conversation",
        {"user_id": "u1"},
        {"conversation_id": CID},
        lambda r: r == Conversation(CID),
        id="1-create",
    ),
    pytest.param(
        lambda c: c.send_message(
            CID,
            "hi",
            short_term_memory=True,
            long_term_memory=False,
            knowledge=KnowledgeScope(group_ids=["g1"], data_ids=[]),
            custom_variables={"var_current_url": "https://x"},
            corner_citation=True,
        ),
        "POST",
        "/v2/conversation/message",
        {
            "conversation_id": CID,
            "response_mode": "blocking",
            "messages": [{"role": "user", "content": "hi"}],
            "conversation_config": {
                "short_term_memory": True,
                "long_term_memory": False,
                "corner_citation": True,
                "knowledge": {"group_ids": ["g1"], "data_ids": []},
                "custom_variables": {"var_current_url": "https://x"},
            },
        },
        REPLY,
        lambda r: (
            r.text == "Hello! How can I help?"
            and r.usage.credits.total_credits == 0.000564
            and r.usage.tokens.completion_tokens_details.reasoning_tokens == 0
            and r.citations[0].attachment.url == "https://a/g.pdf"
            and r.output[0].content.audio[0].transcript == "hi"
        ),
        id="2-send-blocking",
    ),
    pytest.param(
        lambda c: c.send_message(
            CID,
            messages=[
                {"role": "assistant", "content": "earlier"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image", "image": [{"url": "https://a/i.png", "format": "png"}]},
                    ],
                },
            ],
        ),
        "POST",
        "/v2/conversation/message",
        {
            "conversation_id": CID,
            "response_mode": "blocking",
            "messages": [
                {"role": "assistant", "content": "earlier"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image", "image": [{"url": "https://a/i.png", "format": "png"}]},
                    ],
                },
            ],
        },
        REPLY,
        lambda r: isinstance(r, MessageReply),
        id="2-send-messages",
    ),
    pytest.param(
        lambda c: c.send_message_webhook(CID, "hi"),
        "POST",
        "/v2/conversation/message",
        {
            "conversation_id": CID,
            "response_mode": "webhook",
            "messages": [{"role": "user", "content": "hi"}],
        },
        {},
        lambda r: r.message_id is None,
        id="2-send-webhook",
    ),
    pytest.param(
        lambda c: c.send_message_v1(
            CID,
            "hi",
            files=[{"url": "https://a/i.png", "name": "i.png"}],
            short_term_memory=True,
            knowledge_data_ids=["d1"],
        ),
        "POST",
        "/v1/conversation/message",
        {
            "conversation_id": CID,
            "response_mode": "blocking",
            "text": "hi",
            "files": [{"url": "https://a/i.png", "name": "i.png"}],
            "short_term_memory": True,
            "knowledge": {"data_ids": ["d1"]},
        },
        LEGACY_REPLY,
        lambda r: r.text == "I am fine." and r.flow_output[0].from_component_name == "LLM",
        id="3-send-v1",
    ),
    pytest.param(
        lambda c: c.list(start_time=1, end_time=2, user_id="u1", page=2, page_size=50),
        "GET",
        "/v1/bot/conversation/page",
        {
            "conversation_type": "ALL",
            "start_time": "1",
            "end_time": "2",
            "page": "2",
            "page_size": "50",
            "user_id": "u1",
        },
        CONVERSATION_PAGE,
        lambda r: r.total == 1 and r.conversations[0].cost_credit == 1.25,
        id="4-list",
    ),
    pytest.param(
        lambda c: c.messages(CID, page=1, page_size=100),
        "GET",
        "/v2/messages",
        {"conversation_id": CID, "page": "1", "page_size": "100"},
        MESSAGES_V2,
        lambda r: (
            r.total == 2
            and r.conversation_content[0].text == "what is this?"
            and r.conversation_content[0].content[0].branch_content[1].image[0]["format"] == "png"
            and r.conversation_content[1].feedback == "POSITIVE"
        ),
        id="5-messages",
    ),
    pytest.param(
        lambda c: c.messages_v1(CID, user_id="u1"),
        "GET",
        "/v1/messages",
        {"conversation_id": CID, "page": "1", "page_size": "20", "user_id": "u1"},
        MESSAGES_V1,
        lambda r: r.messages[0].message_type == "QUESTION" and r.total == 1,
        id="6-messages-v1",
    ),
    pytest.param(
        lambda c: c.suggested_questions(MID),
        "GET",
        "/v1/next/question",
        {"answer_id": MID},
        {"questions": ["Why?", "How?"]},
        lambda r: r.questions == ["Why?", "How?"],
        id="7-suggested",
    ),
    pytest.param(
        lambda c: c.correlated_dataset(MID),
        "GET",
        "/v1/correlate/dataset",
        {"message_id": MID},
        DATASET,
        lambda r: r.correlate_dataset[0].score == 0.8132 and r.answer_id == MID,
        id="8-dataset",
    ),
    pytest.param(
        lambda c: c.references(MID),
        "POST",
        "/v1/bot/data/references",
        {"message_id": MID},
        REFERENCES,
        lambda r: r.ref_doc[0].source_url == "https://a/faq.pdf" and r.question_id == "q1",
        id="9-references",
    ),
    pytest.param(
        lambda c: c.qa_records(start_time=1, end_time=2, user_feedback="GOOD", page_size=10),
        "GET",
        "/v1/message/qa/record/page",
        {
            "user_feedback": "GOOD",
            "start_time": "1",
            "end_time": "2",
            "page": "1",
            "page_size": "10",
        },
        QA,
        lambda r: r.qa[0].aid == MID and r.qa[0].q_time == 1722333033,
        id="10-qa",
    ),
    pytest.param(
        lambda c: c.feedback(MID, "NEGATIVE"),
        "POST",
        "/v1/message/feedback",
        {"answer_id": MID, "feedback": "NEGATIVE"},
        {"affectCount": 0},
        lambda r: r == FeedbackResult(0),
        id="11-feedback",
    ),
    pytest.param(
        lambda c: c.rate_quality(MID, "PARTIALLY_RESOLVED"),
        "POST",
        "/v1/message/quality",
        {"answer_id": MID, "quality": "PARTIALLY_RESOLVED"},
        {"affectCount": 1},
        lambda r: r == FeedbackResult(1),
        id="12-quality",
    ),
    pytest.param(
        lambda c: c.logtree(MID),
        "GET",
        "/v1/bot/logtree/query",
        {"msgid": MID},
        LOGTREE,
        lambda r: (
            isinstance(r, LogTree)
            and r.tree_data[0].children[0].log_component_name == "LLM"
            and r.summary.step_count == 2
        ),
        id="13-logtree",
    ),
    pytest.param(
        lambda c: c.human.reply("h1", "Hello from Ann", timestamp=1700000000000),
        "POST",
        "/v1/human/message/receive",
        {"conversation_id": "h1", "timestamp": 1700000000000, "body": "Hello from Ann"},
        {"code": 0, "message": "OK"},
        lambda r: r.code == 0,
        id="14-human-reply",
    ),
    pytest.param(
        lambda c: c.human.close("h1", timestamp=1700000000000),
        "POST",
        "/v1/human/close",
        {"conversation_id": "h1", "timestamp": 1700000000000},
        {"conversation_id": "h1", "timestamp": 1700000000000},
        lambda r: r.conversation_id == "h1",
        id="15-human-close",
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "sent", "answer", "check"), CASES)
async def test_request_and_example_response(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    call: Call,
    method: str,
    path: str,
    sent: dict[str, Any],
    answer: dict[str, Any],
    check: Callable[[Any], bool],
) -> None:
    """Each endpoint sends the exact method, path, query or body, and parses the example."""
    route = router.route(method=method, path=path).respond(200, json=answer)

    result = await call(client.conversations)

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    if method == "GET":
        assert dict(request.url.params) == sent
        assert request.content == b""
    else:
        assert request.url.params == httpx.QueryParams()
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == sent
    assert check(result)


async def test_human_timestamp_defaults_to_now_ms(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """Without a timestamp, the handoff calls send the current time in epoch milliseconds."""
    route = router.post("/v1/human/close").respond(200, json={"code": 0, "message": "OK"})

    await client.conversations.human.close("h1")

    stamp = json.loads(route.calls.last.request.content)["timestamp"]
    assert stamp > 1_600_000_000_000


async def test_datetimes_become_epoch_ms(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """Aware datetimes in time ranges are sent as epoch milliseconds."""
    route = router.get("/v1/bot/conversation/page").respond(200, json={"list": [], "total": 0})
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    await client.conversations.list(start_time=start, end_time=start + dt.timedelta(seconds=1))

    params = route.calls.last.request.url.params
    assert (params["start_time"], params["end_time"]) == ("1704067200000", "1704067201000")


async def test_error_code_in_body_maps_to_exception(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """A documented error body (40356) raises the mapped exception, not a model."""
    router.post("/v2/conversation/message").respond(
        200, json={"code": 40356, "message": "Conversation does not exist"}
    )

    with pytest.raises(NotFoundError) as info:
        await client.conversations.send_message(CID, "hi")

    assert info.value.code == 40356


async def test_raw_response_view(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """``with_raw_response`` works for conversation methods too."""
    router.post("/v1/conversation").respond(200, json={"conversation_id": CID})

    raw = await client.conversations.with_raw_response.create(user_id="u1")

    assert raw.status_code == 200
    assert raw.parse() == Conversation(CID)


# ----------------------------------------------------------------------------- validation

INVALID: list[Any] = [
    pytest.param(lambda c: c.create(user_id=""), "user_id", id="user_id-empty"),
    pytest.param(lambda c: c.create(user_id="x" * 33), "user_id", id="user_id-33"),
    pytest.param(lambda c: c.send_message("", "hi"), "conversation_id", id="cid-empty"),
    pytest.param(lambda c: c.send_message(CID), "messages", id="no-text-no-messages"),
    pytest.param(
        lambda c: c.send_message(CID, "hi", messages=[{"role": "user", "content": "x"}]),
        "messages",
        id="text-and-messages",
    ),
    pytest.param(lambda c: c.send_message(CID, messages=[]), "messages", id="messages-empty"),
    pytest.param(
        lambda c: c.send_message(CID, messages=[{"role": "system", "content": "x"}]),
        "messages[0].role",
        id="role-enum",
    ),
    pytest.param(
        lambda c: c.send_message(
            CID, messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
        ),
        "messages[1].role",
        id="last-not-user",
    ),
    pytest.param(
        lambda c: c.send_message(CID, messages=[{"role": "user", "content": [{"type": "video"}]}]),
        "messages[0].content[0].type",
        id="part-type",
    ),
    pytest.param(
        lambda c: c.send_message(
            CID, messages=[{"role": "user", "content": [{"type": "image", "image": [{}]}]}]
        ),
        "messages[0].content[0].image[0]",
        id="part-file",
    ),
    pytest.param(
        lambda c: c.send_message(CID, "hi", short_term_memory="yes"),
        "conversation_config.short_term_memory",
        id="bool",
    ),
    pytest.param(
        lambda c: c.send_message(CID, "hi", knowledge={"groups": ["g"]}),
        "knowledge",
        id="knowledge-keys",
    ),
    pytest.param(lambda c: c.send_message_v1(CID), "text", id="v1-nothing"),
    pytest.param(
        lambda c: c.list(start_time=5, end_time=4), "start_time", id="list-start-after-end"
    ),
    pytest.param(
        lambda c: c.list(start_time=0, end_time=1, page_size=101), "page_size", id="list-size"
    ),
    pytest.param(lambda c: c.list(start_time=0, end_time=1, page=0), "page", id="list-page"),
    pytest.param(
        lambda c: c.list(start_time=0, end_time=1, user_id="x" * 33), "user_id", id="list-uid"
    ),
    pytest.param(
        lambda c: c.list(start_time=dt.datetime(2024, 1, 1), end_time=1),
        "start_time",
        id="naive-datetime",
    ),
    pytest.param(lambda c: c.messages(CID, page_size=0), "page_size", id="messages-size"),
    pytest.param(lambda c: c.messages_v1(CID, page_size=500), "page_size", id="v1-size"),
    pytest.param(
        lambda c: c.qa_records(start_time=0, end_time=1, page_size=9), "page_size", id="qa-size"
    ),
    pytest.param(
        lambda c: c.qa_records(start_time=0, end_time=1, user_feedback="MEH"),
        "user_feedback",
        id="qa-feedback",
    ),
    pytest.param(lambda c: c.feedback(MID, "LIKE"), "feedback", id="feedback-enum"),
    pytest.param(lambda c: c.feedback("", "POSITIVE"), "answer_id", id="feedback-id"),
    pytest.param(lambda c: c.rate_quality(MID, "GOOD"), "quality", id="quality-enum"),
    pytest.param(lambda c: c.suggested_questions(""), "answer_id", id="suggest-id"),
    pytest.param(lambda c: c.correlated_dataset(""), "message_id", id="dataset-id"),
    pytest.param(lambda c: c.references(""), "message_id", id="references-id"),
    pytest.param(lambda c: c.logtree(""), "msgid", id="logtree-id"),
    pytest.param(lambda c: c.human.reply("h1", ""), "body", id="human-body"),
    pytest.param(lambda c: c.human.close(""), "conversation_id", id="human-close-id"),
]


@pytest.mark.parametrize(("call", "field"), INVALID)
async def test_validation_raises_before_any_request(
    client: AsyncAltaBots, router: respx.MockRouter, call: Call, field: str
) -> None:
    """Each documented limit raises ValidationError naming the field; nothing is sent."""
    with pytest.raises(ValidationError) as info:
        await call(client.conversations)

    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, InvalidParameterError)
    assert len(router.calls) == 0
    assert client.rate_limit.granted == 0


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.list_all(start_time=2, end_time=1), id="list_all-range"),
        pytest.param(lambda c: c.messages_all(CID, page_size=0), id="messages_all-size"),
        pytest.param(
            lambda c: c.qa_records_all(start_time=0, end_time=1, page_size=5), id="qa_all-size"
        ),
        pytest.param(lambda c: c.stream_message(CID, messages=[]), id="stream-messages"),
    ],
)
def test_iterators_validate_at_call_time(
    router: respx.MockRouter, call: Callable[[ConversationsResource], Any]
) -> None:
    """Pagers and streams check their arguments when created, before any iteration."""
    client = AsyncAltaBots(api_key=KEY, transport=httpx.MockTransport(router.handler))

    with pytest.raises(ValidationError):
        call(client.conversations)

    assert len(router.calls) == 0


# ----------------------------------------------------------------------------- pagination


def _summary(index: int) -> dict[str, Any]:
    return {"conversation_id": f"c{index:03d}", "recent_chat_time": index}


@pytest.mark.parametrize("total", [0, 3, 5, 12])
async def test_list_all_walks_every_page(
    client: AsyncAltaBots, router: respx.MockRouter, total: int
) -> None:
    """list_all yields every row of 0, 1 or many pages. ``total`` is trusted only while it
    says more rows remain (the page calls it "Number of conversations returned", which may be
    one page's count): a full last page costs one more request, never a lost page."""
    rows = [_summary(i) for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        return httpx.Response(
            200, json={"list": rows[(page - 1) * size : page * size], "total": total}
        )

    route = router.get("/v1/bot/conversation/page").mock(side_effect=answer)

    found = [
        c.conversation_id
        async for c in client.conversations.list_all(start_time=0, end_time=END_MS, page_size=5)
    ]

    assert found == [row["conversation_id"] for row in rows]
    assert route.call_count == total // 5 + 1


async def test_list_all_survives_a_total_that_counts_one_page(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """A server whose ``total`` is the number of rows it returned on this page (one reading of
    the vendor page) still has every row walked."""
    rows = [_summary(i) for i in range(12)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        items = rows[(page - 1) * 5 : page * 5]
        return httpx.Response(200, json={"list": items, "total": len(items)})

    router.get("/v1/bot/conversation/page").mock(side_effect=answer)

    found = await client.conversations.list_all(
        start_time=0, end_time=END_MS, page_size=5
    ).to_list()

    assert [c.conversation_id for c in found] == [row["conversation_id"] for row in rows]


async def test_next_page_only_when_needed(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The next page is requested only after the last item of the current one is consumed."""
    rows = [_summary(i) for i in range(3)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"list": rows[(page - 1) * 2 : page * 2], "total": 3})

    route = router.get("/v1/bot/conversation/page").mock(side_effect=answer)
    pager = client.conversations.list_all(start_time=0, end_time=END_MS, page_size=2)
    iterator = aiter(pager)

    assert route.call_count == 0
    await anext(iterator)
    await anext(iterator)
    assert route.call_count == 1
    await anext(iterator)
    assert route.call_count == 2
    with pytest.raises(StopAsyncIteration):
        await anext(iterator)
    assert route.call_count == 2


async def test_qa_records_all_without_total(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """QA pages carry no total: a full page asks for the next, a short one ends the walk."""
    rows = [{"id": f"r{i}"} for i in range(20)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"qa": rows[(page - 1) * 10 : page * 10]})

    route = router.get("/v1/message/qa/record/page").mock(side_effect=answer)

    found = await client.conversations.qa_records_all(
        start_time=0, end_time=END_MS, page_size=10
    ).to_list()

    assert [r.id for r in found] == [r["id"] for r in rows]
    assert route.call_count == 3


async def test_messages_all_string_total(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """messages_all reads the string ``total`` and stops without asking for a page too far."""
    rows = [{"message_id": f"m{i}", "role": "user"} for i in range(3)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(
            200, json={"total": "3", "conversation_content": rows[(page - 1) * 2 : page * 2]}
        )

    route = router.get("/v2/messages").mock(side_effect=answer)

    found = await client.conversations.messages_all(CID, page_size=2).to_list()

    assert [m.message_id for m in found] == ["m0", "m1", "m2"]
    assert route.call_count == 2


async def test_messages_v1_all_with_limit(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """messages_v1_all honours ``limit`` without fetching more pages (and closes its inner
    page generator: no unraisable warning under trio)."""
    route = router.get("/v1/messages").respond(
        200, json={"total": 50, "messages": [{"message_id": f"m{i}"} for i in range(10)]}
    )

    found = await client.conversations.messages_v1_all(CID, page_size=10, limit=3).to_list()

    assert [m.message_id for m in found] == ["m0", "m1", "m2"]
    assert route.call_count == 1


# ----------------------------------------------------------------------------- simulator


@pytest.fixture
async def exchange(sim_client: AsyncAltaBots) -> tuple[str, MessageReply]:
    """A conversation on the simulator with one blocking exchange."""
    conv = await sim_client.conversations.create(user_id="user-1")
    reply = await sim_client.conversations.send_message(conv.conversation_id, "hello there")
    return conv.conversation_id, reply


async def test_sim_create_and_send(sim: Simulator, exchange: tuple[str, MessageReply]) -> None:
    """A created conversation can be messaged; the reply echoes the text with usage."""
    cid, reply = exchange

    assert reply.conversation_id == cid
    assert reply.text == "Echo: hello there"
    assert reply.usage is not None and reply.usage.tokens is not None
    assert reply.usage.tokens.total_tokens == 5
    assert [r.path for r in sim.requests()] == ["/v1/conversation", "/v2/conversation/message"]
    assert sim.over_quota_count() == 0


async def test_sim_send_v1_and_webhook(
    sim: Simulator, sim_client: AsyncAltaBots, exchange: tuple[str, MessageReply]
) -> None:
    """The v1 and webhook-mode sends work; webhook mode stores the W1 push in the outbox."""
    from altabots_async.testing._endpoints.conversations import conversation_store

    cid, _ = exchange
    legacy = await sim_client.conversations.send_message_v1(cid, "old style")
    accepted = await sim_client.conversations.send_message_webhook(cid, "push me")

    assert legacy.text == "Echo: old style" and legacy.message_type == "ANSWER"
    pushed = sim_client.webhooks.parse(conversation_store(sim, KEY).outbox[-1])
    assert isinstance(pushed, MessageReply)
    assert pushed.message_id == accepted.message_id
    assert pushed.text == "Echo: push me"


async def test_sim_list_and_messages(
    sim_client: AsyncAltaBots, exchange: tuple[str, MessageReply]
) -> None:
    """The conversation is listed with its totals; its messages are listed by v2 and v1."""
    cid, reply = exchange
    page = await sim_client.conversations.list(start_time=0, end_time=END_MS, user_id="user-1")
    v2 = await sim_client.conversations.messages(cid)
    v1 = await sim_client.conversations.messages_v1(cid)
    others = await sim_client.conversations.list(start_time=0, end_time=END_MS, user_id="nobody")

    assert page.total == 1
    assert page.conversations[0].conversation_id == cid
    assert page.conversations[0].message_count == 2
    assert v2.total == 2
    assert [m.role for m in v2.conversation_content] == ["user", "assistant"]
    assert v2.conversation_content[1].text == reply.text
    assert [m.message_type for m in v1.messages] == ["QUESTION", "ANSWER"]
    assert others.total == 0 and others.conversations == []


async def test_sim_pagination_many_pages(sim: Simulator, sim_client: AsyncAltaBots) -> None:
    """list_all and messages_all walk many simulator pages, one request each."""
    ids = [
        (await sim_client.conversations.create(user_id=f"u{i}")).conversation_id for i in range(5)
    ]
    for _ in range(3):
        await sim_client.conversations.send_message(ids[0], "again")
    before = len(sim.requests())

    listed = await sim_client.conversations.list_all(
        start_time=0, end_time=END_MS, page_size=2
    ).to_list()
    messages = await sim_client.conversations.messages_all(ids[0], page_size=4).to_list()

    assert sorted(c.conversation_id for c in listed) == sorted(ids)
    assert len(messages) == 6
    assert len(sim.requests()) - before == 3 + 2


async def test_sim_feedback_quality_and_qa(
    sim: Simulator, sim_client: AsyncAltaBots, exchange: tuple[str, MessageReply]
) -> None:
    """Feedback and quality are recorded and show in the QA records and message details."""
    cid, reply = exchange

    feedback = await sim_client.conversations.feedback(reply.message_id, "POSITIVE")
    quality = await sim_client.conversations.rate_quality(reply.message_id, "FULLY_RESOLVED")
    good = await sim_client.conversations.qa_records(
        start_time=0, end_time=END_MS, user_feedback="GOOD"
    )
    bad = await sim_client.conversations.qa_records(
        start_time=0, end_time=END_MS, user_feedback="BAD"
    )
    details = await sim_client.conversations.messages(cid)

    assert feedback.affect_count == 1 and quality.affect_count == 1
    assert [(r.aid, r.user_feedback, r.q) for r in good.qa] == [
        (reply.message_id, "GOOD", "hello there")
    ]
    assert bad.qa == []
    assert details.conversation_content[1].feedback == "POSITIVE"


async def test_sim_reply_insights(
    sim_client: AsyncAltaBots, exchange: tuple[str, MessageReply]
) -> None:
    """Suggested questions, correlated dataset, references and logtree describe the reply."""
    cid, reply = exchange

    questions = await sim_client.conversations.suggested_questions(reply.message_id)
    dataset = await sim_client.conversations.correlated_dataset(reply.message_id)
    refs = await sim_client.conversations.references(reply.message_id)
    tree = await sim_client.conversations.logtree(reply.message_id)

    assert questions.questions[0] == "Tell me more about hello there"
    assert dataset.answer_id == reply.message_id and dataset.conversation_id == cid
    assert refs.answer_id == reply.message_id
    assert refs.ref_doc[0].data_id == dataset.correlate_dataset[0].data_id
    assert tree.msg_id == reply.message_id
    assert tree.tree_data is not None and tree.tree_data[0].output == reply.text


async def test_sim_human_handoff(sim: Simulator, sim_client: AsyncAltaBots) -> None:
    """A human reply is recorded; after close, further replies are refused (40000)."""
    from altabots_async.testing._endpoints.conversations import conversation_store

    ack = await sim_client.conversations.human.reply("handoff-1", "Hi, Ann here")
    closed = await sim_client.conversations.human.close("handoff-1", timestamp=1)

    assert ack.code == 0 and closed.conversation_id == "handoff-1"
    record = conversation_store(sim, KEY).handoffs["handoff-1"]
    assert record["closed"] is True
    assert record["replies"][0]["body"] == "Hi, Ann here"
    with pytest.raises(BadRequestError):
        await sim_client.conversations.human.reply("handoff-1", "still there?")


async def test_sim_documented_errors(sim: Simulator, sim_client: AsyncAltaBots) -> None:
    """Unknown conversation: 40356; unknown answer: 40000; agent deleted on create: 40378."""
    with pytest.raises(NotFoundError) as missing:
        await sim_client.conversations.send_message("0" * 24, "hi")
    with pytest.raises(BadRequestError) as bad:
        await sim_client.conversations.suggested_questions("0" * 24)
    sim.state.store(sim.fingerprint(KEY)).agent_deleted = True
    with pytest.raises(AgentDeletedError) as deleted:
        await sim_client.conversations.create(user_id="u1")

    assert (missing.value.code, bad.value.code, deleted.value.code) == (40356, 40000, 40378)


async def test_sim_every_call_goes_through_the_scheduler(
    sim: Simulator, sim_client: AsyncAltaBots, exchange: tuple[str, MessageReply]
) -> None:
    """Every conversation call takes one permit and is counted by the server."""
    cid, reply = exchange
    granted = sim_client.rate_limit.granted
    counted = len(sim.requests())

    await sim_client.conversations.messages(cid)
    await sim_client.conversations.feedback(reply.message_id, "NEGATIVE")
    await sim_client.conversations.human.close("h", timestamp=1)

    assert sim_client.rate_limit.granted - granted == 3
    assert len(sim.requests()) - counted == 3
    assert sim_client.rate_limit.in_flight == 0


def test_resources_are_client_attributes() -> None:
    """``client.conversations``, its ``human`` sub-resource and ``client.webhooks`` exist."""
    client = AsyncAltaBots(api_key=KEY)

    assert isinstance(client.conversations, ConversationsResource)
    assert client.conversations.human.__class__.__name__ == "HumanHandoffResource"
    assert callable(client.webhooks.parse)
    assert KEY not in repr(client.conversations)
    assert KEY not in repr(client.conversations.human)


async def test_every_public_method_takes_one_permit(
    sim: Simulator, sim_client: AsyncAltaBots, exchange: tuple[str, MessageReply]
) -> None:
    """Walking every public method of the category: each request takes exactly one permit."""
    cid, reply = exchange
    conversations = sim_client.conversations
    mid = reply.message_id
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "create": lambda: conversations.create(user_id="walker"),
        "send_message": lambda: conversations.send_message(cid, "one"),
        "stream_message": lambda: conversations.stream_message(cid, "two").final(),
        "send_message_webhook": lambda: conversations.send_message_webhook(cid, "three"),
        "send_message_v1": lambda: conversations.send_message_v1(cid, "four"),
        "list": lambda: conversations.list(start_time=0, end_time=END_MS),
        "list_all": lambda: conversations.list_all(start_time=0, end_time=END_MS).to_list(),
        "messages": lambda: conversations.messages(cid),
        "messages_all": lambda: conversations.messages_all(cid).to_list(),
        "messages_v1": lambda: conversations.messages_v1(cid),
        "messages_v1_all": lambda: conversations.messages_v1_all(cid).to_list(),
        "suggested_questions": lambda: conversations.suggested_questions(mid),
        "correlated_dataset": lambda: conversations.correlated_dataset(mid),
        "references": lambda: conversations.references(mid),
        "qa_records": lambda: conversations.qa_records(start_time=0, end_time=END_MS),
        "qa_records_all": lambda: conversations.qa_records_all(
            start_time=0, end_time=END_MS
        ).to_list(),
        "feedback": lambda: conversations.feedback(mid, "POSITIVE"),
        "rate_quality": lambda: conversations.rate_quality(mid, "UNRESOLVED"),
        "logtree": lambda: conversations.logtree(mid),
        "human.reply": lambda: conversations.human.reply("h-walk", "hi"),
        "human.close": lambda: conversations.human.close("h-walk"),
    }
    public = {
        name
        for name in dir(ConversationsResource)
        if not name.startswith("_") and name not in ("human", "with_raw_response")
    }
    assert public | {"human.reply", "human.close"} == set(calls)

    for name, call in calls.items():
        granted, served = sim_client.rate_limit.granted, len(sim.requests())
        await call()
        assert sim_client.rate_limit.granted - granted == 1, name
        assert len(sim.requests()) - served == 1, name
    assert sim_client.rate_limit.in_flight == 0
    assert sim.over_quota_count() == 0
