"""Workflow endpoints (REFERENCE §4.8): invoke, result, run logs (versions: agent_admin.py).

A run echoes its input: ``output`` is ``{"result": <input>}``, cost 0.5 credits plus 0.01 per
input key. A synchronous run finishes at once (``SUCCEED``); an asynchronous one is
``PENDING`` until its result is first queried, when it finishes. Runs live in
``ctx.store.data["workflow"]["runs"]`` in order.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .._http import Context, Response, RouteTable
from ._common import bad, guard_deleted_agent, int_field, page_args, paginate, str_field
from .analytics import record_credits

__all__ = ["routes"]

routes = RouteTable()

MAX_WEBHOOKS = 5
RUN_TYPES = ("ALL", "API", "AGENT", "SHARE", "C_WORKFLOW")


def _runs(ctx: Context) -> dict[str, dict[str, Any]]:
    state: dict[str, Any] = ctx.store.data.setdefault("workflow", {"runs": {}})
    runs: dict[str, dict[str, Any]] = state["runs"]
    return runs


def _finish(ctx: Context, run: dict[str, Any]) -> None:
    now_ms = int(ctx.now * 1000)
    cost = round(0.5 + 0.01 * len(run["input"]), 4)
    run.update(
        status="SUCCEED",
        output={"result": run["input"]},
        workflowExecutionTime=max(now_ms - run["startTime"], 1),
        totalCost=cost,
        totalTokens=10 * (len(run["input"]) + 1),
        endTime=now_ms,
    )
    record_credits(ctx, "chat", cost, run_id=run["workflowRunId"])


@routes.post("/v1/workflow/invoke")
async def invoke(ctx: Context) -> Response:
    """Run the workflow: synchronously (``SUCCEED``) or with ``isAsync`` (``PENDING``)."""
    body = ctx.request.json_object()
    data = body.get("input")
    if not isinstance(data, dict):
        raise bad("input is required and must be an object")
    hooks = body.get("webhook") or []
    if not isinstance(hooks, list) or len(hooks) > MAX_WEBHOOKS:
        raise bad(f"webhook: at most {MAX_WEBHOOKS} callbacks")
    for hook in hooks:
        if not isinstance(hook, dict) or not hook.get("method") or not hook.get("url"):
            raise bad("each webhook needs method and url")
    run_id = str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))
    run: dict[str, Any] = {
        "workflowId": ctx.store.agent["bot_id"],
        "workflowName": "Simulated workflow",
        "workflowVersion": "1",
        "workflowRunId": run_id,
        "input": data,
        "output": None,
        "status": "PENDING",
        "startTime": int(ctx.now * 1000),
        "userId": body.get("userId"),
        "conversation_type": "API",
    }
    _runs(ctx)[run_id] = run
    if body.get("isAsync"):
        keys = ("workflowId", "workflowName", "workflowVersion", "workflowRunId", "status")
        return Response.json({key: run[key] for key in keys})
    _finish(ctx, run)
    return Response.json(_public(run))


def _public(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k not in ("userId", "conversation_type")}


@routes.post("/v1/workflow/query/result")
async def query_result(ctx: Context) -> Response:
    """The run's state; an async run finishes when first queried."""
    body = ctx.request.json_object()
    run_id = str_field(body, "workflowRunId") or ""
    run = _runs(ctx).get(run_id)
    if run is None:
        raise bad("workflow run not found")
    if run["status"] == "PENDING":
        _finish(ctx, run)
    return Response.json(_public(run))


@routes.get("/v1/workflow/run/logs")
async def run_logs(ctx: Context) -> Response:
    """Runs started in [start_time, end_time] (ms), oldest first, page size 10-100."""
    request = ctx.request
    kind = request.query_one("conversation_type")
    if kind not in RUN_TYPES:
        raise bad("conversation_type must be one of " + ", ".join(RUN_TYPES))
    start = int_field(request.query_one("start_time"), "start_time", 0, 10**15)
    end = int_field(request.query_one("end_time"), "end_time", 0, 10**15)
    page, size = page_args(request, 10, 100)
    user_id = request.query_one("user_id")
    rows = [
        {
            "log_id": f"log-{run['workflowRunId']}",
            "workflow_run_id": run["workflowRunId"],
            "input": json.dumps(run["input"], separators=(",", ":")),
            "output": json.dumps(run["output"], separators=(",", ":")),
        }
        for run in _runs(ctx).values()
        if start <= run["startTime"] <= end
        and (kind == "ALL" or run["conversation_type"] == kind)
        and (not user_id or run["userId"] == user_id)
    ]
    return Response.json({"list": paginate(rows, page, size), "total": len(rows)})


guard_deleted_agent(routes)
