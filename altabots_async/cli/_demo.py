"""``altabots-async demo``: a mixed workload through one client, inside a small quota.

The simulator is served on loopback (uvicorn, in a thread) with the Professional plan's
shape, 1,000 calls per window, over a short window. One client then runs, concurrently:

* hundreds of batch "users" (priority 0): each creates a conversation and sends it messages,
  some blocking, some streamed, with knowledge-base searches in between;
* an interactive caller (priority 10, ``max_wait`` 5 s) that fires a call every half second,
  like a person clicking in a web app while the batch runs.

The client is not told the quota by default: it learns limit, remaining and reset from the
response headers. A small reserve of each window is kept for the interactive priority.
Queue waits are measured through the client's public ``hook=``: a call's wait runs from the
moment it is made to the ``"request"`` event (the permit). The verdict comes from the
server's own log: how many calls arrived over quota, and how many each window counted.
"""

from __future__ import annotations

import contextvars
import itertools
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import IO, Any

import anyio
import attrs

from .._exceptions import AltaBotsError
from ._common import EXIT_ERROR, SIMULATOR_KEY, fail
from ._progress import LiveView, Rate, bar, fmt_seconds

INTERACTIVE = 10
BATCH = 0
RESERVE = 0.03  # of each window, kept for the interactive priority
_LABELS = {INTERACTIVE: "interactive", BATCH: "batch"}

_QUESTIONS = (
    "Where is my order?",
    "How do I reset my password?",
    "Can I change the delivery address after checkout?",
    "What is your refund policy for annual plans?",
    "Does the Professional plan include API access?",
    "How do I export my conversation history?",
    "Is there a discount for non-profits?",
    "Why was my card declined?",
)
_SEARCHES = ("refund policy", "password reset", "shipping times", "API limits", "invoices")


@attrs.frozen
class DemoConfig:
    """The demo's knobs (see ``altabots-async demo --help``)."""

    seconds: float = 45.0
    window: float = 10.0
    limit: int = 1000
    users: int = 300
    tell_quota: bool = False
    interactive_every: float = 0.5
    latency: tuple[float, float] = (0.01, 0.08)
    seed: int = 7
    outside: float = 0.0  # share of each window an unseen consumer of the same key eats
    error_rate: float = 0.0  # share of calls the server answers with a 500/503

    @property
    def windows(self) -> int:
        """Quota windows the run touches; the work ends early in the last one."""
        return max(2, math.ceil(self.seconds / self.window - 1e-9))

    @property
    def expected_seconds(self) -> float:
        """When the work should end: at the start of the last window, plus its short burst."""
        return (self.windows - 1) * self.window

    @property
    def interactive_calls(self) -> int:
        """One interactive call every ``interactive_every`` seconds of the expected run."""
        return max(2, int(self.expected_seconds / self.interactive_every))

    @property
    def batch_calls(self) -> int:
        """Batch calls: every window but the last full (less the reserve), the last half."""
        per_window = self.limit - math.ceil(RESERVE * self.limit) - self.outside_per_window
        return max(self.users * 2, int(per_window * (self.windows - 0.5)))

    @property
    def outside_per_window(self) -> int:
        """Calls the unseen consumer makes in each window."""
        return round(self.outside * self.limit)

    @property
    def total_calls(self) -> int:
        """Every call the workload makes."""
        return self.batch_calls + self.interactive_calls


@attrs.define
class _Call:
    priority: int
    started: float
    granted: float | None = None


_CURRENT: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("demo_call", default=None)


@attrs.define
class Metrics:
    """What the hook and the workload count while the demo runs."""

    total: int
    done: int = 0
    failed: int = 0
    sent: int = 0
    throttled: int = 0
    retries: int = 0
    errors: Counter[str] = attrs.field(factory=Counter)
    waits: dict[int, list[float]] = attrs.field(factory=lambda: {INTERACTIVE: [], BATCH: []})
    first_sent: float | None = None
    last_done: float | None = None

    def hook(self, event: str, details: dict[str, object]) -> None:
        """The client's ``hook=``: called on every request, response and retry."""
        now = time.monotonic()
        if event == "request":
            self.sent += 1
            if self.first_sent is None:
                self.first_sent = now
            call = _CURRENT.get()
            if call is not None and call.granted is None:
                call.granted = now
        elif event == "response":
            if details.get("status") == 429:
                self.throttled += 1
        elif event == "retry":
            self.retries += 1

    async def run(self, priority: int, make: Callable[[], Awaitable[object]]) -> bool:
        """Make one call, timing its queue wait; an API error is counted, not raised."""
        call = _Call(priority, time.monotonic())
        token = _CURRENT.set(call)
        try:
            await make()
        except AltaBotsError as exc:
            self.failed += 1
            self.errors[type(exc).__name__] += 1
            return False
        finally:
            _CURRENT.reset(token)
            self.done += 1
            self.last_done = time.monotonic()
            if call.granted is not None:
                self.waits[priority].append(call.granted - call.started)
        return True

    def skip(self, n: int, reason: str) -> None:
        """Count ``n`` planned calls that cannot be made (their conversation failed)."""
        self.done += n
        self.failed += n
        self.errors[reason] += n


def _user_steps(config: DemoConfig, rng: random.Random) -> list[list[str]]:
    """Each batch user's calls after its ``create``: messages, streams, searches."""
    batch = config.batch_calls - config.users  # the creates are counted apart
    plans = []
    for i in range(config.users):
        count = batch // config.users + (1 if i < batch % config.users else 0)
        steps = ["send"]  # a conversation starts with a question
        for _ in range(count - 1):
            roll = rng.random()
            steps.append("search" if roll < 0.15 else "stream" if roll < 0.4 else "send")
        plans.append(steps[:count])
    return plans


def _step(
    client: Any, conv_id: str, step: str, rng: random.Random
) -> Callable[[], Awaitable[object]]:
    """The call one step makes, as a factory (so its queue wait can be timed)."""
    if step == "search":
        prompt = rng.choice(_SEARCHES)
        return lambda: client.knowledge_base.vector_match(prompt=prompt, top_k=3)
    question = rng.choice(_QUESTIONS)
    if step == "stream":
        return lambda: _consume_stream(client.conversations.stream_message(conv_id, question))
    return lambda: client.conversations.send_message(conv_id, question)


async def _consume_stream(stream: Any) -> None:
    async with stream:
        async for _ in stream:
            pass


async def run_workload(client: Any, config: DemoConfig, metrics: Metrics) -> None:
    """The batch users and the interactive caller, all through ``client``."""
    rng = random.Random(config.seed)
    plans = _user_steps(config, rng)
    batch = client.with_options(priority=BATCH)
    interactive = client.with_options(priority=INTERACTIVE, max_wait=5.0)

    async def user(index: int, steps: list[str]) -> None:
        holder: list[str] = []

        async def create() -> None:
            conv = await batch.conversations.create(user_id=f"demo-user-{index}")
            holder.append(conv.conversation_id)

        if not await metrics.run(BATCH, create):
            metrics.skip(len(steps), "skipped (conversation failed)")
            return
        for step in steps:
            await metrics.run(BATCH, _step(batch, holder[0], step, rng))

    batch_done = anyio.Event()

    async def clicker() -> None:
        """A click every ``interactive_every`` seconds for as long as the batch runs."""
        holder: list[str] = []

        async def create() -> None:
            conv = await interactive.conversations.create(user_id="demo-interactive")
            holder.append(conv.conversation_id)

        start = time.monotonic()
        ok = await metrics.run(INTERACTIVE, create)
        async with anyio.create_task_group() as clicks:
            for n in itertools.count(1):
                await anyio.sleep(max(0.0, start + n * config.interactive_every - time.monotonic()))
                if batch_done.is_set():
                    break
                if n >= config.interactive_calls:
                    metrics.total += 1  # the batch runs longer than planned
                if n % 2 or not ok:
                    clicks.start_soon(metrics.run, INTERACTIVE, interactive.agent.retrieve)
                else:
                    stream = interactive.conversations.stream_message(holder[0], "Quick question")
                    clicks.start_soon(metrics.run, INTERACTIVE, lambda s=stream: _consume_stream(s))

    async with anyio.create_task_group() as tg:
        tg.start_soon(clicker)
        async with anyio.create_task_group() as users:
            for index, steps in enumerate(plans):
                users.start_soon(user, index, steps)
        batch_done.set()
    metrics.total = metrics.done  # the clicker may have stopped short of its plan


async def outsider(sim: Any, config: DemoConfig) -> None:
    """Someone else with the same key: eats its share of each window in ten slices, unseen
    by the client (no responses, no headers: the client only sees Remaining fall faster)."""
    slices = 10
    per_slice = max(1, config.outside_per_window // slices)
    while True:
        await anyio.sleep(config.window / slices)
        sim.consume(SIMULATOR_KEY, per_slice)


async def watchdog(client: Any, metrics: Metrics, config: DemoConfig) -> None:
    """Fail loudly, instead of hanging, when no call finishes for a long while."""
    limit = max(10.0, 2.5 * config.window)
    last_done, last_change = metrics.done, time.monotonic()
    while True:
        await anyio.sleep(0.5)
        now = time.monotonic()
        if metrics.done != last_done:
            last_done, last_change = metrics.done, now
        elif now - last_change > limit:
            status = client.rate_limit
            fail(
                f"the scheduler stalled: no call finished in {limit:.0f} s with "
                f"{status.queued} queued, {status.in_flight} in flight and remaining "
                f"{status.remaining}; this is a bug of altabots-async, please report it",
                EXIT_ERROR,
            )


def fmt_wait(value: float | None) -> str:
    """A queue wait: milliseconds under a second, else seconds."""
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1.0 else f"{value:.2f} s"


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-quantile (0..1) by the nearest-rank rule; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@attrs.frozen
class Summary:
    """The demo's verdict, from the server's log and the client's measurements."""

    calls: int
    failed: int
    wall: float
    server_requests: int
    over_quota: int
    server_429: int
    per_window: tuple[int, ...]
    outside_per_window: tuple[int, ...]
    limit: int
    window: float
    retries: int
    client_429: int
    waits: dict[int, list[float]]
    tell_quota: bool
    errors: dict[str, int] = attrs.field(factory=dict)

    @property
    def full_windows(self) -> tuple[int, ...]:
        """Counts (ours and the outsider's) of the windows that had work waiting: every
        window but the last."""
        used = tuple(a + b for a, b in zip(self.per_window, self.outside_per_window, strict=True))
        return used[:-1] if len(used) > 1 else used

    @property
    def utilisation(self) -> float:
        """Share of the quota used in the windows that had work waiting."""
        windows = self.full_windows
        return 0.0 if not windows else sum(windows) / (self.limit * len(windows))

    @property
    def minimum_wall(self) -> float:
        """The least time any client needs: windows that must pass before the last call."""
        used = sum(self.per_window) + sum(self.outside_per_window)
        return ((max(used, 1) - 1) // self.limit) * self.window

    def lines(self) -> list[str]:
        """The summary table."""
        told = "told the quota" if self.tell_quota else "learned the quota from headers"
        windows = " / ".join(f"{n:,}" for n in self.per_window)
        outside = sum(self.outside_per_window)
        out = [
            "",
            "Summary",
            "-------",
            f"  calls made            {self.calls:,} ({self.failed:,} failed) in {self.wall:.1f} s",
            f"  server log            {self.server_requests:,} requests, "
            f"{self.over_quota} over quota, {self.server_429} answered 429",
            f"  quota                 {self.limit:,} per {self.window:g} s window (client {told})",
            f"  per window            {windows}",
            *(
                [f"  unseen consumer       {outside:,} calls of the same key, not ours"]
                if outside
                else []
            ),
            f"  quota utilisation     {self.utilisation:.1%} of the windows with work waiting "
            f"({RESERVE:.0%} of each is kept for interactive calls)",
            f"  wall time             {self.wall:.1f} s (the quota allows no less than "
            f"{self.minimum_wall:.1f} s)",
            f"  retries               {self.retries} (429s seen by the client: {self.client_429})",
            *(
                f"  failed                {count:,} x {name}"
                + (" (refused at once: max_wait)" if name == "QuotaExhaustedError" else "")
                for name, count in sorted(self.errors.items())
            ),
            "",
            "  queue wait by priority     calls       p50       p99       max",
        ]
        for priority in sorted(self.waits, reverse=True):
            values = self.waits[priority]
            name = f"{_LABELS.get(priority, 'priority')} ({priority})"
            cells = [fmt_wait(percentile(values, q)) for q in (0.5, 0.99, 1.0)]
            out.append(f"    {name:<22}{len(values):>9,}" + "".join(f"{c:>10}" for c in cells))
        out += ["", self.verdict]
        return out

    @property
    def ok(self) -> bool:
        """No call over quota; or, with an unseen consumer racing us, none lost to it."""
        if self.over_quota == 0:
            return True
        return sum(self.outside_per_window) > 0 and self.lost == 0

    @property
    def lost(self) -> int:
        """Failed calls, not counting interactive ones refused at once by their ``max_wait``
        (the fail-fast answer a person gets: "try again in N s")."""
        return self.failed - self.errors.get("QuotaExhaustedError", 0)

    @property
    def verdict(self) -> str:
        """The last line of the summary."""
        if self.over_quota == 0:
            return "OK: 0 calls over quota"
        if self.ok:
            return (
                f"OK: {self.over_quota} call(s) met a window the unseen consumer had just "
                "spent (a 429 no client can foresee); retried transparently"
            )
        return f"FAILED: {self.over_quota} call(s) over quota"


def _render(client: Any, metrics: Metrics, config: DemoConfig, started: float) -> Any:
    rate = Rate()
    rate.update(0, started)

    def render(tty: bool) -> list[str]:
        now = time.monotonic()
        status = client.rate_limit
        per_second = rate.update(metrics.sent, now)
        remaining = "?" if status.remaining is None else f"{status.remaining:,}"
        limit = "?" if status.limit is None else f"{status.limit:,}"
        done, total = metrics.done, metrics.total
        pct = 100.0 * done / total if total else 0.0
        quota = f"{remaining}/{limit} left, reset in {fmt_seconds(status.reset_in)}"
        counters = f"429s {metrics.throttled}  retries {metrics.retries}  failed {metrics.failed}"
        if not tty:
            return [
                f"[demo {now - started:5.1f}s] {done:,}/{total:,} calls ({pct:3.0f}%)  "
                f"{per_second:6.1f} req/s  quota {quota}  queued {status.queued}  "
                f"in flight {status.in_flight}  {counters}"
            ]
        return [
            f"{bar(done, total)} {done:,}/{total:,} calls ({pct:3.0f}%)  "
            f"elapsed {now - started:5.1f} s",
            f"  throughput   {per_second:7.1f} req/s",
            f"  quota        {quota}",
            f"  scheduler    {status.queued:,} queued, {status.in_flight} in flight",
            f"  trouble      {counters}",
        ]

    return render


async def _run(base_url: str, config: DemoConfig, out: IO[str], sim: Any) -> Summary:
    from .._client import AsyncAltaBots
    from ..ratelimit import Quota, RateLimiter

    quota = Quota(config.limit, config.window) if config.tell_quota else None
    metrics = Metrics(total=config.total_calls)
    limiter = RateLimiter(quota, reserve=RESERVE, reserve_priority=INTERACTIVE, max_in_flight=64)
    async with AsyncAltaBots(
        SIMULATOR_KEY, base_url=base_url, limiter=limiter, hook=metrics.hook, timeout=30.0
    ) as client:
        started = time.monotonic()
        view = LiveView(out, _render(client, metrics, config, started))
        async with anyio.create_task_group() as tg:
            tg.start_soon(view.run)
            tg.start_soon(watchdog, client, metrics, config)
            if config.outside_per_window:
                tg.start_soon(outsider, sim, config)
            await run_workload(client, config, metrics)
            tg.cancel_scope.cancel()
        view.close()
    ours: dict[float, int] = {}
    theirs: dict[float, int] = {}
    for record in list(sim.log):
        if record.counted and record.window_start is not None:
            counts = theirs if record.method == "OUTSIDE" else ours
            counts[record.window_start] = counts.get(record.window_start, 0) + 1
    starts = sorted(set(ours) | set(theirs))
    requests = sim.requests()
    first = metrics.first_sent if metrics.first_sent is not None else started
    last = metrics.last_done if metrics.last_done is not None else time.monotonic()
    return Summary(
        calls=metrics.done,
        failed=metrics.failed,
        wall=last - first,
        server_requests=len(requests),
        over_quota=sim.over_quota_count(),
        server_429=sum(1 for record in requests if record.status == 429),
        per_window=tuple(ours.get(start, 0) for start in starts),
        outside_per_window=tuple(theirs.get(start, 0) for start in starts),
        limit=config.limit,
        window=config.window,
        retries=metrics.retries,
        client_429=metrics.throttled,
        waits=metrics.waits,
        tell_quota=config.tell_quota,
        errors=dict(metrics.errors),
    )


def run_demo(config: DemoConfig, out: IO[str] | None = None) -> Summary:
    """Serve the simulator, run the workload, print the progress and the summary."""
    out = out if out is not None else sys.stdout
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        fail("the demo needs uvicorn: pip install 'altabots-async[cli]'")
    from ..testing import Faults, Plan, Simulator, serve_in_thread

    plan = Plan.PROFESSIONAL.scaled(config.window)
    if config.limit != plan.limit:
        plan = Plan.enterprise(config.limit, config.window)
    sim = Simulator(
        {SIMULATOR_KEY: plan},
        faults=Faults(latency=config.latency, error_rate=config.error_rate),
        seed=config.seed,
        window_anchor="first_request",
    )
    told = "told the quota" if config.tell_quota else "learns the quota from headers"
    out.write(
        f"altabots-async demo: {config.total_calls:,} calls ({config.users} batch users, "
        f"{config.interactive_calls} interactive calls) through one client\n"
        f"simulated server: {config.limit:,} calls per {config.window:g} s window; "
        f"the client {told}"
        + (
            f"; an unseen consumer eats {config.outside:.0%} of each window"
            if config.outside
            else ""
        )
        + (f"; {config.error_rate:.0%} of calls fail with 5xx" if config.error_rate else "")
        + "\n\n"
    )
    out.flush()
    with serve_in_thread(sim) as base_url:
        summary = anyio.run(_run, base_url, config, out, sim)
    out.write("\n".join(summary.lines()) + "\n")
    out.flush()
    return summary
