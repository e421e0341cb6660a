"""``altabots-async batch``: a JSONL file of questions in, a JSONL file of answers out.

Input: one JSON object per line with a ``"question"`` string and an optional ``"id"``
(string or integer; default: the line number). The whole file is checked before anything is
sent: a line that is not such an object, or a repeated id, is a usage error (exit 2).

Output: one JSON object per line, written whole and flushed as each answer arrives::

    {"id": "7", "question": "...", "answer": "...", "conversation_id": "...", "message_id": "..."}
    {"id": "8", "question": "...", "error": {"type": "BadRequestError", "message": "..."}}

Resuming: a rerun reads the output first, keeps the answered lines, drops the failed ones
(they are asked again) and a half-written last line (the trace of a kill), and asks only what
is left. Each question gets its own conversation (two calls: create, then send). A line this
command did not write (not an answer or error record) makes it refuse to touch the file. The
rewrite goes through an exclusive temporary file in the same directory, keeps the file's
mode, and never follows a symbolic link (an output path that is one is refused).

Every record is written whole: an answer that cannot be encoded as UTF-8 (a lone surrogate,
valid in JSON) is written with ``\\u`` escapes; a record that cannot be written at all becomes
that line's error record.

A failed line is recorded and the batch goes on. Errors that would fail every line stop it
(the key is rejected: exit 4; the host is unreachable: exit 3); what was written stays
valid, and a rerun resumes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


def _is_record(record: Any) -> bool:
    """Whether a decoded line is one this command writes (an answer or an error record)."""
    return (
        isinstance(record, dict)
        and "id" in record
        and "question" in record
        and ("answer" in record or isinstance(record.get("error"), dict))
    )


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        fail(f"{path}: is a symbolic link; pass the file it points to")


def load_answered(path: Path) -> dict[str, dict[str, Any]]:
    """The answered records of a previous run, and the output file rewritten to hold only
    them (failed lines are asked again; a half-written last line is dropped)."""
    _refuse_symlink(path)
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
            record = None
        if not _is_record(record):
            fail(f"{path}:{number}: not a line this command wrote; refusing to touch the file")
        if "answer" in record:
            answered[str(record["id"])] = record
    if tail.strip() or len(answered) != sum(1 for raw in complete if raw.strip()):
        _rewrite(path, b"".join(_encode(record) for record in answered.values()))
    return answered


def _rewrite(path: Path, content: bytes) -> None:
    """Replace ``path`` by ``content`` atomically, keeping its mode, through an exclusive
    temporary file in the same directory (never a predictable name, never a link)."""
    mode = stat.S_IMODE(path.stat(follow_symlinks=False).st_mode)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "wb") as out:
            os.chmod(temporary, mode)
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _encode(record: dict[str, Any]) -> bytes:
    """One JSONL line; ``\\u`` escapes when the text holds what UTF-8 cannot encode."""
    text = json.dumps(record, ensure_ascii=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: valid JSON, not valid UTF-8
        return (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")


def open_output(path: Path) -> IO[bytes]:
    """The output file opened to append (created if missing), never through a link."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        fail(f"{path}: cannot open the output file ({exc.strerror})")
    return open(fd, "ab")


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


def _writer(out: IO[bytes]) -> Callable[[dict[str, Any], Question], bool]:
    def write(record: dict[str, Any], question: Question) -> bool:
        """Write one whole line; False (and the line's error record instead) on failure."""
        try:
            out.write(_encode(record))
        except (ValueError, TypeError, OSError) as exc:
            out.write(_encode(_error_record(question, exc)))
            out.flush()
            return False
        out.flush()
        return True

    return write


async def _run_batch(
    client: Any, todo: list[Question], out: IO[bytes], progress: Progress, args: argparse.Namespace
) -> None:
    calls = client.with_options(priority=args.priority)
    pending: Iterator[Question] = iter(todo)
    write = _writer(out)

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
                write(_error_record(question, exc), question)
                progress.failed += 1
            else:
                if write(_record(question, reply), question):
                    progress.answered += 1
                else:
                    progress.failed += 1

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
            with open_output(output) as out:
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
