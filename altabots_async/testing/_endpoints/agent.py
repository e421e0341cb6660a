"""Agent endpoints (REFERENCE §4.3)."""

from __future__ import annotations

from .._http import Context, Response, RouteTable

__all__ = ["routes"]

routes = RouteTable()

AGENT_DELETED = 20059


def agent_deleted() -> Response:
    """The answer when the key's agent was deleted (code 20059; HTTP status is our assumption)."""
    return Response.error(404, AGENT_DELETED, "Agent has been deleted")


@routes.get("/v1/bot/detail")
async def bot_detail(ctx: Context) -> Response:
    """GET /v1/bot/detail: the key's Agent as a flat object."""
    store = ctx.store
    if store.agent_deleted:
        return agent_deleted()
    return Response.json(store.agent)  # serialized now: later edits do not leak in
