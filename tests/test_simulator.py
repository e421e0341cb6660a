"""The AltaBots simulator: quota enforcement, headers, the request log, faults and serving."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import anyio
import httpx
import pytest

from altabots_async import testing
from altabots_async.testing import (
    Context,
    FakeClock,
    Faults,
    HTTPError,
    Plan,
    Response,
    SimulatedDisconnect,
    Simulator,
    serve,
    serve_in_thread,
)

KEY = "sk-test-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
START = 1_700_000_000.0  # a multiple of 2: epoch-aligned windows start exactly here


@pytest.fixture
def clock() -> FakeClock:
    """A virtual clock at START."""
    return FakeClock(START)


@pytest.fixture
def sim(clock: FakeClock) -> Simulator:
    """5 requests per 2 s for KEY, on the virtual clock, seed 0."""
    return Simulator({KEY: Plan.enterprise(5, 2.0)}, clock=clock, sleep=clock.sleep)


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the simulator in-process through httpx.ASGITransport."""
    transport = httpx.ASGITransport(app=sim)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield client


async def get(client: httpx.AsyncClient, path: str = "/v1/bot/detail") -> httpx.Response:
    """GET ``path`` with the test key."""
    return await client.get(path, headers=AUTH)


def rate_headers(response: httpx.Response) -> dict[str, str]:
    """The X-RateLimit-* headers of ``response``."""
    return {k: v for k, v in response.headers.items() if k.startswith("x-ratelimit-")}


# --- plans --------------------------------------------------------------------------------


def test_plan_presets() -> None:
    """The presets are the AltaBots plans; scaled() keeps the limit and name."""
    assert (Plan.FREE.limit, Plan.FREE.period_seconds) == (100, 86_400.0)
    assert (Plan.PROFESSIONAL.limit, Plan.PROFESSIONAL.period_seconds) == (1_000, 3_600.0)
    assert Plan.enterprise(7, 3) == Plan(7, 3.0, "enterprise")
    assert Plan.FREE.scaled(2.0) == Plan(100, 2.0, "free")


def test_plan_parse_and_validation() -> None:
    """Plan.parse reads the CLI spellings; bad limits, periods and spellings raise."""
    assert Plan.parse("free") is Plan.FREE
    assert Plan.parse("pro") is Plan.PROFESSIONAL
    assert Plan.parse("enterprise:20:2.5") == Plan.enterprise(20, 2.5)
    for bad in ("gold", "enterprise:x:2", "enterprise:5"):
        with pytest.raises(ValueError):
            Plan.parse(bad)
    with pytest.raises(ValueError):
        Plan(0, 1.0)
    with pytest.raises(ValueError):
        Plan(1, 0.0)


# --- quota and headers ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_quota_headers_then_429(http: httpx.AsyncClient, sim: Simulator) -> None:
    """5 per 2 s: Remaining 4..0 with Limit and Reset, then a 429 with Retry-After, not counted."""
    responses = [await get(http) for _ in range(6)]

    for remaining, response in zip(range(4, -1, -1), responses[:5], strict=True):
        assert response.status_code == 200
        assert rate_headers(response) == {
            "x-ratelimit-limit": "5",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(START + 2)),
        }
        assert parsedate_to_datetime(response.headers["date"]).timestamp() == START
    limited = responses[5]
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert rate_headers(limited)["x-ratelimit-remaining"] == "0"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert limited.json()["error"]["status"] == 429
    assert isinstance(limited.json()["error"]["message"], str)
    assert sim.counted_per_window() == {START: 5}
    assert [r.over_quota for r in sim.log] == [False] * 5 + [True]
    assert sim.log[5].counted is False


@pytest.mark.anyio
async def test_retry_after_rounds_up(
    http: httpx.AsyncClient, sim: Simulator, clock: FakeClock
) -> None:
    """Retry-After is the whole seconds to the window end, rounded up."""
    sim.consume(KEY, 5)
    clock.advance(0.5)

    response = await get(http)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"  # ceil(1.5)


@pytest.mark.anyio
async def test_new_window_after_clock_moves(
    http: httpx.AsyncClient, sim: Simulator, clock: FakeClock
) -> None:
    """When the virtual clock passes the reset, the quota refills in a new window."""
    for _ in range(6):
        await get(http)
    clock.advance(2.0)

    response = await get(http)

    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining"] == "4"
    assert response.headers["x-ratelimit-reset"] == str(int(START + 4))
    assert sim.counted_per_window() == {START: 5, START + 2: 1}
    assert sim.quota(KEY).remaining == 4


@pytest.mark.anyio
async def test_first_request_anchor(clock: FakeClock) -> None:
    """With window_anchor="first_request" a window opens at the first request, not the epoch."""
    clock.set(START + 0.7)
    sim = Simulator({KEY: Plan.enterprise(2, 2.0)}, clock=clock, window_anchor="first_request")
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        first = await get(http)
        clock.advance(1.9)
        await get(http)
        third = await get(http)
        clock.advance(0.1)
        fourth = await get(http)

    assert first.headers["x-ratelimit-reset"] == str(math.ceil(START + 2.7))
    assert third.status_code == 429
    assert fourth.status_code == 200
    assert list(sim.counted_per_window()) == [START + 0.7, START + 2.7]


@pytest.mark.anyio
async def test_keys_have_separate_quotas(http: httpx.AsyncClient, sim: Simulator) -> None:
    """Each key has its own window and its own log entries."""
    sim.add_key("sk-other", Plan.enterprise(1, 2.0))
    other = {"Authorization": "Bearer sk-other"}

    assert (await http.get("/v1/bot/detail", headers=other)).status_code == 200
    assert (await http.get("/v1/bot/detail", headers=other)).status_code == 429
    assert (await get(http)).headers["x-ratelimit-remaining"] == "4"
    assert sim.over_quota_count("sk-other") == 1
    assert sim.over_quota_count(KEY) == 0
    assert sim.counted_per_window(KEY) == {START: 1}


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}]
)
async def test_bad_key_401(
    http: httpx.AsyncClient, sim: Simulator, headers: dict[str, str]
) -> None:
    """Missing or unknown keys get 401 / 40127 without rate-limit headers, and cost nothing."""
    response = await http.get("/v1/bot/detail", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"code": 40127, "message": "Developer authentication failed"}
    assert rate_headers(response) == {}
    assert "date" in response.headers
    assert sim.log[0].counted is False
    assert sim.quota(KEY).used == 0


@pytest.mark.anyio
async def test_log_holds_fingerprint_not_key(http: httpx.AsyncClient, sim: Simulator) -> None:
    """The log stores sha256(key)[:16], never the key; bodies and queries are kept."""
    await http.post("/v1/bot/detail?x=1", headers=AUTH, content=b'{"a": 1}')
    await http.get("/v1/bot/detail", headers={"Authorization": "Bearer wrong-key-123"})

    record = sim.log[0]
    assert record.key_id == hashlib.sha256(KEY.encode()).hexdigest()[:16]
    assert (record.method, record.path, record.query) == ("POST", "/v1/bot/detail", "x=1")
    assert record.body == b'{"a": 1}'
    assert record.status == 405
    assert KEY not in repr(sim.log)
    assert "wrong-key-123" not in repr(sim.log)
    assert sim.log[1].key_id == Simulator.fingerprint("wrong-key-123")


@pytest.mark.anyio
async def test_log_helpers(http: httpx.AsyncClient, sim: Simulator) -> None:
    """requests(), over_quota_count(), counted_per_window() and statistics() agree."""
    for _ in range(4):
        await get(http)
    await get(http, "/v1/nowhere")
    await get(http)
    await get(http)

    assert [r.seq for r in sim.log] == list(range(7))
    assert len(sim.requests()) == 7
    assert len(sim.requests("/v1/nowhere")) == 1
    assert sim.over_quota_count() == 2
    assert sim.counted_per_window() == {START: 5}
    stats = sim.statistics()
    assert stats["statuses"] == {"200": 4, "404": 1, "429": 2}
    assert stats["over_quota"] == 2


@pytest.mark.anyio
async def test_reset_clears_log_quota_and_state(http: httpx.AsyncClient, sim: Simulator) -> None:
    """reset() forgets the log, the windows and the per-key state, but keeps the keys."""
    for _ in range(6):
        await get(http)
    sim.state.store(Simulator.fingerprint(KEY)).agent["name"] = "changed"

    sim.reset()
    response = await get(http)

    assert response.headers["x-ratelimit-remaining"] == "4"
    assert response.json()["name"] != "changed"
    assert [r.seq for r in sim.log] == [0]


@pytest.mark.anyio
async def test_outside_consumer(http: httpx.AsyncClient, sim: Simulator) -> None:
    """consume() eats quota unseen, is logged as OUTSIDE, and never goes past the limit."""
    assert sim.consume(KEY, 3) == 3

    response = await get(http)
    eaten = sim.consume(KEY, 10)

    assert response.headers["x-ratelimit-remaining"] == "1"
    assert eaten == 1
    assert [r.method for r in sim.log].count("OUTSIDE") == 4
    assert sim.requests() == [sim.log[3]]
    assert sim.counted_per_window(KEY) == {START: 5}
    assert (await get(http)).status_code == 429


# --- endpoints and routing ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_bot_detail_is_a_full_agent(http: httpx.AsyncClient) -> None:
    """GET /v1/bot/detail returns every Agent field of REFERENCE §4.3 with plausible types."""
    agent = (await get(http)).json()

    assert re.fullmatch(r"[0-9a-f]{24}", agent["bot_id"])
    for name in ("name", "logo", "welcome_message", "introduction", "identity_prompt"):
        assert isinstance(agent[name], str)
    assert agent["ai_model"] == "ChatGPT"
    assert isinstance(agent["ai_model_version"], str)
    assert agent["bot_type"] == "QuestionAnswer"
    assert isinstance(agent["tags"], list)
    assert 0 <= agent["creativity_level"] <= 1
    assert 0 <= agent["doc_correlation"] <= 1
    assert isinstance(agent["irrelevant_questions"], bool)
    assert isinstance(agent["question_limit"], int)
    assert isinstance(agent["long_term_memory"], bool)


@pytest.mark.anyio
async def test_deleted_agent(http: httpx.AsyncClient, sim: Simulator) -> None:
    """A deleted agent answers code 20059."""
    sim.state.store(Simulator.fingerprint(KEY)).agent_deleted = True

    response = await get(http)

    assert response.json()["code"] == 20059


@pytest.mark.anyio
async def test_unknown_path_and_method(http: httpx.AsyncClient, sim: Simulator) -> None:
    """Unknown paths get 404 / 404 and wrong methods 405; both count and carry headers."""
    missing = await get(http, "/v1/nope")
    wrong = await http.delete("/v1/bot/detail", headers=AUTH)

    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "message": "Not found"}
    assert missing.headers["x-ratelimit-remaining"] == "4"
    assert wrong.status_code == 405
    assert sim.quota(KEY).used == 2


@pytest.mark.anyio
async def test_custom_route_state_and_errors(http: httpx.AsyncClient, sim: Simulator) -> None:
    """Handlers get ctx.store per key; HTTPError and bad JSON become 400 / 40000."""

    @sim.route("POST", "/v1/echo")
    async def echo(ctx: Context) -> Response:
        body = ctx.request.json_object()
        if "text" not in body:
            raise HTTPError(400, 40000, "text is required")
        seen = ctx.store.data.setdefault("echo", [])
        seen.append(body["text"])
        return Response.json({"seen": seen, "q": ctx.request.query_all("q")})

    ok = await http.post("/v1/echo?q=a&q=b,c", headers=AUTH, json={"text": "hi"})
    missing = await http.post("/v1/echo", headers=AUTH, json={})
    broken = await http.post("/v1/echo", headers=AUTH, content=b"{not json")

    assert ok.json() == {"seen": ["hi"], "q": ["a", "b", "c"]}
    assert missing.status_code == 400
    assert missing.json() == {"code": 40000, "message": "text is required"}
    assert broken.status_code == 400
    assert broken.json()["code"] == 40000
    assert ("POST", "/v1/echo") in sim.router.routes()


@pytest.mark.anyio
async def test_streamed_response(http: httpx.AsyncClient, sim: Simulator) -> None:
    """Response.stream sends each chunk; rate-limit headers come with the stream."""

    async def events() -> AsyncIterator[bytes]:
        for n in range(3):
            yield f"data: {n}\n\n".encode()

    @sim.route("GET", "/v1/stream")
    async def stream(ctx: Context) -> Response:
        return Response.stream(events())

    response = await get(http, "/v1/stream")

    assert response.headers["content-type"] == "text/event-stream"
    assert response.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert response.headers["x-ratelimit-remaining"] == "4"


# --- faults -------------------------------------------------------------------------------------


def test_faults_validate() -> None:
    """Fault switches reject impossible values, also when flipped later."""
    faults = Faults()
    with pytest.raises(ValueError):
        faults.error_rate = 1.5
    with pytest.raises(ValueError):
        faults.latency = (2.0, 1.0)
    with pytest.raises(ValueError):
        faults.reset_form = "weeks"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        Faults(clock_offset=math.nan)


@pytest.mark.anyio
@pytest.mark.parametrize("offset", [-3600.0, -2.0, 0.0, 2.0, 120.0])
async def test_clock_offset(http: httpx.AsyncClient, sim: Simulator, offset: float) -> None:
    """clock_offset skews Date, the windows and Reset by the same amount."""
    sim.faults.clock_offset = offset

    response = await get(http)

    server_now = START + offset
    assert parsedate_to_datetime(response.headers["date"]).timestamp() == server_now
    window_end = math.floor(server_now / 2) * 2 + 2
    assert response.headers["x-ratelimit-reset"] == str(math.ceil(window_end))
    assert sim.log[0].arrived_at == server_now


@pytest.mark.anyio
async def test_send_date_off(http: httpx.AsyncClient, sim: Simulator) -> None:
    """send_date=False drops the Date header everywhere."""
    sim.faults.send_date = False

    assert "date" not in (await get(http)).headers
    assert "date" not in (await http.get("/v1/bot/detail")).headers


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("epoch", "1700000002"),
        ("delta", "2"),
        ("ms", "1700000002000"),
        ("epoch_float", "1700000002.000"),
    ],
)
async def test_reset_forms(
    http: httpx.AsyncClient, sim: Simulator, clock: FakeClock, form: str, expected: str
) -> None:
    """reset_form spells X-RateLimit-Reset as epoch, delta, epoch ms or epoch float."""
    sim.faults.reset_form = form  # type: ignore[assignment]
    clock.advance(0.5)

    assert (await get(http)).headers["x-ratelimit-reset"] == expected


@pytest.mark.anyio
async def test_drop_headers(http: httpx.AsyncClient, sim: Simulator) -> None:
    """drop_headers removes every X-RateLimit-* header; quota 429s keep Retry-After."""
    sim.faults.drop_headers = True
    sim.consume(KEY, 4)

    ok = await get(http)
    limited = await get(http)

    assert rate_headers(ok) == {}
    assert rate_headers(limited) == {}
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"


def _valid(value: str | None) -> bool:
    return value is not None and value.isdigit()


@pytest.mark.anyio
async def test_malformed_headers_are_seeded(clock: FakeClock) -> None:
    """malformed_headers=1 garbles every response's headers the same way for the same seed."""
    runs = []
    for _ in range(2):
        sim = Simulator(
            {KEY: Plan.enterprise(50, 2.0)}, clock=clock, faults=Faults(malformed_headers=1.0)
        )
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
            runs.append([rate_headers(await get(http)) for _ in range(20)])
        assert {r.fault for r in sim.log} == {"malformed_headers"}

    assert runs[0] == runs[1]
    for headers in runs[0]:
        names = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
        assert not all(_valid(headers.get(name)) for name in names)


@pytest.mark.anyio
async def test_injected_errors(http: httpx.AsyncClient, sim: Simulator) -> None:
    """error_rate=1 answers 500/503 {code: 50000} after counting; 503 carries Retry-After."""
    sim.add_key("sk-big", Plan.enterprise(100, 2.0))
    sim.faults.error_rate = 1.0
    sim.faults.retry_after_on_503 = 1.5

    responses = [
        await http.get("/v1/bot/detail", headers={"Authorization": "Bearer sk-big"})
        for _ in range(20)
    ]

    assert {r.status_code for r in responses} == {500, 503}
    for response in responses:
        assert response.json() == {"code": 50000, "message": "Internal error"}
        assert ("retry-after" in response.headers) == (response.status_code == 503)
        assert "x-ratelimit-remaining" in response.headers
    assert responses[-1].headers["x-ratelimit-remaining"] == "80"
    assert next(r.headers.get("retry-after") for r in responses if r.status_code == 503) == "1.5"
    assert all(r.counted and r.fault == "error" for r in sim.log)


@pytest.mark.anyio
async def test_error_rate_is_seeded(clock: FakeClock) -> None:
    """The same seed injects errors into the same requests."""
    outcomes = []
    for _ in range(2):
        sim = Simulator(
            {KEY: Plan.enterprise(100, 2.0)}, clock=clock, seed=7, faults=Faults(error_rate=0.3)
        )
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
            outcomes.append([(await get(http)).status_code for _ in range(30)])

    assert outcomes[0] == outcomes[1]
    assert 200 in outcomes[0]
    assert set(outcomes[0]) - {200}


@pytest.mark.anyio
async def test_disconnect_after_processing(sim: Simulator) -> None:
    """disconnect_rate=1 runs the handler and counts, then closes without a response."""
    calls: list[str] = []

    @sim.route("POST", "/v1/write")
    async def write(ctx: Context) -> Response:
        calls.append(ctx.key_id)
        return Response.json({"ok": True})

    sim.faults.disconnect_rate = 1.0
    raw = httpx.ASGITransport(app=sim)
    async with httpx.AsyncClient(transport=raw, base_url="http://sim") as http:
        with pytest.raises(SimulatedDisconnect):
            await http.post("/v1/write", headers=AUTH)
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/v1/write", headers=AUTH)

    assert len(calls) == 2
    assert [(r.counted, r.status, r.fault) for r in sim.log] == [(True, None, "disconnect")] * 2
    assert sim.quota(KEY).used == 2


@pytest.mark.anyio
async def test_reset_before_counting(sim: Simulator) -> None:
    """reset_rate=1 closes the connection before counting: nothing processed, no quota used."""
    sim.faults.reset_rate = 1.0
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await get(http)

    assert [(r.counted, r.fault) for r in sim.log] == [(False, "reset")]
    assert sim.quota(KEY).used == 0


@pytest.mark.anyio
async def test_connect_error(sim: Simulator) -> None:
    """connect_error_rate=1 fails in sim.transport() before the app: nothing logged."""
    sim.faults.connect_error_rate = 1.0
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        with pytest.raises(httpx.ConnectError):
            await get(http)

    assert sim.log == []


@pytest.mark.anyio
async def test_hold_responses(http: httpx.AsyncClient, sim: Simulator) -> None:
    """With hold set, requests are counted at once but answered only after the event is set."""
    sim.faults.hold = anyio.Event()
    statuses: list[int] = []

    async def call() -> None:
        statuses.append((await get(http)).status_code)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(call)
            await anyio.wait_all_tasks_blocked()
            assert statuses == []
            assert [(r.counted, r.status) for r in sim.log] == [(True, None)] * 3
            sim.faults.hold.set()

    assert statuses == [200, 200, 200]
    assert [r.status for r in sim.log] == [200, 200, 200]


@pytest.mark.anyio
async def test_stall_until_virtual_time_passes(
    http: httpx.AsyncClient, sim: Simulator, clock: FakeClock
) -> None:
    """stall_rate=1 delays a processed response by stall_seconds of (virtual) time."""
    sim.faults.stall_rate = 1.0
    sim.faults.stall_seconds = 30.0
    statuses: list[int] = []

    async def call() -> None:
        statuses.append((await get(http)).status_code)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await anyio.wait_all_tasks_blocked()
            assert statuses == []
            assert sim.log[0].fault == "stall"
            clock.advance(29.0)
            await anyio.wait_all_tasks_blocked()
            assert statuses == []
            clock.advance(1.0)

    assert statuses == [200]


@pytest.mark.anyio
async def test_latency_reorders_responses(clock: FakeClock) -> None:
    """latency splits a random delay around counting, so answers come back out of order."""
    sim = Simulator(
        {KEY: Plan.enterprise(50, 2.0)},
        clock=clock,
        sleep=clock.sleep,
        seed=3,
        faults=Faults(latency=(0.0, 1.0)),
    )
    done: list[int] = []

    async def call(n: int) -> None:
        response = await http.get("/v1/bot/detail", headers={**AUTH, "X-N": str(n)})
        assert response.status_code == 200
        done.append(n)

    transport = sim.transport()
    with anyio.fail_after(5):
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://sim") as http,
            anyio.create_task_group() as tg,
        ):
            for n in range(8):
                tg.start_soon(call, n)
                await anyio.wait_all_tasks_blocked()
            while len(done) < 8:
                deadline = clock.next_deadline
                assert deadline is not None
                clock.set(deadline)
                await anyio.wait_all_tasks_blocked()

    assert sorted(done) == list(range(8))
    assert done != list(range(8))
    assert [r.arrived_at for r in sim.log] == sorted(r.arrived_at for r in sim.log)
    assert all(START <= r.arrived_at <= START + 1.0 + 1e-6 for r in sim.log)


@pytest.mark.anyio
async def test_switch_flipped_mid_run(http: httpx.AsyncClient, sim: Simulator) -> None:
    """Faults can be switched on and off between requests."""
    first = await get(http)
    sim.faults.error_rate = 1.0
    second = await get(http)
    sim.faults.error_rate = 0.0
    third = await get(http)

    assert [first.status_code, third.status_code] == [200, 200]
    assert second.status_code in (500, 503)


# --- clock ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_fake_clock_sleep() -> None:
    """FakeClock.sleep wakes when advance() reaches the deadline; a cancel leaves no sleeper."""
    clock = FakeClock(10.0)
    woke: list[float] = []

    async def sleeper(delay: float) -> None:
        await clock.sleep(delay)
        woke.append(clock())

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sleeper, 1.0)
            tg.start_soon(sleeper, 3.0)
            await anyio.wait_all_tasks_blocked()
            assert clock.sleepers == 2
            assert clock.next_deadline == 11.0
            clock.advance(2.0)
            await anyio.wait_all_tasks_blocked()
            assert woke == [12.0]
            tg.cancel_scope.cancel()

    assert clock.sleepers == 0


# --- serving ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_serve_on_loopback(sim: Simulator) -> None:
    """serve() answers on a real loopback port with the same headers and a real disconnect."""
    async with serve(sim) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        response = await get(http)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining"] == "4"
        assert response.json()["bot_type"] == "QuestionAnswer"
        stats = (await http.get("/__simulator__/stats")).json()
        assert stats["counted"] == 1
        sim.faults.disconnect_rate = 1.0
        with pytest.raises(httpx.RemoteProtocolError):
            await get(http)

    assert [r.fault for r in sim.log] == [None, "disconnect"]


def test_serve_in_thread(clock: FakeClock) -> None:
    """serve_in_thread() serves from a background thread for synchronous callers."""
    sim = Simulator({KEY: Plan.enterprise(1, 2.0)}, clock=clock)
    with serve_in_thread(sim) as base_url, httpx.Client(base_url=base_url) as http:
        ok = http.get("/v1/bot/detail", headers=AUTH)
        limited = http.get("/v1/bot/detail", headers=AUTH)
        log = http.get("/__simulator__/log").json()

    assert (ok.status_code, limited.status_code) == (200, 429)
    assert [entry["over_quota"] for entry in log] == [False, True]
    assert sim.over_quota_count() == 1


def test_admin_api(clock: FakeClock) -> None:
    """The admin API consumes quota, flips faults, refills and resets out of process."""
    sim = Simulator({KEY: Plan.enterprise(5, 2.0)}, clock=clock)
    with serve_in_thread(sim) as base_url, httpx.Client(base_url=base_url) as http:
        assert http.post("/__simulator__/consume", json={"key": KEY, "n": 5}).json() == {
            "consumed": 5
        }
        assert http.get("/v1/bot/detail", headers=AUTH).status_code == 429
        http.post("/__simulator__/refill", json={"key": KEY})
        assert http.get("/v1/bot/detail", headers=AUTH).status_code == 200
        http.post("/__simulator__/faults", json={"error_rate": 1.0})
        assert sim.faults.error_rate == 1.0
        bad = http.post("/__simulator__/faults", json={"nonsense": 1})
        assert bad.status_code == 400
        http.post("/__simulator__/reset")

    assert sim.log == []


# --- package surface ------------------------------------------------------------------------


def test_public_names() -> None:
    """__all__ is sorted, complete, and names show the public module."""
    assert testing.__all__ == sorted(testing.__all__)
    for name in testing.__all__:
        assert hasattr(testing, name)
    assert Simulator.__module__ == "altabots_async.testing"
    assert repr(Plan.FREE).startswith("Plan(")


def test_cli_serves_in_its_own_process() -> None:
    """python -m altabots_async.testing prints its URL, enforces the plan and stops on SIGINT."""
    package_root = str(Path(testing.__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable, "-m", "altabots_async.testing", "--port", "0", "--key", KEY,
        "--plan", "enterprise:1:3600", "--window-anchor", "first_request",
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)  # noqa: S603
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("ALTABOTS_SIMULATOR_URL=http://127.0.0.1:")
        base_url = line.partition("=")[2]
        with httpx.Client(base_url=base_url, timeout=10) as http:
            ok = http.get("/v1/bot/detail", headers=AUTH)
            limited = http.get("/v1/bot/detail", headers=AUTH)
            stats = http.get("/__simulator__/stats").json()
    finally:
        proc.send_signal(signal.SIGINT)
        returncode = proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]

    assert ok.status_code == 200
    assert ok.headers["x-ratelimit-limit"] == "1"
    assert limited.status_code == 429
    assert stats["over_quota"] == 1
    assert returncode == 0


# --- the in-process transport -----------------------------------------------------------------


@pytest.mark.anyio
# httpx's own stream wrappers are async generators that trio reports when a read stops early.
@pytest.mark.filterwarnings("ignore:Async generator 'httpx.:ResourceWarning")
async def test_transport_streams_endless_responses(sim: Simulator) -> None:
    """sim.transport() streams chunks as sent, so an endless SSE stream can be read and closed."""
    produced: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        n = 0
        while True:
            produced.append(n)
            yield f"data: {n}\n\n".encode()
            n += 1

    @sim.route("GET", "/v1/endless")
    async def stream(ctx: Context) -> Response:
        return Response.stream(endless())

    with anyio.fail_after(5):
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
            async with http.stream("GET", "/v1/endless", headers=AUTH) as response:
                assert response.headers["x-ratelimit-remaining"] == "4"
                chunks = []
                async with contextlib.aclosing(response.aiter_raw()) as raw:
                    async for chunk in raw:
                        chunks.append(chunk)
                        if len(chunks) == 3:
                            break
            assert (await get(http)).status_code == 200

    assert chunks == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]
    assert len(produced) < 40  # the stream stopped once the client went away


@pytest.mark.anyio
async def test_transport_cancelled_request_still_reaches_server(clock: FakeClock) -> None:
    """A caller cancelled while its request is in transit does not un-send it: it is counted."""
    sim = Simulator(
        {KEY: Plan.enterprise(5, 2.0)},
        clock=clock,
        sleep=clock.sleep,
        faults=Faults(latency=1.0),
        seed=1,
    )
    with anyio.fail_after(5):
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
            with anyio.CancelScope() as scope:

                async def cancel_when_blocked() -> None:
                    await anyio.wait_all_tasks_blocked()
                    scope.cancel()

                async with anyio.create_task_group() as tg:
                    tg.start_soon(cancel_when_blocked)
                    await get(http)
            assert scope.cancelled_caught
            assert sim.log == []  # still in transit
            clock.advance(1.0)  # it arrives and is counted ...
            await anyio.wait_all_tasks_blocked()
            clock.advance(1.0)  # ... and its answer leaves, to nobody
            await anyio.wait_all_tasks_blocked()

    assert [(r.counted, r.status) for r in sim.log] == [(True, 200)]


@pytest.mark.anyio
async def test_transport_surfaces_handler_bugs(sim: Simulator) -> None:
    """An exception in a handler reaches the caller as itself, not as a task-group error."""

    @sim.route("GET", "/v1/bug")
    async def bug(ctx: Context) -> Response:
        raise ZeroDivisionError("handler bug")

    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        with pytest.raises(ZeroDivisionError):
            await get(http, "/v1/bug")
        assert (await get(http)).status_code == 200


@pytest.mark.anyio
async def test_transport_without_context_manager(sim: Simulator) -> None:
    """Used without async with, the transport still works (buffered, like ASGITransport)."""
    transport = sim.transport()
    request = httpx.Request("GET", "http://sim/v1/bot/detail", headers=AUTH)

    response = await transport.handle_async_request(request)
    await response.aread()

    assert response.status_code == 200
    assert response.json()["bot_type"] == "QuestionAnswer"


@pytest.mark.anyio
async def test_retry_after_as_http_date(
    http: httpx.AsyncClient, sim: Simulator, clock: FakeClock
) -> None:
    """retry_after_form="http_date" sends the window end as an IMF-fixdate in server time."""
    sim.faults.retry_after_form = "http_date"
    sim.faults.clock_offset = 30.0
    sim.consume(KEY, 5)
    clock.advance(0.5)

    response = await get(http)

    assert response.status_code == 429
    assert parsedate_to_datetime(response.headers["retry-after"]).timestamp() == START + 32


@pytest.mark.anyio
async def test_compression_bomb(http: httpx.AsyncClient, sim: Simulator) -> None:
    """compression_bomb=1 sends a small gzip body that inflates to compression_bomb_size."""
    sim.faults.compression_bomb = 1.0
    sim.faults.compression_bomb_size = 3 * 1024 * 1024 + 5

    response = await get(http)

    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < 64 * 1024
    assert response.content == bytes(3 * 1024 * 1024 + 5)
    assert sim.log[0].fault == "compression_bomb"
    assert sim.log[0].counted


@pytest.mark.anyio
async def test_multi_window_policy(clock: FakeClock) -> None:
    """With two plans a request must fit both; headers show the binding window."""
    sim = Simulator({KEY: [Plan.enterprise(3, 1.0), Plan.enterprise(5, 10.0)]}, clock=clock)
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        first_second = [await get(http) for _ in range(4)]
        clock.advance(1.0)
        second_second = [await get(http) for _ in range(3)]

    assert [r.status_code for r in first_second] == [200, 200, 200, 429]
    assert [rate_headers(r)["x-ratelimit-remaining"] for r in first_second] == ["2", "1", "0", "0"]
    assert first_second[0].headers["x-ratelimit-reset"] == str(int(START + 1))
    assert first_second[3].headers["retry-after"] == "1"
    assert [r.status_code for r in second_second] == [200, 200, 429]
    assert rate_headers(second_second[1]) == {
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int(START + 10)),
    }
    assert second_second[2].headers["retry-after"] == "9"
    assert sim.counted_per_window(KEY) == {START: 3, START + 1: 2}
    assert sim.counted_per_window(KEY, policy=1) == {START: 5}
    assert sim.policies(KEY)[1].limit == 5


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("signal", "status", "code"),
    [("http429", 429, "rate_limit_exceeded"), ("body200", 200, 40008), ("body400", 400, 40008),
     ("body429", 429, 40008)],
)  # fmt: skip
async def test_quota_signal_styles(
    http: httpx.AsyncClient, sim: Simulator, signal: str, status: int, code: object
) -> None:
    """quota_signal picks how over-quota is refused: HTTP 429, or body code 40008 (the only
    rate-limit error the vendor documents) with HTTP 200, 400 or 429; never counted."""
    sim.faults.quota_signal = signal  # type: ignore[assignment]
    sim.consume(KEY, 5)

    response = await get(http)

    body = response.json()
    assert response.status_code == status
    assert (body["error"]["code"] if "error" in body else body["code"]) == code
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert "retry-after" in response.headers
    assert sim.log[-1].over_quota and not sim.log[-1].counted
    assert sim.log[-1].status == status


@pytest.mark.anyio
async def test_bare_quota_rejection(http: httpx.AsyncClient, sim: Simulator) -> None:
    """rejection_headers=False: the rejection carries no rate-limit header, no Retry-After."""
    sim.faults.quota_signal = "body200"
    sim.faults.rejection_headers = False
    sim.consume(KEY, 5)

    response = await get(http)

    assert response.status_code == 200
    assert response.json()["code"] == 40008
    assert not any(name.startswith("x-ratelimit") for name in response.headers)
    assert "retry-after" not in response.headers


def test_quota_signal_is_validated() -> None:
    """An unknown quota_signal is refused."""
    with pytest.raises(ValueError, match="quota_signal"):
        Faults(quota_signal="smoke")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_moving_window_counts_the_last_period(clock: FakeClock) -> None:
    """window_kind="moving": at most `limit` in any period; capacity comes back one request at
    a time as the oldest leaves the log, and Reset names that moment."""
    sim = Simulator({KEY: Plan.enterprise(3, 2.0)}, clock=clock, window_kind="moving")
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        first = await get(http)
        clock.advance(0.5)
        burst = [await get(http) for _ in range(3)]
        clock.advance(1.5)  # the first request leaves the log
        later = [await get(http) for _ in range(2)]

    assert [r.status_code for r in burst] == [200, 200, 429]
    assert first.headers["x-ratelimit-reset"] == str(int(START + 2))
    assert burst[2].headers["x-ratelimit-reset"] == str(int(START + 2))
    assert [r.status_code for r in later] == [200, 429]
    assert sim.over_quota_count(KEY) == 2


@pytest.mark.anyio
async def test_sliding_counter_weights_the_previous_window(clock: FakeClock) -> None:
    """window_kind="sliding": the previous window's count weighs by its overlap, so a full
    window leaves room only as it slides out."""
    sim = Simulator({KEY: Plan.enterprise(4, 2.0)}, clock=clock, window_kind="sliding")
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as http:
        full = [await get(http) for _ in range(5)]
        clock.advance(2.5)  # a quarter into the next window: 4 * 0.75 = 3 still weigh
        then = [await get(http) for _ in range(2)]

    assert [r.status_code for r in full] == [200, 200, 200, 200, 429]
    assert [r.status_code for r in then] == [200, 429]
    assert then[0].headers["x-ratelimit-remaining"] == "0"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("form", "expected"),
    [("delta", "2"), ("delta_floor", "1"), ("delta_float", "1.250"), ("none", None)],
)
async def test_more_reset_forms(
    http: httpx.AsyncClient, sim: Simulator, clock: FakeClock, form: str, expected: str | None
) -> None:
    """Reset as a ceiled, floored or fractional delta, or not at all."""
    sim.faults.reset_form = form  # type: ignore[assignment]
    clock.advance(0.75)

    response = await get(http)

    assert response.headers.get("x-ratelimit-reset") == expected


@pytest.mark.anyio
async def test_reset_jump_and_rolling(
    http: httpx.AsyncClient, sim: Simulator, clock: FakeClock
) -> None:
    """reset_jump names the next window's end; reset_rolling says now + period; neither
    changes what the server enforces."""
    clock.advance(0.5)
    sim.faults.reset_jump = 1.0
    jumped = await get(http)
    sim.faults.reset_jump = 0.0
    sim.faults.reset_rolling = True
    sim.faults.reset_form = "epoch_float"
    rolling = await get(http)

    assert jumped.headers["x-ratelimit-reset"] == str(int(START + 4))
    assert rolling.headers["x-ratelimit-reset"] == f"{START + 2.5:.3f}"
    assert sim.counted_per_window(KEY) == {START: 2}


@pytest.mark.anyio
async def test_header_limit_lies(http: httpx.AsyncClient, sim: Simulator) -> None:
    """header_limit: the headers claim a larger limit than the one the server enforces."""
    sim.faults.header_limit = 10

    responses = [await get(http) for _ in range(6)]

    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert [r.headers["x-ratelimit-limit"] for r in responses] == ["10"] * 6
    assert responses[4].headers["x-ratelimit-remaining"] == "5"
