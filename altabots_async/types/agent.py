"""Models of the Agent category (``GET /v1/bot/detail`` and friends)."""

from __future__ import annotations

import attrs

from .._convert import StrList


@attrs.frozen
class Agent:
    """The agent behind the API key (``GET /v1/bot/detail``).

    ``bot_type`` is ``"QuestionAnswer"`` or ``"Flow"`` (legacy ``"IntelligentAssistant"``);
    other values are kept as they come. ``tags`` is documented as an array but sent as a
    string by some servers: both become a list.
    """

    bot_id: str
    name: str | None = None
    logo: str | None = None
    bot_type: str | None = None
    welcome_message: str | None = None
    introduction: str | None = None
    tags: StrList = attrs.field(factory=lambda: StrList([]))
    identity_prompt: str | None = None
    ai_model: str | None = None
    ai_model_version: str | None = None
    creativity_level: float | None = None
    doc_correlation: float | None = None
    irrelevant_questions: bool | None = None
    question_limit: int | None = None
    long_term_memory: bool | None = None
