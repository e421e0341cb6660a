"""The Analytics category: ``client.analytics`` (REFERENCE §4.5, endpoints 40-43).

Time bounds are epoch milliseconds (ints) or timezone-aware datetimes.
"""

from __future__ import annotations

import builtins
from datetime import datetime

import attrs

from .._checks import check_int_range, compact, require_text, time_range
from .._pagination import AsyncPager, Page
from ..types.analytics import (
    ConversationCredit,
    ConversationCreditPage,
    CreditTotal,
    DailyCredit,
    WorkflowRunCredit,
    WorkflowRunCreditPage,
)
from ._base import Resource

TOTAL_MAX_DAYS = 365
DAILY_MAX_DAYS = 90
PER_ITEM_MAX_DAYS = 30

Time = int | datetime


@attrs.define
class AnalyticsResource(Resource):
    """``client.analytics``: credit consumption, in total, per day, per conversation, per run."""

    async def credits_total(self, *, start_time: Time, end_time: Time) -> CreditTotal:
        """Credits spent in a range of at most 365 days.

        Example: ``t = await client.analytics.credits_total(start_time=t0, end_time=t1)``
        """
        start, end = time_range(start_time, end_time, max_days=TOTAL_MAX_DAYS)
        return await self._client._request(
            "GET",
            "v1/account/bill/total",
            cast_to=CreditTotal,
            params={"start_time": start, "end_time": end},
        )

    async def credits_daily(
        self,
        *,
        start_time: Time,
        end_time: Time,
        page: int | None = None,
        page_size: int | None = None,
    ) -> builtins.list[DailyCredit]:
        """Credits per day in a range of at most 90 days.

        Example: ``days = await client.analytics.credits_daily(start_time=t0, end_time=t1)``
        """
        start, end = time_range(start_time, end_time, max_days=DAILY_MAX_DAYS)
        check_int_range("page", page, 1, 1_000_000)
        check_int_range("page_size", page_size, 1, 100)
        params = compact(start_time=start, end_time=end, page=page, page_size=page_size)
        return await self._client._request(
            "GET", "v1/account/bill/page", cast_to=builtins.list[DailyCredit], params=params
        )

    def credits_daily_all(self, *, start_time: Time, end_time: Time) -> AsyncPager[DailyCredit]:
        """The daily credits as a pager (one request: paging is unconfirmed there).

        Example: ``async for day in client.analytics.credits_daily_all(start_time=t0, ...): ...``
        """
        time_range(start_time, end_time, max_days=DAILY_MAX_DAYS)

        async def fetch(_: int) -> Page[DailyCredit]:
            items = await self.credits_daily(start_time=start_time, end_time=end_time)
            return Page(items, 1, max(len(items), 1), len(items))

        return AsyncPager(fetch)

    async def conversation_credits(
        self,
        *,
        start_time: Time,
        end_time: Time,
        page: int = 1,
        page_size: int = 20,
        conversation_id: str | None = None,
    ) -> ConversationCreditPage:
        """Credits per conversation (range <= 30 days, within the last 30 days; page size <= 100).

        Not on the AltaBots pages of the vendor's docs repository (REFERENCE saw it on the live
        site; GPTBots documents it).

        Example: ``p = await client.analytics.conversation_credits(start_time=t0, end_time=t1)``
        """
        start, end = time_range(start_time, end_time, max_days=PER_ITEM_MAX_DAYS)
        check_int_range("page", page, 1, 1_000_000)
        check_int_range("page_size", page_size, 1, 100)
        if conversation_id is not None:
            require_text("conversation_id", conversation_id)
        params = compact(
            start_time=start,
            end_time=end,
            page=page,
            page_size=page_size,
            conversation_id=conversation_id,
        )
        return await self._client._request(
            "GET",
            "v1/account/agent/conversation/credits",
            cast_to=ConversationCreditPage,
            params=params,
        )

    def conversation_credits_all(
        self,
        *,
        start_time: Time,
        end_time: Time,
        page_size: int = 100,
        conversation_id: str | None = None,
    ) -> AsyncPager[ConversationCredit]:
        """Every per-conversation credit row, page after page, fetched lazily.

        Not on the AltaBots pages of the vendor's docs repository (REFERENCE saw it on the live
        site; GPTBots documents it).

        Example: ``async for c in client.analytics.conversation_credits_all(start_time=t0, ...):``
        """
        time_range(start_time, end_time, max_days=PER_ITEM_MAX_DAYS)
        check_int_range("page_size", page_size, 1, 100)

        async def fetch(number: int) -> Page[ConversationCredit]:
            result = await self.conversation_credits(
                start_time=start_time,
                end_time=end_time,
                page=number,
                page_size=page_size,
                conversation_id=conversation_id,
            )
            return Page(result.items, number, page_size, result.total)

        return AsyncPager(fetch)

    async def workflow_run_credits(
        self,
        *,
        start_time: Time,
        end_time: Time,
        page: int = 1,
        page_size: int = 20,
        run_id: str | None = None,
    ) -> WorkflowRunCreditPage:
        """Credits per workflow run (range <= 30 days; page size <= 100).

        Not on the AltaBots pages of the vendor's docs repository (REFERENCE saw it on the live
        site; GPTBots documents it).

        Example: ``p = await client.analytics.workflow_run_credits(start_time=t0, end_time=t1)``
        """
        start, end = time_range(start_time, end_time, max_days=PER_ITEM_MAX_DAYS)
        check_int_range("page", page, 1, 1_000_000)
        check_int_range("page_size", page_size, 1, 100)
        if run_id is not None:
            require_text("run_id", run_id)
        params = compact(
            start_time=start, end_time=end, page=page, page_size=page_size, run_id=run_id
        )
        return await self._client._request(
            "GET",
            "v1/account/workflow/run/credits",
            cast_to=WorkflowRunCreditPage,
            params=params,
        )

    def workflow_run_credits_all(
        self,
        *,
        start_time: Time,
        end_time: Time,
        page_size: int = 100,
        run_id: str | None = None,
    ) -> AsyncPager[WorkflowRunCredit]:
        """Every per-run credit row, page after page, fetched lazily.

        Not on the AltaBots pages of the vendor's docs repository (REFERENCE saw it on the live
        site; GPTBots documents it).

        Example: ``async for r in client.analytics.workflow_run_credits_all(start_time=t0, ...):``
        """
        time_range(start_time, end_time, max_days=PER_ITEM_MAX_DAYS)
        check_int_range("page_size", page_size, 1, 100)

        async def fetch(number: int) -> Page[WorkflowRunCredit]:
            result = await self.workflow_run_credits(
                start_time=start_time,
                end_time=end_time,
                page=number,
                page_size=page_size,
                run_id=run_id,
            )
            return Page(result.items, number, page_size, result.total)

        return AsyncPager(fetch)
