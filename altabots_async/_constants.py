"""Every default and cap in one place."""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "https://altatech.ai/"
ENV_API_KEY = "ALTABOTS_API_KEY"
ENV_BASE_URL = "ALTABOTS_BASE_URL"

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_IN_FLIGHT = 64
# The scheduler caps requests in flight (acquire to response headers) per key. The pool keeps
# a connection alive for each of them (no reconnect churn at full load) and allows as many
# again for streamed bodies, which hold their connection after the headers came back.
DEFAULT_CONNECTION_LIMITS = httpx.Limits(
    max_connections=2 * DEFAULT_MAX_IN_FLIGHT, max_keepalive_connections=DEFAULT_MAX_IN_FLIGHT
)

# Backoff for 5xx, timeouts and connection errors: full jitter over an exponential ceiling.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A 429 with no Retry-After and no Reset freezes the limiter for this long (doubling, capped).
DEFAULT_429_FREEZE = 1.0

# Rate-limit header sanity caps.
RESET_SLACK_SECONDS = 60.0
# Without a configured quota, a reset or retry-after further away than this is clamped.
MAX_UNKNOWN_WINDOW_SECONDS = 86_400.0 + RESET_SLACK_SECONDS

# Bodies: decoded JSON responses are capped (a compressed body that expands past it fails).
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_ERROR_EXCERPT = 2048
MAX_SSE_EVENT_BYTES = 8 * 1024 * 1024

RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
# A whole streamed reply: decoded bytes and events (a small gzip body can carry millions of
# tiny events); the stream keeps only the last STREAM_EVENTS_KEPT event objects.
MAX_STREAM_BYTES = 32 * 1024 * 1024
MAX_STREAM_EVENTS = 100_000
STREAM_EVENTS_KEPT = 1_000
