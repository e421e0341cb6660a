"""Argument parsing and the top-level error handling of ``altabots-async``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .._version import __version__
from ._common import (
    EXIT_CODES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    describe_error,
    err,
)

_EPILOG = "exit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES)
_ENV = (
    "environment:\n"
    "  ALTABOTS_API_KEY    the API key (never printed; output shows a fingerprint)\n"
    "  ALTABOTS_BASE_URL   the API's base URL (default https://altatech.ai/)"
)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _connection_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options every command takes, before or after its name (``top``: the defaults)."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("connection")
    group.add_argument(
        "--simulator",
        action="store_true",
        default=default(False),
        help="run against the embedded simulator on loopback instead of the real API",
    )
    group.add_argument(
        "--simulator-plan",
        default=default("pro"),
        metavar="PLAN",
        help="the simulator's plan: free, pro or enterprise:LIMIT:SECONDS (default pro)",
    )
    group.add_argument(
        "--base-url", default=default(None), help="API base URL (default: $ALTABOTS_BASE_URL)"
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        default=default(60.0),
        help="seconds per request (default 60)",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        default=default(3),
        help="transparent retries per call (default 3)",
    )
    group.add_argument(
        "--max-wait",
        type=float,
        default=default(None),
        help="fail a call at once when the quota cannot serve it within SECONDS",
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", default=default(False), help="debug logging"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    from . import _batch, _commands, _demo_command

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The AltaBots API from the command line, through the rate-limit scheduler.",
        epilog=f"{_ENV}\n\n{_EPILOG}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _connection_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _connection_options(sub, top=False)
        return sub

    _demo_command.add_parser(command("demo", "a mixed workload against the embedded simulator"))
    _commands.add_agent(command("agent", "show the agent the API key belongs to"))
    _commands.add_quota(command("quota", "show the key's limit, remaining calls and reset"))
    _commands.add_chat(command("chat", "chat with the agent; replies are streamed"))
    _batch.add_parser(
        command("batch", "answer a JSONL file of questions into a JSONL file (resumable)")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(
            level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s"
        )
        logging.getLogger("altabots_async").setLevel(logging.DEBUG)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # every failure becomes one line and an exit code
        message, code = describe_error(exc)
        err(message)
        if args.verbose:
            logging.getLogger("altabots_async").debug("failure", exc_info=True)
        return code
    except BaseExceptionGroup as group:  # only KeyboardInterrupt & co. reach here
        if group.subgroup(KeyboardInterrupt) is not None:
            err("interrupted")
            return EXIT_INTERRUPTED
        raise
    return code if code is not None else EXIT_OK


__all__ = ["build_parser", "main"]
