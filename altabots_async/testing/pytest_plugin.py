"""Pytest fixtures for testing code against the simulator (registered as a ``pytest11`` plugin).

Fixtures:
    ``altabots_api_key``: the API key the simulator accepts (``"sk-test"``).
    ``altabots_clock``: a fresh :class:`~altabots_async.testing.FakeClock`.
    ``altabots_simulator``: a :class:`~altabots_async.testing.Simulator` on that clock, the
    key on an Enterprise plan of 100 requests per 2 s, seed 0, no faults. Override the
    fixture in your ``conftest.py`` for other plans.
"""

from __future__ import annotations

import pytest

from ._app import Simulator
from ._clock import FakeClock
from ._plan import Plan

__all__ = ["altabots_api_key", "altabots_clock", "altabots_simulator"]


@pytest.fixture
def altabots_api_key() -> str:
    """The API key the ``altabots_simulator`` fixture accepts."""
    return "sk-test"


@pytest.fixture
def altabots_clock() -> FakeClock:
    """A virtual clock at 1,700,000,000.0 that moves only when advanced."""
    return FakeClock()


@pytest.fixture
def altabots_simulator(altabots_api_key: str, altabots_clock: FakeClock) -> Simulator:
    """A simulator on the virtual clock: the key on 100 requests per 2 s, no faults."""
    return Simulator({altabots_api_key: Plan.enterprise(100, 2.0)}, clock=altabots_clock)
