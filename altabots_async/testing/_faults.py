"""Switchable faults of the simulated server (see the table in ``altabots_async.testing``)."""

from __future__ import annotations

import math
from typing import Literal, TypeAlias

import anyio
import attrs

__all__ = ["Faults", "Latency", "QuotaSignal", "ResetForm", "RetryAfterForm"]

Latency: TypeAlias = float | tuple[float, float] | None
ResetForm: TypeAlias = Literal[
    "epoch", "delta", "ms", "epoch_float", "delta_floor", "delta_float", "none"
]
RetryAfterForm: TypeAlias = Literal["seconds", "http_date"]
QuotaSignal: TypeAlias = Literal["http429", "body200", "body400", "body429"]

_RESET_FORMS = ("epoch", "delta", "ms", "epoch_float", "delta_floor", "delta_float", "none")
_QUOTA_SIGNALS = ("http429", "body200", "body400", "body429")


def _probability(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} is a probability in [0, 1], got {value!r}")


def _latency(instance: object, attribute: attrs.Attribute[Latency], value: Latency) -> None:
    if value is None:
        return
    if isinstance(value, tuple):
        low, high = value
        if not 0 <= low <= high or math.isinf(high):
            raise ValueError(f"latency range must satisfy 0 <= min <= max < inf, got {value!r}")
    elif not 0 <= value < math.inf:
        raise ValueError(f"latency must be finite and >= 0, got {value!r}")


def _reset_form(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in _RESET_FORMS:
        raise ValueError(f"reset_form must be one of {_RESET_FORMS}, got {value!r}")


def _retry_after_form(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("seconds", "http_date"):
        raise ValueError(f"retry_after_form must be 'seconds' or 'http_date', got {value!r}")


def _quota_signal(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in _QUOTA_SIGNALS:
        raise ValueError(f"quota_signal must be one of {_QUOTA_SIGNALS}, got {value!r}")


def _finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be finite, got {value!r}")


def _optional_non_negative(
    instance: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None and not 0 <= value < math.inf:
        raise ValueError(f"{attribute.name} must be None or finite and >= 0, got {value!r}")


@attrs.define
class Faults:
    """Fault switches of a :class:`~altabots_async.testing.Simulator`.

    Mutable on purpose: a test may flip a switch mid-run (``sim.faults.error_rate = 0.2``);
    every assignment is validated. Every random choice the simulator makes comes from the one
    ``random.Random(seed)`` of the simulator, and a draw happens only for a switch that is on,
    so a run is reproducible from its seed.

    Attributes:
        latency: None (no delay), a fixed total delay in seconds, or a ``(min, max)`` range drawn
            uniformly per request. Each request's total is split at a random point into a delay
            before it is counted and one after it is processed, so concurrent responses come
            back reordered relative to their arrival.
        clock_offset: seconds added to the server clock (skew): quota windows, ``Date`` and
            ``X-RateLimit-Reset`` all use the skewed time.
        send_date: send the ``Date`` header (IMF-fixdate of server time).
        reset_form: spelling of ``X-RateLimit-Reset``: ``"epoch"`` (integer Unix seconds, ceil
            of the window end), ``"delta"`` (integer seconds until the window end, ceil),
            ``"delta_floor"`` (the same, floored: ``0`` in the window's last second, as many
            servers send), ``"delta_float"`` (seconds to go with three decimals), ``"ms"``
            (integer Unix milliseconds), ``"epoch_float"`` (Unix seconds with three decimals)
            or ``"none"`` (no ``X-RateLimit-Reset`` at all).
        reset_jump: probability that a response's Reset names the end of the *next* window
            (one period later) although the window has not turned (a server fleet that
            disagrees, a buggy limiter); 1.0: every response does.
        reset_rolling: the Reset is ``now + period`` on every response (the "time until the
            quota would be whole again" some limiters send), whatever the window really is.
        header_limit: when set, the headers claim this limit (``Remaining = header_limit -
            used``) while the server enforces the plan's own: headers that lie.
        malformed_headers: probability that a response's rate-limit headers are garbage: each
            of the three is independently missing, non-numeric or negative.
        drop_headers: send no ``X-RateLimit-*`` header at all.
        send_retry_after: send ``Retry-After`` on quota rejections.
        quota_signal: how a request over quota is refused: ``"http429"`` (HTTP 429 with
            ``{"error": {"code": "rate_limit_exceeded", ...}}``), or the body code the vendor
            documents, ``{"code": 40008, "message": "Agent RPM request limit exceeded..."}``,
            with HTTP status 200 (``"body200"``), 400 (``"body400"``) or 429 (``"body429"``).
        rejection_headers: send ``X-RateLimit-*`` (and ``Retry-After``, if
            ``send_retry_after``) on quota rejections; False: a bare rejection.
        retry_after_form: ``"seconds"`` (integer delta, rounded up) or ``"http_date"`` (the
            window end, rounded up to a whole second, as an IMF-fixdate in server time), for
            quota 429s and injected 503s alike.
        error_rate: probability of an injected 500 or 503 (JSON ``{"code": 50000, ...}``) after
            the request was counted; the handler does not run.
        retry_after_on_503: ``Retry-After`` seconds sent with injected 503s (None: no header).
        disconnect_rate: probability that, after counting and running the handler ("maybe
            processed"), the server closes the connection without any response.
        reset_rate: probability that the server closes the connection before counting (the
            request is not processed; the client cannot tell it from a disconnect).
        stall_rate: probability that a processed request's response never comes (until
            ``stall_seconds`` pass or the client gives up): a read timeout after processing.
        stall_seconds: how long a stalled response waits (default: forever).
        hold: when an ``anyio.Event``, every response waits, after processing, until it is set.
            Bound to the event loop that created it (in-process or ``serve()`` only).
        connect_error_rate: probability that ``sim.transport()`` raises ``httpx.ConnectError``
            before the request reaches the app ("never sent"; not logged). In-process only.
        compression_bomb: probability that a successful response's body is replaced by a gzip
            stream (``Content-Encoding: gzip``) that inflates to ``compression_bomb_size``
            bytes of zeros; the request was counted and processed.
        compression_bomb_size: inflated size of the bomb (default 64 MiB).
    """

    latency: Latency = attrs.field(default=None, validator=_latency)
    clock_offset: float = attrs.field(default=0.0, converter=float, validator=_finite)
    send_date: bool = True
    reset_form: ResetForm = attrs.field(default="epoch", validator=_reset_form)
    malformed_headers: float = attrs.field(default=0.0, validator=_probability)
    drop_headers: bool = False
    send_retry_after: bool = True
    retry_after_form: RetryAfterForm = attrs.field(default="seconds", validator=_retry_after_form)
    quota_signal: QuotaSignal = attrs.field(default="http429", validator=_quota_signal)
    reset_jump: float = attrs.field(default=0.0, validator=_probability)
    reset_rolling: bool = False
    header_limit: int | None = None
    rejection_headers: bool = True
    error_rate: float = attrs.field(default=0.0, validator=_probability)
    retry_after_on_503: float | None = attrs.field(default=None, validator=_optional_non_negative)
    disconnect_rate: float = attrs.field(default=0.0, validator=_probability)
    reset_rate: float = attrs.field(default=0.0, validator=_probability)
    stall_rate: float = attrs.field(default=0.0, validator=_probability)
    stall_seconds: float = attrs.field(default=math.inf)
    hold: anyio.Event | None = None
    connect_error_rate: float = attrs.field(default=0.0, validator=_probability)
    compression_bomb: float = attrs.field(default=0.0, validator=_probability)
    compression_bomb_size: int = attrs.field(default=64 * 1024 * 1024)
