"""The simulator's request log: the server-side authority on what was counted and when."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["RequestRecord"]


@attrs.frozen
class RequestRecord:
    """One request as the server saw it.

    Attributes:
        seq: arrival number (0, 1, 2, ... in the order requests reached the quota check).
        arrived_at: server time (skew included) the request was checked against the quota.
        key_id: fingerprint of the API key (sha256 hex[:16]); None when no key was sent.
            The raw key is never stored.
        method: HTTP method; ``"OUTSIDE"`` for quota eaten by ``sim.consume()``.
        path: request path (no query string).
        query: raw query string.
        status: HTTP status sent; None while the response is pending or when no response was
            sent (``fault`` says why).
        window_start: start of the quota window the request fell in; None for auth failures
            and connection resets before counting.
        counted: the request used quota.
        over_quota: it arrived while its window was exhausted (it got a quota 429).
        body: request body, None when empty.
        fault: the injected fault that shaped the answer: ``"error"``, ``"disconnect"``,
            ``"reset"``, ``"stall"``, ``"malformed_headers"``, ``"compression_bomb"``, or None.
        window_starts: the window start of each of the key's policies (the first is
            ``window_start``); empty when ``window_start`` is None.
    """

    seq: int
    arrived_at: float
    key_id: str | None
    method: str
    path: str
    query: str
    status: int | None
    window_start: float | None
    counted: bool
    over_quota: bool
    body: bytes | None = attrs.field(default=None, repr=False)
    fault: str | None = None
    window_starts: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the body is left out)."""
        data = attrs.asdict(self)
        del data["body"]
        return data
