"""Shared helpers: the simulator as a separate process, timing, tables, JSON and charts."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
BENCH_KEY = "sk-bench-0123456789"
AUTH = {"Authorization": f"Bearer {BENCH_KEY}"}
ENDPOINT = "/v1/bot/detail"


def env_with_repo() -> dict[str, str]:
    """The environment for a child process that must import this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


@contextlib.contextmanager
def simulator_process(plan: str = "enterprise:1000000000:3600", *extra: str) -> Iterator[str]:
    """``python -m altabots_async.testing`` in its own process (uvicorn + httptools); its URL."""
    cmd = [
        sys.executable,
        "-m",
        "altabots_async.testing",
        "--port",
        "0",
        "--key",
        BENCH_KEY,
        "--plan",
        plan,
        *extra,
    ]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        cmd, stdout=subprocess.PIPE, env=env_with_repo(), text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("ALTABOTS_SIMULATOR_URL="):
            raise RuntimeError(f"simulator did not start: {line!r}")
        yield line.split("=", 1)[1]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    """The median; nan for no values."""
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    versions = {}
    for name in ("httpx", "aiohttp", "httpx_aiohttp", "aiolimiter", "pyrate_limiter", "limits"):
        with contextlib.suppress(Exception):
            from importlib import metadata

            versions[name] = metadata.version(name.replace("_", "-"))
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "versions": versions,
    }


def fmt(value: Any, digits: int = 1) -> str:
    """A table cell."""
    if isinstance(value, float):
        if value != value:  # nan
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write(name: str, data: dict[str, Any], markdown: str) -> None:
    """``results/<name>.json`` and ``results/<name>.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "machine": machine(), **data}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart_path(name: str) -> Path:
    """``results/<name>.png``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / f"{name}.png"
