"""The rate-limit scheduler: a header-synced quota shared by every concurrent caller."""

from ._clock import Clock, SystemClock
from ._core import Pacing
from ._headers import RateLimitHeaders, parse_rate_limit_headers
from ._limiter import RateLimiter
from ._quota import Quota
from .backends import Backend, Bucket, BucketSettings, Lease, LimiterStatus, MemoryBackend

__all__ = [
    "Backend",
    "Bucket",
    "BucketSettings",
    "Clock",
    "Lease",
    "LimiterStatus",
    "MemoryBackend",
    "Pacing",
    "Quota",
    "RateLimitHeaders",
    "RateLimiter",
    "SystemClock",
    "parse_rate_limit_headers",
]
