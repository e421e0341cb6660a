"""Every file under ``examples/`` runs against the simulator, so none of them can rot.

The web apps are driven in-process (FastAPI through ``httpx.ASGITransport`` inside its
lifespan, aiohttp through its test server); the scripts run as programs with
``ALTABOTS_API_KEY`` / ``ALTABOTS_BASE_URL`` pointing at a simulator on loopback. The Redis
worker pool needs a Redis server: skipped when none answers, unless ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from altabots_async.testing import Plan, Simulator, serve, serve_in_thread

pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KEY = "sk-example-canary-5d1e"


@pytest.fixture
def anyio_backend() -> str:
    """The web frameworks here run on asyncio."""
    return "asyncio"


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (examples are files, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``examples/<name>.py`` as a program; return its stdout (it must exit 0)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ALTABOTS_")}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    full_env.update(env or {})
    result = subprocess.run(  # noqa: S603  (our own example files, fixed arguments)
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert KEY not in result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def served() -> Iterator[tuple[Simulator, dict[str, str]]]:
    """A simulator on loopback (40 calls per second) and the environment pointing at it."""
    sim = Simulator({KEY: Plan.enterprise(40, 1.0)})
    with serve_in_thread(sim) as url:
        yield sim, {"ALTABOTS_API_KEY": KEY, "ALTABOTS_BASE_URL": url}


# --------------------------------------------------------------------------- web apps


@pytest.mark.anyio
async def test_fastapi_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lifespan-managed client, per-request priority, QuotaExhaustedError -> 503."""
    pytest.importorskip("fastapi")
    module = load("fastapi_app")
    sim = Simulator({KEY: Plan.enterprise(3, 3600.0)})
    async with serve(sim) as url:
        monkeypatch.setenv("ALTABOTS_API_KEY", KEY)
        monkeypatch.setenv("ALTABOTS_BASE_URL", url)
        app = module.app
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://app"
            ) as http,
        ):
            created = await http.post("/conversations", json={"user_id": "u1"})
            conv_id = created.json()["conversation_id"]
            answer = await http.post(f"/conversations/{conv_id}/messages", json={"text": "hi"})
            report = await http.post("/reports/agent")
            refused = await http.post(f"/conversations/{conv_id}/messages", json={"text": "more"})
            quota = await http.get("/healthz/quota")

    assert answer.status_code == 200
    assert answer.json()["answer"] == "Echo: hi"
    assert report.json()["name"] == "Simulated Support Agent"
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 60
    assert quota.json()["limit"] == 3
    assert len(sim.requests()) == 3  # the refused call was never sent
    assert sim.over_quota_count() == 0


@pytest.mark.anyio
async def test_aiohttp_app(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("aiohttp")
    from aiohttp.test_utils import TestClient, TestServer

    module = load("aiohttp_app")
    sim = Simulator({KEY: Plan.enterprise(2, 3600.0)})
    async with serve(sim) as url:
        monkeypatch.setenv("ALTABOTS_API_KEY", KEY)
        monkeypatch.setenv("ALTABOTS_BASE_URL", url)
        async with TestClient(TestServer(module.make_app())) as http:
            answered = await http.post("/ask", json={"user_id": "u1", "text": "hello"})
            answer = await answered.json()
            refused = await http.post("/ask", json={"user_id": "u2", "text": "again"})
            retry_after = refused.headers["Retry-After"]
            quota = await (await http.get("/quota")).json()

    assert answered.status == 200
    assert answer["answer"] == "Echo: hello"
    assert refused.status == 503
    assert int(retry_after) > 60
    assert quota["remaining"] == 0
    assert sim.over_quota_count() == 0


# --------------------------------------------------------------------------- scripts


def test_batch_job(served: tuple[Simulator, dict[str, str]], tmp_path: Path) -> None:
    sim, env = served
    questions = tmp_path / "questions.txt"
    questions.write_text("".join(f"question {n}\n" for n in range(60)), encoding="utf-8")
    answers = tmp_path / "answers.jsonl"

    out = run_example("batch_job", str(questions), str(answers), env=env)

    assert "answered 60 questions, 0 failed" in out
    assert answers.read_text(encoding="utf-8").count('"answer": "Echo: question') == 60
    assert len(sim.requests()) == 120
    assert sim.over_quota_count() == 0  # 120 calls through a 40-per-second quota


def test_metrics_hook(served: tuple[Simulator, dict[str, str]]) -> None:
    _, env = served

    out = run_example("metrics_hook", env=env)

    assert 'altabots_requests_total{method="POST"} 6' in out
    assert 'altabots_responses_total{status="200"} 7' in out
    assert "altabots_request_duration_seconds_count 7" in out
    assert "# 7 spans" in out


def test_testing_with_simulator() -> None:
    out = run_example("testing_with_simulator")

    assert out.count("ok  test_") == 3


def _redis_url() -> str | None:
    """A Redis that answers PING, or None."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis
    except ImportError:
        return None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return None
    return url


def test_worker_pool_redis(served: tuple[Simulator, dict[str, str]]) -> None:
    """Three processes, 90 calls, one 40-per-second quota shared through Redis."""
    url = _redis_url()
    if url is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no Redis answers at REDIS_URL")
        pytest.skip("no Redis server (set REDIS_URL)")
    sim, env = served

    out = run_example(
        "worker_pool_redis",
        "--workers",
        "3",
        "--calls",
        "30",
        "--redis-url",
        url,
        "--prefix",
        f"example-{uuid.uuid4().hex[:8]}",
        env=env,
    )

    assert "3 workers: 90 calls answered, 0 failed" in out
    assert len(sim.requests()) == 90
    assert sim.over_quota_count() == 0
    assert all(n <= 40 for n in sim.counted_per_window().values())
