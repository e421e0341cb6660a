"""Benchmarks: contenders side by side in one run; ``python -m benchmarks [NAME ...]``.

Each module ``bench_<name>.py`` has ``run(quick: bool = False) -> dict`` that measures, then
writes ``results/<name>.json``, ``results/<name>.md`` and (most) ``results/<name>.png``.
``python -m benchmarks`` (or ``all``) runs every one and combines the Markdown into
``results/RESULTS.md``. Servers run in their own processes (the simulator under uvicorn +
httptools), so the client's CPU is measured alone.
"""
