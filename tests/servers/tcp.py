"""Loopback TCP peers for the tests: an open port, a closed port, a port that drops SYNs."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class OpenPort:
    """A listener that accepts and immediately closes every connection."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-open-port", daemon=True)

    def __enter__(self) -> OpenPort:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on `host` with nothing listening: the kernel answers SYNs with RST."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class DroppingPort:
    """A listener whose accept queue is full, so the kernel drops further SYNs silently.

    Linux drops a SYN for a listener whose backlog is exhausted (tcp_conn_request), which
    gives an unprivileged "filtered" port on loopback.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(0)
        self.port: int = self._sock.getsockname()[1]
        self._fillers: list[socket.socket] = []
        filler = socket.create_connection((host, self.port), timeout=1)
        self._fillers.append(filler)

    def __enter__(self) -> DroppingPort:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for filler in self._fillers:
            filler.close()
        self._sock.close()
