"""What a client and its ``with_options`` copies share: the latest rate-limit info, and the
pieces of every request that are built once (headers) or cached (joined URLs)."""

from __future__ import annotations

from typing import Final

import httpx

from ._secret import ApiKey
from ._version import __version__
from .ratelimit._headers import RateLimitHeaders

__all__ = ["SharedState", "call_headers"]

_MAX_CACHED_URLS: Final = 1024


def call_headers(api_key: ApiKey, *, json_body: bool) -> dict[str, str]:
    """The headers every call carries (the key only here, in ``Authorization``)."""
    headers = {
        "Authorization": f"Bearer {api_key.reveal()}",
        "User-Agent": f"altabots-async/{__version__}",
        "Accept": "application/json",
        # Only what the capped reader inflates in bounded steps (httpx would add br/zstd
        # whenever those packages are importable).
        "Accept-Encoding": "gzip, deflate",
    }
    if json_body:
        headers["Content-Type"] = "application/json"
    return headers


class SharedState:
    """Shared by a client and its ``with_options`` copies (see the module docstring)."""

    def __init__(self) -> None:
        self.last_rate_limit: RateLimitHeaders | None = None
        self.urls: dict[str, httpx.URL] = {}  # path -> joined URL (parsing one costs ~20 µs)
        self.headers: dict[bool, httpx.Headers] = {}  # json body? -> the request headers
        self.bare: httpx.Headers | None = None  # a call without a body: Host included

    def record(self, info: RateLimitHeaders) -> None:
        """Keep the rate-limit headers of the latest response."""
        self.last_rate_limit = info

    def url(self, base_url: httpx.URL, path: str) -> httpx.URL:
        """``base_url`` joined with ``path``, cached (bounded)."""
        url = self.urls.get(path)
        if url is None:
            if len(self.urls) >= _MAX_CACHED_URLS:
                self.urls.clear()
            url = self.urls[path] = base_url.join(path.lstrip("/"))
        return url

    def request_headers(
        self, defaults: httpx.Headers, api_key: ApiKey, *, json_body: bool
    ) -> httpx.Headers:
        """``defaults`` (the HTTP client's) with :func:`call_headers` on top, built once."""
        headers = self.headers.get(json_body)
        if headers is None:
            headers = httpx.Headers(defaults)
            headers.update(call_headers(api_key, json_body=json_body))
            self.headers[json_body] = headers
        return headers

    def bodyless_headers(
        self, defaults: httpx.Headers, api_key: ApiKey, base_url: httpx.URL
    ) -> httpx.Headers:
        """The complete headers of a call without a body, as ``httpx.Request`` would make
        them (``Host`` first), built once: such a request is then built without httpx
        preparing its headers again (see ``_client._build_request``)."""
        if self.bare is None:
            rest = self.request_headers(defaults, api_key, json_body=True).raw
            self.bare = httpx.Headers([(b"Host", base_url.netloc), *rest])
        return self.bare
