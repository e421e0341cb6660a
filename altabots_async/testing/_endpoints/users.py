"""User endpoints (REFERENCE §4.6): id bindings (CDP) and user attributes.

State in ``ctx.store.data["users"]``: ``bindings`` (user_id -> list of anonymous ids, oldest
first, at most 100) and ``properties`` (user_id or anonymous_id -> {name: value}).
"""

from __future__ import annotations

from typing import Any

from .._http import Context, Response, RouteTable
from ._common import bad, guard_deleted_agent, str_field

__all__ = ["routes"]

routes = RouteTable()

MAX_BINDINGS = 100
MAX_QUERY_IDS = 100
USER_NOT_FOUND = 503
ANONYMOUS_NOT_FOUND = 504


def _users(ctx: Context) -> dict[str, Any]:
    state: dict[str, Any] = ctx.store.data.setdefault("users", {"bindings": {}, "properties": {}})
    return state


def _ok(data: Any) -> Response:
    return Response.json({"code": 0, "message": "OK", "data": data})


def _binding_key(item: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (item["anonymous_id"], item["conversation_type"], item.get("source_id"))


@routes.post("/v1/user/set-userid")
async def set_user_id(ctx: Context) -> Response:
    """Bind anonymous ids to a user; a binding moves from any other user (a known one is
    refreshed: it becomes the newest); past 100 the oldest are dropped, never refused."""
    body = ctx.request.json_object()
    user_id = str_field(body, "user_id") or ""
    items = body.get("anonymous_ids")
    if not isinstance(items, list) or not items:
        raise bad("anonymous_ids is required")
    bindings: dict[str, list[dict[str, Any]]] = _users(ctx)["bindings"]
    for raw in items:
        if not isinstance(raw, dict):
            raise bad("anonymous_ids items must be objects")
        item = {
            "anonymous_id": str_field(raw, "anonymous_id"),
            "conversation_type": str_field(raw, "conversation_type"),
            "source_id": raw.get("source_id") or None,
        }
        key = _binding_key(item)
        for owned in bindings.values():
            owned[:] = [b for b in owned if _binding_key(b) != key]
        mine = bindings.setdefault(user_id, [])
        mine.append(item)
        del mine[:-MAX_BINDINGS]
    return _ok({"user_id": user_id, "anonymous_ids": bindings[user_id]})


@routes.post("/v1/property/update")
async def property_update(ctx: Context) -> Response:
    """Store attributes; an item without a name (or with a non-string one) fails."""
    body = ctx.request.json_object()
    user_id = str_field(body, "user_id") or ""
    values = body.get("property_values")
    if not isinstance(values, list) or not values:
        raise bad("property_values is required")
    store: dict[str, Any] = _users(ctx)["properties"].setdefault(user_id, {})
    success, fail = [], []
    for item in values:
        if not isinstance(item, dict):
            raise bad("property_values items must be objects")
        name = item.get("property_name")
        entry = {"property_name": name, "value": item.get("value")}
        if isinstance(name, str) and name.strip():
            store[name] = item.get("value")
            success.append(entry)
        else:
            fail.append(entry)
    return Response.json({"success_update": success, "fail_update": fail})


def _known(ctx: Context, key: str, ident: str) -> bool:
    """Whether the simulator has heard of this user id (or anonymous id)."""
    state = _users(ctx)
    if ident in state["properties"]:
        return True
    bindings: dict[str, list[dict[str, Any]]] = state["bindings"]
    if key == "user_id":
        return ident in bindings
    return any(b["anonymous_id"] == ident for owned in bindings.values() for b in owned)


@routes.get("/v2/user-property/query")
async def property_query(ctx: Context) -> Response:
    """Attributes by ``user_ids`` (wins) or ``anonymous_ids``, at most 100 ids.

    Unknown ids come back with no attributes; when none is known the page's statuses
    answer: HTTP 503 "User ID Not Found" (user ids) or 504 "Anonymous User ID Not Found",
    without ``Retry-After`` (users/Query User Attributes.md).
    """
    user_ids = ctx.request.query_all("user_ids")
    anonymous_ids = ctx.request.query_all("anonymous_ids")
    key, ids = ("user_id", user_ids) if user_ids else ("anonymous_id", anonymous_ids)
    if not ids:
        raise bad("user_ids or anonymous_ids is required")
    if len(ids) > MAX_QUERY_IDS:
        raise bad(f"at most {MAX_QUERY_IDS} ids per request")
    if not any(_known(ctx, key, ident) for ident in ids):
        if key == "user_id":
            return Response.error(USER_NOT_FOUND, USER_NOT_FOUND, "User ID Not Found")
        return Response.error(
            ANONYMOUS_NOT_FOUND, ANONYMOUS_NOT_FOUND, "Anonymous User ID Not Found"
        )
    properties = _users(ctx)["properties"]
    rows = [
        {
            key: ident,
            "property_values": [
                {"propertyName": name, "value": value}
                for name, value in properties.get(ident, {}).items()
            ],
        }
        for ident in ids
    ]
    return Response.json(rows)


@routes.get("/v1/user/get-user-cdp")
async def user_cdp(ctx: Context) -> Response:
    """The bindings of a user (``user_id``) or of the user owning ``anonymous_id``."""
    user_id = ctx.request.query_one("user_id")
    anonymous_id = ctx.request.query_one("anonymous_id")
    if not user_id and not anonymous_id:
        raise bad("user_id or anonymous_id is required")
    bindings: dict[str, list[dict[str, Any]]] = _users(ctx)["bindings"]
    found: dict[str, Any] = {}
    for owner, items in bindings.items():
        if owner == user_id or any(b["anonymous_id"] == anonymous_id for b in items):
            found[owner] = {"user_id": owner, "anonymous_ids": items}
    return _ok(found)


guard_deleted_agent(routes)
