"""The hypotheses of a failed handshake and what the experiments prove, table-driven and
without a network: each conclusion with its twins — the same signal where it must not
convict (the control answered, a stated alert, a server without TLS 1.3, every variant
cut, experiments that could not run)."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.hypotheses import (
    Symptom,
    conclude,
    experiments_for,
    symptom_of,
    with_experiments,
)
from netdiag.report.observations import (
    Experiment,
    ExperimentResult,
    HelloAnswer,
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TlsObservation,
    TlsOutcome,
)
from netdiag.settings.targets import Service, Target

MAIL3 = Target(host="mail3.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
LITERAL = Target(host="192.0.2.7", port=995, service=Service.POP3S, group="")
PLAIN = Target(host="mail3.dicommail.com", port=25, service=Service.TCP, group="dicommail")

S, A, R, C, Q, N, T, U = (
    HelloAnswer.SERVER_HELLO,
    HelloAnswer.ALERT,
    HelloAnswer.RESET,
    HelloAnswer.CLOSED,
    HelloAnswer.SILENCE,
    HelloAnswer.NOT_RUN,
    HelloAnswer.NOT_TLS,
    HelloAnswer.OTHER_VERSION,
)
VERSION_ALERT = "received fatal alert protocol_version"
KINDS = (
    Experiment.SAME_HELLO,
    Experiment.OTHER_NAME,
    Experiment.NO_NAME,
    Experiment.TLS12_ONLY,
    Experiment.TLS13_ONLY,
    Experiment.SMALL_HELLO,
)


def results(*answers: HelloAnswer) -> tuple[ExperimentResult, ...]:
    """Answers in the order of KINDS (same, other name, no name, 1.2, 1.3, small)."""
    return tuple(
        ExperimentResult(
            kind=kind,
            address="198.51.100.3",
            port=995,
            server_name=(
                ""
                if kind is Experiment.NO_NAME
                else "mail1.dicommail.com"
                if kind is Experiment.OTHER_NAME
                else MAIL3.host
            ),
            versions="TLS 1.2",
            hello_bytes=260 if kind is Experiment.SMALL_HELLO else 391,
            answer=answer,
            detail=(
                "protocol_version"
                if answer is A
                else "the answer starts with b'HTTP/1.1'"
                if answer is T
                else ""
            ),
            elapsed_ms=3.0,
        )
        for kind, answer in zip(KINDS, answers, strict=True)
    )


def attempt(
    outcome: TlsOutcome, alert: str = "", chain: bool = False, **changes: object
) -> ProtocolObservation:
    from netdiag.trust.chains import describe_der

    tls = TlsObservation(
        outcome=outcome,
        server_name=MAIL3.host,
        alert=alert,
        chain=(describe_der(b"\x30\x03\x02\x01\x01"),) if chain else (),
    )
    base: dict[str, object] = {
        "service": "pop3s",
        "address": "198.51.100.3",
        "port": 995,
        "stopped_at": ProtocolStage.TLS,
        "failure": StageFailure.TLS_FAILED,
        "tls": tls,
    }
    return ProtocolObservation(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "attempts", "symptom"),
    [
        ("reset in the handshake", [attempt(TlsOutcome.RESET)], Symptom.CUT),
        ("closed in the handshake", [attempt(TlsOutcome.CLOSED)], Symptom.CUT),
        ("stalled, then reset", [attempt(TlsOutcome.STALLED), attempt(TlsOutcome.RESET)],
         Symptom.CUT),
        ("reset, then stalled", [attempt(TlsOutcome.RESET), attempt(TlsOutcome.STALLED)],
         Symptom.CUT),
        ("stalled", [attempt(TlsOutcome.STALLED)], Symptom.SILENT),
        ("stalled twice", [attempt(TlsOutcome.STALLED)] * 2, Symptom.SILENT),
        ("stalled by our own deadline",
         [attempt(TlsOutcome.STALLED, failure=StageFailure.DEADLINE)], None),
        # An alert says that the peer refuses, not why: the version experiments split it.
        ("the peer's alert before any certificate",
         [attempt(TlsOutcome.FAILED, alert="received fatal alert handshake_failure")],
         Symptom.REFUSED),
        ("closed after the peer's alert",
         [attempt(TlsOutcome.CLOSED, alert="received fatal alert unrecognized_name")],
         Symptom.REFUSED),
        ("refused twice", [attempt(TlsOutcome.FAILED, alert=VERSION_ALERT)] * 2, Symptom.REFUSED),
        # Twins: an alert after the peer's certificate (the chain's rules decide), an alert
        # beside a cut (the failure changed), a stall with an alert from our own deadline.
        ("an alert after the certificate",
         [attempt(TlsOutcome.FAILED, alert="received fatal alert bad_certificate",
                  chain=True)], None),
        ("an alert, then a reset", [attempt(TlsOutcome.FAILED, alert=VERSION_ALERT),
                                    attempt(TlsOutcome.RESET)], None),
        ("a reset, then an alert", [attempt(TlsOutcome.RESET),
                                    attempt(TlsOutcome.FAILED, alert=VERSION_ALERT)], None),
        ("a chain was shown: its rules decide", [attempt(TlsOutcome.RESET, chain=True)], None),
        ("established", [attempt(TlsOutcome.ESTABLISHED)], None),
        # Answered in another protocol: the control, read raw, names what answers.
        ("not TLS", [attempt(TlsOutcome.NOT_TLS)], Symptom.NOT_TLS),
        ("not TLS twice", [attempt(TlsOutcome.NOT_TLS)] * 2, Symptom.NOT_TLS),
        ("not TLS, then a reset", [attempt(TlsOutcome.NOT_TLS), attempt(TlsOutcome.RESET)],
         None),
        ("before TLS", [attempt(TlsOutcome.RESET, tls=None)], None),
        ("a reset, then a healthy retry", [attempt(TlsOutcome.RESET),
                                           attempt(TlsOutcome.ESTABLISHED)], None),
        ("no attempt", [], None),
    ],
)  # fmt: skip
def test_which_failures_call_for_experiments(
    name: str, attempts: list[ProtocolObservation], symptom: Symptom | None
) -> None:
    assert symptom_of(attempts) is symptom


def test_the_plan_for_a_cut_handshake() -> None:
    planned = experiments_for(Symptom.CUT, MAIL3, "mail1.dicommail.com")
    assert planned == [
        (Experiment.SAME_HELLO, MAIL3.host),
        (Experiment.OTHER_NAME, "mail1.dicommail.com"),
        (Experiment.NO_NAME, ""),
        (Experiment.TLS12_ONLY, MAIL3.host),
        (Experiment.TLS13_ONLY, MAIL3.host),
        (Experiment.SMALL_HELLO, MAIL3.host),
    ]
    # No other name in the profile, or an address literal: no name experiments.
    assert Experiment.OTHER_NAME not in dict(experiments_for(Symptom.CUT, MAIL3, ""))
    literal = dict(experiments_for(Symptom.SILENT, LITERAL, "mail1.dicommail.com"))
    assert Experiment.OTHER_NAME not in literal and Experiment.NO_NAME not in literal
    assert literal[Experiment.TLS12_ONLY] == ""
    # A healthy endpoint, or a plain TCP one: none at all.
    assert experiments_for(None, MAIL3, "mail1.dicommail.com") == []
    assert experiments_for(Symptom.CUT, PLAIN, "mail1.dicommail.com") == []


#            same other noname 1.2 1.3 small  -> code (None: the symptom stays)
CONCLUSIONS = [
    ("a filter by server name", (R, S, S, R, R, R), "tls.sni_filtered"),
    ("a filter by server name, no name cut too", (R, S, R, R, R, R), "tls.sni_filtered"),
    ("a filter by server name that drops", (Q, S, S, Q, Q, Q), "tls.sni_filtered"),
    # No name answered, every hello naming the host cut, whatever the other name got: Squid
    # answers a name that does not resolve to the address with an HTTP error (409).
    ("a name filter that checks names against the address", (R, T, S, R, R, R), "tls.sni_filtered"),
    (
        "a filter of the whole domain: the other name cut too",
        (R, R, S, R, R, R),
        "tls.sni_filtered",
    ),
    ("a filter by name that drops every name", (Q, Q, S, Q, Q, Q), "tls.sni_filtered"),
    (
        "the server refuses the other name, a device cuts this one",
        (C, A, S, C, C, C),
        "tls.sni_filtered",
    ),
    ("TLS 1.3 blocked", (R, R, R, S, R, R), "tls.version_blocked"),
    ("TLS 1.3 blocked by silence", (Q, Q, Q, S, Q, Q), "tls.version_blocked"),
    ("a large hello cut", (R, R, R, S, R, S), "tls.hello_intolerant"),
    ("a large hello cut, 1.3 passes when small", (C, C, C, S, S, S), "tls.hello_intolerant"),
    # Twins: the same answers where they must not convict.
    ("the control answered: the failure passed", (S, S, S, S, S, S), None),
    ("the control answered, other name too", (S, S, R, R, R, R), None),
    ("every variant cut: the name, version and size are not it", (R, R, R, R, R, R), None),
    ("a server without 1.3 says protocol_version", (R, R, R, S, A, R), None),
    ("TLS 1.2 only answered in TLS 1.1: no 1.3 block", (R, R, R, U, R, R), None),
    ("nothing could run", (N, N, N, N, N, N), None),
    ("the control could not run", (N, S, S, S, R, R), None),
    ("an alert to the other name is no answer", (R, A, A, R, R, R), None),
    ("no name answered, but TLS 1.3 naming the host too", (R, T, S, R, S, R), None),
    ("no name answered, a hello naming the host could not run", (R, T, S, R, R, N), None),
    ("no name answered, the control could not run", (N, T, S, R, R, R), None),
    ("no name not TLS either", (R, T, T, R, R, R), None),
]


@pytest.mark.parametrize(
    ("name", "answers", "code"), CONCLUSIONS, ids=[row[0] for row in CONCLUSIONS]
)
def test_what_the_experiments_prove(
    name: str, answers: tuple[HelloAnswer, ...], code: str | None
) -> None:
    found = conclude(MAIL3, Symptom.CUT, results(*answers))
    assert (found.code if found else None) == code
    if found is None:
        return
    assert found.summary.startswith("TLS on mail3.dicommail.com:995: ")
    assert found.evidence[0] == "symptom: the handshake was cut without an alert"
    assert len(found.evidence) == 1 + len(KINDS)
    assert all(line.startswith("experiment ") for line in found.evidence[1:])
    if code == "tls.sni_filtered" and answers[1] is S:
        assert "name mail3.dicommail.com" in found.summary
        assert "answers the name mail1.dicommail.com" in found.summary
        # One filter, whatever names it cuts: no subject, so they make one cause.
        assert found.subject == ""
        assert ("with no name at all it answers too" in found.summary) is (answers[2] is S)
    if code == "tls.sni_filtered" and answers[1] is not S:
        assert "every handshake that names mail3.dicommail.com (each version and size)" in (
            found.summary
        )
        assert "answers a handshake without a name" in found.summary
        got = {T: "not_tls (the answer starts with b'HTTP/1.1')", A: "alert (protocol_version)"}
        assert f"the name mail1.dicommail.com got {got.get(answers[1], answers[1].value)}:" in (
            found.summary
        ), found.summary
        # One filter, whatever names it cuts: no subject, so they make one cause.
        assert found.subject == ""
    if code == "tls.hello_intolerant":
        assert "a small one (260 bytes" in found.summary


def test_the_plan_for_a_refused_hello() -> None:
    # No name experiment (a server without the name says unrecognized_name itself), no
    # size; the versions, TLS 1.0-1.1 among them.
    assert experiments_for(Symptom.REFUSED, MAIL3, "mail1.dicommail.com") == [
        (Experiment.SAME_HELLO, MAIL3.host),
        (Experiment.TLS12_ONLY, MAIL3.host),
        (Experiment.TLS13_ONLY, MAIL3.host),
        (Experiment.OLD_TLS, MAIL3.host),
    ]
    assert Experiment.OLD_TLS not in dict(experiments_for(Symptom.CUT, MAIL3, ""))


REFUSED_KINDS = (
    Experiment.SAME_HELLO,
    Experiment.TLS12_ONLY,
    Experiment.TLS13_ONLY,
    Experiment.OLD_TLS,
)


def refused_results(*answers: HelloAnswer) -> tuple[ExperimentResult, ...]:
    """Answers in the order of REFUSED_KINDS (same, 1.2, 1.3, 1.0-1.1), each hello as the
    probe sends it (its versions and size, the version a ServerHello to it names)."""
    sent = {
        Experiment.SAME_HELLO: ("TLS 1.2-1.3", 388, "TLS 1.3"),
        Experiment.TLS12_ONLY: ("TLS 1.2", 210, "TLS 1.2"),
        Experiment.TLS13_ONLY: ("TLS 1.3", 309, "TLS 1.3"),
        Experiment.OLD_TLS: ("TLS 1.0-1.1", 123, "TLS 1.0"),
    }

    def detail(answer: HelloAnswer, version: str) -> str:
        return {
            S: f"ServerHello, {version}",
            A: "protocol_version",
            U: "ServerHello, TLS 1.1, not offered",
            T: "the answer starts with b'HTTP/1.1'",
        }.get(answer, "")

    return tuple(
        ExperimentResult(
            kind=kind,
            address="198.51.100.3",
            port=995,
            server_name=MAIL3.host,
            versions=sent[kind][0],
            hello_bytes=sent[kind][1],
            answer=answer,
            detail=detail(answer, sent[kind][2]),
            elapsed_ms=2.0,
        )
        for kind, answer in zip(REFUSED_KINDS, answers, strict=True)
    )


#            same 1.2 1.3 old  -> code (None: the symptom stays)
REFUSALS = [
    ("only TLS 1.0 and 1.1 spoken", (A, A, A, S), "tls.version_outdated"),
    ("only TLS 1.0 and 1.1, 1.3 cut by a device", (A, A, R, S), "tls.version_outdated"),
    # What nginx with TLSv1 and TLSv1.1 does: TLS 1.2 only gets a TLS 1.1 ServerHello.
    ("TLS 1.2 only answered in TLS 1.1", (A, U, A, S), "tls.version_outdated"),
    ("hellos offering 1.3 refused", (A, S, A, A), "tls.version_blocked"),
    ("hellos offering 1.3 refused, old ones too", (A, S, A, S), "tls.version_blocked"),
    ("hellos offering 1.3 cut after the refusal", (A, S, R, A), "tls.version_blocked"),
    # Twins: the same answers where they must not convict.
    ("every version refused: not the version", (A, A, A, A), None),
    ("a server that speaks 1.2 and older answers 1.2: not outdated", (A, S, S, S), None),
    ("1.2 and 1.3 answered alone: not a version policy", (A, S, S, A), None),
    ("the control answered: the refusal passed", (S, A, A, S), None),
    ("the control cut instead: the failure changed", (R, A, A, S), None),
    ("the control could not run", (N, A, A, S), None),
    ("TLS 1.0-1.1 could not run", (A, A, A, N), None),
    ("TLS 1.2 could not run", (A, N, A, S), None),
    ("TLS 1.3 could not run", (A, S, N, A), None),
    ("TLS 1.0-1.1 answered with something else", (A, A, A, T), None),
    ("TLS 1.2 answered in another version, 1.0-1.1 refused", (A, U, A, A), None),
    ("TLS 1.0-1.1 answered in another version", (A, A, A, U), None),
]


@pytest.mark.parametrize(("name", "answers", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_what_the_experiments_prove_for_a_refused_hello(
    name: str, answers: tuple[HelloAnswer, ...], code: str | None
) -> None:
    found = conclude(MAIL3, Symptom.REFUSED, refused_results(*answers))
    assert (found.code if found else None) == code
    # The cut symptom's rules never read a refused hello: no name experiment ran.
    if found is None:
        return
    assert found.summary.startswith("TLS on mail3.dicommail.com:995: ")
    assert found.evidence[0] == f"symptom: {Symptom.REFUSED.value}"
    assert len(found.evidence) == 1 + len(REFUSED_KINDS)
    assert "(protocol_version)" in found.summary
    if code == "tls.version_outdated":
        assert "speaks only TLS 1.0 or 1.1 (ServerHello, TLS 1.0)" in found.summary


def test_a_refused_hello_keeps_what_was_tried() -> None:
    failed = finding("tls.handshake_failed", "TLS on mail3.dicommail.com:995 failed", ["x"])
    attempts = [attempt(TlsOutcome.FAILED, alert="received fatal alert handshake_failure")]
    kept = with_experiments(MAIL3, attempts, refused_results(A, A, A, A), [failed])
    assert [f.code for f in kept] == ["tls.handshake_failed"]
    assert "and so was every variant" in kept[0].evidence[1]
    assert "not the version" in kept[0].evidence[1]
    assert len(kept[0].evidence) == 2 + len(REFUSED_KINDS)
    changed = with_experiments(MAIL3, attempts, refused_results(R, A, A, A), [failed])
    assert "got reset instead of the alert" in changed[0].evidence[1]
    passed = with_experiments(MAIL3, attempts, refused_results(S, A, A, A), [failed])
    assert "was answered: the failure passed" in passed[0].evidence[1]
    mixed = with_experiments(MAIL3, attempts, refused_results(A, S, S, A), [failed])
    assert "in no pattern that names one cause" in mixed[0].evidence[1]
    unrun = with_experiments(MAIL3, attempts, refused_results(N, N, N, N), [failed])
    assert "experiments could not run" in unrun[0].evidence[1]
    # The cause in place of the symptom.
    proven = with_experiments(MAIL3, attempts, refused_results(A, A, A, S), [failed])
    assert [f.code for f in proven] == ["tls.version_outdated"]


def test_without_another_name_a_nameless_hello_answered_names_the_filter() -> None:
    alone = tuple(r for r in results(R, S, S, R, R, R) if r.kind is not Experiment.OTHER_NAME)
    found = conclude(MAIL3, Symptom.CUT, alone)
    assert found is not None and found.code == "tls.sni_filtered"
    assert "answers a handshake without a name" in found.summary
    # Its twin: the nameless hello cut as well.
    cut = tuple(r for r in results(R, S, R, R, R, R) if r.kind is not Experiment.OTHER_NAME)
    assert conclude(MAIL3, Symptom.CUT, cut) is None


def test_an_address_literal_is_never_a_name_filter() -> None:
    found = conclude(LITERAL, Symptom.CUT, results(R, S, S, R, R, R))
    assert found is None


def test_the_symptom_keeps_what_was_tried() -> None:
    failed = finding("tls.handshake_failed", "TLS on mail3.dicommail.com:995 failed", ["x"])
    other = finding("tls.unpinned", "TLS on mail3.dicommail.com:995: unverified", [])
    attempts = [attempt(TlsOutcome.RESET)]
    # Every variant cut: the symptom stays, with what was tried.
    kept = with_experiments(MAIL3, attempts, results(R, R, R, R, R, R), [failed, other])
    assert [f.code for f in kept] == ["tls.handshake_failed", "tls.unpinned"]
    assert kept[0].evidence[0] == "x"
    assert "so was every variant" in kept[0].evidence[1]
    assert len(kept[0].evidence) == 2 + len(KINDS)
    assert kept[1] == other
    # The control answered: said as a passing failure, nothing convicted.
    passed = with_experiments(MAIL3, attempts, results(S, S, S, S, S, S), [failed])
    assert "was answered: the failure passed" in passed[0].evidence[1]
    # Could not run.
    none = with_experiments(MAIL3, attempts, results(N, N, N, N, N, N), [failed])
    assert "could not run" in none[0].evidence[1]
    # The control did not run while the variants were cut: nothing to compare them with.
    blind = with_experiments(MAIL3, attempts, results(N, R, R, R, R, R), [failed])
    assert "could not run" in blind[0].evidence[1]
    # The control ran and got an alert this time: said as what it got, never "could not run".
    changed = with_experiments(MAIL3, attempts, results(A, R, R, R, R, R), [failed])
    assert (
        changed[0]
        .evidence[1]
        .startswith(
            "experiments: the same hello, sent again, got alert (protocol_version) instead of "
            "being cut: the failure changed between attempts"
        )
    ), changed[0].evidence[1]
    not_tls = with_experiments(
        MAIL3, attempts, results(HelloAnswer.NOT_TLS, R, R, R, R, R), [failed]
    )
    assert (
        not_tls[0]
        .evidence[1]
        .startswith(
            "experiments: the same hello, sent again, got not_tls (the answer starts with "
            "b'HTTP/1.1') instead of being cut:"
        )
    ), not_tls[0].evidence[1]
    # Without a detail: nothing in parentheses.
    plain = results(HelloAnswer.NOT_TLS, R, R, R, R, R)
    plain = (dataclasses.replace(plain[0], detail=""), *plain[1:])
    bare = with_experiments(MAIL3, attempts, plain, [failed])
    assert (
        bare[0]
        .evidence[1]
        .startswith("experiments: the same hello, sent again, got not_tls instead of being cut:")
    ), bare[0].evidence[1]
    # Mixed answers in no pattern: said as such.
    mixed = with_experiments(MAIL3, attempts, results(R, A, A, R, R, R), [failed])
    assert "in no pattern that names one cause" in mixed[0].evidence[1]
    # A cause in place of the symptom.
    cause = with_experiments(MAIL3, attempts, results(R, S, S, R, R, R), [failed, other])
    assert [f.code for f in cause] == ["tls.sni_filtered", "tls.unpinned"]
    # No experiments, or no symptom: unchanged.
    assert with_experiments(MAIL3, attempts, (), [failed]) == (failed,)
    healthy = [attempt(TlsOutcome.ESTABLISHED)]
    assert with_experiments(MAIL3, healthy, results(R, S, S, R, R, R), [other]) == (other,)
