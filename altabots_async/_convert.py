"""The one converter, and every wire rule in one place.

Rules installed by :func:`make_converter`:

* attrs field aliases name the wire key where the API uses camelCase (``alias="refDoc"``); a
  field may accept other spellings too (``metadata=also("fieldCount")``, the first present
  wins);
* unknown keys are kept in the model's ``raw`` (see :class:`~altabots_async.types.Model`),
  never rejected: the API may add fields;
* a model may be sent bare (``WIRE_BARE``: ``"673e..."`` for ``{"table_id": "673e..."}``) and a
  list of models may come wrapped (``WIRE_LIST_KEYS``: ``{"doc": [...]}`` for ``[...]``);
* enum-like fields are plain ``str`` in the models: an unknown value is kept, not rejected;
* ``bool`` accepts true/false, 0/1 and "true"/"false" strings, nothing else;
* ``int`` and ``float`` accept numbers and numeric strings (docs type some numbers "String"),
  never bools, never NaN or infinities;
* ``str`` accepts strings and numbers (ids and totals documented as either);
* :data:`StrList` accepts a list of strings or a single (comma-separated) string;
* a union (``str | list[str]``) takes the first member the value fits;
* ``Any``/``dict`` fields pass through untouched.

Two modes (``structure(..., strict=...)``):

* lenient (what the client does by default): a field that does not fit its type is left at
  its default (None for a required one), named in the model's ``decode_errors`` and in a
  debug log of the ``altabots_async`` logger; a list item that does not fit is dropped the
  same way. The call still returns what decoded: one odd field never costs the response.
* strict: any such field raises :class:`ResponseValidationError`, one line per field.

In both modes a body that cannot be the answer at all (not an object where an object is
due, not a list where a list is due) raises :class:`ResponseValidationError`.
"""

from __future__ import annotations

import contextvars
import logging
import math
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs

from ._exceptions import ResponseValidationError
from .types._base import Model, StrList, wire_names

T = TypeVar("T")

logger = logging.getLogger("altabots_async")

MAX_DEPTH = 48
"""Models and lists nested deeper than this are refused (a field problem, not a crash)."""

_MAX_REPORTED = 50


class _State:
    """One structure call: its mode, where it is in the body, and what did not fit."""

    __slots__ = ("path", "problems", "strict")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.path: list[str] = []
        self.problems: list[tuple[tuple[str, ...], str]] = []


_STATE: contextvars.ContextVar[_State | None] = contextvars.ContextVar(
    "altabots_convert_state", default=None
)


def _state() -> _State:
    state = _STATE.get()
    return state if state is not None else _State(strict=True)


def _where(path: tuple[str, ...] | list[str]) -> str:
    text = ""
    for part in path:
        text += part if part.startswith("[") else f".{part}"
    return text.lstrip(".") or "(body)"


def _body_path(path: tuple[str, ...]) -> str:
    where = _where(path)
    return "body" if not path else f"body{'' if where.startswith('[') else '.'}{where}"


def _record(state: _State, message: str) -> None:
    path = tuple(state.path)
    state.problems.append((path, message))
    if not state.strict and logger.isEnabledFor(logging.DEBUG):
        logger.debug("response field %s did not decode (%s); kept in raw", _where(path), message)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValueError | TypeError | OverflowError):
        return str(exc)[:200] or type(exc).__name__
    return type(exc).__name__


# --------------------------------------------------------------------------- scalars


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
    number: float | None = None
    if isinstance(value, float):
        number = value
    elif isinstance(value, int) and abs(value) < 10**308:
        number = float(value)
    elif isinstance(value, str) and len(value) <= 64:
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {type(value).__name__}")
    return number


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


# --------------------------------------------------------------------------- containers


def _depth_check(state: _State) -> None:
    if len(state.path) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")


def _is_list_type(cls: Any) -> bool:
    return typing.get_origin(cls) is list


def _is_dict_type(cls: Any) -> bool:
    return typing.get_origin(cls) is dict


def _is_union_type(cls: Any) -> bool:
    return typing.get_origin(cls) in (typing.Union, types.UnionType)


def _list_hook_factory(converter: cattrs.Converter) -> Callable[[Any], Any]:
    """Lists: item by item; a string (or a dict) is never taken for a list, except a dict
    wrapping the list under one of the item model's ``WIRE_LIST_KEYS``. An item that does
    not fit is recorded and dropped."""

    def factory(cls: Any) -> Any:
        (item,) = typing.get_args(cls) or (Any,)
        wrappers: tuple[str, ...] = (
            getattr(item, "WIRE_LIST_KEYS", ()) if isinstance(item, type) else ()
        )

        def hook(value: Any, _: Any) -> Any:
            if isinstance(value, dict) and wrappers:
                key = next((k for k in wrappers if isinstance(value.get(k), list)), None)
                if key is not None:
                    value = value[key]
            if not isinstance(value, list | tuple):
                raise ValueError(f"expected a list, got {type(value).__name__}")
            state = _state()
            _depth_check(state)
            structure_item = converter.get_structure_hook(item)
            result = []
            for index, element in enumerate(value):
                state.path.append(f"[{index}]")
                try:
                    result.append(structure_item(element, item))
                except RecursionError:
                    raise
                except Exception as exc:
                    _record(state, _describe(exc))
                finally:
                    state.path.pop()
            return result

        return hook

    return factory


def _dict_hook_factory(converter: cattrs.Converter) -> Callable[[Any], Any]:
    """``dict[str, X]``: an object, value by value (a value that does not fit is dropped)."""

    def factory(cls: Any) -> Any:
        args = typing.get_args(cls)
        item = args[1] if len(args) == 2 else Any

        def hook(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                raise ValueError(f"expected an object, got {type(value).__name__}")
            if item is Any:
                return dict(value)
            state = _state()
            _depth_check(state)
            result = {}
            for key, element in value.items():
                state.path.append(str(key))
                try:
                    result[str(key)] = converter.structure(element, item)
                except RecursionError:
                    raise
                except Exception as exc:
                    _record(state, _describe(exc))
                finally:
                    state.path.pop()
            return result

        return hook

    return factory


def _union_hook_factory(converter: cattrs.Converter) -> Callable[[Any], Any]:
    """``A | B | None``: None for null (when allowed), else the first member that fits."""

    def factory(cls: Any) -> Any:
        members = typing.get_args(cls)
        nullable = type(None) in members
        candidates = [m for m in members if m is not type(None)]

        def hook(value: Any, _: Any) -> Any:
            if value is None:
                if nullable:
                    return None
                raise ValueError("expected a value, got null")
            if len(candidates) == 1:
                return converter.structure(value, candidates[0])
            state = _state()
            mark = len(state.problems)
            partial: tuple[Any, list[tuple[tuple[str, ...], str]]] | None = None
            strict, state.strict = state.strict, True  # trials: no debug log
            try:
                for member in candidates:
                    try:
                        result = converter.structure(value, member)
                    except RecursionError:
                        raise
                    except Exception:
                        del state.problems[mark:]
                        continue
                    if len(state.problems) == mark:
                        return result
                    if partial is None:
                        partial = (result, state.problems[mark:])
                    del state.problems[mark:]
            finally:
                state.strict = strict
            if partial is not None:  # none fits whole: the first that decoded in part
                result, problems = partial
                here = list(state.path)
                for path, message in problems:
                    state.path[:] = list(path)
                    _record(state, message)
                state.path[:] = here
                return result
            names = " or ".join(getattr(m, "__name__", str(m)) for m in candidates)
            raise ValueError(f"expected {names}, got {type(value).__name__}")

        return hook

    return factory


class _FieldSpec:
    """How one attrs field is read: its wire names, type and ``__init__`` parameter.

    ``X | None`` is split into ``X`` and ``nullable``; the structure hook of ``X`` is looked
    up on first use (lazily, so that self-referencing models resolve) and kept.
    """

    __slots__ = ("hook", "init", "name", "names", "nullable", "required", "type")

    def __init__(self, field: attrs.Attribute[Any]) -> None:
        self.names = wire_names(field)
        self.name = self.names[0] if len(self.names) == 1 else None
        declared = field.type if field.type is not None else Any
        members = typing.get_args(declared) if _is_union_type(declared) else ()
        self.nullable = type(None) in members
        rest = [m for m in members if m is not type(None)]
        self.type: Any = rest[0] if self.nullable and len(rest) == 1 else declared
        self.init = field.alias or field.name
        self.required = field.default is attrs.NOTHING
        self.hook: Callable[[Any, Any], Any] | None = None


def _attrs_hook_factory(converter: cattrs.Converter) -> Callable[[Any], Any]:
    """attrs classes: field by field, never failing on one field (see the module notes)."""

    def factory(cls: Any) -> Any:
        attrs.resolve_types(cls)
        is_model = issubclass(cls, Model)
        specs = [
            _FieldSpec(field)
            for field in attrs.fields(cls)
            if field.init and not (is_model and field.name in ("raw", "decode_errors"))
        ]
        bare: str | None = getattr(cls, "WIRE_BARE", None)

        def hook(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                if bare is None or value is None:
                    raise ValueError(f"expected an object, got {type(value).__name__}")
                value = {bare: value}
            state = _state()
            path = state.path
            if len(path) > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
            depth = len(path)
            mark = len(state.problems)
            kwargs: dict[str, Any] = {}
            for spec in specs:
                if spec.name is not None:
                    key = spec.name if spec.name in value else None
                else:
                    key = next((name for name in spec.names if name in value), None)
                if key is None:
                    if spec.required:
                        path.append(spec.names[0])
                        _record(state, "required field missing")
                        path.pop()
                        kwargs[spec.init] = None
                    continue
                item = value[key]
                if item is None and spec.nullable:
                    kwargs[spec.init] = None
                    continue
                structure_item = spec.hook
                if structure_item is None:
                    structure_item = spec.hook = converter.get_structure_hook(spec.type)
                path.append(key)
                try:
                    kwargs[spec.init] = structure_item(item, spec.type)
                except RecursionError:
                    raise
                except Exception as exc:
                    _record(state, _describe(exc))
                    if spec.required:
                        kwargs[spec.init] = None
                finally:
                    path.pop()
            if is_model:
                kwargs["raw"] = value
                if len(state.problems) > mark:
                    kwargs["decode_errors"] = tuple(
                        f"{_where(where[depth:])}: {message}"
                        for where, message in state.problems[mark : mark + _MAX_REPORTED]
                    )
            return cls(**kwargs)

        return hook

    return factory


def make_converter() -> cattrs.Converter:
    """Build the converter with the rules of this module."""
    converter = cattrs.Converter(use_alias=True, forbid_extra_keys=False)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(StrList, _structure_str_list)
    converter.register_structure_hook(Any, lambda value, _: value)
    converter.register_structure_hook_factory(_is_union_type, _union_hook_factory(converter))
    converter.register_structure_hook_factory(_is_list_type, _list_hook_factory(converter))
    converter.register_structure_hook_factory(_is_dict_type, _dict_hook_factory(converter))
    converter.register_structure_hook_factory(attrs.has, _attrs_hook_factory(converter))
    return converter


converter = make_converter()


def _name(cls: Any) -> str:
    return getattr(cls, "__name__", None) or str(cls)


def structure(data: Any, cls: type[T], *, strict: bool = True) -> T:
    """Structure a decoded body into ``cls``.

    ``strict=True`` (the default here): any field that does not fit raises
    :class:`ResponseValidationError` naming every such field. ``strict=False`` (the
    client's default for responses): such fields are left at their defaults, named in the
    model's ``decode_errors`` and logged at debug; only a body that cannot be a ``cls`` at
    all (wrong JSON kind at the top, or nested past :data:`MAX_DEPTH`) raises.
    """
    state = _State(strict=strict)
    token = _STATE.set(state)
    try:
        result = converter.structure(data, cls)
    except RecursionError:
        raise ResponseValidationError(
            f"response does not fit {_name(cls)}: nested too deeply", body=data
        ) from None
    except Exception as exc:
        message = _describe(exc)
        raise ResponseValidationError(
            f"response does not fit {_name(cls)}: body: {message}", body=data, errors=[message]
        ) from None
    finally:
        _STATE.reset(token)
    if strict and state.problems:
        errors = [f"{_body_path(path)}: {message}" for path, message in state.problems]
        raise ResponseValidationError(
            f"response does not fit {_name(cls)}: " + "; ".join(errors[:10]),
            body=data,
            errors=errors,
        )
    return result


def unstructure(value: Any) -> Any:
    """Models to JSON-ready data (wire names as keys)."""
    from .types._base import plain

    return plain(value)
