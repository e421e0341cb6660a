"""Fixtures shared by the per-category API tests: a respx-backed client that counts the
scheduler's permits, and a simulator client on a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from altabots_async import AsyncAltaBots
from altabots_async.testing import FakeClock, Plan, Simulator

BASE = "https://altatech.ai/"
KEY = "sk-test"


@pytest.fixture
def router() -> respx.MockRouter:
    """A respx router that answers only what a test declares."""
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
def permits() -> list[str]:
    """The scheduler's ``request`` events: one per permit granted and request sent."""
    return []


@pytest.fixture
async def client(router: respx.MockRouter, permits: list[str]) -> AsyncIterator[AsyncAltaBots]:
    """A client whose every request goes to the respx router (through the scheduler)."""
    transport = httpx.MockTransport(router.async_handler)
    async with AsyncAltaBots(
        api_key=KEY,
        transport=transport,
        max_retries=0,
        hook=lambda event, details: permits.append(event) if event == "request" else None,
    ) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    """A virtual clock at 1,700,000,000 s."""
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Simulator:
    """A simulator on the virtual clock; the key on 1,000 requests per 60 s."""
    return Simulator({KEY: Plan.enterprise(1000, 60.0)}, clock=clock)


@pytest.fixture
async def sim_client(sim: Simulator) -> AsyncIterator[AsyncAltaBots]:
    """A client talking to the simulator in-process."""
    async with AsyncAltaBots(
        api_key=KEY, base_url="http://localhost/", transport=sim.transport()
    ) as client:
        yield client
