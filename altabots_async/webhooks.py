"""Inbound webhooks: AltaBots POSTs these to you (REFERENCE §4.7, W1-W6). Pure parsing, no I/O.

Call :func:`parse_webhook_event` from your web handler with the raw body and the headers; it
returns the typed event, or raises :class:`WebhookError` (answer 400 then)::

    @app.post("/altabots/webhook")
    async def hook(request: Request) -> dict[str, object]:
        event = parse_webhook_event(await request.body(), request.headers,
                                    verify_bearer=settings.webhook_token)
        if isinstance(event, ReplyEvent):
            print(event.text)
        return {"code": 200, "msg": "success"}

**No signature scheme.** AltaBots documents no webhook signature, timestamp or replay
protection, so none can be verified here and the payload shape is all that is checked. If you
enabled authentication on the webhook in the dashboard, the platform sends
``Authorization: Bearer <token>`` (or ``Basic <credentials>``); pass ``verify_bearer=<token>``
and the header is compared in constant time (:func:`hmac.compare_digest`). Otherwise keep the
URL secret (a random path) and serve it over HTTPS only.

Shapes, detected from the body:

====  =====================================  ============================================
W1    reply push, V2 (``response_mode=webhook``)  :class:`ReplyEvent` (a :class:`MessageReply`)
W2    reply push, legacy V1 shape            :class:`LegacyReplyEvent` (a :class:`LegacyReply`)
W3    human handoff requested                :class:`HandoffEstablishEvent`
W4    user message during a handoff          :class:`HandoffChatEvent`
W5    handoff closed (TIMEOUT|USER_CLOSED)   :class:`HandoffCloseEvent`
W6    async workflow finished (unconfirmed)  :class:`WorkflowResultEvent`
====  =====================================  ============================================
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar, TypeAlias

import attrs

from ._convert import structure
from ._exceptions import AltaBotsError, ResponseValidationError
from ._sanitize import printable
from .types.conversations import LegacyReply, MessageReply

__all__ = [
    "DEFAULT_MAX_WEBHOOK_BYTES",
    "HandoffChatEvent",
    "HandoffCloseEvent",
    "HandoffContextMessage",
    "HandoffEstablishEvent",
    "HandoffUserInfo",
    "LegacyReplyEvent",
    "ReplyEvent",
    "WebhookError",
    "WebhookEvent",
    "WorkflowResultEvent",
    "parse_webhook_event",
]

DEFAULT_MAX_WEBHOOK_BYTES = 1024 * 1024
"""Bodies larger than this (1 MiB) are refused before parsing."""
_MAX_SHOWN = 300
"""Most characters of sender-chosen text (key names, a field error) in an error message."""


class WebhookError(AltaBotsError):
    """An inbound webhook was refused: too large, not JSON, an unknown shape, or bad auth.

    Attributes:
        reason: ``"too_large"``, ``"bad_json"``, ``"bad_shape"`` or ``"unauthorized"``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@attrs.frozen
class ReplyEvent(MessageReply):
    """W1: an agent (or human agent) reply pushed in webhook mode; the blocking reply shape."""

    KIND: ClassVar[str] = "reply"


@attrs.frozen
class LegacyReplyEvent(LegacyReply):
    """W2: a reply pushed in the legacy shape (``message_type``, ``text``, ``flow_output``)."""

    KIND: ClassVar[str] = "legacy_reply"


@attrs.frozen
class HandoffContextMessage:
    """One message of the conversation so far, sent with a handoff request."""

    text: str | None = None
    message_type: str | None = None


@attrs.frozen
class HandoffUserInfo:
    """Who asked for a human (``phone`` only from WhatsApp)."""

    phone: str | None = None
    email: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None


@attrs.frozen
class HandoffEstablishEvent:
    """W3 (``/conversation/establish``): a user asks for a human. Echo ``conversation_id``
    (a handoff-only id) to ``client.conversations.human.reply/close``."""

    KIND: ClassVar[str] = "handoff_establish"

    conversation_id: str
    timestamp: int | None = None
    email: str | None = None
    bot_id: str | None = None
    body: list[HandoffContextMessage] = attrs.field(factory=list)
    user_info: HandoffUserInfo | None = None


@attrs.frozen
class HandoffChatEvent:
    """W4 (``/chat``): the user wrote during a handoff; ``body`` is the text."""

    KIND: ClassVar[str] = "handoff_chat"

    conversation_id: str
    body: str
    timestamp: int | None = None


@attrs.frozen
class HandoffCloseEvent:
    """W5 (``/conversation/close``): the handoff ended; ``type`` is TIMEOUT or USER_CLOSED."""

    KIND: ClassVar[str] = "handoff_close"

    conversation_id: str
    type: str
    timestamp: int | None = None


@attrs.frozen
class WorkflowResultEvent:
    """W6: an async workflow run finished (payload unconfirmed: the run result of §4.8 is
    assumed; ``raw`` keeps the whole body)."""

    KIND: ClassVar[str] = "workflow_result"

    workflow_run_id: str = attrs.field(alias="workflowRunId")
    workflow_id: str | None = attrs.field(default=None, alias="workflowId")
    workflow_name: str | None = attrs.field(default=None, alias="workflowName")
    workflow_version: str | None = attrs.field(default=None, alias="workflowVersion")
    status: str | None = None
    input: Any = None
    output: Any = None
    workflow_execution_time: int | None = attrs.field(default=None, alias="workflowExecutionTime")
    total_cost: float | None = attrs.field(default=None, alias="totalCost")
    total_tokens: int | None = attrs.field(default=None, alias="totalTokens")
    start_time: int | None = attrs.field(default=None, alias="startTime")
    end_time: int | None = attrs.field(default=None, alias="endTime")
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


WebhookEvent: TypeAlias = (
    ReplyEvent
    | LegacyReplyEvent
    | HandoffEstablishEvent
    | HandoffChatEvent
    | HandoffCloseEvent
    | WorkflowResultEvent
)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if headers is None:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _check_auth(headers: Mapping[str, str] | None, token: str) -> None:
    value = _header(headers, "authorization")
    if value is None:
        raise WebhookError("missing Authorization header", reason="unauthorized")
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() not in ("bearer", "basic"):
        raise WebhookError("unsupported Authorization scheme", reason="unauthorized")
    presented = credentials.strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(presented, token.encode("utf-8")):
        raise WebhookError("bad webhook credentials", reason="unauthorized")


def _shown(text: object, limit: int = _MAX_SHOWN) -> str:
    """Attacker-chosen text for a message: control characters escaped, bounded."""
    value = printable(text)
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _decode(body: bytes | str | Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        raw = body.encode("utf-8") if isinstance(body, str) else body
    except UnicodeEncodeError:  # a str holding a lone surrogate: no JSON text can be that
        raise WebhookError("webhook body is not valid text", reason="bad_json") from None
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise WebhookError(f"unsupported body type {type(body).__name__}", reason="bad_json")
    if len(raw) > max_bytes:
        raise WebhookError(
            f"webhook body of {len(raw)} bytes exceeds {max_bytes}", reason="too_large"
        )
    try:
        data = json.loads(bytes(raw))
    except (ValueError, RecursionError) as exc:
        raise WebhookError(
            f"webhook body is not JSON: {type(exc).__name__}", reason="bad_json"
        ) from None
    if not isinstance(data, dict):
        raise WebhookError("webhook body is not a JSON object", reason="bad_shape")
    return data


def _kind(data: Mapping[str, Any]) -> type[Any] | None:
    if "workflowRunId" in data:
        return WorkflowResultEvent
    if "message_id" in data:
        if "output" in data or "usage" in data:
            return ReplyEvent
        if "message_type" in data or "text" in data or "flow_output" in data:
            return LegacyReplyEvent
        return ReplyEvent if "conversation_id" in data else None
    if "conversation_id" not in data:
        return None
    if "type" in data:
        return HandoffCloseEvent
    body = data.get("body")
    if isinstance(body, list) or "user_info" in data or "bot_id" in data:
        return HandoffEstablishEvent
    if isinstance(body, str):
        return HandoffChatEvent
    return None


def parse_webhook_event(
    body: bytes | str | Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    verify_bearer: str | None = None,
    max_bytes: int = DEFAULT_MAX_WEBHOOK_BYTES,
) -> WebhookEvent:
    """The typed event of one inbound webhook (shape detected from the body, W1-W6).

    Args:
        body: the raw request body (bytes or text), or already-decoded JSON.
        headers: the request headers (any mapping; names are matched case-insensitively).
        verify_bearer: when given, require ``Authorization: Bearer|Basic <this value>``
            (constant-time comparison). AltaBots documents no signature scheme.
        max_bytes: refuse bodies larger than this before parsing (default 1 MiB).

    Raises:
        WebhookError: ``reason`` says why (too_large, bad_json, bad_shape, unauthorized).

    Example: ``event = parse_webhook_event(await request.body(), request.headers)``
    """
    if verify_bearer is not None:
        if not verify_bearer:
            raise ValueError("verify_bearer must be a non-empty token")
        _check_auth(headers, verify_bearer)
    data = _decode(body, max_bytes)
    kind = _kind(data)
    if kind is None:
        keys = ", ".join(_shown(key, 40) for key in sorted(str(key) for key in data)[:10])
        raise WebhookError(f"unknown webhook shape (keys: {keys})", reason="bad_shape")
    try:
        event: WebhookEvent = structure(data, kind)
    except ResponseValidationError as exc:
        raise WebhookError(
            f"bad {kind.__name__} payload: {_shown(exc)}", reason="bad_shape"
        ) from None
    if isinstance(event, WorkflowResultEvent):
        event = attrs.evolve(event, raw=data)
    return event
