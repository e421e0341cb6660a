"""Models of the Agent category (``GET /v1/bot/detail`` and friends)."""

from __future__ import annotations

from typing import Any

import attrs

from ._base import Model, StrList


@attrs.frozen
class Agent(Model):
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


@attrs.frozen
class ApiKeyInfo(Model):
    """What ``GET /v1/api-key/verify`` says about the key (field names unconfirmed).

    ``type`` is the entity kind (``"agent"`` or ``"workflow"``); the id may come as ``id``,
    ``bot_id`` or ``workflow_id``: :attr:`entity_id` picks whichever is present.
    """

    type: str | None = None
    id: str | None = None
    bot_id: str | None = None
    workflow_id: str | None = None
    valid: bool | None = None

    @property
    def entity_id(self) -> str | None:
        """The agent or workflow id the key belongs to."""
        return self.id or self.bot_id or self.workflow_id


@attrs.frozen
class Version(Model):
    """One version of an agent or workflow (``GET /v1/{agent,workflow}/version/list``).

    ``create_time`` and ``release_time`` are epoch milliseconds (``release_time`` empty or
    missing until released).
    """

    version: str
    id: str | None = None
    bot_id: str | None = None
    version_desc: str | None = None
    version_status: str | None = None
    create_time: int | None = None
    release_time: Any = None  # epoch ms, or "" before release
    creator_email: str | None = None


@attrs.frozen
class VersionImport(Model):
    """The draft version made from an imported ``.bot`` / ``.flow`` file."""

    version: str | None = None
    bot_id: str | None = attrs.field(default=None, alias="botId")
    bot_type: str | None = attrs.field(default=None, alias="botType")
    warning: Any = None


@attrs.frozen
class VersionRelease(Model):
    """The outcome of publishing a version."""

    version: str | None = None
    previous_version: str | None = None


@attrs.frozen
class VersionRollback(Model):
    """The outcome of a rollback: ``source_version`` copied to ``new_version``."""

    source_version: str | None = None
    new_version: str | None = None
    created: bool | None = None
    released: bool | None = None
    warnings: list[str] = attrs.field(factory=list)


@attrs.frozen
class Skill(Model):
    """A private Skill of a LoopAgent (create / update)."""

    skill_id: str
    name: str | None = None
    version: str | None = None
