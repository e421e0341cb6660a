"""Which proxy the client's own transport uses: an explicit ``proxy=``, or the environment.

Rules (both HTTP stacks get the same answer, decided once at construction for the base URL):

* ``proxy="http://[user:password@]host:port"`` (or an ``httpx.Proxy``): always that proxy;
  the environment is not read. ``http://`` and ``https://`` proxies only (aiohttp speaks no
  SOCKS; both stacks must behave the same).
* ``proxy=None`` and ``trust_env=True`` (the default): the environment, as curl, httpx and
  requests read it: ``https_proxy`` / ``HTTPS_PROXY`` for an ``https://`` base URL,
  ``http_proxy`` / ``HTTP_PROXY`` for ``http://`` (the upper-case form is ignored when
  ``REQUEST_METHOD`` is set: a CGI request could plant it), then ``all_proxy`` /
  ``ALL_PROXY``; a host matched by ``no_proxy`` / ``NO_PROXY`` goes direct (``*`` for every
  host; ``example.com`` or ``.example.com`` for that domain and its subdomains;
  ``host:port`` for one port only, as curl reads it). Loopback hosts always go
  direct (as Go's ``ProxyFromEnvironment`` does): a proxy cannot reach your localhost.
* ``trust_env=False``: no proxy unless ``proxy=`` names one.

An ``https://`` target is tunnelled (``CONNECT``): the proxy sees the host name, never the
key or the traffic. Proxy credentials travel as ``Proxy-Authorization`` and are masked
wherever the proxy is shown (:func:`describe`).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ._exceptions import ConfigurationError
from ._urls import is_loopback_host

__all__ = ["describe", "resolve_proxy"]


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name.lower())
    if value is None and not (name.upper() == "HTTP_PROXY" and "REQUEST_METHOD" in environ):
        value = environ.get(name.upper())
    return value.strip() or None if value is not None else None


def _from_environment(url: httpx.URL, environ: Mapping[str, str]) -> str | None:
    if is_loopback_host(url.host):
        return None
    chosen = _env(environ, f"{url.scheme}_proxy") or _env(environ, "all_proxy")
    if chosen is None:
        return None
    no_proxy = _env(environ, "no_proxy")
    if no_proxy and _bypassed(url, no_proxy):
        return None
    return chosen if "://" in chosen else f"http://{chosen}"


def _bypassed(url: httpx.URL, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` exempts the URL's host: ``*`` every host; ``example.com`` (or
    ``.example.com``) that domain and its subdomains; ``host:port`` only on that port."""
    host = url.host.lower().rstrip(".")
    port = url.port or (443 if url.scheme == "https" else 80)
    for entry in no_proxy.split(","):
        entry = entry.strip().lower()
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and (not entry_port.isdigit() or int(entry_port) != port):
            continue
        name = name.lstrip("*").lstrip(".").rstrip(".").strip("[]")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def resolve_proxy(
    base_url: httpx.URL,
    proxy: str | httpx.URL | httpx.Proxy | None,
    *,
    trust_env: bool,
    environ: Mapping[str, str],
) -> httpx.Proxy | None:
    """The proxy for ``base_url`` under the rules of this module, or None (go direct).

    Raises:
        ConfigurationError: a proxy URL that is not ``http://`` or ``https://`` (named by its
            scheme only, never echoed: it may hold a password).
    """
    if proxy is None:
        if not trust_env:
            return None
        proxy = _from_environment(base_url, environ)
        if proxy is None:
            return None
    try:
        chosen = proxy if isinstance(proxy, httpx.Proxy) else httpx.Proxy(proxy)
    except (ValueError, TypeError, httpx.InvalidURL) as exc:
        scheme = str(proxy).partition("://")[0] if "://" in str(proxy) else "(none)"
        detail = "unsupported scheme" if "scheme" in str(exc).lower() else "not a valid URL"
        raise ConfigurationError(
            f"proxy: {detail} (scheme {scheme!r}); use http://host:port or https://host:port"
        ) from None
    if chosen.url.scheme not in ("http", "https"):
        raise ConfigurationError(
            f"proxy: scheme {chosen.url.scheme!r} is not supported; use http:// or https://"
        )
    return chosen


def describe(proxy: httpx.Proxy | None) -> str:
    """The proxy for logs and reprs: scheme, host and port; credentials never shown."""
    if proxy is None:
        return "none"
    url = proxy.url
    port = f":{url.port}" if url.port is not None else ""
    auth = "***@" if proxy.auth is not None else ""
    return f"{url.scheme}://{auth}{url.host}{port}"
