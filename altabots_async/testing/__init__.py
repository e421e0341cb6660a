"""A fake AltaBots server for tests, benchmarks and demos: ``altabots_async.testing``.

:class:`Simulator` is a pure ASGI app (stdlib and anyio only) that behaves like the real
server where it matters to a client: endpoint shapes and error envelopes, quota enforcement
per API key in fixed windows, ``X-RateLimit-*`` / ``Retry-After`` / ``Date`` headers, 429s,
and switchable faults. It keeps a log of every request so tests can assert, from the server's
side, that a client never went over quota.

Use it in-process::

    clock = FakeClock()
    sim = Simulator({"sk-test": Plan.FREE.scaled(2.0)}, clock=clock)
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        ...
    assert sim.over_quota_count() == 0

``sim.transport()`` (:class:`SimulatorTransport`) streams responses chunk by chunk inside
``async with httpx.AsyncClient(...)``, keeps a request "sent" when its caller is cancelled, and
turns simulated disconnects into ``httpx.RemoteProtocolError``; plain
``httpx.ASGITransport(app=sim)`` works too (buffered; disconnects raise
:class:`SimulatedDisconnect`). :class:`FakeClock` is a virtual clock: pass it as ``clock=`` and
its ``sleep`` as ``sleep=`` so quota windows and injected latency follow virtual time.

Or serve it on a loopback port: ``async with serve(sim) as base_url: ...``,
``with serve_in_thread(sim) as base_url: ...``, or as its own process::

    python -m altabots_async.testing --port 8000 --key sk-test --plan enterprise:100:2

Out of process, the admin API (no auth, not counted, not logged) reads and steers it:
``GET /__simulator__/stats``, ``GET /__simulator__/log``, ``POST /__simulator__/consume``
``{"key", "n"}``, ``POST /__simulator__/refill``, ``POST /__simulator__/reset`` and
``POST /__simulator__/faults`` (a JSON object of switches to set).

Endpoints live in ``altabots_async/testing/_endpoints/<category>.py`` (see that package's
docstring); handlers are ``async def handler(ctx: Context) -> Response`` and keep per-key state
in ``ctx.store``. Add one ad hoc with ``@sim.route("GET", "/v1/path")``.

Quota rules: a window starts at ``floor(now / period) * period`` (``window_anchor="epoch"``)
or at the first request after the previous window closed (``"first_request"``). A request
arriving while its window has room is counted and processed; one arriving when it is full
gets 429 ``{"error": {"code": "rate_limit_exceeded", ...}}`` with ``Retry-After`` (whole
seconds until the window ends, rounded up) and is not counted (``faults.quota_signal`` makes
it the vendor's body code 40008 with HTTP 200, 400 or 429 instead). Unknown or missing keys get
401 ``{"code": 40127, ...}`` without rate-limit headers. Keys are stored only as a
fingerprint (first 16 hex digits of their SHA-256).

Fault switches (:class:`Faults`, mutable mid-run; seeded by ``Simulator(seed=...)``):

=====================  ==================  =======================================================
switch                 default             effect
=====================  ==================  =======================================================
``latency``            ``None``            fixed seconds or ``(min, max)``; split at random into a
                                           delay before counting and one after, so responses
                                           are reordered
``clock_offset``       ``0.0``             seconds added to the server clock (windows, ``Date``,
                                           ``Reset``)
``send_date``          ``True``            send ``Date`` (IMF-fixdate of server time)
``reset_form``         ``"epoch"``         ``X-RateLimit-Reset`` as ``epoch`` (int s), ``delta``
                                           (int s to go), ``ms`` (int epoch ms), ``epoch_float``
``malformed_headers``  ``0.0``             probability the three rate-limit headers are each
                                           missing, non-numeric or negative
``drop_headers``       ``False``           no ``X-RateLimit-*`` headers at all
``send_retry_after``   ``True``            ``Retry-After`` on quota rejections
``quota_signal``       ``"http429"``       how over-quota is refused: ``http429``, or body code
                                           40008 with HTTP ``body200`` / ``body400`` /
                                           ``body429``
``rejection_headers``  ``True``            rate-limit headers on quota rejections
``retry_after_form``   ``"seconds"``       ``Retry-After`` as ``seconds`` or ``http_date``
``error_rate``         ``0.0``             probability of a 500/503 ``{"code": 50000, ...}``
                                           after counting (handler not run)
``retry_after_on_503`` ``None``            ``Retry-After`` seconds on injected 503s
``disconnect_rate``    ``0.0``             probability of closing the connection without a
                                           response after counting and processing
``reset_rate``         ``0.0``             probability of closing the connection before
                                           counting (not processed)
``stall_rate``         ``0.0``             probability a processed request's response waits
                                           ``stall_seconds`` (default forever)
``hold``               ``None``            an ``anyio.Event``: responses wait until it is set
``connect_error_rate`` ``0.0``             ``sim.transport()`` only: ``httpx.ConnectError``
                                           before the app sees the request
``compression_bomb``   ``0.0``             probability a successful body becomes gzip that
                                           inflates to ``compression_bomb_size`` (64 MiB)
=====================  ==================  =======================================================

``sim.consume(key, n)`` is the outside consumer: it eats ``n`` of the current window's quota
unseen (logged with method ``"OUTSIDE"``). A key given several plans
(``Simulator({key: [Plan.enterprise(10, 1), Plan.enterprise(1000, 3600)]})`` or
``sim.add_key(key, plan, *more)``) has a multi-window policy: a request is counted only when
every window has room, and the headers describe the binding window.
"""

from __future__ import annotations

from ._app import ADMIN_PREFIX, SimulatedDisconnect, Simulator
from ._clock import FakeClock
from ._faults import Faults
from ._http import Context, HTTPError, Request, Response, Router, RouteTable
from ._log import RequestRecord
from ._plan import Plan
from ._quota import QuotaSnapshot
from ._serve import serve, serve_in_thread
from ._state import KeyStore, SimState
from ._transport import SimulatorTransport

__all__ = [
    "ADMIN_PREFIX",
    "Context",
    "FakeClock",
    "Faults",
    "HTTPError",
    "KeyStore",
    "Plan",
    "QuotaSnapshot",
    "Request",
    "RequestRecord",
    "Response",
    "RouteTable",
    "Router",
    "SimState",
    "SimulatedDisconnect",
    "Simulator",
    "SimulatorTransport",
    "serve",
    "serve_in_thread",
]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and not isinstance(_obj, str):
        _obj.__module__ = __name__
del _name, _obj
