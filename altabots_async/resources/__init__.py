"""One thin module per API category."""

from ._base import RawResponseView, Resource
from .agent import AgentResource
from .conversations import ConversationsResource, HumanHandoffResource, KnowledgeScope
from .webhooks import WebhooksResource

__all__ = [
    "AgentResource",
    "ConversationsResource",
    "HumanHandoffResource",
    "KnowledgeScope",
    "RawResponseView",
    "Resource",
    "WebhooksResource",
]
