"""A server's limit of connections per client: an SMTP session refused "for now" while the
run's other sessions were connected, tried again alone after the round. Taken alone, it is
the server's limit met by netdiag's own parallel probes (`smtp.connection_limit`, info),
never a fault; refused alone too, or refused in a run that had nothing else open, the
refusal stands (`smtp.throttled`)."""

from __future__ import annotations

import dataclasses

import pytest

from netdiag.diagnosis import diagnose_endpoint
from netdiag.diagnosis.smtp import is_refused_for_now
from netdiag.report.model import Severity, Status, worst
from netdiag.report.observations import (
    EndpointObservation,
    Pop3Observation,
    ProbeStep,
    ProtocolObservation,
    ProtocolStage,
    Reply,
    StageFailure,
)
from netdiag.session.endpoint import was_refused_among_others
from tests.unit.test_completeness import (
    CLOSED_AT_BANNER,
    DOCUMENTATION,
    DONE,
    SMTP,
    attempt,
    seen,
)

LIMIT = "421 4.7.0 mail1.dicommail.com Error: too many connections from 198.51.100.7"
REFUSED_AT_BANNER = attempt(
    banner=Reply(code=421, lines=(LIMIT[4:],)), ehlo=None, starttls_reply=None, tls=None,
    after_tls=None, stopped_at=ProtocolStage.BANNER, failure=StageFailure.REFUSED,
    failure_detail=LIMIT,
)  # fmt: skip
REFUSED_AT_EHLO = attempt(
    ehlo=Reply(code=450, lines=("4.7.1 try again later",)), starttls_reply=None, tls=None,
    after_tls=None, stopped_at=ProtocolStage.EHLO, failure=StageFailure.REFUSED,
    failure_detail="450 4.7.1 try again later",
)  # fmt: skip
REJECTED_AT_BANNER = attempt(
    banner=Reply(code=554, lines=("5.7.1 no",)), ehlo=None, starttls_reply=None, tls=None,
    after_tls=None, stopped_at=ProtocolStage.BANNER, failure=StageFailure.REFUSED,
    failure_detail="554 5.7.1 no",
)  # fmt: skip
# A 4xx inside TLS (after the client certificate) is the server's word on the certificate
# or the session, not on how many connections this client holds.
REFUSED_AFTER_TLS = attempt(
    after_tls=Reply(code=421, lines=("4.7.0 too many",)), stopped_at=ProtocolStage.EHLO_TLS,
    failure=StageFailure.REFUSED, failure_detail="421 4.7.0 too many",
)  # fmt: skip
POP3 = Pop3Observation(service="pop3s", address="203.0.113.10", port=995, greeting="-ERR busy")


@pytest.mark.parametrize(
    ("name", "attempt_seen", "expected"),
    [
        ("421 greeting", REFUSED_AT_BANNER, True),
        ("450 to EHLO", REFUSED_AT_EHLO, True),
        ("554 greeting: a no, not a not-now", REJECTED_AT_BANNER, False),
        ("421 after TLS", REFUSED_AFTER_TLS, False),
        (
            "400 greeting",
            attempt(banner=Reply(code=400, lines=("x",)), stopped_at=ProtocolStage.BANNER),
            True,
        ),
        (
            "499 greeting",
            attempt(banner=Reply(code=499, lines=("x",)), stopped_at=ProtocolStage.BANNER),
            True,
        ),
        (
            "500 greeting",
            attempt(banner=Reply(code=500, lines=("x",)), stopped_at=ProtocolStage.BANNER),
            False,
        ),
        ("completed", DONE, False),
        ("closed before the banner", CLOSED_AT_BANNER, False),
        ("POP3", POP3, False),
    ],
)
def test_what_is_refused_for_now(
    name: str, attempt_seen: ProtocolObservation, expected: bool
) -> None:
    assert is_refused_for_now(attempt_seen) is expected, name


@pytest.mark.parametrize(
    ("name", "observation", "expected"),
    [
        ("refused for now once", seen(attempts=(REFUSED_AT_BANNER,)), True),
        ("refused to EHLO once", seen(attempts=(REFUSED_AT_EHLO,)), True),
        ("rejected", seen(attempts=(REJECTED_AT_BANNER,)), False),
        ("retried already", seen(attempts=(CLOSED_AT_BANNER, REFUSED_AT_BANNER)), False),
        (
            "cut short by the deadline",
            seen(attempts=(REFUSED_AT_BANNER,), cut_short="the run's deadline passed"),
            False,
        ),
        ("no dialogue", seen(attempts=()), False),
    ],
)
def test_which_endpoints_are_tried_again_alone(
    name: str, observation: EndpointObservation, expected: bool
) -> None:
    assert was_refused_among_others(observation) is expected, name


# (name, attempts, retried alone, codes present, codes absent, the endpoint's status)
ROWS = [
    (
        "refused among others, taken alone: the server's limit, the session's own verdicts",
        (REFUSED_AT_BANNER, DONE),
        True,
        {"smtp.connection_limit", "tls.established"},
        {"smtp.throttled", "endpoint.intermittent", "probe.incomplete"},
        Status.OK,
    ),
    (
        "refused to EHLO among others, taken alone",
        (REFUSED_AT_EHLO, DONE),
        True,
        {"smtp.connection_limit"},
        {"smtp.throttled", "endpoint.intermittent"},
        Status.OK,
    ),
    (
        "refused alone too: the refusal stands",
        (REFUSED_AT_BANNER, REFUSED_AT_BANNER),
        True,
        {"smtp.throttled"},
        {"smtp.connection_limit", "endpoint.intermittent"},
        Status.WARN,
    ),
    (
        "refused among others, alone closed without a word: two different ends",
        (REFUSED_AT_BANNER, CLOSED_AT_BANNER),
        True,
        {"smtp.throttled", "endpoint.intermittent"},
        {"smtp.connection_limit"},
        Status.WARN,
    ),
    # The twin: the same two attempts, the second not alone (the ordinary retry of a
    # silent end) prove no limit per client.
    (
        "the same attempts, not alone: intermittent",
        (REFUSED_AT_BANNER, DONE),
        False,
        {"endpoint.intermittent"},
        {"smtp.connection_limit"},
        Status.WARN,
    ),
    (
        "a first attempt that was no refusal for now proves no limit",
        (CLOSED_AT_BANNER, DONE),
        True,
        {"endpoint.intermittent"},
        {"smtp.connection_limit"},
        Status.WARN,
    ),
    (
        "refused once, never tried alone: the refusal stands",
        (REFUSED_AT_BANNER,),
        False,
        {"smtp.throttled"},
        {"smtp.connection_limit", "endpoint.intermittent", "probe.incomplete"},
        Status.WARN,  # a stated refusal is a verdict on its own: no probe.incomplete
    ),
]


@pytest.mark.parametrize(
    ("name", "attempts", "alone", "present", "absent", "status"), ROWS, ids=[r[0] for r in ROWS]
)
def test_rows(
    name: str,
    attempts: tuple[ProtocolObservation, ...],
    alone: bool,
    present: set[str],
    absent: set[str],
    status: Status,
) -> None:
    done = attempts[-1].stopped_at is ProtocolStage.DONE
    observation = seen(
        attempts=attempts,
        retried_alone=alone,
        reached=ProbeStep.DONE if done else ProbeStep.PROTOCOL,
    )
    findings = diagnose_endpoint(SMTP, observation, expected_networks=DOCUMENTATION)
    codes = {f.code for f in findings}
    assert present <= codes and not (absent & codes), (name, codes)
    assert worst(f.severity.status for f in findings) is status, (
        name,
        [(f.code, f.severity) for f in findings],
    )


def test_the_limit_is_said_with_the_servers_words_and_both_attempts() -> None:
    observation = seen(attempts=(REFUSED_AT_BANNER, DONE), retried_alone=True)
    (limit,) = [
        f
        for f in diagnose_endpoint(SMTP, observation, expected_networks=DOCUMENTATION)
        if f.code == "smtp.connection_limit"
    ]
    assert limit.severity is Severity.INFO
    assert LIMIT in limit.summary and "limits connections per client" in limit.summary
    assert limit.evidence[0].startswith("attempt 1: stopped at banner")
    assert "alone" in limit.evidence[1] and "attempt 2: completed" in limit.evidence[1]


def test_refused_alone_again_says_so_in_the_evidence() -> None:
    observation = seen(
        attempts=(REFUSED_AT_BANNER, REFUSED_AT_BANNER),
        retried_alone=True,
        reached=ProbeStep.PROTOCOL,
    )
    (throttled,) = [
        f
        for f in diagnose_endpoint(SMTP, observation, expected_networks=DOCUMENTATION)
        if f.code == "smtp.throttled"
    ]
    assert any("alone" in line and "refused again" in line for line in throttled.evidence)


def test_a_note_beside_a_refusal_seen_again_alone_gets_no_line() -> None:
    """The lone try's line goes to what is wrong, not to the good news beside it (a
    pregreet pause before the EHLO that was refused)."""
    paused = dataclasses.replace(REFUSED_AT_EHLO, banner_ms=6050.0, banner_first_ms=50.0)
    observation = seen(attempts=(paused, paused), retried_alone=True, reached=ProbeStep.PROTOCOL)
    found = {
        f.code: f for f in diagnose_endpoint(SMTP, observation, expected_networks=DOCUMENTATION)
    }
    assert any("refused again" in line for line in found["smtp.throttled"].evidence)
    assert not any("alone" in line for line in found["smtp.greeting_pause"].evidence)


def test_the_attempts_are_judged_with_the_runs_client_and_banner_limit() -> None:
    """What the endpoint is judged with reaches its attempts: the client certificate (its
    issuer against the server's acceptable CAs) and the banner's limit."""
    from tests.unit.test_diagnosis_tls import CLIENT, smtp, tls

    late = smtp(banner_ms=2000.0, banner_first_ms=2000.0, tls=tls(client_ca_der=(b"other",)))
    observation = seen(attempts=(late,))
    judged = diagnose_endpoint(
        SMTP, observation, expected_networks=DOCUMENTATION, client=CLIENT, slow_banner_s=1.0
    )
    codes = {f.code for f in judged}
    assert {"smtp.slow_banner", "cert.issuer_not_accepted"} <= codes, codes
    default = diagnose_endpoint(SMTP, observation, expected_networks=DOCUMENTATION)
    assert not {"smtp.slow_banner", "cert.issuer_not_accepted"} & {f.code for f in default}
