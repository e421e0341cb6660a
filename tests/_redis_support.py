"""Helpers shared by the Redis tests: reachability, fresh prefixes, key dumps, processes."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "_redis_worker.py"


def require_redis(url: str = REDIS_URL) -> None:
    """Skip (fail when ``CI=true``) unless a Redis server answers at ``url``."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        reason = f"no Redis server at {url} ({type(exc).__name__}); set REDIS_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def new_prefix() -> str:
    """A fresh random key prefix for one test."""
    return f"altabots-test-{secrets.token_hex(6)}"


def url_with_db(url: str, db: int) -> str:
    """``url`` pointing at database ``db``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under ``prefix``."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def dump_prefix(url: str, prefix: str) -> dict[bytes, tuple[Any, int]]:
    """Every key under ``prefix`` with its value (type-aware) and its PTTL."""
    import redis

    client = redis.Redis.from_url(url)
    out: dict[bytes, tuple[Any, int]] = {}
    try:
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            kind = client.type(key)
            if kind == b"hash":
                value: Any = client.hgetall(key)
            elif kind == b"zset":
                value = client.zrange(key, 0, -1, withscores=True)
            elif kind == b"set":
                value = client.smembers(key)
            elif kind == b"list":
                value = client.lrange(key, 0, -1)
            else:
                value = client.get(key)
            out[key] = (value, client.pttl(key))
    finally:
        client.close()
    return out


def start_simulator(key: str, plan: str, latency: str | None = None) -> tuple[Any, str]:
    """``python -m altabots_async.testing`` on a free loopback port; returns (process, url)."""
    cmd = [sys.executable, "-m", "altabots_async.testing", "--port", "0", "--key", key]
    cmd += ["--plan", plan]
    if latency:
        cmd += ["--latency", latency]
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the CLI prints the URL once it listens (bounded by exit)
    if not line.startswith("ALTABOTS_SIMULATOR_URL="):
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r} {proc.stderr.read()!r}")
    return proc, line.strip().split("=", 1)[1]


def stop(proc: Any) -> None:
    """Terminate a child process (kill after 5 s) and close its pipes."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def sim_log(url: str) -> list[dict[str, Any]]:
    """The simulator's request log through its admin API."""
    with urllib.request.urlopen(f"{url}/__simulator__/log", timeout=10) as resp:  # noqa: S310
        data: list[dict[str, Any]] = json.loads(resp.read())
    return data


class Workers:
    """Worker processes (``tests/_redis_worker.py``) started together."""

    def __init__(self, tmp: Path, count: int, args: list[str]) -> None:
        self.outs = [tmp / f"worker{i}.json" for i in range(count)]
        self.procs = [
            subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
                [sys.executable, str(WORKER), *args, "--out", str(out)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for out in self.outs
        ]

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until every worker printed READY (bounded)."""
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "READY" or time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready: {line!r} {proc.stderr.read()!r}")

    def go(self, start: float, until: float) -> None:
        """Tell every worker when to start and stop."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{start} {until}\n")
            proc.stdin.flush()

    def reports(self, timeout: float = 60.0, skip: frozenset[int] = frozenset()) -> list[Any]:
        """Wait for the workers (except ``skip``) and read their reports."""
        out = []
        for i, proc in enumerate(self.procs):
            if i in skip:
                continue
            _, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, err
            out.append(json.loads(self.outs[i].read_text()))
        return out

    def close(self) -> None:
        """Kill whatever is left; close every pipe."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            stop(proc)


def iter_substrings(text: str, size: int = 8) -> Iterator[str]:
    """Every substring of ``text`` of length ``size``."""
    for i in range(len(text) - size + 1):
        yield text[i : i + size]


@pytest.fixture
def redis_url() -> str:
    """The Redis under test (REDIS_URL); skipped when unreachable, except in CI."""
    require_redis()
    return REDIS_URL


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A fresh key prefix, deleted after the test."""
    value = new_prefix()
    yield value
    delete_prefix(redis_url, value)
