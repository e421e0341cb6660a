"""Analytics endpoints (REFERENCE §4.5) over a per-key credit ledger.

Every simulated call that costs credits appends to ``ctx.store.data["credits"]`` through
:func:`record_credits` (kind, amount, server time, and the conversation or workflow run it
belongs to); the four analytics endpoints sum that ledger. Other endpoint modules (messages,
documents, workflows, speech, database) call :func:`record_credits`; chat charges are read
from the replies the conversation endpoints keep (``usage.credits.total_credits`` of each
stored assistant message). So the analytics a test reads reflect the calls it made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from .._http import Context, Response, RouteTable
from ._common import bad, guard_deleted_agent, int_field, paginate

__all__ = ["CREDIT_KINDS", "record_credits", "routes"]

routes = RouteTable()

CREDIT_KINDS = (
    "chat",
    "knowledge_doc_indexing",
    "knowledge_doc_storage",
    "rerank",
    "database_processing",
    "tool_call",
    "asr",
    "tts",
)
"""Kinds of the total and daily bills; per-item bills add anonymization, question_tag,
moderation."""
ITEM_KINDS = (
    "chat",
    "anonymization",
    "asr",
    "tts",
    "rerank",
    "database_processing",
    "tool_call",
    "knowledge_doc_indexing",
    "question_tag",
    "moderation",
)
DAY_MS = 86_400_000


def record_credits(
    ctx: Context,
    kind: str,
    amount: float,
    *,
    conversation_id: str | None = None,
    run_id: str | None = None,
) -> None:
    """Append a charge of ``amount`` credits of ``kind`` at the request's server time."""
    ledger: list[dict[str, Any]] = ctx.store.data.setdefault("credits", [])
    ledger.append(
        {
            "time_ms": int(ctx.now * 1000),
            "kind": kind,
            "amount": float(amount),
            "conversation_id": conversation_id,
            "run_id": run_id,
        }
    )


def _range(ctx: Context, max_days: int) -> tuple[int, int]:
    start = int_field(ctx.request.query_one("start_time"), "start_time", 0, 10**15)
    end = int_field(ctx.request.query_one("end_time"), "end_time", 0, 10**15)
    if end < start:
        raise bad("end_time must not be before start_time")
    if end - start > max_days * DAY_MS:
        raise bad(f"the time range may span at most {max_days} days")
    return start, end


def _chat_entries(ctx: Context) -> list[dict[str, Any]]:
    """Chat charges of the replies the conversation endpoints stored (their ``usage``)."""
    messages = getattr(ctx.store.data.get("conversations"), "messages", None)
    if not isinstance(messages, dict):
        return []
    entries = []
    for message in messages.values():
        usage = message.get("usage") if isinstance(message, dict) else None
        if not isinstance(usage, dict):
            continue
        credits = usage.get("credits", {}).get("total_credits", 0.0)
        entries.append(
            {
                "time_ms": int(message.get("create_time", 0)),
                "kind": "chat",
                "amount": float(credits),
                "conversation_id": message.get("conversation_id"),
                "run_id": None,
            }
        )
    return entries


def _entries(ctx: Context, start: int, end: int) -> list[dict[str, Any]]:
    ledger: list[dict[str, Any]] = ctx.store.data.get("credits", [])
    every = [*ledger, *_chat_entries(ctx)]
    return [entry for entry in every if start <= entry["time_ms"] <= end]


def _sums(entries: Iterable[dict[str, Any]], kinds: tuple[str, ...]) -> dict[str, float]:
    sums = dict.fromkeys(kinds, 0.0)
    total = 0.0
    for entry in entries:
        if entry["kind"] in sums:
            sums[entry["kind"]] = round(sums[entry["kind"]] + entry["amount"], 6)
        total += entry["amount"]
    return {**sums, "total": round(total, 6)}


def _date(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d")


@routes.get("/v1/account/bill/total")
async def bill_total(ctx: Context) -> Response:
    """GET /v1/account/bill/total: credits by kind in a range of <= 365 days."""
    start, end = _range(ctx, 365)
    sums = _sums(_entries(ctx, start, end), CREDIT_KINDS)
    return Response.json({"start_date": _date(start), "end_date": _date(end), **sums})


@routes.get("/v1/account/bill/page")
async def bill_daily(ctx: Context) -> Response:
    """GET /v1/account/bill/page: one row per day with charges, in a range of <= 90 days."""
    start, end = _range(ctx, 90)
    days: dict[str, list[dict[str, Any]]] = {}
    for entry in _entries(ctx, start, end):
        days.setdefault(_date(entry["time_ms"]), []).append(entry)
    rows = [{"date": day, **_sums(days[day], CREDIT_KINDS)} for day in sorted(days)]
    return Response.json(rows)


def _per_item(ctx: Context, key: str, time_key: str, filter_name: str) -> Response:
    start, end = _range(ctx, 30)
    page = int_field(ctx.request.query_one("page"), "page", 1, 10**9, default=1)
    size = int_field(ctx.request.query_one("page_size"), "page_size", 1, 100, default=20)
    wanted = ctx.request.query_one(filter_name)
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in _entries(ctx, start, end):
        owner = entry.get(key)
        if owner is None or (wanted and owner != wanted):
            continue
        groups.setdefault(owner, []).append(entry)
    rows = [
        {key: owner, time_key: min(e["time_ms"] for e in entries), **_sums(entries, ITEM_KINDS)}
        for owner, entries in groups.items()
    ]
    rows.sort(key=lambda row: (row[time_key], row[key]))
    return Response.json(
        {
            "list": paginate(rows, page, size),
            "total": len(rows),
            "page": page,
            "page_size": size,
            "start_time": start,
            "end_time": end,
        }
    )


@routes.get("/v1/account/agent/conversation/credits")
async def conversation_credits(ctx: Context) -> Response:
    """GET /v1/account/agent/conversation/credits: per conversation, range <= 30 days."""
    return _per_item(ctx, "conversation_id", "conversation_create_time", "conversation_id")


@routes.get("/v1/account/workflow/run/credits")
async def workflow_run_credits(ctx: Context) -> Response:
    """GET /v1/account/workflow/run/credits: per workflow run, range <= 30 days."""
    return _per_item(ctx, "run_id", "run_start_time", "run_id")


guard_deleted_agent(routes)
