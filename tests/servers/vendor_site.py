"""The vendor's site for network-namespace tests, run inside the server namespace:

    python -m tests.servers.vendor_site DIR DNS_ADDRESS HOST=ADDRESS ...

Real SMTP+STARTTLS (25), POP3S (995) and TLS/HTTP (8140) servers that require the
client certificate (as the vendor's do), on every address of the namespace, and a DNS
server on DNS_ADDRESS:53 that answers each HOST with its ADDRESS. The PKI is made here;
the client certificate (`client.pem`), the vendor's pins (`pins.toml`) and the CA
certificates (`ca.pem`) are written to DIR for netdiag in the client namespace. The
server certificate was issued an hour ago: a renewal today must not look like inspection.
Prints `ready` when serving; stops when its standard input closes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from contextlib import ExitStack
from pathlib import Path

from tests.servers.base import Server
from tests.servers.dns import DnsServer, addresses
from tests.servers.mail import HttpsHandler, Pop3Handler, SmtpHandler, TlsPolicy, server_context
from tests.servers.pki import SERVER_NAMES, make_pki

VENDOR = TlsPolicy()  # the client certificate is required
# Postfix greets after its look-ups of the client (reverse DNS, postscreen): tens of
# milliseconds, not the instant a server in the next namespace could. sslsplit 0.5.5
# aborts ("readcb called when other end not connected") when a banner beats its own
# connect event — a race that real latency makes rare, and an instant banner constant.
BANNER_S = 0.05


def main(argv: list[str]) -> None:
    directory, dns_address, *mappings = argv
    out = Path(directory)
    pki = make_pki()
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    renewed = pki.issuing.issue_cert(
        *SERVER_NAMES,
        common_name="mail1.dicommail.com",
        not_before=issued,
        not_after=issued + dt.timedelta(days=365),
    )
    pki = dataclasses.replace(pki, server=renewed)
    pki.client_pem(out)
    pki.ca_pem(out)
    from tests.integration.tls_fixtures import vendor_pins

    vendor_pins(pki, out)
    zone = {host: addresses(address) for host, _, address in (m.partition("=") for m in mappings)}
    with ExitStack() as stack:
        for port, handler in (
            (25, SmtpHandler(server_context(pki, VENDOR), VENDOR, banner_delay_s=BANNER_S)),
            (995, Pop3Handler(server_context(pki, VENDOR), VENDOR)),
            (8140, HttpsHandler(server_context(pki, VENDOR), VENDOR)),
        ):
            stack.enter_context(Server(handler, host="0.0.0.0", port=port))  # noqa: S104
        stack.enter_context(DnsServer(zone, host=dns_address, port=53))
        print("ready", flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1:])
