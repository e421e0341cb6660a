"""Models of the Workflow category (REFERENCE §4.8, endpoints 48-54)."""

from __future__ import annotations

from typing import Any

import attrs

from ._base import Model

__all__ = ["WorkflowRun", "WorkflowRunLog", "WorkflowRunLogPage", "WorkflowWebhook"]


@attrs.frozen
class WorkflowWebhook(Model):
    """A callback for an async run's result: ``method``, ``url`` and optional ``headers``."""

    method: str
    url: str
    headers: dict[str, str] | None = None


@attrs.frozen
class WorkflowRun(Model):
    """A workflow run (invoke or result query). ``status`` is ``SUCCEED``, ``FAILED``,
    ``PENDING`` or ``RUNNING``; times are epoch milliseconds; ``total_cost`` is in credits.
    An async invoke returns only the ids and ``PENDING``."""

    workflow_run_id: str = attrs.field(alias="workflowRunId")
    workflow_id: str | None = attrs.field(default=None, alias="workflowId")
    workflow_name: str | None = attrs.field(default=None, alias="workflowName")
    workflow_version: str | None = attrs.field(default=None, alias="workflowVersion")
    status: str | None = None
    input: Any = None
    output: Any = None
    workflow_execution_time: int | None = attrs.field(default=None, alias="workflowExecutionTime")
    total_cost: float | None = attrs.field(default=None, alias="totalCost")
    total_tokens: int | None = attrs.field(default=None, alias="totalTokens")
    start_time: int | None = attrs.field(default=None, alias="startTime")
    end_time: int | None = attrs.field(default=None, alias="endTime")

    @property
    def done(self) -> bool:
        """Whether the run has finished (``SUCCEED`` or ``FAILED``)."""
        return self.status in ("SUCCEED", "FAILED")


@attrs.frozen
class WorkflowRunLog(Model):
    """One row of the run list; ``input`` / ``output`` are JSON text as sent."""

    log_id: str | None = None
    workflow_run_id: str | None = None
    input: str | None = None
    output: str | None = None


@attrs.frozen
class WorkflowRunLogPage(Model):
    """One page of ``GET /v1/workflow/run/logs`` (wrapper keys unconfirmed: ``list``, ``total``)."""

    items: list[WorkflowRunLog] = attrs.field(factory=list, alias="list")
    total: int | None = None
