"""One run: from the command line's values to a finished report.

`setup` turns the options into a checked configuration (profile, credentials, pins);
`runs` is the entry point of every command (`run_session`, `run_trace`, `run_mtu`, the
machine's environment for a bundle); `check` runs the rounds of a check under one deadline;
`endpoint` is one endpoint's state machine (reach every address, converse on the open
one, one retry, done); `resolution` asks every resolver; `scheduler` runs tasks
concurrently under the deadline; `traces` traces the blocked endpoints; `host` checks the
gateway itself.

May import every stage below it (settings, probes, trust, diagnosis, report, privacy);
never the command line or the renderers.
"""
