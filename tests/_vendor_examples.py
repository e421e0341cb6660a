"""Helpers of the vendor-example tests (``tests/test_vendor_examples_*.py``).

Those tests feed the vendor's own documented responses to the client through respx and check
the request the client sent against the page's example (method, path, query, JSON body). The
pages are the markdown of the vendor's docs repository ``ALTA-TECH2025/altabots-openapi-docs``,
cited by their path under ``docs/``. Examples that are not valid JSON as printed are repaired
minimally where they are copied, with a comment saying how.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
import respx


def example(text: str) -> Any:
    """A JSON example copied from a page (parsed; a failure here means a bad copy)."""
    return json.loads(text)


def last_request(route: respx.Route) -> httpx.Request:
    """The request the route received last."""
    request: httpx.Request = route.calls.last.request
    return request


def query_items(request: httpx.Request) -> list[tuple[str, str]]:
    """The query as (name, value) pairs, decoded, in order."""
    return parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)


def assert_request(
    request: httpx.Request,
    method: str,
    path: str,
    *,
    query: Iterable[tuple[str, str]] | None = None,
    body: Any = None,
) -> None:
    """The request has the documented method and path; its query pairs (any order) and
    JSON body are the documented ones when given."""
    assert request.method == method
    assert request.url.path == path
    if query is not None:
        assert sorted(query_items(request)) == sorted(query)
    if body is not None:
        assert json.loads(request.content) == body


def kind(value: Any) -> str:
    """The JSON kind of a decoded value (int and float are both "number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def assert_documented_shape(
    actual: Any,
    documented: Any,
    *,
    where: str = "body",
    optional: Iterable[str] = (),
    nullable: Iterable[str] = (),
    free: Iterable[str] = (),
) -> None:
    """``actual`` (an answer of the simulator) has the shape of ``documented`` (the page's
    example): the same keys in every object, the same JSON kind for every value the example
    does not leave null, checked through the first item of every list. ``optional`` names
    keys (by their path, e.g. ``"body.citations"``) the page marks optional; they may be
    missing. ``nullable`` names keys that may be null (e.g. the parent of a first message);
    ``free`` names values that are the caller's own data (only their kind is checked)."""
    skip = set(optional)
    nulls = set(nullable)
    frees = set(free)
    if documented is None or (actual is None and where in nulls):
        return
    assert kind(actual) == kind(documented), f"{where}: {kind(actual)} != {kind(documented)}"
    if where in frees:
        return
    if isinstance(documented, Mapping):
        expected = {k for k in documented if f"{where}.{k}" not in skip}
        assert expected <= set(actual) <= set(documented), (
            f"{where}: keys {sorted(actual)} != {sorted(documented)}"
        )
        for key, value in documented.items():
            if key in actual:
                assert_documented_shape(
                    actual[key],
                    value,
                    where=f"{where}.{key}",
                    optional=optional,
                    nullable=nulls,
                    free=frees,
                )
    elif isinstance(documented, list) and documented and actual:
        assert_documented_shape(
            actual[0],
            documented[0],
            where=f"{where}[0]",
            optional=optional,
            nullable=nulls,
            free=frees,
        )


def assert_contains(data: Any, documented: Any, *, where: str = "body") -> None:
    """``data`` (a model's ``to_dict()``) holds every key and value of ``documented`` (the
    page's example); keys the model adds (fields the example leaves out) must be null or
    empty."""
    if isinstance(documented, Mapping):
        assert isinstance(data, Mapping), where
        for key, value in documented.items():
            assert key in data, f"{where}.{key} missing"
            assert_contains(data[key], value, where=f"{where}.{key}")
        for key in set(data) - set(documented):
            assert data[key] in (None, [], {}), f"{where}.{key} = {data[key]!r} not in example"
    elif isinstance(documented, list):
        assert isinstance(data, list) and len(data) == len(documented), where
        for index, (item, value) in enumerate(zip(data, documented, strict=True)):
            assert_contains(item, value, where=f"{where}[{index}]")
    else:
        assert data == documented, f"{where}: {data!r} != {documented!r}"
