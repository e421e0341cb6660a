"""A worker process for the multi-process Redis tests: N tasks calling the simulator.

Run as ``python tests/_redis_worker.py --base-url URL --redis-url URL --prefix P ...``.
Prints ``READY`` once set up, then reads ``START UNTIL`` (epoch seconds) from stdin, starts
at START, stops acquiring at UNTIL, and writes a JSON report to ``--out``: statuses seen, error types surfaced to
callers, and the bucket's counters.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from altabots_async import Quota, QuotaExhaustedError, RateLimiter
from altabots_async._transport import RateLimitTransport
from altabots_async.ratelimit.backends.redis import RedisBackend


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("traffic", "atomic"), default="traffic")
    parser.add_argument("--base-url", default="")
    parser.add_argument("--key", default="")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--period", type=float)
    parser.add_argument("--lease-ttl", type=float, default=10.0)
    parser.add_argument("--heartbeat", type=float, default=2.0)
    parser.add_argument("--policy", default="fail_closed")
    parser.add_argument("--out", required=True)
    return parser


async def run(args: argparse.Namespace) -> dict[str, object]:
    """Run the tasks; return the report."""
    quota = Quota(args.limit, args.period) if args.limit and args.period else None
    backend = RedisBackend(
        args.redis_url,
        prefix=args.prefix,
        lease_ttl=args.lease_ttl,
        heartbeat=args.heartbeat,
        on_unavailable=args.policy,
    )
    limiter = RateLimiter(quota, backend=backend)
    inner = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=args.tasks + 10, max_keepalive_connections=args.tasks)
    )
    transport = RateLimitTransport(inner, limiter, max_retries=5)
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    start = until = 0.0
    async with httpx.AsyncClient(
        transport=transport,
        base_url=args.base_url,
        headers={"authorization": f"Bearer {args.key}"},
        timeout=30.0,
    ) as client:
        print("READY", flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        start, until = (float(x) for x in line.split())
        delay = start - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

        async def task() -> None:
            while time.time() < until:
                try:
                    response = await client.get("/v1/bot/detail")
                except Exception as exc:
                    errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)
                    continue
                statuses[str(response.status_code)] += 1

        def write_in_flight(path: Path) -> None:
            path.write_text(str(sum(len(b._leases) for b in backend._buckets.values())))

        async def report_in_flight() -> None:
            path = Path(args.out + ".inflight")
            while True:
                write_in_flight(path)
                await asyncio.sleep(0.01)

        reporter = asyncio.create_task(report_in_flight())
        # At UNTIL every task is cancelled wherever it is: queued callers take nothing,
        # requests in flight stay counted.
        try:
            async with asyncio.timeout(max(0.0, until - time.time())):
                await asyncio.gather(*(task() for _ in range(args.tasks)))
        except TimeoutError:
            pass
        reporter.cancel()
    bucket = next(iter(backend._buckets.values()), None)
    await backend.aclose()
    return {
        "statuses": dict(statuses),
        "errors": dict(errors),
        "granted": bucket.granted if bucket is not None else 0,
        "refunded": bucket.refunded if bucket is not None else 0,
        "round_trips": bucket.round_trips if bucket is not None else 0,
        "start": start,
        "until": until,
        "finished": time.time(),
    }


async def atomic(args: argparse.Namespace) -> dict[str, object]:
    """``--tasks`` simultaneous acquires (max_wait=0) per round on a capacity of ``--limit``."""
    backend = RedisBackend(args.redis_url, prefix=args.prefix)
    limiter = RateLimiter(Quota(args.limit, 600.0), backend=backend, probe=False)
    print("READY", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start = float(line.split()[0])
    await asyncio.sleep(max(0.0, start - time.time()))
    granted: list[int] = []
    for round_no in range(args.rounds):

        async def one(bucket: str) -> bool:
            try:
                await limiter.acquire(bucket, max_wait=0.0)
            except QuotaExhaustedError:
                return False
            return True  # kept: the lease is never settled, so the capacity stays taken

        results = await asyncio.gather(*(one(f"round-{round_no}") for _ in range(args.tasks)))
        granted.append(sum(results))
    await backend.aclose()
    return {"granted": granted}


def main() -> int:
    """Entry point."""
    args = _parser().parse_args()
    report = asyncio.run(atomic(args) if args.mode == "atomic" else run(args))
    Path(args.out).write_text(json.dumps(report))
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
