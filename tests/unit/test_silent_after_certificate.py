"""A session that went silent once this machine's certificate was sent — the first flight
larger than a packet a client sends — and what the big hello proves: the same hello
answered again and a hello larger than a packet met by silence is this machine's large
packets lost on the way (`path.mtu_blackhole`, detail "sent"), in place of the symptom
("the peer does not speak POP3"). The twins: the big hello answered (large packets pass:
the server's silence, said as such), cut (a device that chokes on it), the control not
answered; and the attempts that are no such silence (no certificate sent, no chain, TLS 1.2
completed, an answer after TLS, the run's deadline)."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.hypotheses import (
    RECEIVED_LARGE,
    SENT_LARGE,
    Symptom,
    conclude,
    experiments_for,
    symptom_of,
    with_experiments,
)
from netdiag.report.observations import (
    CertificateFacts,
    Experiment,
    ExperimentResult,
    HelloAnswer,
    Pop3Observation,
    Pop3Reply,
    Pop3Status,
    ProtocolObservation,
    ProtocolStage,
    StageFailure,
    TlsObservation,
    TlsOutcome,
)
from netdiag.settings.targets import Service, Target

MAIL1 = Target(host="mail1.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
LEAF = CertificateFacts(
    subject="CN=mail1.dicommail.com",
    issuer="CN=Vendor Issuing CA",
    serial="1",
    not_before="2026-01-01T00:00:00+00:00",
    not_after="2027-01-01T00:00:00+00:00",
    sha256="00",
    spki_sha256="11",
)
SENT = TlsObservation(
    outcome=TlsOutcome.ESTABLISHED,
    version="TLSv1.3",
    chain=(LEAF,),
    was_client_cert_requested=True,
    was_client_cert_sent=True,
)
SILENT = Pop3Observation(
    service="pop3s",
    address="198.51.100.3",
    port=995,
    tls=SENT,
    stopped_at=ProtocolStage.GREETING,
    failure=StageFailure.TIMEOUT,
    failure_detail="no complete answer within 5 s",
)
STALLED_12 = dataclasses.replace(
    SILENT,
    tls=dataclasses.replace(SENT, outcome=TlsOutcome.STALLED, version=""),
    stopped_at=ProtocolStage.TLS,
    failure=StageFailure.TLS_FAILED,
)


def silent(**tls: object) -> Pop3Observation:
    return dataclasses.replace(SILENT, tls=dataclasses.replace(SENT, **tls))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "attempts", "expected"),
    [
        ("TLS 1.3, no word after the handshake", (SILENT,), Symptom.SILENT_AFTER_CERTIFICATE),
        (
            "a TLS 1.2 handshake stalled after the chain",
            (STALLED_12,),
            Symptom.SILENT_AFTER_CERTIFICATE,
        ),
        ("twice", (SILENT, SILENT), Symptom.SILENT_AFTER_CERTIFICATE),
        # The twins: no certificate went out, no chain came, the server's Finished came
        # after ours (TLS 1.2 completed), the server spoke, our own deadline, an alert.
        ("no certificate sent", (silent(was_client_cert_sent=False),), None),
        ("no chain", (silent(chain=()),), None),
        ("TLS 1.2 completed, then silence", (silent(version="TLSv1.2"),), None),
        (
            "the server greeted",
            (
                dataclasses.replace(
                    SILENT,
                    greeting=Pop3Reply(status=Pop3Status.OK, lines=("hi",)),
                    stopped_at=ProtocolStage.CAPA,
                ),
            ),
            None,
        ),
        ("the run's deadline", (dataclasses.replace(SILENT, failure=StageFailure.DEADLINE),), None),
        (
            "the run's deadline in the TLS 1.2 handshake",
            (dataclasses.replace(STALLED_12, failure=StageFailure.DEADLINE),),
            None,
        ),
        ("closed, not silent", (dataclasses.replace(SILENT, failure=StageFailure.CLOSED),), None),
        (
            "an alert after the handshake",
            (silent(post_handshake_alert="received: certificate_unknown"),),
            None,
        ),
        ("one attempt silent, one refused", (SILENT, silent(was_client_cert_sent=False)), None),
    ],
)
def test_which_attempts_went_silent_after_the_certificate(
    name: str, attempts: tuple[ProtocolObservation, ...], expected: Symptom | None
) -> None:
    assert symptom_of(attempts) is expected, name


def test_the_experiments_are_the_same_hello_and_the_big_one() -> None:
    planned = experiments_for(Symptom.SILENT_AFTER_CERTIFICATE, MAIL1, "mail2.dicommail.com")
    assert planned == [
        (Experiment.SAME_HELLO, MAIL1.host),
        (Experiment.BIG_HELLO, MAIL1.host),
        (Experiment.BIG_HELLO_SPLIT, MAIL1.host),
    ]


def hello(kind: Experiment, answer: HelloAnswer, detail: str = "") -> ExperimentResult:
    return ExperimentResult(
        kind=kind,
        address="198.51.100.3",
        port=995,
        server_name=MAIL1.host,
        versions="TLS 1.2-1.3",
        hello_bytes=391 if kind is Experiment.SAME_HELLO else 1600,
        answer=answer,
        detail=detail,
        elapsed_ms=5000.0 if answer is HelloAnswer.SILENCE else 12.0,
    )


ANSWERED = hello(Experiment.SAME_HELLO, HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3")
BIG_SILENT = hello(Experiment.BIG_HELLO, HelloAnswer.SILENCE, "no answer to the ClientHello")
BIG_ANSWERED = hello(Experiment.BIG_HELLO, HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3")
BIG_RESET = hello(Experiment.BIG_HELLO, HelloAnswer.RESET, "connection reset")
CONTROL_SILENT = hello(Experiment.SAME_HELLO, HelloAnswer.SILENCE, "no answer")
BIG_NOT_RUN = hello(Experiment.BIG_HELLO, HelloAnswer.NOT_RUN, "no time left in the run")
SPLIT_ANSWERED = hello(Experiment.BIG_HELLO_SPLIT, HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3")
SPLIT_SILENT = hello(
    Experiment.BIG_HELLO_SPLIT, HelloAnswer.SILENCE, "no answer to the ClientHello"
)

PROTOCOL_ERROR = finding(
    "pop3.protocol_error", "POP3S on mail1.dicommail.com:995: after TLS: no complete answer"
)
PINNED = finding("tls.pinned", "the chain is anchored in the pinned CA")


# (name, the experiments' results, convicted, what the symptom's evidence says instead)
BIG_HELLO_ROWS = [
    (
        "the big hello lost, in small segments answered, the same answered",
        (ANSWERED, BIG_SILENT, SPLIT_ANSWERED),
        True,
        "",
    ),
    ("in another order", (SPLIT_ANSWERED, BIG_SILENT, ANSWERED), True, ""),
    (
        "the big hello answered: large packets pass",
        (ANSWERED, BIG_ANSWERED, SPLIT_ANSWERED),
        False,
        "large packets arrive",
    ),
    (
        "the big hello silent in small segments too: its size, not its packets",
        (ANSWERED, BIG_SILENT, SPLIT_SILENT),
        False,
        "not the packets' size but the hello's",
    ),
    (
        "the big hello lost, the split one did not run",
        (ANSWERED, BIG_SILENT),
        False,
        "in small segments it got not run",
    ),
    (
        "the big hello cut: a device that chokes on it",
        (ANSWERED, BIG_RESET, SPLIT_ANSWERED),
        False,
        "not a lost packet",
    ),
    (
        "the big hello did not run",
        (ANSWERED, BIG_NOT_RUN, SPLIT_ANSWERED),
        False,
        "got not_run, not silence",
    ),
    (
        "the control silent too: the path changed",
        (CONTROL_SILENT, BIG_SILENT, SPLIT_ANSWERED),
        False,
        "the path changed",
    ),
    ("the control alone", (ANSWERED,), False, "got not run"),
    (
        "no control",
        (BIG_SILENT, SPLIT_ANSWERED),
        False,
        "the same hello, sent again, got not run instead of a ServerHello",
    ),
]


@pytest.mark.parametrize(("name", "results", "convicted", "said"), BIG_HELLO_ROWS)
def test_what_the_big_hello_proves(
    name: str, results: tuple[ExperimentResult, ...], convicted: bool, said: str
) -> None:
    found = conclude(MAIL1, Symptom.SILENT_AFTER_CERTIFICATE, results)
    assert (found is not None) is convicted, (name, found)
    judged = with_experiments(MAIL1, (SILENT,), results, (PROTOCOL_ERROR, PINNED))
    codes = [f.code for f in judged]
    if convicted:
        assert found is not None and found.code == "path.mtu_blackhole"
        assert found.detail == SENT_LARGE and found.severity.value == "crit"
        assert "1600 bytes" in found.summary and "391 bytes" in found.summary
        assert "in small segments was answered" in found.summary
        assert found.evidence[0] == f"symptom: {Symptom.SILENT_AFTER_CERTIFICATE.value}"
        assert any(line.startswith("experiment big_hello:") for line in found.evidence)
        assert any(line.startswith("experiment big_hello_split:") for line in found.evidence)
        # The cause in place of the symptom; the chain's verdict stands.
        assert codes == ["path.mtu_blackhole", "tls.pinned"], codes
    else:
        assert codes == ["pop3.protocol_error", "tls.pinned"], codes
        assert said in judged[0].evidence[0], judged[0].evidence
        assert judged[1].evidence == PINNED.evidence


def test_no_experiment_leaves_the_symptom_as_it_was() -> None:
    judged = with_experiments(MAIL1, (SILENT,), (), (PROTOCOL_ERROR,))
    assert judged == (PROTOCOL_ERROR,)


def test_a_cause_of_another_symptom_replaces_only_the_handshakes_symptom() -> None:
    """Only a session silent after the certificate has its protocol's words for the silence
    replaced: a cut handshake's cause (a filter by name) leaves another step's finding be."""
    from tests.unit.test_hypotheses import MAIL3, attempt, results

    cut = attempt(TlsOutcome.RESET)
    failed = finding("tls.handshake_failed", "TLS on mail3.dicommail.com:995 failed")
    other = finding("pop3.protocol_error", "POP3S on mail3.dicommail.com:995: not POP3")
    r, q, s_ = HelloAnswer.RESET, HelloAnswer.SILENCE, HelloAnswer.SERVER_HELLO
    judged = with_experiments(MAIL3, (cut,), results(r, s_, q, r, r, r), (failed, other))
    assert [f.code for f in judged] == ["tls.sni_filtered", "pop3.protocol_error"]


# --- every hello unanswered: the server's large packets lost on the way back -------------


def small(answer: HelloAnswer, detail: str = "") -> ExperimentResult:
    return dataclasses.replace(
        hello(Experiment.SMALL_SEGMENTS, answer, detail), hello_bytes=391, max_segment=500
    )


SILENT_CONTROL = hello(Experiment.SAME_HELLO, HelloAnswer.SILENCE, "no answer to the ClientHello")
RESET_CONTROL = hello(Experiment.SAME_HELLO, HelloAnswer.RESET, "connection reset")
SMALL_ANSWERED = small(HelloAnswer.SERVER_HELLO, "ServerHello, TLS 1.3")


def test_only_an_unanswered_hello_asks_for_small_segments() -> None:
    silent_plan = experiments_for(Symptom.SILENT, MAIL1, "mail2.dicommail.com")
    assert (Experiment.SMALL_SEGMENTS, MAIL1.host) in silent_plan
    for symptom in (Symptom.CUT, Symptom.REFUSED, Symptom.NOT_TLS):
        planned = [kind for kind, _ in experiments_for(symptom, MAIL1, "mail2.dicommail.com")]
        assert Experiment.SMALL_SEGMENTS not in planned, symptom


# (name, the experiments' results, convicted as lost on the way back)
SMALL_SEGMENT_ROWS = [
    ("silent, answered in small segments", (SILENT_CONTROL, SMALL_ANSWERED), True),
    # The twins: a peer that cuts is no lost packet; small segments silent too, or not
    # run (Windows cannot ask for them), prove nothing about the size.
    ("cut, answered in small segments", (RESET_CONTROL, SMALL_ANSWERED), False),
    ("silent in small segments too", (SILENT_CONTROL, small(HelloAnswer.SILENCE)), False),
    (
        "small segments not run",
        (
            SILENT_CONTROL,
            small(HelloAnswer.NOT_RUN, "this system cannot ask for smaller segments"),
        ),
        False,
    ),
    ("no control", (SMALL_ANSWERED,), False),
    (
        "another variant answered with the usual segments",
        (
            SILENT_CONTROL,
            SMALL_ANSWERED,
            dataclasses.replace(ANSWERED, kind=Experiment.TLS12_ONLY),
        ),
        False,
    ),
]


@pytest.mark.parametrize(("name", "results", "convicted"), SMALL_SEGMENT_ROWS)
def test_what_small_segments_prove(
    name: str, results: tuple[ExperimentResult, ...], convicted: bool
) -> None:
    found = conclude(MAIL1, Symptom.SILENT, results)
    is_return_loss = found is not None and found.detail == RECEIVED_LARGE
    assert is_return_loss is convicted, (name, found)
    if convicted:
        assert found is not None and found.code == "path.mtu_blackhole"
        assert "lost on the way back" in found.summary and "500 bytes" in found.summary
        assert "(ServerHello, TLS 1.3)" in found.summary
        assert any(line.startswith("experiment small_segments:") for line in found.evidence)
