"""Endpoint-specific status and code meanings (issue 11, item 2).

The User pages give Query User Attributes its own statuses: HTTP 503 "User ID Not Found" and
504 "Anonymous User ID Not Found" (vendor page ``docs/users/Query User Attributes.md``). They
are the endpoint's answer, not an outage: a typed not-found error, at once, one call spent.
Every entry of ``ENDPOINT_ERRORS`` is exercised here, as an HTTP status and as a body code.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

import altabots_async
from altabots_async import (
    AnonymousUserNotFoundError,
    AsyncAltaBots,
    InternalServerError,
    NotFoundError,
    UserNotFoundError,
)
from altabots_async._exceptions import (
    ENDPOINT_ERRORS,
    EndpointMeaning,
    endpoint_error,
    final_statuses_for,
)
from altabots_async.testing import Plan, Simulator

pytestmark = pytest.mark.anyio

KEY = "sk-test"
ENTRIES = [
    pytest.param(endpoint, number, meaning, id=f"{endpoint}-{number}")
    for endpoint, table in ENDPOINT_ERRORS.items()
    for number, meaning in table.items()
]


def call_for(endpoint: str) -> Any:
    """A client call that hits ``endpoint`` (one per endpoint of the table)."""
    calls = {
        "GET /v2/user-property/query": lambda c: c.users.query_properties(user_ids=["nobody"]),
    }
    return calls[endpoint]


def test_every_endpoint_of_the_table_has_a_call() -> None:
    """The table and this test's calls stay in step (a new entry needs a new call here)."""
    for endpoint in ENDPOINT_ERRORS:
        assert callable(call_for(endpoint))


def test_the_table_names_typed_public_not_found_errors_and_vendor_pages() -> None:
    """Each entry maps to an exported, documented APIStatusError subclass and cites a page."""
    for table in ENDPOINT_ERRORS.values():
        for meaning in table.values():
            assert isinstance(meaning, EndpointMeaning)
            assert getattr(altabots_async, meaning.error.__name__) is meaning.error
            assert meaning.error.__doc__
            assert meaning.page.endswith(".md")
            assert meaning.meaning
    assert issubclass(UserNotFoundError, NotFoundError)
    assert issubclass(AnonymousUserNotFoundError, UserNotFoundError)


@pytest.mark.parametrize(("endpoint", "number", "meaning"), ENTRIES)
@pytest.mark.parametrize("form", ["status", "body-code"])
async def test_each_entry_raises_its_error_at_once_with_one_call(
    endpoint: str, number: int, meaning: EndpointMeaning, form: str
) -> None:
    """The documented status (or the same number as a body code on HTTP 200) raises the
    entry's error after exactly one request, although the client may retry 3 times."""
    method, _, path = endpoint.partition(" ")
    router = respx.MockRouter(base_url="https://altatech.ai/", assert_all_called=False)
    status = number if form == "status" else 200
    route = router.route(method=method, path=path).respond(
        status, json={"code": number, "message": meaning.meaning}
    )
    async with AsyncAltaBots(
        KEY, transport=httpx.MockTransport(router.async_handler), max_retries=3
    ) as client:
        with pytest.raises(meaning.error) as info:
            await call_for(endpoint)(client)

    assert route.call_count == 1
    assert type(info.value) is meaning.error
    assert info.value.status_code == status
    assert info.value.code == number
    assert meaning.meaning in str(info.value)


async def test_a_bare_status_without_a_body_still_gets_the_pages_meaning() -> None:
    """A 503 with a non-JSON body on Query User Attributes is still UserNotFoundError, and its
    message carries the page's words."""
    router = respx.MockRouter(base_url="https://altatech.ai/", assert_all_called=False)
    route = router.get("/v2/user-property/query").respond(503, text="nope")
    async with AsyncAltaBots(
        KEY, transport=httpx.MockTransport(router.async_handler), max_retries=3
    ) as client:
        with pytest.raises(UserNotFoundError, match="User ID Not Found"):
            await client.users.query_properties(user_ids=["nobody"])
    assert route.call_count == 1


async def test_a_gateway_503_with_a_generic_code_stays_a_server_error() -> None:
    """A 503 whose body carries the generic 50000 keeps its generic meaning (not a missing
    user); being a final status of this endpoint, it is not resent either."""
    router = respx.MockRouter(base_url="https://altatech.ai/", assert_all_called=False)
    route = router.get("/v2/user-property/query").respond(
        503, json={"code": 50000, "message": "busy"}
    )
    async with AsyncAltaBots(
        KEY, transport=httpx.MockTransport(router.async_handler), max_retries=3
    ) as client:
        with pytest.raises(InternalServerError) as info:
            await client.users.query_properties(user_ids=["u1"])
    assert not isinstance(info.value, UserNotFoundError)
    assert route.call_count == 1


async def test_other_endpoints_keep_the_generic_retry_of_503() -> None:
    """The table is per endpoint: a 503 on Query User CDP is an outage, retried as before."""
    router = respx.MockRouter(base_url="https://altatech.ai/", assert_all_called=False)
    route = router.get("/v1/user/get-user-cdp").mock(
        side_effect=[
            httpx.Response(503, json={"code": 503, "message": "down"}),
            httpx.Response(200, json={"code": 0, "message": "OK", "data": {}}),
        ]
    )
    async with AsyncAltaBots(
        KEY, transport=httpx.MockTransport(router.async_handler), max_retries=3
    ) as client:
        assert await client.users.get_cdp(user_id="u1") == {}
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "expected"),
    [
        ("GET", "/v2/user-property/query", 503, None, UserNotFoundError),
        ("GET", "v2/user-property/query", 200, 504, AnonymousUserNotFoundError),
        ("GET", "/proxy/altabots/v2/user-property/query", 504, 504, AnonymousUserNotFoundError),
        ("GET", "/v2/user-property/query?user_ids=a", 503, 503, UserNotFoundError),
        ("GET", "/v2/user-property/query", 503, 50000, None),
        ("GET", "/v2/user-property/query", 500, None, None),
        ("POST", "/v2/user-property/query", 503, None, None),
        ("GET", "/v1/user/get-user-cdp", 503, 503, None),
    ],
)
def test_endpoint_error_lookup(
    method: str, path: str, status: int, code: int | None, expected: type | None
) -> None:
    """The lookup matches method and path (a base-URL prefix and a query string allowed), a
    listed body code first, then the status unless a generic code says otherwise."""
    found = endpoint_error(method, path, status, code)
    assert (found.error if found else None) is expected


def test_final_statuses_come_from_the_table() -> None:
    """The statuses the transport must not retry are exactly the table's, per endpoint."""
    assert final_statuses_for("GET", "v2/user-property/query") == frozenset({503, 504})
    assert final_statuses_for("GET", "v1/user/get-user-cdp") == frozenset()
    assert final_statuses_for("POST", "v2/user-property/query") == frozenset()


def test_the_client_attaches_the_final_statuses_to_the_request() -> None:
    """``RequestOptions.final_statuses`` of a built request is the endpoint's, for the
    transport to honour."""
    client = AsyncAltaBots(KEY, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    lookup = client._build_request("GET", "v2/user-property/query")
    other = client._build_request("GET", "v1/bot/detail")
    assert lookup.extensions["altabots"].final_statuses == frozenset({503, 504})
    assert other.extensions["altabots"].final_statuses == frozenset()


# --------------------------------------------------------------------------- simulator


@pytest.fixture
def user_sim() -> Simulator:
    """A simulator with a generous quota."""
    return Simulator({KEY: Plan.enterprise(1000, 60.0)})


async def test_unknown_user_costs_one_request_against_the_simulator(
    make_client: Any, user_sim: Simulator
) -> None:
    """A lookup of an unknown user: one request in the server log, UserNotFoundError at once
    (both transports; the client would otherwise retry a 503 three times)."""
    client = await make_client(user_sim, max_retries=3)

    with pytest.raises(UserNotFoundError) as info:
        await client.users.query_properties(user_ids=["nobody"])

    assert type(info.value) is UserNotFoundError
    assert info.value.status_code == 503
    assert len(user_sim.requests(path="/v2/user-property/query")) == 1
    assert client.rate_limit.retries == 0


async def test_unknown_anonymous_id_costs_one_request_against_the_simulator(
    make_client: Any, user_sim: Simulator
) -> None:
    """The anonymous variant: 504, AnonymousUserNotFoundError, one request."""
    client = await make_client(user_sim, max_retries=3)

    with pytest.raises(AnonymousUserNotFoundError) as info:
        await client.users.query_properties(anonymous_ids=["ghost"])

    assert info.value.status_code == 504
    assert len(user_sim.requests(path="/v2/user-property/query")) == 1


async def test_known_users_are_answered_and_unknown_ones_come_back_empty(
    make_client: Any, user_sim: Simulator
) -> None:
    """With one id known the simulator answers 200; unknown ids of the batch have no values."""
    client = await make_client(user_sim)
    await client.users.update_properties(user_id="u1", property_values={"plan": "pro"})

    rows = await client.users.query_properties(user_ids=["u1", "nobody"])

    assert [(r.user_id, [(p.property_name, p.value) for p in r.property_values]) for r in rows] == [
        ("u1", [("plan", "pro")]),
        ("nobody", []),
    ]
