"""The public door: names, docstrings, typing marker."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import altabots_async

PUBLIC_MODULES = [
    "altabots_async",
    "altabots_async.ratelimit",
    "altabots_async.testing",
    "altabots_async.types",
    "altabots_async.webhooks",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_unique_and_importable(name: str) -> None:
    """Every public module has an ``__all__`` (kept sorted by ruff's RUF022) whose names all
    exist, each once."""
    module = importlib.import_module(name)
    exported = list(module.__all__)

    assert len(exported) == len(set(exported))
    for item in exported:
        assert hasattr(module, item), f"{name}.{item}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_objects_are_documented(name: str) -> None:
    """Every exported class and function carries a docstring."""
    module = importlib.import_module(name)
    missing = [
        item
        for item in module.__all__
        if (inspect.isclass(obj := getattr(module, item)) or inspect.isfunction(obj))
        and not inspect.getdoc(obj)
    ]

    assert missing == []


def test_contract_names() -> None:
    """The names DESIGN.md promises are importable from the top level."""
    for item in [
        "AsyncAltaBots",
        "Quota",
        "RateLimiter",
        "AltaBotsError",
        "APIConnectionError",
        "APITimeoutError",
        "APIStatusError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "AgentDeletedError",
        "RateLimitError",
        "InternalServerError",
        "QuotaExhaustedError",
        "ResponseValidationError",
    ]:
        assert item in altabots_async.__all__


def test_version_and_typed_marker() -> None:
    """A version string, and the py.typed marker ships with the package."""
    assert altabots_async.__version__.count(".") == 2
    assert (Path(altabots_async.__file__).parent / "py.typed").exists()


def test_quota_presets() -> None:
    """The plan presets are the documented numbers."""
    assert (altabots_async.Quota.FREE.limit, altabots_async.Quota.FREE.period_seconds) == (
        100,
        86_400.0,
    )
    assert altabots_async.Quota(1_000, 3_600) == altabots_async.Quota.PROFESSIONAL
    assert altabots_async.Quota.enterprise(5, 2) == altabots_async.Quota(5, 2.0)
    with pytest.raises(ValueError):
        altabots_async.Quota(0, 1)
