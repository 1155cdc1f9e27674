"""The command line's options, each declared once: groups of options as frozen dataclasses
whose fields are typer options, and `with_groups`, which lets a command take a group as one
parameter while typer sees one option per field."""

# No `from __future__ import annotations` in the command line: typer reads every
# command's annotations at start-up, and as strings each would be compiled first.

import dataclasses
import functools
import inspect
import math
import typing
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from netdiag.settings.defaults import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S

DEFAULT_CAPTURE_DIR = Path("captures")


def seconds(low: float, high: float) -> Callable[[str], float]:
    """A parser of a number of seconds from `low` to `high` (typer's public `parser=`): one
    message for every wrong value — a word, `nan`, `inf` or out of range — that says what
    is wanted, rather than a range check that `nan` fails in the wrong words."""

    def parse(text: str | float) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high:
            raise typer.BadParameter(
                f"{text!r} is not a number of seconds from {low:g} to {high:g}."
            )
        return value

    return parse


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CHECKMK = "checkmk"
    HTML = "html"


ProfileOption = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        metavar="FILE",
        help="Profile TOML file (default: the built-in connectMT profile).",
    ),
]
OnlyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--only",
        metavar="TEXT",
        help="Keep endpoints whose host contains TEXT, or whose port or service is TEXT "
        "(repeatable: one kind ORs its values, different kinds AND).",
    ),
]
PinsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--pins",
        metavar="FILE",
        help="Pin file (repeatable); default: certs/pins.toml next to the profile, in the "
        "current folder, and in the user's configuration folder.",
    ),
]
CertPasswordFileOption = Annotated[
    Path | None,
    typer.Option(
        "--cert-password-file",
        metavar="FILE",
        help="File holding the password of --cert (else NETDIAG_CERT_PASSWORD, else a prompt).",
    ),
]
BundlePasswordFileOption = Annotated[
    Path | None,
    typer.Option(
        "--cert-password-file",
        metavar="FILE",
        help="File holding the password of FILE when it is a PKCS#12 client bundle or an "
        "encrypted key (else NETDIAG_CERT_PASSWORD).",
    ),
]
CaptureOption = Annotated[
    bool, typer.Option("--capture", help="Write the run's packets to a pcap file (root).")
]
CaptureDirOption = Annotated[
    Path, typer.Option("--capture-dir", metavar="DIR", help="Folder for --capture's pcap files.")
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """Which endpoints, and how to reach them: shared by every command that runs a check."""

    profile: ProfileOption = None
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            metavar="HOST:PORT/SERVICE",
            help="HOST:PORT/SERVICE to check instead of the profile (repeatable).",
        ),
    ] = None
    only: OnlyOption = None
    resolver: Annotated[
        list[str] | None,
        typer.Option(
            "--resolver",
            metavar="IP[:PORT]",
            help="Also ask this DNS server, IP[:PORT] (repeatable).",
        ),
    ] = None
    no_system_resolver: Annotated[
        bool,
        typer.Option(
            "--no-system-resolver", help="Ask only the --resolver servers, not the system's."
        ),
    ] = False
    expect_network: Annotated[
        list[str] | None,
        typer.Option(
            "--expect-network",
            metavar="CIDR",
            help="A private network that is an expected answer (repeatable).",
        ),
    ] = None
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Seconds for each network step (0.05 to 300).",
            parser=seconds(0.05, 300),
        ),
    ] = DEFAULT_TIMEOUT_S


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Checking:
    """What shapes every check's round and verdicts: its deadline, the servers' CA
    certificates, the client certificate's warning period."""

    deadline: Annotated[
        float,
        typer.Option(
            "--deadline",
            metavar="SECONDS",
            help="Seconds for a whole round (0.1 to 3600).",
            parser=seconds(0.1, 3600),
        ),
    ] = DEFAULT_DEADLINE_S
    ca: Annotated[
        list[Path] | None,
        typer.Option(
            "--ca",
            metavar="FILE",
            help="CA certificates (PEM or DER) that issue the vendor's server certificates: "
            "a chain that verifies against them is proven (repeatable).",
        ),
    ] = None
    cert_warn_days: Annotated[
        int,
        typer.Option(
            "--cert-warn-days",
            metavar="DAYS",
            help="Warn when the certificate expires within N days.",
            min=0,
        ),
    ] = 30


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rounds:
    """More than one round: what only a check that reports (check, bundle) repeats."""

    repeat: Annotated[
        int,
        typer.Option(
            "--repeat",
            metavar="N",
            help="Probe N times and report endpoints that flap.",
            min=1,
            max=100,
        ),
    ] = 1
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            metavar="SECONDS",
            help="Seconds between rounds of --repeat (0 to 3600).",
            parser=seconds(0, 3600),
        ),
    ] = 1.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Dialogue:
    """How far the protocols go beyond the handshake: the banner's patience, a POP3 login."""

    slow_banner: Annotated[
        float,
        typer.Option(
            "--slow-banner",
            metavar="SECONDS",
            help="Seconds after which an SMTP banner is slow (0 to 3600).",
            parser=seconds(0, 3600),
        ),
    ] = 3.0
    pop3_user: Annotated[
        str | None,
        typer.Option("--pop3-user", metavar="USER", help="Mailbox user for a POP3 login probe."),
    ] = None
    pop3_password_file: Annotated[
        Path | None,
        typer.Option(
            "--pop3-password-file",
            metavar="FILE",
            help="File holding the mailbox password (else NETDIAG_POP3_PASSWORD, else a prompt).",
        ),
    ] = None
    probe_login: Annotated[
        bool,
        typer.Option(
            "--probe-login", help="Try a POP3 login with a made-up user (may alert the operator)."
        ),
    ] = False


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClientCertificate:
    """The vendor's client certificate."""

    cert: Annotated[
        Path | None,
        typer.Option(
            "--cert",
            metavar="FILE",
            help="Client certificate: PEM (with key, or --key) or PKCS#12.",
        ),
    ] = None
    key: Annotated[
        Path | None, typer.Option("--key", metavar="FILE", help="PEM private key for --cert.")
    ] = None
    cert_password_file: CertPasswordFileOption = None


TrustStoreOption = Annotated[
    Path | None,
    typer.Option(
        "--trust-store",
        metavar="FILE",
        help="PEM bundle to use as this machine's trust store (default: the system's).",
    ),
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Trust:
    """What the presented chains are compared with."""

    pins: PinsOption = None
    trust_store: TrustStoreOption = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Tracing:
    """Where blocked endpoints are blocked, and a capture of netdiag's own packets."""

    trace: Annotated[
        bool, typer.Option("--trace", help="Trace where blocked endpoints are blocked (root).")
    ] = False
    capture: CaptureOption = False
    capture_dir: CaptureDirOption = DEFAULT_CAPTURE_DIR

    @property
    def capture_to(self) -> Path | None:
        return self.capture_dir if self.capture else None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HostPaths:
    """Where JiveX keeps its data, archive and backups (for the host checks)."""

    profile: ProfileOption = None
    data_drive: Annotated[
        str | None,
        typer.Option(
            "--data-drive",
            metavar="PATH",
            help="JiveX's data drive (default from the profile: D:\\).",
        ),
    ] = None
    archive_drive: Annotated[
        str | None,
        typer.Option(
            "--archive-drive", metavar="PATH", help="JiveX's archive drive (default: E:\\)."
        ),
    ] = None
    backup_dir: Annotated[
        str | None,
        typer.Option(
            "--backup-dir",
            metavar="PATH",
            help="The nightly backups' folder (default: E:\\backup).",
        ),
    ] = None


# The language of a command that writes one answer (trace, mtu, host, diff, verify).
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang", metavar="de|en", help="Language of the output: de or en (default: the locale)."
    ),
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BundleText:
    """The language people read, and how the support bundle is written."""

    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="de|en",
            help="Language of the output and report.txt: de or en (default: the system's locale).",
        ),
    ] = None
    redact: Annotated[
        bool,
        typer.Option("--redact", help="Replace internal addresses and host names in the bundle."),
    ] = False
    firewall: Annotated[
        str | None,
        typer.Option(
            "--firewall",
            metavar="PRODUCT",
            help="Show the fix as configuration for this firewall (`netdiag firewalls` lists "
            "them; default: the product the evidence names).",
        ),
    ] = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """The format of what goes to stdout."""

    json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format", metavar="table|json|checkmk|html", help="table, json, checkmk or html."
        ),
    ] = OutputFormat.TABLE

    @property
    def chosen(self) -> OutputFormat:
        return OutputFormat.JSON if self.json_output else self.output_format


GROUPS = (
    Endpoints,
    Checking,
    Rounds,
    Dialogue,
    ClientCertificate,
    Trust,
    Tracing,
    HostPaths,
    BundleText,
    Output,
)
F = TypeVar("F", bound=Callable[..., Any])


def with_groups(command: F) -> F:
    """`command` as typer sees it: every parameter annotated with a group is replaced by
    the group's options; the call gets the group rebuilt from them. An option two groups
    share (`--profile`) is one option, handed to both."""
    hints = typing.get_type_hints(command, include_extras=True)
    parameters: dict[str, inspect.Parameter] = {}
    grouped: dict[str, tuple[type[Any], tuple[str, ...]]] = {}
    for name, parameter in inspect.signature(command).parameters.items():
        hint = hints.get(name, parameter.annotation)
        if hint not in GROUPS:
            parameters[name] = parameter.replace(annotation=hint)
            continue
        field_hints = typing.get_type_hints(hint, include_extras=True)
        names = tuple(f.name for f in dataclasses.fields(hint))
        for field in dataclasses.fields(hint):
            parameters.setdefault(
                field.name,
                inspect.Parameter(
                    field.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=field_hints[field.name],
                    default=field.default,
                ),
            )
        grouped[name] = (hint, names)

    plain = tuple(name for name in inspect.signature(command).parameters if name not in grouped)

    @functools.wraps(command)
    def call(**values: Any) -> Any:
        arguments = {name: values[name] for name in plain if name in values}
        for name, (group, names) in grouped.items():
            arguments[name] = group(**{n: values[n] for n in names})
        return command(**arguments)

    # Keyword-only, in the order written: typer calls with keywords, and shows them so.
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters.values()]
    )
    call.__annotations__ = {p.name: p.annotation for p in parameters.values()}
    del call.__wrapped__
    return typing.cast(F, call)
