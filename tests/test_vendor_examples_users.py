"""The vendor's own examples: the User category (issue 11, items 2, 4 and 5).

Pages (vendor docs repository, under ``docs/users/``): Set UserID V2.md, Update UserID.md
(Update User Attributes), Query User Attributes.md, Query User CDP.md. The statuses 503/504
of Query User Attributes are tested in tests/test_endpoint_errors.py.
"""

from __future__ import annotations

import pytest
import respx

from altabots_async import AsyncAltaBots
from altabots_async.types import AnonymousId
from tests._vendor_examples import (
    assert_contains,
    assert_documented_shape,
    assert_request,
    example,
    last_request,
)

pytestmark = pytest.mark.anyio

# docs/users/Set UserID V2.md, request body and "Response Body" (as printed).
SET_REQUEST = example("""
{
    "user_id": "67b58121035e5b152b0419ee",
    "anonymous_ids": [
        {
            "anonymous_id": "6a0dnyvi3jc32flk7enw",
            "conversation_type": "SHARE"
        },
        {
            "anonymous_id": "6a0dnyvi3jc32flk7enw",
            "conversation_type": "TELEGRAM",
            "source_id": "bot_029392"
        }
    ]
}
""")
SET = example("""
{
    "code": 0,
    "message": "OK",
    "data": {
        "user_id": "67b58121035e5b152b0419ee",
        "anonymous_ids": [
            {
                "anonymous_id": "6a0dnyvi3jc32flk7enw",
                "conversation_type": "SHARE",
                "source_id": null
            },
            {
                "anonymous_id": "6a0dnyvi3jc32flk7enw",
                "conversation_type": "TELEGRAM",
                "source_id": "bot_029392"
            }
        ]
    }
}
""")

# docs/users/Update UserID.md, request body and "Response Example" (as printed).
UPDATE_REQUEST = example("""
{
        "user_id": "example_user_id",
        "property_values": [
          {
            "property_name": "example_property_name",
            "value": "example_value"
          }
        ]
}
""")
UPDATED = example("""
{
  "success_update": [
    {
      "property_name": "vip_level",
      "value": "gold"
    }
  ],
  "fail_update": [
    {
      "property_name": "last_purchase",
      "value": "2025-11-15"
    }
  ]
}
""")

# docs/users/Query User Attributes.md, "Example Response Body" (as printed).
ATTRIBUTES = example("""
[
  {
    "user_id": "681db9dd3f650a117cf60775",
    "property_values": [
      {
        "propertyName": "id",
        "value": "1234"
      },
      {
        "propertyName": "name",
        "value": "Sarah"
      }
    ]
  },
  {
    "anonymous_id": "681db9dd3f650a117cf60775",
    "property_values": [
      {
        "propertyName": "id",
        "value": "1234"
      },
      {
        "propertyName": "name",
        "value": "Sarah"
      }
    ]
  }
]
""")

# docs/users/Query User CDP.md, "Response Body" (as printed).
CDP = example("""
{
    "code": 0,
    "message": "OK",
    "data": {
        "user1": {
            "user_id": "user1",
            "anonymous_ids": [
                {
                    "anonymous_id": "aId3",
                    "conversation_type": "WEB",
                    "source_id": null
                }
            ]
        },
        "67b58121035e5b152b0419ee": {
            "user_id": "67b58121035e5b152b0419ee",
            "anonymous_ids": [
                {
                    "anonymous_id": "aId3",
                    "conversation_type": "C",
                    "source_id": null
                }
            ]
        }
    }
}
""")


async def test_set_user_id_example(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """The request example is what ``set_user_id`` sends; the binding decodes (a null
    ``source_id`` included)."""
    route = router.post("/v1/user/set-userid").respond(200, json=SET)

    binding = await client.users.set_user_id(
        user_id=SET_REQUEST["user_id"],
        anonymous_ids=[
            AnonymousId("6a0dnyvi3jc32flk7enw", "SHARE"),
            AnonymousId("6a0dnyvi3jc32flk7enw", "TELEGRAM", "bot_029392"),
        ],
    )

    assert_request(last_request(route), "POST", "/v1/user/set-userid", body=SET_REQUEST)
    assert binding.to_dict() == SET["data"]


async def test_set_user_id_does_not_refuse_more_than_100(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """Past 100 bindings the server drops the oldest: the client sends 150, refusing none."""
    route = router.post("/v1/user/set-userid").respond(200, json=SET)
    ids = [AnonymousId(f"a{n}", "API") for n in range(150)]

    await client.users.set_user_id(user_id="u1", anonymous_ids=ids)

    assert route.call_count == 1


async def test_simulator_evicts_the_oldest_bindings_past_100(sim_client: AsyncAltaBots) -> None:
    """The simulator keeps the 100 newest bindings of a user (a rebound one counts as new),
    never refusing more, and answers in the example's form."""
    first = [AnonymousId(f"a{n}", "TELEGRAM", "bot_1") for n in range(60)]
    await sim_client.users.set_user_id(user_id="u1", anonymous_ids=first)
    await sim_client.users.set_user_id(user_id="u1", anonymous_ids=[first[0]])  # refreshed
    second = [AnonymousId(f"b{n}", "SHARE") for n in range(50)]
    raw = await sim_client.users.with_raw_response.set_user_id(user_id="u1", anonymous_ids=second)

    kept = [item.anonymous_id for item in raw.parse().anonymous_ids]
    assert len(kept) == 100
    assert kept[:49] == [f"a{n}" for n in range(11, 60)]
    assert kept[49] == "a0"
    assert kept[50:] == [f"b{n}" for n in range(50)]
    assert_documented_shape(raw.body, SET)


async def test_update_user_attributes_example(
    client: AsyncAltaBots, router: respx.MockRouter
) -> None:
    """The request example is what ``update_properties`` sends; both lists decode."""
    route = router.post("/v1/property/update").respond(200, json=UPDATED)

    result = await client.users.update_properties(
        user_id="example_user_id", property_values={"example_property_name": "example_value"}
    )

    assert_request(last_request(route), "POST", "/v1/property/update", body=UPDATE_REQUEST)
    assert result.to_dict() == UPDATED


@pytest.mark.parametrize(
    ("arguments", "query"),
    [
        ({"user_ids": ["681db9dd3f650a117cf60775"]}, [("user_ids", "681db9dd3f650a117cf60775")]),
        (
            {"anonymous_ids": ["681db9dd3f650a117cf60775"]},
            [("anonymous_ids", "681db9dd3f650a117cf60775")],
        ),
        (  # the curl example sends both; user_ids takes precedence, so only it is sent
            {
                "user_ids": ["681db9dd3f650a117cf60775"],
                "anonymous_ids": ["681db9dd3f650a117cf60775"],
            },
            [("user_ids", "681db9dd3f650a117cf60775")],
        ),
    ],
    ids=["user_ids", "anonymous_ids", "both"],
)
async def test_query_user_attributes_example(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    arguments: dict[str, list[str]],
    query: list[tuple[str, str]],
) -> None:
    """``GET /v2/user-property/query`` with the ids in the query; the example's rows decode
    with their ``propertyName`` keys."""
    route = router.get("/v2/user-property/query").respond(200, json=ATTRIBUTES)

    rows = await client.users.query_properties(**arguments)

    assert_request(last_request(route), "GET", "/v2/user-property/query", query=query)
    assert [(r.user_id, r.anonymous_id) for r in rows] == [
        ("681db9dd3f650a117cf60775", None),
        (None, "681db9dd3f650a117cf60775"),
    ]
    assert [(p.property_name, p.value) for p in rows[0].property_values] == [
        ("id", "1234"),
        ("name", "Sarah"),
    ]


@pytest.mark.parametrize(
    ("arguments", "query"),
    [
        ({"user_id": "BC123"}, [("user_id", "BC123")]),
        ({"anonymous_id": "22ses32dsafdabd1w2sad"}, [("anonymous_id", "22ses32dsafdabd1w2sad")]),
        (
            {"user_id": "BC123", "anonymous_id": "22ses32dsafdabd1w2sad"},
            [("user_id", "BC123"), ("anonymous_id", "22ses32dsafdabd1w2sad")],
        ),
    ],
    ids=["user_id", "anonymous_id", "both"],
)
async def test_query_user_cdp_examples(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    arguments: dict[str, str],
    query: list[tuple[str, str]],
) -> None:
    """The three curl examples' queries; the map keyed by user id decodes."""
    route = router.get("/v1/user/get-user-cdp").respond(200, json=CDP)

    bindings = await client.users.get_cdp(**arguments)

    assert_request(last_request(route), "GET", "/v1/user/get-user-cdp", query=query)
    assert sorted(bindings) == ["67b58121035e5b152b0419ee", "user1"]
    assert bindings["user1"].anonymous_ids[0].conversation_type == "WEB"
    assert_contains({k: v.to_dict() for k, v in bindings.items()}, CDP["data"])


async def test_simulator_answers_user_calls_in_the_documented_form(
    sim_client: AsyncAltaBots,
) -> None:
    """Update, query and CDP answers of the simulator have the examples' keys and kinds."""
    await sim_client.users.set_user_id(
        user_id="u1", anonymous_ids=[AnonymousId("a1", "TELEGRAM", "bot_1")]
    )
    updated = await sim_client.users.with_raw_response.update_properties(
        user_id="u1", property_values={"vip_level": "gold"}
    )
    queried = await sim_client.users.with_raw_response.query_properties(user_ids=["u1"])
    cdp = await sim_client.users.with_raw_response.get_cdp(user_id="u1")

    assert updated.body["fail_update"] == []
    assert_documented_shape(updated.body, UPDATED)
    assert_documented_shape(queried.body, ATTRIBUTES, free=["body[0].property_values[0].value"])
    assert_documented_shape(
        cdp.body,
        {**CDP, "data": {"u1": {**CDP["data"]["user1"], "user_id": "u1"}}},
        free=["body.data.u1.anonymous_ids[0].source_id"],
    )
