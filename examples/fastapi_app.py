"""A FastAPI service with one AltaBots client for the whole app.

* The client lives in the app's lifespan: one connection pool and one rate-limit scheduler
  shared by every request the service handles.
* Interactive endpoints ask at high priority with a short ``max_wait``; a background-style
  endpoint asks at low priority and may wait longer. Both share the same quota.
* When the quota cannot serve a call in time, the client raises ``QuotaExhaustedError`` at
  once; the handler below turns it into ``503 Service Unavailable`` with ``Retry-After``.

Run it (``pip install fastapi uvicorn altabots-async``)::

    ALTABOTS_API_KEY=... uvicorn examples.fastapi_app:app

Or against the simulator: ``python -m altabots_async.testing --port 8000 --key sk-test`` in
one shell, ``ALTABOTS_API_KEY=sk-test ALTABOTS_BASE_URL=http://127.0.0.1:8000
uvicorn examples.fastapi_app:app --port 8080`` in another.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from altabots_async import AsyncAltaBots, QuotaExhaustedError

INTERACTIVE = 10  # people waiting on a page
BACKGROUND = 0  # reports, digests, anything a person is not watching


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Key and URL from ALTABOTS_API_KEY / ALTABOTS_BASE_URL. No quota given: the client
    # learns it from the first response's headers.
    async with AsyncAltaBots() as client:
        app.state.altabots = client
        yield


app = FastAPI(lifespan=lifespan)


def altabots(request: Request) -> AsyncAltaBots:
    """The app's client (a dependency)."""
    client: AsyncAltaBots = request.app.state.altabots
    return client


Client = Annotated[AsyncAltaBots, Depends(altabots)]


@app.exception_handler(QuotaExhaustedError)
async def quota_exhausted(request: Request, exc: QuotaExhaustedError) -> JSONResponse:
    """Fail fast: tell the caller when to come back instead of holding the request."""
    retry_after = max(1, math.ceil(exc.retry_after or 1.0))
    return JSONResponse(
        {"detail": "the AltaBots quota is used up for now", "retry_after": retry_after},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


class NewConversation(BaseModel):
    user_id: str


class Question(BaseModel):
    text: str


@app.post("/conversations")
async def create_conversation(body: NewConversation, client: Client) -> dict[str, str]:
    conv = await client.with_options(priority=INTERACTIVE, max_wait=2.0).conversations.create(
        user_id=body.user_id
    )
    return {"conversation_id": conv.conversation_id}


@app.post("/conversations/{conversation_id}/messages")
async def ask(conversation_id: str, body: Question, client: Client) -> dict[str, str]:
    """A person is waiting: jump the queue, and give up after 2 s rather than hang."""
    interactive = client.with_options(priority=INTERACTIVE, max_wait=2.0)
    reply = await interactive.conversations.send_message(conversation_id, body.text)
    return {"answer": reply.text, "message_id": reply.message_id}


@app.post("/reports/agent")
async def agent_report(client: Client) -> dict[str, str | None]:
    """Nobody is watching: lowest priority, may wait up to a minute for quota."""
    agent = await client.with_options(priority=BACKGROUND, max_wait=60.0).agent.retrieve()
    return {"name": agent.name, "model": agent.ai_model}


@app.get("/healthz/quota")
async def quota(client: Client) -> dict[str, float | int | None]:
    """The scheduler's view of the key (no API call)."""
    status = client.rate_limit
    return {
        "limit": status.limit,
        "remaining": status.remaining,
        "reset_in": status.reset_in,
        "queued": status.queued,
        "in_flight": status.in_flight,
    }
