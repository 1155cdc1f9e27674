"""The report model, what the stages hand each other: the frozen observations the probes
make (`observations`), findings, endpoint results, causes, notes and the report
(`model`), and every sentence for people in English and German side by side (`messages`).

May import the settings' targets (what an endpoint is) and nothing that probes, diagnoses
or renders.
"""
