"""`python -m netdiag`."""

from netdiag.cli import entry_point

raise SystemExit(entry_point())
