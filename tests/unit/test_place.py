"""Where an interception takes place: the pure conclusions from `PlaceObservation`, table-
driven with each conviction's twin (a local peer at this machine's own address; a device at
the server's distance; a table that could not be read; nothing measured), and the socket-
table probe against a real local listener."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.causes import find_causes
from netdiag.diagnosis.place import (
    answer_hop,
    cut_below,
    local_process_remedy,
    place_lines,
    process_name,
    with_device_address,
    with_place,
)
from netdiag.probes.place import is_own_address, local_peers
from netdiag.report.messages import cause_sentence
from netdiag.report.model import DevicePlace, EndpointResult, Finding
from netdiag.report.observations import (
    Experiment,
    ExperimentResult,
    HelloAnswer,
    LocalPeer,
    PlaceObservation,
)
from netdiag.report.trace_observations import HopKind, HopReply, TraceObservation
from netdiag.settings.targets import Service, Target

MAIL1 = Target(host="mail1.dicommail.com", port=995, service=Service.POP3S, group="dicommail")
ADDRESS = "198.51.100.11"
S, A, R, Q, N, U = (
    HelloAnswer.SERVER_HELLO,
    HelloAnswer.ALERT,
    HelloAnswer.RESET,
    HelloAnswer.SILENCE,
    HelloAnswer.NOT_RUN,
    HelloAnswer.UNREACHABLE,
)


def hops(
    *answers: HelloAnswer, port: int = 995, kind: Experiment = Experiment.HOP_LIMITED
) -> tuple[ExperimentResult, ...]:
    """The hello at TTL 1, 2, ... with these answers."""
    return tuple(
        ExperimentResult(
            kind=kind,
            address=ADDRESS,
            port=port,
            server_name="mail1.dicommail.com",
            versions="TLS 1.2-1.3",
            hello_bytes=391,
            answer=answer,
            hop_limit=ttl,
        )
        for ttl, answer in enumerate(answers, start=1)
    )


INTERCEPTED = finding(
    "tls.intercepted",
    "TLS on mail1.dicommail.com:995 is intercepted (issuer 'Klinikum IT Security')",
    ["presented: issuer 'Klinikum IT Security'"],
)
SSLSPLIT = LocalPeer(process="sslsplit (pid 4711)", local_address="127.0.0.1:10443")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ((S, S, S, S), 1),
        ((Q, Q, S, S), 3),
        ((Q, A, S, S), 2),  # an alert is a TLS answer too
        ((Q, Q, Q, Q), None),
        ((R, R, Q, Q), None),  # a reset is no TLS answer
        ((N, N, N, N), None),
        ((), None),
    ],
)
def test_the_hop_of_the_answer_is_the_smallest_answered_ttl(
    answers: tuple[HelloAnswer, ...], expected: int | None
) -> None:
    assert answer_hop(hops(*answers)) == expected


def test_a_hello_without_a_hop_limit_says_nothing_of_the_hop() -> None:
    unlimited = ExperimentResult(
        kind=Experiment.SAME_HELLO, address=ADDRESS, port=995, answer=S, hop_limit=0
    )
    assert answer_hop((unlimited,)) is None


def place(**fields: object) -> PlaceObservation:
    return PlaceObservation(address=ADDRESS, port=995, **fields)  # type: ignore[arg-type]


def only(findings: tuple[Finding, ...]) -> Finding:
    assert len(findings) == 1
    return findings[0]


def test_a_local_peer_makes_it_this_machine_with_no_firewall_remedy() -> None:
    placed = only(with_place(MAIL1, place(local_peer=SSLSPLIT), [INTERCEPTED]))
    assert placed.code == "tls.intercepted_locally"
    assert placed.subject == "sslsplit"
    assert placed.remedy.startswith("Software on this gateway (sslsplit) intercepts the ")
    assert "not in the firewall" in placed.remedy
    assert "mail1.dicommail.com:995 (pop3s)" in placed.remedy
    assert "127.0.0.1:10443" in placed.summary
    # The chain's own evidence stays.
    assert "presented: issuer 'Klinikum IT Security'" in placed.evidence


def test_a_local_peer_of_unreadable_owner_still_places_it_here() -> None:
    anonymous = LocalPeer(process="", local_address="127.0.0.1:10443")
    placed = only(with_place(MAIL1, place(local_peer=anonymous), [INTERCEPTED]))
    assert placed.code == "tls.intercepted_locally"
    assert placed.subject == "a process on this machine"


def test_a_local_peer_at_this_machines_own_address_is_the_server_not_a_place() -> None:
    """The twin: a server on this machine is its own connection's other end."""
    own = place(local_peer=SSLSPLIT, is_own_address=True)
    placed = only(with_place(MAIL1, own, [INTERCEPTED]))
    assert placed.code == "tls.intercepted"
    assert any("this machine's own address" in line for line in placed.evidence)


@pytest.mark.parametrize(
    ("found", "control", "summary_part"),
    [
        (hops(S, S, S, S), hops(Q, S, S, S, port=25), "from the first hop (this gateway's"),
        (hops(S, S, S, S), hops(Q, S, S, S, port=25), "the server at hop 2"),
        (hops(Q, Q, S, S), (), "from a device 3 hops away"),
        (hops(Q, S, S, S), hops(Q, S, S, S, port=25), "as far as the server itself (hop 2)"),
    ],
)
def test_a_hop_places_a_device_on_the_path_and_keeps_the_firewall_verdict(
    found: tuple[ExperimentResult, ...],
    control: tuple[ExperimentResult, ...],
    summary_part: str,
) -> None:
    measured = place(hops=found, control_port=25 if control else None, control_hops=control)
    placed = only(with_place(MAIL1, measured, [INTERCEPTED]))
    assert placed.code == "tls.intercepted"
    assert summary_part in placed.summary
    assert placed.remedy == INTERCEPTED.remedy


def test_a_device_at_the_servers_distance_is_not_said_to_be_before_it() -> None:
    measured = place(hops=hops(Q, S), control_port=25, control_hops=hops(Q, S, port=25))
    placed = only(with_place(MAIL1, measured, [INTERCEPTED]))
    assert "the first hop" not in placed.summary
    assert "server's end of the path" in placed.summary


@pytest.mark.parametrize(
    ("measured", "line"),
    [
        (place(socket_table_problem="needs administrator rights"), "not checked: needs admin"),
        (place(hops_problem="no time left in the run"), "did not run: no time left"),
        (place(hops=hops(Q, Q, Q, Q)), "no hello with a TTL up to 4 was answered"),
        (place(hops=hops(U, R, R, R)), "the hop-limited hellos were cut (reset or closed)"),
        (place(hops=hops(U, U, Q, Q)), "no hello with a TTL up to 4 was answered"),
        (place(), "not this machine"),
        (place(hops=hops(S), measured_on="mail2.dicommail.com:995"), "(measured on mail2"),
    ],
)
def test_what_was_not_measured_is_said_and_convicts_nothing_more(
    measured: PlaceObservation, line: str
) -> None:
    placed = only(with_place(MAIL1, measured, [INTERCEPTED]))
    assert placed.code == "tls.intercepted"
    assert any(line in text for text in placed.evidence), placed.evidence
    if answer_hop(measured.hops) is None:
        assert placed.summary == INTERCEPTED.summary


def test_only_interception_findings_are_touched_and_none_without_a_place() -> None:
    other = finding("tls.pinned", "TLS on mail1.dicommail.com:995: pinned")
    assert with_place(MAIL1, place(local_peer=SSLSPLIT), [other]) == (other,)
    assert with_place(MAIL1, None, [INTERCEPTED]) == (INTERCEPTED,)


def test_a_product_already_placed_here_keeps_its_code_and_gains_the_measurement() -> None:
    eset = finding("tls.intercepted_locally", "intercepted on this machine by ESET", subject="ESET")
    placed = only(with_place(MAIL1, place(local_peer=SSLSPLIT), [eset]))
    assert placed.code == "tls.intercepted_locally" and placed.subject == "ESET"
    assert any("sslsplit (pid 4711)" in line for line in placed.evidence)


def test_place_lines_name_every_hello_sent() -> None:
    lines = place_lines(place(hops=hops(Q, S)))
    assert sum("experiment hop_limited" in line for line in lines) == 2
    assert any("TTL 2" in line for line in lines)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        connection, _ = server.accept()
        accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    server.close()


def test_the_socket_table_names_the_local_end_of_a_connection(listener: socket.socket) -> None:
    """A real connection to a listener of this process: the table holds its other end."""
    port = listener.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        found, problem = local_peers([client])
    assert problem == ""
    assert found[0].local_address == f"127.0.0.1:{port}"
    assert found[0].process.startswith("netdiag itself (pid ")


def test_a_socket_whose_other_end_is_elsewhere_has_no_local_peer() -> None:
    """The twin: a connected socket whose peer is not in this machine's table (a UDP
    'connection' has no TCP peer socket anywhere)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect(("127.0.0.1", 9))
        found, problem = local_peers([udp])
    assert problem == "" and found == {}


@pytest.mark.parametrize(
    ("address", "own"),
    [("127.0.0.1", True), ("::1", True), ("0.0.0.0", True), ("198.51.100.11", False),
     ("not an address", False)],
)  # fmt: skip
def test_own_addresses(address: str, own: bool) -> None:
    assert is_own_address(address) is own


MAIL2 = Target(host="mail2.dicommail.com", port=995, service=Service.POP3S, group="dicommail")


def test_the_cause_of_one_local_process_names_every_endpoint_it_intercepts() -> None:
    """Two endpoints intercepted by the same process: one cause, whose remedy is that
    process's and names both endpoints (not only the first one's)."""

    results = [
        EndpointResult(target=t, findings=with_place(t, place(local_peer=SSLSPLIT), [INTERCEPTED]))
        for t in (MAIL1, MAIL2)
    ]
    [cause] = find_causes(results)
    assert cause.code == "tls.intercepted_locally" and cause.subject == "sslsplit"
    assert cause.remedy == (
        "Software on this gateway (sslsplit) intercepts the connections for "
        "mail1.dicommail.com:995 (pop3s), mail2.dicommail.com:995 (pop3s): the fix is on this "
        "machine, not in the firewall. Exclude the vendor's hosts and the gateway's mail "
        "program from its TLS or mail scanning, or stop it. Then run netdiag again."
    )


def test_the_remedy_without_destinations_names_none() -> None:
    assert local_process_remedy("sslsplit", []).startswith(
        "Software on this gateway (sslsplit) intercepts the connections: the fix is on this"
    )


@pytest.mark.parametrize(
    ("process", "name"),
    [
        ("sslsplit (pid 4711)", "sslsplit"),
        ("ESET Service (pid 4)", "ESET Service"),
        ("odd (pid 1) name (pid 2)", "odd"),
        ("", "a process on this machine"),
    ],
)
def test_the_process_name_is_what_stands_before_its_pid(process: str, name: str) -> None:
    peer = LocalPeer(process=process, local_address="127.0.0.1:1")
    assert process_name(place(local_peer=peer)) == name


def test_a_device_without_a_clean_port_beside_it_is_placed_by_its_hop_alone() -> None:
    measured = place(hops=hops(Q, Q, S, S))
    placed = only(with_place(MAIL1, measured, [INTERCEPTED]))
    assert placed.summary == (
        f"{INTERCEPTED.summary}; the forged answer comes from a device 3 hops away"
    )


@pytest.mark.parametrize(
    ("measured", "lines"),
    [
        (
            place(local_peer=LocalPeer(process="", local_address="127.0.0.1:10443")),
            [
                f"place: this machine — the other end of a new connection to {ADDRESS}:995 is a "
                "socket whose owner cannot be read here on this machine (127.0.0.1:10443), not "
                "the server",
            ],
        ),
        (
            place(hops=hops(Q, S), control_port=25, control_hops=hops(Q, Q, S, port=25)),
            [
                "place: not this machine — no socket of this machine holds the other end of a "
                f"connection to {ADDRESS}:995",
                "place: the hello is answered from TTL 2 on, not below: the TLS answer comes "
                "from a device 2 hops away",
                "place: the server itself answers its clean port 25 from TTL 3 on",
            ],
        ),
        (
            # A clean port that answered nothing, and hops measured elsewhere.
            place(
                hops=hops(S),
                control_port=25,
                control_hops=hops(Q, port=25),
                measured_on="mail2.dicommail.com:995",
            ),
            [
                "place: not this machine — no socket of this machine holds the other end of a "
                f"connection to {ADDRESS}:995",
                "place: the hello is answered from TTL 1 on, not below (measured on "
                "mail2.dicommail.com:995): the TLS answer comes from the first hop (this "
                "gateway's router or firewall)",
            ],
        ),
        (
            # The server's hop without a port to name is not said.
            place(hops=hops(S), control_hops=hops(Q, S, port=25)),
            [
                "place: not this machine — no socket of this machine holds the other end of a "
                f"connection to {ADDRESS}:995",
                "place: the hello is answered from TTL 1 on, not below: the TLS answer comes "
                "from the first hop (this gateway's router or firewall)",
            ],
        ),
    ],
)
def test_place_lines_exactly(measured: PlaceObservation, lines: list[str]) -> None:
    said = [line for line in place_lines(measured) if not line.startswith("experiment ")]
    assert said == lines


@pytest.mark.parametrize(
    ("found", "english", "german"),
    [
        (
            hops(S, S),
            "A TLS-inspecting device (Klinikum IT Security) at the first hop (this gateway's "
            "router or firewall) intercepts TCP 995 to mail1.dicommail.com: the client "
            "certificate cannot pass it. Most likely the same device: mail2.dicommail.com",
            "Ein TLS-inspizierendes Gerät (Klinikum IT Security) am ersten Hop (Router oder "
            "Firewall dieses Gateways) bricht TCP 995 zu mail1.dicommail.com auf",
        ),
        (
            hops(Q, Q, S),
            "A TLS-inspecting device (Klinikum IT Security) 3 hops away intercepts TCP 995",
            "Ein TLS-inspizierendes Gerät (Klinikum IT Security) 3 Hops entfernt bricht TCP 995",
        ),
    ],
)
def test_the_cause_sentence_says_where_the_device_is(
    found: tuple[ExperimentResult, ...], english: str, german: str
) -> None:
    """The place in the sentence an administrator reads first; an endpoint only likely
    intercepted by the same device (no chain, nothing measured) joins that cause."""

    convicted = replace(INTERCEPTED, subject="Klinikum IT Security")
    likely = replace(convicted, is_inferred=True)
    results = [
        EndpointResult(target=MAIL1, findings=with_place(MAIL1, place(hops=found), [convicted])),
        EndpointResult(target=MAIL2, findings=(likely,)),
    ]
    [cause] = find_causes(results)
    assert cause.endpoints == (MAIL1,) and cause.likely == (MAIL2,)
    assert cause_sentence(cause, "en").startswith(english)
    assert cause_sentence(cause, "de").startswith(german)


def test_a_device_at_the_servers_end_keeps_the_plain_sentence() -> None:
    measured = place(hops=hops(Q, S), control_port=25, control_hops=hops(Q, S, port=25))
    convicted = replace(INTERCEPTED, subject="Klinikum IT Security")
    placed = with_place(MAIL1, measured, [convicted])
    [cause] = find_causes([EndpointResult(target=MAIL1, findings=placed)])
    assert cause.place is None
    assert cause_sentence(cause, "en").startswith("A TLS-inspecting device (")
    assert " hop" not in cause_sentence(cause, "en")


def intercepted_by(subject: str) -> Finding:
    return finding(
        "tls.intercepted",
        f"TLS on mail1.dicommail.com:995 is intercepted ({subject})",
        [f"presented: issuer {subject!r}"],
        subject=subject,
    )


@pytest.mark.parametrize(
    ("chain_names", "process", "subject", "exclusion_starts"),
    [
        # The process is documented as the product's: named by it, whatever the chain says.
        ("Klinikum IT Security", "TMProxy.exe (pid 812)", "Trend Micro Apex One",
         "Trend Micro Apex One / OfficeScan:"),
        ("Klinikum IT Security", "tmproxy.EXE", "Trend Micro Apex One",
         "Trend Micro Apex One / OfficeScan:"),
        # A network product's CA, forged here: the same vendor's endpoint software.
        ("Sophos", "SophosNetFilter.exe (pid 77)", "Sophos Endpoint (Intercept X)",
         "Sophos Central: Global Settings"),
        ("FortiGate", "fortiproxy.exe (pid 9)", "FortiClient", "FortiClient (EMS):"),
        # An endpoint product by its chain, its process undocumented: the chain's product.
        ("ESET", "ekrn.exe (pid 1)", "ESET", "ESET: Advanced setup"),
        # Twins: a network product without endpoint software of the same names, and a name
        # the catalogue does not know: the process, to exclude or stop (no product's text).
        ("Palo Alto Networks", "sslsplit (pid 4711)", "sslsplit", ""),
        ("Klinikum IT Security", "sslsplit (pid 4711)", "sslsplit", ""),
        ("Klinikum IT Security", "", "a process on this machine", ""),
    ],
)  # fmt: skip
def test_software_on_this_machine_is_named_by_its_process_or_its_vendor(
    chain_names: str, process: str, subject: str, exclusion_starts: str
) -> None:
    peer = LocalPeer(process=process, local_address="127.0.0.1:10443")
    placed = only(with_place(MAIL1, place(local_peer=peer), [intercepted_by(chain_names)]))
    assert placed.code == "tls.intercepted_locally"
    assert placed.subject == subject
    shown = process.split(" (pid ", 1)[0] or "a process on this machine"
    named = f"{subject} ({shown})" if exclusion_starts else subject
    assert f"intercepted on this machine by {named}: " in placed.summary
    if exclusion_starts:
        assert placed.remedy.startswith(
            "Security software on this gateway intercepts the connections for "
            f"mail1.dicommail.com:995 (pop3s): the fix is in {subject}, not in the firewall. "
            f"{exclusion_starts}"
        )
    else:
        assert placed.remedy.startswith(f"Software on this gateway ({shown}) intercepts")
    # The cause of it carries the same remedy, for every endpoint it names.
    [cause] = find_causes([EndpointResult(target=MAIL1, findings=(placed,))])
    assert cause.subject == subject
    assert (
        ("the fix is in " + subject) in cause.remedy
        if exclusion_starts
        else (cause.remedy.startswith(f"Software on this gateway ({shown})"))
    )


def test_every_endpoint_product_of_a_network_product_is_endpoint_software() -> None:
    from netdiag.trust.products import ProductKind, catalogue, product_named

    for product in catalogue():
        if product.on_the_gateway:
            other = product_named(product.on_the_gateway)
            assert other is not None and other.kind is ProductKind.ENDPOINT, product.name
            assert product.kind is ProductKind.NETWORK, product.name
        if product.processes or not product.patterns:
            assert product.kind is ProductKind.ENDPOINT and product.exclusion, product.name
            assert product.exclusion_de and product.how_sure, product.name
        if not product.patterns:
            # Named only by its process or by a network product of its vendor.
            reachable = product.processes or any(
                p.on_the_gateway == product.name for p in catalogue()
            )
            assert reachable, product.name


def clean_trace(*replies: HopReply) -> TraceObservation:
    """A trace to the clean port 25 of the intercepted server."""
    return TraceObservation(
        destination=ADDRESS, port=25, max_hops=8, probes_per_hop=2, timeout_s=2, replies=replies
    )


ROUTER = HopReply(ttl=1, sender="192.0.2.1", kind=HopKind.TIME_EXCEEDED)
BORDER = HopReply(ttl=2, sender="192.0.2.2", kind=HopKind.TIME_EXCEEDED)
SERVER = HopReply(ttl=3, sender=ADDRESS, kind=HopKind.SYN_ACK)


@pytest.mark.parametrize(
    ("answers", "clean", "summary_has", "device", "english", "german"),
    [
        (hops(S, S), clean_trace(ROUTER, BORDER, SERVER),
         "the first hop (192.0.2.1, this gateway's router or firewall)",
         DevicePlace(hop=1, address="192.0.2.1"),
         "A TLS-inspecting device (Klinikum IT Security) at the first hop (192.0.2.1, this "
         "gateway's router or firewall) intercepts",
         "Ein TLS-inspizierendes Gerät (Klinikum IT Security) am ersten Hop (192.0.2.1, "
         "Router oder Firewall dieses Gateways) bricht"),
        (hops(Q, S), clean_trace(ROUTER, BORDER, SERVER), "a device 2 hops away (192.0.2.2)",
         DevicePlace(hop=2, address="192.0.2.2"),
         "A TLS-inspecting device (Klinikum IT Security) 2 hops away (192.0.2.2) intercepts",
         "Ein TLS-inspizierendes Gerät (Klinikum IT Security) 2 Hops entfernt (192.0.2.2) "
         "bricht"),
        # Twins: hop 2 silent on the clean trace, or answered by the server itself (not a
        # router): the place stays a distance without an address.
        (hops(Q, S), clean_trace(ROUTER, SERVER), "a device 2 hops away", DevicePlace(hop=2),
         "A TLS-inspecting device (Klinikum IT Security) 2 hops away intercepts",
         "Ein TLS-inspizierendes Gerät (Klinikum IT Security) 2 Hops entfernt bricht"),
        (hops(Q, S), clean_trace(ROUTER, replace(SERVER, ttl=2)), "a device 2 hops away",
         DevicePlace(hop=2),
         "A TLS-inspecting device (Klinikum IT Security) 2 hops away intercepts",
         "Ein TLS-inspizierendes Gerät (Klinikum IT Security) 2 Hops entfernt bricht"),
        (hops(Q, S), None, "a device 2 hops away", DevicePlace(hop=2),
         "A TLS-inspecting device (Klinikum IT Security) 2 hops away intercepts",
         "Ein TLS-inspizierendes Gerät (Klinikum IT Security) 2 Hops entfernt bricht"),
    ],
)  # fmt: skip
def test_a_trace_to_a_clean_port_names_the_device_at_its_hop(
    answers: tuple[ExperimentResult, ...],
    clean: TraceObservation | None,
    summary_has: str,
    device: DevicePlace,
    english: str,
    german: str,
) -> None:
    convicted = replace(INTERCEPTED, subject="Klinikum IT Security")
    measured = place(hops=answers, control_port=25, control_hops=hops(Q, Q, S, port=25))
    [placed] = with_device_address(with_place(MAIL1, measured, [convicted]), clean)
    assert summary_has + (", the server at hop 3" if summary_has else "") in placed.summary
    assert placed.place == device and placed.detail == ""
    named = [line for line in placed.evidence if " on the trace to the clean port " in line]
    assert named == (
        [f"place: hop {device.hop} on the trace to the clean port 25 is {device.address}: the "
         "device (or, if it forwards without counting as a hop, the router right behind it)"]
        if device.address else []
    )  # fmt: skip
    [cause] = find_causes([EndpointResult(target=MAIL1, findings=(placed,))])
    assert cause_sentence(cause, "en").startswith(english)
    assert cause_sentence(cause, "de").startswith(german)


def test_only_an_interception_placed_before_the_server_is_named_by_a_trace() -> None:
    at_the_server = with_place(
        MAIL1,
        place(hops=hops(Q, Q, S), control_port=25, control_hops=hops(Q, Q, S, port=25)),
        [INTERCEPTED],
    )
    other = finding("tcp.open", "mail1.dicommail.com:995 open", ["connect"])
    clean = clean_trace(ROUTER, BORDER, SERVER)
    assert with_device_address([*at_the_server, other], clean) == (*at_the_server, other)


def test_a_silent_hop_has_no_address() -> None:
    from netdiag.diagnosis.place import device_address

    assert device_address(2, clean_trace(ROUTER, SERVER)) == ""
    assert device_address(2, clean_trace(ROUTER, BORDER)) == "192.0.2.2"


def test_a_device_named_once_is_not_named_again() -> None:
    measured = place(hops=hops(S, S), control_port=25, control_hops=hops(Q, S, port=25))
    clean = clean_trace(ROUTER, BORDER, SERVER)
    named = with_device_address(with_place(MAIL1, measured, [INTERCEPTED]), clean)
    assert with_device_address(named, clean) == named


C = HelloAnswer.CLOSED


def again(ttl: int, answer: HelloAnswer) -> ExperimentResult:
    """The hello at `ttl` sent once more (the scan does so for a cut nearer hop)."""
    return replace(hops(answer)[0], hop_limit=ttl)


@pytest.mark.parametrize(
    ("found", "cut"),
    [
        ((*hops(R, S, S, S), again(1, R)), (1,)),
        ((*hops(C, S, C, C), again(1, C)), (1,)),
        ((*hops(Q, R, C, S), again(2, R), again(3, C)), (2, 3)),
        ((*hops(R, S, S, S), again(1, S)), ()),  # answered once more: not cut
        (hops(Q, S, R, R), ()),  # cut farther away than the answer: no matter
        (hops(Q, Q, S, S), ()),  # silence below: an expired hello
        (hops(S, R), ()),
    ],
)
def test_a_nearer_hello_cut_and_never_answered_is_counted(
    found: tuple[ExperimentResult, ...], cut: tuple[int, ...]
) -> None:
    hop = answer_hop(found)
    assert hop is not None and cut_below(found, hop) == cut


def test_a_nearer_hop_cut_leaves_only_no_farther_than() -> None:
    """What cut the hello at TTL 1 may be the device itself: the place is not claimed."""
    measured = place(
        hops=(*hops(R, S, S, S), again(1, R)), control_port=25, control_hops=hops(Q, Q, S, port=25)
    )
    convicted = replace(INTERCEPTED, subject="Klinikum IT Security")
    placed = only(with_place(MAIL1, measured, [convicted]))
    assert placed.summary == (
        f"{INTERCEPTED.summary}; the forged answer comes from no farther than 2 hops (the "
        "server at hop 3)"
    )
    assert (
        "place: the hello is answered from TTL 2 on; at TTL 1 it was cut (reset or closed), "
        "again after a pause too, never answered: the TLS answer comes from no farther "
        "than 2 hops, maybe nearer"
    ) in placed.evidence
    assert placed.place is None  # no hop for the cause sentence, none for a trace to name
    [cause] = find_causes([EndpointResult(target=MAIL1, findings=(placed,))])
    assert " hop" not in cause_sentence(cause, "en")
    assert with_device_address((placed,), _clean_trace_with_hop_2())[0].place is None


def test_a_nearer_hop_answered_once_more_is_the_place() -> None:
    """The twin: the hello cut at TTL 1 is answered when sent again: the first hop it is."""
    measured = place(hops=(*hops(R, S, S, S), again(1, S)))
    placed = only(with_place(MAIL1, measured, [INTERCEPTED]))
    assert placed.summary.endswith(
        "the forged answer comes from the first hop (this gateway's router or firewall)"
    )
    assert placed.place == DevicePlace(hop=1)


def test_a_retry_is_said_only_where_one_was_sent() -> None:
    """No time left for the second try: the hellos were cut once, and only that is said."""
    once = place_lines(place(hops=hops(R, S)))
    assert any("at TTL 1 it was cut (reset or closed), never answered" in line for line in once)
    cut_once = place_lines(place(hops=hops(R, R, C, C)))
    assert any(
        line.startswith("place: the hop-limited hellos were cut (reset or closed): a device")
        for line in cut_once
    )
    cut_twice = place_lines(place(hops=(*hops(R, R, C, C), again(1, R))))
    assert any("were cut (reset or closed), again after a pause too: " in x for x in cut_twice)


def test_every_nearer_hello_cut_is_named() -> None:
    measured = place(hops=(*hops(Q, R, C, S), again(2, R), again(3, C)))
    assert any(
        line.startswith("place: the hello is answered from TTL 4 on; at TTL 2, 3 it was cut")
        for line in place_lines(measured)
    )


def test_without_a_server_hop_no_farther_than_names_none() -> None:
    placed = only(with_place(MAIL1, place(hops=hops(Q, C, S)), [INTERCEPTED]))
    assert placed.summary.endswith("the forged answer comes from no farther than 3 hops")


def _clean_trace_with_hop_2() -> TraceObservation:
    return clean_trace(ROUTER, BORDER, SERVER)


def test_the_place_is_data_in_the_json_of_the_finding_and_its_cause() -> None:
    from netdiag.renderers.json import cause_to_dict, finding_to_dict

    measured = place(hops=hops(Q, S), control_port=25, control_hops=hops(Q, Q, S, port=25))
    [placed] = with_device_address(
        with_place(MAIL1, measured, [INTERCEPTED]), clean_trace(ROUTER, BORDER, SERVER)
    )
    assert finding_to_dict(placed)["place"] == {"hop": 2, "address": "192.0.2.2"}
    [cause] = find_causes([EndpointResult(target=MAIL1, findings=(placed,))])
    assert cause_to_dict(cause)["place"] == {"hop": 2, "address": "192.0.2.2"}
    assert cause_to_dict(cause)["detail"] == ""
    unplaced = only(with_place(MAIL1, place(), [INTERCEPTED]))
    assert finding_to_dict(unplaced)["place"] is None


def test_devices_at_other_hops_are_other_causes() -> None:
    """The place splits causes: two devices, two sentences."""
    at_1 = only(with_place(MAIL1, place(hops=hops(S)), [INTERCEPTED]))
    at_2 = only(with_place(MAIL2, place(hops=hops(Q, S)), [INTERCEPTED]))
    causes = find_causes(
        [
            EndpointResult(target=MAIL1, findings=(at_1,)),
            EndpointResult(target=MAIL2, findings=(at_2,)),
        ]
    )
    assert sorted(c.place.hop for c in causes if c.place is not None) == [1, 2]


H = HelloAnswer.HTTP_REPLY
WEB_PROXY = finding(
    "trace.transparent_proxy",
    "TLS on mail1.dicommail.com:995: the TLS hello is answered in HTTP",
    subject="Squid",
    detail="http",
)
TRACED_PROXY = finding("trace.transparent_proxy", "SYN/ACK from hop 1", subject="192.0.2.6")


def test_a_web_proxy_answering_in_http_is_placed_by_the_hop_of_its_answer() -> None:
    assert answer_hop(hops(Q, H, H)) == 2  # an HTTP answer is what answers
    placed = only(with_place(MAIL1, place(hops=hops(H, H, H, H)), [WEB_PROXY]))
    assert placed.place == DevicePlace(hop=1)
    assert placed.summary.endswith(
        "; the HTTP answer comes from the first hop (this gateway's router or firewall)"
    )
    assert any("the HTTP answer comes from the first hop" in line for line in placed.evidence)
    # The twins: a trace's proxy keeps its own hop (its subject); nothing answered, no place.
    assert with_place(MAIL1, place(hops=hops(H, H)), [TRACED_PROXY]) == (TRACED_PROXY,)
    unplaced = only(with_place(MAIL1, place(hops=hops(Q, Q, Q, Q)), [WEB_PROXY]))
    assert unplaced.place is None and unplaced.summary == WEB_PROXY.summary


def test_a_web_proxy_on_this_machine_is_said_there_and_placed_at_no_hop() -> None:
    """A socket of this machine at the other end is the stronger fact: the measurement is
    added to the evidence, no hop is claimed even where hellos were answered."""
    here = place(local_peer=SSLSPLIT, hops=hops(H, H))
    placed = only(with_place(MAIL1, here, [WEB_PROXY]))
    assert placed.code == "trace.transparent_proxy" and placed.summary == WEB_PROXY.summary
    assert placed.place is None
    assert any("sslsplit (pid 4711)" in line for line in placed.evidence), placed.evidence


def test_the_http_answers_hop_is_said_as_the_hellos() -> None:
    placed = only(with_place(MAIL1, place(hops=hops(Q, H)), [WEB_PROXY]))
    assert any(
        line.startswith("place: the hello is answered from TTL 2 on, not below: the HTTP answer")
        for line in placed.evidence
    ), placed.evidence
