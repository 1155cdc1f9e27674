"""DNS probe: A and AAAA for a host, asked of one resolver at a time (dnspython).

Each configured system resolver is asked on its own, rather than through the system's
fail-over, so that a secondary internal DNS server that answers differently shows up.
The operating system's own resolution (hosts file included) is recorded too, since that is
what the gateway software itself uses.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from netdiag.privacy.own_flows import FlowLog
from netdiag.report.observations import DnsAnswer, DnsOutcome
from netdiag.settings.config import ResolverSpec

OS_RESOLVER = "os (getaddrinfo)"
MAX_SYSTEM_RESOLVERS = 4
QTYPES = ("A", "AAAA")


def system_resolvers() -> tuple[tuple[ResolverSpec, ...], str]:
    """The resolvers configured on this machine (resolv.conf or the Windows registry).

    Returns them and, when the configuration cannot be read, the error's name.
    """
    try:
        configured = dns.resolver.Resolver(configure=True)
    except Exception as e:  # noqa: BLE001 - any failure to read the OS configuration is a note
        return (), type(e).__name__
    specs = []
    for server in configured.nameservers[:MAX_SYSTEM_RESOLVERS]:
        address = str(server) if isinstance(server, str) else getattr(server, "address", "")
        port = getattr(server, "port", 53) if not isinstance(server, str) else 53
        if address:
            specs.append(ResolverSpec(address, int(port), "system"))
    return tuple(specs), ""


@contextlib.contextmanager
def _udp_socket(
    resolver: ResolverSpec, flows: FlowLog | None = None
) -> Iterator[socket.socket | None]:
    """A connected UDP socket, so that the ICMP "port unreachable" of a resolver that is not
    there ends the query at once instead of after the timeout. Not connected on Windows,
    where dnspython's sendto() on a connected socket fails (WSAEISCONN): there the socket is
    only bound (so that a capture knows its port), or left to dnspython without a capture."""
    family = socket.AF_INET6 if ":" in resolver.address else socket.AF_INET
    if sys.platform == "win32" and flows is None:
        yield None
        return
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        udp.setblocking(False)
        if sys.platform == "win32":
            udp.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))  # noqa: S104
        else:
            udp.connect((resolver.address, resolver.port))
        if flows is not None:
            flows.add("udp", udp.getsockname()[1], resolver.address, resolver.port)
        yield udp


def query_addresses(
    host: str, resolver: ResolverSpec, qtype: str, timeout: float, flows: FlowLog | None = None
) -> DnsAnswer:
    """Ask `resolver` for the `qtype` records of `host`, following the CNAMEs it returns."""
    query = dns.message.make_query(dns.name.from_text(host), qtype)
    query.flags |= dns.flags.RD
    started = time.monotonic()

    def answer(outcome: DnsOutcome, addresses: tuple[str, ...] = (), detail: str = "") -> DnsAnswer:
        return DnsAnswer(
            resolver=resolver.name,
            qtype=qtype,
            outcome=outcome,
            addresses=addresses,
            elapsed_ms=round((time.monotonic() - started) * 1000, 1),
            answered_by=resolver.name if outcome is not DnsOutcome.TIMEOUT else "",
            detail=detail,
        )

    try:
        with _udp_socket(resolver, flows) as udp:
            response, _ = dns.query.udp_with_fallback(
                query,
                resolver.address,
                timeout=timeout,
                port=resolver.port,
                ignore_unexpected=True,
                udp_sock=udp,
            )
    except dns.exception.Timeout:
        return answer(DnsOutcome.TIMEOUT, detail=f"no answer within {timeout:g} s")
    except OSError as e:
        # Port unreachable, no route, a local firewall: no DNS server answers there.
        return answer(DnsOutcome.TIMEOUT, detail=f"no DNS server answers: {e.strerror or e}")
    except (dns.exception.DNSException, ValueError, EOFError) as e:
        return answer(DnsOutcome.ERROR, detail=f"{type(e).__name__}: {e}"[:200])
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return answer(DnsOutcome.NXDOMAIN, detail="NXDOMAIN")
    if rcode == dns.rcode.SERVFAIL:
        return answer(DnsOutcome.SERVFAIL, detail="SERVFAIL")
    if rcode == dns.rcode.REFUSED:
        return answer(DnsOutcome.REFUSED, detail="REFUSED")
    if rcode != dns.rcode.NOERROR:
        return answer(DnsOutcome.ERROR, detail=dns.rcode.to_text(rcode))
    wanted = dns.rdatatype.from_text(qtype)
    addresses = tuple(
        dict.fromkeys(
            rdata.to_text()
            for rrset in response.answer
            if rrset.rdtype == wanted
            for rdata in rrset
        )
    )
    if not addresses:
        return answer(DnsOutcome.NO_ANSWER, detail=f"NOERROR without {qtype} records")
    return answer(DnsOutcome.ANSWER, addresses)


# getaddrinfo errors that mean "this name has no address" on Linux, macOS and Windows
# (WSAHOST_NOT_FOUND 11001, WSANO_DATA 11004).
_NO_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5), 11001, 11004}
_TRY_AGAIN = {socket.EAI_AGAIN, 11002}


def lookup_os(host: str, timeout: float) -> DnsAnswer:
    """What the operating system resolves `host` to (hosts file, DNS client, search list).

    getaddrinfo() has no timeout of its own, so it runs in a daemon thread that is abandoned
    after `timeout`.
    """
    started = time.monotonic()
    box: dict[str, object] = {}

    def resolve() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as e:
            box["error"] = e
        except UnicodeError as e:  # "a..b", a label over 63 characters: IDNA refuses it
            box["error"] = OSError(socket.EAI_NONAME, f"not a valid host name ({e})")

    worker = threading.Thread(target=resolve, name=f"getaddrinfo {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    elapsed = round((time.monotonic() - started) * 1000, 1)

    def answer(outcome: DnsOutcome, addresses: tuple[str, ...] = (), detail: str = "") -> DnsAnswer:
        return DnsAnswer(
            resolver=OS_RESOLVER,
            qtype="A+AAAA",
            outcome=outcome,
            addresses=addresses,
            elapsed_ms=elapsed,
            answered_by=OS_RESOLVER,
            detail=detail,
        )

    if worker.is_alive():
        return answer(DnsOutcome.TIMEOUT, detail=f"no answer within {timeout:g} s")
    error = box.get("error")
    if isinstance(error, OSError):
        code = error.errno
        if code in _NO_NAME:
            return answer(DnsOutcome.NXDOMAIN, detail=f"getaddrinfo: {error.strerror or error}")
        if code in _TRY_AGAIN:
            return answer(DnsOutcome.SERVFAIL, detail=f"getaddrinfo: {error.strerror or error}")
        return answer(DnsOutcome.ERROR, detail=f"getaddrinfo: {error.strerror or error}")
    infos = box.get("infos")
    addresses: tuple[str, ...] = ()
    if isinstance(infos, list):
        # Strip the IPv6 zone ("fe80::1%eth0"): the diagnosis compares bare addresses.
        addresses = tuple(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        return answer(DnsOutcome.NO_ANSWER, detail="getaddrinfo returned no address")
    return answer(DnsOutcome.ANSWER, addresses)


def address_for(host: str, timeout: float) -> str:
    """The address to trace or probe: `host` itself, or the first address the operating
    system resolves it to within `timeout` (IPv4 preferred); a UsageError otherwise."""
    import ipaddress

    from netdiag.errors import UsageError

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return host.strip("[]")
    answer = lookup_os(host, timeout)
    if answer.outcome is not DnsOutcome.ANSWER:
        why = answer.detail or answer.outcome.value
        raise UsageError(f"{host} does not resolve: {why}", de=f"{host} löst nicht auf: {why}")
    return next((a for a in answer.addresses if ":" not in a), answer.addresses[0])
