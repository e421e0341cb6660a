"""Testing your own code against the simulator: no network, no real key, real quota rules.

``altabots_async.testing.Simulator`` is a fake AltaBots server (an ASGI app). Hand the client
``transport=sim.transport()`` and every call is served in-process: the same endpoints, error
envelopes, rate-limit headers and 429s as the real API, and a log of every request that your
test can assert on ("at most N calls", "never over quota").

Run the checks below with pytest (``pytest examples/testing_with_simulator.py``; the
``altabots_simulator`` fixture of the bundled pytest plugin is another way to get a simulator)
or as a script: ``python examples/testing_with_simulator.py``.
"""

from __future__ import annotations

import anyio
import pytest

from altabots_async import AsyncAltaBots, InternalServerError, QuotaExhaustedError
from altabots_async.testing import Faults, Plan, Simulator

pytestmark = pytest.mark.anyio

KEY = "sk-test"


# ----------------------------------------------------------------- the code under test


async def welcome_users(client: AsyncAltaBots, user_ids: list[str]) -> dict[str, str]:
    """Your application code: open a conversation per user and ask for a welcome line."""
    welcomes: dict[str, str] = {}

    async def one(user_id: str) -> None:
        conv = await client.conversations.create(user_id=user_id)
        reply = await client.conversations.send_message(conv.conversation_id, "Say hello")
        welcomes[user_id] = reply.text

    async with anyio.create_task_group() as tg:
        for user_id in user_ids:
            tg.start_soon(one, user_id)
    return welcomes


def client_for(
    sim: Simulator, *, max_wait: float | None = None, max_retries: int = 3
) -> AsyncAltaBots:
    """A client whose calls the simulator serves in-process."""
    return AsyncAltaBots(
        KEY,
        base_url="http://127.0.0.1/",
        transport=sim.transport(),
        max_wait=max_wait,
        max_retries=max_retries,
    )


# ----------------------------------------------------------------- the tests


async def test_welcome_users_stays_inside_a_tight_quota() -> None:
    """Ten users, twenty calls, a quota of 8 per second: everything is answered, nothing
    goes over quota, and the server saw exactly two calls per user."""
    sim = Simulator({KEY: Plan.enterprise(8, 1.0)})
    async with client_for(sim) as client:
        welcomes = await welcome_users(client, [f"user-{n}" for n in range(10)])

    assert welcomes["user-3"] == "Echo: Say hello"
    assert sim.over_quota_count() == 0
    assert len(sim.requests(path="/v1/conversation")) == 10
    assert all(n <= 8 for n in sim.counted_per_window().values())


async def test_an_exhausted_quota_fails_fast() -> None:
    """With ``max_wait``, a call the quota cannot serve in time raises at once."""
    sim = Simulator({KEY: Plan.enterprise(2, 3600.0)})
    async with client_for(sim, max_wait=1.0) as client:
        await client.agent.retrieve()
        await client.agent.retrieve()
        with pytest.raises(QuotaExhaustedError) as caught:
            await client.agent.retrieve()

    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 1.0

    assert len(sim.requests()) == 2  # the third was never sent


async def test_server_errors_are_retried_then_raised() -> None:
    """Faults are switches: here every call answers 500; a GET is retried, then raised."""
    sim = Simulator({KEY: Plan.enterprise(100, 60.0)}, faults=Faults(error_rate=1.0))
    async with client_for(sim, max_retries=2) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.agent.retrieve()

    assert caught.value.status_code in (500, 503)

    assert len(sim.requests()) == 3  # the call and its two retries


async def main() -> None:
    for test in (
        test_welcome_users_stays_inside_a_tight_quota,
        test_an_exhausted_quota_fails_fast,
        test_server_errors_are_retried_then_raised,
    ):
        await test()
        print(f"ok  {test.__name__}")


if __name__ == "__main__":
    anyio.run(main)
