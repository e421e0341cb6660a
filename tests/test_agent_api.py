"""The Agent category beyond the detail call: key check, versions and private Skills
(REFERENCE §4.3, endpoints 17-23), against respx and the simulator."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import respx

from altabots_async import AsyncAltaBots, BadRequestError, NotFoundError, PermissionDeniedError
from altabots_async._checks import InvalidParameterError
from altabots_async.resources.agent import AgentResource
from altabots_async.types.agent import (
    ApiKeyInfo,
    Skill,
    Version,
    VersionImport,
    VersionRelease,
    VersionRollback,
)

pytestmark = pytest.mark.anyio

BASE = "https://altatech.ai/"
KEY = "sk-test"
BOT = "65a1b2c3d4e5f60718293a4b"

Call = Callable[[AgentResource], Awaitable[Any]]


# router, permits, client, clock, sim, sim_client: shared fixtures in tests/_api_fixtures.py


def skill_package(name: str = "faq-helper", body: str = "Answers FAQs") -> bytes:
    """A minimal Skill package: a zip with a SKILL.md naming it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("SKILL.md", f"---\nname: {name}\n---\n{body}\n")
    return buffer.getvalue()


VERSION_ROW = {
    "id": "v-1",
    "bot_id": BOT,
    "version": "3",
    "version_desc": "spring update",
    "version_status": "PUBLISHED",
    "create_time": 1700000000000,
    "release_time": 1700000100000,
    "creator_email": "a@example.com",
}

JSON_CASES = [
    pytest.param(
        lambda a: a.verify_key(),
        "GET",
        "/v1/api-key/verify",
        None,
        {"type": "agent", "id": BOT},
        lambda r: isinstance(r, ApiKeyInfo) and r.entity_id == BOT and r.type == "agent",
        id="17-verify",
    ),
    pytest.param(
        lambda a: a.versions.list(),
        "GET",
        "/v1/agent/version/list",
        None,
        [VERSION_ROW, {**VERSION_ROW, "version": "4", "release_time": ""}],
        lambda r: isinstance(r[0], Version) and r[0].version_status == "PUBLISHED",
        id="18-list",
    ),
    pytest.param(
        lambda a: a.versions.release(version="4"),
        "POST",
        "/v1/agent/version/release",
        {"version": "4"},
        {"version": "4", "previous_version": "3"},
        lambda r: isinstance(r, VersionRelease) and r.previous_version == "3",
        id="20-release",
    ),
    pytest.param(
        lambda a: a.versions.rollback(version="2", release=True, version_desc="back"),
        "POST",
        "/v1/agent/version/rollback",
        {"version": "2", "release": True, "version_desc": "back"},
        {
            "source_version": "2",
            "new_version": "5",
            "created": True,
            "released": True,
            "warnings": [],
        },
        lambda r: isinstance(r, VersionRollback) and r.new_version == "5" and r.released,
        id="21-rollback",
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "sent", "answer", "check"), JSON_CASES)
async def test_request_and_example_response(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    permits: list[str],
    call: Call,
    method: str,
    path: str,
    sent: Any,
    answer: Any,
    check: Callable[[Any], bool],
) -> None:
    """Each endpoint sends the exact method, path and body through the scheduler (one permit),
    and parses the example."""
    route = router.route(method=method, path=path).respond(200, json=answer)

    result = await call(client.agent)

    request = route.calls.last.request
    assert route.call_count == 1
    assert permits == ["request"]
    assert request.url.params.multi_items() == []
    if sent is None:
        assert request.content == b""
    else:
        assert json.loads(request.content) == sent
    assert check(result)


async def test_import_sends_multipart_file_and_desc(
    client: AsyncAltaBots, router: respx.MockRouter, permits: list[str]
) -> None:
    """Endpoint 19: a multipart ``file`` part and a ``versionDesc`` field; the answer parsed."""
    route = router.post("/v1/agent/version/import").respond(
        200, json={"botId": BOT, "botType": "QuestionAnswer", "version": "5", "warning": None}
    )

    result = await client.agent.versions.import_(
        b"{}", filename="exports/../support.bot", version_desc="from CI"
    )

    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="versionDesc"\r\n\r\nfrom CI' in request.content
    assert b'name="file"; filename="support.bot"' in request.content
    assert isinstance(result, VersionImport)
    assert (result.bot_id, result.version) == (BOT, "5")
    assert permits == ["request"]


@pytest.mark.parametrize(
    ("call", "path", "fields"),
    [
        pytest.param(
            lambda a: a.skills.create(skill_package(), filename="faq.skill", category_id="c1"),
            "/v1/agent/skill/create",
            [b'name="category_id"\r\n\r\nc1'],
            id="22-create",
        ),
        pytest.param(
            lambda a: a.skills.update("s1", skill_package(), filename="faq.zip"),
            "/v1/agent/skill/update",
            [b'name="skill_id"\r\n\r\ns1'],
            id="23-update",
        ),
    ],
)
async def test_skill_uploads(
    client: AsyncAltaBots,
    router: respx.MockRouter,
    permits: list[str],
    call: Call,
    path: str,
    fields: list[bytes],
) -> None:
    """Endpoints 22-23: multipart package plus form fields; ``{skill_id, name, version}`` parsed."""
    route = router.post(path).respond(
        200, json={"skill_id": "s1", "name": "faq-helper", "version": "1"}
    )

    result = await call(client.agent)

    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    for field in fields:
        assert field in request.content
    assert b'name="file"; filename="faq.' in request.content
    assert isinstance(result, Skill)
    assert result.skill_id == "s1"
    assert permits == ["request"]


async def test_permission_error_maps(client: AsyncAltaBots, router: respx.MockRouter) -> None:
    """An HTTP 403 / 403204 answer raises PermissionDeniedError."""
    router.post("/v1/agent/version/release").respond(
        403, json={"code": 403204, "message": "key type mismatch"}
    )

    with pytest.raises(PermissionDeniedError) as info:
        await client.agent.versions.release(version="1")

    assert info.value.code == 403204


BAD_CALLS = [
    pytest.param(lambda a: a.versions.release(version=""), "version", id="release-empty"),
    pytest.param(lambda a: a.versions.rollback(version=" "), "version", id="rollback-empty"),
    pytest.param(
        lambda a: a.versions.import_(b"x", version_desc="d" * 1001), "versionDesc", id="desc"
    ),
    pytest.param(lambda a: a.skills.create(b"x", filename="skill.tar"), "file", id="skill-type"),
    pytest.param(lambda a: a.skills.update("", b"x"), "skill_id", id="skill-id"),
    pytest.param(
        lambda a: a.skills.create(b"x" * (20 * 1024 * 1024 + 1), filename="big.zip"),
        "file",
        id="skill-over-20mib",
    ),
]


@pytest.mark.parametrize(("call", "field"), BAD_CALLS)
async def test_validation_raises_before_any_request(
    client: AsyncAltaBots, router: respx.MockRouter, call: Call, field: str
) -> None:
    """A broken documented limit raises a ValueError naming the field; nothing is sent."""
    with pytest.raises(InvalidParameterError) as info:
        await call(client.agent)

    assert info.value.field == field
    assert router.calls.call_count == 0


@pytest.mark.parametrize("count", [0, 1, 3])
async def test_versions_list_all(
    client: AsyncAltaBots, router: respx.MockRouter, count: int
) -> None:
    """The unpaginated version list walks as one page, whatever its length."""
    rows = [{**VERSION_ROW, "version": str(i)} for i in range(count)]
    route = router.get("/v1/agent/version/list").respond(200, json=rows)

    versions = [v.version async for v in client.agent.versions.list_all()]

    assert versions == [str(i) for i in range(count)]
    assert route.call_count == 1


# ----------------------------------------------------------------------------- simulator


async def test_round_trip_versions(sim_client: AsyncAltaBots) -> None:
    """Import adds a draft, release publishes it, rollback copies an old one and publishes."""
    versions = sim_client.agent.versions
    assert [(v.version, v.version_status) for v in await versions.list()] == [("1", "PUBLISHED")]

    draft = await versions.import_(b'{"bot": 1}', filename="support.bot", version_desc="v2")
    assert draft.version == "2"
    released = await versions.release(version="2")
    assert (released.version, released.previous_version) == ("2", "1")
    rolled = await versions.rollback(version="1", release=True)
    assert (rolled.source_version, rolled.new_version, rolled.released) == ("1", "3", True)

    statuses = {v.version: v.version_status for v in await versions.list()}
    assert statuses == {"1": "OFFLINE", "2": "OFFLINE", "3": "PUBLISHED"}


async def test_round_trip_version_errors(sim_client: AsyncAltaBots) -> None:
    """A missing version is 403203; a file of the wrong type is 403201."""
    with pytest.raises(NotFoundError) as info:
        await sim_client.agent.versions.release(version="99")
    assert info.value.code == 403203

    with pytest.raises(BadRequestError) as refused:
        await sim_client.agent.versions.import_(b"{}", filename="support.flow")
    assert refused.value.code == 403201


async def test_round_trip_key_and_skills(sim_client: AsyncAltaBots) -> None:
    """The key names its agent; a Skill is created, updated (new version), and re-sent (no-op)."""
    info = await sim_client.agent.verify_key()
    agent = await sim_client.agent.retrieve()
    assert (info.type, info.entity_id) == ("agent", agent.bot_id)

    skill = await sim_client.agent.skills.create(skill_package(), filename="faq.skill")
    assert (skill.name, skill.version) == ("faq-helper", "1")
    changed = await sim_client.agent.skills.update(
        skill.skill_id, skill_package(body="More FAQs"), filename="faq.skill"
    )
    assert changed.version == "2"
    same = await sim_client.agent.skills.update(
        skill.skill_id, skill_package(body="More FAQs"), filename="faq.skill"
    )
    assert same.version == "2"
