"""The path-MTU rules, table-driven: a black hole only where a size that was sent vanished
without ICMP fragmentation-needed; never on a path whose probes all came back (loopback's
65536-byte MTU included), never when echo itself is blocked."""

from __future__ import annotations

import pytest

from netdiag.diagnosis.catalogue import finding
from netdiag.diagnosis.mtu import diagnose_mtu, diagnose_path_mtu, with_measured
from netdiag.probes.mtu import IPV4_MAX_PACKET, probe_sizes
from netdiag.report.trace_observations import MtuObservation

ECHO = "echo reply"


def observed(interface_mtu: int, passing_up_to: int, frag_from: str = "") -> MtuObservation:
    sizes = probe_sizes(interface_mtu)
    probes = tuple(
        (
            size,
            ECHO
            if size <= passing_up_to
            else (f"fragmentation needed from {frag_from}" if frag_from else "no answer"),
        )
        for size in sizes
    )
    failing = [s for s in sizes if s > passing_up_to]
    return MtuObservation(
        destination="192.0.2.7",
        interface_mtu=interface_mtu,
        largest_passing=max((s for s in sizes if s <= passing_up_to), default=0),
        smallest_failing=min(failing, default=0),
        frag_needed_from=frag_from,
        frag_needed_mtu=1400 if frag_from else 0,
        probes=probes,
    )


@pytest.mark.parametrize(
    ("interface_mtu", "top"),
    [(1500, 1500), (9000, 9000), (65536, IPV4_MAX_PACKET), (1280, 1280), (100000, IPV4_MAX_PACKET)],
)
def test_probe_sizes_end_at_what_the_interface_and_ipv4_can_carry(
    interface_mtu: int, top: int
) -> None:
    sizes = probe_sizes(interface_mtu)
    assert max(sizes) == top and sizes == tuple(sorted(set(sizes)))
    assert 576 in sizes


@pytest.mark.parametrize(
    ("observation", "code", "severity"),
    [
        (observed(1500, 1500), "path.mtu_ok", "info"),
        # Loopback: every probe up to 65535 came back, the interface says 65536.
        (observed(65536, IPV4_MAX_PACKET), "path.mtu_ok", "info"),
        (observed(9000, 9000), "path.mtu_ok", "info"),
        (observed(1500, 1400), "path.mtu_blackhole", "warn"),
        (observed(65536, 9000), "path.mtu_blackhole", "warn"),
        # The router says why: a smaller MTU, announced, is no black hole.
        (observed(1500, 1400, frag_from="198.51.100.1"), "path.mtu_ok", "info"),
        (observed(1500, 0), "path.mtu_untested", "info"),
    ],
    ids=[
        "ethernet-all-pass",
        "loopback-all-pass",
        "jumbo-all-pass",
        "ethernet-blackhole",
        "loopback-blackhole",
        "frag-needed",
        "echo-blocked",
    ],
)
def test_path_mtu_verdicts(observation: MtuObservation, code: str, severity: str) -> None:
    [found] = diagnose_path_mtu("192.0.2.7", observation)
    assert (found.code, found.severity.value) == (code, severity)


def test_a_stalled_handshake_makes_the_black_hole_critical_and_only_then() -> None:
    [stalled] = diagnose_mtu("x", observed(1500, 1400), is_stalled=True)
    assert stalled.severity.value == "crit"
    assert diagnose_mtu("x", observed(1500, 1500), is_stalled=True) == []
    assert diagnose_mtu("x", observed(65536, IPV4_MAX_PACKET), is_stalled=True) == []


def test_the_measured_size_joins_the_black_hole_the_experiments_found() -> None:
    """One verdict, not two of the same code: the probe's size goes into the experiments'
    finding as evidence; without one of theirs, the probe's finding is added as it is."""
    found = finding("path.mtu_blackhole", "lost on the way back", ["symptom: silent"])
    opened = finding("tcp.open", "open")
    measured = diagnose_mtu("x", observed(1500, 1400), is_stalled=True)
    joined = with_measured([opened, found], measured)
    assert [f.code for f in joined] == ["tcp.open", "path.mtu_blackhole"]
    assert joined[1].summary == "lost on the way back"
    assert joined[1].evidence[0] == "symptom: silent"
    assert joined[1].evidence[1].startswith("measured (--trace): packets over 1400 bytes vanish")
    assert joined[1].evidence[2:] == measured[0].evidence
    # No black hole of the experiments: the probe's own; no black hole measured: as it was.
    assert with_measured([opened], measured) == [opened, *measured]
    assert with_measured([opened, found], []) == [opened, found]
