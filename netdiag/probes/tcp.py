"""TCP probe: one connect() to one address, classified with the evidence the OS gives.

Portable: the outcome comes from connect()'s error, which Linux, macOS and Windows report
with their own numbers (the WSAE* codes on Windows). On Linux the probe also asks the
kernel for the ICMP error behind a failed connect (IP_RECVERR, no privileges needed), so
"administratively prohibited" and the router that sent it can be named.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import ipaddress
import socket
import struct
import sys
import time

from netdiag.privacy.own_flows import FlowLog
from netdiag.report.observations import IcmpReport, TcpObservation, TcpOutcome

# Windows Sockets error numbers (winsock2.h); Python on Windows reports these in errno.
WSAEACCES = 10013
WSAEADDRNOTAVAIL = 10049
WSAENETDOWN = 10050
WSAENETUNREACH = 10051
WSAETIMEDOUT = 10060
WSAECONNREFUSED = 10061
WSAEHOSTDOWN = 10064
WSAEHOSTUNREACH = 10065

_REFUSED = {errno.ECONNREFUSED, WSAECONNREFUSED}
_TIMED_OUT = {errno.ETIMEDOUT, WSAETIMEDOUT}
_UNREACHABLE = {
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
    errno.ENETDOWN,
    errno.EACCES,
    errno.EPERM,
    errno.EADDRNOTAVAIL,
    getattr(errno, "ENONET", -1),
    errno.ENOPROTOOPT,
    WSAEACCES,
    WSAEADDRNOTAVAIL,
    WSAENETDOWN,
    WSAENETUNREACH,
    WSAEHOSTDOWN,
    WSAEHOSTUNREACH,
}
_WSA_NAMES = {
    WSAEACCES: "WSAEACCES",
    WSAEADDRNOTAVAIL: "WSAEADDRNOTAVAIL",
    WSAENETDOWN: "WSAENETDOWN",
    WSAENETUNREACH: "WSAENETUNREACH",
    WSAETIMEDOUT: "WSAETIMEDOUT",
    WSAECONNREFUSED: "WSAECONNREFUSED",
    WSAEHOSTDOWN: "WSAEHOSTDOWN",
    WSAEHOSTUNREACH: "WSAEHOSTUNREACH",
}

# linux/in.h, linux/in6.h, linux/errqueue.h
_IP_RECVERR = 11
_IPV6_RECVERR = 25
_SO_EE_ORIGIN_ICMP = 2
_SO_EE_ORIGIN_ICMP6 = 3
_EXTENDED_ERR = struct.Struct("=IBBBBII")


def errno_name(number: int | None) -> str:
    if number is None:
        return ""
    return _WSA_NAMES.get(number) or errno.errorcode.get(number, f"errno {number}")


def classify_errno(number: int | None) -> TcpOutcome:
    """Map a connect() error number (POSIX or Windows) to an outcome."""
    if number in _REFUSED:
        return TcpOutcome.REFUSED
    if number in _TIMED_OUT:
        return TcpOutcome.TIMEOUT
    if number in _UNREACHABLE:
        return TcpOutcome.UNREACHABLE
    return TcpOutcome.ERROR


def probe_tcp(address: str, port: int, timeout: float) -> TcpObservation:
    """Connect to `address`:`port` within `timeout` seconds and close again."""
    observation, sock = connect_tcp(address, port, timeout)
    if sock is not None:
        sock.close()
    return observation


def connect_tcp(
    address: str,
    port: int,
    timeout: float,
    flows: FlowLog | None = None,
    hop_limit: int | None = None,
    max_segment: int | None = None,
) -> tuple[TcpObservation, socket.socket | None]:
    """Connect to `address`:`port` within `timeout` seconds; the connected socket is
    returned open (the caller owns it) so that the protocol can run on this very
    connection: a second connect would be netdiag's own doing, and rate limits, port-scan
    detection and fragile middleboxes react to it. With `hop_limit`, the SYN leaves with
    that TTL (an experiment: what answers it is no farther away); with `max_segment`, it
    asks the server for segments of at most that many bytes (the MSS it announces; see
    `can_ask_for_small_segments`)."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    version = 6 if family == socket.AF_INET6 else 4
    started = time.monotonic()

    def seen(
        outcome: TcpOutcome,
        number: int | None = None,
        detail: str = "",
        icmp: IcmpReport | None = None,
    ) -> TcpObservation:
        return TcpObservation(
            address=address,
            port=port,
            family=version,
            outcome=outcome,
            elapsed_ms=round((time.monotonic() - started) * 1000, 2),
            timeout_s=timeout,
            errno=number,
            errno_name=errno_name(number),
            detail=detail,
            icmp=icmp,
        )

    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as e:
        return seen(
            classify_errno(e.errno), e.errno, f"cannot create an IPv{version} socket: {e.strerror}"
        ), None
    is_handed_over = False
    try:
        _ask_for_icmp_errors(sock, version)
        if flows is not None:
            # Our port before the SYN leaves: the capture keeps this flow from its first packet.
            sock.bind(("::" if version == 6 else "0.0.0.0", 0))  # noqa: S104 - outgoing only
            flows.add("tcp", sock.getsockname()[1], address, port)
        if hop_limit is not None:
            limit_hops(sock, hop_limit)
        if max_segment is not None:
            sock.setsockopt(socket.IPPROTO_TCP, _TCP_MAXSEG, max_segment)
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
        except TimeoutError:
            return seen(TcpOutcome.TIMEOUT, None, f"no answer to SYN within {timeout:g} s"), None
        except ConnectionResetError as e:
            # The handshake completed and the peer reset the connection at once, before
            # connect() returned: the port answered; what comes after is the protocol's.
            detail = "reset by the peer right after the handshake"
            return seen(TcpOutcome.OPEN, e.errno, detail), None
        except OSError as e:
            failed = seen(classify_errno(e.errno), e.errno, e.strerror or str(e))
            icmp = _read_icmp_error(sock, version)
            return (failed if icmp is None else dataclasses.replace(failed, icmp=icmp)), None
        is_handed_over = True
        return seen(TcpOutcome.OPEN), sock
    finally:
        if not is_handed_over:
            sock.close()


# Linux's TCP_MAXSEG (0 where the platform has none: Windows sets no MSS of its own).
_TCP_MAXSEG = getattr(socket, "TCP_MAXSEG", 0)
# The MSS an experiment announces to get small segments back: packets no path is too
# narrow for (IPv4 guarantees 576 bytes).
SMALL_MSS = 500


@functools.cache
def can_ask_for_small_segments() -> bool:
    """Whether a socket here can announce a smaller MSS in its SYN (TCP_MAXSEG set before
    connect(), as Linux does; Windows cannot)."""
    if not _TCP_MAXSEG or sys.platform != "linux":
        return False
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.IPPROTO_TCP, _TCP_MAXSEG, SMALL_MSS)
    except OSError:
        return False
    return True


def limit_hops(sock: socket.socket, hops: int) -> None:
    """Send what follows with this TTL (IPv6: unicast hop limit): it expires at that
    router, and only what answers within `hops` hops can answer."""
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
    else:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, hops)


def _ask_for_icmp_errors(sock: socket.socket, version: int) -> None:
    if sys.platform != "linux":
        return
    level, option = (
        (socket.IPPROTO_IPV6, _IPV6_RECVERR) if version == 6 else (socket.IPPROTO_IP, _IP_RECVERR)
    )
    try:
        sock.setsockopt(level, option, 1)
    except OSError:
        pass  # an old kernel: the errno alone still classifies the outcome


def _read_icmp_error(sock: socket.socket, version: int) -> IcmpReport | None:
    """The ICMP error queued for a failed connect (Linux IP_RECVERR), if there is one."""
    if sys.platform != "linux":
        return None
    try:
        # Non-blocking: with a timeout set, Python would first wait for the socket to be
        # readable, and an error queue never makes it so.
        sock.setblocking(False)
        _, ancillary, _, _ = sock.recvmsg(1, 512, socket.MSG_ERRQUEUE)
    except OSError:
        return None
    for level, kind, data in ancillary:
        if (level, kind) not in (
            (socket.IPPROTO_IP, _IP_RECVERR),
            (socket.IPPROTO_IPV6, _IPV6_RECVERR),
        ):
            continue
        return parse_extended_error(data)
    return None


def parse_extended_error(data: bytes) -> IcmpReport | None:
    """Decode `struct sock_extended_err` followed by the offender's sockaddr."""
    if len(data) < _EXTENDED_ERR.size:
        return None
    _, origin, icmp_type, icmp_code, _, _, _ = _EXTENDED_ERR.unpack_from(data)
    if origin not in (_SO_EE_ORIGIN_ICMP, _SO_EE_ORIGIN_ICMP6):
        return None
    offender = data[_EXTENDED_ERR.size :]
    sender = ""
    if len(offender) >= 8 and struct.unpack_from("=H", offender)[0] == socket.AF_INET:
        sender = socket.inet_ntop(socket.AF_INET, offender[4:8])
    elif len(offender) >= 24 and struct.unpack_from("=H", offender)[0] == socket.AF_INET6:
        sender = socket.inet_ntop(socket.AF_INET6, offender[8:24])
    return IcmpReport(
        sender=sender,
        type=icmp_type,
        code=icmp_code,
        family=6 if origin == _SO_EE_ORIGIN_ICMP6 else 4,
    )
