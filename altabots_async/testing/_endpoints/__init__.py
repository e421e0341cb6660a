"""Endpoint handlers of the simulator, one module per API category.

To add a category: create ``<category>.py`` with ``routes = RouteTable()`` and handlers
decorated ``@routes.get(path)`` / ``@routes.post(path)`` (``async def handler(ctx) -> Response``),
then add its ``routes`` to :data:`ROUTE_TABLES`. Every simulator includes them at construction.
Per-key state lives in ``ctx.store`` (``ctx.store.data.setdefault("<category>", ...)``).
"""

from __future__ import annotations

from .._http import RouteTable
from . import (
    agent,
    agent_admin,
    analytics,
    conversations,
    database,
    knowledge,
    speech,
    users,
    workflow,
)

__all__ = ["ROUTE_TABLES"]

ROUTE_TABLES: tuple[RouteTable, ...] = (
    agent.routes,
    conversations.routes,
    agent_admin.routes,
    knowledge.routes,
    analytics.routes,
    users.routes,
    workflow.routes,
    database.routes,
    speech.routes,
)
