"""An aiohttp web service with one AltaBots client for the whole app.

The client is opened and closed by ``cleanup_ctx`` (aiohttp's lifespan); a middleware turns
``QuotaExhaustedError`` into ``503`` with ``Retry-After``. With the ``aiohttp`` extra
installed the client sends through aiohttp too (``transport="auto"`` picks it), so the
service runs one HTTP stack.

Run it (``pip install 'altabots-async[aiohttp]'``)::

    ALTABOTS_API_KEY=... python examples/aiohttp_app.py   # serves on 127.0.0.1:8080
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from altabots_async import AsyncAltaBots, QuotaExhaustedError

CLIENT = web.AppKey("altabots", AsyncAltaBots)
INTERACTIVE = 10

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def altabots_client(app: web.Application) -> AsyncIterator[None]:
    async with AsyncAltaBots() as client:  # ALTABOTS_API_KEY / ALTABOTS_BASE_URL
        app[CLIENT] = client
        yield


@web.middleware
async def quota_to_503(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except QuotaExhaustedError as exc:
        retry_after = max(1, math.ceil(exc.retry_after or 1.0))
        return web.json_response(
            {"detail": "the AltaBots quota is used up for now", "retry_after": retry_after},
            status=503,
            headers={"Retry-After": str(retry_after)},
        )


async def ask(request: web.Request) -> web.Response:
    """``POST /ask {"user_id", "text"}``: a new conversation and one answer."""
    body = await request.json()
    client = request.app[CLIENT].with_options(priority=INTERACTIVE, max_wait=2.0)
    conv = await client.conversations.create(user_id=str(body["user_id"]))
    reply = await client.conversations.send_message(conv.conversation_id, str(body["text"]))
    return web.json_response({"conversation_id": conv.conversation_id, "answer": reply.text})


async def quota(request: web.Request) -> web.Response:
    status = request.app[CLIENT].rate_limit
    return web.json_response(
        {"limit": status.limit, "remaining": status.remaining, "reset_in": status.reset_in}
    )


def make_app() -> web.Application:
    app = web.Application(middlewares=[quota_to_503])
    app.cleanup_ctx.append(altabots_client)
    app.router.add_post("/ask", ask)
    app.router.add_get("/quota", quota)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=8080)
