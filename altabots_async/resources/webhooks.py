"""The Webhook category: ``client.webhooks`` parses what AltaBots POSTs to you (no requests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..webhooks import DEFAULT_MAX_WEBHOOK_BYTES, WebhookEvent, parse_webhook_event
from ._base import Resource

__all__ = ["WebhooksResource"]


@attrs.define
class WebhooksResource(Resource):
    """``client.webhooks``: inbound webhook parsing (AltaBots has no webhook management API;
    URLs are configured in the dashboard). See :mod:`altabots_async.webhooks`."""

    def parse(
        self,
        body: bytes | str | Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        *,
        verify_bearer: str | None = None,
        max_bytes: int = DEFAULT_MAX_WEBHOOK_BYTES,
    ) -> WebhookEvent:
        """The typed event of one inbound webhook; see :func:`parse_webhook_event`.

        Example: ``event = client.webhooks.parse(await request.body(), request.headers)``
        """
        return parse_webhook_event(body, headers, verify_bearer=verify_bearer, max_bytes=max_bytes)
