"""Run the simulator as its own process: ``python -m altabots_async.testing``.

Prints ``ALTABOTS_SIMULATOR_URL=http://HOST:PORT`` on stdout once it listens (useful with
``--port 0``), then serves until interrupted. Out-of-process tests read the log and flip
faults through the admin API under ``/__simulator__/`` (``GET stats``, ``GET log``,
``POST consume``, ``POST reset``, ``POST refill``, ``POST faults``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._app import Simulator
from ._faults import Faults
from ._plan import Plan

__all__ = ["main"]


def _latency(text: str) -> float | tuple[float, float]:
    low, sep, high = text.partition(":")
    return (float(low), float(high)) if sep else float(low)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m altabots_async.testing",
        description="Serve the fake AltaBots server (quota, rate-limit headers, faults).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    parser.add_argument(
        "--key",
        action="append",
        dest="keys",
        metavar="KEY",
        help="an accepted API key (repeatable; default sk-test)",
    )
    parser.add_argument(
        "--plan",
        type=Plan.parse,
        action="append",
        dest="plans",
        help=(
            "free, pro, or enterprise:LIMIT:PERIOD_SECONDS (default free); repeat for a "
            "multi-window policy"
        ),
    )
    parser.add_argument(
        "--period", type=float, help="scale the (first) plan's period to this (seconds)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every random fault")
    parser.add_argument("--window-anchor", choices=("epoch", "first_request"), default="epoch")
    parser.add_argument("--latency", type=_latency, help="SECONDS or MIN:MAX")
    parser.add_argument("--clock-offset", type=float, default=0.0, help="server clock skew (s)")
    parser.add_argument("--no-date", action="store_true", help="do not send Date")
    parser.add_argument(
        "--reset-form", choices=("epoch", "delta", "ms", "epoch_float"), default="epoch"
    )
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--malformed-headers", type=float, default=0.0)
    parser.add_argument("--log-level", default="warning")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, serve until interrupted, and return the exit status."""
    args = _parser().parse_args(argv)
    plans: list[Plan] = args.plans or [Plan.FREE]
    if args.period is not None:
        plans[0] = plans[0].scaled(args.period)
    faults = Faults(
        latency=args.latency,
        clock_offset=args.clock_offset,
        send_date=not args.no_date,
        reset_form=args.reset_form,
        error_rate=args.error_rate,
        malformed_headers=args.malformed_headers,
    )
    keys = args.keys or ["sk-test"]
    sim = Simulator(
        dict.fromkeys(keys, plans), faults=faults, seed=args.seed, window_anchor=args.window_anchor
    )

    from ._serve import _base_url, _bind, _make_server  # uvicorn is imported here

    sock = _bind(args.host, args.port)
    server = _make_server(sim, args.log_level)
    print(f"ALTABOTS_SIMULATOR_URL={_base_url(sock)}", flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled, after a clean shutdown
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
