"""Probes do I/O and nothing else — the network (DNS, TCP, SMTP, POP3S, TLS, traces, path
MTU, capture) and the machine (its trust store, Windows' registry and PowerShell, the
environment for a ticket): each returns an observation for every outcome and raises only
for a bug or bad usage. Every step is bounded by the run's deadline (`deadline`).

May import the report's observations, the privacy helpers (secrets, own flows), the trust
helpers that parse what was read, and the settings; never diagnosis, the session, the
renderers or the command line.
"""
