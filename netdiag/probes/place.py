"""Where an intercepted endpoint's TLS answer comes from: two measurements that need no raw
socket and no privilege.

- **The other end of a connection.** A proxy on this machine (security software, or a
  redirect to a local port) accepts netdiag's connection itself: this machine's socket
  table then holds a socket whose remote end is netdiag's own local address and port. Its
  owner is named where the table says it (psutil; on Linux as root, on Windows for most
  processes).
- **The hop of the TLS answer.** After a normal connect (and the STARTTLS prelude), the
  ClientHello leaves with a small TTL: a hello that expires before the device that answers
  it gets no answer, so the smallest TTL that is answered is that device's distance in
  hops (OONI's tlsmiddlebox measures the same way). Beside it, a clean port of the same
  address shows how far the server itself is.
- **The hop of a reset SYN.** Where every connect is refused with a reset, the connect
  itself goes out with a small TTL: a SYN that expires on the way gets an ICMP error or
  nothing, so the smallest TTL that is reset is how far the reset comes from; beside it,
  the server's own hop on a clean port of the same address.
- **The hop of the EHLO answer.** Where STARTTLS is missing, the same with the EHLO after
  a normal connect and banner: an SMTP proxy that ends the session before the server (and
  leaves STARTTLS out) answers an EHLO that never reaches the server."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from netdiag.errors import describe_error
from netdiag.privacy.own_flows import FlowLog
from netdiag.probes.deadline import Deadline
from netdiag.probes.dialogue import EXPECTED_ERRORS, Garbage
from netdiag.probes.hello import os_error_answer, probe_hello
from netdiag.probes.lines import (
    LineReader,
    LineTooLong,
    PeerClosed,
    PeerReset,
    PeerTimeout,
    PlainTransport,
    Transcript,
)
from netdiag.probes.smtp import GreetingUnfinished, helo_name, read_greeting, read_reply
from netdiag.probes.tcp import connect_tcp, limit_hops
from netdiag.report.observations import (
    Experiment,
    ExperimentResult,
    HelloAnswer,
    LocalPeer,
    TcpOutcome,
)
from netdiag.settings.targets import Service

# The TTLs tried together, nearest first: an interceptor is mostly within the site's own
# network; the next batch only runs when no TTL of the one before was answered.
HOP_BATCHES: tuple[tuple[int, ...], ...] = ((1, 2, 3, 4), (5, 6, 7, 8))
# How long a hop-limited hello waits for its answer: one that expired never gets one.
HOP_ANSWER_S = 2.0
# A batch whose hellos a peer cut (reset, closed), or whose connections were all refused, is
# sent once more after this pause, one connection at a time: an interceptor that restarts
# under load answers the next moment, and one that gives way under a batch answers one.
RETRY_PAUSE_S = 1.0
# How often, in that second try, a cut or refused hello is sent again after the pause (in
# all, not per TTL): an interceptor that restarts under load may give way again under a
# single connection.
REPEATS_ONE_BY_ONE = 2
# An accepted socket gets its owner (a file descriptor) a moment after the handshake.
OWNER_TRIES, OWNER_PAUSE_S = 3, 0.05


def is_own_address(address: str) -> bool:
    """Whether `address` is this machine's own (loopback, or on one of its interfaces)."""
    import psutil

    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.is_loopback or ip.is_unspecified:
        return True
    try:
        interfaces = psutil.net_if_addrs()
    except (psutil.Error, OSError):
        return False
    for addresses in interfaces.values():
        for entry in addresses:
            if entry.family in (socket.AF_INET, socket.AF_INET6) and _same(entry.address, ip):
                return True
    return False


def _same(text: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return _plain(ipaddress.ip_address(text.split("%", 1)[0])) == _plain(ip)
    except ValueError:
        return False


def _plain(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IPv4-mapped IPv6 address as the IPv4 address it is (a dual-stack listener's view)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _endpoint_key(
    address: str, port: int
) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None:
    try:
        return _plain(ipaddress.ip_address(address.split("%", 1)[0])), port
    except ValueError:
        return None


def local_peers(socks: Sequence[socket.socket]) -> tuple[dict[int, LocalPeer], str]:
    """For each connected socket (by its index), the socket of this machine at its other
    end, if any; and why the socket table could not be read ("" when it was)."""
    import psutil

    wanted: dict[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int], int] = {}
    for index, sock in enumerate(socks):
        try:
            name = sock.getsockname()
        except OSError:
            continue
        key = _endpoint_key(name[0], name[1])
        if key is not None:
            wanted[key] = index
    found: dict[int, LocalPeer] = {}
    for attempt in range(OWNER_TRIES):
        try:
            connections = psutil.net_connections(kind="tcp")
        except psutil.AccessDenied:
            return found, "this machine's socket table needs administrator rights here"
        except (psutil.Error, OSError) as error:
            return found, f"this machine's socket table could not be read: {error}"[:200]
        found = {}
        for connection in connections:
            if not connection.raddr or not connection.laddr:
                continue
            key = _endpoint_key(connection.raddr.ip, connection.raddr.port)
            if key is None or key not in wanted:
                continue
            found[wanted[key]] = LocalPeer(
                process=_owner(connection.pid),
                local_address=_joined(connection.laddr.ip, connection.laddr.port),
            )
        if all(peer.process for peer in found.values()) or attempt == OWNER_TRIES - 1:
            break
        time.sleep(OWNER_PAUSE_S)  # accepted, not yet owned: the proxy takes it in a moment
    return found, ""


def _owner(pid: int | None) -> str:
    import psutil

    if pid is None:
        return ""
    if pid == os.getpid():
        return f"netdiag itself (pid {pid})"
    try:
        return f"{psutil.Process(pid).name()} (pid {pid})"
    except (psutil.Error, OSError):
        return f"pid {pid}"


def _joined(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def probe_ehlo_hop(
    address: str,
    port: int,
    timeout: float,
    deadline: Deadline,
    flows: FlowLog | None,
    hop_limit: int,
    answer_wait: float,
) -> ExperimentResult:
    """Connect, read the banner, send the EHLO with `hop_limit` as its TTL, and say whether
    an SMTP reply came back; every outcome is a result, never an exception."""
    started = time.monotonic()
    base = ExperimentResult(
        kind=Experiment.EHLO_HOP_LIMITED, address=address, port=port, hop_limit=hop_limit
    )

    def result(answer: HelloAnswer, detail: str) -> ExperimentResult:
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return dataclasses.replace(base, answer=answer, detail=detail, elapsed_ms=elapsed)

    if deadline.remaining() < timeout / 2:
        return result(HelloAnswer.NOT_RUN, "no time left in the run")
    tcp, sock = connect_tcp(address, port, deadline.step(timeout), flows)
    if sock is None:
        return result(
            HelloAnswer.NOT_RUN, f"the connection failed: {tcp.detail or tcp.outcome.value}"
        )
    reader = LineReader(PlainTransport(sock), Transcript())
    try:
        try:
            # A banner that pauses after its first line (Postfix's postscreen) is waited
            # for as the check's own greeting is.
            banner, _ = read_greeting(reader, time.monotonic() + deadline.step(timeout), deadline)
        except GreetingUnfinished:
            return result(HelloAnswer.NOT_RUN, "no banner: it did not end")
        except EXPECTED_ERRORS as error:
            return result(HelloAnswer.NOT_RUN, f"no banner: {describe_error(error)}")
        if banner.code != 220:
            return result(HelloAnswer.NOT_RUN, f"the banner was {banner.code}")
        limit_hops(sock, hop_limit)
        until = time.monotonic() + min(answer_wait, max(deadline.remaining(), 0.0))
        reader.send_line(f"EHLO {helo_name(sock.getsockname()[0])}", until)
        reply = read_reply(reader, until)
        return result(HelloAnswer.SMTP_REPLY, f"{reply.code} {reply.lines[0][:80]}".strip())
    except (Garbage, LineTooLong):
        return result(HelloAnswer.NOT_TLS, "an answer that is not SMTP")
    except PeerReset:
        return result(HelloAnswer.RESET, "connection reset")
    except PeerClosed:
        return result(HelloAnswer.CLOSED, "connection closed")
    except (PeerTimeout, TimeoutError):
        return result(HelloAnswer.SILENCE, "no answer to the EHLO")
    except OSError as e:
        return result(*os_error_answer(e))
    finally:
        sock.close()


# What a hop-limited connect's outcome is as the answer to its SYN.
_SYN_ANSWERS = {
    TcpOutcome.OPEN: HelloAnswer.CONNECTED,
    TcpOutcome.REFUSED: HelloAnswer.RESET,
    TcpOutcome.TIMEOUT: HelloAnswer.SILENCE,
    TcpOutcome.UNREACHABLE: HelloAnswer.UNREACHABLE,
}


def probe_syn_hop(
    address: str,
    port: int,
    deadline: Deadline,
    flows: FlowLog | None,
    hop_limit: int,
    answer_wait: float,
) -> ExperimentResult:
    """Connect with `hop_limit` as the SYN's TTL and say what answered it: a SYN/ACK (the
    connection is closed at once), a reset, an ICMP error (the TTL ran out on the way: the
    router that says so is named where the system reports it), or nothing; never an
    exception."""
    base = ExperimentResult(
        kind=Experiment.SYN_HOP_LIMITED, address=address, port=port, hop_limit=hop_limit
    )
    if deadline.remaining() < answer_wait / 2:
        return dataclasses.replace(base, detail="no time left in the run")
    tcp, sock = connect_tcp(address, port, deadline.step(answer_wait), flows, hop_limit)
    if sock is not None:
        sock.close()
    answer = _SYN_ANSWERS.get(tcp.outcome, HelloAnswer.NOT_RUN)  # no socket, or no time
    detail = tcp.detail
    if tcp.icmp is not None and tcp.icmp.sender:
        detail = (
            f"ICMP from {tcp.icmp.sender}: {detail}" if detail else f"ICMP from {tcp.icmp.sender}"
        )
    return dataclasses.replace(base, answer=answer, detail=detail, elapsed_ms=tcp.elapsed_ms)


def hop_scan(
    address: str,
    port: int,
    service: Service,
    server_name: str,
    timeout: float,
    deadline: Deadline,
    flows: FlowLog | None = None,
    kind: Experiment = Experiment.HOP_LIMITED,
) -> tuple[tuple[ExperimentResult, ...], str]:
    """The hello (with `EHLO_HOP_LIMITED`: the EHLO, with `SYN_HOP_LIMITED`: the connect) at
    growing TTLs, a batch at a time, until one is answered (a ServerHello or an alert:
    either is a TLS answer; an SMTP reply) or, for a cut that is sought, cut; and why it
    stopped short ("" otherwise)."""
    # The connect and the STARTTLS prelude get the run's timeout; the hello's answer, which
    # an expired hello never gets, HOP_ANSWER_S.
    wait = min(timeout, HOP_ANSWER_S)

    def one(hops: int) -> ExperimentResult:
        if kind is Experiment.SYN_HOP_LIMITED:
            return probe_syn_hop(address, port, deadline, flows, hops, wait)
        if kind is Experiment.EHLO_HOP_LIMITED:
            return probe_ehlo_hop(address, port, timeout, deadline, flows, hops, wait)
        return probe_hello(
            address, port, service, server_name, kind, timeout, deadline, flows, hops, wait
        )

    def send(batch: tuple[int, ...]) -> list[ExperimentResult]:
        with ThreadPoolExecutor(max_workers=len(batch), thread_name_prefix="netdiag-hop") as pool:
            futures = [pool.submit(one, hops) for hops in batch]
            return [f.result() for f in futures]

    def may_retry() -> bool:
        return not retried and deadline.remaining() >= RETRY_PAUSE_S + timeout + 0.5

    def one_by_one(ttls: Sequence[int]) -> list[ExperimentResult]:
        """The hellos again, one connection at a time, nearest first, until one is
        answered: an interceptor that gave way under a batch gets one connection. One that
        gives way even under that, or is still restarting, gets a pause and the same TTL
        again, REPEATS_ONE_BY_ONE times in all; a refused connection is refused at any TTL,
        so once they are spent, a refusal ends the try."""
        sent: list[ExperimentResult] = []
        repeats = REPEATS_ONE_BY_ONE
        time.sleep(RETRY_PAUSE_S)
        for ttl in ttls:
            while deadline.remaining() >= timeout + 0.5:
                sent += send((ttl,))
                answer = sent[-1].answer
                if not (answer.is_cut_by_peer or answer is HelloAnswer.NOT_RUN):
                    break
                if not repeats:
                    if answer is HelloAnswer.NOT_RUN:
                        return sent
                    break
                repeats -= 1
                time.sleep(RETRY_PAUSE_S)
            else:
                return sent
            if sent[-1].answer.is_answer:
                break
        return sent

    done: list[ExperimentResult] = []
    retried = False
    for batch in HOP_BATCHES:
        if deadline.remaining() < timeout + 0.5:
            return tuple(done), "no time left in the run"
        results = send(batch)
        done += results
        if kind in (Experiment.CUT_HOP_LIMITED, Experiment.SYN_HOP_LIMITED):
            # The cut is what is sought: the first batch that a peer cut (or answered, if the
            # failure passed) ends the scan; an expired hello (SYN) gets silence or an ICMP
            # error.
            if any(r.answer.is_cut_by_peer or r.answer.is_answer for r in results):
                return tuple(done), ""
            if all(r.answer is HelloAnswer.NOT_RUN for r in results):
                return tuple(done), results[-1].detail
            continue
        answered = [r.hop_limit for r in results if r.answer.is_answer]
        if answered:
            # A nearer hop's hello cut while a farther one was answered: the interceptor
            # restarted (or its server refused it) in between. Those hops once more, or
            # the place would be read farther away than it is.
            nearer = [
                r.hop_limit
                for r in results
                if r.hop_limit < min(answered) and r.answer.is_cut_by_peer
            ]
            if nearer and may_retry():
                done += one_by_one(nearer)
            return tuple(done), ""
        # Hellos (or the STARTTLS dialogue before them) cut, or connections refused before
        # any hello (the port closed while an interceptor restarts): the batch once more.
        if any(r.answer.is_cut_by_peer for r in results) or all(
            r.answer is HelloAnswer.NOT_RUN for r in results
        ):
            if may_retry():
                retried = True
                results = one_by_one(batch)
                done += results
                if any(r.answer.is_answer for r in results):
                    return tuple(done), ""
            if results and all(r.answer is HelloAnswer.NOT_RUN for r in results):
                return tuple(done), results[-1].detail
    return tuple(done), ""
