"""The retry policy's pure functions (``_retry.py``), as tables (issue 14, seam 4)."""

from __future__ import annotations

import random

import httpx
import pytest

from altabots_async._constants import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY
from altabots_async._retry import (
    Outcome,
    backoff_delay,
    classify_error,
    classify_response,
    is_idempotent,
    retry_delay,
    should_retry,
)

T, N, S, M, F = (
    Outcome.THROTTLED,
    Outcome.NEVER_SENT,
    Outcome.SERVER_ERROR,
    Outcome.MAYBE_SENT,
    Outcome.FINAL,
)

RESPONSES = [
    # (status, body code) -> outcome
    (200, None, F),
    (200, 0, F),
    (201, None, F),
    (200, 40008, T),  # the vendor's over-quota code with HTTP 200
    (400, 40008, T),  # ... with 400
    (429, 40008, T),  # ... with 429
    (200, "40008", T),  # as a string
    (429, None, T),
    (429, "rate_limit_exceeded", T),
    (400, 40000, F),
    (401, 40127, F),
    (404, None, F),
    (500, None, S),
    (502, None, S),
    (503, 50000, S),
    (504, None, S),
    (501, None, F),
    (500, 40008, T),  # the body decides: not processed
]


@pytest.mark.parametrize(("status", "code", "expected"), RESPONSES)
def test_classify_response(status: int, code: int | str | None, expected: Outcome) -> None:
    """An answer is classified by its status and its body code (40008 is a 429)."""
    assert expected is classify_response(status, code)


ERRORS = [
    (httpx.ConnectError("refused"), N),
    (httpx.ConnectTimeout("slow connect"), N),
    (httpx.PoolTimeout("no connection free"), N),
    (httpx.ProxyError("proxy said no"), N),
    (httpx.ReadTimeout("slow answer"), M),
    (httpx.WriteTimeout("slow upload"), M),
    (httpx.ReadError("reset"), M),
    (httpx.WriteError("broken pipe"), M),
    (httpx.RemoteProtocolError("cut mid-body"), M),
    (httpx.CloseError("close"), M),
    (httpx.UnsupportedProtocol("ftp://"), F),
    (httpx.LocalProtocolError("bad header"), F),
]


@pytest.mark.parametrize(("error", "expected"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
def test_classify_error(error: httpx.TransportError, expected: Outcome) -> None:
    """Whether it was sent, by failure class: connect/pool/proxy never, the rest maybe."""
    assert expected is classify_error(error)


RETRIES = [
    # outcome, attempt, max_retries, idempotent, status, final -> retry?
    (T, 0, 3, False, 429, (), True),  # a rejection is always resent, POST too
    (T, 0, 3, False, 200, (), True),  # 40008 with HTTP 200
    (T, 3, 3, True, 429, (), False),  # ... bounded by max_retries
    (N, 0, 3, False, None, (), True),  # never sent: always safe
    (N, 2, 2, True, None, (), False),
    (S, 0, 3, True, 503, (), True),  # 5xx: idempotent only
    (S, 0, 3, False, 503, (), False),
    (M, 0, 3, True, None, (), True),  # maybe processed: idempotent only
    (M, 0, 3, False, None, (), False),
    (M, 0, 3, True, 200, (), True),  # broken mid-body
    (F, 0, 3, True, 400, (), False),  # a final answer
    (S, 0, 3, True, 503, (503, 504), False),  # the endpoint documents 503 as final
    (S, 0, 3, True, 502, (503, 504), True),
    (T, 0, 0, True, 429, (), False),  # max_retries=0: nothing is resent
]


@pytest.mark.parametrize(
    ("outcome", "attempt", "max_retries", "idempotent", "status", "final", "expected"), RETRIES
)
def test_should_retry(
    outcome: Outcome,
    attempt: int,
    max_retries: int,
    idempotent: bool,
    status: int | None,
    final: tuple[int, ...],
    expected: bool,
) -> None:
    """Rejections and never-sent failures always; 5xx and maybe-sent for idempotent calls
    only; never past max_retries, never a status the endpoint documents as final."""
    decided = should_retry(
        outcome,
        attempt=attempt,
        max_retries=max_retries,
        idempotent=idempotent,
        status=status,
        final_statuses=frozenset(final),
    )

    assert expected is decided


@pytest.mark.parametrize(
    ("method", "marked", "expected"),
    [
        ("GET", None, True),
        ("get", None, True),
        ("PUT", None, True),
        ("DELETE", None, True),
        ("POST", None, False),
        ("PATCH", None, False),
        ("POST", True, True),  # a search marked idempotent
        ("GET", False, False),
    ],
)
def test_is_idempotent(method: str, marked: bool | None, expected: bool) -> None:
    """By method, unless the call marks itself."""
    assert expected is is_idempotent(method, marked)


@pytest.mark.parametrize(
    ("outcome", "status", "retry_after", "paced_by_limiter"),
    [
        (T, 429, False, True),  # the limiter froze every caller: no sleep of our own
        (T, 200, False, True),
        (S, 503, True, True),  # a 503's Retry-After froze the limiter too
        (S, 503, False, False),
        (S, 500, True, False),  # only a 503's Retry-After is honoured
        (N, None, False, False),
        (M, None, False, False),
    ],
)
def test_retry_delay(
    outcome: Outcome, status: int | None, retry_after: bool, paced_by_limiter: bool
) -> None:
    """0 when the limiter paces the resend, else full jitter within the backoff ceiling."""
    delays = [
        retry_delay(outcome, 2, status=status, retry_after=retry_after, rng=random.Random(seed))
        for seed in range(50)
    ]

    if paced_by_limiter:
        assert set(delays) == {0.0}
    else:
        ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 4)
        assert all(0.0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 40  # jittered


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 4, 10, 100, 10_000])
def test_backoff_ceiling_doubles_and_is_capped(attempt: int) -> None:
    """The ceiling is 0.5 s * 2**attempt, never more than 8 s, even for huge attempts."""
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0 ** min(attempt, 32))
    delays = [backoff_delay(attempt, random.Random(seed)) for seed in range(200)]

    assert max(delays) <= ceiling
    assert max(delays) > 0.9 * ceiling
