"""The Conversation category (REFERENCE §4.1, endpoints 1-15): ``client.conversations``.

Every method checks its arguments locally first (:class:`~altabots_async.ValidationError`,
nothing sent), then sends one request through the client's scheduler.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._pagination import AsyncPager, Page
from .._streaming import MessageStream
from .._validation import (
    FEEDBACK_VALUES,
    QUALITY_VALUES,
    USER_FEEDBACK_VALUES,
    USER_ID_MAX_LENGTH,
    ValidationError,
    check_bool,
    check_max_length,
    check_messages,
    check_one_of,
    check_page,
    check_page_size,
    check_time_range,
    require_str,
    to_millis,
)
from ..types.conversations import (
    Conversation,
    ConversationMessage,
    ConversationPage,
    ConversationSummary,
    CorrelatedDataset,
    FeedbackResult,
    HandoffAck,
    LegacyMessage,
    LegacyMessagePage,
    LegacyReply,
    LogTree,
    MessageAccepted,
    MessagePage,
    MessageReply,
    QARecord,
    QARecordPage,
    References,
    SuggestedQuestions,
)
from ._base import Resource

if TYPE_CHECKING:
    import datetime

__all__ = ["ConversationsResource", "HumanHandoffResource", "KnowledgeScope"]

MessageInput = Mapping[str, Any]


@attrs.frozen
class KnowledgeScope:
    """``conversation_config.knowledge``: which knowledge bases and documents to search.

    Both given: their union; both empty lists: no retrieval; ``knowledge=None`` on the call
    (the default): the agent's own scope.
    """

    group_ids: Sequence[str] | None = None
    data_ids: Sequence[str] | None = None


def _id_list(field: str, values: object) -> builtins.list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValidationError(field, "expected a list of ids")
    return [require_str(f"{field}[{index}]", value) for index, value in enumerate(values)]


def _knowledge(value: KnowledgeScope | Mapping[str, Any]) -> dict[str, builtins.list[str]]:
    if isinstance(value, KnowledgeScope):
        raw: Mapping[str, Any] = {"group_ids": value.group_ids, "data_ids": value.data_ids}
    elif isinstance(value, Mapping):
        raw = value
        unknown = set(raw) - {"group_ids", "data_ids"}
        if unknown:
            raise ValidationError("knowledge", f"unknown keys {sorted(unknown)}")
    else:
        raise ValidationError("knowledge", "expected a KnowledgeScope or {group_ids, data_ids}")
    return {key: _id_list(f"knowledge.{key}", ids) for key, ids in raw.items() if ids is not None}


def _config(
    *,
    short_term_memory: bool | None,
    long_term_memory: bool | None,
    knowledge: KnowledgeScope | Mapping[str, Any] | None,
    custom_variables: Mapping[str, Any] | None,
    corner_citation: bool | None,
) -> dict[str, Any] | None:
    flags = {
        "short_term_memory": short_term_memory,
        "long_term_memory": long_term_memory,
        "corner_citation": corner_citation,
    }
    config: dict[str, Any] = {
        name: flag
        for name, flag in flags.items()
        if check_bool(f"conversation_config.{name}", flag) is not None
    }
    if knowledge is not None:
        config["knowledge"] = _knowledge(knowledge)
    if custom_variables is not None:
        if not isinstance(custom_variables, Mapping) or not all(
            isinstance(key, str) and key for key in custom_variables
        ):
            raise ValidationError(
                "conversation_config.custom_variables", "expected a mapping of names to values"
            )
        config["custom_variables"] = dict(custom_variables)
    return config or None


def _message_body(
    conversation_id: str,
    text: str | None,
    messages: Sequence[MessageInput] | None,
    response_mode: str,
    config: dict[str, Any] | None,
) -> dict[str, Any]:
    require_str("conversation_id", conversation_id)
    if (text is None) == (messages is None):
        raise ValidationError("messages", "pass either text or messages=[...], not both or none")
    if text is not None:
        require_str("text", text)
        payload: builtins.list[dict[str, Any]] = [{"role": "user", "content": text}]
    else:
        assert messages is not None
        check_messages(messages)
        payload = [dict(message) for message in messages]
    body: dict[str, Any] = {
        "conversation_id": conversation_id,
        "response_mode": response_mode,
        "messages": payload,
    }
    if config is not None:
        body["conversation_config"] = config
    return body


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@attrs.define
class HumanHandoffResource(Resource):
    """``client.conversations.human``: a human agent answers a handed-off conversation.

    The ``conversation_id`` here is the handoff id AltaBots sent to your
    ``/conversation/establish`` webhook (W3), not a regular conversation id.
    """

    async def reply(
        self, conversation_id: str, body: str, timestamp: int | None = None
    ) -> HandoffAck:
        """Send a human agent's reply to the user (``POST /v1/human/message/receive``).

        ``timestamp`` defaults to now, in epoch milliseconds.

        Example: ``await client.conversations.human.reply(handoff_id, "Hello, I'm Ann.")``
        """
        require_str("conversation_id", conversation_id)
        require_str("body", body)
        stamp = _now_ms() if timestamp is None else to_millis("timestamp", timestamp)
        payload = {"conversation_id": conversation_id, "timestamp": stamp, "body": body}
        return await self._client._request(
            "POST", "v1/human/message/receive", cast_to=HandoffAck, json=payload
        )

    async def close(self, conversation_id: str, timestamp: int | None = None) -> HandoffAck:
        """End the handoff; the user gets no more human replies (``POST /v1/human/close``).

        Example: ``await client.conversations.human.close(handoff_id)``
        """
        require_str("conversation_id", conversation_id)
        stamp = _now_ms() if timestamp is None else to_millis("timestamp", timestamp)
        payload = {"conversation_id": conversation_id, "timestamp": stamp}
        return await self._client._request(
            "POST", "v1/human/close", cast_to=HandoffAck, json=payload
        )


@attrs.define
class ConversationsResource(Resource):
    """``client.conversations``: create conversations, send messages, read history."""

    @property
    def human(self) -> HumanHandoffResource:
        """Human-handoff calls (endpoints 14-15)."""
        return HumanHandoffResource(self._client)

    async def create(self, *, user_id: str) -> Conversation:
        """Create a conversation for your user ``user_id`` (at most 32 characters).

        Example: ``conv = await client.conversations.create(user_id="u1")``
        """
        check_max_length("user_id", require_str("user_id", user_id), USER_ID_MAX_LENGTH)
        return await self._client._request(
            "POST", "v1/conversation", cast_to=Conversation, json={"user_id": user_id}
        )

    async def send_message(
        self,
        conversation_id: str,
        text: str | None = None,
        *,
        messages: Sequence[MessageInput] | None = None,
        short_term_memory: bool | None = None,
        long_term_memory: bool | None = None,
        knowledge: KnowledgeScope | Mapping[str, Any] | None = None,
        custom_variables: Mapping[str, Any] | None = None,
        corner_citation: bool | None = None,
    ) -> MessageReply:
        """Send a message and wait for the whole reply (``POST /v2/conversation/message``,
        ``response_mode="blocking"``).

        Pass ``text`` for one user message, or ``messages=[{"role", "content"}, ...]`` (the
        last one the user's; content a string or parts such as ``{"type": "image", "image":
        [{"url": ..., "format": "png", "name": ...}]}``). The other arguments are the
        per-call ``conversation_config``. Not retried after it was sent (not idempotent).

        Example: ``reply = await client.conversations.send_message(conv_id, "hi"); reply.text``
        """
        config = _config(
            short_term_memory=short_term_memory,
            long_term_memory=long_term_memory,
            knowledge=knowledge,
            custom_variables=custom_variables,
            corner_citation=corner_citation,
        )
        body = _message_body(conversation_id, text, messages, "blocking", config)
        return await self._client._request(
            "POST", "v2/conversation/message", cast_to=MessageReply, json=body
        )

    def stream_message(
        self,
        conversation_id: str,
        text: str | None = None,
        *,
        messages: Sequence[MessageInput] | None = None,
        short_term_memory: bool | None = None,
        long_term_memory: bool | None = None,
        knowledge: KnowledgeScope | Mapping[str, Any] | None = None,
        custom_variables: Mapping[str, Any] | None = None,
        corner_citation: bool | None = None,
    ) -> MessageStream:
        """Send a message and stream the reply (``response_mode="streaming"``).

        Arguments are checked now; the request is sent on ``async with`` or on the first
        ``async for``. See :class:`~altabots_async.MessageStream`.

        Example: ``async for event in client.conversations.stream_message(conv_id, "hi"): ...``
        """
        config = _config(
            short_term_memory=short_term_memory,
            long_term_memory=long_term_memory,
            knowledge=knowledge,
            custom_variables=custom_variables,
            corner_citation=corner_citation,
        )
        body = _message_body(conversation_id, text, messages, "streaming", config)
        client = self._client

        async def opener() -> Any:
            return await client._stream("POST", "v2/conversation/message", json=body)

        return MessageStream(opener, conversation_id=conversation_id)

    async def send_message_webhook(
        self,
        conversation_id: str,
        text: str | None = None,
        *,
        messages: Sequence[MessageInput] | None = None,
        short_term_memory: bool | None = None,
        long_term_memory: bool | None = None,
        knowledge: KnowledgeScope | Mapping[str, Any] | None = None,
        custom_variables: Mapping[str, Any] | None = None,
        corner_citation: bool | None = None,
    ) -> MessageAccepted:
        """Send a message whose reply is POSTed to your webhook (``response_mode="webhook"``;
        parse it there with :func:`~altabots_async.webhooks.parse_webhook_event`).

        Example: ``await client.conversations.send_message_webhook(conv_id, "hi")``
        """
        config = _config(
            short_term_memory=short_term_memory,
            long_term_memory=long_term_memory,
            knowledge=knowledge,
            custom_variables=custom_variables,
            corner_citation=corner_citation,
        )
        body = _message_body(conversation_id, text, messages, "webhook", config)
        return await self._client._request(
            "POST", "v2/conversation/message", cast_to=MessageAccepted, json=body
        )

    async def send_message_v1(
        self,
        conversation_id: str,
        text: str | None = None,
        *,
        files: Sequence[Mapping[str, Any]] | None = None,
        short_term_memory: bool | None = None,
        long_term_memory: bool | None = None,
        knowledge_data_ids: Sequence[str] | None = None,
    ) -> LegacyReply:
        """Deprecated v1 send-message (``POST /v1/conversation/message``), blocking only.

        Prefer :meth:`send_message`. ``files`` items are ``{url | base64_content, name,
        width?, height?}``; give ``text``, ``files`` or both.

        GPTBots only (not on the AltaBots pages).

        Example: ``reply = await client.conversations.send_message_v1(conv_id, "hi")``
        """
        require_str("conversation_id", conversation_id)
        if text is None and not files:
            raise ValidationError("text", "give text or files")
        body: dict[str, Any] = {"conversation_id": conversation_id, "response_mode": "blocking"}
        if text is not None:
            body["text"] = require_str("text", text)
        if files:
            for index, item in enumerate(files):
                if not isinstance(item, Mapping) or not (
                    item.get("url") or item.get("base64_content")
                ):
                    raise ValidationError(f"files[{index}]", "needs 'url' or 'base64_content'")
            body["files"] = [dict(item) for item in files]
        flags = {"short_term_memory": short_term_memory, "long_term_memory": long_term_memory}
        body.update(
            {name: flag for name, flag in flags.items() if check_bool(name, flag) is not None}
        )
        if knowledge_data_ids is not None:
            body["knowledge"] = {"data_ids": _id_list("knowledge.data_ids", knowledge_data_ids)}
        return await self._client._request(
            "POST", "v1/conversation/message", cast_to=LegacyReply, json=body
        )

    async def list(
        self,
        *,
        start_time: int | datetime.datetime,
        end_time: int | datetime.datetime,
        conversation_type: str = "ALL",
        user_id: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> ConversationPage:
        """One page of conversations whose latest chat is in ``[start_time, end_time]``
        (epoch ms or aware datetimes; ``GET /v1/bot/conversation/page``, page_size 1-100).

        Example: ``page = await client.conversations.list(start_time=0, end_time=now_ms)``
        """
        start, end = check_time_range(start_time, end_time)
        params: dict[str, Any] = {
            "conversation_type": require_str("conversation_type", conversation_type),
            "start_time": start,
            "end_time": end,
            "page": check_page(page),
            "page_size": check_page_size(page_size, 1, 100),
        }
        if user_id is not None:
            params["user_id"] = check_max_length(
                "user_id", require_str("user_id", user_id), USER_ID_MAX_LENGTH
            )
        return await self._client._request(
            "GET", "v1/bot/conversation/page", cast_to=ConversationPage, params=params
        )

    def list_all(
        self,
        *,
        start_time: int | datetime.datetime,
        end_time: int | datetime.datetime,
        conversation_type: str = "ALL",
        user_id: str | None = None,
        page_size: int = 100,
        limit: int | None = None,
    ) -> AsyncPager[ConversationSummary]:
        """Every conversation of :meth:`list`, page by page, fetched as you iterate.

        Example: ``async for conv in client.conversations.list_all(start_time=0, end_time=t):``
        """
        check_time_range(start_time, end_time)
        check_page_size(page_size, 1, 100)

        async def fetch(number: int) -> Page[ConversationSummary]:
            result = await self.list(
                start_time=start_time,
                end_time=end_time,
                conversation_type=conversation_type,
                user_id=user_id,
                page=number,
                page_size=page_size,
            )
            # The page calls ``total`` "Number of conversations returned": maybe this page's
            # count, not the whole. Trusted only when it says more remain; otherwise a full
            # page asks for the next (at most one extra request, never a lost page).
            total = result.total
            more = total is not None and total > number * page_size
            return Page(result.conversations, number, page_size, total if more else None)

        return AsyncPager(fetch, limit=limit)

    async def messages(
        self, conversation_id: str, *, page: int = 1, page_size: int = 20
    ) -> MessagePage:
        """One page of a conversation's messages (``GET /v2/messages``, page_size 1-100).

        Example: ``page = await client.conversations.messages(conv_id)``
        """
        params = {
            "conversation_id": require_str("conversation_id", conversation_id),
            "page": check_page(page),
            "page_size": check_page_size(page_size, 1, 100),
        }
        return await self._client._request("GET", "v2/messages", cast_to=MessagePage, params=params)

    def messages_all(
        self, conversation_id: str, *, page_size: int = 100, limit: int | None = None
    ) -> AsyncPager[ConversationMessage]:
        """Every message of a conversation, page by page, fetched as you iterate.

        Example: ``async for message in client.conversations.messages_all(conv_id): ...``
        """
        require_str("conversation_id", conversation_id)
        check_page_size(page_size, 1, 100)

        async def fetch(number: int) -> Page[ConversationMessage]:
            result = await self.messages(conversation_id, page=number, page_size=page_size)
            return Page(result.conversation_content, number, page_size, result.total)

        return AsyncPager(fetch, limit=limit)

    async def messages_v1(
        self,
        conversation_id: str,
        *,
        page: int = 1,
        page_size: int = 20,
        user_id: str | None = None,
    ) -> LegacyMessagePage:
        """One page of the legacy message list (``GET /v1/messages``, page_size 1-100).

        GPTBots only (not on the AltaBots pages): an older AltaBots revision documented it
        before ``GET /v2/messages`` replaced it.

        Example: ``page = await client.conversations.messages_v1(conv_id)``
        """
        params: dict[str, Any] = {
            "conversation_id": require_str("conversation_id", conversation_id),
            "page": check_page(page),
            "page_size": check_page_size(page_size, 1, 100),
        }
        if user_id is not None:
            params["user_id"] = require_str("user_id", user_id)
        return await self._client._request(
            "GET", "v1/messages", cast_to=LegacyMessagePage, params=params
        )

    def messages_v1_all(
        self, conversation_id: str, *, page_size: int = 100, limit: int | None = None
    ) -> AsyncPager[LegacyMessage]:
        """Every message of the legacy list, page by page, fetched as you iterate.

        GPTBots only (not on the AltaBots pages): an older AltaBots revision documented it
        before ``GET /v2/messages`` replaced it.

        Example: ``async for message in client.conversations.messages_v1_all(conv_id): ...``
        """
        require_str("conversation_id", conversation_id)
        check_page_size(page_size, 1, 100)

        async def fetch(number: int) -> Page[LegacyMessage]:
            result = await self.messages_v1(conversation_id, page=number, page_size=page_size)
            return Page(result.messages, number, page_size, result.total)

        return AsyncPager(fetch, limit=limit)

    async def suggested_questions(self, answer_id: str) -> SuggestedQuestions:
        """Follow-up questions for a reply (``GET /v1/next/question``).

        Example: ``(await client.conversations.suggested_questions(reply.message_id)).questions``
        """
        params = {"answer_id": require_str("answer_id", answer_id)}
        return await self._client._request(
            "GET", "v1/next/question", cast_to=SuggestedQuestions, params=params
        )

    async def correlated_dataset(self, message_id: str) -> CorrelatedDataset:
        """The knowledge chunks a reply drew on (``GET /v1/correlate/dataset``).

        Example: ``chunks = await client.conversations.correlated_dataset(reply.message_id)``
        """
        params = {"message_id": require_str("message_id", message_id)}
        return await self._client._request(
            "GET", "v1/correlate/dataset", cast_to=CorrelatedDataset, params=params
        )

    async def references(self, message_id: str) -> References:
        """The documents a reply drew on (``POST /v1/bot/data/references``; a read, retried
        like one).

        Example: ``docs = (await client.conversations.references(reply.message_id)).ref_doc``
        """
        body = {"message_id": require_str("message_id", message_id)}
        return await self._client._request(
            "POST", "v1/bot/data/references", cast_to=References, json=body, idempotent=True
        )

    async def qa_records(
        self,
        *,
        start_time: int | datetime.datetime,
        end_time: int | datetime.datetime,
        user_feedback: str = "ALL",
        page: int = 1,
        page_size: int = 10,
    ) -> QARecordPage:
        """One page of question/answer pairs from history (``GET /v1/message/qa/record/page``;
        ``user_feedback`` ALL, NONE, GOOD or BAD; page_size 10-100).

        Example: ``page = await client.conversations.qa_records(start_time=0, end_time=now_ms)``
        """
        start, end = check_time_range(start_time, end_time)
        params = {
            "user_feedback": check_one_of("user_feedback", user_feedback, USER_FEEDBACK_VALUES),
            "start_time": start,
            "end_time": end,
            "page": check_page(page),
            "page_size": check_page_size(page_size, 10, 100),
        }
        return await self._client._request(
            "GET", "v1/message/qa/record/page", cast_to=QARecordPage, params=params
        )

    def qa_records_all(
        self,
        *,
        start_time: int | datetime.datetime,
        end_time: int | datetime.datetime,
        user_feedback: str = "ALL",
        page_size: int = 100,
        limit: int | None = None,
    ) -> AsyncPager[QARecord]:
        """Every question/answer pair of :meth:`qa_records`, fetched as you iterate (no total
        is sent, so a full last page costs one more request to find the end).

        Example: ``async for qa in client.conversations.qa_records_all(start_time=0, end_time=t):``
        """
        check_time_range(start_time, end_time)
        check_one_of("user_feedback", user_feedback, USER_FEEDBACK_VALUES)
        check_page_size(page_size, 10, 100)

        async def fetch(number: int) -> Page[QARecord]:
            result = await self.qa_records(
                start_time=start_time,
                end_time=end_time,
                user_feedback=user_feedback,
                page=number,
                page_size=page_size,
            )
            return Page(result.qa, number, page_size, None)

        return AsyncPager(fetch, limit=limit)

    async def feedback(self, answer_id: str, feedback: str) -> FeedbackResult:
        """Record the user's feedback on a reply: POSITIVE, NEGATIVE or CANCELED
        (``POST /v1/message/feedback``).

        Example: ``await client.conversations.feedback(reply.message_id, "POSITIVE")``
        """
        body = {
            "answer_id": require_str("answer_id", answer_id),
            "feedback": check_one_of("feedback", feedback, FEEDBACK_VALUES),
        }
        return await self._client._request(
            "POST", "v1/message/feedback", cast_to=FeedbackResult, json=body, idempotent=True
        )

    async def rate_quality(self, answer_id: str, quality: str) -> FeedbackResult:
        """Rate how well a reply solved the problem: NONE, UNRESOLVED, PARTIALLY_RESOLVED or
        FULLY_RESOLVED (``POST /v1/message/quality``).

        Example: ``await client.conversations.rate_quality(reply.message_id, "FULLY_RESOLVED")``
        """
        body = {
            "answer_id": require_str("answer_id", answer_id),
            "quality": check_one_of("quality", quality, QUALITY_VALUES),
        }
        return await self._client._request(
            "POST", "v1/message/quality", cast_to=FeedbackResult, json=body, idempotent=True
        )

    async def logtree(self, msgid: str) -> LogTree:
        """The execution trace of one reply (``GET /v1/bot/logtree/query``; GPTBots-only,
        fields unconfirmed).

        GPTBots only (not on the AltaBots pages).

        Example: ``tree = await client.conversations.logtree(reply.message_id)``
        """
        params = {"msgid": require_str("msgid", msgid)}
        return await self._client._request(
            "GET", "v1/bot/logtree/query", cast_to=LogTree, params=params
        )
