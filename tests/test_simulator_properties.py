"""Property tests: the simulator's quota matches a plain fixed-window model, whatever happens."""

from __future__ import annotations

import math
from typing import Literal, TypeAlias

import anyio
import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from altabots_async.testing import FakeClock, Plan, Simulator

START = 1_700_000_000.0
KEYS = ("sk-a", "sk-b")

Step: TypeAlias = (
    tuple[Literal["request"], int]
    | tuple[Literal["advance"], float]
    | tuple[Literal["consume"], int, int]
)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("request"), st.integers(0, 1)),
        st.tuples(st.just("advance"), st.sampled_from([0.0, 0.1, 0.5, 1.0, 1.9, 2.0, 3.3, 7.0])),
        st.tuples(st.just("consume"), st.integers(0, 1), st.integers(0, 4)),
    ),
    max_size=60,
)


def run(plan_limits: tuple[int, int], period: float, script: list[Step]) -> None:
    """Play ``script`` against a simulator and a model; compare every answer."""
    clock = FakeClock(START)
    plans = [Plan.enterprise(limit, period) for limit in plan_limits]
    sim = Simulator(dict(zip(KEYS, plans, strict=True)), clock=clock)
    model: dict[int, tuple[float, int]] = {}
    over = 0

    def window(index: int) -> tuple[float, int]:
        start = math.floor(clock.now / period) * period
        current = model.get(index)
        if current is None or current[0] != start:
            current = model[index] = (start, 0)
        return current

    async def main() -> None:
        nonlocal over
        transport = httpx.ASGITransport(app=sim)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
            for step in script:
                if step[0] == "advance":
                    clock.advance(step[1])
                elif step[0] == "consume":
                    index, n = step[1], step[2]
                    start, used = window(index)
                    taken = min(n, plans[index].limit - used)
                    assert sim.consume(KEYS[index], n) == taken
                    model[index] = (start, used + taken)
                else:
                    index = step[1]
                    start, used = window(index)
                    response = await http.get(
                        "/v1/bot/detail", headers={"Authorization": f"Bearer {KEYS[index]}"}
                    )
                    limit = plans[index].limit
                    if used < limit:
                        model[index] = (start, used + 1)
                        assert response.status_code == 200
                        assert response.headers["x-ratelimit-remaining"] == str(limit - used - 1)
                    else:
                        over += 1
                        assert response.status_code == 429
                        retry_after = int(response.headers["retry-after"])
                        assert retry_after == max(1, math.ceil(start + period - clock.now))
                        assert response.headers["x-ratelimit-remaining"] == "0"
                    assert response.headers["x-ratelimit-limit"] == str(limit)
                    assert response.headers["x-ratelimit-reset"] == str(math.ceil(start + period))

    anyio.run(main)

    assert sim.over_quota_count() == over
    for key, plan in zip(KEYS, plans, strict=True):
        assert all(n <= plan.limit for n in sim.counted_per_window(key).values())


@settings(max_examples=150, deadline=None)
@given(
    limits=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    period=st.sampled_from([1.0, 2.0, 2.5, 10.0]),
    script=steps,
)
def test_quota_matches_fixed_window_model(
    limits: tuple[int, int], period: float, script: list[Step]
) -> None:
    """Statuses, Remaining, Reset and Retry-After always equal a fixed-window model's."""
    run(limits, period, script)
