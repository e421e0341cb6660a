"""Clocks: a monotonic one for waiting, the wall clock only to read the server's times."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import anyio


class Clock(Protocol):
    """What the limiter needs to know about time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never steps (the one waits are measured on)."""
        ...

    def wall(self) -> float:
        """Unix time of our machine (used only where the server sends no ``Date``)."""
        ...


class SystemClock:
    """The event loop's clock (so trio's MockClock works) and ``time.time()``."""

    def monotonic(self) -> float:
        """``anyio.current_time()``: the running loop's clock.

        On asyncio that is ``loop.time()``, read directly: ``anyio.current_time()`` first asks
        sniffio which library runs, which cost more than the rest of an uncontended acquire.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # trio, or no loop at all
            return anyio.current_time()
        return loop.time()

    def wall(self) -> float:
        """``time.time()``."""
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"
