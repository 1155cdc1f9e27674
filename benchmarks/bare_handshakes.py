"""The floor of any check written with the chosen stack: a new interpreter imports it, then
does nothing but the 13 handshakes the openssl loop does (SMTP banner, EHLO, STARTTLS; POP3S;
TLS), all at once, each closed right after its handshake (and the POP3 greeting) as
`openssl s_client` closes on an empty input. No profile, no resolver, no judging, no
report. Run by tls_speed.py as

    python benchmarks/bare_handshakes.py SMTP_PORT POP3_PORT TLS_PORT CLIENT_PEM

and timed from outside, Python's start-up included; exits 1 if a handshake failed.
"""

from __future__ import annotations

import socket
import sys
import threading

# The same modules as tls_speed.STACK: what a check imports before its first packet.
import certifi  # noqa: F401
import cryptography.x509  # noqa: F401
import dns.message  # noqa: F401
import dns.query  # noqa: F401
import dns.resolver  # noqa: F401
import service_identity.cryptography  # noqa: F401
import typer  # noqa: F401
from OpenSSL import SSL

HOSTS = [f"mail{n}.dicommail.com" for n in range(1, 7)]
ATLAS = "atlas79.mydhp.de"
TIMEOUT_S = 10.0


def read_reply(sock: socket.socket) -> bytes:
    """One SMTP reply, multi-line ones to their last line ("250 " after "250-")."""
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during an SMTP reply")
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) > 1 and any(line[3:4] == b" " for line in lines[:-1]):
            return data


def handshake(context: SSL.Context, host: str, port: int, service: str, failed: list[str]) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as sock:
            if service == "smtp":
                read_reply(sock)
                sock.sendall(b"EHLO bench\r\n")
                read_reply(sock)
                sock.sendall(b"STARTTLS\r\n")
                read_reply(sock)
            sock.settimeout(None)  # pyOpenSSL handshakes on a blocking socket
            connection = SSL.Connection(context, sock)
            connection.set_tlsext_host_name(host.encode("ascii"))
            connection.set_connect_state()
            connection.do_handshake()
            if service == "pop3":
                connection.recv(4096)  # the greeting, which the server sends at once
            connection.shutdown()
    except (OSError, SSL.Error) as error:
        failed.append(f"{host}:{port}: {error!r}")


def main(smtp_port: int, pop3_port: int, tls_port: int, client_pem: str) -> int:
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.use_certificate_chain_file(client_pem)
    context.use_privatekey_file(client_pem)
    items = [(h, smtp_port, "smtp") for h in HOSTS] + [(h, pop3_port, "pop3") for h in HOSTS]
    items.append((ATLAS, tls_port, "tls"))
    failed: list[str] = []
    threads = [
        threading.Thread(target=handshake, args=(context, *i, failed), daemon=True) for i in items
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S * 2)
    print("\n".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
