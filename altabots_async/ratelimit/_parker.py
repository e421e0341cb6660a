"""A one-shot wake-up for one waiting task, as small as the event loop allows.

``anyio.Event`` on asyncio wraps an ``asyncio.Event`` (with its own deque): about 900 bytes.
A bare future does the same job for one waiter in about 150 bytes, which is what lets
100,000 queued callers fit in well under a kilobyte each. Under trio, ``trio.Event`` (about
280 bytes) is used.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import anyio
import sniffio


class Parker(Protocol):
    """Wake one task once."""

    def set(self) -> None:
        """Wake the waiting task (idempotent)."""
        ...

    async def wait(self) -> None:
        """Sleep until :meth:`set` (cancellable)."""
        ...


class _FutureParker:
    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def set(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    async def wait(self) -> None:
        await self._future


def new_parker() -> Parker:
    """A parker for the running event loop."""
    if sniffio.current_async_library() == "asyncio":
        return _FutureParker()
    return anyio.Event()
