"""The User category: ``client.users`` (REFERENCE §4.6, endpoints 44-47; vendor pages
``docs/users/*.md``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._checks import InvalidParameterError, check_count, check_ids, compact, require_text
from ..types.users import AnonymousId, PropertyUpdate, PropertyValue, UserBinding, UserProperties
from ._base import Resource

MAX_BINDINGS = 100
"""Bindings one user id keeps; past it the server drops the oldest (not a request limit)."""
MAX_QUERY_IDS = 100


def _binding_items(anonymous_ids: Sequence[AnonymousId | Mapping[str, Any]]) -> list[Any]:
    check_count("anonymous_ids", anonymous_ids, low=1, high=10**9)
    items = []
    for index, raw in enumerate(anonymous_ids):
        field = f"anonymous_ids[{index}]"
        get = raw.get if isinstance(raw, Mapping) else (lambda name, r=raw: getattr(r, name))
        items.append(
            compact(
                anonymous_id=require_text(f"{field}.anonymous_id", get("anonymous_id")),
                conversation_type=require_text(
                    f"{field}.conversation_type", get("conversation_type")
                ),
                source_id=get("source_id"),
            )
        )
    return items


@attrs.define
class UsersResource(Resource):
    """``client.users``: bind channel identities to your user ids; user attributes."""

    async def set_user_id(
        self, *, user_id: str, anonymous_ids: Sequence[AnonymousId | Mapping[str, Any]]
    ) -> UserBinding:
        """Bind anonymous channel ids to ``user_id``; rebinding moves a binding.

        A binding is keyed by ``anonymous_id`` + ``conversation_type`` + ``source_id``. A user
        id keeps at most 100 bindings: past that the server drops the ones with the oldest
        update time, so more are not refused here (users/Set UserID V2.md).

        Example: ``await client.users.set_user_id(user_id="u1",
        anonymous_ids=[AnonymousId("tg-42", "TELEGRAM")])``
        """
        require_text("user_id", user_id)
        body = {"user_id": user_id, "anonymous_ids": _binding_items(anonymous_ids)}
        return await self._client._request(
            "POST", "v1/user/set-userid", cast_to=UserBinding, json=body
        )

    async def update_properties(
        self,
        *,
        user_id: str,
        property_values: Mapping[str, Any] | Sequence[PropertyValue | Mapping[str, Any]],
    ) -> PropertyUpdate:
        """Set user attributes: a ``{name: value}`` mapping or a list of :class:`PropertyValue`.

        Example: ``await client.users.update_properties(user_id="u1",
        property_values={"plan": "pro"})``
        """
        require_text("user_id", user_id)
        if isinstance(property_values, Mapping):
            pairs: list[tuple[Any, Any]] = list(property_values.items())
        else:
            pairs = []
            for index, raw in enumerate(property_values):
                if isinstance(raw, PropertyValue):
                    pairs.append((raw.property_name, raw.value))
                elif isinstance(raw, Mapping):
                    pairs.append((raw.get("property_name"), raw.get("value")))
                else:
                    raise InvalidParameterError(
                        f"property_values[{index}]", "expected a PropertyValue or a dict"
                    )
        check_count("property_values", pairs, low=1, high=10_000)
        items = [
            {
                "property_name": require_text(f"property_values[{i}].property_name", name),
                "value": value,
            }
            for i, (name, value) in enumerate(pairs)
        ]
        return await self._client._request(
            "POST",
            "v1/property/update",
            cast_to=PropertyUpdate,
            json={"user_id": user_id, "property_values": items},
        )

    async def query_properties(
        self,
        *,
        user_ids: Sequence[str] | None = None,
        anonymous_ids: Sequence[str] | None = None,
    ) -> list[UserProperties]:
        """Attributes of up to 100 users (``user_ids`` wins) or visitors (``anonymous_ids``).

        Ids are sent as repeated query keys (``user_ids=a&user_ids=b``). None of the ids
        known: the page's HTTP 503 "User ID Not Found" raises :class:`UserNotFoundError`
        (504 "Anonymous User ID Not Found": :class:`AnonymousUserNotFoundError`), at once:
        not retried, one call spent (users/Query User Attributes.md).

        Example: ``[u] = await client.users.query_properties(user_ids=["u1"])``
        """
        if user_ids is None and anonymous_ids is None:
            raise InvalidParameterError("user_ids", "give user_ids or anonymous_ids")
        params: dict[str, Any]
        if user_ids is not None:
            params = {"user_ids": check_ids("user_ids", user_ids, high=MAX_QUERY_IDS)}
        else:
            params = {
                "anonymous_ids": check_ids("anonymous_ids", anonymous_ids, high=MAX_QUERY_IDS)
            }
        return await self._client._request(
            "GET", "v2/user-property/query", cast_to=list[UserProperties], params=params
        )

    async def get_cdp(
        self, *, user_id: str | None = None, anonymous_id: str | None = None
    ) -> dict[str, UserBinding]:
        """The id bindings (CDP) of a user or visitor, keyed by user id.

        Example: ``bindings = await client.users.get_cdp(user_id="u1")``
        """
        if user_id is None and anonymous_id is None:
            raise InvalidParameterError("user_id", "give user_id or anonymous_id")
        if user_id is not None:
            require_text("user_id", user_id)
        if anonymous_id is not None:
            require_text("anonymous_id", anonymous_id)
        return await self._client._request(
            "GET",
            "v1/user/get-user-cdp",
            cast_to=dict[str, UserBinding],
            params=compact(user_id=user_id, anonymous_id=anonymous_id),
        )
