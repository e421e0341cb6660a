"""Several worker processes, one quota: the Redis backend.

Each process has its own client; all of them use ``RateLimiter(backend=RedisBackend(...))``
on the same Redis, so the quota's state (remaining, reset, in-flight leases, 429 freezes) is
shared. Any number of processes, on any number of hosts, then stay inside the one quota of
the API key. A worker that crashes holds its permits only as leases with a TTL: they come
back within ``lease_ttl`` seconds.

Run it (``pip install 'altabots-async[redis]'`` and a Redis server)::

    ALTABOTS_API_KEY=... REDIS_URL=redis://localhost:6379/0 \\
        python examples/worker_pool_redis.py --workers 4 --calls 50
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

import anyio

from altabots_async import AltaBotsError, AsyncAltaBots, RateLimiter
from altabots_async.ratelimit.backends.redis import RedisBackend


async def work(worker: int, calls: int, redis_url: str, prefix: str) -> tuple[int, int]:
    """One worker: ``calls`` questions through the shared quota. Returns (ok, failed)."""
    backend = RedisBackend.from_url(redis_url, prefix=prefix)
    limiter = RateLimiter(backend=backend)  # quota learned from the headers, shared via Redis
    ok = failed = 0
    try:
        async with AsyncAltaBots(limiter=limiter) as client:
            conv = await client.conversations.create(user_id=f"worker-{worker}")

            async def ask(n: int) -> None:
                nonlocal ok, failed
                try:
                    await client.conversations.send_message(
                        conv.conversation_id, f"task {n} of worker {worker}"
                    )
                    ok += 1
                except AltaBotsError:
                    failed += 1

            async with anyio.create_task_group() as tg:
                for n in range(calls - 1):
                    tg.start_soon(ask, n)
        return ok + 1, failed
    finally:
        await limiter.aclose()


def run_worker(worker: int, calls: int, redis_url: str, prefix: str) -> tuple[int, int]:
    """Process entry point."""
    return anyio.run(work, worker, calls, redis_url, prefix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--calls", type=int, default=50, help="calls per worker")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--prefix", default="altabots-example", help="Redis key prefix")
    args = parser.parse_args(argv)

    started = time.monotonic()
    context = multiprocessing.get_context("spawn")  # fresh interpreters, like separate hosts
    with context.Pool(args.workers) as pool:
        results = pool.starmap(
            run_worker,
            [(w, args.calls, args.redis_url, args.prefix) for w in range(args.workers)],
        )
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    print(
        f"{args.workers} workers: {ok} calls answered, {failed} failed, "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
