"""The few exceptions netdiag raises on purpose.

Each carries a one-line message that names what went wrong and never a secret: the CLI
prints it on stderr and exits with `exit_code`.
"""

from __future__ import annotations


class NetdiagError(Exception):
    """An expected failure that ends the run with one line on stderr, in English (the
    message) and German (`de`), side by side where it is raised."""

    # Nagios UNKNOWN: the check could not run (report.Status.UNKNOWN).
    exit_code: int = 3

    def __init__(self, message: str, *, de: str | None = None) -> None:
        super().__init__(message)
        self.german = de

    def text(self, lang: str) -> str:
        """The line in the language asked for (English where no German was given)."""
        return self.german if lang == "de" and self.german else str(self)


class UsageError(NetdiagError):
    """Bad arguments or option values."""


class ProfileError(NetdiagError):
    """A profile file that cannot be read or does not follow the format."""


class CertificateError(NetdiagError):
    """A client certificate, key or PKCS#12 bundle that cannot be used."""


class DeadlineExpired(NetdiagError):
    """The run's deadline passed before a step could start."""


def describe_error(error: BaseException) -> str:
    """An unexpected exception as one line: its class and message, cut short. Messages of
    the exceptions our probes can meet name addresses and reasons, never a secret (the
    password is sent as bytes, never encoded or decoded where a codec could quote it)."""
    return f"{type(error).__name__}: {error}"[:300]
