"""How the traces of a run go (in a module of its own: a run that traces nothing imports
none of the trace machinery)."""

from __future__ import annotations

from dataclasses import dataclass

from netdiag.settings.defaults import MAX_HOPS, PROBES_PER_HOP


@dataclass(frozen=True, slots=True)
class TraceSettings:
    timeout_s: float = 3.0
    max_hops: int = MAX_HOPS
    probes_per_hop: int = PROBES_PER_HOP
