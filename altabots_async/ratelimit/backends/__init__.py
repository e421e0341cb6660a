"""Backends for the rate-limit state: memory (default) and Redis (optional extra)."""

from typing import TYPE_CHECKING, Any

from ._base import Backend, Bucket, BucketSettings, Lease, LimiterStatus
from .memory import MemoryBackend

if TYPE_CHECKING:
    from .redis import RedisBackend

__all__ = [
    "Backend",
    "Bucket",
    "BucketSettings",
    "Lease",
    "LimiterStatus",
    "MemoryBackend",
    "RedisBackend",
]


def __getattr__(name: str) -> Any:
    """``RedisBackend`` is imported on first use, so the package works without redis."""
    if name == "RedisBackend":
        from .redis import RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
