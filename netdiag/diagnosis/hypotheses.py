"""The cause, not the symptom: for a handshake that failed in a way several causes can
explain, the hypotheses, the experiments that split them, and what their answers prove.

Symptoms (every attempt failed in its handshake, without a chain): the handshake was cut
(reset or closed), or it got no answer while TCP was open; or the hello was refused with an
alert, before any certificate; or it was answered in another protocol than TLS. And one
after the chain: the session went silent once this machine's certificate was sent (a TLS
1.2 handshake stalled there, or a TLS 1.3 session that got no word after it) — the
certificate is the first flight larger than a packet that a client sends.

Hypotheses for a cut or silence: a filter by server name; a device that blocks TLS 1.3; a
device that chokes on large ClientHellos; the server, or a device that blocks every
handshake on the port; a passing failure (a restart, a rate limit); for silence also the
server's large packets lost on the way back (its first flight, the chain, is the first
packet larger than a few hundred bytes). For a refused hello: a
device (or a server) that refuses hellos offering TLS 1.3; a peer that speaks only TLS 1.0
or 1.1; the server, or a device, that refuses every hello; a passing failure. For a
session silent after the certificate: this machine's large packets lost on the way (a path
MTU black hole); the server, or a device that holds the session, silent after it.

Experiments, each on a new connection to the same address and port (`HYPOTHESES`,
`SPLITS`): the failed hello again (the control); another of the profile's names; no name;
TLS 1.2 only; TLS 1.3 only; a small hello (one cipher per version, one key share); TLS 1.0
and 1.1 only (for a refused hello: an alert says that, not which version the peer speaks);
the full hello padded past one full-size packet (the big hello, for a session silent after
the certificate), and the same in segments smaller than any path's MTU; the failed hello on
a connection whose SYN asks for segments of at most 500 bytes (for an unanswered hello).
A refused hello gets no name experiment: a server without this name says unrecognized_name
itself, and another name answered would prove no filter.

An intercepted or unproven chain, and an alert after the peer's certificate, call for none
of these: the chain's own rules decide. A healthy run calls for none.

What the answers prove, in this order (each conclusion needs its own control to have
answered, so that "everything is cut" never reads as one cause):

0. the failed hello, sent once more, must be cut again: answered now, the failure passed
   (a restart, a rate limit); answered with an alert or not in TLS, the failure changed;
   either way no experiment may convict;
For an unanswered hello, first: the control unanswered again and the same hello on a
connection that asked for small segments answered is the server's large packets lost on the
way back — a path MTU black hole (`path.mtu_blackhole`, its `detail` "received"); a control
cut by a peer is a device that cuts, not a lost packet.

1. the hello with another name (or, where the profile has no other name, the one without a
   name) is answered, the one with this name is cut: a filter by server name
   (`tls.sni_filtered`); so is a hello without a name answered while every hello that
   names this host (each version and size) is cut, whatever the other name got: a device
   that checks a name against the address (Squid's host verification) refuses the other
   name in its own way, a filter by domain cuts it too;
2. TLS 1.2 only is answered, TLS 1.3 only and the small hello (which offers 1.3) are cut: a
   device blocks TLS 1.3 (`tls.version_blocked`); a server that does not speak 1.3 says so
   with an alert, and the full hello would have been answered in 1.2;
3. the small hello (offering 1.3 too) is answered, the full one is cut again: a device
   chokes on the hello's size or its extensions (`tls.hello_intolerant`);
4. otherwise: no experiment splits them; the finding keeps the symptom and says what was
   tried and what would decide.

For a refused hello, with the control refused again:

5. TLS 1.0-1.1 answered with a ServerHello, TLS 1.2 only and TLS 1.3 only refused: what
   answers speaks only TLS 1.0 or 1.1 (`tls.version_outdated`);
6. TLS 1.2 only answered, TLS 1.3 only refused: hellos that offer TLS 1.3 are refused
   (`tls.version_blocked`); a server without 1.3 answers the full hello in 1.2 instead.

For a hello answered in another protocol than TLS, the control alone, read raw:

7. answered in HTTP again, by a web proxy the catalogue names (its `Server` header: Squid):
   that proxy answers in the server's place — the port is redirected to it, as a
   transparent proxy's is (`trace.transparent_proxy`, its `detail` "http"). An unnamed web
   server is said, not convicted (it may be the vendor's own without TLS on the port), and
   so is another protocol (an SMTP or SSH greeting): a port forwarded to the wrong service,
   or a device in the server's place.

For a session silent after the certificate, the control answered again with a ServerHello
(small packets pass now):

8. the big hello met by silence, the same big hello in small segments answered: this
   machine's large packets are lost on the way, and so was its certificate — a path MTU
   black hole (`path.mtu_blackhole`, its `detail` "sent"); the big hello answered, large
   packets arrive and the silence is the server's (said, not convicted); silent in small
   segments too, the hello's size and not its packets (a device that drops large hellos,
   said); cut, a device that chokes on it, not a lost packet."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from enum import StrEnum

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding
from netdiag.report.observations import (
    Experiment,
    ExperimentResult,
    HelloAnswer,
    ProtocolObservation,
    StageFailure,
    TlsOutcome,
)
from netdiag.settings.targets import Service, Target
from netdiag.trust.products import identify


class Symptom(StrEnum):
    CUT = "the handshake was cut without an alert"
    SILENT = "the handshake got no answer"
    REFUSED = "the hello was refused with an alert, before any certificate"
    NOT_TLS = "the hello was answered in another protocol than TLS"
    SILENT_AFTER_CERTIFICATE = (
        "the session went silent once this machine's certificate was sent (the server's "
        "chain had come)"
    )


class Hypothesis(StrEnum):
    SERVER_NAME = "a filter by server name"
    TLS13_BLOCKED = "a device that blocks TLS 1.3"
    HELLO_SIZE = "a device that chokes on large ClientHellos"
    EVERY_HANDSHAKE = "the server, or a device that blocks every handshake on the port"
    PASSING = "a passing failure (a restart, a rate limit)"
    OLD_VERSIONS = "a peer that speaks only TLS 1.0 or 1.1"
    WEB_PROXY = "a web proxy that answers in the server's place (the port redirected to it)"
    OTHER_SERVICE = "another service on the port (forwarded to the wrong one)"
    PACKET_SIZE = "this machine's large packets are lost on the way (a path MTU black hole)"
    RETURN_SIZE = "the server's large packets are lost on the way back (a path MTU black hole)"
    SILENT_PEER = "the server, or a device that holds the session, falls silent after it"


_CUT_OR_SILENT = (
    Hypothesis.SERVER_NAME,
    Hypothesis.TLS13_BLOCKED,
    Hypothesis.HELLO_SIZE,
    Hypothesis.EVERY_HANDSHAKE,
    Hypothesis.PASSING,
)
HYPOTHESES: dict[Symptom, tuple[Hypothesis, ...]] = {
    Symptom.CUT: _CUT_OR_SILENT,
    Symptom.SILENT: (*_CUT_OR_SILENT, Hypothesis.RETURN_SIZE),
    Symptom.REFUSED: (
        Hypothesis.TLS13_BLOCKED,
        Hypothesis.OLD_VERSIONS,
        Hypothesis.EVERY_HANDSHAKE,
        Hypothesis.PASSING,
    ),
    Symptom.NOT_TLS: (Hypothesis.WEB_PROXY, Hypothesis.OTHER_SERVICE, Hypothesis.PASSING),
    Symptom.SILENT_AFTER_CERTIFICATE: (Hypothesis.PACKET_SIZE, Hypothesis.SILENT_PEER),
}

# The experiment that splits each hypothesis from the others.
SPLITS: dict[Hypothesis, tuple[Experiment, ...]] = {
    Hypothesis.SERVER_NAME: (Experiment.OTHER_NAME, Experiment.NO_NAME),
    Hypothesis.TLS13_BLOCKED: (Experiment.TLS12_ONLY, Experiment.TLS13_ONLY),
    Hypothesis.HELLO_SIZE: (Experiment.SMALL_HELLO,),
    Hypothesis.EVERY_HANDSHAKE: (),
    Hypothesis.PASSING: (Experiment.SAME_HELLO,),
    Hypothesis.OLD_VERSIONS: (Experiment.OLD_TLS,),
    # What answers the control's hello names itself: HTTP, or another protocol's greeting.
    Hypothesis.WEB_PROXY: (Experiment.SAME_HELLO,),
    Hypothesis.OTHER_SERVICE: (Experiment.SAME_HELLO,),
    # The certificate is the first flight larger than a packet this machine sends: a hello
    # as large tells whether such packets arrive (the control, whether small ones do).
    Hypothesis.PACKET_SIZE: (Experiment.BIG_HELLO, Experiment.BIG_HELLO_SPLIT),
    Hypothesis.SILENT_PEER: (),
    # The server's first flight (its chain) is the first large packet back: asked for small
    # segments, it arrives if size was what got it lost.
    Hypothesis.RETURN_SIZE: (Experiment.SMALL_SEGMENTS,),
}


def symptom_of(attempts: Sequence[ProtocolObservation]) -> Symptom | None:
    """The symptom of the endpoint's attempts, when every one failed in its TLS handshake
    without a chain: refused with the peer's alert (every one), else cut or silent; None
    otherwise (a healthy endpoint, a chain to judge, an alert beside a cut, or a failure
    before TLS)."""
    if not attempts:
        return None
    if all(_silent_after_certificate(a) for a in attempts):
        return Symptom.SILENT_AFTER_CERTIFICATE
    if all(
        a.tls is not None and a.tls.outcome is TlsOutcome.NOT_TLS and not a.tls.chain
        for a in attempts
    ):
        return Symptom.NOT_TLS
    alerts = [a.tls is not None and a.tls.has_peer_alert for a in attempts]
    if all(alerts) and not any(a.tls is not None and a.tls.chain for a in attempts):
        return Symptom.REFUSED
    # One cut attempt makes the symptom a cut: a cut says more than silence does.
    was_cut = False
    for attempt in attempts:
        tls = attempt.tls
        if tls is None or tls.chain or tls.has_peer_alert:
            return None
        if tls.outcome in (TlsOutcome.RESET, TlsOutcome.CLOSED):
            was_cut = True
        elif tls.outcome is not TlsOutcome.STALLED or attempt.failure is StageFailure.DEADLINE:
            return None
    return Symptom.CUT if was_cut else Symptom.SILENT


def _silent_after_certificate(attempt: ProtocolObservation) -> bool:
    """The server's chain came, this machine's certificate went out — the first flight
    larger than a packet that a client sends — and then nothing came back within the step:
    a handshake that stalled there, or (TLS 1.3, where the client's part of the handshake
    ends with its certificate) a session that got no word after it. Not a TLS 1.2 handshake
    that completed: its server's Finished came after our certificate."""
    tls = attempt.tls
    if tls is None or not tls.chain or not tls.was_client_cert_sent:
        return False
    if tls.has_peer_alert or tls.post_handshake_alert:
        return False  # the peer said a word: an alert
    if tls.outcome is TlsOutcome.STALLED:
        return attempt.failure is not StageFailure.DEADLINE
    return (
        tls.outcome is TlsOutcome.ESTABLISHED
        and tls.version == "TLSv1.3"
        and attempt.failure is StageFailure.TIMEOUT
        and not attempt.was_answered_after_tls
    )


def is_cut_every_time(
    attempts: Sequence[ProtocolObservation], experiments: Sequence[ExperimentResult]
) -> bool:
    """Every hello cut: the attempts' symptom a cut, the control cut again by a peer (a
    reset or a close, not silence: a peer that cuts has a place to measure), every variant
    cut or not run — what leaves "the server, or a device that blocks every handshake on the
    port" open, and what the hop-limited hello places (`netdiag.diagnosis.place`)."""
    if not experiments or symptom_of(attempts) is not Symptom.CUT:
        return False
    control = {r.kind: r for r in experiments}.get(Experiment.SAME_HELLO)
    if control is None or not control.answer.is_cut_by_peer:
        return False
    return all(r.answer.is_cut or r.answer is HelloAnswer.NOT_RUN for r in experiments)


def experiments_for(
    symptom: Symptom | None, target: Target, other_name: str
) -> list[tuple[Experiment, str]]:
    """The experiments the symptom calls for, each with the server name it sends: the
    endpoint's own name except for the name experiments (none without another name, or for
    an address literal)."""
    if symptom is None or target.service is Service.TCP:
        return []
    own = "" if target.is_address_literal else target.host
    planned: list[tuple[Experiment, str]] = [(Experiment.SAME_HELLO, own)]
    for hypothesis in HYPOTHESES[symptom]:
        for experiment in SPLITS[hypothesis]:
            if experiment is Experiment.SAME_HELLO:
                continue  # planned first, once
            if experiment is Experiment.OTHER_NAME:
                if other_name and own:
                    planned.append((experiment, other_name))
            elif experiment is Experiment.NO_NAME:
                if own:
                    planned.append((experiment, ""))
            else:
                planned.append((experiment, own))
    return planned


def _answered(results: dict[Experiment, ExperimentResult], kind: Experiment) -> bool:
    found = results.get(kind)
    return found is not None and found.answer is HelloAnswer.SERVER_HELLO


def _cut(results: dict[Experiment, ExperimentResult], kind: Experiment) -> bool:
    found = results.get(kind)
    return found is not None and found.answer.is_cut


def _is_refusal(answer: HelloAnswer) -> bool:
    """No ServerHello in a version the hello offered: an alert, another version, or a cut."""
    return answer in (HelloAnswer.ALERT, HelloAnswer.OTHER_VERSION) or answer.is_cut


def _refused(results: dict[Experiment, ExperimentResult], kind: Experiment) -> bool:
    found = results.get(kind)
    return found is not None and _is_refusal(found.answer)


def experiment_line(result: ExperimentResult) -> str:
    """One experiment as evidence: what was sent, what came back, how long it took."""
    return (
        f"experiment {result.kind.value}: {result.sent} to {result.address}:{result.port} -> "
        f"{result.answer.value}"
        + (f" ({result.detail})" if result.detail else "")
        + f" in {result.elapsed_ms:g} ms"
    )


# The experiments that send this endpoint's own name, each with other versions or sizes.
NAMED_VARIANTS = (
    Experiment.SAME_HELLO,
    Experiment.TLS12_ONLY,
    Experiment.TLS13_ONLY,
    Experiment.SMALL_HELLO,
)


def _every_named_variant_cut(results: dict[Experiment, ExperimentResult]) -> bool:
    """Every hello that names the host ran and was cut: the name is the one thing they
    share, the version and the size are not it."""
    return all(_cut(results, kind) for kind in NAMED_VARIANTS)


def conclude(
    target: Target, symptom: Symptom, experiments: Sequence[ExperimentResult]
) -> Finding | None:
    """The cause the experiments prove, as a finding (see the module's list), or None when
    they do not split the hypotheses."""
    results = {r.kind: r for r in experiments}
    lines = [f"symptom: {symptom.value}", *(experiment_line(r) for r in experiments)]
    where = f"TLS on {target.label}"
    if symptom is Symptom.REFUSED:
        return _refused_hello(where, results, lines)
    if symptom is Symptom.NOT_TLS:
        return _answered_in_http(where, results, lines)
    if symptom is Symptom.SILENT_AFTER_CERTIFICATE:
        return _lost_large_packets(where, results, lines)
    name = "" if target.is_address_literal else target.host
    if not _cut(results, Experiment.SAME_HELLO):
        return None  # the control: the failure passed, or the experiments could not run
    if symptom is Symptom.SILENT:
        lost = _lost_on_the_way_back(where, results, lines)
        if lost is not None:
            return lost
    other = results.get(Experiment.OTHER_NAME)
    no_name = results.get(Experiment.NO_NAME)
    if name and other is not None and _answered(results, Experiment.OTHER_NAME):
        also = (
            "; with no name at all it answers too" if _answered(results, Experiment.NO_NAME) else ""
        )
        return finding(
            "tls.sni_filtered",
            f"{where}: a device cuts handshakes that name {name}; the same address answers "
            f"the name {other.server_name}{also}: a filter by server name (URL or category "
            "filtering), not the server",
            lines,
        )
    if name and other is None and no_name is not None and _answered(results, Experiment.NO_NAME):
        return finding(
            "tls.sni_filtered",
            f"{where}: a device cuts handshakes that name {name}; the same address answers a "
            "handshake without a name: a filter by server name (URL or category filtering), "
            "not the server",
            lines,
        )
    if (
        name
        and other is not None
        and _answered(results, Experiment.NO_NAME)
        and _every_named_variant_cut(results)
    ):
        got = other.answer.value + (f" ({other.detail})" if other.detail else "")
        return finding(
            "tls.sni_filtered",
            f"{where}: a device cuts every handshake that names {name} (each version and "
            f"size); the same address answers a handshake without a name, and the name "
            f"{other.server_name} got {got}: a filter by server name (URL or category "
            "filtering), not the server",
            lines,
        )
    if (
        _answered(results, Experiment.TLS12_ONLY)
        and _cut(results, Experiment.TLS13_ONLY)
        and _cut(results, Experiment.SMALL_HELLO)
    ):
        return finding(
            "tls.version_blocked",
            f"{where}: a device cuts every handshake that offers TLS 1.3; one that offers TLS "
            "1.2 only is answered: an inspection policy that blocks TLS 1.3, not the server "
            "(a server without 1.3 answers 1.2, or says protocol_version)",
            lines,
        )
    if _answered(results, Experiment.SMALL_HELLO):
        small = results[Experiment.SMALL_HELLO]
        return finding(
            "tls.hello_intolerant",
            f"{where}: a device cuts the full ClientHello; a small one ({small.hello_bytes} "
            "bytes, the same versions) is answered: a device that chokes on the hello's size "
            "or its extensions, not the server",
            lines,
        )
    return None


def _refused_hello(
    where: str, results: dict[Experiment, ExperimentResult], lines: list[str]
) -> Finding | None:
    """A refused hello's cause (5 and 6 of the module's list), or None."""
    control = results.get(Experiment.SAME_HELLO)
    if control is None or control.answer is not HelloAnswer.ALERT:
        return None  # the refusal passed or changed: nothing may convict
    refused_modern = _refused(results, Experiment.TLS12_ONLY) and _refused(
        results, Experiment.TLS13_ONLY
    )
    if _answered(results, Experiment.OLD_TLS) and refused_modern:
        old = results[Experiment.OLD_TLS]
        return finding(
            "tls.version_outdated",
            f"{where}: what answers speaks only TLS 1.0 or 1.1 ({old.detail}); every hello "
            f"of TLS 1.2 or 1.3 is refused ({control.detail}): an outdated server, or an old "
            "TLS device that answers for it — TLS 1.0 and 1.1 are deprecated (RFC 8996) and "
            "refused by current TLS stacks",
            lines,
        )
    if _answered(results, Experiment.TLS12_ONLY) and _refused(results, Experiment.TLS13_ONLY):
        return finding(
            "tls.version_blocked",
            f"{where}: every hello that offers TLS 1.3 is refused ({control.detail}); one that "
            "offers TLS 1.2 only is answered: a policy that refuses TLS 1.3, not the server "
            "(a server without 1.3 answers the full hello in 1.2)",
            lines,
        )
    return None


# The `detail` of a path MTU black hole found by this machine's own large packets (the
# big hello), not by the ICMP echoes of `netdiag mtu`.
SENT_LARGE = "sent"


def _lost_large_packets(
    where: str, results: dict[Experiment, ExperimentResult], lines: list[str]
) -> Finding | None:
    """A session silent after this machine's certificate: the same hello answered again,
    the big hello (larger than a packet) met by silence, and the same big hello in small
    segments answered — this machine's large packets are lost on the way, and its
    certificate with them (a path MTU black hole); None otherwise. The big hello silent in
    small segments too is its size, not its packets (a device that drops large hellos); a
    cut is a device that chokes on it."""
    control = results.get(Experiment.SAME_HELLO)
    big = results.get(Experiment.BIG_HELLO)
    split = results.get(Experiment.BIG_HELLO_SPLIT)
    if control is None or control.answer is not HelloAnswer.SERVER_HELLO:
        return None
    if big is None or big.answer is not HelloAnswer.SILENCE:
        return None
    if split is None or split.answer is not HelloAnswer.SERVER_HELLO:
        return None
    return finding(
        "path.mtu_blackhole",
        f"{where}: this machine's large packets are lost on the way: a ClientHello of "
        f"{big.hello_bytes} bytes (more than one full-size packet) got no answer, the same "
        "hello sent in small segments was answered, and so was the unpadded one of "
        f"{control.hello_bytes} bytes ({control.detail}); the session fell silent once this "
        "machine's certificate, its first flight as large, was sent — a path MTU black hole "
        "(a tunnel or PPPoE link whose ICMP 'fragmentation needed' does not come back), not "
        "the server",
        lines,
        detail=SENT_LARGE,
    )


# The `detail` of a path MTU black hole found by the server's large packets (its answer
# came only in small segments).
RECEIVED_LARGE = "received"


def _lost_on_the_way_back(
    where: str, results: dict[Experiment, ExperimentResult], lines: list[str]
) -> Finding | None:
    """Every hello unanswered (the control silent again), and the same hello on a
    connection that asked the server for segments of at most 500 bytes answered: the
    server's large packets — its first flight, the chain — are lost on the way back (a path
    MTU black hole); None otherwise — and where any other variant got its ServerHello with
    the usual segments (then size was not it). A control cut by a peer is a device that
    cuts, not a lost packet."""
    control = results.get(Experiment.SAME_HELLO)
    if control is None or control.answer is not HelloAnswer.SILENCE:
        return None
    if not _answered(results, Experiment.SMALL_SEGMENTS):
        return None
    if any(_answered(results, kind) for kind in results if kind is not Experiment.SMALL_SEGMENTS):
        # Another hello got its ServerHello with the usual segments: not their size.
        return None
    small = results[Experiment.SMALL_SEGMENTS]
    return finding(
        "path.mtu_blackhole",
        f"{where}: the server's large packets are lost on the way back: the same hello on a "
        f"connection that asked for segments of at most {small.max_segment} bytes was "
        f"answered ({small.detail}), with the usual segments it got no answer — a path MTU black "
        "hole (a tunnel or PPPoE link whose ICMP 'fragmentation needed' does not reach the "
        "server), not the server and not a filter",
        lines,
        detail=RECEIVED_LARGE,
    )


# The `detail` of a transparent proxy found by the answer to a hello (not by a trace).
HTTP_ANSWER = "http"


def _answered_in_http(
    where: str, results: dict[Experiment, ExperimentResult], lines: list[str]
) -> Finding | None:
    """A hello answered in another protocol (7 of the module's list): HTTP to the control's
    hello as well, from a web proxy the catalogue names (its Server header), is that proxy
    in the server's place; None otherwise — an unnamed web server may be the vendor's own
    without TLS on the port."""
    control = results.get(Experiment.SAME_HELLO)
    if control is None or control.answer is not HelloAnswer.HTTP_REPLY:
        return None
    named = identify([control.detail])
    if named is None:
        return None
    return finding(
        "trace.transparent_proxy",
        f"{where}: the TLS hello is answered in HTTP ({control.detail}): a web proxy "
        "answers in the server's place — the connection is redirected to it (a transparent "
        "proxy), not the vendor's server",
        lines,
        subject=named[0].name,
        detail=HTTP_ANSWER,
    )


def undecided_lines(symptom: Symptom, experiments: Sequence[ExperimentResult]) -> list[str]:
    """What was tried when nothing split the hypotheses, and what it leaves open."""
    if not experiments:
        return []
    results = {r.kind: r for r in experiments}
    tried = [experiment_line(r) for r in experiments]
    if symptom is Symptom.SILENT_AFTER_CERTIFICATE:
        return [_silence_undecided(results), *tried]
    if _answered(results, Experiment.SAME_HELLO):
        return [
            "experiments: the same hello, sent again, was answered: the failure passed (a "
            "restart or a rate limit of the server or a device); nothing is proven against "
            "the name, the version or the size",
            *tried,
        ]
    control = results.get(Experiment.SAME_HELLO)
    if symptom is Symptom.REFUSED:
        return _refusal_undecided(control, experiments, tried)
    if symptom is Symptom.NOT_TLS:
        return _other_protocol_undecided(control, tried)
    if (
        control is not None
        and control.answer is not HelloAnswer.NOT_RUN
        and not control.answer.is_cut
    ):
        # It ran and was neither cut nor answered: an alert, or not TLS at all, this time.
        said = f" ({control.detail})" if control.detail else ""
        return [
            f"experiments: the same hello, sent again, got {control.answer.value}{said} "
            "instead of being cut: the failure changed between attempts (a device or the "
            "server answering differently); nothing is proven against the name, the version "
            "or the size",
            *tried,
        ]
    if not _cut(results, Experiment.SAME_HELLO):  # the control did not run
        return [
            "experiments could not run (no connection, no time left): the cause is open — "
            "another name, TLS 1.2 only and a small hello would split it",
            *tried,
        ]
    if all(r.answer.is_cut or r.answer is HelloAnswer.NOT_RUN for r in experiments):
        # A peer's cut is placed by the same hello with a small TTL; silence by a trace.
        where = (
            "the hello sent with a small TTL says where (place)"
            if symptom is Symptom.CUT and control is not None and control.answer.is_cut_by_peer
            else "a trace (--trace) shows where"
        )
        return [
            f"experiments: {symptom.value}, and so was every variant (another name, no name, "
            "TLS 1.2 only, TLS 1.3 only, a small hello): not the name, the version or the "
            f"size — the server, or a device that blocks every handshake on the port; {where}",
            *tried,
        ]
    return [
        "experiments: the variants were answered differently, but in no pattern that names "
        "one cause (see each below)",
        *tried,
    ]


def _other_protocol_undecided(control: ExperimentResult | None, tried: list[str]) -> list[str]:
    """What was tried for a hello answered in another protocol, when it was not HTTP."""
    if control is None or control.answer is HelloAnswer.NOT_RUN:
        return [
            "experiments could not run (no connection, no time left): what answers the hello "
            "is open — the same hello, read raw, would name its protocol",
            *tried,
        ]
    if control.answer is HelloAnswer.HTTP_REPLY:
        return [
            f"experiments: the same hello, read raw, is answered in HTTP ({control.detail}), by "
            "a web server or proxy the catalogue does not name: a web proxy in the server's "
            "place (the port redirected to it), or the server itself without TLS on this port",
            *tried,
        ]
    if control.answer is HelloAnswer.NOT_TLS:
        return [
            f"experiments: the same hello, read raw, is answered in another protocol "
            f"({control.detail}): another service answers on this port — a port forwarded "
            "to the wrong service, or a device in the server's place",
            *tried,
        ]
    return [
        f"experiments: the same hello, sent again, got {control.answer.value} instead of an "
        "answer in another protocol: the failure changed between attempts",
        *tried,
    ]


def _silence_undecided(results: dict[Experiment, ExperimentResult]) -> str:
    """What the experiments of a session silent after the certificate leave open, when they
    did not prove large packets lost."""
    control = results.get(Experiment.SAME_HELLO)
    big = results.get(Experiment.BIG_HELLO)
    if control is None or control.answer is not HelloAnswer.SERVER_HELLO:
        got = control.answer.value if control is not None else "not run"
        return (
            f"experiments: the same hello, sent again, got {got} instead of a ServerHello: "
            "the path changed between attempts; nothing is proven about large packets"
        )
    if big is not None and big.answer is HelloAnswer.SERVER_HELLO:
        return (
            f"experiments: a ClientHello of {big.hello_bytes} bytes (more than one "
            "full-size packet) was answered too: this machine's large packets arrive — the "
            "silence after the certificate is the server's, or a device's that holds the "
            "session (its log says why)"
        )
    if big is not None and big.answer is HelloAnswer.SILENCE:
        split = results.get(Experiment.BIG_HELLO_SPLIT)
        got = split.answer.value if split is not None else "not run"
        return (
            f"experiments: the ClientHello larger than a packet got no answer, and sent in "
            f"small segments it got {got}: not the packets' size but the hello's (a device "
            "that drops large hellos), or the path changed; the cause is open"
        )
    got = big.answer.value if big is not None else "not run"
    return (
        f"experiments: the ClientHello larger than a packet got {got}, not silence: a cut is "
        "a device that chokes on it, not a lost packet; the cause is open"
    )


def _refusal_undecided(
    control: ExperimentResult | None,
    experiments: Sequence[ExperimentResult],
    tried: list[str],
) -> list[str]:
    """What was tried for a refused hello when nothing split the hypotheses (the control
    not answered)."""
    if control is None or control.answer is HelloAnswer.NOT_RUN:
        return [
            "experiments could not run (no connection, no time left): the cause is open — "
            "TLS 1.2 only, TLS 1.3 only and TLS 1.0-1.1 would split it",
            *tried,
        ]
    if control.answer is not HelloAnswer.ALERT:
        return [
            f"experiments: the same hello, sent again, got {control.answer.value} instead of "
            "the alert: the failure changed between attempts (a device or the server "
            "answering differently); nothing is proven against the version",
            *tried,
        ]
    if all(_is_refusal(r.answer) for r in experiments):
        return [
            f"experiments: {Symptom.REFUSED.value}, and so was every variant (TLS 1.2 only, "
            "TLS 1.3 only, TLS 1.0-1.1): not the version — the server, or a device that "
            "answers for it, refuses this machine's hellos (no common cipher, group or "
            "signature algorithm, or a policy)",
            *tried,
        ]
    return [
        "experiments: the variants were answered differently, but in no pattern that names "
        "one cause (see each below)",
        *tried,
    ]


SYMPTOM_CODES = ("tls.handshake_failed", "tls.handshake_stalled")
# What a session silent after the certificate is otherwise called: a peer that does not
# speak the protocol, or does not answer a command of it.
SILENCE_CODES = (
    *SYMPTOM_CODES,
    "smtp.protocol_error",
    "smtp.no_reply",
    "pop3.protocol_error",
)


def with_experiments(
    target: Target,
    attempts: Sequence[ProtocolObservation],
    experiments: Sequence[ExperimentResult],
    findings: Sequence[Finding],
) -> tuple[Finding, ...]:
    """The endpoint's findings with what its experiments proved: the cause in place of the
    symptom, or the symptom with what was tried and what it leaves open."""
    symptom = symptom_of(attempts)
    if symptom is None or not experiments:
        return tuple(findings)
    codes = SILENCE_CODES if symptom is Symptom.SILENT_AFTER_CERTIFICATE else SYMPTOM_CODES
    cause = conclude(target, symptom, experiments)
    if cause is not None:
        kept = [f for f in findings if f.code not in codes]
        return (cause, *kept)
    lines = undecided_lines(symptom, experiments)
    return tuple(
        dataclasses.replace(f, evidence=(*f.evidence, *lines)) if f.code in codes else f
        for f in findings
    )
