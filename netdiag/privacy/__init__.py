"""Nothing private leaves the gateway: the `Secret` type and how secrets are read
(`secret`), every form a run's secrets and proxy credentials can take and the audit of
every output against them (`audit`), the replacement of internal names and addresses in a
redacted bundle (`redaction`), and the log of netdiag's own flows that decides which
captured packets are ours (`own_flows`).

May import `netdiag.errors` and the standard library only: every other stage uses these.
"""
