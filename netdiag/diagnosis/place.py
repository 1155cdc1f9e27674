"""Where an interception takes place (`PlaceObservation`, measured by `netdiag.probes.place`
only for endpoints proven intercepted), and who must act on it.

1. **This machine**: a socket of this machine is the other end of netdiag's connection to
   a remote address. Nothing on the path can produce that: the chain is forged here
   (`tls.intercepted_locally`, the fix is on the gateway, no firewall rule). Never for an
   address of this machine's own, where the server itself is local.
2. **A device N hops away**: the smallest TTL whose hello is answered is N. Beside a clean
   port of the same address answered at hop D, N < D puts the device on the path before
   the server; N = D puts it at the server's end of the path. The verdict stays
   `tls.intercepted` (the firewall team's remedy), with the place in its summary. A nearer
   TTL whose hello was cut (reset or closed: a peer held the connection), sent again
   and cut every time, leaves only "no farther than N hops": an expired hello gets silence, so
   what cut it may be the device itself, nearer.
3. **Not measured**: why (no time left, no connection, the table unreadable) is said, and
   the verdict stands as the chain proved it.

Where STARTTLS is missing from the EHLO reply (`smtp.starttls_missing`), the same with the
EHLO: a socket of this machine answering is software on the gateway that leaves STARTTLS
out (`smtp.starttls_stripped_locally`); an EHLO answered at hop N before the server's hop D
(a clean port of the same address) is a proxy N hops away that ends the SMTP session there;
N = D leaves two causes the experiment cannot split (the server does not offer STARTTLS, or
an inline device rewrites the reply without answering), and the finding says both."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.hypotheses import HTTP_ANSWER, experiment_line
from netdiag.diagnosis.interception import local_remedy
from netdiag.report.model import SYN_RESET, DevicePlace, Finding
from netdiag.report.observations import (
    Experiment,
    ExperimentResult,
    HelloAnswer,
    LocalPeer,
    PlaceObservation,
)
from netdiag.settings.targets import Target
from netdiag.trust.products import local_product

if TYPE_CHECKING:
    from netdiag.report.trace_observations import TraceObservation

# Every connect refused with a reset: by the server, or by a device in its name.
REFUSED = "tcp.refused"
# The verdicts whose place is measured (`netdiag.session.place`).
PLACED_CODES = frozenset(
    {
        "tls.intercepted",
        "tls.intercepted_locally",
        "smtp.starttls_missing",
        "trace.transparent_proxy",
        # Only where every hello was cut (`netdiag.diagnosis.hypotheses.is_cut_every_time`).
        "tls.handshake_failed",
        # Only where no connect opened (`netdiag.session.place`).
        REFUSED,
    }
)
# The `detail` of a forged reset found by the hop-limited hello (not by a trace): every
# hello cut by a peer nearer than the server.
HELLO_CUT = "hello"
# The hop-limited hello of an endpoint whose every hello was cut.
CUT = Experiment.CUT_HOP_LIMITED
# The hop-limited connect of an endpoint whose every connect was refused.
SYN = Experiment.SYN_HOP_LIMITED
# The subject of a reset SYN with TTL 1: a rule of this machine's own firewall resets it
# as well as one of the first hop's.
FIRST_HOP_OR_HERE = "this machine or the first hop"

# The `detail` of a missing STARTTLS whose EHLO is answered as far away as the server.
AT_SERVER = "at_server"
# The verdicts a device at a measured hop stands behind, and a trace may name by address.
_AT_HOP_CODES = frozenset({"tls.intercepted", "smtp.starttls_missing"})


def answer_hop(hops: Sequence[ExperimentResult]) -> int | None:
    """The smallest TTL whose hello got a TLS answer (whose EHLO an SMTP reply)."""
    answered = [r.hop_limit for r in hops if r.hop_limit and r.answer.is_answer]
    return min(answered) if answered else None


def cut_below(hops: Sequence[ExperimentResult], hop: int) -> tuple[int, ...]:
    """The TTLs below `hop` whose hellos were cut and never answered."""
    answered = {r.hop_limit for r in hops if r.answer.is_answer}
    cut = {r.hop_limit for r in hops if r.hop_limit < hop and r.answer.is_cut_by_peer}
    return tuple(sorted(cut - answered))


def _ttls(ttls: Sequence[int]) -> str:
    return ", ".join(str(t) for t in ttls)


def _again(place: PlaceObservation) -> str:
    """ ", again after a pause too" where a TTL was sent more than once (the deadline may not
    have left time for it)."""
    ttls = [r.hop_limit for r in place.hops]
    return ", again after a pause too" if len(ttls) > len(set(ttls)) else ""


def is_on_this_machine(place: PlaceObservation) -> bool:
    """A socket of this machine answered for a remote address."""
    return place.local_peer is not None and not place.is_own_address


def _hop_phrase(hop: int, address: str = "") -> str:
    if hop == 1:
        at = f"{address}, " if address else ""
        return f"the first hop ({at}this gateway's router or firewall)"
    return f"a device {hop} hops away" + (f" ({address})" if address else "")


def _words(place: PlaceObservation) -> tuple[str, str]:
    """What was sent hop-limited and what its answer is: ("hello", "TLS answer") or
    ("EHLO", "SMTP answer")."""
    if place.experiment is Experiment.EHLO_HOP_LIMITED:
        return "EHLO", "SMTP answer"
    if any(r.answer is HelloAnswer.HTTP_REPLY for r in place.hops):
        return "hello", "HTTP answer"
    return "hello", "TLS answer"


def cut_hop(hops: Sequence[ExperimentResult]) -> int | None:
    """The smallest TTL whose hello a peer cut (a reset or a close)."""
    cut = [r.hop_limit for r in hops if r.hop_limit and r.answer.is_cut_by_peer]
    return min(cut) if cut else None


def _cut_words(hops: Sequence[ExperimentResult], hop: int) -> str:
    """How the hellos with TTL `hop` were cut: "reset", "closed" or both."""
    kinds = dict.fromkeys(r.answer.value for r in hops if r.hop_limit == hop)
    return " or ".join(k for k in kinds if k in ("reset", "closed"))


def place_lines(place: PlaceObservation) -> list[str]:
    """The place measurement as evidence: what was seen and what it shows."""
    if place.experiment is SYN:
        # A refused connect has no other end on this machine to look for.
        own = _machine_lines(place) if place.is_own_address else []
        return [*own, *_cut_lines(place)]
    lines = _machine_lines(place)
    if place.experiment is CUT:
        return [*lines, *_cut_lines(place)]
    sent, answer = _words(place)
    source = _source(place)
    hop = answer_hop(place.hops)
    cut = cut_below(place.hops, hop) if hop is not None else ()
    if hop is not None and cut:
        lines.append(
            f"place: the {sent} is answered from TTL {hop} on{source}; at TTL {_ttls(cut)} it "
            f"was cut (reset or closed){_again(place)}, never answered: the {answer} comes "
            f"from no farther than {hop} hops, maybe nearer"
        )
    elif hop is not None:
        lines.append(
            f"place: the {sent} is answered from TTL {hop} on, not below{source}: the "
            f"{answer} comes from {_hop_phrase(hop)}"
        )
    elif any(r.answer.is_cut_by_peer for r in place.hops):
        lines.append(
            f"place: the hop-limited {sent}s were cut (reset or closed){source}"
            f"{_again(place)}: a device that cuts them or restarts; no place measured"
        )
    else:
        lines += _nothing_within(place, sent, "answered", "what answers")
    return [*lines, *_server_lines(place)]


def _machine_lines(place: PlaceObservation) -> list[str]:
    """Whether a socket of this machine holds the other end of the connection."""
    peer = place.local_peer
    if place.is_own_address:
        return [
            f"place: {place.address} is this machine's own address: where the answer comes "
            "from cannot be told apart from the server"
        ]
    if peer is not None:
        owner = peer.process or "a socket whose owner cannot be read here"
        return [
            f"place: this machine — the other end of a new connection to "
            f"{place.address}:{place.port} is {owner} on this machine ({peer.local_address}), "
            "not the server"
        ]
    if place.socket_table_problem:
        return [f"place: this machine not checked: {place.socket_table_problem}"]
    return [
        f"place: not this machine — no socket of this machine holds the other end of a "
        f"connection to {place.address}:{place.port}"
    ]


def _source(place: PlaceObservation) -> str:
    return f" (measured on {place.measured_on})" if place.measured_on else ""


def _server_lines(place: PlaceObservation) -> list[str]:
    """The server's own hop on its clean port, and every hop-limited experiment."""
    lines = []
    server_hop = answer_hop(place.control_hops)
    if server_hop is not None and place.control_port is not None:
        lines.append(
            f"place: the server itself answers its clean port {place.control_port} from TTL "
            f"{server_hop} on"
        )
    return [*lines, *(experiment_line(r) for r in (*place.hops, *place.control_hops))]


def _cut_lines(place: PlaceObservation) -> list[str]:
    """The hop-limited hellos (SYNs) of an endpoint whose every hello was cut (every connect
    refused): from which TTL on a peer cuts them (below it they expire on the way)."""
    source = _source(place)
    hop = cut_hop(place.hops)
    answered = answer_hop(place.hops)
    sent, cut, acts = _cut_terms(place)
    first = "this machine's own firewall or the first hop" if place.experiment is SYN else ""
    if answered is not None and (hop is None or answered <= hop):
        said = [
            f"place: the {sent} with TTL {answered} was answered{source}: the {cut} passed "
            f"between the {sent}s; nothing is placed"
        ]
    elif hop == 1:
        said = [
            f"place: the {sent} is {_how_cut(place, hop)} at TTL 1{source}: "
            f"what {cut}s it is {first or 'the first hop'} — a {sent} with TTL 1 goes no "
            "farther"
        ]
    elif hop is not None:
        said = [
            f"place: the {sent} is {_how_cut(place, hop)} from TTL {hop} on, "
            f"not below{source}: what {cut}s it is no farther than {hop} hops away (a device "
            f"that counts its hop before it {acts} {cut}s from the TTL after its own)"
        ]
    else:
        said = _nothing_within(place, sent, f"{cut} or answered", f"what {cut}s it")
    return [*said, *_server_lines(place)]


def _how_cut(place: PlaceObservation, hop: int) -> str:
    """ "reset" for a SYN (nothing else cuts one), "cut (reset or closed)" for a hello."""
    if place.experiment is SYN:
        return "reset"
    return f"cut ({_cut_words(place.hops, hop)})"


def _cut_terms(place: PlaceObservation) -> tuple[str, str, str]:
    """What was sent, what happened to it, what the device that did it does: ("SYN",
    "reset", "filters") for a refused connect, ("hello", "cut", "inspects") for a hello."""
    if place.experiment is SYN:
        return "SYN", "reset", "filters"
    return "hello", "cut", "inspects"


def _nothing_within(place: PlaceObservation, sent: str, sought: str, what: str) -> list[str]:
    """No hop-limited hello got what was sought: how far they were sent, or why none ran."""
    tried = [r.hop_limit for r in place.hops if r.answer is not HelloAnswer.NOT_RUN]
    if tried:
        return [
            f"place: no {sent} with a TTL up to {max(tried)} was {sought}{_source(place)}: "
            f"{what} is farther than {max(tried)} hops"
        ]
    if place.hops_problem:
        return [f"place: the hop-limited {sent}s did not run: {place.hops_problem}"]
    return []


def _where_on_path(place: PlaceObservation, what: str = "forged answer") -> str:
    """The place in the summary: a device N hops away, before or at the server's end."""
    hop = answer_hop(place.hops)
    if hop is None:
        return ""
    server_hop = answer_hop(place.control_hops)
    if cut_below(place.hops, hop):
        before = f" (the server at hop {server_hop})" if server_hop is not None else ""
        return f"; the {what} comes from no farther than {hop} hops{before}"
    if server_hop is not None and hop >= server_hop:
        return (
            f"; the {what} comes from as far as the server itself (hop {hop}): a device "
            "at the server's end of the path"
        )
    before = f", the server at hop {server_hop}" if server_hop is not None else ""
    return f"; the {what} comes from {_hop_phrase(hop)}{before}"


def _device_place(place: PlaceObservation) -> DevicePlace | None:
    """The device's place for the cause sentence (its hop), when it is before the server
    and no nearer hello was cut."""
    hop = answer_hop(place.hops)
    server_hop = answer_hop(place.control_hops)
    if hop is None or (server_hop is not None and hop >= server_hop):
        return None
    if cut_below(place.hops, hop):
        return None
    return DevicePlace(hop=hop)


def placed_hop(found: Finding) -> int | None:
    """The hop of an interception placed before the server and not yet named by address,
    or None."""
    if found.code not in _AT_HOP_CODES or found.place is None or found.place.address:
        return None
    return found.place.hop


def device_address(hop: int, clean: TraceObservation) -> str:
    """The address that answered TTL `hop` with time-exceeded on the way to a clean port of
    the same server ("" when that hop was silent). The interceptor (the SMTP proxy) answers
    its port in the server's name, so only a port it lets through shows its own address."""
    return clean.expired_at(hop)


def with_device_address(
    findings: Sequence[Finding], clean: TraceObservation | None
) -> tuple[Finding, ...]:
    """Interceptions placed at hop N, named by the address a trace to a clean port of the
    same server saw at hop N."""
    named: list[Finding] = []
    for found in findings:
        hop = placed_hop(found)
        if hop is None or clean is None or not (address := device_address(hop, clean)):
            named.append(found)
            continue
        line = (
            f"place: hop {hop} on the trace to the clean port {clean.port} is {address}: the "
            "device (or, if it forwards without counting as a hop, the router right behind it)"
        )
        named.append(
            dataclasses.replace(
                found,
                summary=found.summary.replace(_hop_phrase(hop), _hop_phrase(hop, address)),
                evidence=(*found.evidence, line),
                place=DevicePlace(hop=hop, address=address),
            )
        )
    return tuple(named)


def local_process_remedy(process: str, exempt: Sequence[str]) -> str:
    """Software on this machine that no product entry names: its own exclusion, or stop it;
    never a firewall rule."""
    where = f" for {', '.join(exempt)}" if exempt else ""
    return (
        f"Software on this gateway ({process}) intercepts the connections{where}: the fix is "
        "on this machine, not in the firewall. Exclude the vendor's hosts and the gateway's "
        "mail program from its TLS or mail scanning, or stop it. Then run netdiag again."
    )


def process_name(place: PlaceObservation) -> str:
    """The local interceptor's process name, without its pid."""
    peer = place.local_peer
    if peer is None or not peer.process:
        return "a process on this machine"
    return peer.process.partition(" (pid ")[0]


def with_place(
    target: Target,
    place: PlaceObservation | None,
    findings: Sequence[Finding],
    *,
    starttls_accepted: bool = False,
) -> tuple[Finding, ...]:
    """The endpoint's findings with where its interception (its missing STARTTLS) takes
    place (see the module). `starttls_accepted`: the server said 220 to a STARTTLS its EHLO
    reply had not offered, so it does offer it."""
    if place is None:
        return tuple(findings)
    lines = place_lines(place)
    placed: list[Finding] = []
    for found in findings:
        if found.code == "tls.intercepted" and is_on_this_machine(place):
            placed.append(_on_this_machine(target, place, found, lines))
        elif found.code == "tls.intercepted":
            placed.append(
                dataclasses.replace(
                    found,
                    summary=found.summary + _where_on_path(place),
                    evidence=(*found.evidence, *lines),
                    place=_device_place(place),
                )
            )
        elif found.code == "tls.intercepted_locally" or (
            found.code == "trace.transparent_proxy" and is_on_this_machine(place)
        ):
            placed.append(dataclasses.replace(found, evidence=(*found.evidence, *lines)))
        elif found.code == "trace.transparent_proxy" and found.detail == HTTP_ANSWER:
            placed.append(
                dataclasses.replace(
                    found,
                    summary=found.summary + _where_on_path(place, "HTTP answer"),
                    evidence=(*found.evidence, *lines),
                    place=_device_place(place),
                )
            )
        elif (found.code, place.experiment) in (("tls.handshake_failed", CUT), (REFUSED, SYN)):
            placed += _cut_placed(target, place, found, lines)
        elif found.code == "smtp.starttls_missing" and is_on_this_machine(place):
            placed.append(_stripped_on_this_machine(target, place, found, lines))
        elif found.code == "smtp.starttls_missing":
            ending = _session_end(place, starttls_accepted)
            placed.append(
                dataclasses.replace(
                    found,
                    summary=found.summary + ending.summary,
                    detail=ending.detail or found.detail,
                    evidence=(*found.evidence, *lines),
                    remedy=ending.remedy or found.remedy,
                    has_own_remedy=found.has_own_remedy or bool(ending.remedy),
                    # Only beside the server's own hop: an EHLO answer is no forgery, and
                    # alone its hop may be the server's.
                    place=(
                        _device_place(place) if answer_hop(place.control_hops) is not None else None
                    ),
                )
            )
        else:
            placed.append(found)
    return tuple(placed)


def _cut_placed(
    target: Target, place: PlaceObservation, found: Finding, lines: list[str]
) -> list[Finding]:
    """An endpoint whose every hello was cut, with where the cut comes from: a peer nearer
    than the server's own hop (its clean port's) is a device that cuts in the server's name
    (`trace.forged_reset`, before the symptom it explains); as far as the server's hop, the
    server or a device at its end (a firewall that counts its hop before it inspects cuts
    from the TTL after its own, so one hop nearer looks the same); else the symptom with what
    was measured."""
    hop = cut_hop(place.hops)
    answered = answer_hop(place.hops)
    server_hop = answer_hop(place.control_hops)
    measured = dataclasses.replace(found, evidence=(*found.evidence, *lines))
    if (
        hop is None
        or server_hop is None
        or (answered is not None and answered <= hop)
        or place.is_own_address
        or place.local_peer is not None
    ):
        return [measured]
    _, cut, acts = _cut_terms(place)
    if hop >= server_hop:
        where = (
            f"; the {cut} comes from as far as the server's own hop ({server_hop}): the "
            "server, a device at its end of the path, or a firewall one hop nearer that counts "
            f"its hop before it {acts} (--trace tells them apart by the IP TTL of the {cut})"
        )
        return [dataclasses.replace(measured, summary=found.summary + where)]
    if place.experiment is SYN:
        server_at = f"its port {place.control_port} answers from hop {server_hop}"
        return [forged_syn(target, hop, server_at, [*lines, *found.evidence]), measured]
    forged = forged_hello(
        target,
        hop,
        _cut_words(place.hops, hop),
        f"its port {place.control_port} answers from hop {server_hop}",
        [*lines, *found.evidence],
        # Only the first hop is exact: from TTL 2 on, the device may be one hop nearer.
        is_exact=hop == 1,
    )
    return [forged, measured]


def forged_hello(
    target: Target,
    hop: int,
    how: str,
    server_at: str,
    evidence: Sequence[str],
    *,
    is_exact: bool,
) -> Finding:
    """`trace.forged_reset` (detail "hello") for every hello of `target` cut (`how`: reset,
    closed) by a device at hop `hop` (`is_exact`) or no farther, short of the server
    (`server_at`: what says where it is)."""
    near = (
        "at the first hop"
        if hop == 1
        else (f"at hop {hop}" if is_exact else f"no farther than {hop} hops away")
    )
    device = (
        _hop_phrase(hop) if is_exact or hop == 1 else f"a device no farther than {hop} hops away"
    )
    forged = finding(
        "trace.forged_reset",
        f"TLS on {target.label}: every hello is cut ({how}) by {device}, short of the "
        f"server ({server_at}): a device there ends the handshakes in the server's name — "
        "an intrusion-prevention or TLS policy, not the server",
        list(evidence),
        remedy=(
            f"A device on the path ({near}) cuts every TLS handshake to the vendor's servers "
            f"on TCP {target.port} in their name: exempt the vendor's hosts from TLS "
            "inspection, intrusion prevention and application control for this port on that "
            "device (the first hop is this gateway's router or firewall)."
        ),
        subject="the first hop" if hop == 1 else f"hop {hop}" if is_exact else f"within {hop} hops",
        detail=HELLO_CUT,
    )
    return dataclasses.replace(forged, place=DevicePlace(hop=hop)) if is_exact else forged


def forged_syn(target: Target, hop: int, server_at: str, evidence: Sequence[str]) -> Finding:
    """`trace.forged_reset` (detail "syn") for every connect to `target` refused with a reset
    by a peer no farther than `hop` hops away, short of the server (`server_at`: what says
    where it is). Never exact: at TTL 1 this machine's own firewall resets as the first
    hop's does, and from TTL 2 on a device that counts its hop first is one hop nearer."""
    where = (
        "this machine's own firewall or the first hop (this gateway's router or firewall)"
        if hop == 1
        else f"a device no farther than {hop} hops away"
    )
    return finding(
        "trace.forged_reset",
        f"{target.label}: every connect is refused with a reset by {where}, short of the "
        f"server ({server_at}): a firewall rule there rejects the port in the server's name, "
        "not the server",
        list(evidence),
        remedy=(
            f"A firewall rule on this machine or at the first hop rejects TCP {target.port} to "
            "the vendor's servers with a reset in their name: allow the vendor's hosts on this "
            "port there, in this gateway's own firewall first, then in its router or firewall."
            if hop == 1
            else f"A firewall rule on a device no farther than {hop} hops away rejects TCP "
            f"{target.port} to the vendor's servers with a reset in their name: allow the "
            "vendor's hosts on this port on that device (--trace names it by its address)."
        ),
        subject=FIRST_HOP_OR_HERE if hop == 1 else f"within {hop} hops",
        detail=SYN_RESET,
    )


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """Where an SMTP session without STARTTLS ends: the summary's words, the remedy where
    that names who must act ("" for the finding's own), and the finding's detail where the
    place leaves both causes open (AT_SERVER: its own cause sentence)."""

    summary: str = ""
    remedy: str = ""
    detail: str = ""


def _session_end(place: PlaceObservation, starttls_accepted: bool) -> SessionEnd:
    """At a proxy before the server, or as far as the server (then both causes, unless the
    server took STARTTLS); nothing without both hops measured."""
    hop = answer_hop(place.hops)
    server_hop = answer_hop(place.control_hops)
    if hop is None or server_hop is None:
        return SessionEnd()
    if hop < server_hop:
        at = f"no farther than {hop} hops" if cut_below(place.hops, hop) else _hop_phrase(hop)
        return SessionEnd(
            summary=(
                f"; the SMTP session ends at {at}, before the server (hop {server_hop}): a "
                "proxy there answers in the server's name and leaves STARTTLS out"
            ),
            remedy=(
                f"An SMTP proxy on the path ({at}) ends the gateway's SMTP sessions before "
                "the vendor's servers and leaves STARTTLS out: exempt the vendor's mail "
                "servers from SMTP proxying and SMTP/ESMTP inspection on that device, so that "
                "the session and STARTTLS reach the server untouched."
            ),
        )
    if starttls_accepted:
        return SessionEnd(
            summary=(
                f"; the EHLO is answered from as far as the server itself (hop {hop}): a "
                "device that does not end the session (ESMTP inspection) rewrites the reply"
            )
        )
    return SessionEnd(
        summary=(
            f"; the EHLO is answered from as far as the server itself (hop {hop}), no proxy "
            "ends the session before it: either the server does not offer STARTTLS, or a "
            "device that does not end the session (ESMTP inspection) removes it from the reply"
        ),
        detail=AT_SERVER,
    )


def _local_end(target: Target, place: PlaceObservation) -> tuple[str, LocalPeer, list[str]]:
    """The local process that holds the other end, its socket, and the endpoint to exempt."""
    peer = place.local_peer
    assert peer is not None
    return process_name(place), peer, [f"{target.label} ({target.service.value})"]


def _stripped_on_this_machine(
    target: Target, place: PlaceObservation, found: Finding, lines: list[str]
) -> Finding:
    process, peer, exempt = _local_end(target, place)
    return finding(
        "smtp.starttls_stripped_locally",
        f"SMTP on {target.label} is answered on this machine by {process}: the other end of "
        f"netdiag's connection is its socket {peer.local_address}, not the server, and its "
        "EHLO reply leaves STARTTLS out — software on the gateway, not a device on the path",
        [*lines, *found.evidence],
        remedy=local_process_remedy(process, exempt),
        subject=process,
    )


def _on_this_machine(
    target: Target, place: PlaceObservation, found: Finding, lines: list[str]
) -> Finding:
    process, peer, exempt = _local_end(target, place)
    # The product by its process, or the chain's product's endpoint software: its own
    # exclusion; otherwise the process, to exclude or stop.
    product = local_product(found.subject, process)
    name = f"{product.name} ({process})" if product is not None else process
    return finding(
        "tls.intercepted_locally",
        f"TLS on {target.label} is intercepted on this machine by {name}: the other end of "
        f"netdiag's connection is its socket {peer.local_address}, not the server — software "
        "on the gateway, not a device on the path",
        [*lines, *found.evidence],
        remedy=(
            local_remedy(product, exempt)
            if product is not None
            else local_process_remedy(process, exempt)
        ),
        subject=product.name if product is not None else process,
    )
