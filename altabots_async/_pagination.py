"""Async iteration over page-numbered list endpoints (``page`` from 1, ``page_size``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a list endpoint.

    Attributes:
        items: the rows of this page.
        page: its number (from 1).
        page_size: the size that was asked for.
        total: the total row count when the endpoint reports one, else None.
    """

    items: Sequence[T]
    page: int
    page_size: int
    total: int | None = None

    @property
    def has_next(self) -> bool:
        """Whether another page may exist (a full page, and the total not yet reached)."""
        if len(self.items) < self.page_size or not self.items:
            return False
        if self.total is not None:
            return self.page * self.page_size < self.total
        return True


FetchPage = Callable[[int], Awaitable[Page[T]]]


class AsyncPager(Generic[T]):
    """Walks every page lazily: the next page is requested only when the last item of the
    current one has been consumed, and each request goes through the scheduler.

    Example::

        async for conversation in client.conversations.list_all(start_time=..., end_time=...):
            ...
    """

    def __init__(self, fetch: FetchPage[T], *, first_page: int = 1, limit: int | None = None):
        if first_page < 1:
            raise ValueError("first_page must be >= 1")
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        self._fetch = fetch
        self._first_page = first_page
        self._limit = limit

    async def pages(self) -> AsyncGenerator[Page[T], None]:
        """Iterate page by page."""
        number = self._first_page
        while True:
            page = await self._fetch(number)
            yield page
            if not page.has_next:
                return
            number += 1

    async def _items(self) -> AsyncIterator[T]:
        count = 0
        if self._limit == 0:
            return
        async with contextlib.aclosing(self.pages()) as pages:
            async for page in pages:
                for item in page.items:
                    yield item
                    count += 1
                    if self._limit is not None and count >= self._limit:
                        return

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def to_list(self) -> list[T]:
        """Every item of every page, in order."""
        return [item async for item in self]
