"""The Agent category: the agent behind the API key."""

from __future__ import annotations

import attrs

from ..types.agent import Agent
from ._base import Resource


@attrs.define
class AgentResource(Resource):
    """``client.agent``: the agent's own settings."""

    async def retrieve(self) -> Agent:
        """Get the agent's information (``GET /v1/bot/detail``).

        Example: ``agent = await client.agent.retrieve()``
        """
        return await self._client._request("GET", "v1/bot/detail", cast_to=Agent)
