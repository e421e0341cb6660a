"""A live progress view: redrawn in place on a terminal, plain periodic lines elsewhere.

On a TTY the view is a block of lines rewritten a few times a second with two ANSI
sequences (cursor up, erase line). In a pipe, a file or a CI log nothing is rewritten: one
plain line is printed every few seconds, so the log reads top to bottom without escapes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import IO

import anyio

from ._common import is_tty

_UP = "\x1b[{n}F"  # cursor to the start of the line n lines up
_ERASE = "\x1b[2K"

Render = Callable[[bool], list[str]]
"""``render(tty)``: the lines to show (on a TTY, the block; elsewhere, usually one line)."""


def bar(done: int, total: int, width: int = 28) -> str:
    """A text progress bar, ``[#######.......]``."""
    fraction = 0.0 if total <= 0 else min(1.0, done / total)
    filled = round(fraction * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def fmt_seconds(value: float | None) -> str:
    """``12.3 s``, or ``-`` when unknown."""
    return "-" if value is None else f"{value:.1f} s"


class Rate:
    """Events per second over the last few seconds (a sliding window of samples)."""

    def __init__(self, span: float = 2.0) -> None:
        self.span = span
        self._samples: deque[tuple[float, int]] = deque()

    def update(self, count: int, now: float | None = None) -> float:
        """Record the running total ``count``; return the recent rate."""
        now = time.monotonic() if now is None else now
        samples = self._samples
        samples.append((now, count))
        while len(samples) > 2 and now - samples[1][0] >= self.span:
            samples.popleft()
        first_time, first_count = samples[0]
        elapsed = now - first_time
        return 0.0 if elapsed <= 0 else (count - first_count) / elapsed


class LiveView:
    """Shows ``render``'s lines until stopped.

    Args:
        stream: where to draw (stdout for the demo, stderr for batch progress).
        tty: force the mode (default: whether ``stream`` is a terminal).
        tty_interval, plain_interval: seconds between redraws / between plain lines.
    """

    def __init__(
        self,
        stream: IO[str],
        render: Render,
        *,
        tty: bool | None = None,
        tty_interval: float = 0.25,
        plain_interval: float = 2.0,
    ) -> None:
        self.stream = stream
        self.render = render
        self.tty = is_tty(stream) if tty is None else tty
        self.interval = tty_interval if self.tty else plain_interval
        self._drawn = 0

    def draw(self) -> None:
        """Draw once (in place on a TTY, a new plain line elsewhere)."""
        lines = self.render(self.tty)
        if self.tty:
            out = [_UP.format(n=self._drawn)] if self._drawn else []
            out.extend(f"{_ERASE}{line}\n" for line in lines)
            self.stream.write("".join(out))
            self._drawn = len(lines)
        else:
            self.stream.write("".join(f"{line}\n" for line in lines))
        self.stream.flush()

    async def run(self) -> None:
        """Redraw every ``interval`` until cancelled."""
        while True:
            await anyio.sleep(self.interval)
            self.draw()

    def close(self) -> None:
        """The final frame: on a TTY the block is redrawn with the final figures; in plain
        mode one last line is printed."""
        self.draw()
