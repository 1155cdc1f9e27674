"""Defaults the command line shows in its help and the run uses: in a module of their own
so that `netdiag --help` imports nothing else."""

from __future__ import annotations

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_DEADLINE_S = 60.0
# A trace: how far (hops), how many probes per hop.
MAX_HOPS = 20
PROBES_PER_HOP = 2
