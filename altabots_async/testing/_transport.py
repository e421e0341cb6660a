"""An in-process httpx transport for the simulator that streams and fails like a network."""

from __future__ import annotations

from types import TracebackType
from typing import Any, NoReturn

import anyio
import anyio.abc
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream

from ._app import Message, SimulatedDisconnect, Simulator

__all__ = ["SimulatorTransport"]

_NO_RESPONSE = "Server disconnected without sending a response."
_INCOMPLETE = "peer closed connection without sending complete message body"


class _Failure(Exception):
    """Carries an exception of the app task to the caller's task."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


class _Exchange:
    """One request's link between the caller and the app task running it."""

    def __init__(self, request_body: bytes) -> None:
        self.body = request_body
        self.body_sent = False
        self.gone = anyio.Event()  # the client closed or abandoned the response
        send, receive = anyio.create_memory_object_stream[Message | _Failure](16)
        self.to_client = send
        self.from_app: MemoryObjectReceiveStream[Message | _Failure] = receive

    async def receive(self) -> Message:
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        # As the ASGI spec asks of servers: sending on a closed connection raises an OSError.
        if self.gone.is_set():
            raise ConnectionResetError("the client closed the response")
        try:
            await self.to_client.send(message)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.gone.set()
            raise ConnectionResetError("the client closed the response") from None

    async def fail(self, error: BaseException) -> None:
        if self.gone.is_set():
            return
        try:
            await self.to_client.send(_Failure(error))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.gone.set()

    def abandon(self) -> None:
        self.gone.set()
        self.from_app.close()


class _ResponseStream(httpx.AsyncByteStream):
    """The body as the app sends it; a class-based iterator, so an early stop leaks nothing."""

    def __init__(self, exchange: _Exchange, request: httpx.Request) -> None:
        self._exchange = exchange
        self._request = request
        self._done = False

    def __aiter__(self) -> _ResponseStream:
        return self

    async def __anext__(self) -> bytes:
        while not self._done:
            try:
                message = await self._exchange.from_app.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                self._done = True
                raise httpx.RemoteProtocolError(_INCOMPLETE, request=self._request) from None
            if isinstance(message, _Failure):
                self._done = True
                _raise(message.error, self._request, started=True)
            if message["type"] != "http.response.body":
                continue
            if not message.get("more_body", False):
                self._done = True
            body = bytes(message.get("body", b""))
            if body:
                return body
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self._done = True
        self._exchange.abandon()


def _raise(error: BaseException, request: httpx.Request, *, started: bool) -> NoReturn:
    if isinstance(error, SimulatedDisconnect):
        message = _INCOMPLETE if started else _NO_RESPONSE
        raise httpx.RemoteProtocolError(message, request=request) from error
    raise error


class SimulatorTransport(httpx.AsyncBaseTransport):
    """An httpx transport that calls a :class:`Simulator` in-process, like a network would.

    Compared with ``httpx.ASGITransport``:

    * Responses stream: inside ``async with httpx.AsyncClient(transport=...)`` each request runs
      in a task of the transport, so chunks reach the caller as the app sends them (endless SSE
      streams work) and closing the response stops reading.
    * A request once handed over is "sent": cancelling the caller abandons the response but
      does not cancel the server side, which still counts and processes it (as a real server
      would). Leaving the client's ``async with`` cancels whatever is still running.
    * A simulated disconnect or reset becomes ``httpx.RemoteProtocolError``, and
      ``faults.connect_error_rate`` raises ``httpx.ConnectError`` before the app sees anything.

    Used without ``async with`` (no task group to run in) it falls back to calling the app in
    the caller's task and buffering the body, like ``httpx.ASGITransport``.
    """

    def __init__(self, sim: Simulator, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        """Call ``sim``; ``client`` is the ASGI client address the app sees."""
        self.sim = sim
        self.client = client
        self._task_group: anyio.abc.TaskGroup | None = None
        self._fallback = httpx.ASGITransport(app=sim, client=client)

    async def __aenter__(self) -> SimulatorTransport:
        """Start the task group that runs requests (``httpx.AsyncClient`` calls this)."""
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Cancel requests still running and close the task group."""
        task_group, self._task_group = self._task_group, None
        if task_group is not None:
            task_group.cancel_scope.cancel()
            # The caller's exception keeps propagating as it is, never wrapped in a group.
            await task_group.__aexit__(None, None, None)

    def _scope(self, request: httpx.Request) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Hand ``request`` to the app and return as soon as the response starts."""
        sim = self.sim
        rate = sim.faults.connect_error_rate
        if rate > 0 and sim.rng.random() < rate:
            raise httpx.ConnectError("simulated fault: connection refused", request=request)
        if self._task_group is None:
            try:
                return await self._fallback.handle_async_request(request)
            except SimulatedDisconnect as exc:
                raise httpx.RemoteProtocolError(_NO_RESPONSE, request=request) from exc

        exchange = _Exchange(await request.aread())
        scope = self._scope(request)

        async def run_app() -> None:
            with exchange.to_client:
                try:
                    await sim(scope, exchange.receive, exchange.send)
                except Exception as exc:  # handed to the caller, never to the task group
                    await exchange.fail(exc)

        self._task_group.start_soon(run_app)
        try:
            start = await exchange.from_app.receive()
        except anyio.EndOfStream:
            exchange.abandon()
            raise httpx.RemoteProtocolError(_NO_RESPONSE, request=request) from None
        except BaseException:
            exchange.abandon()  # the caller gave up (cancelled): the server side carries on
            raise
        if isinstance(start, _Failure):
            exchange.abandon()
            _raise(start.error, request, started=False)
        headers = [(bytes(name), bytes(value)) for name, value in start.get("headers", [])]
        return httpx.Response(
            int(start["status"]),
            headers=headers,
            stream=_ResponseStream(exchange, request),
            extensions={"http_version": b"HTTP/1.1"},
        )
