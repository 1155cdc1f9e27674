"""One monotonic deadline for a whole run; every step gets min(its timeout, time left)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from netdiag.errors import DeadlineExpired

# Below this a step cannot do anything useful (a TCP handshake on loopback takes ~0.1 ms,
# but a socket timeout of a few microseconds only produces noise).
MIN_STEP_S = 0.01


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point in `time.monotonic()` time after which no new step starts."""

    expires_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    @property
    def is_expired(self) -> bool:
        return self.remaining() < MIN_STEP_S

    def step(self, timeout: float) -> float:
        """The timeout for the next step: its own, cut to what is left of the run."""
        left = self.remaining()
        if left < MIN_STEP_S:
            raise DeadlineExpired(
                "the run's deadline passed before this step could start",
                de="die Frist des Laufs war abgelaufen, bevor dieser Schritt beginnen konnte",
            )
        return min(timeout, left)
