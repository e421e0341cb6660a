"""Models of the Analytics category (REFERENCE §4.5, endpoints 40-43). Credits are floats."""

from __future__ import annotations

import attrs

__all__ = [
    "ConversationCredit",
    "ConversationCreditPage",
    "CreditTotal",
    "DailyCredit",
    "WorkflowRunCredit",
    "WorkflowRunCreditPage",
]


@attrs.frozen
class CreditTotal:
    """Credits spent in a range (``GET /v1/account/bill/total``), by kind and in ``total``."""

    start_date: str | None = None
    end_date: str | None = None
    total: float = 0.0
    chat: float | None = None
    knowledge_doc_indexing: float | None = None
    knowledge_doc_storage: float | None = None
    rerank: float | None = None
    database_processing: float | None = None
    tool_call: float | None = None
    asr: float | None = None
    tts: float | None = None


@attrs.frozen
class DailyCredit:
    """Credits of one day (``date`` as ``YYYY-MM-DD``)."""

    date: str
    total: float = 0.0
    chat: float | None = None
    knowledge_doc_indexing: float | None = None
    knowledge_doc_storage: float | None = None
    rerank: float | None = None
    database_processing: float | None = None
    tool_call: float | None = None
    asr: float | None = None
    tts: float | None = None


@attrs.frozen
class ConversationCredit:
    """Credits of one conversation; ``conversation_create_time`` in epoch milliseconds."""

    conversation_id: str
    conversation_create_time: int | None = None
    total: float = 0.0
    chat: float | None = None
    anonymization: float | None = None
    asr: float | None = None
    tts: float | None = None
    rerank: float | None = None
    database_processing: float | None = None
    tool_call: float | None = None
    knowledge_doc_indexing: float | None = None
    question_tag: float | None = None
    moderation: float | None = None


@attrs.frozen
class ConversationCreditPage:
    """One page of per-conversation credits (wire key ``list``)."""

    items: list[ConversationCredit] = attrs.field(factory=list, alias="list")
    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    start_time: int | None = None
    end_time: int | None = None


@attrs.frozen
class WorkflowRunCredit:
    """Credits of one workflow run; ``run_start_time`` in epoch milliseconds."""

    run_id: str
    run_start_time: int | None = None
    total: float = 0.0
    chat: float | None = None
    anonymization: float | None = None
    asr: float | None = None
    tts: float | None = None
    rerank: float | None = None
    database_processing: float | None = None
    tool_call: float | None = None
    knowledge_doc_indexing: float | None = None
    question_tag: float | None = None
    moderation: float | None = None


@attrs.frozen
class WorkflowRunCreditPage:
    """One page of per-run credits (wire key ``list``)."""

    items: list[WorkflowRunCredit] = attrs.field(factory=list, alias="list")
    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    start_time: int | None = None
    end_time: int | None = None
