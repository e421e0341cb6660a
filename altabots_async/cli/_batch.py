"""``altabots-async batch``: a JSONL file of questions in, a JSONL file of answers out.

Input: one JSON object per line with a ``"question"`` string and an optional ``"id"``
(string or integer; default: the line number). The whole file is checked before anything is
sent: a line that is not such an object, or a repeated id, is a usage error (exit 2).

Output: one JSON object per line, written whole and flushed as each answer arrives::

    {"id": "7", "question": "...", "answer": "...", "conversation_id": "...", "message_id": "..."}
    {"id": "8", "question": "...", "error": {"type": "BadRequestError", "message": "..."}}

Resuming: a rerun reads the output first, keeps the answered lines, drops the failed ones
(they are asked again) and a half-written last line (the trace of a kill), and asks only what
is left. Each question gets its own conversation (two calls: create, then send).

A failed line is recorded and the batch goes on. Errors that would fail every line stop it
(the key is rejected: exit 4; the host is unreachable: exit 3); what was written stays
valid, and a rerun resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import anyio
import attrs

from .._exceptions import (
    AltaBotsError,
    APIConnectionError,
    AuthenticationError,
    PermissionDeniedError,
)
from ._common import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, err, fail, make_client
from ._progress import LiveView, Rate, bar

_FATAL = (AuthenticationError, PermissionDeniedError, APIConnectionError)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def add_parser(parser: argparse.ArgumentParser) -> None:
    """Declare the batch options."""
    parser.add_argument("input", help='JSONL file of {"id": ..., "question": "..."} lines')
    parser.add_argument(
        "-o", "--output", help="JSONL answers, appended (default: INPUT.answers.jsonl)"
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, default=8, help="questions in flight (default 8)"
    )
    parser.add_argument(
        "--priority", type=int, default=0, help="scheduler priority of the calls (default 0)"
    )
    parser.add_argument(
        "--user-id", default="cli-batch", help="user id of the conversations (default cli-batch)"
    )
    parser.set_defaults(run=run)


@attrs.frozen
class Question:
    """One input line."""

    id: str
    question: str


def load_questions(path: Path) -> list[Question]:
    """Read and check the whole input file (usage errors name the file and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except IsADirectoryError:
        fail(f"{path}: is a directory, not a JSONL file")
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text")
    except OSError as exc:
        fail(f"{path}: cannot read it ({exc.strerror})")
    questions: list[Question] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            fail(f"{path}:{number}: not JSON ({exc.msg})")
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            fail(f'{path}:{number}: expected a JSON object with a "question" string')
        ident = obj.get("id", number)
        if isinstance(ident, bool) or not isinstance(ident, str | int):
            fail(f'{path}:{number}: "id" must be a string or an integer')
        key = str(ident)
        if key in seen:
            fail(f"{path}:{number}: id {key!r} appears twice")
        seen.add(key)
        questions.append(Question(key, obj["question"]))
    if not questions:
        fail(f"{path}: no questions in it")
    return questions


def load_answered(path: Path) -> dict[str, dict[str, Any]]:
    """The answered records of a previous run, and the output file rewritten to hold only
    them (failed lines are asked again; a half-written last line is dropped)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        fail(f"{path}: cannot read the output file ({exc.strerror})")
    answered: dict[str, dict[str, Any]] = {}
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]  # tail: b"" or a line cut short
    for number, raw in enumerate(complete, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            fail(f"{path}:{number}: not a line this command wrote; refusing to touch the file")
        if isinstance(record, dict) and "answer" in record and "id" in record:
            answered[str(record["id"])] = record
    if tail.strip() or len(answered) != sum(1 for raw in complete if raw.strip()):
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for record in answered.values():
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    return answered


@attrs.define
class Progress:
    """Counts for the progress bar and the final line."""

    total: int
    skipped: int
    answered: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.skipped + self.answered + self.failed


def _record(question: Question, reply: Any) -> dict[str, Any]:
    return {
        "id": question.id,
        "question": question.question,
        "answer": reply.text,
        "conversation_id": reply.conversation_id,
        "message_id": reply.message_id,
    }


def _error_record(question: Question, exc: BaseException) -> dict[str, Any]:
    return {
        "id": question.id,
        "question": question.question,
        "error": {"type": type(exc).__name__, "message": str(exc)[:500]},
    }


async def _run_batch(
    client: Any, todo: list[Question], out: IO[str], progress: Progress, args: argparse.Namespace
) -> None:
    calls = client.with_options(priority=args.priority)
    pending: Iterator[Question] = iter(todo)

    def write(record: dict[str, Any]) -> None:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()

    async def worker() -> None:
        for question in pending:
            try:
                if not question.question.strip():
                    raise ValueError("the question is empty")
                conv = await calls.conversations.create(user_id=args.user_id)
                reply = await calls.conversations.send_message(
                    conv.conversation_id, question.question
                )
            except _FATAL:
                raise
            except (AltaBotsError, ValueError) as exc:
                write(_error_record(question, exc))
                progress.failed += 1
            else:
                write(_record(question, reply))
                progress.answered += 1

    rate = Rate()
    started = time.monotonic()
    rate.update(0, started)

    def render(tty: bool) -> list[str]:
        per_second = rate.update(progress.answered + progress.failed)
        status = client.rate_limit
        quota = "" if status.remaining is None else f"  quota left {status.remaining:,}"
        line = (
            f"{progress.done:,}/{progress.total:,} ({progress.answered:,} answered, "
            f"{progress.failed:,} failed, {progress.skipped:,} from before)  "
            f"{per_second:.1f}/s{quota}"
        )
        return [f"{bar(progress.done, progress.total)} {line}" if tty else f"[batch] {line}"]

    view = LiveView(sys.stderr, render)
    async with anyio.create_task_group() as tg:
        tg.start_soon(view.run)
        async with anyio.create_task_group() as workers:
            for _ in range(min(args.concurrency, len(todo))):
                workers.start_soon(worker)
        tg.cancel_scope.cancel()
    view.close()


def run(args: argparse.Namespace) -> int:
    """Answer what the output does not hold yet; exit 6 when some lines failed."""
    from ._commands import client_options, target_for

    source = Path(args.input)
    questions = load_questions(source)
    output = Path(args.output) if args.output else source.with_name(source.name + ".answers.jsonl")
    if output.resolve() == source.resolve():
        fail("the output file must not be the input file")
    answered = load_answered(output)
    todo = [question for question in questions if question.id not in answered]
    progress = Progress(total=len(questions), skipped=len(questions) - len(todo))

    async def main(target: Any) -> None:
        async with make_client(target, **client_options(args)) as client:
            with output.open("a", encoding="utf-8") as out:
                await _run_batch(client, todo, out, progress, args)

    with target_for(args) as target:
        try:
            if todo:
                anyio.run(main, target)
        except KeyboardInterrupt:
            err(
                f"interrupted: {progress.answered + progress.skipped:,} answers are in {output}; "
                "rerun the same command to continue"
            )
            return EXIT_INTERRUPTED
    print(
        f"{progress.answered:,} answered, {progress.failed:,} failed, "
        f"{progress.skipped:,} already answered -> {output}",
        file=sys.stderr,
    )
    return EXIT_PARTIAL if progress.failed else EXIT_OK
