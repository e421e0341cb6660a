"""What every subcommand shares: exit codes, one-line errors, the client, the simulator."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, Any, NoReturn

import attrs

from .._constants import ENV_API_KEY, ENV_BASE_URL
from .._exceptions import (
    AltaBotsError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    QuotaExhaustedError,
)
from .._sanitize import printable
from .._secret import fingerprint

PROG = "altabots-async"

EXIT_OK = 0
EXIT_ERROR = 1  # an API error, or anything unexpected
EXIT_USAGE = 2  # bad arguments, missing key, unreadable or malformed input file
EXIT_UNREACHABLE = 3  # connection refused, DNS failure, timeout
EXIT_AUTH = 4  # the server refused the key (401 / 403)
EXIT_QUOTA = 5  # the quota cannot serve the call within --max-wait
EXIT_PARTIAL = 6  # batch: finished, but some lines failed (recorded in the output)
EXIT_INTERRUPTED = 130  # Ctrl-C

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success"),
    (EXIT_ERROR, "API error or unexpected failure"),
    (EXIT_USAGE, "usage error: bad arguments, missing API key, bad input file"),
    (EXIT_UNREACHABLE, "host unreachable or timed out"),
    (EXIT_AUTH, "the server rejected the API key"),
    (EXIT_QUOTA, "quota exhausted within --max-wait"),
    (EXIT_PARTIAL, "batch finished with failed lines (see their 'error' records)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C); batch output stays consistent, rerun to resume"),
)

SIMULATOR_KEY = "sk-simulator"
"""The key ``--simulator`` accepts when ``ALTABOTS_API_KEY`` is not set."""


class CliError(Exception):
    """A failure the CLI reports as one line and an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Raise a :class:`CliError`."""
    raise CliError(message, code)


def describe_error(exc: BaseException) -> tuple[str, int]:
    """One line and an exit code for an exception of ours (never a key, never a traceback)."""
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return describe_error(exc.exceptions[0])  # a task group's failures: the first
    if isinstance(exc, CliError):
        return str(exc), exc.code
    if isinstance(exc, QuotaExhaustedError):
        return f"quota exhausted: {exc}", EXIT_QUOTA
    if isinstance(exc, APITimeoutError):
        return f"timed out: {exc}", EXIT_UNREACHABLE
    if isinstance(exc, APIConnectionError):
        return f"cannot reach the API: {exc}", EXIT_UNREACHABLE
    if isinstance(exc, AuthenticationError):
        return f"the server rejected the API key: {exc}", EXIT_AUTH
    if isinstance(exc, APIStatusError):
        return f"API error: {exc}", EXIT_ERROR
    if isinstance(exc, ConfigurationError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, AltaBotsError):
        return f"{type(exc).__name__}: {exc}", EXIT_ERROR
    return f"unexpected {type(exc).__name__}: {exc}", EXIT_ERROR


@attrs.frozen
class Target:
    """Where the commands send: the key (kept private) and the base URL."""

    api_key: str = attrs.field(repr=False)
    base_url: str | None
    simulated: bool = False

    @property
    def key_fingerprint(self) -> str:
        """A fingerprint of the key, safe to print."""
        return fingerprint(self.api_key)


def resolve_target(*, base_url: str | None, simulator: bool) -> Target:
    """The key and URL from the environment (or the simulator's defaults)."""
    key = os.environ.get(ENV_API_KEY, "").strip()
    if simulator:
        return Target(key or SIMULATOR_KEY, None, simulated=True)
    if not key:
        fail(
            f"no API key: set {ENV_API_KEY} (or use --simulator to try the CLI against the "
            "embedded simulator)"
        )
    return Target(key, base_url or os.environ.get(ENV_BASE_URL) or None)


@contextlib.contextmanager
def simulated(target: Target, plan_text: str) -> Iterator[tuple[Target, Any]]:
    """Serve a simulator accepting ``target``'s key on loopback; yield the target pointing at
    it and the :class:`~altabots_async.testing.Simulator`."""
    from ..testing import Plan, Simulator

    try:
        plan = Plan.parse(plan_text)
    except ValueError as exc:
        fail(str(exc))
    try:
        import uvicorn  # noqa: F401  (the extra "cli" or "server")

        from ..testing import serve_in_thread
    except ImportError:
        fail("--simulator needs uvicorn: pip install 'altabots-async[cli]'")
    sim = Simulator({target.api_key: plan})
    with serve_in_thread(sim) as url:
        yield attrs.evolve(target, base_url=url), sim


def make_client(target: Target, **options: Any) -> Any:
    """An :class:`~altabots_async.AsyncAltaBots` for ``target``."""
    from .._client import AsyncAltaBots

    return AsyncAltaBots(target.api_key, base_url=target.base_url, **options)


def is_tty(stream: IO[str]) -> bool:
    """Whether ``stream`` is an interactive terminal that understands ANSI cursor moves."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


def err(message: str) -> None:
    """Print one line to stderr, prefixed with the program's name (control characters of
    server text escaped: no terminal escape sequence reaches the terminal)."""
    print(f"{PROG}: {printable(message)}", file=sys.stderr, flush=True)
