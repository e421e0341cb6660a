"""``python -m benchmarks [acquire|transports|e2e|contenders|redis|all] [--quick]``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Sequence

from ._common import RESULTS, machine
from ._headline import headline

# Order of "all" and of RESULTS.md. "redis" needs a redis-server binary (or REDIS_URL).
BENCHMARKS = ("acquire", "transports", "e2e", "contenders", "redis")

INTRO = """# Benchmark results

Produced by `python -m benchmarks all` (or `nox -s bench`); one section per benchmark, each
also saved as JSON, Markdown and a PNG chart in this directory. Machine: {machine}.
Targets come from issues 3, 6 and 8; a missed target is reported as measured, with what
bounds it.
"""


def combine() -> None:
    """Write results/RESULTS.md from the headline notes and every benchmark's Markdown."""
    info = machine()
    parts = [
        INTRO.format(
            machine=f"{info['cpus']} CPUs (load average {info['load_average_1m']} when"
            f" RESULTS.md was written: the machine is shared), Python {info['python']},"
            f" {info['platform']}, {info['when']}"
        ).rstrip()
    ]
    parts.append(headline().rstrip())
    for name in BENCHMARKS:
        path = RESULTS / f"{name}.md"
        if path.exists():
            parts.append(path.read_text().rstrip())
    (RESULTS / "RESULTS.md").write_text("\n\n".join(parts) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named benchmarks (all by default), then rebuild RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", default=["all"], choices=[*BENCHMARKS, "all"])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if "all" in args.names else list(dict.fromkeys(args.names))
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            module.run(quick=args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"== {name}: {time.perf_counter() - start:.0f} s", flush=True)
    combine()
    print(f"wrote {RESULTS / 'RESULTS.md'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
