"""Wiring the client's ``hook=`` to metrics and tracing, without a metrics library.

``AsyncAltaBots(hook=...)`` calls ``hook(event, details)`` in the calling task:

* ``"request"``  a permit was granted and the request is about to go out
  (``method``, ``url``, ``attempt``);
* ``"response"`` its response headers arrived (``status``, ``attempt``);
* ``"retry"``    it will be resent (``attempt``, ``delay``, ``error``).

Because the hook runs in the caller's task, a ``ContextVar`` set on ``"request"`` is still
there on ``"response"``: that gives per-attempt latency and spans with no shared dict of
in-flight requests. Below, Prometheus-style counters and a latency histogram (plain dicts,
printed in the text exposition format) and OpenTelemetry-shaped span records. To use the
real libraries, replace ``Metrics.inc``/``observe`` with ``prometheus_client`` counters and
``Tracer`` with ``opentelemetry.trace.get_tracer(...).start_span``. The hook must be quick
and must not raise: it runs on the request path.

Run it::

    ALTABOTS_API_KEY=... python examples/metrics_hook.py
"""

from __future__ import annotations

import contextvars
import itertools
import time
from collections import defaultdict
from typing import Any

import anyio

from altabots_async import AsyncAltaBots

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))
_started: contextvars.ContextVar[tuple[float, dict[str, Any]] | None] = contextvars.ContextVar(
    "altabots_request", default=None
)
_ids = itertools.count(1)


class Metrics:
    """Counters and a histogram, keyed like Prometheus series: ``(name, labels)``."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.histogram: dict[str, list[int]] = defaultdict(lambda: [0] * len(_BUCKETS))
        self.sums: dict[str, float] = defaultdict(float)

    def inc(self, name: str, **labels: str) -> None:
        self.counters[(name, tuple(sorted(labels.items())))] += 1

    def observe(self, name: str, value: float) -> None:
        counts = self.histogram[name]
        for index, bound in enumerate(_BUCKETS):
            if value <= bound:
                counts[index] += 1
        self.sums[name] += value

    def exposition(self) -> str:
        """The Prometheus text format."""
        lines = []
        for (name, labels), value in sorted(self.counters.items()):
            rendered = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{name}{{{rendered}}} {value:g}")
        for name, counts in sorted(self.histogram.items()):
            for bound, count in zip(_BUCKETS, counts, strict=True):
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f'{name}_bucket{{le="{le}"}} {count}')
            lines.append(f"{name}_sum {self.sums[name]:.6f}")
            lines.append(f"{name}_count {counts[-1]}")
        return "\n".join(lines)


class Tracer:
    """Finished spans as dicts shaped like OpenTelemetry's (name, ids, times, attributes)."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []


def instrument(metrics: Metrics, tracer: Tracer) -> Any:
    """The hook: counts every event, times every attempt, records one span per attempt."""

    def hook(event: str, details: dict[str, object]) -> None:
        now = time.time()
        if event == "request":
            metrics.inc("altabots_requests_total", method=str(details["method"]))
            span: dict[str, Any] = {
                "name": f"altabots {details['method']} {details['url']}",
                "span_id": f"{next(_ids):016x}",
                "start_time": now,
                "attributes": {
                    "http.request.method": details["method"],
                    "url.path": details["url"],
                    "altabots.attempt": details["attempt"],
                },
            }
            _started.set((time.monotonic(), span))
        elif event == "response":
            status = str(details["status"])
            metrics.inc("altabots_responses_total", status=status)
            started = _started.get()
            if started is not None:
                begun, span = started
                metrics.observe("altabots_request_duration_seconds", time.monotonic() - begun)
                span["end_time"] = now
                attributes: dict[str, object] = span["attributes"]
                attributes["http.response.status_code"] = details["status"]
                span["status"] = "ERROR" if int(status) >= 500 else "UNSET"
                tracer.spans.append(span)
                _started.set(None)
        elif event == "retry":
            metrics.inc("altabots_retries_total", error=str(details["error"]))

    return hook


async def main() -> None:
    metrics, tracer = Metrics(), Tracer()
    async with AsyncAltaBots(hook=instrument(metrics, tracer)) as client:
        conv = await client.conversations.create(user_id="metrics-demo")
        async with anyio.create_task_group() as tg:
            for n in range(5):
                tg.start_soon(client.conversations.send_message, conv.conversation_id, f"q{n}")
        await client.agent.retrieve()
        status = client.rate_limit
    print(metrics.exposition())
    print(f"altabots_quota_remaining {status.remaining}")
    print(f"# {len(tracer.spans)} spans; the first: {tracer.spans[0]}")


if __name__ == "__main__":
    anyio.run(main)
