"""Conversation endpoints (REFERENCE §4.1, 1-15) and the streaming wire format (§4.2).

Deterministic fake behaviour, per API key:

* ``POST /v1/conversation`` creates a conversation (``user_id`` <= 32 chars, else 40000; agent
  deleted: 40378). Unknown conversation ids answer 40356.
* A user message gets the reply ``"Echo: <text>"``; tokens are word counts (prompt = words of
  the question, completion = words of the reply), credits 0.001 per token.
* Streaming answers ``data: {...}`` SSE lines: code 11 (message id), several code 3 text
  deltas, code 4 (cost), code 0. ``ConversationStore.stream_fault`` makes the next streams
  break: ``"cut"`` stops after the first delta (no code 0), ``"malformed"`` sends a broken
  JSON event after it.
* Webhook mode stores the W1 payload the platform would POST in ``ConversationStore.outbox``.
* History endpoints (4, 5, 6, 10), feedback and quality, suggested questions, correlated
  dataset and references, logtree and human handoff all read or write that state.

Reach the per-key state with :func:`conversation_store`::

    store = conversation_store(sim, "sk-test")
    store.stream_fault = "cut"
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._http import Context, HTTPError, Request, Response, RouteTable
from .agent import agent_deleted

if TYPE_CHECKING:
    from .._app import Simulator
    from .._state import KeyStore

__all__ = ["ConversationStore", "conversation_store", "routes"]

routes = RouteTable()

INVALID = 40000
PAGE_BEYOND = 40005
NOT_FOUND = 40356
AGENT_DELETED_ON_CREATE = 40378
USER_ID_MAX = 32
CREDIT_PER_TOKEN = 0.001

StreamFault = Literal["cut", "malformed"]


@attrs.define
class ConversationStore:
    """The conversation state of one API key.

    Attributes:
        conversations: conversation id -> record (user_id, times, message ids).
        messages: message id -> record (role, text, times, feedback, quality, usage).
        handoffs: handoff id -> record (closed flag, human replies).
        outbox: W1 payloads webhook-mode sends would have POSTed, oldest first.
        stream_fault: None, ``"cut"`` (end the stream after the first text delta, without
            code 0) or ``"malformed"`` (send a broken event after the first delta).
    """

    conversations: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    messages: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    handoffs: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    outbox: list[dict[str, Any]] = attrs.field(factory=list)
    stream_fault: StreamFault | None = None


def _store_of(store: KeyStore) -> ConversationStore:
    value = store.data.get("conversations")
    if not isinstance(value, ConversationStore):
        value = store.data["conversations"] = ConversationStore()
    return value


def conversation_store(sim: Simulator, api_key: str) -> ConversationStore:
    """The conversation state the simulator keeps for ``api_key``."""
    return _store_of(sim.state.store(sim.fingerprint(api_key)))


def _invalid(message: str) -> HTTPError:
    return HTTPError(400, INVALID, message)


def _str_field(data: dict[str, Any], name: str, max_length: int | None = None) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{name} is required")
    if max_length is not None and len(value) > max_length:
        raise _invalid(f"{name} exceeds {max_length} characters")
    return value


def _query_str(request: Request, name: str) -> str:
    value = request.query_one(name)
    if not value:
        raise _invalid(f"{name} is required")
    return value


def _query_int(request: Request, name: str, low: int | None = None, high: int | None = None) -> int:
    raw = request.query_one(name)
    if raw is None or not raw.lstrip("-").isdigit():
        raise _invalid(f"{name} must be an integer")
    value = int(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _invalid(f"{name} out of range")
    return value


def _conversation(state: ConversationStore, conversation_id: str) -> dict[str, Any]:
    conversation = state.conversations.get(conversation_id)
    if conversation is None:
        raise HTTPError(404, NOT_FOUND, "Conversation does not exist")
    return conversation


def _answer(state: ConversationStore, answer_id: str) -> dict[str, Any]:
    message = state.messages.get(answer_id)
    if message is None or message["role"] != "assistant":
        raise _invalid("answer/message id not found")
    return message


def _ms(ctx: Context) -> int:
    return math.floor(ctx.now * 1000)


def _words(text: str) -> int:
    return len(text.split())


def _question_text(messages: Any) -> str:
    if not isinstance(messages, list) or not messages:
        raise _invalid("messages must be a non-empty array")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise _invalid("the last message must have role user")
    content = last.get("content")
    if isinstance(content, str) and content.strip():
        return content
    if isinstance(content, list) and content:
        parts: list[str] = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") not in (
                "text",
                "image",
                "audio",
                "document",
            ):
                raise _invalid("invalid content part")
            kind = part["type"]
            parts.append(str(part.get("text", "")) if kind == "text" else f"[{kind}]")
        return " ".join(parts)
    raise _invalid("message content is required")


def _usage(question: str, reply: str) -> dict[str, Any]:
    prompt, completion = _words(question), _words(reply)
    total = prompt + completion
    return {
        "tokens": {
            "total_tokens": total,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "prompt_tokens_details": {"audio_tokens": 0, "text_tokens": prompt},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "text_tokens": completion,
            },
        },
        "credits": {
            "total_credits": round(total * CREDIT_PER_TOKEN, 6),
            "text_input_credits": round(prompt * CREDIT_PER_TOKEN, 6),
            "text_output_credits": round(completion * CREDIT_PER_TOKEN, 6),
            "audio_input_credits": 0.0,
            "audio_output_credits": 0.0,
        },
    }


def _exchange(
    ctx: Context, state: ConversationStore, conversation_id: str, question: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Record a question and its deterministic answer; return both records."""
    conversation = _conversation(state, conversation_id)
    now_ms = _ms(ctx)
    question_id, answer_id = ctx.state.new_id(), ctx.state.new_id()
    reply = f"Echo: {question}"
    parent = conversation["message_ids"][-1] if conversation["message_ids"] else None
    base: dict[str, Any] = {
        "conversation_id": conversation_id,
        "create_time": now_ms,
        "feedback": "",
    }
    asked = {**base, "message_id": question_id, "role": "user", "text": question}
    asked["parent_message_id"] = parent
    answered = {**base, "message_id": answer_id, "role": "assistant", "text": reply}
    answered.update(parent_message_id=question_id, question_id=question_id, quality="NONE")
    usage = answered["usage"] = _usage(question, reply)
    state.messages[question_id] = asked
    state.messages[answer_id] = answered
    conversation["message_ids"] += [question_id, answer_id]
    conversation["recent_chat_time"] = now_ms
    conversation["cost_credit"] += usage["credits"]["total_credits"]
    if not conversation["subject"]:
        conversation["subject"] = question[:50]
    return asked, answered


def _blocking_reply(ctx: Context, answer: dict[str, Any], citations: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "conversation_id": answer["conversation_id"],
        "message_id": answer["message_id"],
        "create_time": math.floor(ctx.now),
        "output": [
            {
                "from_component_branch": "",
                "from_component_name": "",
                "content": {"text": answer["text"], "audio": []},
            }
        ],
        "usage": answer["usage"],
    }
    if citations:
        body["citations"] = []
    return body


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _deltas(text: str, pieces: int = 3) -> list[str]:
    size = max(1, math.ceil(len(text) / pieces))
    return [text[index : index + size] for index in range(0, len(text), size)]


async def _stream_events(answer: dict[str, Any], fault: StreamFault | None) -> AsyncIterator[bytes]:
    yield _sse({"code": 11, "message": "MessageInfo", "data": {"message_id": answer["message_id"]}})
    for index, delta in enumerate(_deltas(answer["text"])):
        yield _sse({"code": 3, "message": "Text", "data": delta})
        if index == 0 and fault == "cut":
            return
        if index == 0 and fault == "malformed":
            yield b'data: {"code": 3, "message": "Text", "data": oops}\n\n'
            return
    yield _sse({"code": 4, "message": "Cost", "data": answer["usage"]["tokens"]})
    yield _sse({"code": 0, "message": "End", "data": None})


@routes.post("/v1/conversation")
async def create_conversation(ctx: Context) -> Response:
    """1. POST /v1/conversation: a new conversation for ``user_id``."""
    if ctx.store.agent_deleted:
        return Response.error(404, AGENT_DELETED_ON_CREATE, "Agent has been deleted")
    data = ctx.request.json_object()
    user_id = _str_field(data, "user_id", USER_ID_MAX)
    state = _store_of(ctx.store)
    conversation_id = ctx.state.new_id()
    state.conversations[conversation_id] = {
        "conversation_id": conversation_id,
        "user_id": user_id,
        "create_time": _ms(ctx),
        "recent_chat_time": _ms(ctx),
        "subject": "",
        "conversation_type": "API",
        "cost_credit": 0.0,
        "message_ids": [],
    }
    return Response.json({"conversation_id": conversation_id})


@routes.post("/v2/conversation/message")
async def send_message(ctx: Context) -> Response:
    """2. POST /v2/conversation/message: blocking, streaming or webhook reply."""
    if ctx.store.agent_deleted:
        return agent_deleted()
    data = ctx.request.json_object()
    conversation_id = _str_field(data, "conversation_id")
    mode = data.get("response_mode")
    if mode not in ("blocking", "streaming", "webhook"):
        raise _invalid("response_mode must be blocking, streaming or webhook")
    question = _question_text(data.get("messages"))
    config = data.get("conversation_config") or {}
    if not isinstance(config, dict):
        raise _invalid("conversation_config must be an object")
    state = _store_of(ctx.store)
    _, answer = _exchange(ctx, state, conversation_id, question)
    if mode == "streaming":
        return Response.stream(_stream_events(answer, state.stream_fault))
    reply = _blocking_reply(ctx, answer, bool(config.get("corner_citation")))
    if mode == "webhook":
        state.outbox.append(reply)
        return Response.json(
            {"conversation_id": conversation_id, "message_id": answer["message_id"]}
        )
    return Response.json(reply)


@routes.post("/v1/conversation/message")
async def send_message_v1(ctx: Context) -> Response:
    """3. POST /v1/conversation/message: the legacy blocking reply shape."""
    if ctx.store.agent_deleted:
        return agent_deleted()
    data = ctx.request.json_object()
    conversation_id = _str_field(data, "conversation_id")
    text = data.get("text")
    files = data.get("files")
    if not (isinstance(text, str) and text.strip()) and not files:
        raise _invalid("text or files is required")
    question = text if isinstance(text, str) and text.strip() else "[file]"
    state = _store_of(ctx.store)
    _, answer = _exchange(ctx, state, conversation_id, question)
    return Response.json(
        {
            "message_id": answer["message_id"],
            "message_type": "ANSWER",
            "text": answer["text"],
            "flow_output": [],
            "create_time": math.floor(ctx.now),
            "conversation_id": conversation_id,
        }
    )


@routes.get("/v1/bot/conversation/page")
async def conversation_page(ctx: Context) -> Response:
    """4. GET /v1/bot/conversation/page: conversations by latest chat time, newest first."""
    if ctx.store.agent_deleted:
        return agent_deleted()
    request = ctx.request
    kind = _query_str(request, "conversation_type")
    start, end = _query_int(request, "start_time", 0), _query_int(request, "end_time", 0)
    page = _query_int(request, "page", 1)
    size = _query_int(request, "page_size", 1, 100)
    user_id = request.query_one("user_id")
    state = _store_of(ctx.store)
    bot_id = str(ctx.store.agent.get("bot_id", ""))
    rows = [
        {
            "conversation_id": conv["conversation_id"],
            "user_id": conv["user_id"],
            "recent_chat_time": conv["recent_chat_time"],
            "subject": conv["subject"],
            "conversation_type": conv["conversation_type"],
            "message_count": len(conv["message_ids"]),
            "cost_credit": round(conv["cost_credit"], 6),
            "bot_id": bot_id,
        }
        for conv in state.conversations.values()
        if start <= conv["recent_chat_time"] <= end
        and (kind == "ALL" or conv["conversation_type"] == kind)
        and (not user_id or conv["user_id"] == user_id)
    ]
    rows.sort(key=lambda row: (-row["recent_chat_time"], row["conversation_id"]))
    chunk = rows[(page - 1) * size : page * size]
    return Response.json({"list": chunk, "total": len(rows)})


def _history(ctx: Context) -> tuple[ConversationStore, list[dict[str, Any]], int, int]:
    request = ctx.request
    conversation_id = _query_str(request, "conversation_id")
    page = _query_int(request, "page", 1)
    size = _query_int(request, "page_size", 1, 100)
    state = _store_of(ctx.store)
    conversation = _conversation(state, conversation_id)
    messages = [state.messages[mid] for mid in conversation["message_ids"]]
    if page > 1 and (page - 1) * size >= len(messages):
        raise HTTPError(400, PAGE_BEYOND, "Page number exceeds the available data")
    return state, messages, page, size


@routes.get("/v2/messages")
async def messages_v2(ctx: Context) -> Response:
    """5. GET /v2/messages: a conversation's messages, oldest first; ``total`` as a string."""
    if ctx.store.agent_deleted:
        return agent_deleted()
    _, messages, page, size = _history(ctx)
    content = [
        {
            "message_id": message["message_id"],
            "parent_message_id": message["parent_message_id"],
            "create_time": message["create_time"],
            "feedback": message["feedback"],
            "role": message["role"],
            "content": [
                {
                    "from_component_branch": "",
                    "branch_content": [{"type": "text", "text": message["text"]}],
                }
            ],
        }
        for message in messages[(page - 1) * size : page * size]
    ]
    return Response.json({"total": str(len(messages)), "conversation_content": content})


@routes.get("/v1/messages")
async def messages_v1(ctx: Context) -> Response:
    """6. GET /v1/messages: the legacy list (QUESTION / ANSWER)."""
    if ctx.store.agent_deleted:
        return agent_deleted()
    _, messages, page, size = _history(ctx)
    rows = [
        {
            "message_id": message["message_id"],
            "parent_message_id": message["parent_message_id"],
            "message_type": "QUESTION" if message["role"] == "user" else "ANSWER",
            "text": message["text"],
            "create_time": message["create_time"],
        }
        for message in messages[(page - 1) * size : page * size]
    ]
    return Response.json({"total": len(messages), "messages": rows})


@routes.get("/v1/next/question")
async def next_question(ctx: Context) -> Response:
    """7. GET /v1/next/question: three follow-ups derived from the question."""
    if ctx.store.agent_deleted:
        return Response.error(404, AGENT_DELETED_ON_CREATE, "Agent has been deleted")
    state = _store_of(ctx.store)
    answer = _answer(state, _query_str(ctx.request, "answer_id"))
    topic = state.messages[answer["question_id"]]["text"][:40]
    questions = [f"Tell me more about {topic}", f"Why {topic}?", f"Examples of {topic}"]
    return Response.json({"questions": questions})


def _fake_doc(answer_id: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(f"doc\0{answer_id}".encode()).hexdigest()
    return digest[:24], f"doc-{digest[:6]}.pdf", f"https://example.com/docs/{digest[:6]}.pdf"


@routes.get("/v1/correlate/dataset")
async def correlate_dataset(ctx: Context) -> Response:
    """8. GET /v1/correlate/dataset: one deterministic chunk per reply."""
    if ctx.store.agent_deleted:
        return Response.error(404, AGENT_DELETED_ON_CREATE, "Agent has been deleted")
    state = _store_of(ctx.store)
    answer = _answer(state, _query_str(ctx.request, "message_id"))
    data_id, name, url = _fake_doc(answer["message_id"])
    return Response.json(
        {
            "conversation_id": answer["conversation_id"],
            "question_id": answer["question_id"],
            "answer_id": answer["message_id"],
            "correlate_dataset": [
                {
                    "content": state.messages[answer["question_id"]]["text"],
                    "data_id": data_id,
                    "data_name": name,
                    "source_url": url,
                    "score": 0.87,
                }
            ],
        }
    )


@routes.post("/v1/bot/data/references")
async def references(ctx: Context) -> Response:
    """9. POST /v1/bot/data/references: ``{code:0, msg:"success", data:{...camelCase}}``."""
    if ctx.store.agent_deleted:
        return Response.json(
            {"code": AGENT_DELETED_ON_CREATE, "msg": "Agent has been deleted"}, 404
        )
    data = ctx.request.json_object()
    state = _store_of(ctx.store)
    message_id = data.get("message_id")
    answer = state.messages.get(message_id) if isinstance(message_id, str) else None
    if answer is None or answer["role"] != "assistant":
        return Response.json({"code": INVALID, "msg": "message_id not found"}, 400)
    data_id, name, url = _fake_doc(answer["message_id"])
    payload = {
        "conversationId": answer["conversation_id"],
        "questionId": answer["question_id"],
        "answerId": answer["message_id"],
        "refDoc": [{"dataId": data_id, "dataName": name, "sourceUrl": url}],
    }
    return Response.json({"code": 0, "msg": "success", "data": payload})


_FEEDBACK_FILTER = {"GOOD": "POSITIVE", "BAD": "NEGATIVE", "NONE": ""}


@routes.get("/v1/message/qa/record/page")
async def qa_records(ctx: Context) -> Response:
    """10. GET /v1/message/qa/record/page: question/answer pairs, oldest first, no total."""
    if ctx.store.agent_deleted:
        return agent_deleted()
    request = ctx.request
    wanted = _query_str(request, "user_feedback")
    if wanted not in ("ALL", "NONE", "GOOD", "BAD"):
        raise _invalid("user_feedback must be ALL, NONE, GOOD or BAD")
    start, end = _query_int(request, "start_time", 0), _query_int(request, "end_time", 0)
    page = _query_int(request, "page", 1)
    size = _query_int(request, "page_size", 10, 100)
    state = _store_of(ctx.store)
    rows = []
    for answer in state.messages.values():
        if answer["role"] != "assistant":
            continue
        question = state.messages[answer["question_id"]]
        if not start <= question["create_time"] <= end:
            continue
        if wanted != "ALL" and answer["feedback"] != _FEEDBACK_FILTER[wanted]:
            continue
        conversation = state.conversations[answer["conversation_id"]]
        feedback = {"POSITIVE": "GOOD", "NEGATIVE": "BAD"}.get(answer["feedback"], "NONE")
        rows.append(
            {
                "id": question["message_id"],
                "q_time": question["create_time"] // 1000,
                "q": question["text"],
                "a": answer["text"],
                "user_feedback": feedback,
                "convo_id": answer["conversation_id"],
                "convo_type": conversation["conversation_type"],
                "aid": answer["message_id"],
                "user_id": conversation["user_id"],
            }
        )
    return Response.json({"qa": rows[(page - 1) * size : page * size]})


def _rate(ctx: Context, field: str, allowed: tuple[str, ...]) -> Response:
    if ctx.store.agent_deleted:
        return agent_deleted()
    data = ctx.request.json_object()
    answer_id = _str_field(data, "answer_id")
    value = data.get(field)
    if value not in allowed:
        raise _invalid(f"{field} must be one of {', '.join(allowed)}")
    answer = _store_of(ctx.store).messages.get(answer_id)
    if answer is None or answer["role"] != "assistant":
        return Response.json({"affectCount": 0})
    answer[field] = "" if value == "CANCELED" else value
    return Response.json({"affectCount": 1})


@routes.post("/v1/message/feedback")
async def feedback(ctx: Context) -> Response:
    """11. POST /v1/message/feedback: record POSITIVE / NEGATIVE / CANCELED."""
    return _rate(ctx, "feedback", ("POSITIVE", "NEGATIVE", "CANCELED"))


@routes.post("/v1/message/quality")
async def quality(ctx: Context) -> Response:
    """12. POST /v1/message/quality: record the quality rating."""
    return _rate(ctx, "quality", ("NONE", "UNRESOLVED", "PARTIALLY_RESOLVED", "FULLY_RESOLVED"))


@routes.get("/v1/bot/logtree/query")
async def logtree(ctx: Context) -> Response:
    """13. GET /v1/bot/logtree/query: a one-step trace of the reply."""
    if ctx.store.agent_deleted:
        return agent_deleted()
    state = _store_of(ctx.store)
    answer = _answer(state, _query_str(ctx.request, "msgid"))
    tokens = answer["usage"]["tokens"]
    question = state.messages[answer["question_id"]]
    node = {
        "logComponentName": "LLM",
        "logComponentType": "LLM",
        "actionName": "chat",
        "runningStatus": "SUCCESS",
        "input": question["text"],
        "output": answer["text"],
        "latencyMillis": 120,
        "inputTokens": tokens["prompt_tokens"],
        "outputTokens": tokens["completion_tokens"],
        "extension": None,
        "children": [],
    }
    summary = {
        "runningStatus": "SUCCESS",
        "totalLatencyMillis": 120,
        "totalTokens": tokens["total_tokens"],
        "stepCount": 1,
        "credit": answer["usage"]["credits"]["total_credits"],
    }
    return Response.json(
        {
            "msgId": answer["message_id"],
            "conversationId": answer["conversation_id"],
            "traceId": hashlib.sha256(answer["message_id"].encode()).hexdigest()[:32],
            "treeData": [node],
            "summary": summary,
        }
    )


def _handoff(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    data = ctx.request.json_object()
    handoff_id = _str_field(data, "conversation_id")
    stamp = data.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int):
        raise _invalid("timestamp is required")
    record = _store_of(ctx.store).handoffs.setdefault(
        handoff_id, {"closed": False, "replies": [], "closed_at": None}
    )
    return data, record


@routes.post("/v1/human/message/receive")
async def human_reply(ctx: Context) -> Response:
    """14. POST /v1/human/message/receive: a human agent's reply (any handoff id is
    accepted, since the simulator does not start handoffs itself)."""
    data, record = _handoff(ctx)
    body = _str_field(data, "body")
    if record["closed"]:
        raise _invalid("the handoff is closed")
    record["replies"].append({"timestamp": data["timestamp"], "body": body})
    return Response.json({"code": 0, "message": "OK"})


@routes.post("/v1/human/close")
async def human_close(ctx: Context) -> Response:
    """15. POST /v1/human/close: end the handoff; echoes the two fields."""
    data, record = _handoff(ctx)
    record["closed"] = True
    record["closed_at"] = data["timestamp"]
    return Response.json(
        {
            "code": 0,
            "message": "OK",
            "conversation_id": data["conversation_id"],
            "timestamp": data["timestamp"],
        }
    )
