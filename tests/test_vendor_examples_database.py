"""The vendor's own examples: the Database category (issue 11, items 4 and 5).

Pages (vendor docs repository, under ``docs/database/``): Create_Database_Table.md,
Add_Table_Data.md, Query_Status_of_Adding_Table_Data.md, Retrieve_Database_Records.md,
Update_Table_Data.md, Delete_Table_Data.md. Four of their request examples and one response
example are not valid JSON as printed; each is repaired minimally, as said beside it.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx

from altabots_async import AsyncAltaBots, BadRequestError, InvalidParameterError
from altabots_async.types import ImportResult, TableField
from tests._vendor_examples import (
    assert_contains,
    assert_documented_shape,
    assert_request,
    example,
    last_request,
)

pytestmark = pytest.mark.anyio

TABLE = "673af861ed69656ac0895b07"

# --------------------------------------------------------------------------- create table

# docs/database/Create_Database_Table.md, "Request Example" body (as printed).
CREATE_REQUEST = example("""
{
    "name": "test_api",
    "description": "Test all database APIs",
    "fields": [
        {
            "name": "id",
            "description": "id",
            "type": "TEXT",
            "required": true,
            "unique": true
        },
        {
            "name": "boolean",
            "description": "boolean",
            "type": "BOOLEAN",
            "required": true,
            "unique": false
        },
        {
            "name": "int",
            "description": "int",
            "type": "INT",
            "required": true,
            "unique": true
        },
        {
            "name": "datetime",
            "description": "datetime",
            "type": "DATETIME",
            "required": true,
            "unique": false
        },
        {
            "name": "float",
            "description": "float",
            "type": "FLOAT",
            "required": false,
            "unique": false
        }
    ]
}
""")

# The page prints no response example; its table: {code, message, data} with data "the
# unique identifier of the data table" (typed "object"). Both a bare id and an object decode.
CREATED_FORMS = [
    {"code": 0, "message": "OK", "data": "673e9c7a9f7bc178002dbce8"},
    {"code": 0, "message": "OK", "data": {"table_id": "673e9c7a9f7bc178002dbce8"}},
]


@pytest.mark.parametrize("answer", CREATED_FORMS, ids=["data-id", "data-object"])
async def test_create_database_table_example(
    client: AsyncAltaBots, router: respx.MockRouter, answer: dict[str, Any]
) -> None:
    """The request example is what ``create_table`` sends for its fields; the table id is
    read from either documented form of ``data``."""
    route = router.post("/v1/database/create-table").respond(200, json=answer)

    created = await client.databases.create_table(
        name=CREATE_REQUEST["name"],
        description=CREATE_REQUEST["description"],
        fields=[TableField(**field) for field in CREATE_REQUEST["fields"]],
    )

    assert_request(last_request(route), "POST", "/v1/database/create-table", body=CREATE_REQUEST)
    assert created.table_id == "673e9c7a9f7bc178002dbce8"


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ({"name": "id", "type": "TEXT"}, "fields[0].description"),
        ({"name": "id", "type": "TEXT", "description": ""}, "fields[0].description"),
        ({"name": "id", "type": "TEXT", "description": "d" * 129}, "fields[0].description"),
        ({"name": "Order-No", "type": "TEXT", "description": "d"}, "fields[0].name"),
    ],
)
async def test_create_table_field_rules_are_checked_before_sending(
    client: AsyncAltaBots, permits: list[str], field: dict[str, Any], problem: str
) -> None:
    """``fields[].description`` is required (<= 128) and a field name is ``[a-z0-9_]``, as
    the page's request table says: InvalidParameterError, nothing sent."""
    with pytest.raises(InvalidParameterError) as info:
        await client.databases.create_table(name="t", description="d", fields=[field])

    assert info.value.field == problem
    assert permits == []


async def test_simulator_requires_field_descriptions(sim_client: AsyncAltaBots) -> None:
    """The simulator refuses a field without description (40000), and creates the page's
    example table, answering ``data`` with the new id."""
    with pytest.raises(BadRequestError) as info:
        await sim_client._request(
            "POST",
            "v1/database/create-table",
            cast_to=dict,
            json={"name": "t", "description": "d", "fields": [{"name": "a", "type": "TEXT"}]},
        )
    assert info.value.code == 40000

    raw = await sim_client._request(
        "POST", "v1/database/create-table", cast_to=str, json=CREATE_REQUEST
    )
    assert isinstance(raw, str)


# --------------------------------------------------------------------------- import rows

# docs/database/Add_Table_Data.md, "Request Example" body. Repaired: the printed body has a
# stray "}" and "]" after the records array (unbalanced); both removed.
IMPORT_REQUEST = example("""
{
    "table_id": "673af861ed69656ac0895b07",
      "records": [
        {
                "id": "7424489",
                "name": "4455566777777"
        },
        {
                "id": "7852549",
                "name": "446656677665"
        }
    ]
}
""")

# docs/database/Add_Table_Data.md, "Response Example" (as printed).
IMPORTED = example("""
{
    "code": 0,
    "message": "OK",
    "data": [
        "673e9cda9f7bc178002dbd9c"
    ]
}
""")

# docs/database/Query_Status_of_Adding_Table_Data.md, first "Response Example". Repaired:
# the printed array ends with "}" instead of "]".
IMPORT_STATUS = example("""
[
    {
        "id": "68ec7ad3e307920f002648cd",
        "progress": 1,
        "status": "FAIL",
        "total_count": 4,
        "success_count": 0,
        "fail_count": 4,
        "fail_detail": [
            {
                "row": null,
                "row_number_start": 1,
                "row_number_end": 2,
                "fail_reason": "(1062, \\"Duplicate entry '14' for key 'product_feed_090833.id'\\")"
            },
            {
                "row": 2,
                "row_number_start": 0,
                "row_number_end": 0,
                "fail_reason": "`id` must be unique, but the value '14' is duplicated (first at row `1`)."
            },
            {
                "row": 4,
                "row_number_start": 0,
                "row_number_end": 0,
                "fail_reason": "`no` is required and must have a value; the current value is invalid or the property is missing. `no` must be unique, but the value is empty or the property is missing."
            }
        ]
    }
]
""")

# The same page, the example after "How to Interpret the Response Information". Repaired: the
# "Status Code: 200" line before the JSON removed.
IMPORT_STATUS_2 = example("""
[
  {
    "id": "68ee001a7e0b4e6bce74cd6a",
    "progress": 100,
    "status": "AVAILABLE",
    "total_count": null,
    "success_count": 1,
    "fail_count": 1,
    "fail_detail": [
      {
        "row_number_start": 0,
        "row_number_end": 0,
        "fail_reason": "`no` is required and must have a value; the current value is invalid or the property is missing. `no` must be unique, but the value is empty or the property is missing."
      }
    ]
  }
]
""")


async def test_add_table_data_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The (repaired) request example is what ``import_records`` sends; the task id comes
    from ``data``."""
    route = router.post("/v1/database/import/records").respond(200, json=IMPORTED)

    tasks = await client.databases.import_records(
        table_id=IMPORT_REQUEST["table_id"], records=IMPORT_REQUEST["records"]
    )

    assert_request(last_request(route), "POST", "/v1/database/import/records", body=IMPORT_REQUEST)
    assert tasks.task_ids == ["673e9cda9f7bc178002dbd9c"]


@pytest.mark.parametrize("answer", [IMPORT_STATUS, IMPORT_STATUS_2], ids=["fail", "available"])
async def test_query_status_of_adding_table_data_examples(
    client: AsyncAltaBots, router: respx.MockRouter, answer: list[Any]
) -> None:
    """``GET ...?ids=id1&ids=id2`` (repeated, as the curl example); both examples decode
    whole, nulls included."""
    route = router.get("/v1/database/query/import-results").respond(200, json=answer)

    [result] = await client.databases.import_results(["id1", "id2"])

    assert_request(
        last_request(route),
        "GET",
        "/v1/database/query/import-results",
        query=[("ids", "id1"), ("ids", "id2")],
    )
    assert isinstance(result, ImportResult)
    assert result.decode_errors == ()
    assert result.id == answer[0]["id"]
    assert [f.fail_reason for f in result.fail_detail] == [
        f["fail_reason"] for f in answer[0]["fail_detail"]
    ]
    assert_contains(result.to_dict(), {**answer[0], "fail_detail": result.to_dict()["fail_detail"]})


# --------------------------------------------------------------------------- records

# docs/database/Retrieve_Database_Records.md, "Request Example" body. Repaired: a comma
# added after "table_id" and the "// Either user-defined filter conditions or keyword must
# be chosen" comment removed.
RECORDS_REQUEST = example("""
{
    "table_id": "673d7d00ce119a7e9f47d152",
    "page": 1,
    "page_size": 10,
    "filter": {
        "id": "1",
        "int": 100
    },
    "keyword":"keyword"
}
""")

# docs/database/Retrieve_Database_Records.md, "Response Example" (as printed).
RECORDS = example("""
{
    "code": 0,
    "message": "OK",
    "data": {
        "table_info": {
            "id": "673e9c7a9f7bc178002dbce8",
            "name": "test_api",
            "description": "Test all database APIs",
            "field_count": 5,
            "fields": [
                {
                    "name": "id",
                    "description": "id",
                    "type": "TEXT",
                    "required": true,
                    "unique": true
                },
                {
                    "name": "boolean",
                    "description": "boolean",
                    "type": "BOOLEAN",
                    "required": true,
                    "unique": false
                },
                {
                    "name": "int",
                    "description": "int",
                    "type": "INT",
                    "required": true,
                    "unique": true
                },
                {
                    "name": "datetime",
                    "description": "datetime",
                    "type": "DATETIME",
                    "required": true,
                    "unique": false
                },
                {
                    "name": "float",
                    "description": "float",
                    "type": "FLOAT",
                    "required": false,
                    "unique": false
                }
            ],
            "bot_id": "673e93aca7c4223becf6caf0",
            "project_id": "665465e2b5c78e6c7ab92d2b",
            "owner_id": "665465e2b5c78e6c7ab92d28"
        },
        "records": [
            {
                "id": "541278230707963208",
                "value": {
                    "id": "1",
                    "boolean": true,
                    "int": 1,
                    "datetime": "2029-10-01 12:00:00",
                    "float": 2024.21
                },
                "created_at": 1732156566000,
                "updated_at": 1732156607000
            }
        ],
        "total_count": 2
    }
}
""")


def _table_form(records: dict[str, Any]) -> dict[str, Any]:
    """The page's field tables: the table object is headed "tableInfo" and counts its
    fields in "fieldCount" (the example: "table_info", "field_count")."""
    data = dict(records["data"])
    info = dict(data.pop("table_info"))
    info["fieldCount"] = info.pop("field_count")
    return {**records, "data": {**data, "tableInfo": info}}


@pytest.mark.parametrize("answer", [RECORDS, _table_form(RECORDS)], ids=["example", "table-form"])
async def test_retrieve_database_records_example(
    client: AsyncAltaBots, router: respx.MockRouter, answer: dict[str, Any]
) -> None:
    """The documented filter on two unique fields plus a keyword is sent as is (not refused
    locally); the wrapped answer decodes in both documented spellings."""
    route = router.post("/v1/database/records/page").respond(200, json=answer)

    page = await client.databases.list_records(
        table_id=RECORDS_REQUEST["table_id"],
        page=1,
        page_size=10,
        filter=RECORDS_REQUEST["filter"],
        keyword="keyword",
    )

    assert_request(last_request(route), "POST", "/v1/database/records/page", body=RECORDS_REQUEST)
    assert page.total_count == 2
    assert page.table_info is not None
    assert (page.table_info.name, page.table_info.field_count) == ("test_api", 5)
    assert [f.name for f in page.table_info.fields] == ["id", "boolean", "int", "datetime", "float"]
    [record] = page.records
    assert record.value == RECORDS["data"]["records"][0]["value"]
    assert page.decode_errors == ()


async def test_simulator_filters_on_several_fields_and_a_keyword(
    sim_client: AsyncAltaBots,
) -> None:
    """The simulator takes the page's two-field filter (every pair must match), alone or with
    a keyword, and answers in the example's form."""
    db = sim_client.databases
    created = await db.create_table(
        name=CREATE_REQUEST["name"],
        description=CREATE_REQUEST["description"],
        fields=CREATE_REQUEST["fields"],
    )
    rows = [
        {"id": "1", "boolean": True, "int": 100, "datetime": "2029-10-01 12:00:00", "float": 1.5},
        {"id": "1x", "boolean": True, "int": 101, "datetime": "2029-10-01 12:00:00"},
        {"id": "2", "boolean": False, "int": 200, "datetime": "2029-10-02 12:00:00"},
    ]
    await db.import_records(table_id=created.table_id, records=rows)

    both = await db.list_records(table_id=created.table_id, filter={"id": "1", "int": 100})
    with_keyword = await db.list_records(
        table_id=created.table_id, filter={"boolean": True}, keyword="1x"
    )
    raw = await db.with_raw_response.list_records(
        table_id=created.table_id, filter=RECORDS_REQUEST["filter"], keyword="1"
    )

    assert [r.value["id"] for r in both.records] == ["1"]
    assert [r.value["id"] for r in with_keyword.records] == ["1x"]
    assert_documented_shape(raw.body, RECORDS)


# --------------------------------------------------------------------------- update, delete

# docs/database/Update_Table_Data.md, "Request Example" body. Repaired: the printed body
# misses the "}" closing each "updated_fields" object; added.
UPDATE_REQUEST = example("""
{
      "table_id": "673af861ed69656ac0895b07",
      "is_create": true,
      "update_data":[
        {
          "record_id":"123456",
          "updated_fields": {
          "name": "andy",
          "age": "30"
          }
        },
        {
          "filter": {
          "id": "789"
          },
          "updated_fields": {
          "name": "mop",
          "age": "32"
          }
        }
      ]
}
""")

# docs/database/Update_Table_Data.md, "Response Example" (as printed).
UPDATED = example("""
{
    "totalCount": 4,
    "success_count": 2,
    "fail_count": 2,
    "fail_detail": [
        {
            "upsert_data": {
                "record_id": "123456",
                "value": {
                    "name": "test user",
                    "email": "invalid_email"
                }
            },
            "fail_reason": "Invalid email format"
        },
        {
            "upsert_data": {
                "filter": {
                    "id": "789"
                },
                "value": {
                    "name": "test user",
                    "email": "invalid_email"
                }
            },
            "fail_reason": "Invalid email format"
        }
    ]
}
""")

# The page's field table types the counts as strings and fail_reason as an array.
UPDATED_TABLE_FORM = {
    **UPDATED,
    "success_count": "2",
    "fail_count": "2",
    "fail_detail": [
        {**item, "fail_reason": [item["fail_reason"]]} for item in UPDATED["fail_detail"]
    ],
}

# docs/database/Delete_Table_Data.md, "Request Example" body. Repaired: the trailing comma
# after "123456" removed and the "}" closing the second item added.
DELETE_REQUEST = example("""
{
      "table_id": "673af861ed69656ac0895b07",
      "delete_data":[
        {
          "record_id":"123456"
        },
        {
          "filter": {
          "id": "789"
          }
        }
      ]
}
""")

# docs/database/Delete_Table_Data.md, "Response Example" (as printed).
DELETED = example("""
{
    "code": 0,
    "message": "OK"
}
""")


@pytest.mark.parametrize("answer", [UPDATED, UPDATED_TABLE_FORM], ids=["example", "table-form"])
async def test_update_table_data_example(
    client: AsyncAltaBots, router: respx.MockRouter, answer: dict[str, Any]
) -> None:
    """The (repaired) request example is what ``update_records`` sends; the answer decodes
    with ``fail_reason`` as a string (example) or an array (table)."""
    route = router.post("/v2/database/update/record").respond(200, json=answer)

    result = await client.databases.update_records(
        table_id=TABLE, update_data=UPDATE_REQUEST["update_data"], is_create=True
    )

    assert_request(last_request(route), "POST", "/v2/database/update/record", body=UPDATE_REQUEST)
    assert (result.total_count, result.success_count, result.fail_count) == (4, 2, 2)
    assert [f.fail_reasons for f in result.fail_detail] == [["Invalid email format"]] * 2
    assert result.fail_detail[1].upsert_data == UPDATED["fail_detail"][1]["upsert_data"]
    assert result.decode_errors == ()


async def test_delete_table_data_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The (repaired) request example is what ``delete_records`` sends; ``{code, message}``
    comes back."""
    route = router.post("/v2/database/delete/record").respond(200, json=DELETED)

    ack = await client.databases.delete_records(
        table_id=TABLE, delete_data=DELETE_REQUEST["delete_data"]
    )

    assert_request(last_request(route), "POST", "/v2/database/delete/record", body=DELETE_REQUEST)
    assert (ack.code, ack.message) == (0, "OK")


async def test_simulator_answers_the_database_calls_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """Import, import status, update and delete answers of the simulator have the examples'
    keys and kinds."""
    db = sim_client.databases
    created = await db.create_table(
        name="orders",
        description="Orders",
        fields=[
            {"name": "id", "description": "id", "type": "TEXT", "unique": True},
            {"name": "no", "description": "number", "type": "INT", "required": True},
        ],
    )
    rows = [{"id": "1", "no": 1}, {"id": "1", "no": 2}, {"id": "2"}]
    imported = await db.with_raw_response.import_records(table_id=created.table_id, records=rows)
    [task_id] = imported.body["data"]
    status = await db.with_raw_response.import_results([task_id])
    page = await db.list_records(table_id=created.table_id)
    updated = await db.with_raw_response.update_records(
        table_id=created.table_id,
        update_data=[
            {"record_id": page.records[0].id, "updated_fields": {"no": 5}},
            {"filter": {"id": "404"}, "updated_fields": {"no": 1}},
        ],
    )
    deleted = await db.with_raw_response.delete_records(
        table_id=created.table_id, delete_data=[{"record_id": page.records[0].id}]
    )

    assert_documented_shape(imported.body, IMPORTED)
    assert_documented_shape(  # a row's own failure has no row range: the second example
        status.body, IMPORT_STATUS, nullable=["body[0].total_count"]
    )
    assert [f["row_number_start"] for f in status.body[0]["fail_detail"]] == [0, 0]
    assert_documented_shape(  # the failed item selected by filter: the example's second
        updated.body,
        {**UPDATED, "fail_detail": UPDATED["fail_detail"][1:]},
        free=[
            "body.fail_detail[0].upsert_data.filter",
            "body.fail_detail[0].upsert_data.value",
        ],
    )
    assert_documented_shape(deleted.body, DELETED)


async def test_update_body_over_5_mb_is_refused_before_sending(
    client: AsyncAltaBots, permits: list[str]
) -> None:
    """ "The total JSON request body size for updates is limited to 5MB": a bigger update is
    an InvalidParameterError and nothing is sent."""
    big = {"record_id": "r1", "updated_fields": {"text": "x" * (5 * 1024 * 1024)}}

    with pytest.raises(InvalidParameterError) as info:
        await client.databases.update_records(table_id=TABLE, update_data=[big])

    assert info.value.field == "update_data"
    assert permits == []
