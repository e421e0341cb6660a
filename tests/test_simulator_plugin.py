"""The simulator's pytest fixtures (the ``pytest11`` plugin users get with the package)."""

from __future__ import annotations

from importlib.metadata import entry_points

import httpx
import pytest

from altabots_async.testing import FakeClock, Simulator

PLUGIN = "altabots_async.testing.pytest_plugin"

# Installed, the package registers the plugin itself (pytest11 entry point); from a source
# tree without installing, load it here. Registering it twice would be an error.
if not any(ep.value == PLUGIN for ep in entry_points(group="pytest11")):
    pytest_plugins = [PLUGIN]


@pytest.mark.anyio
async def test_plugin_fixtures(
    altabots_simulator: Simulator, altabots_clock: FakeClock, altabots_api_key: str
) -> None:
    """The fixtures give a simulator on a virtual clock that accepts the fixture's key."""
    transport = altabots_simulator.transport()
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        response = await http.get(
            "/v1/bot/detail", headers={"Authorization": f"Bearer {altabots_api_key}"}
        )

    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "100"
    assert altabots_simulator.log[0].arrived_at == altabots_clock.now
