"""Calls whose answer needs reshaping after the envelope is unwrapped (a bare id, a list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._base import RAW_RESPONSE

if TYPE_CHECKING:
    from .._client import AsyncAltaBots

T = TypeVar("T")
R = TypeVar("R")


async def request_shaped(
    client: AsyncAltaBots,
    method: str,
    path: str,
    *,
    cast_to: type[R],
    shape: Callable[[R], T],
    **kwargs: Any,
) -> T:
    """``client._request`` then ``shape`` the payload; raw-response mode skips the shaping."""
    result = await client._request(method, path, cast_to=cast_to, **kwargs)
    if RAW_RESPONSE.get():
        return result  # type: ignore[return-value]
    return shape(result)
