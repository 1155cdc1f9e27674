"""Never OK unless checked: the endpoint-level invariant, table-driven, and as a property
over every way a probe can stop."""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netdiag.diagnosis import diagnose_endpoint
from netdiag.report.model import EndpointResult, Severity, Status
from netdiag.report.observations import (
    DnsAnswer,
    DnsObservation,
    DnsOutcome,
    EndpointObservation,
    ProbeStep,
    ProtocolStage,
    Reply,
    SmtpObservation,
    StageFailure,
    TcpObservation,
    TcpOutcome,
    TlsObservation,
    TlsOutcome,
)
from netdiag.settings.targets import Service, Target

# The documentation network the observations use is declared expected, as a profile would.
DOCUMENTATION = (ipaddress.ip_network("203.0.113.0/24"),)
SMTP = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
RESOLVED = DnsObservation(
    host=SMTP.host,
    answers=(
        DnsAnswer(
            resolver="given 192.0.2.53", qtype="A", outcome=DnsOutcome.ANSWER,
            addresses=("203.0.113.10",),
        ),
    ),
)  # fmt: skip
OPEN = TcpObservation(address="203.0.113.10", port=25, family=4, outcome=TcpOutcome.OPEN)
TLS = TlsObservation(
    outcome=TlsOutcome.ESTABLISHED,
    version="TLSv1.3",
    was_client_cert_requested=True,
    was_client_cert_sent=True,
)


_ATTEMPT_BASE = SmtpObservation(
    service="smtp-starttls",
    address="203.0.113.10",
    port=25,
    banner=Reply(code=220, lines=("mail1 ESMTP",)),
    ehlo=Reply(code=250, lines=("mail1", "STARTTLS")),
    is_starttls_advertised=True,
    starttls_reply=Reply(code=220, lines=("go ahead",)),
    tls=TLS,
    after_tls=Reply(code=250, lines=("mail1",)),
)


def attempt(**changes: Any) -> SmtpObservation:
    return dataclasses.replace(_ATTEMPT_BASE, **changes)


DONE = attempt()
REFUSED_AT_CONNECT = attempt(
    banner=None, ehlo=None, starttls_reply=None, tls=None, after_tls=None,
    stopped_at=ProtocolStage.CONNECT, failure=StageFailure.REFUSED,
    failure_detail="connection refused",
)  # fmt: skip
CLOSED_AT_BANNER = attempt(
    banner=None, ehlo=None, starttls_reply=None, tls=None, after_tls=None,
    stopped_at=ProtocolStage.BANNER, failure=StageFailure.CLOSED,
    failure_detail="connection closed by the peer",
)  # fmt: skip
DEADLINE_AT_BANNER = dataclasses.replace(
    CLOSED_AT_BANNER, failure=StageFailure.DEADLINE, failure_detail="the run's deadline passed"
)


def seen(**changes: object) -> EndpointObservation:
    base: dict[str, object] = {
        "dns": RESOLVED,
        "tcp": (OPEN,),
        "attempts": (DONE,),
        "reached": ProbeStep.DONE,
    }
    return EndpointObservation(**{**base, **changes})  # type: ignore[arg-type]


ROWS = [
    ("completed", seen(), set(), {"probe.incomplete", "run.incomplete"}),
    (
        "the protocol connection refused after the port was open",
        seen(attempts=(REFUSED_AT_CONNECT,), reached=ProbeStep.PROTOCOL),
        {"probe.incomplete"},
        set(),
    ),
    (
        "no address to probe and no DNS verdict",
        seen(dns=DnsObservation(host=SMTP.host), tcp=(), attempts=(), reached=ProbeStep.RESOLVE),
        {"probe.incomplete"},
        set(),
    ),
    (
        "DNS skipped by the deadline is no resolver's fault",
        seen(
            dns=DnsObservation(
                host=SMTP.host,
                answers=(DnsAnswer(resolver="os", qtype="A+AAAA", outcome=DnsOutcome.SKIPPED),),
            ),
            tcp=(),
            attempts=(),
            reached=ProbeStep.RESOLVE,
        ),
        {"run.incomplete"},
        {"dns.timeout", "probe.incomplete"},
    ),
    (
        "the deadline in the middle of the dialogue blames no server",
        seen(attempts=(DEADLINE_AT_BANNER,), reached=ProbeStep.PROTOCOL),
        {"run.incomplete"},
        {"smtp.slow_banner", "smtp.early_close", "probe.incomplete"},
    ),
    (
        "Ctrl-C before the protocol",
        seen(attempts=(), reached=ProbeStep.PROTOCOL, cut_short="interrupted (Ctrl-C)"),
        {"run.incomplete"},
        set(),
    ),
    (
        "an internal error stays with the endpoint",
        seen(attempts=(), reached=ProbeStep.PROTOCOL, error="ValueError: odd certificate"),
        {"probe.error"},
        set(),
    ),
    (
        "closed once, then completed: intermittent",
        seen(attempts=(CLOSED_AT_BANNER, DONE)),
        {"endpoint.intermittent", "tls.established"},
        {"probe.incomplete", "smtp.early_close"},
    ),
    (
        "closed twice the same way: one verdict",
        seen(attempts=(CLOSED_AT_BANNER, CLOSED_AT_BANNER), reached=ProbeStep.PROTOCOL),
        {"smtp.early_close"},
        {"endpoint.intermittent", "probe.incomplete"},
    ),
    (
        "closed, then refused: two silent ends, one verdict",
        seen(attempts=(CLOSED_AT_BANNER, REFUSED_AT_CONNECT), reached=ProbeStep.PROTOCOL),
        {"smtp.early_close"},
        {"endpoint.intermittent"},
    ),
    (
        "closed, then a stated refusal: intermittent",
        seen(
            attempts=(
                CLOSED_AT_BANNER,
                attempt(
                    banner=Reply(code=421, lines=("too many connections",)),
                    ehlo=None,
                    starttls_reply=None,
                    tls=None,
                    after_tls=None,
                    stopped_at=ProtocolStage.BANNER,
                    failure=StageFailure.REFUSED,
                ),
            ),
            reached=ProbeStep.PROTOCOL,
        ),
        {"endpoint.intermittent"},
        set(),
    ),
]


def _result(observation: EndpointObservation) -> EndpointResult:
    from netdiag.diagnosis.completeness import cut_short_by

    findings = diagnose_endpoint(SMTP, observation, expected_networks=DOCUMENTATION)
    return EndpointResult(
        target=SMTP,
        findings=findings,
        was_completed=not cut_short_by(observation) and not observation.error,
    )


def test_rows() -> None:
    for name, observation, present, absent in ROWS:
        result = _result(observation)
        codes = {f.code for f in result.findings}
        assert present <= codes, (name, codes)
        assert not (absent & codes), (name, codes)
        if observation.is_done and len(observation.attempts) == 1:
            assert result.status is Status.OK, name
        else:
            assert result.status is not Status.OK, (name, codes)


def test_same_failure_twice_says_so_in_the_evidence() -> None:
    findings = diagnose_endpoint(
        SMTP, seen(attempts=(CLOSED_AT_BANNER, CLOSED_AT_BANNER), reached=ProbeStep.PROTOCOL)
    )
    (early,) = [f for f in findings if f.code == "smtp.early_close"]
    assert "a second attempt failed the same way" in early.evidence


@pytest.mark.parametrize(
    ("attempts", "said"),
    [
        ((CLOSED_AT_BANNER,), "stopped at banner: connection closed by the peer"),
        (
            (CLOSED_AT_BANNER,) * 2,
            "stopped at banner (and on 2 tries): connection closed by the peer",
        ),
        (
            (CLOSED_AT_BANNER,) * 3,
            "stopped at banner (and on 3 tries): connection closed by the peer",
        ),
    ],
)
def test_the_missing_step_counts_the_tries(
    attempts: tuple[SmtpObservation, ...], said: str
) -> None:
    from netdiag.diagnosis.completeness import _missing_step

    step = _missing_step(seen(attempts=attempts, reached=ProbeStep.PROTOCOL))
    assert step == f"the protocol dialogue {said}"


def test_a_connect_skipped_by_the_deadline_is_cut_short_only_there() -> None:
    """A port the deadline never let us try is the run's doing while the probe stood at
    connect; once it stood further, the same skipped port says nothing of the run."""
    from netdiag.diagnosis.completeness import DEADLINE_PASSED, cut_short_by

    skipped = TcpObservation(address="203.0.113.11", port=25, family=4, outcome=TcpOutcome.SKIPPED)
    at_connect = seen(tcp=(skipped,), attempts=(), reached=ProbeStep.CONNECT)
    assert cut_short_by(at_connect) == DEADLINE_PASSED
    further = seen(tcp=(OPEN, skipped), attempts=(CLOSED_AT_BANNER,), reached=ProbeStep.PROTOCOL)
    assert cut_short_by(further) == ""


STAGES = st.sampled_from([s for s in ProtocolStage if s is not ProtocolStage.DONE])
FAILURES = st.sampled_from(list(StageFailure))


@st.composite
def unfinished(draw: st.DrawFn) -> EndpointObservation:
    """Any endpoint observation whose probe did not reach DONE."""
    reached = draw(st.sampled_from([s for s in ProbeStep if s is not ProbeStep.DONE]))
    count = draw(st.integers(min_value=0, max_value=2)) if reached is ProbeStep.PROTOCOL else 0
    attempts = tuple(
        attempt(
            stopped_at=draw(STAGES),
            failure=draw(FAILURES),
            banner=draw(st.sampled_from([None, Reply(code=220, lines=("x",))])),
            tls=draw(st.sampled_from([None, TLS])),
            after_tls=None,
        )
        for _ in range(count)
    )
    tcp = (OPEN,) if reached is ProbeStep.PROTOCOL else ()
    return seen(
        tcp=tcp,
        attempts=attempts,
        reached=reached,
        cut_short=draw(st.sampled_from(["", "the run's deadline passed"])),
    )


@given(unfinished())
def test_an_unfinished_probe_is_never_ok(observation: EndpointObservation) -> None:
    """Every drawn case is held to a finding that says why: cut short by the run, exactly
    one `run.incomplete` (never a second, never left out); otherwise a finding that is a
    problem of its own."""
    from netdiag.diagnosis.completeness import cut_short_by

    result = _result(observation)
    assert result.status is not Status.OK
    codes = [f.code for f in result.findings]
    if cut_short_by(observation):
        assert codes.count("run.incomplete") == 1, codes
        assert not result.was_completed
    else:
        assert "run.incomplete" not in codes, codes
        assert any(f.severity is not Severity.INFO for f in result.findings), codes
