"""Path MTU rule: a stalled handshake on a path that drops large packets silently."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from netdiag.diagnosis.catalogue import finding
from netdiag.report.model import Finding, Severity
from netdiag.report.trace_observations import MtuObservation


def mtu_lines(mtu: MtuObservation) -> list[str]:
    lines = [f"interface MTU {mtu.interface_mtu}, largest packet through {mtu.largest_passing}"]
    lines += [f"  {size:>5} bytes, DF: {outcome}" for size, outcome in mtu.probes]
    if mtu.frag_needed_from:
        lines.append(
            f"ICMP fragmentation-needed from {mtu.frag_needed_from} "
            f"(next-hop MTU {mtu.frag_needed_mtu})"
        )
    return lines


def diagnose_path_mtu(label: str, mtu: MtuObservation) -> list[Finding]:
    """`netdiag mtu` on its own: a black hole is a warning (nothing stalled is known);
    otherwise say what was measured, or that nothing could be."""
    if mtu.largest_passing == 0:
        summary = f"{label}: no echo reply at any size from {mtu.destination}"
        return [finding("path.mtu_untested", summary, mtu_lines(mtu))]
    blackhole = diagnose_mtu(label, mtu, is_stalled=False)
    if blackhole:
        return blackhole
    summary = f"{label}: packets up to {mtu.largest_passing} bytes pass to {mtu.destination}"
    if mtu.frag_needed_from:
        summary += f"; {mtu.frag_needed_from} says the next hop takes {mtu.frag_needed_mtu}"
    return [finding("path.mtu_ok", summary, mtu_lines(mtu))]


def diagnose_mtu(label: str, mtu: MtuObservation, is_stalled: bool) -> list[Finding]:
    """`path.mtu_blackhole` when large packets vanish without ICMP fragmentation-needed;
    critical when it explains a stalled handshake, a warning otherwise."""
    if mtu.error or mtu.largest_passing == 0:
        return []  # ICMP echo itself is blocked: nothing to conclude
    if mtu.frag_needed_from:
        return []
    # Only a size that was sent and vanished makes a black hole: a path whose largest probe
    # came back (the interface's MTU, or the largest packet IPv4 can carry) has none.
    largest_probed = max((size for size, _ in mtu.probes), default=mtu.interface_mtu)
    if mtu.largest_passing >= largest_probed or mtu.smallest_failing == 0:
        return []
    summary = (
        f"{label}: packets over {mtu.largest_passing} bytes vanish on the way to "
        f"{mtu.destination} (interface MTU {mtu.interface_mtu}) and no ICMP "
        "fragmentation-needed comes back"
    )
    severity = None if is_stalled else Severity.WARN
    evidence = mtu_lines(mtu)
    if is_stalled:
        evidence.append("the TLS handshake stalls: the server's large certificate packets are lost")
    return [finding("path.mtu_blackhole", summary, evidence, severity=severity)]


def with_measured(findings: Sequence[Finding], measured: Sequence[Finding]) -> list[Finding]:
    """`findings` with the MTU probe's verdict: where the experiments found the black hole
    already, the size the probe measured joins that finding as evidence (one verdict, not
    two of the same code); else the probe's findings are added."""
    ours = next((f for f in findings if f.code == "path.mtu_blackhole"), None)
    said = next((f for f in measured if f.code == "path.mtu_blackhole"), None)
    if ours is None or said is None:
        return [*findings, *measured]
    lines = (f"measured (--trace): {said.summary.split(': ', 1)[-1]}", *said.evidence)
    joined = dataclasses.replace(ours, evidence=(*ours.evidence, *lines))
    rest = [f for f in measured if f is not said]
    return [joined if f is ours else f for f in findings] + rest
