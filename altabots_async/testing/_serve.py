"""Serving the simulator on loopback with uvicorn (in the loop, in a thread, or as a process)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import anyio
import sniffio

from ._app import Scope, Simulator

if TYPE_CHECKING:
    import uvicorn

__all__ = ["serve", "serve_in_thread"]

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 5.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without it the separate header and body writes meet the
    # client's delayed ACK, and each call on a kept-alive connection waits ~40 ms (Linux).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)  # connections made before uvicorn accepts wait in the backlog
    sock.set_inheritable(True)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _make_server(sim: Simulator, log_level: str) -> uvicorn.Server:
    import uvicorn  # optional dependency (extra "server"), imported only when serving

    http = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    config = uvicorn.Config(
        sim,
        http=http,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        date_header=False,  # the simulator sends its own Date (server clock, skew included)
        server_header=False,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    sim._abort_hook = _abort_hook_for(server)
    return server


def _abort_hook_for(server: uvicorn.Server) -> Any:
    """A hook that aborts the TCP connection a request came in on (found by client address)."""

    def abort(scope: Scope) -> bool:
        client = scope.get("client")
        if client is None:
            return False
        wanted = (str(client[0]), int(client[1]))
        for connection in list(server.server_state.connections):
            if getattr(connection, "client", None) == wanted:
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
                    return True
        return False

    return abort


async def _serve_forever(server: uvicorn.Server, sock: socket.socket) -> None:
    # Server._serve is Server.serve without the signal handlers, which belong to the host app.
    await server._serve(sockets=[sock])


@contextlib.asynccontextmanager
async def serve(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> AsyncIterator[str]:
    """Serve ``sim`` on ``host:port`` for the duration of the block; yield the base URL.

    On asyncio uvicorn runs as a task in the running loop (so ``faults.hold`` and a
    ``FakeClock`` work as in-process). On any other backend (trio) it runs in a thread,
    as :func:`serve_in_thread`. ``port=0`` picks a free port. Needs ``uvicorn`` (extra
    ``server``); uses ``httptools`` when installed.
    """
    if sniffio.current_async_library() != "asyncio":
        manager = serve_in_thread(sim, host, port, log_level=log_level)
        url = await anyio.to_thread.run_sync(manager.__enter__)
        try:
            yield url
        finally:
            await anyio.to_thread.run_sync(manager.__exit__, None, None, None)
        return

    sock = _bind(host, port)
    server = _make_server(sim, log_level)
    task = asyncio.ensure_future(_serve_forever(server, sock))
    try:
        with anyio.fail_after(_STARTUP_TIMEOUT):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.001)
        yield _base_url(sock)
    finally:
        server.should_exit = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(_SHUTDOWN_TIMEOUT):
            await asyncio.wait([task])
        if not task.done():
            task.cancel()
        sim._abort_hook = None
        sock.close()


@contextlib.contextmanager
def serve_in_thread(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> Iterator[str]:
    """Serve ``sim`` from a background thread with its own event loop; yield the base URL.

    For synchronous code, trio, and tests that need a real socket in another loop. The
    simulator then runs in that thread: ``faults.hold`` and ``FakeClock.sleep`` must not be
    used, and reads of ``sim.log`` see a list the server thread appends to.
    """
    sock = _bind(host, port)
    server = _make_server(sim, log_level)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_serve_forever(server, sock))
        except BaseException as exc:  # reported to the caller below
            errors.append(exc)

    thread = threading.Thread(target=run, name="altabots-simulator", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if errors or not thread.is_alive():
                raise RuntimeError("the simulator server failed to start") from (
                    errors[0] if errors else None
                )
            if time.monotonic() > deadline:
                raise TimeoutError("the simulator server did not start in time")
            time.sleep(0.001)
        yield _base_url(sock)
    finally:
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_SHUTDOWN_TIMEOUT)
        sim._abort_hook = None
        sock.close()
