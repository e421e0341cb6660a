"""The Analytics and User categories: exact requests, example responses, validation, pagination
and simulator round trips (REFERENCE §4.5-§4.6, endpoints 40-47)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from altabots_async import AsyncAltaBots, BadRequestError
from altabots_async._checks import InvalidParameterError
from altabots_async.testing import FakeClock
from altabots_async.types.analytics import (
    ConversationCreditPage,
    CreditTotal,
    DailyCredit,
    WorkflowRunCreditPage,
)
from altabots_async.types.users import (
    AnonymousId,
    PropertyUpdate,
    PropertyValue,
    UserBinding,
    UserProperties,
)

pytestmark = pytest.mark.anyio

BASE = "https://altatech.ai/"
KEY = "sk-test"
T0 = 1_699_000_000_000
T1 = T0 + 86_400_000
NOW_MS = 1_700_000_000_000  # FakeClock's default start

Call = Callable[[AsyncAltaBots], Awaitable[Any]]


# router, permits, client, clock, sim, sim_client: shared fixtures in tests/_api_fixtures.py

KINDS = {
    "chat": 1.5,
    "knowledge_doc_indexing": 0.1,
    "knowledge_doc_storage": 0.0,
    "rerank": 0.0,
    "database_processing": 0.2,
    "tool_call": 0.0,
    "asr": 0.0,
    "tts": 0.0,
}
ITEM = {
    "chat": 1.0,
    "anonymization": 0.0,
    "asr": 0.0,
    "tts": 0.0,
    "rerank": 0.0,
    "database_processing": 0.0,
    "tool_call": 0.0,
    "knowledge_doc_indexing": 0.0,
    "question_tag": 0.0,
    "moderation": 0.0,
    "total": 1.0,
}
RANGE = [("start_time", str(T0)), ("end_time", str(T1))]
BINDING = {"anonymous_id": "tg-42", "conversation_type": "TELEGRAM", "source_id": "bot7"}

CASES = [
    pytest.param(
        lambda c: c.analytics.credits_total(start_time=T0, end_time=T1),
        "GET",
        "/v1/account/bill/total",
        RANGE,
        None,
        {"start_date": "2023-11-03", "end_date": "2023-11-04", "total": 1.8, **KINDS},
        lambda r: isinstance(r, CreditTotal) and r.total == 1.8 and r.chat == 1.5,
        id="40-total",
    ),
    pytest.param(
        lambda c: c.analytics.credits_daily(
            start_time=dt.datetime.fromtimestamp(T0 / 1000, dt.UTC), end_time=T1
        ),
        "GET",
        "/v1/account/bill/page",
        RANGE,
        None,
        [{"date": "2023-11-03", "total": 1.8, **KINDS}],
        lambda r: isinstance(r[0], DailyCredit) and r[0].date == "2023-11-03",
        id="41-daily",
    ),
    pytest.param(
        lambda c: c.analytics.conversation_credits(
            start_time=T0, end_time=T1, page=2, page_size=50, conversation_id="c1"
        ),
        "GET",
        "/v1/account/agent/conversation/credits",
        [*RANGE, ("page", "2"), ("page_size", "50"), ("conversation_id", "c1")],
        None,
        {
            "list": [{"conversation_id": "c1", "conversation_create_time": T0, **ITEM}],
            "total": 1,
            "page": 2,
            "page_size": 50,
            "start_time": T0,
            "end_time": T1,
        },
        lambda r: isinstance(r, ConversationCreditPage) and r.items[0].total == 1.0,
        id="42-per-conversation",
    ),
    pytest.param(
        lambda c: c.analytics.workflow_run_credits(start_time=T0, end_time=T1, run_id="r1"),
        "GET",
        "/v1/account/workflow/run/credits",
        [*RANGE, ("page", "1"), ("page_size", "20"), ("run_id", "r1")],
        None,
        {"list": [{"run_id": "r1", "run_start_time": T0, **ITEM}], "total": 1},
        lambda r: isinstance(r, WorkflowRunCreditPage) and r.items[0].run_id == "r1",
        id="43-per-run",
    ),
    pytest.param(
        lambda c: c.users.set_user_id(user_id="u1", anonymous_ids=[AnonymousId(**BINDING)]),
        "POST",
        "/v1/user/set-userid",
        None,
        {"user_id": "u1", "anonymous_ids": [BINDING]},
        {"code": 0, "message": "OK", "data": {"user_id": "u1", "anonymous_ids": [BINDING]}},
        lambda r: isinstance(r, UserBinding) and r.anonymous_ids[0].source_id == "bot7",
        id="44-set-userid",
    ),
    pytest.param(
        lambda c: c.users.update_properties(user_id="u1", property_values={"plan": "pro"}),
        "POST",
        "/v1/property/update",
        None,
        {"user_id": "u1", "property_values": [{"property_name": "plan", "value": "pro"}]},
        {"success_update": [{"propertyName": "plan", "value": "pro"}], "fail_update": []},
        lambda r: isinstance(r, PropertyUpdate) and r.success_update[0].property_name == "plan",
        id="45-update",
    ),
    pytest.param(
        lambda c: c.users.query_properties(user_ids=["u1", "u2"]),
        "GET",
        "/v2/user-property/query",
        [("user_ids", "u1"), ("user_ids", "u2")],
        None,
        [
            {"user_id": "u1", "property_values": [{"propertyName": "plan", "value": "pro"}]},
            {"user_id": "u2", "property_values": [{"property_name": "age", "value": 3}]},
        ],
        lambda r: (
            isinstance(r[0], UserProperties)
            and r[0].property_values[0] == PropertyValue("plan", "pro")
            and r[1].property_values[0] == PropertyValue("age", 3)
        ),
        id="46-query",
    ),
    pytest.param(
        lambda c: c.users.get_cdp(anonymous_id="tg-42"),
        "GET",
        "/v1/user/get-user-cdp",
        [("anonymous_id", "tg-42")],
        None,
        {
            "code": 0,
            "message": "OK",
            "data": {"u1": {"user_id": "u1", "anonymous_ids": [BINDING]}},
        },
        lambda r: (
            isinstance(r["u1"], UserBinding) and r["u1"].anonymous_ids[0].anonymous_id == "tg-42"
        ),
        id="47-cdp",
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "query", "sent", "answer", "check"), CASES)
async def test_request_and_example_response(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    permits: list[str],
    call: Call,
    method: str,
    path: str,
    query: list[tuple[str, str]] | None,
    sent: Any,
    answer: Any,
    check: Callable[[Any], bool],
) -> None:
    """Each endpoint sends the exact method, path, query or body through the scheduler (one
    permit), and parses the example."""
    route = router.route(method=method, path=path).respond(200, json=answer)

    result = await call(client)

    assert route.call_count == 1
    assert permits == ["request"]
    request = route.calls.last.request
    if sent is None:
        assert request.url.params.multi_items() == query
        assert request.content == b""
    else:
        assert request.url.params.multi_items() == []
        assert json.loads(request.content) == sent
    assert check(result)


DAY = 86_400_000
BAD_CALLS = [
    pytest.param(
        lambda c: c.analytics.credits_total(start_time=0, end_time=366 * DAY),
        "end_time",
        id="total-366-days",
    ),
    pytest.param(
        lambda c: c.analytics.credits_daily(start_time=0, end_time=91 * DAY),
        "end_time",
        id="daily-91-days",
    ),
    pytest.param(
        lambda c: c.analytics.conversation_credits(start_time=0, end_time=31 * DAY),
        "end_time",
        id="conv-31-days",
    ),
    pytest.param(
        lambda c: c.analytics.workflow_run_credits(start_time=0, end_time=31 * DAY),
        "end_time",
        id="run-31-days",
    ),
    pytest.param(
        lambda c: c.analytics.credits_total(start_time=T1, end_time=T0), "end_time", id="reversed"
    ),
    pytest.param(
        lambda c: c.analytics.credits_total(start_time="0", end_time=T0),
        "start_time",
        id="string-time",
    ),
    pytest.param(
        lambda c: c.analytics.credits_total(start_time=dt.datetime(2024, 1, 1), end_time=T0),
        "start_time",
        id="naive-datetime",
    ),
    pytest.param(
        lambda c: c.analytics.conversation_credits(start_time=T0, end_time=T1, page_size=101),
        "page_size",
        id="page-size",
    ),
    pytest.param(
        lambda c: c.users.set_user_id(user_id="", anonymous_ids=[BINDING]), "user_id", id="uid"
    ),
    pytest.param(
        lambda c: c.users.set_user_id(user_id="u", anonymous_ids=[]),
        "anonymous_ids",
        id="no-bindings",
    ),
    pytest.param(
        lambda c: c.users.set_user_id(user_id="u", anonymous_ids=[{"anonymous_id": "a"}]),
        "anonymous_ids[0].conversation_type",
        id="binding-type",
    ),
    pytest.param(
        lambda c: c.users.update_properties(user_id="u", property_values={}),
        "property_values",
        id="no-props",
    ),
    pytest.param(
        lambda c: c.users.update_properties(user_id="u", property_values=[{"value": 1}]),
        "property_values[0].property_name",
        id="prop-name",
    ),
    pytest.param(lambda c: c.users.query_properties(), "user_ids", id="query-neither"),
    pytest.param(
        lambda c: c.users.query_properties(user_ids=[f"u{i}" for i in range(101)]),
        "user_ids",
        id="query-101",
    ),
    pytest.param(lambda c: c.users.get_cdp(), "user_id", id="cdp-neither"),
]


@pytest.mark.parametrize(("call", "field"), BAD_CALLS)
async def test_validation_raises_before_any_request(
    client: AsyncAltaBots, router: respx.MockRouter, call: Call, field: str
) -> None:
    """A broken documented limit raises a ValueError naming the field; nothing is sent."""
    with pytest.raises(InvalidParameterError) as info:
        await call(client)

    assert info.value.field == field
    assert router.calls.call_count == 0


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (3, 1), (7, 3)])
async def test_conversation_credits_all_pages(
    client: AsyncAltaBots, router: respx.MockRouter, total: int, pages: int
) -> None:
    """The per-conversation pager walks 0, 1 and many pages."""
    rows = [{"conversation_id": f"c{i}", **ITEM} for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["page_size"])
        return httpx.Response(
            200, json={"list": rows[(page - 1) * size : page * size], "total": total}
        )

    route = router.get("/v1/account/agent/conversation/credits").mock(side_effect=answer)

    pager = client.analytics.conversation_credits_all(start_time=T0, end_time=T1, page_size=3)
    ids = [c.conversation_id async for c in pager]

    assert ids == [f"c{i}" for i in range(total)]
    assert route.call_count == pages


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (2, 1), (5, 3)])
async def test_workflow_run_credits_all_pages(
    client: AsyncAltaBots, router: respx.MockRouter, total: int, pages: int
) -> None:
    """The per-run pager walks 0, 1 and many pages."""
    rows = [{"run_id": f"r{i}", **ITEM} for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["page_size"])
        return httpx.Response(
            200, json={"list": rows[(page - 1) * size : page * size], "total": total}
        )

    route = router.get("/v1/account/workflow/run/credits").mock(side_effect=answer)

    pager = client.analytics.workflow_run_credits_all(start_time=T0, end_time=T1, page_size=2)
    ids = [r.run_id async for r in pager]

    assert ids == [f"r{i}" for i in range(total)]
    assert route.call_count == pages


async def test_daily_pager_is_one_request(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The daily bill pager makes one request (its paging is unconfirmed)."""
    route = router.get("/v1/account/bill/page").respond(
        200, json=[{"date": "2023-11-03", "total": 1}, {"date": "2023-11-04", "total": 2}]
    )

    days = [d.date async for d in client.analytics.credits_daily_all(start_time=T0, end_time=T1)]

    assert days == ["2023-11-03", "2023-11-04"]
    assert route.call_count == 1


# ----------------------------------------------------------------------------- simulator


async def test_analytics_reflect_calls(sim_client: AsyncAltaBots, clock: FakeClock) -> None:
    """Credits grow with messages sent, documents indexed and workflow runs."""
    start, end = NOW_MS - DAY, NOW_MS + DAY
    before = await sim_client.analytics.credits_total(start_time=start, end_time=end)
    assert before.total == 0

    conversation = await sim_client.conversations.create(user_id="u1")
    await sim_client.conversations.send_message(conversation.conversation_id, "hello there")
    after_chat = await sim_client.analytics.credits_total(start_time=start, end_time=end)
    assert after_chat.chat is not None
    assert after_chat.chat > 0

    await sim_client.knowledge_base.docs.add_text(
        files=[{"file_name": "a.txt", "file_url": "https://x.test/a"}]
    )
    clock.advance(86_400)
    run = await sim_client.workflows.invoke(input={"q": 1})
    total = await sim_client.analytics.credits_total(start_time=start, end_time=end)
    assert total.knowledge_doc_indexing == pytest.approx(0.1)
    assert total.total > after_chat.total

    days = await sim_client.analytics.credits_daily(start_time=start, end_time=end)
    assert [d.date for d in days] == ["2023-11-14", "2023-11-15"]
    assert sum(d.total for d in days) == pytest.approx(total.total)

    per_conv = await sim_client.analytics.conversation_credits(start_time=start, end_time=end)
    assert [c.conversation_id for c in per_conv.items] == [conversation.conversation_id]
    assert per_conv.items[0].chat == pytest.approx(after_chat.chat)
    runs = [
        r
        async for r in sim_client.analytics.workflow_run_credits_all(start_time=start, end_time=end)
    ]
    assert [r.run_id for r in runs] == [run.workflow_run_id]
    assert runs[0].total == run.total_cost


async def test_analytics_bad_range_from_simulator(sim_client: AsyncAltaBots) -> None:
    """The simulator itself refuses a range over the documented maximum with 40000."""
    with pytest.raises(BadRequestError) as info:
        await sim_client._request(
            "GET",
            "v1/account/bill/page",
            cast_to=list,
            params={"start_time": 0, "end_time": 91 * DAY},
        )
    assert info.value.code == 40000


async def test_users_round_trip(sim_client: AsyncAltaBots) -> None:
    """Bindings move between users and show in the CDP; attributes round-trip."""
    users = sim_client.users
    bound = await users.set_user_id(user_id="u1", anonymous_ids=[AnonymousId(**BINDING)])
    assert bound.anonymous_ids == [AnonymousId(**BINDING)]
    await users.set_user_id(user_id="u2", anonymous_ids=[BINDING])

    cdp = await users.get_cdp(anonymous_id="tg-42")
    assert list(cdp) == ["u2"]
    assert (await users.get_cdp(user_id="u1"))["u1"].anonymous_ids == []

    update = await users.update_properties(
        user_id="u1", property_values=[PropertyValue("plan", "pro"), PropertyValue("seats", 3)]
    )
    assert [p.property_name for p in update.success_update] == ["plan", "seats"]
    [props] = await users.query_properties(user_ids=["u1"])
    assert props.user_id == "u1"
    assert {p.property_name: p.value for p in props.property_values} == {"plan": "pro", "seats": 3}


async def test_query_properties_by_anonymous_id(sim_client: AsyncAltaBots) -> None:
    """Visitors' attributes are queried by anonymous id; unknown ids come back empty."""
    await sim_client.users.update_properties(user_id="anon-1", property_values={"lang": "fr"})

    rows = await sim_client.users.query_properties(anonymous_ids=["anon-1", "anon-2"])

    assert [(r.anonymous_id, r.user_id) for r in rows] == [("anon-1", None), ("anon-2", None)]
    assert rows[0].property_values == [PropertyValue("lang", "fr")]
    assert rows[1].property_values == []
