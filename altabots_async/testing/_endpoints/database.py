"""Database endpoints (REFERENCE §4.9): tables, imports (task id + status), rows.

State in ``ctx.store.data["database"]``: ``tables`` (id -> definition and rows, in insertion
order) and ``tasks`` (import task id -> result). Imports run at once: a task is ``AVAILABLE``
(possibly with per-row failures) or ``FAIL`` when a unique value clashes with a stored row.
"""

from __future__ import annotations

import re
from typing import Any

from .._http import Context, Response, RouteTable
from ._common import bad, guard_deleted_agent, int_field, paginate, str_field
from .analytics import record_credits

__all__ = ["routes"]

routes = RouteTable()

INVALID_TABLE_NAME = 403100
INVALID_FIELD_NAME = 403103
TABLE_NOT_FOUND = 403106
FIELD_TYPES = ("TEXT", "INT", "FLOAT", "DATETIME", "BOOLEAN")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_FIELD_NAME = re.compile(r"[a-z0-9_]{1,32}")
ROW_CREDITS = 0.001


def _db(ctx: Context) -> dict[str, Any]:
    state: dict[str, Any] = ctx.store.data.setdefault("database", {"tables": {}, "tasks": {}})
    return state


def _ok(data: Any = None) -> Response:
    body: dict[str, Any] = {"code": 0, "message": "OK"}
    if data is not None:
        body["data"] = data
    return Response.json(body)


def _table(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    table_id = str_field(body, "table_id") or ""
    table: dict[str, Any] | None = _db(ctx)["tables"].get(table_id)
    if table is None:
        raise bad("table not found", TABLE_NOT_FOUND, 404)
    return table


def _unique_fields(table: dict[str, Any]) -> list[str]:
    return [f["name"] for f in table["fields"] if f.get("unique")]


def _matches(record: dict[str, Any], filter_: dict[str, Any]) -> bool:
    return all(record["value"].get(key) == value for key, value in filter_.items())


@routes.post("/v1/database/tables/page")
async def tables_page(ctx: Context) -> Response:
    """The agent's tables (``agent_id`` must be the key's agent)."""
    body = ctx.request.json_object()
    if str_field(body, "agent_id") != ctx.store.agent["bot_id"]:
        raise bad("agent_id does not match the API key's agent")
    tables = [
        {
            "table_id": t["id"],
            "name": t["name"],
            "description": t["description"],
            "field_number": len(t["fields"]),
            "record_count": len(t["records"]),
        }
        for t in _db(ctx)["tables"].values()
    ]
    return Response.json({"tables": tables})


@routes.post("/v1/database/create-table")
async def create_table(ctx: Context) -> Response:
    """Create a table (403100 bad name, 403103 bad field name, 40000 otherwise)."""
    body = ctx.request.json_object()
    name = body.get("name")
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise bad("invalid table name", INVALID_TABLE_NAME)
    description = str_field(body, "description") or ""
    if len(description) > 128:
        raise bad("description: at most 128 characters")
    fields = body.get("fields")
    if not isinstance(fields, list) or not fields:
        raise bad("fields is required")
    clean = []
    for field in fields:
        if not isinstance(field, dict):
            raise bad("fields items must be objects")
        fname = field.get("name")
        if not isinstance(fname, str) or _FIELD_NAME.fullmatch(fname) is None:
            raise bad("invalid field name", INVALID_FIELD_NAME)
        if field.get("type") not in FIELD_TYPES:
            raise bad("type must be one of " + ", ".join(FIELD_TYPES))
        fdescription = field.get("description")
        if not isinstance(fdescription, str) or not fdescription.strip():
            raise bad("fields[].description is required")
        if len(fdescription) > 128:
            raise bad("fields[].description: at most 128 characters")
        clean.append(
            {
                "name": fname,
                "description": fdescription,
                "type": field["type"],
                "required": bool(field.get("required")),
                "unique": bool(field.get("unique")),
            }
        )
    tables = _db(ctx)["tables"]
    if any(t["name"] == name for t in tables.values()):
        raise bad(f"a table named {name} already exists")
    table_id = ctx.state.new_id()
    tables[table_id] = {
        "id": table_id,
        "name": name,
        "description": description,
        "fields": clean,
        "records": {},
    }
    return _ok(table_id)


def _import(ctx: Context, table: dict[str, Any], rows: list[Any]) -> dict[str, Any]:
    uniques = _unique_fields(table)
    required = [f["name"] for f in table["fields"] if f.get("required") or f.get("unique")]
    stored = {(u, r["value"].get(u)) for r in table["records"].values() for u in uniques}
    failures: list[dict[str, Any]] = []
    accepted: list[dict[str, Any]] = []
    seen: set[tuple[str, Any]] = set()
    for number, row in enumerate(rows, start=1):
        missing = [name for name in required if row.get(name) in (None, "")]
        if missing:
            failures.append(_failure(number, f"missing value for {', '.join(missing)}"))
            continue
        keys = {(u, row[u]) for u in uniques}
        if keys & stored:
            conflict = _failure(None, "conflicts with existing data")
            conflict.update(row_number_start=1, row_number_end=len(rows))
            return {"status": "FAIL", "total": len(rows), "accepted": [], "failures": [conflict]}
        if keys & seen:
            failures.append(_failure(number, "duplicate unique value in this import"))
            continue
        seen |= keys
        accepted.append(row)
    return {"status": "AVAILABLE", "total": len(rows), "accepted": accepted, "failures": failures}


def _failure(row: int | None, reason: str) -> dict[str, Any]:
    """A ``fail_detail`` item as the page shows it: a row's own failure has
    ``row_number_start`` / ``row_number_end`` 0 (database/Query_Status_of_Adding_Table_Data.md)."""
    return {"row": row, "row_number_start": 0, "row_number_end": 0, "fail_reason": reason}


def _new_record(ctx: Context, table: dict[str, Any], value: dict[str, Any]) -> None:
    now_ms = int(ctx.now * 1000)
    record_id = ctx.state.new_id()
    table["records"][record_id] = {
        "id": record_id,
        "value": dict(value),
        "created_at": now_ms,
        "updated_at": now_ms,
    }


@routes.post("/v1/database/import/records")
async def import_records(ctx: Context) -> Response:
    """Import up to 1000 rows as one task; the task id comes back in ``data``."""
    body = ctx.request.json_object()
    table = _table(ctx, body)
    rows = body.get("records")
    if not isinstance(rows, list) or not rows or len(rows) > 1000:
        raise bad("records: 1 to 1000 rows")
    if not all(isinstance(row, dict) for row in rows):
        raise bad("records items must be objects")
    outcome = _import(ctx, table, rows)
    for row in outcome["accepted"]:
        _new_record(ctx, table, row)
    record_credits(ctx, "database_processing", ROW_CREDITS * len(outcome["accepted"]))
    task_id = ctx.state.new_id()
    fail_count = len(outcome["failures"]) if outcome["status"] == "AVAILABLE" else len(rows)
    _db(ctx)["tasks"][task_id] = {
        "id": task_id,
        "progress": 100,
        "status": outcome["status"],
        "total_count": len(rows),
        "success_count": len(outcome["accepted"]),
        "fail_count": fail_count,
        "fail_detail": outcome["failures"],
    }
    return _ok([task_id])


@routes.get("/v1/database/query/import-results")
async def import_results(ctx: Context) -> Response:
    """The tasks named by repeated ``ids`` (unknown ids are skipped)."""
    ids = ctx.request.query_all("ids")
    if not ids:
        raise bad("ids is required")
    tasks = _db(ctx)["tasks"]
    return Response.json([tasks[task_id] for task_id in ids if task_id in tasks])


@routes.post("/v1/database/records/page")
async def records_page(ctx: Context) -> Response:
    """A page of rows (1-100), wrapped; ``filter`` (every field given must match: the
    page's example uses two unique fields) and ``keyword`` may be combined."""
    body = ctx.request.json_object()
    table = _table(ctx, body)
    page = int_field(body.get("page"), "page", 1, 10**9)
    size = int_field(body.get("page_size"), "page_size", 1, 100)
    records = list(table["records"].values())
    filter_ = body.get("filter")
    if filter_ is not None:
        if not isinstance(filter_, dict) or not filter_:
            raise bad("filter must map one or more fields to values")
        names = {f["name"] for f in table["fields"]}
        unknown = sorted(str(key) for key in filter_ if key not in names)
        if unknown:
            raise bad(f"filter names unknown fields: {', '.join(unknown)}")
        records = [r for r in records if _matches(r, filter_)]
    keyword = body.get("keyword")
    if keyword:
        records = [r for r in records if any(str(keyword) in str(v) for v in r["value"].values())]
    info = {
        "id": table["id"],
        "name": table["name"],
        "description": table["description"],
        "field_count": len(table["fields"]),
        "fields": table["fields"],
        "bot_id": ctx.store.agent["bot_id"],
        "project_id": ctx.store.agent["bot_id"],
        "owner_id": ctx.store.agent["bot_id"],
    }
    return _ok(
        {"table_info": info, "records": paginate(records, page, size), "total_count": len(records)}
    )


def _select(table: dict[str, Any], item: dict[str, Any]) -> list[dict[str, Any]]:
    record_id = item.get("record_id")
    if record_id is not None:
        record = table["records"].get(record_id)
        return [record] if record is not None else []
    filter_ = item.get("filter")
    if not isinstance(filter_, dict) or not filter_:
        raise bad("each item needs record_id or filter")
    return [r for r in table["records"].values() if _matches(r, filter_)]


def _upsert_data(item: dict[str, Any]) -> dict[str, Any]:
    """A failed item as the page echoes it: its ``record_id`` or ``filter``, and ``value``."""
    selector = (
        {"record_id": item["record_id"]}
        if item.get("record_id") is not None
        else {"filter": item.get("filter")}
    )
    return {**selector, "value": item.get("updated_fields")}


@routes.post("/v2/database/update/record")
async def update_records(ctx: Context) -> Response:
    """Update rows by id or filter (<= 100 items); ``is_create`` inserts unmatched filters."""
    body = ctx.request.json_object()
    table = _table(ctx, body)
    items = body.get("update_data")
    if not isinstance(items, list) or not items or len(items) > 100:
        raise bad("update_data: 1 to 100 items")
    success, failures = 0, []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("updated_fields"), dict):
            raise bad("each item needs updated_fields")
        targets = _select(table, item)
        if not targets and body.get("is_create") and item.get("filter"):
            _new_record(ctx, table, {**item["filter"], **item["updated_fields"]})
            success += 1
            continue
        if not targets:
            failures.append(
                {"upsert_data": _upsert_data(item), "fail_reason": "no matching record"}
            )
            continue
        for record in targets:
            record["value"].update(item["updated_fields"])
            record["updated_at"] = int(ctx.now * 1000)
        success += 1
    record_credits(ctx, "database_processing", ROW_CREDITS * success)
    return Response.json(
        {
            "totalCount": len(items),
            "success_count": success,
            "fail_count": len(failures),
            "fail_detail": failures,
        }
    )


@routes.post("/v2/database/delete/record")
async def delete_records(ctx: Context) -> Response:
    """Delete rows by id or filter (<= 1000 items)."""
    body = ctx.request.json_object()
    table = _table(ctx, body)
    items = body.get("delete_data")
    if not isinstance(items, list) or not items or len(items) > 1000:
        raise bad("delete_data: 1 to 1000 items")
    for item in items:
        if not isinstance(item, dict):
            raise bad("delete_data items must be objects")
        for record in _select(table, item):
            table["records"].pop(record["id"], None)
    return _ok()


guard_deleted_agent(routes)
