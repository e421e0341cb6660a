"""Virtual time for the reliability tests, on both async backends.

asyncio: :class:`VirtualTimeLoop`, an event loop whose clock jumps to the next timer whenever
nothing is ready to run (so ``anyio.sleep(3600)`` returns at once, in order). trio:
``MockClock(autojump_threshold=0)``, which does the same. Only for tests without real I/O:
a loop that jumps ahead does not wait for sockets or threads.

Use ``virtual_backend`` as the ``anyio_backend`` fixture of a module::

    anyio_backend = virtual_backend
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import trio.testing


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """``loop.time()`` is virtual: when no callback is ready, it jumps to the next timer."""

    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0

    def time(self) -> float:
        return self._virtual_now

    def _run_once(self) -> None:
        ready: Any = self._ready  # type: ignore[attr-defined]
        scheduled: Any = self._scheduled  # type: ignore[attr-defined]
        if not ready and scheduled:
            # The earliest timer (a cancelled one is at or before every live one, so a jump
            # to it never overshoots; the base class drops it).
            when = scheduled[0]._when
            if when > self._virtual_now:
                self._virtual_now = when
        super()._run_once()  # type: ignore[misc]


def virtual_params(name: str) -> tuple[str, dict[str, Any]]:
    """The anyio backend tuple for ``name`` with virtual time."""
    if name == "asyncio":
        return "asyncio", {"loop_factory": VirtualTimeLoop}
    return "trio", {"clock": trio.testing.MockClock(autojump_threshold=0)}


@pytest.fixture(params=["asyncio", "trio"])
def virtual_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """asyncio on :class:`VirtualTimeLoop`, trio on an autojumping ``MockClock``."""
    return virtual_params(request.param)
