"""Who cut a hello, from the packets of its connection (`--trace`): a reset or FIN that
travelled fewer hops than the SYN/ACK of the same connection was sent by a nearer device
(`trace.forged_reset`, detail "hello", at that hop); its twins — the same distance (the
peer that accepted the connection), a packet not seen, a reading that failed, a hello not
cut this time, a cut the hop-limited hellos already proved — convict nothing more.
Table-driven, pure."""

from __future__ import annotations

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.cut_sender import cut_sender_lines, with_cut_sender
from netdiag.diagnosis.place import HELLO_CUT, forged_hello
from netdiag.report.model import DevicePlace, Finding
from netdiag.report.trace_observations import CutSender
from tests.unit.test_cut_place import FAILED
from tests.unit.test_place import ADDRESS, MAIL1


def sender(
    cut_ttl: int | None, syn_ack_ttl: int | None, cut: str = "reset", **more: str
) -> CutSender:
    return CutSender(
        address=ADDRESS,
        port=995,
        syn_ack_ttl=syn_ack_ttl,
        cut_ttl=cut_ttl,
        cut=cut,
        answer=more.pop("answer", cut),
        **more,
    )


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize(
    ("read", "hop", "device", "subject"),
    [
        # A router's reset (initial 64, not decremented) beside the server's SYN/ACK (63).
        (sender(64, 63), 1, "the first hop (this gateway's router or firewall)", "the first hop"),
        # A FIN from a device 2 hops away (initial 128) beside a server 5 hops away (64).
        (sender(127, 60, cut="closed"), 2, "a device 2 hops away", "hop 2"),
        # A device with initial TTL 255 at hop 3, the server (128) at hop 10.
        (sender(253, 119), 3, "a device 3 hops away", "hop 3"),
    ],
)
def test_a_cut_sent_from_nearer_than_the_syn_ack_is_a_device(
    read: CutSender, hop: int, device: str, subject: str
) -> None:
    found = with_cut_sender(MAIL1, read, [FAILED])
    assert codes(found) == ["trace.forged_reset", "tls.handshake_failed"]
    forged = found[0]
    assert forged.detail == HELLO_CUT and forged.subject == subject
    assert forged.place == DevicePlace(hop=hop)
    assert f"every hello is cut ({read.cut}) by {device}" in forged.summary
    assert "came from" in forged.summary and "TCP 995" in forged.remedy
    assert forged.evidence[0] == cut_sender_lines(read)[0]
    assert forged.evidence[-1] == FAILED.evidence[-1]
    assert "another sender, nearer" in forged.evidence[0]
    assert found[1].evidence[-1] == forged.evidence[0]


@pytest.mark.parametrize(
    ("read", "line"),
    [
        # The same distance: the peer that accepted the connection cut it (the server).
        (sender(63, 63), "the peer that accepted the connection cut it"),
        # A different initial TTL, the same distance (a firewall at the server's end).
        (sender(254, 63), "(sent 2 hops away)"),
        # Farther than the SYN/ACK: not nearer, nothing forged by that.
        (sender(60, 63), "the peer that accepted the connection cut it"),
        (sender(None, 63), "the reset of the hello's connection was not seen"),
        (sender(64, None), "the SYN/ACK of the hello's connection was not seen"),
        (sender(None, None, cut="", answer="server_hello"), "got server_hello instead of a cut"),
        (
            CutSender(address=ADDRESS, port=995, error="cannot listen on eth0: Network is down"),
            "cut sender: not read: cannot listen on eth0: Network is down",
        ),
    ],
)
def test_its_twins_add_a_line_and_convict_nothing(read: CutSender, line: str) -> None:
    found = with_cut_sender(MAIL1, read, [FAILED])
    assert codes(found) == ["tls.handshake_failed"]
    assert line in found[0].evidence[-1], found[0].evidence


def test_a_cut_the_hop_limited_hellos_proved_is_not_convicted_twice() -> None:
    proved = forged_hello(MAIL1, 1, "reset", "its port 25 answers from hop 2", [], is_exact=True)
    found = with_cut_sender(MAIL1, sender(64, 63), [proved, FAILED])
    assert codes(found) == ["trace.forged_reset", "tls.handshake_failed"]
    assert all("another sender, nearer" in f.evidence[-1] for f in found)


def test_without_the_symptom_nothing_is_convicted_and_others_are_untouched() -> None:
    other = finding("tcp.open", "mail1.dicommail.com:995 open")
    assert with_cut_sender(MAIL1, sender(64, 63), [other]) == (other,)


def test_a_reading_shared_by_another_endpoint_of_the_port_says_where_it_was_read() -> None:
    line = cut_sender_lines(sender(64, 63), read_on="mail2.dicommail.com:995")[0]
    assert line.startswith("cut sender (read on mail2.dicommail.com:995): the reset")
    assert cut_sender_lines(sender(64, 63))[0] == (
        "cut sender: the reset that cut the hello arrived with IP TTL 64 (sent 1 hop away), the "
        "SYN/ACK of the same connection with IP TTL 63 (2 hops away): another sender, nearer "
        "than the peer that accepted the connection"
    )


def test_a_traces_own_forged_reset_is_another_finding_and_the_hello_cut_is_still_read() -> None:
    """A trace's forged reset of the SYN (detail "") proves nothing of the hello's cut."""
    traced = finding("trace.forged_reset", "a reset from hop 1", subject="198.18.1.1 (hop 1)")
    found = with_cut_sender(MAIL1, sender(64, 63), [traced, FAILED])
    assert codes(found) == ["trace.forged_reset", "trace.forged_reset", "tls.handshake_failed"]
    assert found[0].detail == HELLO_CUT and found[1] == traced


def test_the_reading_of_another_endpoint_says_so_in_the_evidence() -> None:
    found = with_cut_sender(MAIL1, sender(63, 63), [FAILED], read_on="mail2.dicommail.com:995")
    assert found[0].evidence[-1].startswith("cut sender (read on mail2.dicommail.com:995): ")
