"""Run probe tasks concurrently on daemon threads, bounded in number and in time.

Daemon threads rather than a ThreadPoolExecutor: a probe stuck in a blocking call until its
own timeout must not hold up the end of the run after Ctrl-C or the deadline.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from netdiag.probes.deadline import Deadline

# How often the waiting main thread wakes up: short enough for Ctrl-C to feel immediate.
_POLL_S = 0.1

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    results: tuple[T | None, ...]
    was_interrupted: bool


def run_all(
    tasks: Sequence[Callable[[], T]],
    *,
    limit: int,
    deadline: Deadline,
    on_done: Callable[[int, int], None] | None = None,
) -> Outcome[T]:
    """Run `tasks` with at most `limit` at a time until all finish or `deadline` passes.

    A task that has not finished in time, or when Ctrl-C is pressed, yields None.
    """
    results: list[T | None] = [None] * len(tasks)
    if not tasks:
        return Outcome((), False)
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(tasks)):
        pending.put(index)
    finished: queue.SimpleQueue[tuple[int, T | None, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                index = pending.get_nowait()
            except queue.Empty:
                return
            try:
                finished.put((index, tasks[index](), None))
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                finished.put((index, None, error))

    done = 0
    try:
        # Ctrl-C may come while the workers are still being started (the first one is
        # already connecting): that, too, ends the run with what was gathered.
        for n in range(min(limit, len(tasks))):
            threading.Thread(target=worker, name=f"netdiag-probe-{n}", daemon=True).start()
        while done < len(tasks) and not deadline.is_expired:
            try:
                index, result, error = finished.get(timeout=min(_POLL_S, deadline.remaining()))
            except queue.Empty:
                continue
            if error is not None:
                stop.set()
                raise error
            results[index] = result
            done += 1
            if on_done is not None:
                on_done(done, len(tasks))
    except KeyboardInterrupt:
        stop.set()
        return Outcome(tuple(results), True)
    stop.set()
    return Outcome(tuple(results), False)
