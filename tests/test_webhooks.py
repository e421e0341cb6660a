"""Inbound webhooks (REFERENCE §4.7, W1-W6): shape detection, typed models, size cap, and the
optional bearer check (AltaBots documents no signature scheme)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from altabots_async import AsyncAltaBots, WebhookError, parse_webhook_event
from altabots_async.types import LegacyReply, MessageReply
from altabots_async.webhooks import (
    DEFAULT_MAX_WEBHOOK_BYTES,
    HandoffChatEvent,
    HandoffCloseEvent,
    HandoffEstablishEvent,
    LegacyReplyEvent,
    ReplyEvent,
    WorkflowResultEvent,
)

W1 = {
    "conversation_id": "c1",
    "message_id": "m1",
    "create_time": 1735023968,
    "output": [
        {
            "from_component_branch": "1",
            "from_component_name": "LLM",
            "content": {
                "text": "Hi there",
                "audio": [{"audio": "https://a/x.mp3", "transcript": "t"}],
            },
        }
    ],
    "usage": {
        "tokens": {"total_tokens": 3, "prompt_tokens": 1, "completion_tokens": 2},
        "credits": {"total_credits": 0.01},
    },
}
W2 = {
    "message_id": "m2",
    "message_type": "ANSWER",
    "text": "I am fine.",
    "flow_output": [{"content": "I am fine.", "branch": "1", "from_component_name": "LLM"}],
    "create_time": 1679587005,
    "conversation_id": "c1",
}
W3 = {
    "conversation_id": "h1",
    "timestamp": 1700000000000,
    "email": "agent@example.com",
    "bot_id": "b1",
    "body": [
        {"text": "I need a human", "message_type": "QUESTION"},
        {"text": "Transferring you", "message_type": "ANSWER"},
    ],
    "user_info": {"phone": "+100", "email": "u@example.com", "user_id": "u1", "anonymous_id": "a1"},
}
W4 = {"conversation_id": "h1", "timestamp": 1700000001000, "body": "Are you there?"}
W5 = {"conversation_id": "h1", "timestamp": 1700000002000, "type": "USER_CLOSED"}
W6 = {
    "workflowId": "w1",
    "workflowName": "Summarize",
    "workflowVersion": "3",
    "workflowRunId": "3f2a8c1e-0000-4000-8000-000000000001",
    "input": {"text": "long"},
    "output": {"summary": "short"},
    "workflowExecutionTime": 1200,
    "status": "SUCCEED",
    "totalCost": 0.2,
    "totalTokens": 80,
    "startTime": 1700000000000,
    "endTime": 1700000001200,
}


def test_w1_reply_push() -> None:
    """W1 (V2 reply push) parses into a ReplyEvent, which is a MessageReply."""
    event = parse_webhook_event(json.dumps(W1).encode())

    assert isinstance(event, ReplyEvent) and isinstance(event, MessageReply)
    assert event.text == "Hi there"
    assert event.usage is not None and event.usage.credits is not None
    assert event.usage.credits.total_credits == 0.01
    assert event.output[0].content is not None
    assert event.output[0].content.audio[0].transcript == "t"


def test_w2_legacy_reply_push() -> None:
    """W2 (legacy shape) parses into a LegacyReplyEvent."""
    event = parse_webhook_event(json.dumps(W2))

    assert isinstance(event, LegacyReplyEvent) and isinstance(event, LegacyReply)
    assert (event.message_type, event.text) == ("ANSWER", "I am fine.")
    assert event.flow_output[0].branch == "1"


def test_w3_handoff_establish() -> None:
    """W3 (handoff requested) carries the context messages and the user's info."""
    event = parse_webhook_event(W3)

    assert isinstance(event, HandoffEstablishEvent)
    assert event.conversation_id == "h1"
    assert [m.message_type for m in event.body] == ["QUESTION", "ANSWER"]
    assert event.user_info is not None and event.user_info.anonymous_id == "a1"
    assert event.bot_id == "b1"


def test_w4_handoff_chat() -> None:
    """W4 (user message during a handoff) has the text in ``body``."""
    event = parse_webhook_event(W4)

    assert event == HandoffChatEvent("h1", "Are you there?", 1700000001000)


@pytest.mark.parametrize("kind", ["TIMEOUT", "USER_CLOSED", "SOMETHING_NEW"])
def test_w5_handoff_close(kind: str) -> None:
    """W5 (handoff closed) keeps the type, including values not documented yet."""
    event = parse_webhook_event({**W5, "type": kind})

    assert event == HandoffCloseEvent("h1", kind, 1700000002000)


def test_w6_workflow_result() -> None:
    """W6 (async workflow result, payload unconfirmed) is parsed best effort, raw kept."""
    event = parse_webhook_event(W6)

    assert isinstance(event, WorkflowResultEvent)
    assert event.workflow_run_id == W6["workflowRunId"]
    assert (event.status, event.output, event.total_cost) == ("SUCCEED", {"summary": "short"}, 0.2)
    assert event.raw == W6


def test_unknown_fields_are_ignored() -> None:
    """Fields the platform adds later do not break parsing."""
    event = parse_webhook_event({**W4, "new_field": {"x": 1}})

    assert isinstance(event, HandoffChatEvent)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"{not json", "bad_json", id="not-json"),
        pytest.param(b"\xff\xfe", "bad_json", id="not-utf8"),
        pytest.param(b"[1, 2]", "bad_shape", id="array"),
        pytest.param(b'"text"', "bad_shape", id="string"),
        pytest.param(b"{}", "bad_shape", id="empty-object"),
        pytest.param(b'{"hello": "world"}', "bad_shape", id="unknown-keys"),
        pytest.param(b'{"conversation_id": "h1", "timestamp": 1}', "bad_shape", id="ambiguous"),
        pytest.param(b'{"conversation_id": "h1", "body": 42}', "bad_shape", id="body-number"),
        pytest.param(json.dumps({**W1, "output": 5}).encode(), "bad_shape", id="w1-bad-field"),
        pytest.param(json.dumps({**W5, "type": None}).encode(), "bad_shape", id="w5-no-type"),
    ],
)
def test_wrong_shapes_are_refused(body: bytes, reason: str) -> None:
    """Bad JSON and unknown or broken shapes raise WebhookError with a reason."""
    with pytest.raises(WebhookError) as info:
        parse_webhook_event(body)

    assert info.value.reason == reason


def test_oversized_body_is_refused_before_parsing() -> None:
    """A body over the cap is refused by size alone (even if it is not JSON)."""
    with pytest.raises(WebhookError) as info:
        parse_webhook_event(b"x" * (DEFAULT_MAX_WEBHOOK_BYTES + 1))

    assert info.value.reason == "too_large"
    with pytest.raises(WebhookError):
        parse_webhook_event(json.dumps(W4), max_bytes=10)


def test_default_cap_is_1_mib() -> None:
    """The default body cap is 1 MiB."""
    assert DEFAULT_MAX_WEBHOOK_BYTES == 1024 * 1024


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer s3cret"},
        {"authorization": "bearer s3cret"},
        {"AUTHORIZATION": "Basic s3cret"},
    ],
)
def test_bearer_token_accepted(headers: dict[str, str]) -> None:
    """verify_bearer accepts the token under Bearer or Basic, header name in any case."""
    event = parse_webhook_event(json.dumps(W4), headers, verify_bearer="s3cret")

    assert isinstance(event, HandoffChatEvent)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(None, id="no-headers"),
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer wrong"}, id="wrong-token"),
        pytest.param({"Authorization": "Bearer s3cret-and-more"}, id="longer"),
        pytest.param({"Authorization": "Token s3cret"}, id="other-scheme"),
        pytest.param({"Authorization": "Bearer"}, id="empty"),
    ],
)
def test_bad_bearer_token_refused(headers: dict[str, str] | None) -> None:
    """A missing, wrong or oddly schemed Authorization header is refused before parsing."""
    with pytest.raises(WebhookError) as info:
        parse_webhook_event(b"{not even json", headers, verify_bearer="s3cret")

    assert info.value.reason == "unauthorized"
    assert "s3cret" not in str(info.value)


def test_empty_expected_token_is_a_programming_error() -> None:
    """verify_bearer="" is refused rather than accepting an empty credential."""
    with pytest.raises(ValueError, match="verify_bearer"):
        parse_webhook_event(json.dumps(W4), {"Authorization": "Bearer "}, verify_bearer="")


def test_client_webhooks_parse_delegates() -> None:
    """``client.webhooks.parse`` is the same parser, reachable from the client."""
    client = AsyncAltaBots(api_key="sk-test")

    event: Any = client.webhooks.parse(
        json.dumps(W5).encode(), {"Authorization": "Bearer t"}, verify_bearer="t"
    )

    assert event == parse_webhook_event(W5)
    with pytest.raises(WebhookError):
        client.webhooks.parse(b"[]")


def test_module_says_there_is_no_signature_scheme() -> None:
    """The webhooks docs say plainly that AltaBots documents no signature scheme."""
    import altabots_async.webhooks as module

    assert module.__doc__ is not None
    assert "No signature scheme" in module.__doc__


# ----------------------------------------------------------------------------- hostile senders


def test_key_names_in_errors_are_escaped_and_bounded() -> None:
    """Sender-chosen key names cannot forge log lines (newlines, ESC) or flood a message."""
    forged = "x\n2026-01-01 INFO login ok user=admin\x1b[2J" + "k" * 10_000
    body = json.dumps({forged: 1, "other": 2})

    with pytest.raises(WebhookError) as info:
        parse_webhook_event(body)

    message = str(info.value)
    assert info.value.reason == "bad_shape"
    assert "\n" not in message and "\x1b" not in message
    assert "\\n2026-01-01" in message
    assert len(message) < 1_000


def test_a_field_error_is_escaped_and_bounded() -> None:
    """A payload of a known shape with a bad field: the error names it, escaped, bounded."""
    body = json.dumps(
        {"conversation_id": "c1", "message_id": "m1", "output": "\x1b]0;owned\x07" * 5_000}
    )

    with pytest.raises(WebhookError) as info:
        parse_webhook_event(body)

    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)
    assert len(str(info.value)) < 1_000


def test_a_text_body_with_a_lone_surrogate_is_a_webhook_error() -> None:
    """A str body that no UTF-8 text can be is refused as bad JSON, not a UnicodeEncodeError."""
    with pytest.raises(WebhookError) as info:
        parse_webhook_event('{"conversation_id": "c1", "message_id": "\ud800"}')

    assert info.value.reason == "bad_json"
