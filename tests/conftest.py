"""Shared fixtures: both async backends, the transport under test, hypothesis profiles."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TRANSPORT = os.environ.get("ALTABOTS_TEST_TRANSPORT", "httpx")

# Shared fixtures: the per-category API tests' and the Redis tests' (a module's own win).
pytest_plugins = ["tests._api_fixtures", "tests._redis_support"]


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("trio", {}), id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    """Every async test runs on asyncio and on trio."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def transport_name() -> str:
    """The HTTP transport this run tests (nox runs the suite once per transport)."""
    return TRANSPORT


ClientFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def make_client(transport_name: str, anyio_backend_name: str) -> AsyncIterator[ClientFactory]:
    """Build clients against a simulator on the transport this run tests.

    ``client = await make_client(sim, api_key="sk-test", **options)``. Under ``httpx`` the
    client calls ``sim.transport()`` in-process; under ``aiohttp`` the simulator is served on
    a loopback port (``serve``, once per simulator) and the client uses
    ``transport="aiohttp"``; aiohttp runs on asyncio only, so trio is skipped there. Options
    given win (e.g. ``transport=...``). Clients close and servers stop at teardown.
    """
    from altabots_async import AsyncAltaBots
    from altabots_async.testing import serve

    if transport_name == "aiohttp" and anyio_backend_name != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    async with contextlib.AsyncExitStack() as stack:
        urls: dict[int, str] = {}

        async def make(sim: Any, api_key: str = "sk-test", **options: Any) -> Any:
            if transport_name == "aiohttp":
                if id(sim) not in urls:
                    urls[id(sim)] = await stack.enter_async_context(serve(sim))
                options.setdefault("base_url", urls[id(sim)])
                options.setdefault("transport", "aiohttp")
            else:
                options.setdefault("base_url", "http://127.0.0.1/")
                options.setdefault("transport", sim.transport())
            client = AsyncAltaBots(api_key, **options)
            stack.push_async_callback(client.aclose)
            return client

        yield make
