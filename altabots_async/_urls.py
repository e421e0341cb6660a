"""Base URL handling: parsed-host loopback check, path-parameter encoding."""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

import httpx

from ._exceptions import ConfigurationError, InsecureTransportError


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` (with or without trailing dot) and loopback IP literals.

    Decided on the parsed host only: ``localhost.evil.com``, ``127.0.0.1.nip.io`` and
    userinfo tricks (``http://localhost@evil.com``) are not loopback.
    """
    host = host.strip("[]").lower()
    if host.endswith("."):
        host = host[:-1]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(raw: str | httpx.URL, *, allow_insecure_http: bool) -> httpx.URL:
    """Parse and check a base URL; always returns it with a trailing slash."""
    try:
        url = httpx.URL(str(raw))
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ConfigurationError(f"base_url is not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise ConfigurationError(f"base_url must be http(s), got scheme {url.scheme!r}")
    if not url.host:
        raise ConfigurationError("base_url has no host")
    if url.userinfo:
        raise ConfigurationError("base_url must not carry credentials (user:password@)")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback_host(url.host):
        raise InsecureTransportError(
            f"refusing plain http:// to non-loopback host {url.host!r}: the API key would travel "
            "unencrypted; use https:// or pass allow_insecure_http=True"
        )
    if url.query or url.fragment:
        raise ConfigurationError("base_url must not have a query or fragment")
    path = url.raw_path.decode("ascii")
    if not path.endswith("/"):
        url = url.copy_with(raw_path=(path + "/").encode("ascii"))
    return url


def path_param(value: str, name: str) -> str:
    """Percent-encode one path segment; refuse empty values and control characters."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{name} contains a control character")
    return quote(value, safe="")
