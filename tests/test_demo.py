"""``altabots-async demo --quick``: the main job, small, against its own simulator."""

from __future__ import annotations

import io
import re

import pytest

from altabots_async.cli._demo import BATCH, INTERACTIVE, DemoConfig, percentile, run_demo
from altabots_async.cli._progress import LiveView

pytest.importorskip("uvicorn")


def test_quick_demo_stays_inside_the_quota_and_prints_a_summary() -> None:
    """The server's log shows 0 calls over quota; the summary has every figure; the
    progress lines of a non-terminal run hold no escape sequences."""
    out = io.StringIO()
    config = DemoConfig(seconds=5.0, window=2.0, limit=300, users=100)

    summary = run_demo(config, out)

    text = out.getvalue()
    assert summary.over_quota == 0
    assert summary.server_429 == 0
    assert summary.failed == 0
    assert summary.calls == summary.server_requests >= config.total_calls - 2
    assert all(n <= config.limit for n in summary.per_window)
    assert summary.utilisation >= 0.85
    assert "\x1b" not in text
    assert re.search(r"^\[demo +\d+\.\ds\] [\d,]+/[\d,]+ calls", text, re.MULTILINE)
    for label in ("Summary", "server log", "quota utilisation", "interactive (10)", "batch (0)"):
        assert label in text
    assert "OK: 0 calls over quota" in text
    interactive_p99 = percentile(summary.waits[INTERACTIVE], 0.99)
    batch_p99 = percentile(summary.waits[BATCH], 0.99)
    assert interactive_p99 is not None and batch_p99 is not None
    assert interactive_p99 < batch_p99


def test_an_unseen_consumer_costs_no_call() -> None:
    """Someone else spends 20% of every window with the same key, unseen: the client may meet
    a spent window (a 429 nobody can foresee), but it retries and loses no call; an
    interactive call whose ``max_wait`` the outsider made impossible is refused at once."""
    out = io.StringIO()
    config = DemoConfig(seconds=5.0, window=2.0, limit=300, users=100, outside=0.2)

    summary = run_demo(config, out)

    assert summary.ok
    assert summary.lost == 0
    assert set(summary.errors) <= {"QuotaExhaustedError"}
    assert sum(summary.outside_per_window) > 0
    assert summary.over_quota == summary.client_429 <= summary.retries
    assert all(
        ours + theirs <= config.limit
        for ours, theirs in zip(summary.per_window, summary.outside_per_window, strict=True)
    )
    assert "unseen consumer" in out.getvalue()


def test_progress_redraws_in_place_on_a_terminal_only() -> None:
    frames = iter([["one", "two"], ["three", "four"]])
    tty = io.StringIO()
    view = LiveView(tty, lambda _: next(frames), tty=True)

    view.draw()
    view.draw()

    assert tty.getvalue() == "\x1b[2Kone\n\x1b[2Ktwo\n\x1b[2F\x1b[2Kthree\n\x1b[2Kfour\n"

    plain = io.StringIO()
    view = LiveView(plain, lambda _: ["a line"], tty=None)
    view.draw()

    assert plain.getvalue() == "a line\n"


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 0.5, None), ([3.0], 0.99, 3.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0), ([1.0, 2.0], 1.0, 2.0)],
)
def test_percentile_nearest_rank(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_a_reserve_does_not_stall_batch_only_traffic() -> None:
    """A batch call with nobody of higher priority around must still be served."""
    import anyio

    from altabots_async import AsyncAltaBots, Quota, RateLimiter
    from altabots_async.testing import Plan, Simulator

    async def main() -> None:
        sim = Simulator({"sk-test": Plan.enterprise(100, 60.0)})
        limiter = RateLimiter(Quota(100, 60.0), reserve=0.1, reserve_priority=10)
        async with AsyncAltaBots(
            "sk-test", base_url="http://127.0.0.1/", transport=sim.transport(), limiter=limiter
        ) as client:
            with anyio.fail_after(2):
                await client.agent.retrieve()

    anyio.run(main)
