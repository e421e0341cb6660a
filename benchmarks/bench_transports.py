"""Transports: raw httpx, raw aiohttp, this client on each, against a served simulator.

The simulator runs in its own process (uvicorn + httptools) with a quota nobody exhausts.
Every contender makes the same call (``GET /v1/bot/detail`` with a Bearer key, body read and
decoded as JSON; the client also structures it into its ``Agent`` model) at concurrency 1,
50 and 200. Reported: requests per second, p50/p99 latency, and client CPU microseconds per
request (``time.process_time`` of the client process over the run; the server's CPU is not
counted). Each cell is the median of ``REPEATS`` runs, the contenders interleaved.

Two extra rows rerun raw httpx in child processes, with and without ``sniffio`` installed
(httpcore then retries the failing import on every lock it creates): why this client
depends on it.

``python -m benchmarks.bench_transports --compare OTHER_CHECKOUT`` measures the layer table
(concurrency 50, aiohttp) of this checkout and of another one (e.g. ``git archive <commit>``
unpacked) in the same run: child processes, the two checkouts interleaved, medians. The
ladder code is this checkout's; only the ``altabots_async`` package differs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from . import _common as c

NAME = "transports"
CONCURRENCY = (1, 50, 200)
REPEATS = 3
WARMUP = 50
TARGETS = {"client/aiohttp": ("raw aiohttp", 0.85), "client/httpx": ("raw httpx", 0.95)}
# Not targets: what bounds the gap (the httpx interface over aiohttp, without our client).
BOUNDS = {"client/aiohttp": "httpx over aiohttp", "httpx over aiohttp": "raw aiohttp"}

Call = Callable[[], Awaitable[Any]]


def requests_for(concurrency: int, quick: bool) -> int:
    """How many calls one measurement makes."""
    if quick:
        return 300 if concurrency == 1 else 600
    return 800 if concurrency == 1 else 2000


@contextlib.asynccontextmanager
async def contender(name: str, url: str) -> AsyncIterator[Call]:
    """An async callable making one call the way ``name`` does."""
    if name == "raw httpx":
        import httpx

        async with httpx.AsyncClient(base_url=url, headers=c.AUTH) as http:

            async def call_httpx() -> Any:
                response = await http.get(c.ENDPOINT)
                response.raise_for_status()
                return response.json()

            yield call_httpx
    elif name == "httpx over aiohttp":
        import httpx
        from httpx_aiohttp import AiohttpTransport

        bridge = AiohttpTransport()
        async with httpx.AsyncClient(base_url=url, headers=c.AUTH, transport=bridge) as http:

            async def call_bridge() -> Any:
                response = await http.get(c.ENDPOINT)
                response.raise_for_status()
                return response.json()

            yield call_bridge
    elif name == "raw aiohttp":
        import aiohttp

        async with aiohttp.ClientSession(base_url=url, headers=c.AUTH) as session:

            async def call_aiohttp() -> Any:
                async with session.get(c.ENDPOINT) as response:
                    response.raise_for_status()
                    return json.loads(await response.read())

            yield call_aiohttp
    elif name.startswith("client/"):
        from altabots_async import AsyncAltaBots

        stack: Any = name.split("/", 1)[1]
        async with AsyncAltaBots(c.BENCH_KEY, base_url=url, transport=stack) as client:
            yield client.agent.retrieve
    else:
        raise ValueError(name)


async def measure(call: Call, concurrency: int, n: int) -> dict[str, float]:
    """Make ``n`` calls with ``concurrency`` workers; throughput, latency and client CPU."""
    for _ in range(WARMUP):
        await call()
    latencies: list[float] = []
    left = n

    async def worker() -> None:
        nonlocal left
        perf = time.perf_counter
        while left > 0:
            left -= 1
            start = perf()
            await call()
            latencies.append(perf() - start)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "rps": n / wall,
        "p50_ms": c.percentile(latencies, 0.50) * 1e3,
        "p99_ms": c.percentile(latencies, 0.99) * 1e3,
        "cpu_us": cpu / n * 1e6,
    }


async def run_one(name: str, url: str, concurrency: int, n: int) -> dict[str, float]:
    """One measurement of one contender (a fresh client)."""
    async with contender(name, url) as call:
        return await measure(call, concurrency, n)


LADDER = (
    "raw aiohttp",
    "+ httpx interface (AiohttpAdapter)",
    "+ scheduler (RateLimitTransport)",
    "+ client (agent.retrieve: build, read, decode, Agent model)",
)


async def run_ladder(url: str, concurrency: int, n: int) -> dict[str, dict[str, float]]:
    """This client on aiohttp taken apart: each layer added on top of the one before."""
    import aiohttp
    import httpx

    from altabots_async import AsyncAltaBots, RateLimiter
    from altabots_async._aiohttp import aiohttp_transport
    from altabots_async._constants import DEFAULT_MAX_IN_FLIGHT
    from altabots_async._options import EXTENSION, RequestOptions
    from altabots_async._transport import RateLimitTransport

    out: dict[str, dict[str, float]] = {}
    async with aiohttp.ClientSession(base_url=url, headers=c.AUTH) as session:

        async def bare() -> Any:
            async with session.get(c.ENDPOINT) as response:
                return json.loads(await response.read())

        out[LADDER[0]] = await measure(bare, concurrency, n)
    target = httpx.URL(url + c.ENDPOINT)
    headers = httpx.Headers({**c.AUTH, "accept": "application/json"})
    options = RequestOptions(bucket="bench")
    inner = aiohttp_transport()
    limited = RateLimitTransport(inner, RateLimiter(max_in_flight=DEFAULT_MAX_IN_FLIGHT))
    for name, transport in ((LADDER[1], inner), (LADDER[2], limited)):

        async def through(transport: httpx.AsyncBaseTransport = transport) -> Any:
            request = httpx.Request("GET", target, headers=headers)
            request.extensions[EXTENSION] = options
            response = await transport.handle_async_request(request)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
            return json.loads(body)

        out[name] = await measure(through, concurrency, n)
    await inner.aclose()
    async with AsyncAltaBots(c.BENCH_KEY, base_url=url, transport="aiohttp") as client:
        out[LADDER[3]] = await measure(client.agent.retrieve, concurrency, n)
    return out


def _median_cell(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: c.median([run[key] for run in runs]) for key in runs[0]}


def _child(name: str, url: str, concurrency: int, n: int, block_sniffio: bool) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter, optionally as if sniffio were not installed.

    "Not installed" is made faithfully: ``site-packages`` is replaced on ``sys.path`` by a
    directory of links to everything in it but sniffio, so each ``import sniffio`` attempt
    walks the path finders and fails as it would in an environment without it.
    """
    code = (
        "import os, sys, json, tempfile\n"
        f"if {block_sniffio}:\n"
        "    site = next(p for p in sys.path if p.endswith('site-packages'))\n"
        "    shadow = tempfile.mkdtemp(prefix='no-sniffio-')\n"
        "    import atexit, shutil\n"
        "    atexit.register(shutil.rmtree, shadow, True)\n"
        "    for entry in os.listdir(site):\n"
        "        if not entry.startswith('sniffio'):\n"
        "            os.symlink(os.path.join(site, entry), os.path.join(shadow, entry))\n"
        "    sys.path[sys.path.index(site)] = shadow\n"
        "import asyncio\n"
        "from benchmarks.bench_transports import run_one\n"
        f"print(json.dumps(asyncio.run(run_one({name!r}, {url!r}, {concurrency}, {n}))))\n"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=c.env_with_repo(),
        check=False,
        timeout=300,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool = False) -> dict[str, Any]:
    """Measure, write results/transports.{json,md,png}; return the data."""
    names = ["raw httpx", "raw aiohttp", "httpx over aiohttp", "client/httpx", "client/aiohttp"]
    cells: dict[str, dict[int, dict[str, float]]] = {name: {} for name in names}
    sniffio_rows: dict[str, dict[int, dict[str, Any]]] = {}
    repeats = 1 if quick else REPEATS
    with c.simulator_process() as url:
        for concurrency in CONCURRENCY:
            n = requests_for(concurrency, quick)
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
            for _ in range(repeats):
                for name in names:
                    runs[name].append(asyncio.run(run_one(name, url, concurrency, n)))
            for name in names:
                cells[name][concurrency] = _median_cell(runs[name])
                print(f"  {NAME}: {name} c={concurrency}: {cells[name][concurrency]}")
        ladder_runs = [
            asyncio.run(run_ladder(url, 50, requests_for(50, quick))) for _ in range(repeats)
        ]
        ladder = {name: _median_cell([run[name] for run in ladder_runs]) for name in LADDER}
        print(f"  {NAME}: ladder c=50: { {k: round(v['cpu_us']) for k, v in ladder.items()} }")
        # This client imports sniffio (a dependency), so only raw httpx can run without it.
        labels = {False: "raw httpx, sniffio installed", True: "raw httpx, sniffio missing"}
        for concurrency in CONCURRENCY:
            n = requests_for(concurrency, quick)
            child_runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for _ in range(repeats):
                for blocked in (False, True):
                    child_runs[blocked].append(_child("raw httpx", url, concurrency, n, blocked))
            for blocked, label in labels.items():
                good = [r for r in child_runs[blocked] if "error" not in r]
                cell = _median_cell(good) if good else child_runs[blocked][0]
                sniffio_rows.setdefault(label, {})[concurrency] = cell
        print(f"  {NAME}: sniffio: {sniffio_rows}")
    data = {
        "endpoint": c.ENDPOINT,
        "repeats": repeats,
        "requests": {k: requests_for(k, quick) for k in CONCURRENCY},
        "cells": cells,
        "sniffio": sniffio_rows,
        "ladder_c50": ladder,
        "ratios": _ratios(cells),
    }
    c.write(NAME, data, _markdown(data))
    _chart(cells)
    return data


def _ratios(cells: dict[str, dict[int, dict[str, float]]]) -> dict[str, dict[int, float]]:
    pairs = [(name, base) for name, (base, _) in TARGETS.items()] + list(BOUNDS.items())
    return {
        f"{name} / {base}": {k: cells[name][k]["rps"] / cells[base][k]["rps"] for k in CONCURRENCY}
        for name, base in pairs
    }


def _markdown(data: dict[str, Any]) -> str:
    cells = data["cells"]
    rows = []
    for name, per in cells.items():
        for k in CONCURRENCY:
            cell = per[k]
            rows.append([name, k, cell["rps"], cell["p50_ms"], cell["p99_ms"], cell["cpu_us"]])
    ratio_rows = []
    for name, (base, target) in TARGETS.items():
        values = [data["ratios"][f"{name} / {base}"][k] for k in CONCURRENCY]
        ok = "met" if min(values) >= target else "missed"
        ratio_rows.append([f"{name} / {base}", *[f"{v:.2f}" for v in values], f"≥ {target}", ok])
    for name, base in BOUNDS.items():
        values = [data["ratios"][f"{name} / {base}"][k] for k in CONCURRENCY]
        ratio_rows.append([f"{name} / {base}", *[f"{v:.2f}" for v in values], "(bound)", ""])
    sniff_rows = []
    for label, per in data["sniffio"].items():
        for k in CONCURRENCY:
            cell = per[k]
            if "error" in cell:
                sniff_rows.append([label, k, cell["error"], "", "", ""])
            else:
                sniff_rows.append(
                    [label, k, cell["rps"], cell["p50_ms"], cell["p99_ms"], cell["cpu_us"]]
                )
    head = ["contender", "concurrency", "req/s", "p50 ms", "p99 ms", "client CPU µs/req"]
    return "\n\n".join(
        [
            "## Transports: raw httpx, raw aiohttp, this client on each",
            f"Server: the simulator in its own process (uvicorn + httptools), `GET {c.ENDPOINT}`,"
            f" a quota nobody exhausts. Calls per cell: {data['requests']}; median of"
            f" {data['repeats']} interleaved runs. Reproduce: `python -m benchmarks transports`.",
            table_or(head, rows),
            "Throughput ratios (targets from issue 8):",
            c.table(["ratio", *[f"c={k}" for k in CONCURRENCY], "target", ""], ratio_rows),
            "Where this client's CPU goes on aiohttp (concurrency 50, median of the runs):"
            " each row adds one layer to the one above.",
            _ladder_table(data["ladder_c50"]),
            "Raw httpx with and without `sniffio` installed (fresh child processes, median of"
            " the runs; 'missing' hides it from the import system as an uninstall would):",
            table_or(head, sniff_rows),
            "![transports](transports.png)",
        ]
    )


def _ladder_table(ladder: dict[str, dict[str, float]]) -> str:
    rows, previous = [], None
    for name, cell in ladder.items():
        added = "" if previous is None else f"+{cell['cpu_us'] - previous:.0f}"
        rows.append([name, cell["cpu_us"], added, cell["rps"]])
        previous = cell["cpu_us"]
    return c.table(["layer", "client CPU µs/req", "added", "req/s"], rows)


def table_or(head: list[str], rows: list[list[Any]]) -> str:
    """A table, or a note when there are no rows."""
    return c.table(head, rows) if rows else "(no data)"


def _chart(cells: dict[str, dict[int, dict[str, float]]]) -> None:
    plt = c.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.16
    for i, (name, per) in enumerate(cells.items()):
        xs = [j + (i - (len(cells) - 1) / 2) * width for j in range(len(CONCURRENCY))]
        axes[0].bar(xs, [per[k]["rps"] for k in CONCURRENCY], width, label=name)
        axes[1].bar(xs, [per[k]["cpu_us"] for k in CONCURRENCY], width, label=name)
    for ax, title in zip(axes, ("requests per second", "client CPU µs per request"), strict=True):
        ax.set_xticks(range(len(CONCURRENCY)), [f"c={k}" for k in CONCURRENCY])
        ax.set_title(title)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(c.chart_path(NAME), dpi=100)
    plt.close(fig)


def _ladder_child(package_root: Path, url: str, n: int) -> dict[str, float]:
    """The ladder (c=50) in a fresh interpreter importing ``altabots_async`` from
    ``package_root`` (the benchmark code is this checkout's)."""
    code = (
        "import asyncio, json\n"
        "import altabots_async\n"
        "from benchmarks.bench_transports import run_ladder\n"
        f"out = asyncio.run(run_ladder({url!r}, 50, {n}))\n"
        "print(json.dumps({'package': altabots_async.__file__,"
        " 'cpu': {k: v['cpu_us'] for k, v in out.items()}}))\n"
    )
    with tempfile.TemporaryDirectory(prefix="ladder-") as cwd:
        os.symlink(package_root / "altabots_async", Path(cwd) / "altabots_async")
        env = dict(os.environ, PYTHONPATH=str(c.ROOT))
        out = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
            check=True, timeout=600,
        )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["package"].startswith(cwd), result["package"]
    cpu: dict[str, float] = result["cpu"]
    return cpu


def compare(other: Path, repeats: int, n: int) -> dict[str, Any]:
    """The layer table of ``other`` and of this checkout, same run, interleaved."""
    roots = {"before": other.resolve(), "after": c.ROOT}
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with c.simulator_process() as url:
        for _ in range(repeats):
            for name, root in roots.items():
                runs[name].append(_ladder_child(root, url, n))
                print(f"  {name}: { {k[:12]: round(v) for k, v in runs[name][-1].items()} }")
    # each run's own differences, then their median (the machine's load moves whole runs)
    table: dict[str, dict[str, float]] = {}
    for name, rs in runs.items():
        cells = {k: c.median([r[k] for r in rs]) for k in LADDER}
        cells["scheduler layer"] = c.median([r[LADDER[2]] - r[LADDER[1]] for r in rs])
        cells["client layer"] = c.median([r[LADDER[3]] - r[LADDER[2]] for r in rs])
        cells["ours (scheduler + client)"] = c.median([r[LADDER[3]] - r[LADDER[1]] for r in rs])
        table[name] = cells
    return {"repeats": repeats, "calls": n, "table": table, "runs": runs}


def _compare_markdown(data: dict[str, Any]) -> str:
    before, after = data["table"]["before"], data["table"]["after"]
    names = [*LADDER, "scheduler layer", "client layer", "ours (scheduler + client)"]
    rows = [[name, before[name], after[name], after[name] / before[name]] for name in names]
    head = ["layer (c=50, aiohttp)", "before µs", "after µs", "after / before"]
    return (
        f"Client CPU µs per call, median of {data['repeats']} interleaved runs of"
        f" {data['calls']} calls each (layer rows: the median of each run's own"
        " difference):\n\n" + c.table(head, rows)
    )


def main(argv: list[str] | None = None) -> int:
    """``--compare OTHER_CHECKOUT``: the layer table before and after, same run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_transports")
    parser.add_argument("--compare", type=Path, required=True, help="the other checkout")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    data = compare(args.compare, args.repeats, args.calls)
    markdown = _compare_markdown(data)
    print(markdown)
    c.write("transports_ladder_compare", data, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
