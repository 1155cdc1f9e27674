"""What every check needs once its network round is over, prepared while the round waits
on the network: the modules that judge and render (imported then, not at start-up, and
not after the last answer) and the product catalogue's patterns. A daemon thread; what it
cannot do is left for the step that needs it, which then says what fails."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from functools import partial

# Imported by the diagnosis and the renderers after the round (the probes import the rest).
AFTER_THE_ROUND = (
    "service_identity.cryptography",
    "netdiag.diagnosis.causes",
    "netdiag.report.messages",
    "netdiag.renderers",
    "netdiag.renderers.summary",
    "netdiag.renderers.text",
)


def _prepare(modules: tuple[str, ...]) -> None:
    from netdiag.trust.products import catalogue

    # The catalogue last: the trust stores' thread (netdiag.session.stores) needs it first.
    steps: list[Callable[[], object]] = [partial(importlib.import_module, n) for n in modules]
    steps.append(catalogue)
    for step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001, S112 - the step that needs it reports it
            continue


def start_warm_up(modules: tuple[str, ...] = AFTER_THE_ROUND) -> threading.Thread:
    """Begin preparing `modules` (and the product catalogue) beside the caller."""
    thread = threading.Thread(target=_prepare, args=(modules,), daemon=True, name="warm-up")
    thread.start()
    return thread
