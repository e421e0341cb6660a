"""The Agent category: the agent behind the API key, its versions and its private Skills."""

from __future__ import annotations

import attrs

from .._checks import check_length, compact, require_text
from .._files import MIB, FileInput, read_upload, request_multipart
from .._pagination import AsyncPager, Page
from ..types.agent import (
    Agent,
    ApiKeyInfo,
    Skill,
    Version,
    VersionImport,
    VersionRelease,
    VersionRollback,
)
from ._base import Resource

SKILL_MAX_BYTES = 20 * MIB
"""Skill packages (.skill / .zip) are at most 20 MiB."""
VERSION_FILE_MAX_BYTES = 30 * MIB
"""Our own cap on an imported .bot / .flow file (the API documents none)."""
VERSION_DESC_MAX = 1000


def single_page(items: list[Version]) -> Page[Version]:
    """An unpaginated list as the only page of a pager."""
    return Page(items=items, page=1, page_size=max(len(items), 1), total=len(items))


@attrs.define
class VersionsResource(Resource):
    """``client.agent.versions`` / ``client.workflows.versions``: list, import, release, rollback.

    Needs a key with the console's version-management permission (else HTTP 403).
    """

    _kind: str = "agent"

    @property
    def _prefix(self) -> str:
        return f"v1/{self._kind}/version"

    @property
    def _extension(self) -> str:
        return "bot" if self._kind == "agent" else "flow"

    async def list(self) -> list[Version]:
        """Every version (``GET /v1/agent/version/list``; workflows: ``/v1/workflow/...``).

        GPTBots only (not on the AltaBots pages).

        Example: ``versions = await client.agent.versions.list()``
        """
        return await self._client._request("GET", f"{self._prefix}/list", cast_to=list[Version])

    def list_all(self) -> AsyncPager[Version]:
        """The version list as a pager (one page: the endpoint is not paginated).

        GPTBots only (not on the AltaBots pages).

        Example: ``async for v in client.agent.versions.list_all(): ...``
        """

        async def fetch(_: int) -> Page[Version]:
            return single_page(await self.list())

        return AsyncPager(fetch)

    async def import_(
        self,
        file: FileInput,
        *,
        version_desc: str | None = None,
        filename: str | None = None,
    ) -> VersionImport:
        """Import a ``.bot`` (agent) or ``.flow`` (workflow) file as a new draft version.

        ``file`` is a path, bytes or an async byte stream; only its base name is sent.

        GPTBots only (not on the AltaBots pages).

        Example: ``draft = await client.agent.versions.import_("exports/support.bot")``
        """
        check_length("versionDesc", version_desc, 0, VERSION_DESC_MAX)
        upload = await read_upload(
            file,
            max_bytes=VERSION_FILE_MAX_BYTES,
            filename=filename,
            default_name=f"import.{self._extension}",
        )
        return await request_multipart(
            self._client,
            "POST",
            f"{self._prefix}/import",
            cast_to=VersionImport,
            upload=upload,
            data=compact(versionDesc=version_desc),
        )

    async def release(self, *, version: str) -> VersionRelease:
        """Publish ``version``.

        GPTBots only (not on the AltaBots pages).

        Example: ``await client.agent.versions.release(version="3")``
        """
        require_text("version", version)
        return await self._client._request(
            "POST", f"{self._prefix}/release", cast_to=VersionRelease, json={"version": version}
        )

    async def rollback(
        self,
        *,
        version: str,
        new_version: str | None = None,
        release: bool | None = None,
        version_desc: str | None = None,
    ) -> VersionRollback:
        """Copy an old ``version`` into a new one (and publish it when ``release=True``).

        GPTBots only (not on the AltaBots pages).

        Example: ``await client.agent.versions.rollback(version="2", release=True)``
        """
        require_text("version", version)
        check_length("version_desc", version_desc, 0, VERSION_DESC_MAX)
        body = compact(
            version=version, new_version=new_version, release=release, version_desc=version_desc
        )
        return await self._client._request(
            "POST", f"{self._prefix}/rollback", cast_to=VersionRollback, json=body
        )


@attrs.define
class SkillsResource(Resource):
    """``client.agent.skills``: private Skills of a LoopAgent (multipart package uploads)."""

    async def create(
        self, file: FileInput, *, category_id: str | None = None, filename: str | None = None
    ) -> Skill:
        """Upload a ``.skill`` / ``.zip`` package (<= 20 MiB, with ``SKILL.md``) as a Skill.

        GPTBots only (not on the AltaBots pages).

        Example: ``skill = await client.agent.skills.create("faq.skill")``
        """
        upload = await read_upload(
            file,
            max_bytes=SKILL_MAX_BYTES,
            filename=filename,
            default_name="skill.zip",
            allowed_extensions=("skill", "zip"),
        )
        return await request_multipart(
            self._client,
            "POST",
            "v1/agent/skill/create",
            cast_to=Skill,
            upload=upload,
            data=compact(category_id=category_id),
        )

    async def update(
        self,
        skill_id: str,
        file: FileInput,
        *,
        category_id: str | None = None,
        filename: str | None = None,
    ) -> Skill:
        """Replace a Skill's package (an identical package is a no-op).

        GPTBots only (not on the AltaBots pages).

        Example: ``await client.agent.skills.update(skill.skill_id, "faq-v2.skill")``
        """
        require_text("skill_id", skill_id)
        upload = await read_upload(
            file,
            max_bytes=SKILL_MAX_BYTES,
            filename=filename,
            default_name="skill.zip",
            allowed_extensions=("skill", "zip"),
        )
        return await request_multipart(
            self._client,
            "POST",
            "v1/agent/skill/update",
            cast_to=Skill,
            upload=upload,
            data=compact(skill_id=skill_id, category_id=category_id),
        )


@attrs.define
class AgentResource(Resource):
    """``client.agent``: the agent's own settings, versions and Skills."""

    @property
    def versions(self) -> VersionsResource:
        """Version management (list, import, release, rollback)."""
        return VersionsResource(self._client, "agent")

    @property
    def skills(self) -> SkillsResource:
        """Private Skills (LoopAgent only)."""
        return SkillsResource(self._client)

    async def retrieve(self) -> Agent:
        """Get the agent's information (``GET /v1/bot/detail``).

        Example: ``agent = await client.agent.retrieve()``
        """
        return await self._client._request("GET", "v1/bot/detail", cast_to=Agent)

    async def verify_key(self) -> ApiKeyInfo:
        """Which entity (agent or workflow) the API key belongs to (``GET /v1/api-key/verify``).

        GPTBots only (not on the AltaBots pages).

        Example: ``info = await client.agent.verify_key()``
        """
        return await self._client._request("GET", "v1/api-key/verify", cast_to=ApiKeyInfo)
