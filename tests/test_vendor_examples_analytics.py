"""The vendor's own examples: the Analytics category (issue 11, item 5).

Pages (vendor docs repository, under ``docs/``): ``analytics/Get_Total_Credit_Consumption_.md``,
``analytics/Get_Detailed_Credit_Consumption_.md``.
"""

from __future__ import annotations

import pytest
import respx

from altabots_async import AsyncAltaBots
from tests._vendor_examples import assert_documented_shape, assert_request, example, last_request

pytestmark = pytest.mark.anyio

START, END = 1732982400000, 1735660799999  # the pages' curl examples

# docs/analytics/Get_Total_Credit_Consumption_.md, "Response Example" (as printed).
TOTAL = example("""
{
    "start_date": "2022-02-02",
    "end_date": "2022-02-03",
    "total": 100.0000,
    "chat": 10.0000,
    "knowledge_doc_indexing": 10.0000,
    "knowledge_doc_storage": 10.0000,
    "rerank": 10.0000,
    "database_processing": 10.0000,
    "tool_call": 10.0000,
    "asr": 10.0000,
    "tts": 10.0000
}
""")

# docs/analytics/Get_Detailed_Credit_Consumption_.md, "Response Example" (as printed).
DAILY = example("""
[
    {
        "date": "2022-02-02",
        "total": 100,
        "chat": 10,
        "knowledge_doc_indexing": 10,
        "knowledge_doc_storage": 10,
        "rerank": 10,
        "database_processing": 10,
        "tool_call": 10,
        "asr": 10,
        "tts": 10
    },
    {
        "date": "2022-02-03",
        "total": 100,
        "chat": 10,
        "knowledge_doc_indexing": 10,
        "knowledge_doc_storage": 10,
        "rerank": 10,
        "database_processing": 10,
        "tool_call": 10,
        "asr": 10,
        "tts": 10
    }
]
""")

# The same page's "Success Response" table gives each row start_date and end_date instead
# of date: built from the table, as the rows of that form would look.
DAILY_TABLE_FORM = [
    {
        "start_date": "2022-02-02",
        "end_date": "2022-02-02",
        "total": 100,
        "chat": 10,
        "knowledge_doc_indexing": 10,
        "knowledge_doc_storage": 10,
        "rerank": 10,
        "database_processing": 10,
        "tool_call": 10,
        "asr": 10,
        "tts": 10,
    }
]


async def test_total_credit_consumption_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """``GET /v1/account/bill/total?start_time&end_time``; every credit kind decodes."""
    route = router.get("/v1/account/bill/total").respond(200, json=TOTAL)

    total = await client.analytics.credits_total(start_time=START, end_time=END)

    assert_request(
        last_request(route),
        "GET",
        "/v1/account/bill/total",
        query=[("start_time", str(START)), ("end_time", str(END))],
    )
    assert (total.start_date, total.end_date, total.total, total.tts) == (
        "2022-02-02",
        "2022-02-03",
        100.0,
        10.0,
    )
    assert total.decode_errors == ()
    assert total.to_dict() == TOTAL


async def test_detailed_credit_consumption_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The curl example's query (``page``, ``page_size``, the range); the example's ``date``
    rows decode."""
    route = router.get("/v1/account/bill/page").respond(200, json=DAILY)

    days = await client.analytics.credits_daily(
        start_time=START, end_time=END, page=1, page_size=10
    )

    assert_request(
        last_request(route),
        "GET",
        "/v1/account/bill/page",
        query=[
            ("page", "1"),
            ("page_size", "10"),
            ("start_time", str(START)),
            ("end_time", str(END)),
        ],
    )
    assert [(d.day, d.date, d.total, d.asr) for d in days] == [
        ("2022-02-02", "2022-02-02", 100.0, 10.0),
        ("2022-02-03", "2022-02-03", 100.0, 10.0),
    ]
    assert all(d.decode_errors == () for d in days)


async def test_detailed_credit_consumption_table_form(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """Rows in the field table's form (``start_date`` / ``end_date``) decode as well."""
    router.get("/v1/account/bill/page").respond(200, json=DAILY_TABLE_FORM)

    [day] = await client.analytics.credits_daily(start_time=START, end_time=END)

    assert (day.day, day.date, day.start_date, day.end_date) == (
        "2022-02-02",
        None,
        "2022-02-02",
        "2022-02-02",
    )
    assert day.decode_errors == ()


async def test_simulator_answers_credits_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator's total and daily bills have the examples' keys and kinds."""
    await sim_client.speech.text_to_audio("m1")  # one charge, so that a daily row exists
    now = 1_700_000_000_000

    total = await sim_client.analytics.with_raw_response.credits_total(
        start_time=now - 86_400_000, end_time=now + 86_400_000
    )
    daily = await sim_client.analytics.with_raw_response.credits_daily(
        start_time=now - 86_400_000, end_time=now + 86_400_000
    )

    assert_documented_shape(total.body, TOTAL)
    assert daily.body
    assert_documented_shape(daily.body, DAILY)
