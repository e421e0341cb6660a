"""A batch job: as many answers as the quota allows, no wasted calls, visible progress.

Start every task at once and let the scheduler pace them: it knows the quota from the
response headers and hands out permits as fast as the window allows, so the job needs no
sleep, no rate constant and no retry-on-429 loop of its own. A semaphore only bounds memory
and open conversations; the quota is the scheduler's business.

Run it::

    ALTABOTS_API_KEY=... python examples/batch_job.py questions.txt answers.jsonl

(``questions.txt``: one question per line; without arguments a few built-in questions are
answered and printed.) For resumable runs with a progress bar, the CLI does the same job:
``altabots-async batch questions.jsonl``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import anyio

from altabots_async import AltaBotsError, AsyncAltaBots

SAMPLE = [
    "How do I reset my password?",
    "What is your refund policy?",
    "Can I change my delivery address?",
    "Do you ship to Canada?",
    "How do I cancel my subscription?",
]


async def answer_all(
    questions: list[str], *, concurrency: int = 50, priority: int = 0
) -> list[dict[str, object]]:
    """Answer every question (one conversation each); failures are recorded, not raised."""
    results: list[dict[str, object]] = [{} for _ in questions]
    limit = anyio.Semaphore(concurrency)
    done = 0

    async with AsyncAltaBots() as client:
        batch = client.with_options(priority=priority)

        async def one(index: int, question: str) -> None:
            nonlocal done
            async with limit:
                try:
                    conv = await batch.conversations.create(user_id="batch-job")
                    reply = await batch.conversations.send_message(conv.conversation_id, question)
                    results[index] = {"question": question, "answer": reply.text}
                except AltaBotsError as exc:
                    results[index] = {"question": question, "error": f"{type(exc).__name__}: {exc}"}
                done += 1

        async def report() -> None:
            while True:
                await anyio.sleep(2.0)
                status = client.rate_limit
                print(
                    f"{done}/{len(questions)} done; quota left {status.remaining}, "
                    f"resets in {status.reset_in or 0:.0f} s; {status.queued} queued",
                    file=sys.stderr,
                )

        async with anyio.create_task_group() as tg:
            tg.start_soon(report)
            async with anyio.create_task_group() as work:
                for index, question in enumerate(questions):
                    work.start_soon(one, index, question)
            tg.cancel_scope.cancel()
    return results


def main(argv: list[str]) -> int:
    """Read the questions, answer them, write or print the answers."""
    questions = SAMPLE
    if argv:
        text = Path(argv[0]).read_text(encoding="utf-8")
        questions = [line for line in text.splitlines() if line.strip()]
    started = time.monotonic()
    results = anyio.run(answer_all, questions)
    failed = sum(1 for result in results if "error" in result)
    if len(argv) > 1:
        with Path(argv[1]).open("w", encoding="utf-8") as out:
            for result in results:
                out.write(json.dumps(result) + "\n")
    else:
        for result in results:
            print(f"{result['question']} -> {result.get('answer', result.get('error'))}")
    elapsed = time.monotonic() - started
    print(f"answered {len(results) - failed} questions, {failed} failed, in {elapsed:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
