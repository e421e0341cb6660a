"""The simulator's ASGI app: authentication, quota, faults, routing, and the request log."""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio
import attrs

from ._endpoints import ROUTE_TABLES
from ._faults import Faults
from ._http import Context, Handler, HTTPError, Request, Response, Router
from ._log import RequestRecord
from ._plan import Plan
from ._quota import QuotaBook, QuotaSnapshot, WindowAnchor, WindowKind
from ._state import SimState, fingerprint

if TYPE_CHECKING:
    from ._transport import SimulatorTransport

__all__ = ["ADMIN_PREFIX", "MAX_REQUEST_BODY", "SimulatedDisconnect", "Simulator"]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
Sleep: TypeAlias = Callable[[float], Awaitable[Any]]
AbortHook: TypeAlias = Callable[[Scope], bool]

#: Paths under this prefix are the simulator's own admin API (not counted, no auth, not logged).
ADMIN_PREFIX = "/__simulator__/"
#: Request bodies larger than this are refused with 413 before anything else happens.
MAX_REQUEST_BODY = 32 * 1024 * 1024

_AUTH_FAILED = {"code": 40127, "message": "Developer authentication failed"}
_INTERNAL_ERROR = {"code": 50000, "message": "Internal error"}
# The only rate-limit error the vendor documents (docs/database/Create_Database_Table.md).
_RPM_EXCEEDED = {
    "code": 40008,
    "message": (
        "Agent RPM request limit exceeded. Please contact the service provider to increase "
        "the limit."
    ),
}
_GARBAGE = ("soon", "NaN", "1.2.3", "abc", "0x1F", "tomorrow", "")


class SimulatedDisconnect(ConnectionResetError):
    """Raised by the app in-process when a fault closes the connection without a response.

    Served by uvicorn through :func:`serve`, the connection is aborted instead. Through
    ``sim.transport()`` the client sees ``httpx.RemoteProtocolError``, as from a real server.
    """


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _seconds_text(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


_BOMBS: dict[int, bytes] = {}


def _compression_bomb(response: Response, size: int) -> Response:
    """``response`` with its body replaced by gzip data inflating to ``size`` zero bytes."""
    bomb = _BOMBS.get(size)
    if bomb is None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
        block = bytes(1024 * 1024)
        parts = [compressor.compress(block) for _ in range(size // len(block))]
        parts.append(compressor.compress(bytes(size % len(block))))
        parts.append(compressor.flush())
        bomb = _BOMBS[size] = b"".join(parts)
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-encoding"]
    headers.append(("content-encoding", "gzip"))
    return attrs.evolve(response, headers=tuple(headers), body=bomb)


def _reset_text(form: str, end: float, now: float) -> str | None:
    """``X-RateLimit-Reset`` for a window ending at ``end`` (server time), in ``form``."""
    if form == "none":
        return None
    if form == "delta":
        return str(max(0, math.ceil(end - now)))
    if form == "delta_floor":
        return str(max(0, math.floor(end - now)))
    if form == "delta_float":
        return f"{max(0.0, end - now):.3f}"
    if form == "ms":
        return str(math.ceil(end * 1000))
    if form == "epoch_float":
        return f"{end:.3f}"
    return str(math.ceil(end))


class _ClientGone(Exception):
    """The client disconnected before its request body arrived."""


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when it exceeds MAX_REQUEST_BODY.

    Raises:
        _ClientGone: when the client disconnected first.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > MAX_REQUEST_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class Simulator:
    """A fake AltaBots server as an ASGI app, with real per-key quota enforcement.

    Args:
        keys: API keys it accepts, each with its :class:`Plan` (more via :meth:`add_key`).
        clock: zero-argument callable giving epoch seconds (e.g. a ``FakeClock``);
            ``time.time`` when None. Server time is ``clock() + faults.clock_offset``.
        faults: the fault switches (a fresh, all-off :class:`Faults` when None).
        seed: seed of the one ``random.Random`` behind every random choice.
        window_anchor: ``"epoch"`` (windows at multiples of the period since the Unix epoch)
            or ``"first_request"`` (a window opens at the first request after the last closed).
        window_kind: ``"fixed"`` (default), ``"moving"`` (a sliding log: at most ``limit`` in
            any period; Reset is when the oldest request leaves it) or ``"sliding"`` (the
            sliding-window counter: the previous window's count weighted by its overlap).
        sleep: async sleep used for injected latency and stalls (``anyio.sleep`` when None;
            pass ``FakeClock.sleep`` to make latency virtual).
        admin: serve the admin API under ``/__simulator__/`` (log, stats, consume, reset,
            faults), for simulators running in another process.

    Every response to an authenticated request carries ``X-RateLimit-Limit``,
    ``X-RateLimit-Remaining`` (after counting it), ``X-RateLimit-Reset`` and ``Date``, unless a
    fault says otherwise. A request that finds its window full gets a 429 with ``Retry-After``
    and is not counted. ``sim.log`` keeps a :class:`RequestRecord` per request.
    """

    def __init__(
        self,
        keys: Mapping[str, Plan | Sequence[Plan]] | None = None,
        *,
        clock: Callable[[], float] | None = None,
        faults: Faults | None = None,
        seed: int | None = 0,
        window_anchor: WindowAnchor = "epoch",
        window_kind: WindowKind = "fixed",
        sleep: Sleep | None = None,
        admin: bool = True,
    ) -> None:
        """Build the simulator (see the class docstring for the arguments)."""
        self.faults: Faults = faults if faults is not None else Faults()
        self.rng = random.Random(seed)
        self.clock: Callable[[], float] = clock if clock is not None else time.time
        self.sleep: Sleep = sleep if sleep is not None else anyio.sleep
        self.admin = admin
        self.state = SimState(self.rng)
        self.router = Router()
        for table in ROUTE_TABLES:
            self.router.include(table)
        self.log: list[RequestRecord] = []
        self._quota = QuotaBook(window_anchor, window_kind)
        self._plans: dict[str, tuple[Plan, ...]] = {}
        self._seq = itertools.count()
        self._generation = 0
        self._abort_hook: AbortHook | None = None
        # Guards quota and log against a test thread poking a simulator served by
        # serve_in_thread(); held only in short synchronous sections.
        self._lock = threading.RLock()
        for key, plans in (keys or {}).items():
            if isinstance(plans, Plan):
                self.add_key(key, plans)
            else:
                self.add_key(key, *plans)

    def __repr__(self) -> str:
        return (
            f"Simulator(keys={len(self._plans)}, requests={len(self.log)}, "
            f"anchor={self._quota.anchor!r}, kind={self._quota.kind!r}, faults={self.faults!r})"
        )

    # --- configuration -------------------------------------------------------------------

    @staticmethod
    def fingerprint(api_key: str) -> str:
        """The id under which the simulator stores ``api_key`` (sha256 hex, first 16 digits)."""
        return fingerprint(api_key)

    @property
    def window_anchor(self) -> WindowAnchor:
        """How quota windows are anchored: ``"epoch"`` or ``"first_request"``."""
        return self._quota.anchor

    @property
    def window_kind(self) -> WindowKind:
        """How quota is counted: ``"fixed"``, ``"moving"`` or ``"sliding"`` windows."""
        return self._quota.kind

    def add_key(self, api_key: str, plan: Plan, *more: Plan) -> str:
        """Accept ``api_key`` under ``plan`` (replacing its plans if known); return its key id.

        Extra plans make a multi-window policy (say 10 per second and 1,000 per hour): a request
        is counted only when every window has room, and the headers describe the binding one.
        """
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        key_id = fingerprint(api_key)
        self._plans[key_id] = (plan, *more)
        return key_id

    def remove_key(self, api_key: str) -> None:
        """Stop accepting ``api_key`` (its requests then get 401)."""
        self._plans.pop(fingerprint(api_key), None)

    def plan(self, api_key: str) -> Plan:
        """The (first) plan of ``api_key``.

        Raises:
            KeyError: when the key is unknown.
        """
        return self._plans[fingerprint(api_key)][0]

    def policies(self, api_key: str) -> tuple[Plan, ...]:
        """Every plan of ``api_key`` (more than one for a multi-window policy)."""
        return self._plans[fingerprint(api_key)]

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        """Decorator registering an extra (or replacement) endpoint handler."""
        return self.router.route(method, path)

    def transport(self) -> SimulatorTransport:
        """An httpx transport calling this app in-process, with network-like failures.

        See :class:`~altabots_async.testing.SimulatorTransport`.
        """
        from ._transport import SimulatorTransport  # httpx stays out of the app module

        return SimulatorTransport(self)

    def now(self) -> float:
        """Server time: ``clock() + faults.clock_offset``, epoch seconds."""
        return self.clock() + self.faults.clock_offset

    # --- quota -----------------------------------------------------------------------------

    def quota(self, api_key: str) -> QuotaSnapshot:
        """The current window of ``api_key``'s first plan at server time now."""
        key_id = fingerprint(api_key)
        return self._quota.snapshot(key_id, self._plans[key_id][0], self.now())

    def consume(self, api_key: str, n: int = 1) -> int:
        """An outside consumer eats up to ``n`` of the current window's quota, unseen.

        The client gets no response for these; the log gets one record per request eaten,
        with method ``"OUTSIDE"``. Returns how many were eaten (no more than the window had;
        with several policies, no more than every window had).
        """
        key_id = fingerprint(api_key)
        now = self.now()
        with self._lock:
            taken, starts = self._quota.consume_all(key_id, self._plans[key_id], now, n)
            for _ in range(taken):
                seq = next(self._seq)
                record = RequestRecord(
                    seq, now, key_id, "OUTSIDE", "", "", 200, starts[0], True, False,
                    window_starts=starts,
                )  # fmt: skip
                self.log.append(record)
        return taken

    def refill(self, api_key: str | None = None) -> None:
        """Forget the current window of ``api_key`` (every key when None): a server-side reset."""
        with self._lock:
            self._quota.reset(None if api_key is None else fingerprint(api_key))

    def reset(self) -> None:
        """Clear quota windows, the log and the simulated state (keys, routes, faults stay)."""
        with self._lock:
            self._quota.reset()
            self.log.clear()
            self.state.reset()
            self._seq = itertools.count()
            self._generation += 1

    # --- log helpers -----------------------------------------------------------------------

    def _records(self, api_key: str | None) -> list[RequestRecord]:
        if api_key is None:
            return list(self.log)
        key_id = fingerprint(api_key)
        return [record for record in self.log if record.key_id == key_id]

    def over_quota_count(self, key: str | None = None) -> int:
        """How many requests (of API key ``key``, or of every key) arrived over quota."""
        return sum(1 for record in self._records(key) if record.over_quota)

    def counted_per_window(self, key: str | None = None, policy: int = 0) -> dict[float, int]:
        """Counted requests per window start (outside consumption included), oldest first.

        With ``key=None`` every key's counts are summed per window start. ``policy`` picks the
        plan of a multi-window key (0: the first).
        """
        counts: dict[float, int] = {}
        for record in self._records(key):
            if not record.counted or record.window_start is None:
                continue
            if policy < len(record.window_starts):
                start = record.window_starts[policy]
            elif policy == 0:
                start = record.window_start
            else:
                continue
            counts[start] = counts.get(start, 0) + 1
        return dict(sorted(counts.items()))

    def requests(self, path: str | None = None, key: str | None = None) -> list[RequestRecord]:
        """Requests received (not outside consumption), optionally only for ``path`` / ``key``."""
        return [
            record
            for record in self._records(key)
            if record.method != "OUTSIDE" and (path is None or record.path == path)
        ]

    def statistics(self) -> dict[str, Any]:
        """Totals of the log as a JSON-ready dict (also served at ``/__simulator__/stats``)."""
        counted = self.counted_per_window()
        requests = self.requests()
        statuses: dict[str, int] = {}
        for record in requests:
            name = "none" if record.status is None else str(record.status)
            statuses[name] = statuses.get(name, 0) + 1
        return {
            "requests": len(requests),
            "counted": sum(1 for record in requests if record.counted),
            "over_quota": self.over_quota_count(),
            "outside": sum(1 for record in self.log if record.method == "OUTSIDE"),
            "statuses": statuses,
            "counted_per_window": {_seconds_text(start): n for start, n in counted.items()},
        }

    # --- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 entry point (``http`` and ``lifespan`` scopes)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the AltaBots simulator serves HTTP only, not {scope['type']!r}")
        try:
            body = await _read_body(receive)
        except _ClientGone:
            return
        if body is None:
            await self._send(
                send, receive, Response.error(413, 40000, "Request body too large"), []
            )
            return
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", []):
            name = bytes(raw_name).decode("latin-1").lower()
            value = bytes(raw_value).decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        request = Request(
            method=str(scope["method"]).upper(),
            path=str(scope["path"]),
            query=bytes(scope.get("query_string", b"")).decode("latin-1"),
            headers=headers,
            body=body,
        )
        if self.admin and request.path.startswith(ADMIN_PREFIX):
            await self._send(send, receive, self._admin(request), [])
            return
        await self._serve_request(scope, receive, send, request)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _latency(self) -> tuple[float, float]:
        latency = self.faults.latency
        if latency is None:
            return 0.0, 0.0
        total = self.rng.uniform(*latency) if isinstance(latency, tuple) else float(latency)
        before = total * self.rng.random()
        return before, total - before

    def _retry_after(self, seconds: float, now: float, *, exact: bool = False) -> str:
        """``Retry-After`` for a wait of ``seconds`` from server time ``now``, in the set form.

        Seconds are rounded up to a whole number (at least 1) unless ``exact``.
        """
        if self.faults.retry_after_form == "http_date":
            return formatdate(math.ceil(now + seconds), usegmt=True)
        return _seconds_text(seconds) if exact else str(max(1, math.ceil(seconds)))

    def _hit(self, probability: float) -> bool:
        return probability > 0 and self.rng.random() < probability

    def _append(self, record: RequestRecord) -> Callable[..., None]:
        """Log ``record`` now; return an updater for its status and fault once answered."""
        with self._lock:
            self.log.append(record)
            generation = self._generation
            index = len(self.log) - 1

        def update(**changes: Any) -> None:
            with self._lock:
                if self._generation == generation and self.log[index] is record:
                    self.log[index] = attrs.evolve(record, **changes)

        return update

    async def _serve_request(
        self, scope: Scope, receive: Receive, send: Send, request: Request
    ) -> None:
        faults = self.faults
        before, after = self._latency()
        if before > 0:
            await self.sleep(before)
        now = self.now()
        seq = next(self._seq)
        api_key = _bearer(request.headers)
        key_id = fingerprint(api_key) if api_key is not None else None
        plans = self._plans.get(key_id) if key_id is not None else None
        body = request.body or None

        def record(
            status: int | None,
            window_start: float | None,
            counted: bool,
            over_quota: bool,
            fault: str | None = None,
            starts: tuple[float, ...] = (),
        ) -> RequestRecord:
            return RequestRecord(
                seq, now, key_id, request.method, request.path, request.query,
                status, window_start, counted, over_quota, body, fault, starts,
            )  # fmt: skip

        request_id = [("x-request-id", f"sim-{seq:08d}")]

        if key_id is None or plans is None:
            self._append(record(401, None, counted=False, over_quota=False))
            await self._respond(send, receive, Response.json(_AUTH_FAILED, 401), request_id, after)
            return

        if self._hit(faults.reset_rate):
            self._append(record(None, None, counted=False, over_quota=False, fault="reset"))
            await self._drop_connection(scope, receive)
            return

        with self._lock:
            counted, snap, starts = self._quota.try_count_all(key_id, plans, now)
        if not counted:
            update = self._append(
                record(None, starts[0], counted=False, over_quota=True, starts=starts)
            )
            status, rejection, headers = self._quota_rejection(snap, now)
            await self._respond(send, receive, rejection, request_id + headers, after)
            update(status=status)
            return

        update = self._append(
            record(None, starts[0], counted=True, over_quota=False, starts=starts)
        )
        if self._hit(faults.error_rate):
            status = self.rng.choice((500, 503))
            headers = request_id + self._rate_headers(snap, now)
            if status == 503 and faults.retry_after_on_503 is not None:
                headers.append(
                    ("retry-after", self._retry_after(faults.retry_after_on_503, now, exact=True))
                )
            await self._respond(
                send, receive, Response.json(_INTERNAL_ERROR, status), headers, after
            )
            update(status=status, fault="error")
            return

        response = await self._dispatch(request, key_id, now)
        if self._hit(faults.disconnect_rate):
            update(fault="disconnect")
            if after > 0:
                await self.sleep(after)
            await self._drop_connection(scope, receive)
            return
        fault: str | None = None
        if self._hit(faults.stall_rate):
            fault = "stall"
            update(fault=fault)
            if math.isinf(faults.stall_seconds):
                await anyio.sleep_forever()
            else:
                await self.sleep(faults.stall_seconds)
        if response.status < 400 and response.chunks is None and self._hit(faults.compression_bomb):
            fault = "compression_bomb"
            response = _compression_bomb(response, faults.compression_bomb_size)
        rate_headers, malformed = self._rate_headers_checked(snap, now)
        if malformed:
            fault = "malformed_headers"
        headers = request_id + rate_headers
        await self._respond(send, receive, response, headers, after)
        update(status=response.status, fault=fault)

    def _quota_rejection(
        self, snap: QuotaSnapshot, now: float
    ) -> tuple[int, Response, list[tuple[str, str]]]:
        """The answer to a request over quota, in the style ``faults.quota_signal`` sets."""
        faults = self.faults
        headers: list[tuple[str, str]] = []
        if faults.rejection_headers:
            headers = self._rate_headers(snap, now)
            if faults.send_retry_after:
                headers.append(("retry-after", self._retry_after(snap.window_end - now, now)))
        if faults.quota_signal == "http429":
            period = _seconds_text(snap.period_seconds)
            envelope: dict[str, Any] = {
                "error": {
                    "code": "rate_limit_exceeded",
                    "message": (
                        f"Rate limit of {snap.limit} requests per {period} s exceeded; "
                        "retry after the window resets"
                    ),
                    "status": 429,
                }
            }
            return 429, Response.json(envelope, 429), headers
        status = {"body200": 200, "body400": 400, "body429": 429}[faults.quota_signal]
        return status, Response.json(_RPM_EXCEEDED, status), headers

    async def _dispatch(self, request: Request, key_id: str, now: float) -> Response:
        target = self.router.resolve(request.method, request.path)
        if isinstance(target, HTTPError):
            return target.to_response()
        ctx = Context(request=request, state=self.state, key_id=key_id, now=now, rng=self.rng)
        try:
            return await target(ctx)
        except HTTPError as exc:
            return exc.to_response()

    def _rate_headers(self, snap: QuotaSnapshot, now: float) -> list[tuple[str, str]]:
        return self._rate_headers_checked(snap, now)[0]

    def _rate_headers_checked(
        self, snap: QuotaSnapshot, now: float
    ) -> tuple[list[tuple[str, str]], bool]:
        """The rate-limit headers for ``snap``, and whether the malformed fault garbled them."""
        faults = self.faults
        if faults.drop_headers:
            return [], False
        end = snap.window_end
        if faults.reset_rolling:
            end = now + snap.period_seconds
        elif self._hit(faults.reset_jump):
            end += snap.period_seconds
        limit, remaining = snap.limit, snap.remaining
        if faults.header_limit is not None:
            limit = faults.header_limit
            remaining = max(0, limit - snap.used)
        values = [
            ("x-ratelimit-limit", str(limit)),
            ("x-ratelimit-remaining", str(remaining)),
        ]
        reset = _reset_text(faults.reset_form, end, now)
        if reset is not None:
            values.append(("x-ratelimit-reset", reset))
        if not self._hit(faults.malformed_headers):
            return values, False
        garbled: list[tuple[str, str]] = []
        for name, _ in values:
            kind = self.rng.choice(("missing", "text", "negative"))
            if kind == "text":
                garbled.append((name, self.rng.choice(_GARBAGE)))
            elif kind == "negative":
                garbled.append((name, str(-self.rng.randint(1, 3600))))
        return garbled, True

    async def _respond(
        self,
        send: Send,
        receive: Receive,
        response: Response,
        headers: list[tuple[str, str]],
        after: float,
    ) -> None:
        if after > 0:
            await self.sleep(after)
        hold = self.faults.hold
        if hold is not None:
            await hold.wait()
        await self._send(send, receive, response, headers)

    async def _send(
        self, send: Send, receive: Receive, response: Response, extra: list[tuple[str, str]]
    ) -> None:
        """Send ``response``; a client that went away ends it quietly (it was answered)."""
        try:
            await self._send_unguarded(send, receive, response, extra)
        except OSError:  # ASGI servers raise OSError subclasses on a closed connection
            return

    async def _send_unguarded(
        self, send: Send, receive: Receive, response: Response, extra: list[tuple[str, str]]
    ) -> None:
        headers = [*response.headers, *extra]
        if self.faults.send_date:
            headers.append(("date", formatdate(self.now(), usegmt=True)))
        if response.chunks is None:
            headers.append(("content-length", str(len(response.body))))
        raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        await send({"type": "http.response.start", "status": response.status, "headers": raw})
        if response.chunks is None:
            await send({"type": "http.response.body", "body": response.body, "more_body": False})
            return
        chunks = response.chunks
        try:
            async with anyio.create_task_group() as tg:

                async def stop_on_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tg.cancel_scope.cancel()  # the client left: stop producing

                tg.start_soon(stop_on_disconnect)
                async for chunk in chunks:
                    if chunk:
                        message = {"type": "http.response.body", "body": chunk, "more_body": True}
                        await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                tg.cancel_scope.cancel()
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()

    async def _drop_connection(self, scope: Scope, receive: Receive) -> None:
        """Close the connection without a response: abort the socket if served, else raise."""
        hook = self._abort_hook
        if hook is not None and hook(scope):
            with anyio.move_on_after(5):
                while (await receive())["type"] != "http.disconnect":
                    pass
            return
        raise SimulatedDisconnect("simulated fault: connection closed without a response")

    # --- admin API ---------------------------------------------------------------------------

    def _admin(self, request: Request) -> Response:
        """``/__simulator__/{stats,log,consume,reset,refill,faults}`` for out-of-process use."""
        action = request.path[len(ADMIN_PREFIX) :].strip("/")
        try:
            if request.method == "GET" and action == "stats":
                return Response.json(self.statistics())
            if request.method == "GET" and action == "log":
                return Response.json([record.to_json() for record in self.log])
            if request.method == "POST" and action == "consume":
                data = request.json_object()
                taken = self.consume(str(data["key"]), int(data.get("n", 1)))
                return Response.json({"consumed": taken})
            if request.method == "POST" and action == "reset":
                self.reset()
                return Response.json({"ok": True})
            if request.method == "POST" and action == "refill":
                data = request.json_object() if request.body else {}
                key = data.get("key")
                self.refill(None if key is None else str(key))
                return Response.json({"ok": True})
            if request.method == "POST" and action == "faults":
                changes = request.json_object()
                changes.pop("hold", None)
                if isinstance(changes.get("latency"), list):
                    changes["latency"] = tuple(changes["latency"])
                for name, value in changes.items():
                    if name not in attrs.fields_dict(Faults):
                        raise HTTPError(400, 40000, f"unknown fault switch {name!r}")
                    setattr(self.faults, name, value)
                return Response.json({"ok": True})
        except HTTPError as exc:
            return exc.to_response()
        except (KeyError, TypeError, ValueError) as exc:
            return Response.error(400, 40000, f"bad admin request: {exc}")
        return Response.error(404, 404, "Not found")
