"""The command line: parse options, build a configuration, call the library, render, exit."""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netdiag import __version__
from netdiag.config import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S
from netdiag.console import Console
from netdiag.errors import NetdiagError, UsageError
from netdiag.report import Status

if TYPE_CHECKING:
    from netdiag.config import CheckConfig
    from netdiag.hostreq import HostRequirements
    from netdiag.report import Report

app = typer.Typer(
    name="netdiag",
    help="Why can't this DICOM-Mail gateway reach its vendor's servers, and where is it broken?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CHECKMK = "checkmk"
    HTML = "html"


ResolverOption = Annotated[
    list[str] | None,
    typer.Option("--resolver", help="Also ask this DNS server, IP[:PORT] (repeatable)."),
]
NoSystemResolverOption = Annotated[
    bool,
    typer.Option("--no-system-resolver", help="Ask only the --resolver servers, not the system's."),
]
ExpectNetworkOption = Annotated[
    list[str] | None,
    typer.Option(
        "--expect-network", help="A private network that is an expected answer (repeatable)."
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds for each network step.", min=0.05, max=300)
]
CertOption = Annotated[
    Path | None,
    typer.Option("--cert", help="Client certificate: PEM (with key, or --key) or PKCS#12."),
]
KeyOption = Annotated[Path | None, typer.Option("--key", help="PEM private key for --cert.")]
CertPasswordFileOption = Annotated[
    Path | None,
    typer.Option(
        "--cert-password-file",
        help="File holding the password of --cert (else NETDIAG_CERT_PASSWORD, else a prompt).",
    ),
]
DEFAULT_CAPTURE_DIR = Path("captures")
LangOption = Annotated[
    str | None,
    typer.Option("--lang", help="Language of report.txt: de or en (default: the system's locale)."),
]
RedactOption = Annotated[
    bool,
    typer.Option("--redact", help="Replace internal addresses and host names in the bundle."),
]
CaptureOption = Annotated[
    bool, typer.Option("--capture", help="Write the run's packets to a pcap file (root).")
]
CaptureDirOption = Annotated[
    Path, typer.Option("--capture-dir", help="Folder for --capture's pcap files.")
]
PinsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--pins",
        help="Pin file (repeatable); default: certs/pins.toml next to the profile, in the "
        "current folder, and in the user's configuration folder.",
    ),
]
TrustStoreOption = Annotated[
    Path | None,
    typer.Option(
        "--trust-store",
        help="PEM bundle to use as this machine's trust store (default: the system's).",
    ),
]

DataDriveOption = Annotated[
    str | None,
    typer.Option("--data-drive", help="JiveX's data drive (default from the profile: D:\\)."),
]
ArchiveDriveOption = Annotated[
    str | None,
    typer.Option("--archive-drive", help="JiveX's archive drive (default: E:\\)."),
]
BackupDirOption = Annotated[
    str | None,
    typer.Option("--backup-dir", help="The nightly backups' folder (default: E:\\backup)."),
]


def _host_requirements(
    profile: Path | None, data_drive: str | None, archive_drive: str | None, backup_dir: str | None
) -> tuple[HostRequirements, str]:
    """The profile's `[host]` requirements with the paths given on the command line."""
    from netdiag.targets import load_profile

    loaded = load_profile(profile)
    return loaded.host.with_paths(data_drive, archive_drive, backup_dir), loaded.name


def _console(ctx: typer.Context) -> Console:
    return ctx.obj if isinstance(ctx.obj, Console) else Console.system()


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        _console(ctx).out(f"netdiag {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """netdiag diagnoses the gateway's connections to the vendor's servers."""


ProfileOption = Annotated[
    Path | None,
    typer.Option("--profile", help="Profile TOML file (default: the built-in connectMT profile)."),
]
TargetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target", help="HOST:PORT/SERVICE to check instead of the profile (repeatable)."
    ),
]
OnlyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--only", help="Keep endpoints whose host contains this, or with this port or service."
    ),
]


@app.command()
def check(
    ctx: typer.Context,
    profile: ProfileOption = None,
    target: TargetOption = None,
    only: OnlyOption = None,
    resolver: ResolverOption = None,
    no_system_resolver: NoSystemResolverOption = False,
    expect_network: ExpectNetworkOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    deadline: Annotated[
        float, typer.Option("--deadline", help="Seconds for a whole round.", min=0.1, max=3600)
    ] = DEFAULT_DEADLINE_S,
    repeat: Annotated[
        int,
        typer.Option(
            "--repeat", help="Probe N times and report endpoints that flap.", min=1, max=100
        ),
    ] = 1,
    interval: Annotated[
        float,
        typer.Option("--interval", help="Seconds between rounds of --repeat.", min=0, max=3600),
    ] = 1.0,
    cert: CertOption = None,
    key: KeyOption = None,
    cert_password_file: CertPasswordFileOption = None,
    ca: Annotated[
        list[Path] | None,
        typer.Option("--ca", help="CA certificates (PEM) to verify the servers with (repeatable)."),
    ] = None,
    cert_warn_days: Annotated[
        int,
        typer.Option(
            "--cert-warn-days", help="Warn when the certificate expires within N days.", min=0
        ),
    ] = 30,
    slow_banner: Annotated[
        float,
        typer.Option("--slow-banner", help="Seconds after which an SMTP banner is slow.", min=0),
    ] = 3.0,
    pop3_user: Annotated[
        str | None, typer.Option("--pop3-user", help="Mailbox user for a POP3 login probe.")
    ] = None,
    pop3_password_file: Annotated[
        Path | None,
        typer.Option(
            "--pop3-password-file",
            help="File holding the mailbox password (else NETDIAG_POP3_PASSWORD, else a prompt).",
        ),
    ] = None,
    probe_login: Annotated[
        bool,
        typer.Option(
            "--probe-login", help="Try a POP3 login with a made-up user (may alert the operator)."
        ),
    ] = False,
    pins: PinsOption = None,
    trust_store: TrustStoreOption = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Trace where blocked endpoints are blocked (root).")
    ] = False,
    capture: CaptureOption = False,
    capture_dir: CaptureDirOption = DEFAULT_CAPTURE_DIR,
    host: Annotated[
        bool,
        typer.Option("--host", help="Also check the gateway against the system requirements."),
    ] = False,
    data_drive: DataDriveOption = None,
    archive_drive: ArchiveDriveOption = None,
    backup_dir: BackupDirOption = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Also write a support bundle (zip) to this file."),
    ] = None,
    lang: LangOption = None,
    redact: RedactOption = False,
    json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, json, checkmk or html.")
    ] = OutputFormat.TABLE,
) -> None:
    """Resolve and connect to every endpoint and say what is wrong."""
    from netdiag.options import Credentials, build_check_config
    from netdiag.renderers import render

    console = _console(ctx)
    _check_lang(lang)
    config = build_check_config(
        profile_path=profile,
        targets=target or [],
        only=only or [],
        resolvers=resolver or [],
        uses_system_resolver=not no_system_resolver,
        expected_networks=expect_network or [],
        timeout_s=timeout,
        deadline_s=deadline,
        repeat=repeat,
        interval_s=interval,
        credentials=Credentials(
            cert=cert,
            key=key,
            cert_password_file=cert_password_file,
            ca_files=tuple(ca or ()),
            pop3_user=pop3_user,
            pop3_password_file=pop3_password_file,
            probe_login=probe_login,
        ),
        cert_warn_days=cert_warn_days,
        slow_banner_s=slow_banner,
        pin_files=pins,
        trust_store=trust_store,
    )
    from netdiag.session import SessionOptions, run_session

    requirements = None
    if host or bundle is not None:
        requirements, _ = _host_requirements(profile, data_drive, archive_drive, backup_dir)
    options = SessionOptions(
        trace=trace, capture_dir=capture_dir if capture else None, host=requirements
    )
    report = run_session(config, options, console)
    rendered = render(report, OutputFormat.JSON if json_output else output_format)
    # A peer may quote a secret back (a server echoing the password): never on the console.
    console.out(config.known_secrets.scrub(rendered))
    if bundle is not None:
        written = _write_bundle(report, bundle, lang, redact, config)
        # stderr: stdout stays the report in the format asked for
        console.note(f"support bundle written to {written}")
    raise typer.Exit(int(report.status))


def _check_lang(lang: str | None) -> None:
    """Validated before the run, so that a typo does not cost the whole check."""
    if lang not in (None, "de", "en"):
        raise UsageError(f"--lang {lang!r}: de or en")


def _write_bundle(
    report: Report, out: Path, lang: str | None, redact: bool, config: CheckConfig
) -> Path:
    from netdiag.bundle import server_date, write_bundle
    from netdiag.environment import collect_environment
    from netdiag.renderers.text import default_language

    environment = collect_environment(server_date(report))
    return write_bundle(
        report,
        environment,
        out,
        lang=lang or default_language(),
        redact=redact,
        secrets=config.known_secrets,
    )


@app.command()
def targets(
    ctx: typer.Context,
    profile: ProfileOption = None,
    only: OnlyOption = None,
) -> None:
    """Print the endpoints of the profile."""
    from tabulate import tabulate

    from netdiag.targets import load_profile, select_targets

    loaded = load_profile(profile)
    rows = [
        [t.host, t.port, t.service.value, t.group]
        for t in select_targets(loaded.targets, only or [])
    ]
    console = _console(ctx)
    console.out(f"profile: {loaded.name} ({loaded.source})")
    console.out(tabulate(rows, headers=["host", "port", "service", "group"]))


pins_app = typer.Typer(
    help="Pinned vendor issuers: show, learn, import, verify.", no_args_is_help=True
)
app.add_typer(pins_app, name="pins")

PinsOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Pin file to write (default: pins.toml in the user's configuration folder)."
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", help="Write without asking.")]
AppliesToOption = Annotated[
    list[str] | None,
    typer.Option(
        "--applies-to",
        help="Target group, host or HOST:PORT the pins cover (repeatable; default all).",
    ),
]


def _pin_file(out: Path | None) -> Path:
    from netdiag.pins import PIN_FILE, config_dir

    return out if out is not None else config_dir() / PIN_FILE


def _pins_table(pin_set: object, targets: tuple[object, ...]) -> str:
    from tabulate import tabulate

    from netdiag.pins import PinSet
    from netdiag.targets import Target

    assert isinstance(pin_set, PinSet)
    rows = []
    for pin in pin_set.pins:
        covered = [t.label for t in targets if isinstance(t, Target) and pin.covers(t)]
        rows.append(
            [
                pin.subject,
                pin.role,
                pin.spki_sha256[:16] + "…",
                ", ".join(pin.applies_to),
                f"{len(covered)} endpoints",
                pin.source,
                pin.added,
            ]
        )
    return tabulate(
        rows, headers=["subject", "role", "SPKI SHA-256", "applies to", "covers", "source", "added"]
    )


def _write_pins(console: Console, learned: object, out: Path | None, yes: bool) -> None:
    from netdiag.pins import PinSet, load_pins, save_pins

    assert isinstance(learned, PinSet)
    path = _pin_file(out)
    existing = load_pins([path]) if path.is_file() else PinSet()
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"not writing {len(learned.pins)} pins to {path} without confirmation: add --yes"
            )
        if input(f"Write {len(learned.pins)} pins to {path}? [y/N] ").strip().lower() not in (
            "y",
            "yes",
            "j",
            "ja",
        ):
            console.out("nothing written")
            return
    save_pins(path, existing.merged(learned))
    console.out(f"wrote {len(learned.pins)} pins to {path}")


@pins_app.command("show")
def pins_show(ctx: typer.Context, pins: PinsOption = None, profile: ProfileOption = None) -> None:
    """The pins in use and how many endpoints of the profile each covers."""
    from netdiag.pins import default_pin_files, load_pins
    from netdiag.targets import load_profile

    console = _console(ctx)
    files = pins or default_pin_files(profile)
    pin_set = load_pins(files)
    if not pin_set.pins:
        console.out(
            "no pins (files looked at: " + (", ".join(map(str, files)) or "none found") + ")"
        )
        raise typer.Exit(int(Status.WARN))
    console.out(f"pin files: {', '.join(pin_set.sources)}")
    console.out(_pins_table(pin_set, load_profile(profile).targets))
    for record in pin_set.records:
        console.out(
            f"endpoint {record.endpoint}: client certificate requested: "
            f"{'yes' if record.was_client_cert_requested else 'no'}, "
            f"fingerprint {record.fingerprint}"
        )


@pins_app.command("import")
def pins_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The vendor's PKCS#12 client bundle, or a PEM/DER CA file.")
    ],
    cert_password_file: CertPasswordFileOption = None,
    applies_to: AppliesToOption = None,
    out: PinsOutOption = None,
    yes: YesOption = False,
) -> None:
    """Pin the CA certificates delivered with the vendor's client bundle."""
    from datetime import UTC, datetime

    from netdiag.options import CERT_PASSWORD_ENV
    from netdiag.pin_sources import import_pins
    from netdiag.secrets import read_secret

    console = _console(ctx)
    password = read_secret(
        file=cert_password_file, env_var=CERT_PASSWORD_ENV, prompt="", may_prompt=False
    )
    imported = import_pins(file, password, applies_to or [], datetime.now(UTC))
    console.out(_pins_table(imported, ()))
    _write_pins(console, imported, out, yes)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Endpoints:
    """The options that pick endpoints and say how to reach them, shared by the commands
    that run a check of their own (pins learn and verify, bundle)."""

    profile: Path | None
    target: list[str] | None
    only: list[str] | None
    resolver: list[str] | None
    no_system_resolver: bool
    expect_network: list[str] | None
    timeout: float
    cert: Path | None
    key: Path | None
    cert_password_file: Path | None

    def config(self, pins: list[Path] | None, trust_store: Path | None = None) -> CheckConfig:
        from netdiag.options import Credentials, build_check_config

        return build_check_config(
            profile_path=self.profile,
            targets=self.target or [],
            only=self.only or [],
            resolvers=self.resolver or [],
            uses_system_resolver=not self.no_system_resolver,
            expected_networks=self.expect_network or [],
            timeout_s=self.timeout,
            deadline_s=max(DEFAULT_DEADLINE_S, 4 * self.timeout),
            repeat=1,
            credentials=Credentials(
                cert=self.cert, key=self.key, cert_password_file=self.cert_password_file
            ),
            pin_files=pins,
            trust_store=trust_store,
        )


@pins_app.command("learn")
def pins_learn(
    ctx: typer.Context,
    profile: ProfileOption = None,
    target: TargetOption = None,
    only: OnlyOption = None,
    resolver: ResolverOption = None,
    no_system_resolver: NoSystemResolverOption = False,
    expect_network: ExpectNetworkOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    cert: CertOption = None,
    key: KeyOption = None,
    cert_password_file: CertPasswordFileOption = None,
    out: PinsOutOption = None,
    yes: YesOption = False,
) -> None:
    """Pin the issuers presented now: run this on a path known to be clean (a mobile
    hotspot outside the hospital), check the table, then confirm."""
    from datetime import UTC, datetime

    from netdiag.pin_sources import learn_pins

    console = _console(ctx)
    endpoints = _Endpoints(
        profile=profile,
        target=target,
        only=only,
        resolver=resolver,
        no_system_resolver=no_system_resolver,
        expect_network=expect_network,
        timeout=timeout,
        cert=cert,
        key=key,
        cert_password_file=cert_password_file,
    )
    from netdiag.run import run_check

    report = run_check(endpoints.config([]), console)
    learned = learn_pins(report, datetime.now(UTC))
    for line in learned.skipped:
        console.warn(line)
    if not learned.pins.pins:
        raise UsageError("no issuer to pin: no endpoint presented a CA certificate")
    console.out(_pins_table(learned.pins, tuple(e.target for e in report.endpoints)))
    _write_pins(console, learned.pins, out, yes)


@pins_app.command("verify")
def pins_verify(
    ctx: typer.Context,
    pins: PinsOption = None,
    profile: ProfileOption = None,
    target: TargetOption = None,
    only: OnlyOption = None,
    resolver: ResolverOption = None,
    no_system_resolver: NoSystemResolverOption = False,
    expect_network: ExpectNetworkOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    cert: CertOption = None,
    key: KeyOption = None,
    cert_password_file: CertPasswordFileOption = None,
) -> None:
    """Check the pins against the chains presented now (exit 0 all pinned, 1 endpoints
    without pins, 2 a chain the pins do not anchor)."""
    from tabulate import tabulate

    from netdiag.pin_sources import verify_pins

    console = _console(ctx)
    endpoints = _Endpoints(
        profile=profile,
        target=target,
        only=only,
        resolver=resolver,
        no_system_resolver=no_system_resolver,
        expect_network=expect_network,
        timeout=timeout,
        cert=cert,
        key=key,
        cert_password_file=cert_password_file,
    )
    from netdiag.run import run_check

    config = endpoints.config(pins)
    report = run_check(config, console)
    verdicts = verify_pins(report, config.pins)
    console.out(
        tabulate(
            [[v.verdict.value, v.endpoint, v.issuer, v.detail] for v in verdicts],
            headers=["verdict", "endpoint", "presented issuer", "detail"],
        )
    )
    from netdiag.report import worst

    raise typer.Exit(int(worst(v.verdict.status for v in verdicts)))


@app.command("trace")
def trace_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="Host name or address to trace to.")],
    port: Annotated[int, typer.Option("--port", help="Destination port.", min=1, max=65535)] = 25,
    control_port: Annotated[
        int | None,
        typer.Option(
            "--control-port",
            help="A port expected open, traced at the same time.",
            min=1,
            max=65535,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds for the whole trace.", min=0.1, max=60)
    ] = 3.0,
    max_hops: Annotated[int, typer.Option("--max-hops", min=1, max=64)] = 20,
    probes: Annotated[int, typer.Option("--probes", help="Probes per hop.", min=1, max=5)] = 2,
    capture: CaptureOption = False,
    capture_dir: CaptureDirOption = DEFAULT_CAPTURE_DIR,
    json_output: Annotated[bool, typer.Option("--json", help="Print the trace as JSON.")] = False,
) -> None:
    """TCP SYN traceroute to the port: which hop drops or rejects it, and how."""
    import contextlib

    from netdiag.blocked_paths import TraceSettings, trace_with_control
    from netdiag.diagnosis.trace import diagnose_trace, hop_lines
    from netdiag.probes.raw import raw_socket_problem
    from netdiag.renderers import render_trace

    console = _console(ctx)
    address = _address_for(host, timeout)
    label = f"{host}:{port}"
    problem = raw_socket_problem()
    if problem:
        _fallback(console, problem, address, port, timeout)
    captures: list[str] = []
    from netdiag.flows import FlowLog

    flows = FlowLog()
    with contextlib.ExitStack() as stack:
        if capture:
            from netdiag.probes.capture import Capture, capture_filter, capture_path

            ports = [port] + ([control_port] if control_port else [])
            running = stack.enter_context(
                Capture(
                    capture_path(capture_dir, f"{host}_{port}"),
                    capture_filter([address], ports),
                    flows,
                )
            )
            captures.append(str(running.path))
        trace, control = trace_with_control(
            address, port, control_port, TraceSettings(timeout, max_hops, probes), flows
        )
    if trace.error:
        _fallback(console, trace.error, address, port, timeout)
    findings = diagnose_trace(label, trace, control)
    console.out(
        render_trace(
            label,
            trace,
            control,
            findings,
            captures,
            hop_lines=hop_lines(trace),
            control_hop_lines=hop_lines(control) if control is not None else (),
            as_json=json_output,
        )
    )
    from netdiag.report import worst

    raise typer.Exit(int(worst(f.severity.status for f in findings)))


def _address_for(host: str, timeout: float) -> str:
    from netdiag.probes.dns import address_for

    return address_for(host, timeout)


def _fallback(console: Console, problem: str, address: str, port: int, timeout: float) -> None:
    """Without raw sockets: say so in one line, and show what connect() can tell."""
    from netdiag.blocked_paths import connect_fallback
    from netdiag.report import worst

    console.error(problem)
    findings = connect_fallback(address, port, timeout)
    for f in findings:
        console.out(f"{f.severity.name} {f.code}: {f.summary}")
    raise typer.Exit(int(worst(f.severity.status for f in findings)))


@app.command("mtu")
def mtu_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="Host name or address.")],
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for answers.", min=0.1, max=60)
    ] = 3.0,
) -> None:
    """Path MTU towards a host: the largest packet that passes with Don't Fragment."""
    from netdiag.diagnosis.mtu import diagnose_mtu, mtu_lines
    from netdiag.probes.mtu import probe_mtu
    from netdiag.report import worst

    console = _console(ctx)
    address = _address_for(host, timeout)
    mtu = probe_mtu(address, timeout=timeout)
    if mtu.error:
        raise UsageError(mtu.error)
    for line in mtu_lines(mtu):
        console.out(line)
    if mtu.largest_passing == 0:
        console.out("no echo reply at any size: ICMP echo is blocked, nothing to conclude")
        raise typer.Exit(int(Status.UNKNOWN))
    if mtu.frag_needed_from:
        console.out(
            f"ICMP fragmentation-needed from {mtu.frag_needed_from} "
            f"(next-hop MTU {mtu.frag_needed_mtu})"
        )
    findings = diagnose_mtu(f"{host}", mtu, is_stalled=False)
    for f in findings:
        console.out(f"{f.severity.name} {f.code}: {f.summary}")
    raise typer.Exit(int(worst(f.severity.status for f in findings)))


@app.command("bundle")
def bundle_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The zip to write (default: netdiag-bundle_<time>.zip)."),
    ] = None,
    profile: ProfileOption = None,
    target: TargetOption = None,
    only: OnlyOption = None,
    resolver: ResolverOption = None,
    no_system_resolver: NoSystemResolverOption = False,
    expect_network: ExpectNetworkOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    cert: CertOption = None,
    key: KeyOption = None,
    cert_password_file: CertPasswordFileOption = None,
    pins: PinsOption = None,
    trust_store: TrustStoreOption = None,
    trace: Annotated[bool, typer.Option("--trace", help="Trace blocked endpoints (root).")] = False,
    capture: CaptureOption = False,
    capture_dir: CaptureDirOption = DEFAULT_CAPTURE_DIR,
    data_drive: DataDriveOption = None,
    archive_drive: ArchiveDriveOption = None,
    backup_dir: BackupDirOption = None,
    lang: LangOption = None,
    redact: RedactOption = False,
) -> None:
    """Run a check and write everything support needs into one zip."""
    from datetime import UTC, datetime

    console = _console(ctx)
    _check_lang(lang)
    endpoints = _Endpoints(
        profile=profile,
        target=target,
        only=only,
        resolver=resolver,
        no_system_resolver=no_system_resolver,
        expect_network=expect_network,
        timeout=timeout,
        cert=cert,
        key=key,
        cert_password_file=cert_password_file,
    )
    config = endpoints.config(pins, trust_store)
    from netdiag.session import SessionOptions, run_session

    requirements, _ = _host_requirements(profile, data_drive, archive_drive, backup_dir)
    options = SessionOptions(
        trace=trace, capture_dir=capture_dir if capture else None, host=requirements
    )
    report = run_session(config, options, console)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    written = _write_bundle(
        report, out or Path(f"netdiag-bundle_{stamp}.zip"), lang, redact, config
    )
    console.out(f"{report.status.name}: support bundle written to {written}")
    raise typer.Exit(int(report.status))


@app.command("host")
def host_command(
    ctx: typer.Context,
    profile: ProfileOption = None,
    data_drive: DataDriveOption = None,
    archive_drive: ArchiveDriveOption = None,
    backup_dir: BackupDirOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, json, checkmk or html.")
    ] = OutputFormat.TABLE,
) -> None:
    """The gateway against the vendor's system requirements: OS, updates, CPU, memory,
    drives, backups, antivirus exclusions, shares, remote maintenance."""
    from netdiag.hostcheck import host_report
    from netdiag.renderers import render

    console = _console(ctx)
    requirements, name = _host_requirements(profile, data_drive, archive_drive, backup_dir)
    report = host_report(requirements, name)
    console.out(render(report, OutputFormat.JSON if json_output else output_format))
    raise typer.Exit(int(report.status))


@app.command("diff")
def diff_command(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(help="The earlier report (netdiag check --json).")],
    new: Annotated[Path, typer.Argument(help="The later report.")],
) -> None:
    """What changed between two saved reports (exit 0: nothing, 1: something)."""
    from netdiag.diff import diff_reports, load_report

    console = _console(ctx)
    changes = diff_reports(load_report(old), load_report(new))
    console.out("\n".join(changes) if changes else "no change")
    raise typer.Exit(1 if changes else 0)


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    """Entry point: every expected error becomes one line on stderr and exit code 3."""
    console = console or Console.system()
    # A server certificate with a non-positive serial is a fact about the peer (RFC 5280
    # forbids it; inspection products and test CAs issue them): no warning on the console.
    warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")
    try:
        code = app(args=argv, prog_name="netdiag", standalone_mode=False, obj=console)
    except typer.TyperException as e:
        context = getattr(e, "ctx", None)
        # By name, as typer itself tells it: the class lives in the click that typer uses,
        # which need not be the `click` package.
        if type(e).__name__ == "NoArgsIsHelpError" and context is not None:
            console.out(context.get_help())
        else:
            console.error(e.format_message())
        return int(Status.UNKNOWN)
    except (typer.Abort, KeyboardInterrupt):
        console.error("interrupted")
        return int(Status.UNKNOWN)
    except NetdiagError as e:
        console.error(str(e))
        return int(e.exit_code)
    except Exception as e:  # noqa: BLE001 - a bug: one line, the traceback only on request
        if os.environ.get("NETDIAG_DEBUG"):
            from netdiag.secrets import scrub

            # A traceback may quote a value; never one of the run's secrets.
            sys.stderr.write(scrub(traceback.format_exc()))
        console.error(f"internal error: {type(e).__name__} (set NETDIAG_DEBUG=1 for the traceback)")
        return int(Status.UNKNOWN)
    return code if isinstance(code, int) else 0


__all__ = ["UsageError", "app", "main"]
