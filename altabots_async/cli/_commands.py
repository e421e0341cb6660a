"""``agent``, ``quota`` and ``chat``: small commands over one client."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import attrs

from .._sanitize import printable
from ._common import EXIT_OK, Target, make_client, resolve_target, simulated

Command = Callable[[Any, argparse.Namespace, Target], Awaitable[int]]


@contextlib.contextmanager
def target_for(args: argparse.Namespace) -> Iterator[Target]:
    """The target of this run: the environment's, or a simulator served for it."""
    target = resolve_target(base_url=args.base_url, simulator=args.simulator)
    if not target.simulated:
        yield target
        return
    with simulated(target, args.simulator_plan) as (served, _sim):
        yield served


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """Client options from the connection arguments."""
    return {
        "timeout": args.timeout,
        "max_retries": args.max_retries,
        "max_wait": args.max_wait,
    }


def run_with_client(args: argparse.Namespace, command: Command) -> int:
    """Resolve the target, open a client, run ``command(client, args, target)``."""

    async def main(target: Target) -> int:
        async with make_client(target, **client_options(args)) as client:
            return await command(client, args, target)

    with target_for(args) as target:
        return anyio.run(main, target)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


# --------------------------------------------------------------------------- agent


def add_agent(parser: argparse.ArgumentParser) -> None:
    """``agent [--json]``."""
    parser.add_argument("--json", action="store_true", help="print the agent as JSON")
    parser.set_defaults(run=lambda args: run_with_client(args, _agent))


async def _agent(client: Any, args: argparse.Namespace, target: Target) -> int:
    agent = await client.agent.retrieve()
    fields = attrs.asdict(agent, filter=lambda a, _: a.name not in ("raw", "decode_errors"))
    fields["tags"] = list(agent.tags)
    if args.json:
        _print_json(fields)
        return EXIT_OK
    # server text: control characters escaped (no escape sequence reaches the terminal)
    print(f"agent {printable(agent.name or '(unnamed)')}  (id {printable(agent.bot_id)})")
    for name, value in fields.items():
        if name in ("name", "bot_id") or value in (None, "", []):
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        text = printable(text)
        if len(text) > 100:
            text = text[:97] + "..."
        print(f"  {name:<22}{text}")
    print(f"  {'api key':<22}fingerprint {target.key_fingerprint}")
    return EXIT_OK


# --------------------------------------------------------------------------- quota


def add_quota(parser: argparse.ArgumentParser) -> None:
    """``quota [--json]``: spends one call (``GET /v1/bot/detail``) to read the headers."""
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=lambda args: run_with_client(args, _quota))


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    moment = datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{moment} (in {max(0.0, epoch - time.time()):.0f} s)"


async def _quota(client: Any, args: argparse.Namespace, target: Target) -> int:
    await client.agent.retrieve()  # one call: its response carries the headers
    headers = client.last_rate_limit
    status = client.rate_limit
    limit = headers.limit if headers is not None else None
    remaining = headers.remaining if headers is not None else None
    reset_at = status.reset_at
    if args.json:
        _print_json(
            {
                "limit": limit,
                "remaining": remaining,
                "reset_at": reset_at,
                "key_fingerprint": target.key_fingerprint,
            }
        )
        return EXIT_OK
    print(f"limit      {'unknown' if limit is None else f'{limit:,} per window'}")
    print(f"remaining  {'unknown' if remaining is None else f'{remaining:,}'}")
    print(f"reset      {_when(reset_at)}")
    print(f"api key    fingerprint {target.key_fingerprint} (this check spent one call)")
    return EXIT_OK


# --------------------------------------------------------------------------- chat


def add_chat(parser: argparse.ArgumentParser) -> None:
    """``chat [--user-id ID] [--priority N]``: lines from stdin, streamed replies."""
    parser.add_argument("--user-id", default="cli-chat", help="your user id (default cli-chat)")
    parser.add_argument(
        "--priority", type=int, default=10, help="scheduler priority of the chat (default 10)"
    )
    parser.set_defaults(run=lambda args: run_with_client(args, _chat))


def _read_line(prompt: str) -> str | None:
    """One line from stdin (None at EOF); the prompt only on a terminal."""
    if sys.stdin.isatty():
        try:
            return input(prompt)
        except EOFError:
            return None
    line = sys.stdin.readline()
    return None if not line else line.rstrip("\n")


async def _chat(client: Any, args: argparse.Namespace, target: Target) -> int:
    from ..types.conversations import TextDeltaEvent

    chat = client.with_options(priority=args.priority)
    conv = await chat.conversations.create(user_id=args.user_id)
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"chatting as {args.user_id}; an empty line or Ctrl-D ends", file=sys.stderr)
    while True:
        line = await anyio.to_thread.run_sync(_read_line, "you> ", abandon_on_cancel=True)
        if line is None or (interactive and not line.strip()):
            break
        if not line.strip():
            continue
        sys.stdout.write("agent> ")
        sys.stdout.flush()
        async with chat.conversations.stream_message(conv.conversation_id, line) as stream:
            async for event in stream:
                if isinstance(event, TextDeltaEvent):
                    sys.stdout.write(printable(event.text, keep_newlines=True))
                    sys.stdout.flush()
        sys.stdout.write("\n")
        sys.stdout.flush()
    return EXIT_OK
