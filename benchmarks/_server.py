"""``python -m altabots_async.testing`` with TCP_NODELAY on its listening socket.

Without it the served simulator's separate header and body writes meet the client's delayed
ACK, and every sequential request on a kept-alive connection takes ~40 ms on Linux (measured:
44 ms vs 0.2 ms per call). Accepted sockets inherit the option from the listener. Until
``altabots_async.testing._serve._bind`` sets it itself, the benchmarks start the server here.
"""

from __future__ import annotations

import socket
import sys

from altabots_async.testing import __main__ as simulator_main
from altabots_async.testing import _serve

_bind = _serve._bind


def _bind_nodelay(host: str, port: int) -> socket.socket:
    sock = _bind(host, port)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


_serve._bind = _bind_nodelay

if __name__ == "__main__":
    sys.exit(simulator_main.main())
