"""One thin module per API category."""

from ._base import RawResponseView, Resource
from .agent import AgentResource, SkillsResource, VersionsResource
from .analytics import AnalyticsResource
from .conversations import ConversationsResource, HumanHandoffResource, KnowledgeScope
from .databases import DatabasesResource
from .knowledge import KnowledgeBaseResource
from .knowledge_docs import ChunksResource, DocsResource, QAResource
from .speech import SpeechResource
from .users import UsersResource
from .webhooks import WebhooksResource
from .workflows import WorkflowsResource

__all__ = [
    "AgentResource",
    "AnalyticsResource",
    "ChunksResource",
    "ConversationsResource",
    "DatabasesResource",
    "DocsResource",
    "HumanHandoffResource",
    "KnowledgeBaseResource",
    "KnowledgeScope",
    "QAResource",
    "RawResponseView",
    "Resource",
    "SkillsResource",
    "SpeechResource",
    "UsersResource",
    "VersionsResource",
    "WebhooksResource",
    "WorkflowsResource",
]
