"""Arguments of ``altabots-async demo`` (the workload itself is in ``_demo``)."""

from __future__ import annotations

import argparse

from ._common import EXIT_ERROR, EXIT_OK, fail


def add_parser(parser: argparse.ArgumentParser) -> None:
    """Declare the demo's options."""
    parser.add_argument(
        "--seconds",
        type=float,
        default=45.0,
        help="about how long the workload lasts: its size is set from this (default 45)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small run for tests and CI: 300 calls per 2 s window, about 4 s",
    )
    parser.add_argument(
        "--window", type=float, help="the quota window in seconds (default 10; quick: 2)"
    )
    parser.add_argument(
        "--limit", type=int, help="calls per window (default 1,000, the Professional plan)"
    )
    parser.add_argument("--users", type=int, help="concurrent batch users (default 300)")
    parser.add_argument(
        "--tell-quota",
        action="store_true",
        help="configure the quota on the client (default: it learns it from the headers)",
    )
    parser.add_argument(
        "--outside",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="an unseen consumer of the same key eats this share of each window (e.g. 0.2)",
    )
    parser.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="the server answers this share of calls with 500/503 (idempotent ones are retried)",
    )
    parser.add_argument("--seed", type=int, default=7, help="workload and fault seed")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit 0 when nothing went over quota and no call failed."""
    from ._demo import DemoConfig, run_demo

    # The demo always serves its own simulator: --simulator and --base-url change nothing.
    config = DemoConfig(
        seconds=5.0 if args.quick and args.seconds == 45.0 else args.seconds,
        window=args.window or (2.0 if args.quick else 10.0),
        limit=args.limit or (300 if args.quick else 1000),
        users=args.users or (100 if args.quick else 300),
        tell_quota=args.tell_quota,
        seed=args.seed,
        outside=args.outside,
        error_rate=args.error_rate,
    )
    if config.seconds <= 0 or config.window <= 0 or config.limit < 1 or config.users < 1:
        fail("--seconds, --window, --limit and --users must be positive")
    if not (0.0 <= config.outside < 0.9 and 0.0 <= config.error_rate < 1.0):
        fail("--outside must be in [0, 0.9) and --error-rate in [0, 1)")
    summary = run_demo(config)
    if config.error_rate > 0:  # failures are the point; only the quota is judged
        return EXIT_OK if summary.over_quota == 0 or summary.ok else EXIT_ERROR
    if config.outside > 0:  # an unseen consumer may leave an interactive call no room
        return EXIT_OK if summary.ok and summary.lost == 0 else EXIT_ERROR
    return EXIT_OK if summary.ok and summary.failed == 0 else EXIT_ERROR
