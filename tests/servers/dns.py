"""A real DNS server on loopback, built with dnspython's message API, for the tests.

Each name has a behaviour: answer with addresses, NXDOMAIN, SERVFAIL, NOERROR without
records, or silence. It serves UDP only; dnspython's client falls back to TCP only on
truncation, which these small answers never need.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from types import TracebackType

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


@dataclass(frozen=True)
class Answer:
    addresses: tuple[str, ...] = ()
    rcode: int = dns.rcode.NOERROR
    is_silent: bool = False
    delay_s: float = 0.0


def addresses(*addrs: str, delay_s: float = 0.0) -> Answer:
    return Answer(addresses=addrs, delay_s=delay_s)


NXDOMAIN = Answer(rcode=dns.rcode.NXDOMAIN)
SERVFAIL = Answer(rcode=dns.rcode.SERVFAIL)
EMPTY = Answer()
SILENT = Answer(is_silent=True)


class DnsServer:
    """Serve `zone` (name -> Answer) on 127.0.0.1 (or `host` inside a test namespace),
    port chosen by the OS unless given."""

    def __init__(
        self,
        zone: dict[str, Answer],
        default: Answer = NXDOMAIN,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.zone = {name.rstrip(".").lower(): answer for name, answer in zone.items()}
        self.default = default
        self.queries: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self.host = host
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-dns", daemon=True)

    @property
    def spec(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> DnsServer:
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
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - garbage in a test server is ignored
                continue
            reply, delay = self._reply(query)
            if reply is None:
                continue
            if delay:
                timer = threading.Timer(delay, self._send, (reply.to_wire(), peer))
                timer.daemon = True
                timer.start()
            else:
                self._send(reply.to_wire(), peer)

    def _send(self, wire: bytes, peer: tuple[str, int]) -> None:
        try:
            self._sock.sendto(wire, peer)
        except OSError:
            pass  # stopped meanwhile

    def _reply(self, query: dns.message.Message) -> tuple[dns.message.Message | None, float]:
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        qtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, qtype))
        answer = self.zone.get(name, self.default)
        if answer.is_silent:
            return None, 0.0
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.RA
        reply.set_rcode(answer.rcode)
        wanted = [a for a in answer.addresses if (":" in a) == (qtype == "AAAA")]
        if wanted and qtype in ("A", "AAAA"):
            reply.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", qtype, wanted))
        return reply, answer.delay_s
