"""Sessions named by intent: nox -s tests lint typecheck demo bench soak."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_venv = "yes"
nox.options.default_venv_backend = "venv"

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, extras: str, *groups: str) -> None:
    session.install("-e", f".[{extras}]" if extras else ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """The CI suite: every test but the soak-size ones, on both HTTP transports."""
    _install(session, "redis,server,aiohttp", "test")
    args = session.posargs or ["-m", "not slow"]
    for transport in ("httpx", "aiohttp"):
        session.run("pytest", *args, env={"ALTABOTS_TEST_TRANSPORT": transport})


@nox.session
def soak(session: nox.Session) -> None:
    """Soak-size runs of the fault matrix (long; not part of CI)."""
    _install(session, "redis,server,aiohttp", "test")
    session.run("pytest", "-m", "slow", "--timeout=3600", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    _install(session, "", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    _install(session, "redis,server,aiohttp", "typecheck")
    session.run("mypy", "--strict", "altabots_async")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: a mixed workload through one client against the embedded simulator."""
    _install(session, "server")
    session.run("python", "-m", "altabots_async", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks, contenders side by side; results under benchmarks/results/."""
    _install(session, "redis,server,aiohttp", "bench")
    env = {"REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}
    session.run("python", "-m", "benchmarks", *session.posargs, env=env)
