"""The hop-limited connect on loopback (which delivers at any TTL, so hop 1 is the peer): a
listening port answers the SYN with TTL 1 (`connected`, and the connection is closed at
once), a closed one resets it (`reset`), and the scan of a closed port stops after its first
batch, the reset being what it seeks. No privilege: an ordinary socket with IP_TTL set."""

from __future__ import annotations

import socket

from netdiag.probes.deadline import Deadline
from netdiag.probes.place import HOP_BATCHES, hop_scan, probe_syn_hop
from netdiag.report.observations import Experiment, HelloAnswer
from netdiag.settings.targets import Service
from tests.servers.tcp import OpenPort


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_listening_port_answers_a_syn_with_ttl_1() -> None:
    with OpenPort() as server:
        result = probe_syn_hop("127.0.0.1", server.port, Deadline.after(10), None, 1, 2.0)
    assert result.kind is Experiment.SYN_HOP_LIMITED
    assert result.answer is HelloAnswer.CONNECTED, result
    assert result.hop_limit == 1 and result.sent == "SYN (TTL 1)"


def test_a_closed_port_resets_it() -> None:
    result = probe_syn_hop("127.0.0.1", closed_port(), Deadline.after(10), None, 1, 2.0)
    assert result.answer is HelloAnswer.RESET, result
    assert "refused" in result.detail.lower()


def test_no_time_left_sends_nothing() -> None:
    result = probe_syn_hop("127.0.0.1", closed_port(), Deadline.after(0.1), None, 1, 2.0)
    assert result.answer is HelloAnswer.NOT_RUN
    assert result.detail == "no time left in the run"


def test_the_scan_of_a_closed_port_stops_at_the_first_batch() -> None:
    hops, problem = hop_scan(
        "127.0.0.1",
        closed_port(),
        Service.POP3S,
        "mail1.dicommail.com",
        2.0,
        Deadline.after(20),
        kind=Experiment.SYN_HOP_LIMITED,
    )
    assert problem == ""
    assert [r.hop_limit for r in hops] == list(HOP_BATCHES[0])
    assert all(r.answer is HelloAnswer.RESET for r in hops), hops
