"""Models of the User category (REFERENCE §4.6, endpoints 44-47)."""

from __future__ import annotations

from typing import Any

import attrs

from ._base import Model, also

__all__ = ["AnonymousId", "PropertyUpdate", "PropertyValue", "UserBinding", "UserProperties"]


@attrs.frozen
class AnonymousId(Model):
    """A channel identity bound to a user: keyed by id, channel type and source."""

    anonymous_id: str
    conversation_type: str | None = None
    source_id: str | None = None


@attrs.frozen
class UserBinding(Model):
    """A ``user_id`` and the anonymous ids bound to it."""

    user_id: str
    anonymous_ids: list[AnonymousId] = attrs.field(factory=list)


@attrs.frozen
class PropertyValue(Model):
    """One user attribute (wire key ``property_name``; ``propertyName`` is accepted too)."""

    property_name: str = attrs.field(metadata=also("propertyName"))
    value: Any = None


@attrs.frozen
class PropertyUpdate(Model):
    """``POST /v1/property/update``: the attributes stored and those refused."""

    success_update: list[PropertyValue] = attrs.field(factory=list)
    fail_update: list[PropertyValue] = attrs.field(factory=list)


@attrs.frozen
class UserProperties(Model):
    """The attributes of one user (by ``user_id``) or visitor (by ``anonymous_id``)."""

    user_id: str | None = None
    anonymous_id: str | None = None
    property_values: list[PropertyValue] = attrs.field(factory=list)
