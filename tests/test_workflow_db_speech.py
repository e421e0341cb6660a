"""The Workflow, Database and Speech categories: exact requests, example responses, validation,
pagination and simulator round trips (REFERENCE §4.8-§4.10, endpoints 48-63)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from altabots_async import AgentDeletedError, AsyncAltaBots, BadRequestError, NotFoundError
from altabots_async._checks import InvalidParameterError
from altabots_async.testing import Simulator
from altabots_async.testing._endpoints.speech import audio_for
from altabots_async.types.agent import Version
from altabots_async.types.databases import (
    ImportResult,
    ImportTasks,
    RecordPage,
    RecordUpdateResult,
    TableCreated,
    TableField,
    TableList,
)
from altabots_async.types.knowledge import Acknowledgement
from altabots_async.types.speech import Transcription
from altabots_async.types.workflows import WorkflowRun, WorkflowRunLogPage, WorkflowWebhook

pytestmark = pytest.mark.anyio

BASE = "https://altatech.ai/"
KEY = "sk-test"
RUN = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"
TABLE = "65a1b2c3d4e5f60718293a4b"
NOW_MS = 1_700_000_000_000
DAY = 86_400_000

Call = Callable[[AsyncAltaBots], Awaitable[Any]]


# router, permits, client, clock, sim, sim_client: shared fixtures in tests/_api_fixtures.py

RUN_RESULT = {
    "workflowId": "w1",
    "workflowName": "Weather",
    "workflowVersion": "3",
    "workflowRunId": RUN,
    "input": {"city": "Paris"},
    "output": {"forecast": "sun"},
    "workflowExecutionTime": 1200,
    "status": "SUCCEED",
    "totalCost": 0.8,
    "totalTokens": 321,
    "startTime": NOW_MS,
    "endTime": NOW_MS + 1200,
}
HOOK = {"method": "POST", "url": "https://hooks.example.com/done", "headers": {"X-T": "1"}}
FIELD = {"name": "order_no", "description": "Order", "type": "TEXT", "unique": True}
RECORD_PAGE = {
    "table_info": {
        "id": TABLE,
        "name": "orders",
        "description": "Orders",
        "field_count": 1,
        "fields": [FIELD],
        "bot_id": "b",
        "project_id": "p",
        "owner_id": "o",
    },
    "records": [
        {"id": "r1", "value": {"order_no": "A1"}, "created_at": NOW_MS, "updated_at": NOW_MS}
    ],
    "total_count": 1,
}

CASES = [
    pytest.param(
        lambda c: c.workflows.invoke(
            input={"city": "Paris"}, user_id="u1", is_async=True, webhook=[WorkflowWebhook(**HOOK)]
        ),
        "POST",
        "/v1/workflow/invoke",
        None,
        {"userId": "u1", "input": {"city": "Paris"}, "isAsync": True, "webhook": [HOOK]},
        {
            "workflowId": "w1",
            "workflowName": "Weather",
            "workflowVersion": "3",
            "workflowRunId": RUN,
            "status": "PENDING",
        },
        lambda r: isinstance(r, WorkflowRun) and r.status == "PENDING" and not r.done,
        id="48-invoke",
    ),
    pytest.param(
        lambda c: c.workflows.get_result(RUN),
        "POST",
        "/v1/workflow/query/result",
        None,
        {"workflowRunId": RUN},
        RUN_RESULT,
        lambda r: r.output == {"forecast": "sun"} and r.total_cost == 0.8 and r.done,
        id="49-result",
    ),
    pytest.param(
        lambda c: c.workflows.run_logs(start_time=0, end_time=DAY, page_size=10, user_id="u1"),
        "GET",
        "/v1/workflow/run/logs",
        [
            ("conversation_type", "ALL"),
            ("start_time", "0"),
            ("end_time", str(DAY)),
            ("page", "1"),
            ("page_size", "10"),
            ("user_id", "u1"),
        ],
        None,
        {"list": [{"log_id": "l1", "workflow_run_id": RUN, "input": "{}", "output": "{}"}]},
        lambda r: isinstance(r, WorkflowRunLogPage) and r.items[0].workflow_run_id == RUN,
        id="50-logs",
    ),
    pytest.param(
        lambda c: c.workflows.versions.list(),
        "GET",
        "/v1/workflow/version/list",
        [],
        None,
        [{"version": "1", "version_status": "PUBLISHED"}],
        lambda r: isinstance(r[0], Version),
        id="51-versions",
    ),
    pytest.param(
        lambda c: c.workflows.versions.release(version="2"),
        "POST",
        "/v1/workflow/version/release",
        None,
        {"version": "2"},
        {"version": "2", "previous_version": "1"},
        lambda r: r.previous_version == "1",
        id="53-release",
    ),
    pytest.param(
        lambda c: c.workflows.versions.rollback(version="1", new_version="9"),
        "POST",
        "/v1/workflow/version/rollback",
        None,
        {"version": "1", "new_version": "9"},
        {"source_version": "1", "new_version": "9", "created": True, "released": False},
        lambda r: r.new_version == "9",
        id="54-rollback",
    ),
    pytest.param(
        lambda c: c.databases.list_tables(agent_id="b1"),
        "POST",
        "/v1/database/tables/page",
        None,
        {"agent_id": "b1"},
        {
            "tables": [
                {
                    "table_id": TABLE,
                    "name": "orders",
                    "description": "d",
                    "field_number": 1,
                    "record_count": 5,
                }
            ]
        },
        lambda r: isinstance(r, TableList) and r.tables[0].record_count == 5,
        id="55-tables",
    ),
    pytest.param(
        lambda c: c.databases.create_table(
            name="orders", description="Orders", fields=[TableField(**FIELD)]
        ),
        "POST",
        "/v1/database/create-table",
        None,
        {"name": "orders", "description": "Orders", "fields": [FIELD]},
        {"code": 0, "message": "OK", "data": TABLE},
        lambda r: r == TableCreated(TABLE),
        id="56-create-table",
    ),
    pytest.param(
        lambda c: c.databases.import_records(table_id=TABLE, records=[{"order_no": "A1"}]),
        "POST",
        "/v1/database/import/records",
        None,
        {"table_id": TABLE, "records": [{"order_no": "A1"}]},
        {"code": 0, "message": "OK", "data": ["t1"]},
        lambda r: r == ImportTasks(["t1"]),
        id="57-import",
    ),
    pytest.param(
        lambda c: c.databases.import_results(["t1", "t2"]),
        "GET",
        "/v1/database/query/import-results",
        [("ids", "t1"), ("ids", "t2")],
        None,
        [
            {
                "id": "t1",
                "progress": 100,
                "status": "FAIL",
                "total_count": 2,
                "success_count": 0,
                "fail_count": 2,
                "fail_detail": [
                    {
                        "row": None,
                        "row_number_start": 1,
                        "row_number_end": 2,
                        "fail_reason": "conflict",
                    }
                ],
            }
        ],
        lambda r: isinstance(r[0], ImportResult) and r[0].fail_detail[0].fail_reason == "conflict",
        id="58-import-results",
    ),
    pytest.param(
        lambda c: c.databases.list_records(
            table_id=TABLE, page=1, page_size=50, filter={"order_no": "A1"}, keyword="A"
        ),
        "POST",
        "/v1/database/records/page",
        None,
        {
            "table_id": TABLE,
            "page": 1,
            "page_size": 50,
            "filter": {"order_no": "A1"},
            "keyword": "A",
        },
        {"code": 0, "message": "OK", "data": RECORD_PAGE},
        lambda r: isinstance(r, RecordPage) and r.records[0].value == {"order_no": "A1"},
        id="59-records-wrapped",
    ),
    pytest.param(
        lambda c: c.databases.list_records(table_id=TABLE),
        "POST",
        "/v1/database/records/page",
        None,
        {"table_id": TABLE, "page": 1, "page_size": 20},
        RECORD_PAGE,
        lambda r: r.total_count == 1 and r.table_info.fields[0].unique,
        id="59-records-unwrapped",
    ),
    pytest.param(
        lambda c: c.databases.update_records(
            table_id=TABLE,
            is_create=True,
            update_data=[
                {"record_id": "r1", "updated_fields": {"qty": 2}},
                {"filter": {"order_no": "A2"}, "updated_fields": {"qty": 1}},
            ],
        ),
        "POST",
        "/v2/database/update/record",
        None,
        {
            "table_id": TABLE,
            "is_create": True,
            "update_data": [
                {"record_id": "r1", "updated_fields": {"qty": 2}},
                {"filter": {"order_no": "A2"}, "updated_fields": {"qty": 1}},
            ],
        },
        {
            "totalCount": 2,
            "success_count": 1,
            "fail_count": 1,
            "fail_detail": [{"upsert_data": {"record_id": "rX"}, "fail_reason": "missing"}],
        },
        lambda r: isinstance(r, RecordUpdateResult) and r.total_count == 2,
        id="60-update",
    ),
    pytest.param(
        lambda c: c.databases.delete_records(table_id=TABLE, delete_data=[{"record_id": "r1"}]),
        "POST",
        "/v2/database/delete/record",
        None,
        {"table_id": TABLE, "delete_data": [{"record_id": "r1"}]},
        {"code": 0, "message": "OK"},
        lambda r: isinstance(r, Acknowledgement),
        id="61-delete",
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


async def test_workflow_version_import(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """Endpoint 52 uploads a ``.flow`` file as multipart."""
    route = router.post("/v1/workflow/version/import").respond(
        200, json={"botId": "w1", "botType": "Flow", "version": "2", "warning": ["x"]}
    )

    result = await client.workflows.versions.import_(b"{}", filename="weather.flow")

    assert b'name="file"; filename="weather.flow"' in route.calls.last.request.content
    assert result.version == "2"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, "/v1/identify"),
        ("/v1/bot/identify", "/v1/bot/identify"),
        ("v1/audio-to-text", "/v1/audio-to-text"),
    ],
)
async def test_voice_to_text_paths(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    permits: list[str],
    path: str | None,
    expected: str,
) -> None:
    """Endpoint 62 posts multipart to /v1/identify by default (the path of the page's curl
    example, see speech.py), or to the path given."""
    route = router.post(expected).respond(200, json={"text": "hello"})

    if path is None:
        result = await client.speech.voice_to_text(b"ID3", filename="q.mp3")
    else:
        result = await client.speech.voice_to_text(b"ID3", filename="q.mp3", path=path)

    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="q.mp3"' in request.content
    assert result == Transcription("hello")
    assert permits == ["request"]


async def test_text_to_audio_returns_bytes(
    client: AsyncAltaBots, router: respx.MockRouter, permits: list[str]
) -> None:
    """Endpoint 63 sends ``{id}`` and returns the body bytes as they came."""
    route = router.post("/v1/text-to-audio").respond(
        200, content=b"ID3\x00audio", headers={"content-type": "audio/mpeg"}
    )

    audio = await client.speech.text_to_audio("m1")

    assert json.loads(route.calls.last.request.content) == {"id": "m1"}
    assert audio == b"ID3\x00audio"
    assert permits == ["request"]


async def test_text_to_audio_error_body(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """A JSON error instead of audio raises the mapped error."""
    router.post("/v1/text-to-audio").respond(200, json={"code": 40000, "message": "bad id"})

    with pytest.raises(BadRequestError):
        await client.speech.text_to_audio("m1")


async def test_text_to_audio_raw_response(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """with_raw_response gives the status, headers and the bytes."""
    router.post("/v1/text-to-audio").respond(
        200, content=b"ID3", headers={"content-type": "audio/mpeg"}
    )

    raw = await client.speech.with_raw_response.text_to_audio("m1")

    assert raw.status_code == 200
    assert raw.content == b"ID3"


BAD_CALLS = [
    pytest.param(lambda c: c.workflows.invoke(input="x"), "input", id="input-type"),
    pytest.param(
        lambda c: c.workflows.invoke(input={}, is_async=True, webhook=[HOOK] * 6),
        "webhook",
        id="6-webhooks",
    ),
    pytest.param(lambda c: c.workflows.invoke(input={}, webhook=[HOOK]), "webhook", id="hook-sync"),
    pytest.param(
        lambda c: c.workflows.invoke(input={}, is_async=True, webhook=[{**HOOK, "url": "x"}]),
        "webhook[0].url",
        id="hook-url",
    ),
    pytest.param(lambda c: c.workflows.get_result(""), "workflowRunId", id="run-id"),
    pytest.param(
        lambda c: c.workflows.run_logs(start_time=0, end_time=1, page_size=5),
        "page_size",
        id="logs-page-size",
    ),
    pytest.param(
        lambda c: c.workflows.run_logs(start_time=0, end_time=1, conversation_type="X"),
        "conversation_type",
        id="logs-type",
    ),
    pytest.param(lambda c: c.databases.list_tables(agent_id=""), "agent_id", id="agent-id"),
    pytest.param(
        lambda c: c.databases.create_table(name="Orders", description="d", fields=[FIELD]),
        "name",
        id="table-upper",
    ),
    pytest.param(
        lambda c: c.databases.create_table(name="o" * 33, description="d", fields=[FIELD]),
        "name",
        id="table-33",
    ),
    pytest.param(
        lambda c: c.databases.create_table(name="1orders", description="d", fields=[FIELD]),
        "name",
        id="table-digit",
    ),
    pytest.param(
        lambda c: c.databases.create_table(name="orders", description="d" * 129, fields=[FIELD]),
        "description",
        id="desc-129",
    ),
    pytest.param(
        lambda c: c.databases.create_table(
            name="orders", description="d", fields=[{**FIELD, "type": "STRING"}]
        ),
        "fields[0].type",
        id="field-type",
    ),
    pytest.param(
        lambda c: c.databases.create_table(
            name="orders", description="d", fields=[{**FIELD, "name": "f" * 33}]
        ),
        "fields[0].name",
        id="field-name",
    ),
    pytest.param(
        lambda c: c.databases.create_table(name="orders", description="d", fields=[]),
        "fields",
        id="no-fields",
    ),
    pytest.param(
        lambda c: c.databases.import_records(table_id=TABLE, records=[{"a": 1}] * 1001),
        "records",
        id="1001-rows",
    ),
    pytest.param(
        lambda c: c.databases.import_records(table_id=TABLE, records=[{}]),
        "records[0]",
        id="empty-row",
    ),
    pytest.param(lambda c: c.databases.import_results([]), "ids", id="no-task-ids"),
    pytest.param(
        lambda c: c.databases.list_records(table_id=TABLE, page_size=101),
        "page_size",
        id="records-101",
    ),
    pytest.param(
        lambda c: c.databases.list_records(table_id=TABLE, page_size=0),
        "page_size",
        id="records-0",
    ),
    pytest.param(
        lambda c: c.databases.list_records(table_id=TABLE, filter={}),
        "filter",
        id="empty-filter",
    ),
    pytest.param(
        lambda c: c.databases.update_records(
            table_id=TABLE, update_data=[{"record_id": "r", "updated_fields": {"a": 1}}] * 101
        ),
        "update_data",
        id="101-updates",
    ),
    pytest.param(
        lambda c: c.databases.update_records(table_id=TABLE, update_data=[{"record_id": "r"}]),
        "update_data[0].updated_fields",
        id="no-updated-fields",
    ),
    pytest.param(
        lambda c: c.databases.update_records(
            table_id=TABLE, update_data=[{"updated_fields": {"a": 1}}]
        ),
        "update_data[0]",
        id="no-selector",
    ),
    pytest.param(
        lambda c: c.databases.delete_records(
            table_id=TABLE, delete_data=[{"record_id": "r"}] * 1001
        ),
        "delete_data",
        id="1001-deletes",
    ),
    pytest.param(lambda c: c.speech.voice_to_text(b"x", filename="a.ogg"), "file", id="audio-type"),
    pytest.param(
        lambda c: c.speech.voice_to_text(b"x", filename="a.mp3", path="https://evil.test/x"),
        "path",
        id="audio-path-url",
    ),
    pytest.param(lambda c: c.speech.text_to_audio(""), "id", id="tts-id"),
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


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (4, 1), (12, 3)])
async def test_records_all_pages(
    client: AsyncAltaBots, router: respx.MockRouter, total: int, pages: int
) -> None:
    """The record pager walks 0, 1 and many pages (a read sent as POST)."""
    rows = [{"id": f"r{i}", "value": {"n": i}} for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        page, size = body["page"], body["page_size"]
        data = {"records": rows[(page - 1) * size : page * size], "total_count": total}
        return httpx.Response(200, json={"code": 0, "message": "OK", "data": data})

    route = router.post("/v1/database/records/page").mock(side_effect=answer)

    ids = [r.id async for r in client.databases.list_records_all(table_id=TABLE, page_size=5)]

    assert ids == [f"r{i}" for i in range(total)]
    assert route.call_count == pages


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (10, 1), (25, 3)])
async def test_run_logs_all_pages(
    client: AsyncAltaBots, router: respx.MockRouter, total: int, pages: int
) -> None:
    """The run-log pager walks 0, 1 and many pages."""
    rows = [{"log_id": f"l{i}"} for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["page_size"])
        return httpx.Response(
            200, json={"list": rows[(page - 1) * size : page * size], "total": total}
        )

    route = router.get("/v1/workflow/run/logs").mock(side_effect=answer)

    logs = [
        log.log_id
        async for log in client.workflows.run_logs_all(start_time=0, end_time=DAY, page_size=10)
    ]

    assert logs == [f"l{i}" for i in range(total)]
    assert route.call_count == pages


async def test_tables_all_is_one_page(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The table pager makes one request (the list is not paginated)."""
    route = router.post("/v1/database/tables/page").respond(200, json={"tables": []})

    assert [t async for t in client.databases.list_tables_all(agent_id="b1")] == []
    assert route.call_count == 1


# ----------------------------------------------------------------------------- simulator


async def test_workflow_round_trip(sim_client: AsyncAltaBots, sim: Simulator) -> None:
    """A sync run succeeds at once; an async one is PENDING then SUCCEED; both are logged."""
    run = await sim_client.workflows.invoke(input={"city": "Paris"}, user_id="u1")
    assert run.status == "SUCCEED"
    assert run.output == {"result": {"city": "Paris"}}

    pending = await sim_client.workflows.invoke(
        input={"city": "Oslo"},
        is_async=True,
        webhook=[{"method": "post", "url": "https://hooks.example.com/w"}],
    )
    assert pending.status == "PENDING"
    done = await sim_client.workflows.get_result(pending.workflow_run_id)
    assert (done.status, done.output) == ("SUCCEED", {"result": {"city": "Oslo"}})
    assert done == await sim_client.workflows.get_result(pending.workflow_run_id)

    logs = [
        log.workflow_run_id
        async for log in sim_client.workflows.run_logs_all(
            start_time=NOW_MS - DAY, end_time=NOW_MS + DAY, page_size=10
        )
    ]
    assert logs == [run.workflow_run_id, pending.workflow_run_id]
    mine = await sim_client.workflows.run_logs(
        start_time=NOW_MS - DAY, end_time=NOW_MS + DAY, user_id="u1"
    )
    assert [log.workflow_run_id for log in mine.items] == [run.workflow_run_id]

    with pytest.raises(BadRequestError):
        await sim_client.workflows.get_result("missing")

    versions = sim_client.workflows.versions
    draft = await versions.import_(b"{}", filename="w.flow")
    assert (await versions.release(version=draft.version or "")).previous_version == "1"
    assert sim.over_quota_count() == 0


async def test_database_round_trip(sim_client: AsyncAltaBots) -> None:
    """A table is created and listed; rows imported (task + status), paged, updated, deleted."""
    agent = await sim_client.agent.retrieve()
    db = sim_client.databases
    created = await db.create_table(
        name="orders",
        description="Orders",
        fields=[
            TableField("order_no", "TEXT", "Order number", unique=True),
            TableField("qty", "INT", "Quantity"),
        ],
    )
    tables = (await db.list_tables(agent_id=agent.bot_id)).tables
    assert [(t.table_id, t.name, t.field_number) for t in tables] == [
        (created.table_id, "orders", 2)
    ]

    rows = [{"order_no": f"A{i}", "qty": i} for i in range(12)] + [{"order_no": "A0", "qty": 9}]
    tasks = await db.import_records(table_id=created.table_id, records=rows)
    [result] = await db.import_results(tasks.task_ids)
    assert (result.status, result.success_count, result.fail_count) == ("AVAILABLE", 12, 1)

    clash = await db.import_records(table_id=created.table_id, records=[{"order_no": "A3"}])
    [refused] = await db.import_results(clash.task_ids)
    assert refused.status == "FAIL"
    assert refused.fail_detail[0].row is None

    values = [
        r.value["order_no"]
        async for r in db.list_records_all(table_id=created.table_id, page_size=5)
    ]
    assert values == [f"A{i}" for i in range(12)]
    page = await db.list_records(table_id=created.table_id, filter={"order_no": "A5"})
    assert page.total_count == 1
    assert page.table_info is not None
    assert page.table_info.name == "orders"

    update = await db.update_records(
        table_id=created.table_id,
        is_create=True,
        update_data=[
            {"record_id": page.records[0].id, "updated_fields": {"qty": 50}},
            {"filter": {"order_no": "B1"}, "updated_fields": {"qty": 1}},
            {"record_id": "missing", "updated_fields": {"qty": 1}},
        ],
    )
    assert (update.total_count, update.success_count, update.fail_count) == (3, 2, 1)
    again = await db.list_records(table_id=created.table_id, filter={"order_no": "A5"})
    assert again.records[0].value["qty"] == 50

    await db.delete_records(
        table_id=created.table_id,
        delete_data=[{"record_id": page.records[0].id}, {"filter": {"order_no": "B1"}}],
    )
    assert (await db.list_records(table_id=created.table_id)).total_count == 11


async def test_database_simulator_errors(sim_client: AsyncAltaBots) -> None:
    """An unknown table is 403106 (not found); a bad table name sent raw is 403100."""
    with pytest.raises(NotFoundError) as info:
        await sim_client.databases.list_records(table_id="nope")
    assert info.value.code == 403106

    with pytest.raises(BadRequestError) as bad:
        await sim_client._request(
            "POST",
            "v1/database/create-table",
            cast_to=dict,
            json={"name": "Bad-Name", "description": "d", "fields": [FIELD]},
        )
    assert bad.value.code == 403100


async def test_speech_round_trip(sim_client: AsyncAltaBots) -> None:
    """Voice to text answers on every documented path; text to audio returns the id's bytes."""
    for path in ("/v1/bot/identify", "/v1/identify", "/v1/audio-to-text"):
        text = await sim_client.speech.voice_to_text(b"RIFF....", filename="q.wav", path=path)
        assert text.text == "Transcript of q.wav (8 bytes)."

    audio = await sim_client.speech.text_to_audio("m1")
    assert audio == audio_for("m1")
    assert audio.startswith(b"ID3")

    with pytest.raises(BadRequestError) as info:
        await sim_client._request(
            "POST",
            "v1/bot/identify",
            cast_to=dict,
            files={"file": ("a.ogg", b"x", "audio/ogg")},
        )
    assert info.value.code == 40325


async def test_workflow_versions_round_trip(sim_client: AsyncAltaBots) -> None:
    """Workflow versions list, import (.flow only), and roll back into a new published one."""
    versions = sim_client.workflows.versions
    assert [v.version async for v in versions.list_all()] == ["1"]
    await versions.import_(b"{}", filename="w.flow", version_desc="draft")
    rolled = await versions.rollback(version="1", new_version="7", release=True)
    assert (rolled.new_version, rolled.released) == ("7", True)
    statuses = {v.version: v.version_status for v in await versions.list()}
    assert statuses == {"1": "OFFLINE", "2": "DRAFT", "7": "PUBLISHED"}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.agent.verify_key(), id="agent"),
        pytest.param(lambda c: c.knowledge_base.list(), id="knowledge"),
        pytest.param(lambda c: c.analytics.credits_total(start_time=0, end_time=1), id="analytics"),
        pytest.param(lambda c: c.users.get_cdp(user_id="u1"), id="users"),
        pytest.param(lambda c: c.workflows.invoke(input={}), id="workflow"),
        pytest.param(lambda c: c.databases.list_records(table_id="t"), id="database"),
        pytest.param(lambda c: c.speech.text_to_audio("m1"), id="speech"),
    ],
)
async def test_deleted_agent_answers_20059(
    sim_client: AsyncAltaBots, sim: Simulator, call: Call
) -> None:
    """Once the key's agent is deleted, every category answers 20059 (AgentDeletedError)."""
    sim.state.store(sim.fingerprint(KEY)).agent_deleted = True

    with pytest.raises(AgentDeletedError) as info:
        await call(sim_client)

    assert info.value.code == 20059
