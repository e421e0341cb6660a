"""One thin module per API category."""

from ._base import RawResponseView, Resource
from .agent import AgentResource

__all__ = ["AgentResource", "RawResponseView", "Resource"]
