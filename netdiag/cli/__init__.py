"""The command line: declare the options, build a configuration, call the library, render
the report, exit with its status. Nothing here probes, diagnoses or formats."""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netdiag import __version__
from netdiag.cli.groups import (
    DEFAULT_CAPTURE_DIR,
    BundleText,
    CaptureDirOption,
    CaptureOption,
    CertPasswordFileOption,
    Checking,
    ClientCertificate,
    Endpoints,
    HostPaths,
    OnlyOption,
    Output,
    OutputFormat,
    PinsOption,
    ProfileOption,
    Tracing,
    Trust,
    with_groups,
)
from netdiag.console import Console
from netdiag.defaults import DEFAULT_DEADLINE_S
from netdiag.errors import NetdiagError, UsageError

if TYPE_CHECKING:
    from netdiag.config import CheckConfig
    from netdiag.hostreq import HostRequirements
    from netdiag.pins import PinSet
    from netdiag.report import Report
    from netdiag.secrecy import KnownSecrets

# Exit codes are the Nagios states of `report.Status` (not imported: `--help` stays light).
EXIT_UNKNOWN = 3

app = typer.Typer(
    name="netdiag",
    help="Why can't this DICOM-Mail gateway reach its vendor's servers, and where is it broken?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
pins_app = typer.Typer(
    help="Pinned vendor issuers: show, learn, import, verify.", no_args_is_help=True
)
app.add_typer(pins_app, name="pins")


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


def _config(
    endpoints: Endpoints,
    client: ClientCertificate,
    trust: Trust | None = None,
    checking: Checking | None = None,
) -> CheckConfig:
    """The configuration the options describe; commands without `check`'s tuning get a
    round long enough for their timeout."""
    from netdiag.options import Credentials, build_check_config

    trust = trust or Trust()
    checking = checking or Checking(deadline=max(DEFAULT_DEADLINE_S, 4 * endpoints.timeout))
    return build_check_config(
        profile_path=endpoints.profile,
        targets=endpoints.target or [],
        only=endpoints.only or [],
        resolvers=endpoints.resolver or [],
        uses_system_resolver=not endpoints.no_system_resolver,
        expected_networks=endpoints.expect_network or [],
        timeout_s=endpoints.timeout,
        deadline_s=checking.deadline,
        repeat=checking.repeat,
        interval_s=checking.interval,
        credentials=Credentials(
            cert=client.cert,
            key=client.key,
            cert_password_file=client.cert_password_file,
            ca_files=tuple(checking.ca or ()),
            pop3_user=checking.pop3_user,
            pop3_password_file=checking.pop3_password_file,
            probe_login=checking.probe_login,
        ),
        cert_warn_days=checking.cert_warn_days,
        slow_banner_s=checking.slow_banner,
        pin_files=trust.pins,
        trust_store=trust.trust_store,
    )


def _host_requirements(paths: HostPaths) -> tuple[HostRequirements, str]:
    """The profile's `[host]` requirements with the paths given on the command line."""
    from netdiag.targets import load_profile

    loaded = load_profile(paths.profile)
    return loaded.host.with_paths(
        paths.data_drive, paths.archive_drive, paths.backup_dir
    ), loaded.name


def _check_lang(text: BundleText) -> None:
    """Validated before the run, so that a typo does not cost the whole check."""
    if text.lang not in (None, "de", "en"):
        raise UsageError(f"--lang {text.lang!r}: de or en")


def _show(
    console: Console,
    report: Report,
    output: OutputFormat,
    secrets: KnownSecrets | None = None,
    lang: str | None = None,
) -> None:
    """The report on stdout in the format asked for, in the language asked for."""
    from netdiag.renderers import render
    from netdiag.renderers.text import default_language

    rendered = render(report, output.value, lang or default_language())
    # A peer may quote a secret back (a server echoing the password): never on the console.
    console.out(secrets.scrub(rendered) if secrets is not None else rendered)


@app.command()
@with_groups
def check(
    ctx: typer.Context,
    *,
    endpoints: Endpoints,
    client: ClientCertificate,
    checking: Checking,
    trust: Trust,
    tracing: Tracing,
    host: Annotated[
        bool,
        typer.Option("--host", help="Also check the gateway against the system requirements."),
    ] = False,
    host_paths: HostPaths,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Also write a support bundle (zip) to this file."),
    ] = None,
    bundle_text: BundleText,
    output: Output,
) -> None:
    """Resolve and connect to every endpoint and say what is wrong."""
    from netdiag.session import SessionOptions, run_session

    console = _console(ctx)
    _check_lang(bundle_text)
    config = _config(endpoints, client, trust, checking)
    wants_host = host or bundle is not None
    options = SessionOptions(
        trace=tracing.trace,
        capture_dir=tracing.capture_to,
        host=_host_requirements(host_paths)[0] if wants_host else None,
    )
    report = run_session(config, options, _quiet_unless_read(console, output.chosen))
    _show(console, report, output.chosen, config.known_secrets, bundle_text.lang)
    if bundle is not None:
        written = _write_bundle(report, bundle, bundle_text, config)
        # stderr: stdout stays the report in the format asked for
        console.note(f"support bundle written to {written}")
    raise typer.Exit(int(report.status))


def _quiet_unless_read(console: Console, output: OutputFormat) -> Console:
    """Live progress only where a person reads the table (not for machines' formats)."""
    if output in (OutputFormat.JSON, OutputFormat.CHECKMK):
        console.shows_progress = False
    return console


def _write_bundle(report: Report, out: Path, text: BundleText, config: CheckConfig) -> Path:
    from netdiag.bundle import write_support_bundle

    return write_support_bundle(
        report, out, lang=text.lang, redact=text.redact, secrets=config.known_secrets
    )


@app.command()
def targets(ctx: typer.Context, profile: ProfileOption = None, only: OnlyOption = None) -> None:
    """Print the endpoints of the profile."""
    from netdiag.renderers.pins import targets_table
    from netdiag.targets import load_profile, select_targets

    loaded = load_profile(profile)
    console = _console(ctx)
    console.out(f"profile: {loaded.name} ({loaded.source})")
    console.out(targets_table(select_targets(loaded.targets, only or [])))


PinsOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Pin file to write (default: pins.toml in the user's configuration folder)."
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", help="Write without asking.")]


def _write_pins(console: Console, learned: PinSet, out: Path | None, yes: bool) -> None:
    from netdiag.pins import PIN_FILE, PinSet, config_dir, load_pins, save_pins

    path = out if out is not None else config_dir() / PIN_FILE
    count = len(learned.pins)
    if not yes:
        if not console.can_ask:
            raise UsageError(f"not writing {count} pins to {path} without confirmation: add --yes")
        if not console.confirm(f"Write {count} pins to {path}?"):
            console.out("nothing written")
            return
    existing = load_pins([path]) if path.is_file() else PinSet()
    save_pins(path, existing.merged(learned))
    console.out(f"wrote {count} pins to {path}")


@pins_app.command("show")
def pins_show(ctx: typer.Context, pins: PinsOption = None, profile: ProfileOption = None) -> None:
    """The pins in use and how many endpoints of the profile each covers."""
    from netdiag.pins import default_pin_files, load_pins
    from netdiag.renderers.pins import pin_files_view
    from netdiag.report import Status
    from netdiag.targets import load_profile

    console = _console(ctx)
    files = pins or default_pin_files(profile)
    pin_set = load_pins(files)
    if not pin_set.pins:
        looked_at = ", ".join(map(str, files)) or "none found"
        console.out(f"no pins (files looked at: {looked_at})")
        raise typer.Exit(int(Status.WARN))
    console.out(pin_files_view(pin_set, load_profile(profile).targets))


@pins_app.command("import")
def pins_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The vendor's PKCS#12 client bundle, or a PEM/DER CA file.")
    ],
    cert_password_file: CertPasswordFileOption = None,
    applies_to: Annotated[
        list[str] | None,
        typer.Option(
            "--applies-to",
            help="Target group, host or HOST:PORT the pins cover (repeatable; default all).",
        ),
    ] = None,
    out: PinsOutOption = None,
    yes: YesOption = False,
) -> None:
    """Pin the CA certificates delivered with the vendor's client bundle."""
    from datetime import UTC, datetime

    from netdiag.options import CERT_PASSWORD_ENV
    from netdiag.pin_sources import import_pins
    from netdiag.renderers.pins import pins_table
    from netdiag.secrets import read_secret

    console = _console(ctx)
    password = read_secret(
        file=cert_password_file, env_var=CERT_PASSWORD_ENV, prompt="", may_prompt=False
    )
    imported = import_pins(file, password, applies_to or [], datetime.now(UTC))
    console.out(pins_table(imported, ()))
    _write_pins(console, imported, out, yes)


@pins_app.command("learn")
@with_groups
def pins_learn(
    ctx: typer.Context,
    *,
    endpoints: Endpoints,
    client: ClientCertificate,
    out: PinsOutOption = None,
    yes: YesOption = False,
) -> None:
    """Pin the issuers presented now: run this on a path known to be clean (a mobile
    hotspot outside the hospital), check the table, then confirm."""
    from datetime import UTC, datetime

    from netdiag.pin_sources import learn_pins
    from netdiag.renderers.pins import pins_table
    from netdiag.run import run_check

    console = _console(ctx)
    report = run_check(_config(endpoints, client, Trust(pins=[])), console)
    learned = learn_pins(report, datetime.now(UTC))
    for line in learned.skipped:
        console.warn(line)
    if not learned.pins.pins:
        raise UsageError("no issuer to pin: no endpoint presented a CA certificate")
    console.out(pins_table(learned.pins, [e.target for e in report.endpoints]))
    _write_pins(console, learned.pins, out, yes)


@pins_app.command("verify")
@with_groups
def pins_verify(
    ctx: typer.Context, *, trust: Trust, endpoints: Endpoints, client: ClientCertificate
) -> None:
    """Check the pins against the chains presented now (exit 0 all pinned, 1 endpoints
    without pins, 2 a chain the pins do not anchor)."""
    from netdiag.pin_sources import verify_pins
    from netdiag.renderers.pins import verdicts_table
    from netdiag.report import worst
    from netdiag.run import run_check

    console = _console(ctx)
    config = _config(endpoints, client, trust)
    verdicts = verify_pins(run_check(config, console), config.pins)
    console.out(verdicts_table(verdicts))
    raise typer.Exit(int(worst(v.verdict.status for v in verdicts)))


@app.command("trace")
@with_groups
def trace_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="Host name or address to trace to.")],
    *,
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
    output: Output,
) -> None:
    """TCP SYN traceroute to the port: which hop drops or rejects it, and how."""
    from netdiag.blocked_paths import TraceSettings
    from netdiag.session import TraceRequest, run_trace

    request = TraceRequest(
        host=host,
        port=port,
        control_port=control_port,
        settings=TraceSettings(timeout, max_hops, probes),
        capture_dir=capture_dir if capture else None,
    )
    report = run_trace(request)
    _show(_console(ctx), report, output.chosen)
    raise typer.Exit(int(report.status))


@app.command("mtu")
@with_groups
def mtu_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="Host name or address.")],
    *,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for answers.", min=0.1, max=60)
    ] = 3.0,
    output: Output,
) -> None:
    """Path MTU towards a host: the largest packet that passes with Don't Fragment."""
    from netdiag.session import run_mtu

    report = run_mtu(host, timeout)
    _show(_console(ctx), report, output.chosen)
    raise typer.Exit(int(report.status))


@app.command("bundle")
@with_groups
def bundle_command(
    ctx: typer.Context,
    *,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The zip to write (default: netdiag-bundle_<time>.zip)."),
    ] = None,
    endpoints: Endpoints,
    client: ClientCertificate,
    trust: Trust,
    tracing: Tracing,
    host_paths: HostPaths,
    bundle_text: BundleText,
) -> None:
    """Run a check and write everything support needs into one zip."""
    from datetime import UTC, datetime

    from netdiag.session import SessionOptions, run_session

    console = _console(ctx)
    _check_lang(bundle_text)
    config = _config(endpoints, client, trust)
    requirements, _ = _host_requirements(host_paths)
    options = SessionOptions(trace=tracing.trace, capture_dir=tracing.capture_to, host=requirements)
    report = run_session(config, options, console)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    written = _write_bundle(report, out or Path(f"netdiag-bundle_{stamp}.zip"), bundle_text, config)
    console.out(f"{report.status.name}: support bundle written to {written}")
    raise typer.Exit(int(report.status))


@app.command("host")
@with_groups
def host_command(ctx: typer.Context, *, host_paths: HostPaths, output: Output) -> None:
    """The gateway against the vendor's system requirements: OS, updates, CPU, memory,
    drives, backups, antivirus exclusions, shares, remote maintenance."""
    from netdiag.hostcheck import host_report

    requirements, name = _host_requirements(host_paths)
    report = host_report(requirements, name)
    _show(_console(ctx), report, output.chosen)
    raise typer.Exit(int(report.status))


@app.command("diff")
def diff_command(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(help="The earlier report (netdiag check --json).")],
    new: Annotated[Path, typer.Argument(help="The later report.")],
) -> None:
    """What changed between two saved reports (exit 0: nothing, 1: something)."""
    from netdiag.diff import diff_reports, load_report

    changes = diff_reports(load_report(old), load_report(new))
    _console(ctx).out("\n".join(changes) if changes else "no change")
    raise typer.Exit(1 if changes else 0)


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    """Entry point: every expected error becomes one line on stderr and exit code 3."""
    from netdiag.cli.coercion import install

    console = console or Console.system()
    # A server certificate with a non-positive serial is a fact about the peer (RFC 5280
    # forbids it; inspection products and test CAs issue them): no warning on the console.
    warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")
    command = typer.main.get_command(app)
    install(command)
    try:
        code = command.main(
            args=sys.argv[1:] if argv is None else argv,
            prog_name="netdiag",
            standalone_mode=False,
            obj=console,
        )
    except typer.TyperException as e:
        context = getattr(e, "ctx", None)
        help_text = context.get_help() if context is not None else None
        # A command that needs arguments and got none raises its own help as the error:
        # that is an answer for stdout, not an error line.
        if e.format_message() == help_text:
            console.out(help_text)
        else:
            console.error(e.format_message())
        return EXIT_UNKNOWN
    except (typer.Abort, KeyboardInterrupt):
        console.error("interrupted")
        return EXIT_UNKNOWN
    except NetdiagError as e:
        console.error(str(e))
        return int(e.exit_code)
    except Exception as e:  # noqa: BLE001 - a bug: one line, the traceback only on request
        if os.environ.get("NETDIAG_DEBUG"):
            from netdiag.secrets import scrub

            # A traceback may quote a value; never one of the run's secrets.
            sys.stderr.write(scrub(traceback.format_exc()))
        console.error(f"internal error: {type(e).__name__} (set NETDIAG_DEBUG=1 for the traceback)")
        return EXIT_UNKNOWN
    return code if isinstance(code, int) else 0


__all__ = ["UsageError", "app", "main"]
