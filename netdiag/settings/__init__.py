"""What to check, as data: profiles and targets (`targets`, the built-in profile in
`netdiag/data/profiles`), the vendor's host requirements (`host_requirements`), the
frozen configuration of a run (`config`) and the defaults the command line shows
(`defaults`). No I/O beyond reading the profile files.

May import `netdiag.errors` and, for types, the report's observations and the trust
context; nothing that probes, diagnoses or renders.
"""
