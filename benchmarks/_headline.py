"""The headline of RESULTS.md, written from the JSON results of the last runs."""

from __future__ import annotations

import json
from typing import Any

from ._common import RESULTS, table

CONCURRENCY = ("1", "50", "200")


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _ratio_cells(values: dict[str, float]) -> list[str]:
    return [f"{values[k]:.2f}" for k in CONCURRENCY]


def _verdict(values: dict[str, float], target: float, higher: bool = True) -> str:
    ok = all((v >= target) if higher else (v <= target) for v in values.values())
    return "met" if ok else "missed"


def headline() -> str:
    """Markdown: targets against measurements, the transport choice, the contenders."""
    parts = ["## Headline"]
    transports, e2e, acquire, contenders = (
        _load(n) for n in ("transports", "e2e", "acquire", "contenders")
    )
    rows: list[list[Any]] = []
    if transports is not None:
        for key, target in (
            ("client/aiohttp / raw aiohttp", 0.85),
            ("client/httpx / raw httpx", 0.95),
        ):
            values = transports["ratios"][key]
            rows.append([f"issue 8: {key} (req/s)", *_ratio_cells(values), f">= {target}",
                         _verdict(values, target)])  # fmt: skip
    if e2e is not None:
        for name, label in (("client/auto", "defaults"), ("client/httpx", "transport=httpx")):
            values = e2e["ratio_vs_raw_httpx"][name]
            rows.append([f"issue 3: client ({label}) / raw httpx (req/s)",
                         *_ratio_cells(values), ">= 0.9", _verdict(values, 0.9)])  # fmt: skip
    if acquire is not None:
        ratios = acquire["ratio_vs_aiolimiter"][acquire["target"]["contender"]]
        cells = [f"{ratios['1']:.2f} (1 task)", f"{ratios['1000']:.2f} (1,000 tasks)", ""]
        rows.append(["issue 3: acquire+release / aiolimiter (µs)", *cells, "<= 1.0",
                     _verdict(ratios, 1.0, higher=False)])  # fmt: skip
    if rows:
        parts.append(table(["target", "c=1", "c=50", "c=200", "target", "verdict"], rows))
    if transports is not None:
        cells = transports["cells"]
        aio, hx = cells["client/aiohttp"], cells["client/httpx"]
        speedups = ", ".join(f"{aio[k]['rps'] / hx[k]['rps']:.1f}x at c={k}" for k in CONCURRENCY)
        cpu = ", ".join(f"{hx[k]['cpu_us'] / aio[k]['cpu_us']:.1f}x" for k in CONCURRENCY)
        parts.append(
            "**Which transport.** On this machine this client on aiohttp makes"
            f" {speedups} the requests per second it makes on httpx, at {cpu} less CPU per"
            ' request, so `transport="auto"` (the default) uses aiohttp on asyncio when the'
            " `aiohttp` extra is installed, and httpx otherwise and always under trio."
            ' Use `transport="httpx"` for HTTP/2, trio, or to pass httpx transport options.'
        )
        ladder = transports.get("ladder_c50")
        bridge = transports["ratios"].get("httpx over aiohttp / raw aiohttp")
        if ladder and bridge:
            layers = list(ladder.values())
            names = list(ladder)
            added = [layers[i]["cpu_us"] - layers[i - 1]["cpu_us"] for i in range(1, 4)]
            parts.append(
                "**What bounds the gap to raw aiohttp.** The httpx interface itself: plain"
                " `httpx.AsyncClient` over httpx-aiohttp reaches"
                f" {', '.join(f'{bridge[k]:.2f}' for k in CONCURRENCY)} of raw aiohttp's"
                " requests per second at c=1/50/200. Taken apart at c=50, raw aiohttp costs"
                f" {layers[0]['cpu_us']:.0f} µs of client CPU per call; {names[1]} adds"
                f" {added[0]:.0f} µs, {names[2]} {added[1]:.0f} µs, {names[3]} {added[2]:.0f} µs."
            )
    if acquire is not None and not acquire["met"]:
        cells = acquire["us_per_acquire"]
        ours, base = (
            cells[acquire["target"]["contender"]]["1"],
            cells["aiolimiter.AsyncLimiter"]["1"],
        )
        parts.append(
            f"**Acquire.** {ours:.1f} µs per acquire + release against aiolimiter's {base:.1f} µs:"
            " aiolimiter keeps one number per limiter, while every permit here is an object"
            " tracked in flight until its response resyncs the window (what makes header sync,"
            " refunds and cancellation safety possible). The uncontended path was profiled and"
            " cut from ~4.5 µs (clock read through sniffio, a Decision object per grant, a pump"
            " with nobody waiting); either way it is about 1 % of a request's client CPU."
        )
    if contenders is not None:
        rows = [
            [
                r["contender"],
                f"{r['wall_vs_min']:.2f}",
                r["http_429"],
                r["failed"],
                r["wasted_calls"],
            ]
            for r in contenders["results"]
        ]
        w = contenders["workload"]
        parts.append(
            f"**Contenders** ({w['calls']:,} calls, {w['concurrency']} concurrent, {w['limit']:,}"
            f" per {w['period_s']:g} s, an unseen external consumer):"
        )
        parts.append(
            table(["contender", "wall / theoretical min", "429s caused", "failed", "wasted"], rows)
        )
    if transports is not None and transports.get("sniffio"):
        rows_s = transports["sniffio"]
        have, missing = (
            rows_s.get("raw httpx, sniffio installed"),
            rows_s.get("raw httpx, sniffio missing"),
        )
        if have and missing and all("cpu_us" in have[k] and "cpu_us" in missing[k] for k in have):
            extra = ", ".join(
                f"{missing[k]['cpu_us'] / have[k]['cpu_us'] - 1:+.0%} at c={k}" for k in have
            )
            parts.append(
                f"**sniffio.** Without it installed, raw httpx spends {extra} CPU per request"
                " (httpcore retries the failing import on every lock): it is a dependency."
            )
    return "\n\n".join(parts)
