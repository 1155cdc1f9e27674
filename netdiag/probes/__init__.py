"""Probes do network I/O and nothing else: each returns an observation for every outcome."""
