"""Loopback TCP peers for the tests: an open port, a closed port, a port that drops SYNs."""

from __future__ import annotations

import socket
from types import TracebackType

from tests.servers.base import Server


class OpenPort(Server):
    """A listener that accepts and immediately closes every connection."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(_close, host)


def _close(conn: socket.socket) -> None:
    """Nothing to say: the server closes the connection after the handler."""


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
