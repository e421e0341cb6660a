"""Models of the Conversation category (REFERENCE §4.1 endpoints 1-15, §4.2 stream events).

Wire names are the field names; camelCase keys are attrs aliases (``alias="refDoc"``) that the
shared converter reads. Enum-like fields (``role``, ``feedback``, ``type``, ...) are plain
``str`` so that a value the API adds later is kept, not rejected. Ids are required; nearly
everything else is optional so a field the server leaves out does not break parsing.
Timestamps keep the unit the API sends: ``MessageReply.create_time`` is epoch seconds, list
and history times are epoch milliseconds (see each field).
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from ._base import Model

__all__ = [
    "AudioDeltaEvent",
    "Citation",
    "CitationAttachment",
    "CitationEvent",
    "ContentPart",
    "Conversation",
    "ConversationMessage",
    "ConversationPage",
    "ConversationSummary",
    "CorrelateAttachmentEvent",
    "CorrelatedAttachment",
    "CorrelatedChunk",
    "CorrelatedDataset",
    "CostEvent",
    "CreditUsage",
    "EndEvent",
    "FeedbackResult",
    "FlowOutputEvent",
    "FlowOutputItem",
    "HandoffAck",
    "LegacyMessage",
    "LegacyMessagePage",
    "LegacyReply",
    "LogTree",
    "LogTreeNode",
    "LogTreeSummary",
    "MessageAccepted",
    "MessageContent",
    "MessageInfoEvent",
    "MessagePage",
    "MessageReply",
    "OutputAudio",
    "OutputContent",
    "OutputItem",
    "QARecord",
    "QARecordPage",
    "RawEvent",
    "ReferenceDoc",
    "References",
    "StreamAudioData",
    "StreamCitation",
    "StreamEvent",
    "SuggestedQuestions",
    "TextDeltaEvent",
    "ThoughtEvent",
    "TokenDetails",
    "TokenUsage",
    "ToolCallEvent",
    "ToolResultEvent",
    "UnknownEvent",
    "Usage",
]


# --------------------------------------------------------------------------- 1. create


@attrs.frozen
class Conversation(Model):
    """A new conversation (``POST /v1/conversation``)."""

    conversation_id: str


# --------------------------------------------------------------------------- 2. send (v2)


@attrs.frozen
class TokenDetails(Model):
    """Tokens by modality (``prompt_tokens_details``, ``completion_tokens_details``)."""

    text_tokens: int | None = None
    audio_tokens: int | None = None
    reasoning_tokens: int | None = None


@attrs.frozen
class TokenUsage(Model):
    """Tokens of one reply (``usage.tokens``; also the data of stream event code 4)."""

    total_tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: TokenDetails | None = None
    completion_tokens_details: TokenDetails | None = None


@attrs.frozen
class CreditUsage(Model):
    """Credits of one reply (``usage.credits``)."""

    total_credits: float | None = None
    text_input_credits: float | None = None
    text_output_credits: float | None = None
    audio_input_credits: float | None = None
    audio_output_credits: float | None = None


@attrs.frozen
class Usage(Model):
    """``usage`` of a reply: tokens and credits."""

    tokens: TokenUsage | None = None
    credits: CreditUsage | None = None


@attrs.frozen
class OutputAudio(Model):
    """One audio piece of an output: a URL and its transcript."""

    audio: str | None = None
    transcript: str | None = None


@attrs.frozen
class OutputContent(Model):
    """The content of one output item."""

    text: str | None = None
    audio: list[OutputAudio] = attrs.field(factory=list)


@attrs.frozen
class OutputItem(Model):
    """One item of ``output[]``: what one component (FlowAgent branch) produced."""

    from_component_branch: str | None = None
    from_component_name: str | None = None
    content: OutputContent | None = None


@attrs.frozen
class CitationAttachment(Model):
    """The attachment a citation points at."""

    id: str | None = None
    url: str | None = None
    name: str | None = None
    type: str | None = None
    content: str | None = None


@attrs.frozen
class Citation(Model):
    """One entry of a blocking reply's ``citations[]`` (with ``corner_citation``).

    ``index`` matches the ``$[index]$`` mark in the text; ``type`` is ``attachment``,
    ``doc`` or ``tool`` (the matching object is in ``attachment`` / ``doc`` / ``tool``).
    """

    index: str | None = None
    name: str | None = None
    type: str | None = None
    content: str | None = None
    segment_id: str | None = None
    segment_index: int | None = None
    position: Any = None
    timestamp_millis: int | None = None
    data_id: str | None = None
    bot_id: str | None = None
    component_id: str | None = None
    attachment: CitationAttachment | None = None
    doc: Any = None
    tool: Any = None


@attrs.frozen
class MessageReply(Model):
    """The agent's complete reply (blocking send-message; also webhook push W1).

    ``create_time`` is epoch seconds. ``message_id`` is what other endpoints call
    ``answer_id``. :attr:`text` joins the text of every output item.
    """

    conversation_id: str
    message_id: str
    create_time: int | None = None
    output: list[OutputItem] = attrs.field(factory=list)
    usage: Usage | None = None
    citations: list[Citation] = attrs.field(factory=list)

    @property
    def text(self) -> str:
        """The reply text: every output item's text, in order, joined."""
        return "".join(
            item.content.text for item in self.output if item.content and item.content.text
        )


@attrs.frozen
class MessageAccepted(Model):
    """The answer to a webhook-mode send: the reply itself arrives at your webhook (W1).

    The reference does not document this body; whatever ids the server sends are kept.
    """

    conversation_id: str | None = None
    message_id: str | None = None


# --------------------------------------------------------------------------- 3. send (v1)


@attrs.frozen
class StreamAudioData(Model):
    """Audio of a flow output item: ``{transcript, url, seconds}``."""

    transcript: str | None = None
    url: str | None = None
    seconds: float | None = None


@attrs.frozen
class FlowOutputItem(Model):
    """One FlowAgent component output (legacy ``flow_output[]``, stream code 10)."""

    content: str | None = None
    branch: str | None = None
    from_component_name: str | None = None
    audio_datas: list[StreamAudioData] = attrs.field(factory=list, alias="audioDatas")


@attrs.frozen
class LegacyReply(Model):
    """A reply in the legacy shape (v1 send-message; webhook push W2).

    ``message_type`` is ``ANSWER`` or ``QUESTION``. The v1 send-message response is not
    documented; this shape is the reference's best guess.
    """

    message_id: str
    conversation_id: str | None = None
    message_type: str | None = None
    text: str | None = None
    flow_output: list[FlowOutputItem] = attrs.field(factory=list)
    create_time: int | None = None


# --------------------------------------------------------------------------- 4. list


@attrs.frozen
class ConversationSummary(Model):
    """One row of the conversation list; ``recent_chat_time`` is epoch ms."""

    conversation_id: str
    user_id: str | None = None
    recent_chat_time: int | None = None
    subject: str | None = None
    conversation_type: str | None = None
    message_count: int | None = None
    cost_credit: float | None = None
    bot_id: str | None = None
    anonymous_id: str | None = None


@attrs.frozen
class ConversationPage(Model):
    """One page of ``GET /v1/bot/conversation/page`` (wire key ``list``)."""

    conversations: list[ConversationSummary] = attrs.field(factory=list, alias="list")
    total: int | None = None


# --------------------------------------------------------------------------- 5. messages v2


@attrs.frozen
class ContentPart(Model):
    """A part of a branch: ``type`` is text, image, audio, document, video or file; the value
    is under the key of the same name (files as ``{url, format, name, size}``, assistant audio
    as ``{url, transcript}``; one object or a list, kept as sent)."""

    type: str | None = None
    text: str | None = None
    image: Any = None
    audio: Any = None
    document: Any = None
    video: Any = None
    file: Any = None


@attrs.frozen
class MessageContent(Model):
    """One component branch of a message (``from_component_branch`` empty for users)."""

    from_component_branch: str | None = None
    branch_content: list[ContentPart] = attrs.field(factory=list)


@attrs.frozen
class ConversationMessage(Model):
    """One message of ``GET /v2/messages``; ``create_time`` is epoch ms, ``role`` user or
    assistant, ``feedback`` POSITIVE / NEGATIVE / empty."""

    message_id: str
    parent_message_id: str | None = None
    create_time: int | None = None
    feedback: str | None = None
    role: str | None = None
    content: list[MessageContent] = attrs.field(factory=list)

    @property
    def text(self) -> str:
        """The text parts of every branch, joined."""
        return "".join(
            part.text
            for branch in self.content
            for part in branch.branch_content
            if part.type == "text" and part.text
        )


@attrs.frozen
class MessagePage(Model):
    """One page of ``GET /v2/messages``."""

    conversation_content: list[ConversationMessage] = attrs.field(factory=list)
    total: int | None = None


# --------------------------------------------------------------------------- 6. messages v1


@attrs.frozen
class LegacyMessage(Model):
    """One message of ``GET /v1/messages``; ``message_type`` QUESTION or ANSWER."""

    message_id: str
    parent_message_id: str | None = None
    message_type: str | None = None
    text: str | None = None
    create_time: int | None = None


@attrs.frozen
class LegacyMessagePage(Model):
    """One page of ``GET /v1/messages``."""

    messages: list[LegacyMessage] = attrs.field(factory=list)
    total: int | None = None


# --------------------------------------------------------------------------- 7-9


@attrs.frozen
class SuggestedQuestions(Model):
    """Follow-up questions for a reply (``GET /v1/next/question``)."""

    questions: list[str] = attrs.field(factory=list)


@attrs.frozen
class CorrelatedChunk(Model):
    """One knowledge chunk behind a reply."""

    content: str | None = None
    data_id: str | None = None
    data_name: str | None = None
    source_url: str | None = None
    score: float | None = None


@attrs.frozen
class CorrelatedDataset(Model):
    """The knowledge chunks behind a reply (``GET /v1/correlate/dataset``)."""

    conversation_id: str | None = None
    question_id: str | None = None
    answer_id: str | None = None
    correlate_dataset: list[CorrelatedChunk] = attrs.field(factory=list)


@attrs.frozen
class ReferenceDoc(Model):
    """One document behind a reply (camelCase on the wire)."""

    data_id: str | None = attrs.field(default=None, alias="dataId")
    data_name: str | None = attrs.field(default=None, alias="dataName")
    source_url: str | None = attrs.field(default=None, alias="sourceUrl")


@attrs.frozen
class References(Model):
    """The documents behind a reply (``POST /v1/bot/data/references``, unwrapped from
    ``{code, msg, data}``)."""

    conversation_id: str | None = attrs.field(default=None, alias="conversationId")
    question_id: str | None = attrs.field(default=None, alias="questionId")
    answer_id: str | None = attrs.field(default=None, alias="answerId")
    ref_doc: list[ReferenceDoc] = attrs.field(factory=list, alias="refDoc")


# --------------------------------------------------------------------------- 10-13


@attrs.frozen
class QARecord(Model):
    """One question/answer pair from history; ``q_time`` is epoch seconds, ``aid`` the
    answer id, ``user_feedback`` as sent (GOOD, BAD, NONE, ...)."""

    id: str
    q_time: int | None = None
    q: str | None = None
    a: str | None = None
    user_feedback: str | None = None
    convo_id: str | None = None
    convo_type: str | None = None
    aid: str | None = None
    user_id: str | None = None


@attrs.frozen
class QARecordPage(Model):
    """One page of ``GET /v1/message/qa/record/page`` (the API sends no total)."""

    qa: list[QARecord] = attrs.field(factory=list)


@attrs.frozen
class FeedbackResult(Model):
    """``{affectCount}`` of feedback and quality calls: 1 when applied."""

    affect_count: int | None = attrs.field(default=None, alias="affectCount")


@attrs.frozen
class LogTreeNode(Model):
    """One step of a reply's execution trace (recursive through ``children``)."""

    log_component_name: str | None = attrs.field(default=None, alias="logComponentName")
    log_component_type: str | None = attrs.field(default=None, alias="logComponentType")
    action_name: str | None = attrs.field(default=None, alias="actionName")
    running_status: str | None = attrs.field(default=None, alias="runningStatus")
    input: Any = None
    output: Any = None
    latency_millis: int | None = attrs.field(default=None, alias="latencyMillis")
    input_tokens: int | None = attrs.field(default=None, alias="inputTokens")
    output_tokens: int | None = attrs.field(default=None, alias="outputTokens")
    extension: Any = None
    children: list[LogTreeNode] | None = None


@attrs.frozen
class LogTreeSummary(Model):
    """Totals of an execution trace."""

    running_status: str | None = attrs.field(default=None, alias="runningStatus")
    total_latency_millis: int | None = attrs.field(default=None, alias="totalLatencyMillis")
    total_tokens: int | None = attrs.field(default=None, alias="totalTokens")
    step_count: int | None = attrs.field(default=None, alias="stepCount")
    credit: float | None = None


@attrs.frozen
class LogTree(Model):
    """The execution trace of one reply (``GET /v1/bot/logtree/query``; fields unconfirmed)."""

    msg_id: str | None = attrs.field(default=None, alias="msgId")
    conversation_id: str | None = attrs.field(default=None, alias="conversationId")
    trace_id: str | None = attrs.field(default=None, alias="traceId")
    tree_data: list[LogTreeNode] | None = attrs.field(default=None, alias="treeData")
    summary: LogTreeSummary | None = None


# --------------------------------------------------------------------------- 14-15


@attrs.frozen
class HandoffAck(Model):
    """The answer of the human-handoff reply and close calls (``{code, message}``)."""

    code: int | None = None
    message: str | None = None
    conversation_id: str | None = None
    timestamp: int | None = None


# --------------------------------------------------------------------------- §4.2 stream events


@attrs.frozen
class StreamCitation(Model):
    """A citation of stream event code 20 (camelCase on the wire)."""

    index: str | None = None
    name: str | None = None
    type: str | None = None
    content: str | None = None
    position: Any = None
    segment_id: str | None = attrs.field(default=None, alias="segmentId")
    segment_index: int | None = attrs.field(default=None, alias="segmentIndex")
    timestamp_millis: int | None = attrs.field(default=None, alias="timestampMillis")
    bot_id: str | None = attrs.field(default=None, alias="botId")
    data_id: str | None = attrs.field(default=None, alias="dataId")
    tool_id: str | None = attrs.field(default=None, alias="toolId")
    attachment: CitationAttachment | None = None
    doc: Any = None
    tool: Any = None


@attrs.frozen
class CorrelatedAttachment(Model):
    """An attachment of stream event code 83 (camelCase on the wire)."""

    data_id: str | None = attrs.field(default=None, alias="dataId")
    data_name: str | None = attrs.field(default=None, alias="dataName")
    data_type: str | None = attrs.field(default=None, alias="dataType")
    url: str | None = None
    content: str | None = None
    segment_id: str | None = attrs.field(default=None, alias="segmentId")
    segment_index: int | None = attrs.field(default=None, alias="segmentIndex")
    dimensions: Any = None
    timestamp_millis: int | None = attrs.field(default=None, alias="timestampMillis")
    position: Any = None
    component_id: str | None = attrs.field(default=None, alias="componentId")
    show_doc_correlation: bool | None = attrs.field(default=None, alias="showDocCorrelation")
    node_id: str | None = attrs.field(default=None, alias="nodeId")


@attrs.frozen
class StreamEvent(Model):
    """Base of the events of a streamed reply: the wire ``code``, ``message`` and raw object."""

    CODE: ClassVar[int | None] = None

    code: int
    message: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class MessageInfoEvent(StreamEvent):
    """Code 11, the first event: the id of the reply being streamed."""

    CODE: ClassVar[int | None] = 11
    message_id: str | None = None


@attrs.frozen
class TextDeltaEvent(StreamEvent):
    """Code 3: a piece of the reply text (concatenate them)."""

    CODE: ClassVar[int | None] = 3
    text: str = ""


@attrs.frozen
class AudioDeltaEvent(StreamEvent):
    """Code 39: a base64 audio chunk and a transcript delta (either may be empty)."""

    CODE: ClassVar[int | None] = 39
    audio: str = ""
    transcript: str = ""


@attrs.frozen
class FlowOutputEvent(StreamEvent):
    """Code 10: FlowAgent component outputs."""

    CODE: ClassVar[int | None] = 10
    items: list[FlowOutputItem] = attrs.field(factory=list)
    component_id: str | None = None


@attrs.frozen
class CostEvent(StreamEvent):
    """Code 4: token usage of the reply (no credits in streams)."""

    CODE: ClassVar[int | None] = 4
    usage: TokenUsage = attrs.field(factory=TokenUsage)


@attrs.frozen
class CitationEvent(StreamEvent):
    """Code 20: citations (with ``corner_citation``), unwrapped from ``{citation: ...}``."""

    CODE: ClassVar[int | None] = 20
    citations: list[StreamCitation] = attrs.field(factory=list)


@attrs.frozen
class CorrelateAttachmentEvent(StreamEvent):
    """Code 83: attachments the citations point at (with ``corner_citation``)."""

    CODE: ClassVar[int | None] = 83
    attachments: list[CorrelatedAttachment] = attrs.field(factory=list)


@attrs.frozen
class RawEvent(StreamEvent):
    """An event whose payload shape is undocumented: ``data`` as sent."""

    data: Any = None


@attrs.frozen
class ToolCallEvent(RawEvent):
    """Code 5: a tool call request (payload undocumented, kept raw)."""

    CODE: ClassVar[int | None] = 5


@attrs.frozen
class ToolResultEvent(RawEvent):
    """Code 6: a tool call response (payload undocumented, kept raw)."""

    CODE: ClassVar[int | None] = 6


@attrs.frozen
class ThoughtEvent(RawEvent):
    """Code 41: a thought of the agent (payload undocumented, kept raw)."""

    CODE: ClassVar[int | None] = 41


@attrs.frozen
class UnknownEvent(RawEvent):
    """A code this library does not know: passed through, never fatal."""


@attrs.frozen
class EndEvent(StreamEvent):
    """Code 0: the last event of the stream."""

    CODE: ClassVar[int | None] = 0
