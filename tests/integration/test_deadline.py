"""Deadline honesty: a connect or handshake that had only what was left of the run is our
own cut (`run.incomplete`), never the network's verdict — and the same silence with time
enough is (`tcp.filtered`, `tls.handshake_stalled`)."""

from __future__ import annotations

import pytest

from tests.conftest import codes, run_cli
from tests.integration.tls_fixtures import check, only_endpoint, serving
from tests.servers.dns import DnsServer
from tests.servers.mail import HttpsHandler, TlsPolicy, server_context
from tests.servers.pki import Pki
from tests.servers.proxies import TlsDpi
from tests.servers.tcp import DroppingPort

ATLAS = "atlas79.mydhp.de"


@pytest.mark.parametrize(("deadline", "code"), [("1", "run.incomplete"), ("4", "tcp.filtered")])
def test_a_connect_cut_by_the_deadline_is_not_a_drop(deadline: str, code: str) -> None:
    with DroppingPort() as dropping:
        result = run_cli(
            "check",
            "--json",
            "--target",
            f"127.0.0.1:{dropping.port}/tcp",
            "--timeout",
            "1",
            "--deadline",
            deadline,
        )
    found = result.endpoint("127.0.0.1", dropping.port)
    assert codes(found) == {code}, found["findings"]
    if code == "run.incomplete":
        # Recorded or not by the time the run ended, the connect is never a timeout.
        assert all(t["outcome"] == "skipped" for t in found["observations"]["tcp"])
        assert result.exit_code == 3
    else:
        assert result.exit_code == 2


@pytest.mark.parametrize(
    ("deadline", "code"), [("1", "run.incomplete"), ("4", "tls.handshake_stalled")]
)
def test_a_handshake_cut_by_the_deadline_is_not_a_stall(
    pki: Pki, dns_server: DnsServer, deadline: str, code: str
) -> None:
    policy = TlsPolicy()
    with (
        serving(HttpsHandler(server_context(pki, policy), policy)) as upstream,
        serving(TlsDpi(upstream.port, "swallow")) as swallowing,
    ):
        result = check(
            dns_server, f"{ATLAS}:{swallowing.port}/tls", "--deadline", deadline, timeout="1"
        )
    found = only_endpoint(result)
    assert code in codes(found), found["findings"]
    if code == "run.incomplete":
        assert "tls.handshake_stalled" not in codes(found)
        protocol = found["observations"]["protocol"]
        assert protocol is None or protocol["failure"] == "deadline"


@pytest.mark.parametrize(("left_s", "is_cut"), [(0.4, True), (5.0, False)])
def test_the_probe_itself_tells_its_cut_from_a_stall(pki: Pki, left_s: float, is_cut: bool) -> None:
    """The same swallowing peer, probed with 0.4 s left of the run or with time enough: the
    first is the deadline's (no stall verdict), the second the peer's."""
    from netdiag.diagnosis.protocol import diagnose_protocol
    from netdiag.probes.deadline import Deadline
    from netdiag.probes.dialogue import TlsSettings
    from netdiag.probes.tlsport import probe_tls_port
    from netdiag.report.observations import StageFailure
    from netdiag.settings.targets import Service, Target

    policy = TlsPolicy()
    with (
        serving(HttpsHandler(server_context(pki, policy), policy)) as upstream,
        serving(TlsDpi(upstream.port, "swallow")) as swallowing,
    ):
        observation = probe_tls_port(
            "127.0.0.1", swallowing.port, ATLAS, TlsSettings(), 1.0, Deadline.after(left_s)
        )
    target = Target(host=ATLAS, port=swallowing.port, service=Service.TLS)
    found = {f.code for f in diagnose_protocol(target, observation, None)}
    if is_cut:
        assert observation.failure is StageFailure.DEADLINE
        assert "tls.handshake_stalled" not in found
    else:
        assert observation.failure is StageFailure.TLS_FAILED
        assert found == {"tls.handshake_stalled"}


@pytest.mark.parametrize(("left_s", "outcome"), [(0.4, "skipped"), (5.0, "timeout")])
def test_a_connect_with_only_the_rest_of_the_run_is_skipped(left_s: float, outcome: str) -> None:
    from netdiag.probes.deadline import Deadline
    from netdiag.probes.tcp import connect_tcp
    from netdiag.session.endpoint import connect_cut_by_deadline

    deadline = Deadline.after(left_s)
    with DroppingPort() as dropping:
        observation, sock = connect_cut_by_deadline(
            connect_tcp("127.0.0.1", dropping.port, deadline.step(1.0)), deadline
        )
    assert sock is None and observation.outcome.value == outcome
