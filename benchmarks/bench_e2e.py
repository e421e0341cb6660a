"""End to end (issue 3): this client's throughput against raw ``httpx.AsyncClient``.

Same server and call as ``transports`` (the simulator in its own process, uvicorn +
httptools, ``GET /v1/bot/detail``, a quota nobody exhausts). The client runs with its
defaults (``transport="auto"``, which is aiohttp on asyncio when the extra is installed, the
scheduler on, quota learned from the first response) and pinned to ``transport="httpx"``.
Target: ≥ 0.90x raw httpx's requests per second at concurrency 1, 50 and 200.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import _common as c
from .bench_transports import requests_for, run_one

NAME = "e2e"
CONCURRENCY = (1, 50, 200)
REPEATS = 3
BASELINE = "raw httpx"
CONTENDERS = ("raw httpx", "client/auto", "client/httpx")
TARGET = 0.90


def run(quick: bool = False) -> dict[str, Any]:
    """Measure, write results/e2e.{json,md,png}; return the data."""
    repeats = 1 if quick else REPEATS
    cells: dict[str, dict[int, dict[str, float]]] = {name: {} for name in CONTENDERS}
    with c.simulator_process() as url:
        for concurrency in CONCURRENCY:
            n = requests_for(concurrency, quick)
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
            for _ in range(repeats):
                for name in CONTENDERS:
                    runs[name].append(asyncio.run(run_one(name, url, concurrency, n)))
            for name in CONTENDERS:
                cells[name][concurrency] = {
                    key: c.median([r[key] for r in runs[name]]) for key in runs[name][0]
                }
                print(f"  {NAME}: {name} c={concurrency}: {cells[name][concurrency]}")
    ratios = {
        name: {k: cells[name][k]["rps"] / cells[BASELINE][k]["rps"] for k in CONCURRENCY}
        for name in CONTENDERS
    }
    data = {
        "repeats": repeats,
        "requests": {k: requests_for(k, quick) for k in CONCURRENCY},
        "cells": cells,
        "ratio_vs_raw_httpx": ratios,
        "target": TARGET,
        "met": {name: min(ratios[name].values()) >= TARGET for name in CONTENDERS},
    }
    c.write(NAME, data, _markdown(data))
    _chart(cells, ratios)
    return data


def _markdown(data: dict[str, Any]) -> str:
    cells, ratios = data["cells"], data["ratio_vs_raw_httpx"]
    rows = []
    for name in CONTENDERS:
        for k in CONCURRENCY:
            cell = cells[name][k]
            rows.append(
                [name, k, cell["rps"], f"{ratios[name][k]:.2f}", cell["p50_ms"], cell["p99_ms"]]
            )
    verdicts = ", ".join(
        f"`{name}`: {'met' if data['met'][name] else 'missed'}" for name in CONTENDERS[1:]
    )
    return "\n\n".join(
        [
            "## End to end: this client vs raw httpx (issue 3)",
            f"`GET {c.ENDPOINT}` against the simulator in its own process; calls per cell"
            f" {data['requests']}; median of {data['repeats']} interleaved runs. The client"
            " decodes the body into its `Agent` model; raw httpx decodes JSON. Reproduce:"
            " `python -m benchmarks e2e`.",
            c.table(["contender", "concurrency", "req/s", "x raw httpx", "p50 ms", "p99 ms"], rows),
            f"Target ≥ {TARGET}x raw httpx at every concurrency: {verdicts}.",
            "![e2e](e2e.png)",
        ]
    )


def _chart(cells: dict[str, dict[int, dict[str, float]]], ratios: dict[str, Any]) -> None:
    plt = c.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.27
    for i, name in enumerate(CONTENDERS):
        xs = [j + (i - 1) * width for j in range(len(CONCURRENCY))]
        ax.bar(xs, [cells[name][k]["rps"] for k in CONCURRENCY], width, label=name)
    ax.set_xticks(range(len(CONCURRENCY)), [f"c={k}" for k in CONCURRENCY])
    ax.set_ylabel("requests per second")
    ax.set_title("End to end: this client vs raw httpx")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(c.chart_path(NAME), dpi=100)
    plt.close(fig)
