"""A threaded TCP server for the tests: port 0, a handler per connection, a clean stop.

Handlers get the accepted socket with a timeout already set, so that a test server can
never hang a test; every thread is joined on stop.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import TracebackType

Handler = Callable[[socket.socket], None]
CONNECTION_TIMEOUT_S = 10.0


class Server:
    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(32)
        self._sock.settimeout(0.05)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, name="test-server", daemon=True)
        self.errors: list[BaseException] = []

    def __enter__(self) -> Server:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._acceptor.join(timeout=2)
        with self._lock:
            for conn in self._connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(CONNECTION_TIMEOUT_S)
            # Small replies go out at once, as nginx (tcp_nodelay) and Dovecot send them: a
            # reply behind an unacknowledged session ticket would otherwise wait for the
            # client's delayed ACK (Nagle), a stall no real server of the vendor's has.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except (OSError, ValueError) as error:  # the client went away: normal in these tests
            self.errors.append(error)
        finally:
            conn.close()


def reset(conn: socket.socket) -> None:
    """Close with a TCP reset instead of a FIN (SO_LINGER with a zero timeout)."""
    import struct

    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def read_line(conn: socket.socket | object, limit: int = 4096) -> bytes:
    """One CRLF line from a socket or an SSLSocket, byte by byte (test traffic is tiny)."""
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = conn.recv(1)  # type: ignore[attr-defined]
        if not chunk:
            break
        data += chunk
    return data
