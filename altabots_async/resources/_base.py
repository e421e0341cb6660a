"""The resource base: a reference to the client, and the raw-response view of its methods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .._client import AsyncAltaBots
    from .._response import APIResponse

RAW_RESPONSE: ContextVar[bool] = ContextVar("altabots_raw_response", default=False)


@attrs.define
class Resource:
    """Base of every API category (``client.agent``, ``client.conversations``, ...)."""

    _client: AsyncAltaBots = attrs.field(repr=False)

    @property
    def with_raw_response(self) -> RawResponseView:
        """The same methods, returning an :class:`APIResponse` (status, headers, rate limit).

        Example::

            raw = await client.agent.with_raw_response.retrieve()
            print(raw.status_code, raw.rate_limit.remaining)
            agent = raw.parse()
        """
        return RawResponseView(self)


class RawResponseView:
    """Wraps a resource so each method returns :class:`APIResponse` instead of the model."""

    def __init__(self, resource: Resource) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Callable[..., Awaitable[APIResponse[Any]]]:
        method = getattr(self._resource, name)
        if not callable(method):
            raise TypeError(f"{name} is not a method")

        async def call(*args: Any, **kwargs: Any) -> APIResponse[Any]:
            token = RAW_RESPONSE.set(True)
            try:
                result: APIResponse[Any] = await method(*args, **kwargs)
            finally:
                RAW_RESPONSE.reset(token)
            return result

        return call
