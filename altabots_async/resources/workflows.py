"""The Workflow category: ``client.workflows`` (REFERENCE §4.8, endpoints 48-54).

A workflow key belongs to one workflow; calls act on it implicitly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from .._checks import (
    InvalidParameterError,
    check_choice,
    check_count,
    check_int_range,
    compact,
    require_text,
    time_range,
)
from .._pagination import AsyncPager, Page
from ..types.workflows import WorkflowRun, WorkflowRunLog, WorkflowRunLogPage, WorkflowWebhook
from ._base import Resource
from .agent import VersionsResource

MAX_WEBHOOKS = 5
RUN_LOG_TYPES = ("ALL", "API", "AGENT", "SHARE", "C_WORKFLOW")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _webhooks(webhook: Sequence[WorkflowWebhook | Mapping[str, Any]] | None) -> Any:
    if webhook is None:
        return None
    check_count("webhook", webhook, high=MAX_WEBHOOKS)
    items = []
    for index, raw in enumerate(webhook):
        field = f"webhook[{index}]"
        method: Any
        url: Any
        headers: Any
        if isinstance(raw, WorkflowWebhook):
            method, url, headers = raw.method, raw.url, raw.headers
        elif isinstance(raw, Mapping):
            method, url, headers = raw.get("method"), raw.get("url"), raw.get("headers")
        else:
            raise InvalidParameterError(field, "expected a WorkflowWebhook or a dict")
        require_text(f"{field}.method", method)
        check_choice(f"{field}.method", str(method).upper(), HTTP_METHODS)
        require_text(f"{field}.url", url)
        if not str(url).startswith(("http://", "https://")):
            raise InvalidParameterError(f"{field}.url", "must be an http(s) URL")
        if headers is not None and not isinstance(headers, Mapping):
            raise InvalidParameterError(f"{field}.headers", "must be a mapping")
        items.append(
            compact(
                method=str(method).upper(),
                url=url,
                headers=dict(headers) if headers is not None else None,
            )
        )
    return items


@attrs.define
class WorkflowsResource(Resource):
    """``client.workflows``: run the key's workflow, read results and run logs, versions."""

    @property
    def versions(self) -> VersionsResource:
        """Workflow version management (``.flow`` files)."""
        return VersionsResource(self._client, "workflow")

    async def invoke(
        self,
        *,
        input: Mapping[str, Any],  # the API field name
        user_id: str | None = None,
        is_async: bool | None = None,
        webhook: Sequence[WorkflowWebhook | Mapping[str, Any]] | None = None,
    ) -> WorkflowRun:
        """Run the workflow with the Start node's ``input``; ``is_async=True`` returns at once
        (``PENDING``) and posts the result to up to 5 ``webhook`` callbacks.

        Example: ``run = await client.workflows.invoke(input={"city": "Paris"})``
        """
        if not isinstance(input, Mapping):
            raise InvalidParameterError("input", "must be a mapping of the Start node's fields")
        if user_id is not None:
            require_text("userId", user_id)
        if webhook is not None and not is_async:
            raise InvalidParameterError("webhook", "callbacks apply only with is_async=True")
        body = compact(
            userId=user_id, input=dict(input), isAsync=is_async, webhook=_webhooks(webhook)
        )
        return await self._client._request(
            "POST", "v1/workflow/invoke", cast_to=WorkflowRun, json=body
        )

    async def get_result(self, workflow_run_id: str) -> WorkflowRun:
        """The state and output of a run.

        Example: ``run = await client.workflows.get_result(run.workflow_run_id)``
        """
        require_text("workflowRunId", workflow_run_id)
        return await self._client._request(
            "POST",
            "v1/workflow/query/result",
            cast_to=WorkflowRun,
            json={"workflowRunId": workflow_run_id},
            idempotent=True,
        )

    async def run_logs(
        self,
        *,
        start_time: int | datetime,
        end_time: int | datetime,
        conversation_type: str = "ALL",
        page: int = 1,
        page_size: int = 20,
        user_id: str | None = None,
    ) -> WorkflowRunLogPage:
        """One page of runs (page size 10-100; debug runs are never listed).

        GPTBots only (not on the AltaBots pages).

        Example: ``logs = await client.workflows.run_logs(start_time=t0, end_time=t1)``
        """
        start, end = time_range(start_time, end_time, max_days=None)
        check_choice("conversation_type", conversation_type, RUN_LOG_TYPES)
        check_int_range("page", page, 1, 1_000_000)
        check_int_range("page_size", page_size, 10, 100)
        params = compact(
            conversation_type=conversation_type,
            start_time=start,
            end_time=end,
            page=page,
            page_size=page_size,
            user_id=user_id,
        )
        return await self._client._request(
            "GET", "v1/workflow/run/logs", cast_to=WorkflowRunLogPage, params=params
        )

    def run_logs_all(
        self,
        *,
        start_time: int | datetime,
        end_time: int | datetime,
        conversation_type: str = "ALL",
        page_size: int = 100,
        user_id: str | None = None,
    ) -> AsyncPager[WorkflowRunLog]:
        """Every run in the range, page after page, fetched lazily.

        GPTBots only (not on the AltaBots pages).

        Example: ``async for log in client.workflows.run_logs_all(start_time=t0, end_time=t1):``
        """
        time_range(start_time, end_time, max_days=None)
        check_choice("conversation_type", conversation_type, RUN_LOG_TYPES)
        check_int_range("page_size", page_size, 10, 100)

        async def fetch(number: int) -> Page[WorkflowRunLog]:
            result = await self.run_logs(
                start_time=start_time,
                end_time=end_time,
                conversation_type=conversation_type,
                page=number,
                page_size=page_size,
                user_id=user_id,
            )
            return Page(result.items, number, page_size, result.total)

        return AsyncPager(fetch)
