"""A tiny loopback HTTP proxy (in a thread: any event loop can use it).

Absolute-form requests (``GET http://host/path``, what a client sends a proxy for an
``http://`` target) are forwarded to ``upstream`` whatever their host (so a made-up host name
reaches the local simulator), rewritten to origin-form, and the connection is then piped
both ways. ``CONNECT`` (what a client sends for an ``https://`` target) is recorded and
refused with 403: the test sees what the proxy was told, and nothing leaves the host.
``heads`` holds every request head the proxy received.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class TinyProxy:
    """See the module docstring."""

    def __init__(self, upstream: tuple[str, int] | None = None) -> None:
        self.upstream = upstream
        self.heads: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._spawn(self._accept)

    def stop(self) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(5)
        self._listener.close()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._handle, conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    conn.close()
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            text = head.decode("latin-1")
            self.heads.append(text)
            method, target, version = text.split("\r\n", 1)[0].split(" ", 2)
            if method == "CONNECT" or self.upstream is None:
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                conn.close()
                return
            path = "/" + target.split("://", 1)[-1].split("/", 1)[-1] if "://" in target else target
            first = f"{method} {path} {version}".encode("latin-1")
            upstream = socket.create_connection(self.upstream, timeout=5)
            upstream.sendall(first + b"\r\n" + head.split(b"\r\n", 1)[1] + b"\r\n\r\n" + rest)
            self._spawn(self._pipe, upstream, conn)
            self._pipe(conn, upstream)
        except OSError:
            conn.close()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                try:
                    chunk = source.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@contextmanager
def tiny_proxy(upstream: tuple[str, int] | None = None) -> Iterator[TinyProxy]:
    """A started :class:`TinyProxy`, stopped at exit."""
    proxy = TinyProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
