"""A loopback HTTP/1.1 server that fails on purpose (in a thread: any event loop can use it).

Each connection reads one request (head, and the body by ``Content-Length``) and then does
what ``mode`` says:

=======================  ======================================================================
mode                     behaviour
=======================  ======================================================================
``reset_on_accept``      reset (RST) at once, before reading anything: a write to it fails
``close_before_headers`` read the request, close without a byte (headers never come)
``garbage``              read the request, answer bytes that are not HTTP
``stall``                read the request, never answer (a read timeout)
``short_json``           a 200 JSON head with ``Content-Length: 1000``, 15 bytes, then close
``reset_json``           the same, then reset (RST) mid-body
``short_bytes``          the same as ``short_json`` for ``audio/mpeg`` (a download)
``reset_stream``         ``text/event-stream``, chunked: two events, then reset mid-stream
``json_40008``           a 200 JSON body ``{"code": 40008, ...}`` (the vendor's over-quota)
``ok_json``              a 200 JSON agent
=======================  ======================================================================
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MODES = (
    "reset_on_accept",
    "close_before_headers",
    "garbage",
    "stall",
    "short_json",
    "reset_json",
    "short_bytes",
    "reset_stream",
    "json_40008",
    "ok_json",
)


def _reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _head(status: str, content_type: str, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}Connection: close\r\n\r\n"
    ).encode("ascii")


class MisbehavingServer:
    """See the module docstring. ``requests`` holds each request head received."""

    def __init__(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._release = threading.Event()
        self._threads: list[threading.Thread] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/"

    def start(self) -> None:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._release.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read_request(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.requests.append(head)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        left = length - len(body)
        while left > 0:
            chunk = conn.recv(min(left, 1 << 20))
            if not chunk:
                return False
            left -= len(chunk)
        return True

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            if self.mode == "reset_on_accept":
                _reset(conn)
                return
            if not self._read_request(conn):
                conn.close()
                return
            getattr(self, f"_{self.mode}")(conn)
        except OSError:
            conn.close()

    def _close_before_headers(self, conn: socket.socket) -> None:
        conn.close()

    def _garbage(self, conn: socket.socket) -> None:
        conn.sendall(b"THIS IS NOT HTTP\x00\x01\r\n\r\n")
        conn.close()

    def _stall(self, conn: socket.socket) -> None:
        self._release.wait(10)
        conn.close()

    def _short(self, conn: socket.socket, content_type: str, reset: bool) -> None:
        conn.sendall(_head("200 OK", content_type, "Content-Length: 1000\r\n"))
        conn.sendall(b'{"code": 0, "da')
        if reset:
            _reset(conn)
        else:
            conn.close()

    def _short_json(self, conn: socket.socket) -> None:
        self._short(conn, "application/json", reset=False)

    def _reset_json(self, conn: socket.socket) -> None:
        self._short(conn, "application/json", reset=True)

    def _short_bytes(self, conn: socket.socket) -> None:
        self._short(conn, "audio/mpeg", reset=False)

    def _reset_stream(self, conn: socket.socket) -> None:
        conn.sendall(_head("200 OK", "text/event-stream", "Transfer-Encoding: chunked\r\n"))
        for event in ({"code": 11, "data": {"message_id": "m1"}}, {"code": 3, "data": "Hel"}):
            line = f"data: {json.dumps(event)}\n\n".encode()
            conn.sendall(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        _reset(conn)

    def _json(self, conn: socket.socket, body: dict[str, object]) -> None:
        payload = json.dumps(body).encode()
        conn.sendall(
            _head("200 OK", "application/json", f"Content-Length: {len(payload)}\r\n") + payload
        )
        conn.close()

    def _json_40008(self, conn: socket.socket) -> None:
        self._json(conn, {"code": 40008, "message": "Agent RPM request limit exceeded"})

    def _ok_json(self, conn: socket.socket) -> None:
        self._json(conn, {"code": 0, "data": {"bot_id": "b1", "name": "Helper"}})


@contextmanager
def misbehaving(mode: str) -> Iterator[MisbehavingServer]:
    """A started :class:`MisbehavingServer`, stopped at exit."""
    server = MisbehavingServer(mode)
    server.start()
    try:
        yield server
    finally:
        server.stop()
