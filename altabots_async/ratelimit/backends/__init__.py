"""Backends for the rate-limit state: memory (default) and Redis (optional extra)."""

from ._base import Backend, Bucket, BucketSettings, Lease, LimiterStatus
from .memory import MemoryBackend

__all__ = ["Backend", "Bucket", "BucketSettings", "Lease", "LimiterStatus", "MemoryBackend"]
