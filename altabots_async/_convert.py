"""The one cattrs converter, and every wire rule in one place.

Rules installed by :func:`make_converter`:

* unknown keys are ignored (the API may add fields; we stay forward compatible);
* attrs field aliases name the wire key where the API uses camelCase (``alias="refDoc"``);
* enum-like fields are plain ``str`` in the models: an unknown value is kept, not rejected;
* ``bool`` accepts true/false, 0/1 and "true"/"false" strings, nothing else;
* ``int`` and ``float`` accept numbers and numeric strings (docs type some numbers "String"),
  never bools;
* ``str`` accepts strings and numbers (ids and totals documented as either);
* :data:`StrList` accepts a list of strings or a single (comma-separated) string;
* ``Any``/``dict`` fields pass through untouched.

A failed structure becomes :class:`ResponseValidationError` with one line per field.
"""

from __future__ import annotations

import math
from typing import Any, NewType, TypeVar

import cattrs
from cattrs.errors import BaseValidationError

from ._exceptions import ResponseValidationError

T = TypeVar("T")

StrList = NewType("StrList", list[str])
"""A list of strings on the wire that some servers send as one comma-separated string."""


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise ValueError(f"expected a boolean, got {type(value).__name__}")


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 40:
            return int(text)
    raise ValueError(f"expected an integer, got {type(value).__name__}")


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got bool")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _structure_str(value: Any, _: type) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a string, got {type(value).__name__}")


def _structure_str_list(value: Any, _: type) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [_structure_str(item, str) for item in value]
    raise ValueError(f"expected a list of strings, got {type(value).__name__}")


def make_converter() -> cattrs.Converter:
    """Build the converter with the rules of this module."""
    converter = cattrs.Converter(use_alias=True, forbid_extra_keys=False)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(StrList, _structure_str_list)
    converter.register_structure_hook(Any, lambda value, _: value)
    converter.register_structure_hook_factory(_is_list_type, _list_hook_factory(converter))
    return converter


def _is_list_type(cls: Any) -> bool:
    return getattr(cls, "__origin__", None) is list


def _list_hook_factory(converter: cattrs.Converter) -> Any:
    """Lists: the stock hook, but a string (or a dict) is never taken for a list."""

    def factory(cls: Any) -> Any:
        (item,) = getattr(cls, "__args__", (Any,))

        def hook(value: Any, _: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise ValueError(f"expected a list, got {type(value).__name__}")
            return [converter.structure(v, item) for v in value]

        return hook

    return factory


converter = make_converter()


def structure(data: Any, cls: type[T]) -> T:
    """Structure a decoded body into ``cls``; ResponseValidationError names the bad fields."""
    try:
        return converter.structure(data, cls)
    except BaseValidationError as exc:
        errors = cattrs.transform_error(exc, path="body")
        name = getattr(cls, "__name__", str(cls))
        raise ResponseValidationError(
            f"response does not fit {name}: " + "; ".join(errors[:10]), body=data, errors=errors
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        name = getattr(cls, "__name__", str(cls))
        raise ResponseValidationError(
            f"response does not fit {name}: {type(exc).__name__}: {str(exc)[:200]}",
            body=data,
            errors=[str(exc)[:200]],
        ) from None


def unstructure(value: Any) -> Any:
    """Models to JSON-ready data (aliases as wire keys)."""
    return converter.unstructure(value)
