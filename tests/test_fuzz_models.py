"""Fuzzing every response model (issue 7, item 4): random JSON shapes, wrong types, huge
numbers and deep nesting through ``_convert.structure``. Only ``ResponseValidationError``
may come out: never KeyError, TypeError, OverflowError or RecursionError.

Both decoding modes (issue 11, item 3): strict raises only ``ResponseValidationError``;
lenient (the client's default) raises it only for a body of the wrong JSON kind at the top
(an object where a list is due, or the reverse), and otherwise returns a model whose
``to_dict()`` is strict JSON that decodes back to an equal model.

Every attrs class of ``altabots_async.types`` is found by walking the package, so a model
added later is fuzzed too. CI: 30 examples per model (about 3,000 in all); the soak run
multiplies that by 40.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import pkgutil
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import altabots_async.types as types_package
from altabots_async._convert import structure
from altabots_async._exceptions import ResponseValidationError
from altabots_async._response import decode_json, unwrap


def all_models() -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for info in pkgutil.iter_modules(types_package.__path__):
        module = importlib.import_module(f"{types_package.__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and attrs.has(obj)
                and obj.__module__.startswith(types_package.__name__)
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[name] for name in sorted(found)]


MODELS = all_models()


def wire_names(cls: type[Any]) -> list[str]:
    names: list[str] = []
    for field in attrs.fields(cls):
        names.append(field.name)
        alias = getattr(field, "alias", None)
        if alias and alias != field.name:
            names.append(alias)
        names.append(field.name.lstrip("_"))
    return names


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=10**300, max_value=10**320),  # overflows a float
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "0", "1", "true", "false", "-1", "1e999", "NaN", "9" * 45, "a,b"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=20,
)


def shaped(cls: type[Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Dicts with (some of) the model's own wire keys, values random or model-shaped."""
    names = wire_names(cls)
    nested = [
        f.type
        for f in attrs.fields(cls)
        if inspect.isclass(f.type) and attrs.has(f.type) and depth < 2
    ]
    values = json_values
    if nested:
        values = st.one_of(json_values, *(shaped(n, depth + 1) for n in nested))
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names) + 1)


def deep(levels: int, leaf: Any) -> Any:
    value = leaf
    for index in range(levels):
        value = [value] if index % 2 else {"data": value}
    return value


def _top_kind_fits(value: Any, cls: Any) -> bool:
    """Whether ``value`` is of the JSON kind ``cls`` needs at the top (lenient may only
    refuse a body that is not)."""
    if getattr(cls, "__origin__", None) is list:
        item = cls.__args__[0]
        wrappers = getattr(item, "WIRE_LIST_KEYS", ())
        return isinstance(value, list) or (
            isinstance(value, dict) and any(isinstance(value.get(k), list) for k in wrappers)
        )
    if getattr(cls, "WIRE_BARE", None) is not None:
        return value is not None
    return isinstance(value, dict)


def check(value: Any, cls: Any) -> None:
    with contextlib.suppress(ResponseValidationError):
        structure(value, cls)
    try:
        result = structure(value, cls, strict=False)
    except ResponseValidationError:
        assert not _top_kind_fits(value, cls) or _too_deep(value)
        return
    for model in result if isinstance(result, list) else [result]:
        data = model.to_dict()
        if not _too_deep(value):
            json.dumps(data, allow_nan=False)  # NaN and infinities became null
        if _strict_json(value):  # what a real body can carry: it decodes back the same
            assert structure(data, type(model), strict=False) == model


def _strict_json(value: Any) -> bool:
    """Whether ``value`` is JSON without NaN or infinities (what a real body can carry)."""
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, RecursionError):
        return False
    return True


def _too_deep(value: Any, depth: int = 0) -> bool:
    """Nested past the converter's depth cap (a lenient refusal is allowed then)."""
    if depth > 40:
        return True
    if isinstance(value, dict):
        return any(_too_deep(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_too_deep(v, depth + 1) for v in value)
    return False


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_models_raise_only_response_validation_error(cls: type[Any], data: st.DataObject) -> None:
    value = data.draw(st.one_of(shaped(cls), json_values, st.lists(shaped(cls), max_size=3)))
    check(value, cls)
    check(value, list[cls])  # type: ignore[valid-type]


@pytest.mark.slow
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=1200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_models_soak(cls: type[Any], data: st.DataObject) -> None:
    value = data.draw(st.one_of(shaped(cls), json_values, st.lists(shaped(cls), max_size=3)))
    check(value, cls)
    check(value, list[cls])  # type: ignore[valid-type]


def test_there_are_models_to_fuzz() -> None:
    assert len(MODELS) >= 90


@pytest.mark.parametrize("cls", MODELS[:: max(1, len(MODELS) // 12)], ids=lambda c: c.__name__)
@pytest.mark.parametrize("levels", [50, 5_000, 200_000])
def test_deep_nesting_is_a_validation_error_not_a_crash(cls: type[Any], levels: int) -> None:
    """Bodies nested far past the recursion limit, fed straight in and through the JSON
    path a response takes (``decode_json`` refuses what it cannot decode)."""
    value = deep(levels, 1)
    check(value, cls)
    check(value, list[cls])  # type: ignore[valid-type]
    body = ("[" * levels + "]" * levels).encode()
    decoded, ok = decode_json(body)
    if ok:
        check(unwrap(decoded), cls)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_huge_numbers_in_every_field(cls: type[Any]) -> None:
    for number in (10**400, -(10**400), 1e308 * 10, float("nan"), "9" * 5000):
        check({name: number for name in wire_names(cls)}, cls)
        check(json.loads(json.dumps({"x": 1})) | {n: number for n in wire_names(cls)}, cls)
