"""Key check, version management (agent and workflow) and private Skills (REFERENCE §4.3, §4.8).

Versions live in ``ctx.store.data["versions"][kind]`` (kind ``agent`` or ``workflow``), starting
with version ``"1"`` published. Imports add draft versions; release publishes one (the previous
published one becomes ``OFFLINE``); rollback copies an old version into a new one.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

from .._http import Context, Response, RouteTable
from ._common import bad, extension, guard_deleted_agent, multipart, str_field

__all__ = ["routes"]

routes = RouteTable()

VERSION_NOT_FOUND = 403203
WRONG_FILE_TYPE = 403201
UNPARSABLE_FILE = 403202
SKILL_MAX_BYTES = 20 * 1024 * 1024


def _versions(ctx: Context, kind: str) -> list[dict[str, Any]]:
    books: dict[str, list[dict[str, Any]]] = ctx.store.data.setdefault("versions", {})
    if kind not in books:
        books[kind] = [
            {
                "id": ctx.state.new_id(),
                "bot_id": ctx.store.agent["bot_id"],
                "version": "1",
                "version_desc": "initial version",
                "version_status": "PUBLISHED",
                "create_time": int(ctx.now * 1000),
                "release_time": int(ctx.now * 1000),
                "creator_email": "owner@example.com",
            }
        ]
    return books[kind]


def _next_number(versions: list[dict[str, Any]]) -> str:
    return str(max(int(v["version"]) for v in versions if str(v["version"]).isdigit()) + 1)


def _find(versions: list[dict[str, Any]], number: Any) -> dict[str, Any]:
    for version in versions:
        if version["version"] == str(number):
            return version
    raise bad(f"version {number} not found", VERSION_NOT_FOUND, 404)


def _new_version(
    ctx: Context, versions: list[dict[str, Any]], number: str, desc: str | None
) -> dict[str, Any]:
    version = {
        "id": ctx.state.new_id(),
        "bot_id": ctx.store.agent["bot_id"],
        "version": number,
        "version_desc": desc or "",
        "version_status": "DRAFT",
        "create_time": int(ctx.now * 1000),
        "release_time": "",
        "creator_email": "api@example.com",
    }
    versions.append(version)
    return version


def _publish(ctx: Context, versions: list[dict[str, Any]], target: dict[str, Any]) -> str | None:
    previous = None
    for version in versions:
        if version["version_status"] == "PUBLISHED" and version is not target:
            version["version_status"] = "OFFLINE"
            previous = version["version"]
    target["version_status"] = "PUBLISHED"
    target["release_time"] = int(ctx.now * 1000)
    return previous


@routes.get("/v1/api-key/verify")
async def verify_key(ctx: Context) -> Response:
    """GET /v1/api-key/verify: the key's entity (always an agent here)."""
    return Response.json({"type": "agent", "id": ctx.store.agent["bot_id"], "valid": True})


def _version_routes(kind: str, file_ext: str) -> None:
    prefix = f"/v1/{kind}/version"

    @routes.get(f"{prefix}/list")
    async def version_list(ctx: Context) -> Response:
        """List versions, oldest first."""
        return Response.json(_versions(ctx, kind))

    @routes.post(f"{prefix}/import")
    async def version_import(ctx: Context) -> Response:
        """Import a file as a new draft version (403201 wrong type, 403202 empty)."""
        fields, files = multipart(ctx.request)
        upload = files.get("file")
        if upload is None:
            raise bad("file is required")
        if extension(upload.filename) != file_ext:
            raise bad(f"expected a .{file_ext} file", WRONG_FILE_TYPE, 403)
        if not upload.content.strip():
            raise bad("the file could not be parsed", UNPARSABLE_FILE, 400)
        versions = _versions(ctx, kind)
        version = _new_version(ctx, versions, _next_number(versions), fields.get("versionDesc"))
        return Response.json(
            {
                "botId": ctx.store.agent["bot_id"],
                "botType": "Flow" if kind == "workflow" else "QuestionAnswer",
                "version": version["version"],
                "warning": [],
            }
        )

    @routes.post(f"{prefix}/release")
    async def version_release(ctx: Context) -> Response:
        """Publish a version (403203 when it does not exist)."""
        body = ctx.request.json_object()
        number = str_field(body, "version")
        versions = _versions(ctx, kind)
        target = _find(versions, number)
        previous = _publish(ctx, versions, target)
        return Response.json({"version": target["version"], "previous_version": previous})

    @routes.post(f"{prefix}/rollback")
    async def version_rollback(ctx: Context) -> Response:
        """Copy an old version into a new one; publish it when ``release`` is true."""
        body = ctx.request.json_object()
        number = str_field(body, "version")
        versions = _versions(ctx, kind)
        source = _find(versions, number)
        new_number = str(body.get("new_version") or _next_number(versions))
        if any(v["version"] == new_number for v in versions):
            raise bad(f"version {new_number} already exists")
        desc = body.get("version_desc") or f"rollback of {source['version']}"
        target = _new_version(ctx, versions, new_number, desc)
        released = bool(body.get("release"))
        if released:
            _publish(ctx, versions, target)
        return Response.json(
            {
                "source_version": source["version"],
                "new_version": new_number,
                "created": True,
                "released": released,
                "warnings": [],
            }
        )


_version_routes("agent", "bot")
_version_routes("workflow", "flow")


def _skill_package(ctx: Context) -> tuple[dict[str, str], str, str]:
    fields, files = multipart(ctx.request)
    upload = files.get("file")
    if upload is None:
        raise bad("file is required")
    if extension(upload.filename) not in ("skill", "zip"):
        raise bad("a Skill package must be a .skill or .zip file")
    if len(upload.content) > SKILL_MAX_BYTES:
        raise bad("a Skill package is at most 20 MiB")
    try:
        with zipfile.ZipFile(io.BytesIO(upload.content)) as archive:
            manifest = archive.read("SKILL.md").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError):
        raise bad("the package needs a SKILL.md at its root", UNPARSABLE_FILE) from None
    name = None
    for line in manifest.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "name" and value.strip():
            name = value.strip()
            break
    if name is None:
        raise bad("SKILL.md must declare a name", UNPARSABLE_FILE)
    digest = hashlib.sha256(upload.content).hexdigest()
    return fields, name, digest


@routes.post("/v1/agent/skill/create")
async def skill_create(ctx: Context) -> Response:
    """Create a private Skill from a package with a SKILL.md naming it."""
    _, name, digest = _skill_package(ctx)
    skills: dict[str, dict[str, Any]] = ctx.store.data.setdefault("skills", {})
    skill_id = ctx.state.new_id()
    skills[skill_id] = {"skill_id": skill_id, "name": name, "version": "1", "digest": digest}
    return Response.json({"skill_id": skill_id, "name": name, "version": "1"})


@routes.post("/v1/agent/skill/update")
async def skill_update(ctx: Context) -> Response:
    """Replace a Skill's package; an identical package keeps the version."""
    fields, name, digest = _skill_package(ctx)
    skill_id = str_field(fields, "skill_id")
    skills: dict[str, dict[str, Any]] = ctx.store.data.setdefault("skills", {})
    skill = skills.get(skill_id or "")
    if skill is None:
        raise bad("skill not found", 40348, 404)
    if skill["digest"] != digest:
        skill.update(name=name, digest=digest, version=str(int(skill["version"]) + 1))
    return Response.json({"skill_id": skill_id, "name": skill["name"], "version": skill["version"]})


guard_deleted_agent(routes)
