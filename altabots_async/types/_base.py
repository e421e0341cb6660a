"""The base of every response model: the wire object it came from, and the way back to JSON.

Models stay plain attrs classes. What this base adds:

* ``raw``: the JSON object the model was decoded from, as received (unknown keys included);
  empty for a model built in code;
* ``decode_errors``: one line per field that did not fit its type and was left at its default
  (``"output[0].create_time: expected an integer, got str"``); empty when everything fit;
* :meth:`Model.to_dict`: the model as plain JSON data, under the wire names.

Neither ``raw`` nor ``decode_errors`` takes part in ``==``, ``hash`` or ``repr``.

Two class-level wire rules, read by the converter (``altabots_async._convert``):

* ``WIRE_BARE``: the field a bare (non-object) value on the wire fills, for answers the docs
  give either as a scalar/list or as an object (``"673e..."`` or ``{"table_id": "673e..."}``);
* ``WIRE_LIST_KEYS``: keys under which a list of this model may arrive wrapped
  (``{"doc": [...]}`` instead of ``[...]``).

A field may accept more than one wire name: ``attrs.field(metadata=also("fieldCount"))``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, NewType

import attrs

__all__ = ["WIRE_NAMES", "Model", "StrList", "also", "plain", "wire_names"]

StrList = NewType("StrList", list[str])
"""A list of strings on the wire that some servers send as one comma-separated string."""

WIRE_NAMES = "altabots_wire_names"
"""Key of a field's metadata holding the other wire names it accepts."""

_OWN_FIELDS = frozenset({"raw", "decode_errors"})


def also(*names: str) -> dict[str, tuple[str, ...]]:
    """Field metadata: the field also accepts these wire names (the first found is used)."""
    return {WIRE_NAMES: names}


def wire_names(field: attrs.Attribute[Any]) -> tuple[str, ...]:
    """Every wire name of a field: its alias (the primary wire name), then the alternates."""
    primary = field.alias or field.name
    return (primary, *field.metadata.get(WIRE_NAMES, ()))


_KNOWN: dict[type, frozenset[str]] = {}


def _known_keys(cls: type) -> frozenset[str]:
    known = _KNOWN.get(cls)
    if known is None:
        names: set[str] = set()
        for field in attrs.fields(cls):
            if field.name not in _OWN_FIELDS:
                names.update(wire_names(field))
        known = _KNOWN[cls] = frozenset(names)
    return known


_MAX_PLAIN_DEPTH = 200


def plain(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON-ready data: models and attrs instances as dicts under their wire
    names, tuples as lists, non-finite floats as None (JSON has no NaN). Data nested deeper
    than 200 levels is returned as it is (it came from a JSON body, so it is JSON already)."""
    if _depth > _MAX_PLAIN_DEPTH:
        return value
    if isinstance(value, Model):
        return value.to_dict()
    if attrs.has(type(value)):
        return {
            field.alias or field.name: plain(getattr(value, field.name), _depth + 1)
            for field in attrs.fields(type(value))
            if field.name not in _OWN_FIELDS
        }
    if isinstance(value, Mapping):
        return {str(key): plain(item, _depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item, _depth + 1) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@attrs.frozen
class Model:
    """Base of the response models (see the module notes).

    Attributes:
        raw: the JSON object this model was decoded from (unknown keys included).
        decode_errors: the fields that did not fit their type (each left at its default;
            its value is still in ``raw``), one line each.
    """

    WIRE_BARE: ClassVar[str | None] = None
    WIRE_LIST_KEYS: ClassVar[tuple[str, ...]] = ()

    raw: dict[str, Any] = attrs.field(factory=dict, kw_only=True, repr=False, eq=False)
    decode_errors: tuple[str, ...] = attrs.field(default=(), kw_only=True, repr=False, eq=False)

    @property
    def extra(self) -> dict[str, Any]:
        """The keys of ``raw`` this model has no field for (kept, not dropped)."""
        known = _known_keys(type(self))
        return {key: value for key, value in self.raw.items() if key not in known}

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON data (``json.dumps`` and FastAPI can return it).

        Keys are the wire names (``affectCount``, ``list``, ...), so decoding the result gives
        an equal model back. Keys the server sent that the model does not know (``extra``)
        are included unchanged, so passing the data on loses nothing. A field that did not
        fit its type appears with its default; its raw value is in ``raw``.
        """
        data: dict[str, Any] = {key: plain(value) for key, value in self.extra.items()}
        for field in attrs.fields(type(self)):
            if field.name not in _OWN_FIELDS:
                data[field.alias or field.name] = plain(getattr(self, field.name))
        return data
