"""Models of the Analytics category (REFERENCE §4.5, endpoints 40-43). Credits are floats."""

from __future__ import annotations

import attrs

from ._base import Model

__all__ = [
    "ConversationCredit",
    "ConversationCreditPage",
    "CreditTotal",
    "DailyCredit",
    "WorkflowRunCredit",
    "WorkflowRunCreditPage",
]


@attrs.frozen
class CreditTotal(Model):
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
class DailyCredit(Model):
    """Credits of one day: ``date`` as ``YYYY-MM-DD``.

    The page's example rows carry ``date``; its field table lists ``start_date`` and
    ``end_date`` instead (analytics/Get_Detailed_Credit_Consumption_.md). Both forms decode;
    :attr:`day` is whichever came.
    """

    date: str | None = None
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

    @property
    def day(self) -> str | None:
        """The day of the row: ``date``, else ``start_date``."""
        return self.date or self.start_date


@attrs.frozen
class ConversationCredit(Model):
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
class ConversationCreditPage(Model):
    """One page of per-conversation credits (wire key ``list``)."""

    items: list[ConversationCredit] = attrs.field(factory=list, alias="list")
    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    start_time: int | None = None
    end_time: int | None = None


@attrs.frozen
class WorkflowRunCredit(Model):
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
class WorkflowRunCreditPage(Model):
    """One page of per-run credits (wire key ``list``)."""

    items: list[WorkflowRunCredit] = attrs.field(factory=list, alias="list")
    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    start_time: int | None = None
    end_time: int | None = None
