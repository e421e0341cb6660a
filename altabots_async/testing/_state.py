"""Shared simulated state that endpoint handlers read and write (``ctx.state``)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import attrs

__all__ = ["KeyStore", "SimState", "default_agent", "fingerprint"]


def fingerprint(api_key: str) -> str:
    """The id the simulator stores for an API key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def default_agent(key_id: str) -> dict[str, Any]:
    """A realistic flat Agent object (REFERENCE §4.3) whose ``bot_id`` derives from ``key_id``."""
    bot_id = hashlib.sha256(f"agent\0{key_id}".encode()).hexdigest()[:24]
    return {
        "bot_id": bot_id,
        "name": "Simulated Support Agent",
        "logo": f"https://altatech.ai/static/bot/logo/{bot_id}.png",
        "bot_type": "QuestionAnswer",
        "welcome_message": "Hi! I'm the simulated AltaBots agent. How can I help you today?",
        "introduction": "Answers questions from its knowledge base; served by the simulator.",
        "tags": ["simulator", "support"],
        "identity_prompt": "You are a friendly, concise customer support assistant.",
        "ai_model": "ChatGPT",
        "ai_model_version": "3.5",
        "creativity_level": 0.5,
        "doc_correlation": 0.7,
        "irrelevant_questions": False,
        "question_limit": 2000,
        "long_term_memory": False,
    }


@attrs.define
class KeyStore:
    """Everything simulated for one API key (one Agent).

    Attributes:
        key_id: the key's fingerprint.
        agent: the Agent object ``GET /v1/bot/detail`` returns; edit it to change the answer.
        agent_deleted: when True, agent endpoints answer code 20059 ("agent deleted").
        data: free-form per-key stores for later endpoints, one entry per category
            (e.g. ``data["conversations"]``); create with ``data.setdefault(...)``.
    """

    key_id: str
    agent: dict[str, Any]
    agent_deleted: bool = False
    data: dict[str, Any] = attrs.field(factory=dict)


class SimState:
    """The simulated world behind the API: per-key stores plus id generation.

    Handlers reach it as ``ctx.state``; tests as ``sim.state``. ``reset()`` forgets everything.
    """

    def __init__(self, rng: random.Random) -> None:
        """State that draws its random ids from ``rng`` (the simulator's seeded generator)."""
        self._rng = rng
        self._stores: dict[str, KeyStore] = {}

    def store(self, key_id: str) -> KeyStore:
        """The store of ``key_id`` (a key fingerprint), created on first use."""
        store = self._stores.get(key_id)
        if store is None:
            store = self._stores[key_id] = KeyStore(key_id, default_agent(key_id))
        return store

    def stores(self) -> list[KeyStore]:
        """Every store created so far."""
        return list(self._stores.values())

    def new_id(self) -> str:
        """A fresh 24-hex-digit id (the Mongo ObjectId look of AltaBots ids), seeded."""
        return f"{self._rng.getrandbits(96):024x}"

    def reset(self) -> None:
        """Forget every store."""
        self._stores.clear()
