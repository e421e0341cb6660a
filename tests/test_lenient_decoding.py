"""No response is lost to one field (issue 11, item 3).

Every documented form decodes, typed; a field that still does not fit its type is left at
its default, named in ``decode_errors`` and in a debug log, its value kept in ``raw``;
unknown fields are kept; ``strict=True`` restores strict decoding; every model turns back
into plain JSON data with ``to_dict()``. The vendor's own examples are in
``tests/test_vendor_examples_*.py``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
import respx

from altabots_async import AsyncAltaBots, ResponseValidationError
from altabots_async._convert import structure
from altabots_async.types import (
    Agent,
    DailyCredit,
    DocStatus,
    DocumentChanges,
    FailedDocument,
    ImportTasks,
    MessageReply,
    Model,
    PropertyUpdate,
    RecordPage,
    RecordUpdateResult,
    TableCreated,
    UserProperties,
)

pytestmark = pytest.mark.anyio

BASE = "https://altatech.ai/"
KEY = "sk-test"


def client_for(router: respx.MockRouter, **options: Any) -> AsyncAltaBots:
    """A client whose requests go to ``router``."""
    return AsyncAltaBots(KEY, transport=httpx.MockTransport(router.async_handler), **options)


# --------------------------------------------------------------------------- lenient default


async def test_one_bad_field_costs_only_that_field(caplog: pytest.LogCaptureFixture) -> None:
    """By default a field of the wrong type is left at its default, named in decode_errors
    and in a debug log; the rest of the answer is returned and the raw value kept."""
    router = respx.MockRouter(base_url=BASE)
    router.get("/v1/bot/detail").respond(
        200, json={"bot_id": "b1", "name": "Support", "creativity_level": "very", "new": 1}
    )
    caplog.set_level(logging.DEBUG, logger="altabots_async")

    async with client_for(router) as client:
        agent = await client.agent.retrieve()

    assert (agent.bot_id, agent.name, agent.creativity_level) == ("b1", "Support", None)
    assert agent.decode_errors == ("creativity_level: expected a finite number, got str",)
    assert agent.raw["creativity_level"] == "very"
    assert agent.extra == {"new": 1}
    logged = [r.getMessage() for r in caplog.records if "did not decode" in r.getMessage()]
    assert logged == [
        "response field creativity_level did not decode "
        "(expected a finite number, got str); kept in raw"
    ]


async def test_a_missing_required_field_is_none_and_named() -> None:
    """A required field the server left out is None and named; nothing is raised."""
    router = respx.MockRouter(base_url=BASE)
    router.get("/v1/bot/detail").respond(200, json={"name": "Support"})

    async with client_for(router) as client:
        agent = await client.agent.retrieve()

    assert agent.bot_id is None
    assert agent.name == "Support"
    assert agent.decode_errors == ("bot_id: required field missing",)


async def test_nested_problems_are_named_by_their_path() -> None:
    """A bad field deep in a reply is named by its full path; its siblings decode."""
    router = respx.MockRouter(base_url=BASE)
    body = {
        "conversation_id": "c1",
        "message_id": "m1",
        "create_time": 1679587005,
        "output": [
            {"content": {"text": "Hi", "audio": "not-a-list"}},
            "not-an-object",
            {"content": {"text": " there"}},
        ],
        "usage": {"tokens": {"total_tokens": "29", "prompt_tokens": [1]}},
    }
    router.post("/v2/conversation/message").respond(200, json=body)

    async with client_for(router) as client:
        reply = await client.conversations.send_message("c1", "hi")

    assert reply.text == "Hi there"
    assert reply.usage is not None and reply.usage.tokens is not None
    assert reply.usage.tokens.total_tokens == 29
    assert reply.usage.tokens.prompt_tokens is None
    assert reply.decode_errors == (
        "output[0].content.audio: expected a list, got str",
        "output[1]: expected an object, got str",
        "usage.tokens.prompt_tokens: expected an integer, got list",
    )
    assert reply.usage.tokens.decode_errors == ("prompt_tokens: expected an integer, got list",)


async def test_a_list_item_that_does_not_fit_is_dropped_and_named() -> None:
    """A top-level list keeps the items that decoded; the others are named (never raised)."""
    router = respx.MockRouter(base_url=BASE)
    router.get("/v1/bot/data/detail/list").respond(
        200, json=[{"data_id": "d1", "data_status": "AVAILABLE"}, 7, {"data_id": "d2"}]
    )

    async with client_for(router) as client:
        statuses = await client.knowledge_base.docs.status(["d1", "d2"])

    assert [(s.data_id, s.data_status) for s in statuses] == [
        ("d1", "AVAILABLE"),
        ("d2", None),
    ]


@pytest.mark.parametrize(
    ("body", "call"),
    [
        pytest.param([{"bot_id": "b1"}], lambda c: c.agent.retrieve(), id="list-for-object"),
        pytest.param("b1", lambda c: c.agent.retrieve(), id="string-for-object"),
        pytest.param(
            {"data_id": "d1"},
            lambda c: c.knowledge_base.docs.status(["d1"]),
            id="object-for-list",
        ),
    ],
)
async def test_a_body_that_cannot_be_the_answer_still_raises(body: Any, call: Any) -> None:
    """ResponseValidationError is kept for a body of the wrong JSON kind (not an object
    where an object is due, not a list where a list is due), also in the lenient default."""
    router = respx.MockRouter(base_url=BASE)
    router.route().respond(200, json=body)

    async with client_for(router) as client:
        with pytest.raises(ResponseValidationError):
            await call(client)


# --------------------------------------------------------------------------- strict


async def test_strict_restores_strict_decoding() -> None:
    """``AsyncAltaBots(strict=True)``: any field that does not fit raises, naming each."""
    router = respx.MockRouter(base_url=BASE)
    router.get("/v1/bot/detail").respond(
        200, json={"name": "x", "creativity_level": "very", "tags": {"a": 1}}
    )

    async with client_for(router, strict=True) as client:
        with pytest.raises(ResponseValidationError) as info:
            await client.agent.retrieve()

    assert info.value.errors == [
        "body.bot_id: required field missing",
        "body.tags: expected a list of strings, got dict",
        "body.creativity_level: expected a finite number, got str",
    ]


async def test_strict_keeps_unknown_fields_and_documented_variants() -> None:
    """Strict is about types: unknown keys and documented alternate spellings still pass."""
    router = respx.MockRouter(base_url=BASE)
    router.get("/v2/user-property/query").respond(
        200, json=[{"user_id": "u1", "property_values": [{"propertyName": "a", "value": 1}]}]
    )

    async with client_for(router, strict=True) as client:
        [row] = await client.users.query_properties(user_ids=["u1"])

    assert row.property_values[0].property_name == "a"


async def test_with_options_and_raw_responses_keep_the_mode() -> None:
    """A ``with_options`` copy and ``raw.parse()`` decode in the client's mode."""
    router = respx.MockRouter(base_url=BASE)
    router.get("/v1/bot/detail").respond(200, json={"bot_id": "b", "question_limit": "many"})

    async with client_for(router, strict=True) as strict_client:
        raw = await strict_client.with_options(priority=5).agent.with_raw_response.retrieve()
        assert raw.strict is True
        with pytest.raises(ResponseValidationError):
            raw.parse()
    async with client_for(router) as lenient_client:
        raw = await lenient_client.agent.with_raw_response.retrieve()
        assert raw.strict is False
        assert raw.parse().decode_errors == ("question_limit: expected an integer, got str",)


async def test_multipart_answers_follow_the_mode_too() -> None:
    """Uploads (voice to text) decode in the client's mode as well."""
    router = respx.MockRouter(base_url=BASE)
    router.post("/v1/identify").respond(200, json={"text": 5.5, "lang": "en"})

    async with client_for(router) as client:
        lenient = await client.speech.voice_to_text(b"ID3", filename="a.mp3")
    async with client_for(router, strict=True) as client:
        strict = await client.speech.voice_to_text(b"ID3", filename="a.mp3")

    assert lenient.text == strict.text == "5.5"  # numbers are accepted as text in both modes
    assert lenient.extra == {"lang": "en"}


# --------------------------------------------------------------------------- documented forms

FORMS = [
    pytest.param(
        {"date": "2022-02-02", "total": 100, "chat": 10},
        DailyCredit,
        lambda d: (d.day, d.date, d.start_date, d.total) == ("2022-02-02", "2022-02-02", None, 100),
        id="daily-credit-date",
    ),
    pytest.param(
        {"start_date": "2022-02-02", "end_date": "2022-02-03", "total": 100.0},
        DailyCredit,
        lambda d: (d.day, d.date, d.end_date) == ("2022-02-02", None, "2022-02-03"),
        id="daily-credit-start-end",
    ),
    pytest.param(
        [{"data_id": "d1", "data_status": "AVAILABLE"}],
        list[DocStatus],
        lambda s: [x.data_id for x in s] == ["d1"],
        id="doc-status-bare-list",
    ),
    pytest.param(
        {"doc": [{"data_id": "d1", "data_status": "AVAILABLE"}]},
        list[DocStatus],
        lambda s: [x.data_id for x in s] == ["d1"],
        id="doc-status-doc-array",
    ),
    pytest.param(
        {"fail_detail": [{"upsert_data": {}, "fail_reason": "Invalid email format"}]},
        RecordUpdateResult,
        lambda r: r.fail_detail[0].fail_reasons == ["Invalid email format"],
        id="fail-reason-string",
    ),
    pytest.param(
        {"fail_detail": [{"upsert_data": [], "fail_reason": ["bad email", "bad name"]}]},
        RecordUpdateResult,
        lambda r: r.fail_detail[0].fail_reasons == ["bad email", "bad name"],
        id="fail-reason-array",
    ),
    pytest.param(
        {"table_info": {"field_count": 5}},
        RecordPage,
        lambda p: p.table_info.field_count == 5,
        id="field-count",
    ),
    pytest.param(
        {"tableInfo": {"fieldCount": 5}},
        RecordPage,
        lambda p: p.table_info.field_count == 5,
        id="fieldCount-tableInfo",
    ),
    pytest.param(
        {"doc": [], "failed": ["file_1", "file_2"]},
        DocumentChanges,
        lambda c: c.failed == ["file_1", "file_2"] and c.failed_labels == ["file_1", "file_2"],
        id="failed-strings",
    ),
    pytest.param(
        {"doc": [], "failed": [{"file_name": "a.pdf", "fail_reason": "too big"}, "b.md"]},
        DocumentChanges,
        lambda c: (
            c.failed[0] == FailedDocument(file_name="a.pdf", reason="too big")
            and c.failed_labels == ["a.pdf", "b.md"]
        ),
        id="failed-objects",
    ),
    pytest.param(
        {"totalCount": 4, "success_count": "2", "fail_count": "2"},
        RecordUpdateResult,
        lambda r: (r.total_count, r.success_count, r.fail_count) == (4, 2, 2),
        id="totalCount-string-counts",
    ),
    pytest.param(
        {"total_count": 4},
        RecordUpdateResult,
        lambda r: r.total_count == 4,
        id="total_count",
    ),
    pytest.param(
        {"success_update": [{"propertyName": "a", "value": 1}], "fail_update": []},
        PropertyUpdate,
        lambda u: u.success_update[0].property_name == "a",
        id="propertyName",
    ),
    pytest.param(
        [{"anonymous_id": "x", "property_values": [{"property_name": "a", "value": None}]}],
        list[UserProperties],
        lambda rows: rows[0].property_values[0].property_name == "a",
        id="property_name",
    ),
    pytest.param(
        "673e9cda9f7bc178002dbd9c",
        TableCreated,
        lambda t: t.table_id == "673e9cda9f7bc178002dbd9c",
        id="table-id-bare",
    ),
    pytest.param(
        {"table_id": "t1"}, TableCreated, lambda t: t.table_id == "t1", id="table-id-object"
    ),
    pytest.param(
        ["673e9cda9f7bc178002dbd9c"],
        ImportTasks,
        lambda t: t.task_ids == ["673e9cda9f7bc178002dbd9c"],
        id="import-task-list",
    ),
    pytest.param("t1", ImportTasks, lambda t: t.task_ids == ["t1"], id="import-task-one-id"),
    pytest.param(
        {"bot_id": "b", "tags": "Tags of the agent"},
        Agent,
        lambda a: a.tags == ["Tags of the agent"],
        id="tags-string",
    ),
    pytest.param(
        {"bot_id": "b", "tags": ["a", "b"]}, Agent, lambda a: a.tags == ["a", "b"], id="tags-list"
    ),
]


@pytest.mark.parametrize(("body", "cls", "check"), FORMS)
def test_every_documented_form_decodes_strictly(body: Any, cls: Any, check: Any) -> None:
    """Each form the vendor pages give (example or field table) decodes, typed, even in
    strict mode: they are documented, not drift."""
    result = structure(body, cls, strict=True)

    assert check(result)


# --------------------------------------------------------------------------- to_dict


def test_to_dict_is_wire_shaped_json_that_decodes_back() -> None:
    """``to_dict()`` gives plain JSON under the wire names (aliases), unknown fields
    included, and decodes back into an equal model."""
    body = {
        "conversation_id": "c1",
        "message_id": "m1",
        "output": [{"from_component_branch": "1", "content": {"text": "Hi", "audio": []}}],
        "usage": {"credits": {"total_credits": 0.5}},
        "trace": {"id": 7},
    }
    reply = structure(body, MessageReply, strict=False)

    data = reply.to_dict()

    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["trace"] == {"id": 7}
    assert data["output"][0]["content"] == {"text": "Hi", "audio": []}
    assert structure(data, MessageReply) == reply
    changes = structure({"failed": [{"doc_id": "d"}], "doc": []}, DocumentChanges)
    assert changes.to_dict()["failed"] == [
        {"doc_id": "d", "doc_name": None, "file_name": None, "name": None, "reason": None}
    ]


def test_to_dict_uses_wire_names_for_aliased_fields() -> None:
    """camelCase and renamed fields come out under the key the API uses."""
    result = structure({"totalCount": 1, "fail_detail": []}, RecordUpdateResult)

    assert result.to_dict() == {
        "totalCount": 1,
        "success_count": None,
        "fail_count": None,
        "fail_detail": [],
    }


def test_models_built_in_code_have_empty_raw_and_compare_without_it() -> None:
    """A model made in code has no raw data; raw and decode_errors never affect equality."""
    built = Agent("b1", name="x")
    decoded = structure({"bot_id": "b1", "name": "x", "other": True}, Agent)

    assert built.raw == {} and built.decode_errors == ()
    assert built == decoded
    assert "raw" not in repr(decoded)
    assert isinstance(decoded, Model)


async def test_a_fastapi_endpoint_can_return_a_model() -> None:
    """A FastAPI endpoint returns ``model.to_dict()`` and the caller gets the wire JSON."""
    fastapi = pytest.importorskip("fastapi")
    app = fastapi.FastAPI()
    reply = structure(
        {"conversation_id": "c1", "message_id": "m1", "create_time": 1, "extra": [1]},
        MessageReply,
    )

    @app.get("/reply")
    async def get_reply() -> dict[str, Any]:
        return reply.to_dict()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        response = await http.get("/reply")

    assert response.status_code == 200
    assert response.json() == reply.to_dict()
    assert structure(response.json(), MessageReply) == reply
