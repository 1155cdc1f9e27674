"""The command line: declare the options, build a configuration, call the library, render
the report, exit with its status. Nothing here probes, diagnoses or formats."""

# No `from __future__ import annotations` in the command line: typer reads every
# command's annotations at start-up, and as strings each would be compiled first.

import gc
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netdiag import __version__
from netdiag.cli.common import check_config, console_of, examples
from netdiag.cli.common import language_of as _language
from netdiag.cli.groups import (
    DEFAULT_CAPTURE_DIR,
    BundleText,
    CaptureDirOption,
    CaptureOption,
    Checking,
    ClientCertificate,
    Dialogue,
    Endpoints,
    HostPaths,
    LangOption,
    OnlyOption,
    Output,
    OutputFormat,
    ProfileOption,
    Rounds,
    Tracing,
    Trust,
    seconds,
    with_groups,
)
from netdiag.cli.pins import pins_app
from netdiag.console import Console
from netdiag.errors import NetdiagError, UsageError

if TYPE_CHECKING:
    from netdiag.privacy.audit import KnownSecrets
    from netdiag.report.model import Report
    from netdiag.session.config import CheckConfig
    from netdiag.settings.host_requirements import HostRequirements

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
app.add_typer(pins_app, name="pins")


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        console_of(ctx).out(f"netdiag {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """netdiag diagnoses the gateway's connections to the vendor's servers."""


def _host_requirements(paths: HostPaths) -> "tuple[HostRequirements, str]":
    """The profile's `[host]` requirements with the paths given on the command line."""
    from netdiag.settings.targets import load_profile

    loaded = load_profile(paths.profile)
    return loaded.host.with_paths(
        paths.data_drive, paths.archive_drive, paths.backup_dir
    ), loaded.name


def _check_lang(text: BundleText) -> None:
    """Validated before the run, so that a typo does not cost the whole check."""
    if text.lang not in (None, "de", "en"):
        raise UsageError(f"--lang {text.lang!r}: de or en", de=f"--lang {text.lang!r}: de oder en")
    if text.firewall is not None:
        from netdiag.renderers.firewalls import BY_ID

        if text.firewall not in BY_ID:
            raise UsageError(
                f"--firewall {text.firewall!r}: one of {', '.join(BY_ID)}",
                de=f"--firewall {text.firewall!r}: eines von {', '.join(BY_ID)}",
            )


def _show(
    console: Console,
    report: "Report",
    output: OutputFormat,
    secrets: "KnownSecrets | None" = None,
    lang: str | None = None,
) -> None:
    """The report on stdout in the format asked for, in the language asked for."""
    from netdiag.renderers import render
    from netdiag.renderers.text import default_language

    rendered = render(report, output.value, lang or default_language())
    # A peer may quote a secret back (a server echoing the password): never on the console.
    console.out(secrets.scrub(rendered) if secrets is not None else rendered)


@app.command(
    epilog=examples(
        "netdiag check --cert gateway.p12",
        "netdiag check --only mail3 --only 995 --json > report.json",
        "netdiag check --cert gateway.p12 --trace --capture --bundle ticket.zip",
    )
)
@with_groups
def check(
    ctx: typer.Context,
    *,
    endpoints: Endpoints,
    client: ClientCertificate,
    checking: Checking,
    rounds: Rounds,
    dialogue: Dialogue,
    trust: Trust,
    tracing: Tracing,
    host: Annotated[
        bool,
        typer.Option("--host", help="Also check the gateway against the system requirements."),
    ] = False,
    host_paths: HostPaths,
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle", metavar="FILE", help="Also write a support bundle (zip) to this file."
        ),
    ] = None,
    bundle_text: BundleText,
    output: Output,
) -> None:
    """Resolve and connect to every endpoint and say what is wrong."""
    from netdiag.session.runs import SessionOptions, run_session

    console = console_of(ctx)
    _check_lang(bundle_text)
    if bundle is not None:
        _check_bundle_target(bundle)
    config = check_config(endpoints, client, trust, checking, rounds, dialogue)
    wants_host = host or bundle is not None
    options = SessionOptions(
        trace=tracing.trace,
        capture_dir=tracing.capture_to,
        host=_host_requirements(host_paths)[0] if wants_host else None,
        firewall=bundle_text.firewall or "",
    )
    report = run_session(config, options, _quiet_unless_read(console, output.chosen))
    _show(console, report, output.chosen, config.known_secrets, bundle_text.lang)
    if bundle is not None:
        written, unsigned = _write_bundle(report, bundle, bundle_text, config)
        # stderr: stdout stays the report in the format asked for
        console.note(_said("cli.bundle_written", bundle_text, path=written))
        if unsigned:
            console.note(_said("cli.bundle_unsigned", bundle_text, why=unsigned))
    raise typer.Exit(int(report.status))


def _check_bundle_target(path: Path) -> None:
    """Before the run, not after it: the bundle's file can be written (not a folder, its
    folder exists or can be made, a file there can be created)."""
    if path.is_dir():
        raise UsageError(
            f"--bundle/--out {path}: is a folder; give the zip's file name (…/ticket.zip)",
            de=f"--bundle/--out {path}: ist ein Ordner; den Dateinamen des Zips angeben "
            "(…/ticket.zip)",
        )
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as e:
        reason = e.strerror or str(e)
        raise UsageError(
            f"--bundle/--out {path}: cannot be written: {reason}",
            de=f"--bundle/--out {path}: lässt sich nicht schreiben: {reason}",
        ) from None
    if not existed:
        path.unlink(missing_ok=True)


def _said(key: str, text: BundleText, **fields: object) -> str:
    """One of the CLI's own lines in the language of the run's output."""
    from netdiag.renderers.text import default_language
    from netdiag.report.messages import message, status_name
    from netdiag.report.model import Status

    lang = text.lang or default_language()
    if key == "state":
        status = fields["status"]
        return status_name(status if isinstance(status, Status) else Status.UNKNOWN, lang)
    return message(key, lang, **fields)


def _quiet_unless_read(console: Console, output: OutputFormat) -> Console:
    """Live progress only where a person reads the table (not for machines' formats)."""
    if output in (OutputFormat.JSON, OutputFormat.CHECKMK):
        console.shows_progress = False
    return console


def _write_bundle(
    report: "Report", out: Path, text: BundleText, config: "CheckConfig"
) -> tuple[Path, str]:
    from netdiag.renderers.bundle import write_bundle
    from netdiag.renderers.text import default_language
    from netdiag.session.runs import machine_environment, machine_secrets

    return write_bundle(
        report,
        machine_environment(report),
        out,
        lang=text.lang or default_language(),
        redact=text.redact,
        # The run's own secrets and the machine's (a proxy's password), as exact bytes.
        secrets=config.known_secrets.with_(machine_secrets()),
        identity=config.identity,
    )


@app.command(epilog=examples("netdiag targets", "netdiag targets --only 995"))
def targets(
    ctx: typer.Context,
    profile: ProfileOption = None,
    only: OnlyOption = None,
    lang: LangOption = None,
) -> None:
    """Print the endpoints of the profile."""
    from netdiag.renderers.pins import targets_table
    from netdiag.settings.targets import load_profile, select_targets

    language = _language(lang)
    loaded = load_profile(profile)
    console = console_of(ctx)
    said = "Profil" if language == "de" else "profile"
    console.out(f"{said}: {loaded.name} ({loaded.source})")
    console.out(targets_table(select_targets(loaded.targets, only or []), language))


@app.command(
    "trace",
    epilog=examples(
        "netdiag trace mail1.dicommail.com --port 25 --control-port 995",
        "netdiag trace 192.0.2.10 --port 8140 --json",
    ),
)
@with_groups
def trace_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(metavar="HOST", help="Host name or address to trace to.")],
    *,
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", help="Destination port.", min=1, max=65535)
    ] = 25,
    control_port: Annotated[
        int | None,
        typer.Option(
            "--control-port",
            metavar="PORT",
            help="A port expected open, traced at the same time.",
            min=1,
            max=65535,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Seconds for the whole trace (0.1 to 60).",
            parser=seconds(0.1, 60),
        ),
    ] = 3.0,
    max_hops: Annotated[
        int,
        typer.Option(
            "--max-hops", metavar="N", help="Give up after this many hops.", min=1, max=64
        ),
    ] = 20,
    probes: Annotated[
        int, typer.Option("--probes", metavar="N", help="Probes per hop.", min=1, max=5)
    ] = 2,
    capture: CaptureOption = False,
    capture_dir: CaptureDirOption = DEFAULT_CAPTURE_DIR,
    lang: LangOption = None,
    output: Output,
) -> None:
    """TCP SYN traceroute to the port: which hop drops or rejects it, and how."""
    from netdiag.session.runs import TraceRequest, run_trace
    from netdiag.session.trace_settings import TraceSettings

    request = TraceRequest(
        host=host,
        port=port,
        control_port=control_port,
        settings=TraceSettings(timeout, max_hops, probes),
        capture_dir=capture_dir if capture else None,
    )
    language = _language(lang)
    report = run_trace(request)
    _show(console_of(ctx), report, output.chosen, lang=language)
    raise typer.Exit(int(report.status))


@app.command("mtu", epilog=examples("netdiag mtu mail1.dicommail.com"))
@with_groups
def mtu_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(metavar="HOST", help="Host name or address.")],
    *,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Seconds to wait for answers (0.1 to 60).",
            parser=seconds(0.1, 60),
        ),
    ] = 3.0,
    lang: LangOption = None,
    output: Output,
) -> None:
    """Path MTU towards a host: the largest packet that passes with Don't Fragment."""
    from netdiag.session.runs import run_mtu

    language = _language(lang)
    report = run_mtu(host, timeout)
    _show(console_of(ctx), report, output.chosen, lang=language)
    raise typer.Exit(int(report.status))


@app.command(
    "bundle",
    epilog=examples(
        "netdiag bundle --cert gateway.p12 --out ticket.zip",
        "netdiag bundle --cert gateway.p12 --lang de --redact",
    ),
)
@with_groups
def bundle_command(
    ctx: typer.Context,
    *,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FILE", help="The zip to write (default: netdiag-bundle_<time>.zip)."
        ),
    ] = None,
    endpoints: Endpoints,
    client: ClientCertificate,
    checking: Checking,
    rounds: Rounds,
    dialogue: Dialogue,
    trust: Trust,
    tracing: Tracing,
    host_paths: HostPaths,
    bundle_text: BundleText,
) -> None:
    """Run a check and write everything support needs into one zip."""
    from datetime import UTC, datetime

    from netdiag.session.runs import SessionOptions, run_session

    console = console_of(ctx)
    _check_lang(bundle_text)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = out or Path(f"netdiag-bundle_{stamp}.zip")
    _check_bundle_target(target)
    config = check_config(endpoints, client, trust, checking, rounds, dialogue)
    requirements, _ = _host_requirements(host_paths)
    options = SessionOptions(
        trace=tracing.trace,
        capture_dir=tracing.capture_to,
        host=requirements,
        firewall=bundle_text.firewall or "",
    )
    report = run_session(config, options, console)
    written, unsigned = _write_bundle(report, target, bundle_text, config)
    state = _said("state", bundle_text, status=report.status)
    console.out(f"{state}: {_said('cli.bundle_written', bundle_text, path=written)}")
    if unsigned:
        console.out(_said("cli.bundle_unsigned", bundle_text, why=unsigned))
    raise typer.Exit(int(report.status))


@app.command(
    "host",
    epilog=examples(
        "netdiag host",
        "netdiag host --data-drive D:\\ --archive-drive E:\\ --backup-dir E:\\backup",
    ),
)
@with_groups
def host_command(
    ctx: typer.Context, *, host_paths: HostPaths, lang: LangOption = None, output: Output
) -> None:
    """The gateway against the vendor's system requirements: OS, updates, CPU, memory,
    drives, backups, antivirus exclusions, shares, remote maintenance."""
    from netdiag.session.host import host_report

    language = _language(lang)
    requirements, name = _host_requirements(host_paths)
    report = host_report(requirements, name)
    _show(console_of(ctx), report, output.chosen, lang=language)
    raise typer.Exit(int(report.status))


@app.command(
    "firewalls", epilog=examples("netdiag firewalls", "netdiag check --firewall fortigate")
)
def firewalls_command(ctx: typer.Context) -> None:
    """The firewall products whose configuration netdiag writes (`--firewall PRODUCT`), and
    how sure each snippet is."""
    from netdiag.renderers.firewalls import PRODUCTS

    console = console_of(ctx)
    for product in PRODUCTS:
        console.out(f"{product.id:<11} {product.name}: {product.certainty}")


@app.command("proxies", epilog=examples("netdiag proxies", "netdiag proxies --json"))
def proxies_command(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """The web proxies this machine is configured with, and where from (a check tries them
    for the endpoints whose direct path is blocked)."""
    from netdiag.renderers.proxies import render_proxies
    from netdiag.session.runs import configured_proxies

    language = _language(lang)
    console_of(ctx).out(render_proxies(configured_proxies(), json_output, language))


@app.command(
    "diff",
    epilog=examples(
        "netdiag check --json > before.json",
        "netdiag check --json > after.json; netdiag diff before.json after.json",
    ),
)
def diff_command(
    ctx: typer.Context,
    old: Annotated[
        Path,
        typer.Argument(metavar="OLD.json", help="The earlier report (netdiag check --json)."),
    ],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The later report.")],
    lang: LangOption = None,
) -> None:
    """What changed between two saved reports (exit 0: nothing, 1: something)."""
    from netdiag.renderers.diff import NO_CHANGE, diff_reports, load_report

    language = _language(lang)
    changes = diff_reports(load_report(old), load_report(new), language)
    console_of(ctx).out("\n".join(changes) if changes else NO_CHANGE[language])
    raise typer.Exit(1 if changes else 0)


# The frames of click's usage errors, as the German output says them; what they quote (an
# option, a value, our own parser's reason) stays as given. Patterns as text: `re` compiles
# (and caches) them only when a usage error is said, never at start-up.
_German = Callable[[re.Match[str]], str]
_USAGE_DE: tuple[tuple[str, _German], ...] = (
    (r"^No such option: (\S+)(?: \(Possible options: (.*)\))?$",
     lambda m: f"Unbekannte Option: {m[1]}" + (f" (meinten Sie {m[2]}?)" if m[2] else "")),
    (r"^Option '(.+)' requires an argument\.$",
     lambda m: f"Die Option '{m[1]}' braucht einen Wert."),
    (r"^Missing argument '(.+)'\.$", lambda m: f"Es fehlt das Argument '{m[1]}'."),
    (r"^Missing option '(.+)'\.$", lambda m: f"Es fehlt die Option '{m[1]}'."),
    (r"^Got unexpected extra argument(?:s|\(s\))? \((.*)\)$",
     lambda m: f"Unerwartete Argumente ({m[1]})"),
    (r"(?s)^Invalid value for (.+?): (.*)$",
     lambda m: f"Ungültiger Wert für {m[1]}: {_german_reason(m[2])}"),
)  # fmt: skip
# Why a value is wrong: our own parser's words and click's (as typer vendors it).
_REASONS_DE: tuple[tuple[str, _German], ...] = (
    (r"(?s)^'(.*)' is not a number of seconds from (\S+) to (\S+)\.$",
     lambda m: f"'{m[1]}' ist keine Sekundenzahl von {_comma(m[2])} bis {_comma(m[3])}."),
    (r"(?s)^'(.*)' is not one of (.*)\.$",
     lambda m: f"'{m[1]}' ist keiner der Werte {m[2]}."),
    (r"(?s)^'(.*)' is not a valid int(?:eger)?(?: range)?\.$",
     lambda m: f"'{m[1]}' ist keine ganze Zahl."),
    (r"(?s)^(.*) is not in the range (.*)\.$",
     lambda m: f"{m[1]} liegt nicht im Bereich {_comma(m[2])}."),
)  # fmt: skip


def _comma(number: str) -> str:
    return number.replace(".", ",")


def _german_reason(reason: str) -> str:
    for pattern, german in _REASONS_DE:
        found = re.match(pattern, reason)
        if found is not None:
            return german(found)
    return reason


def usage_error_text(error: typer.TyperException, lang: str) -> str:
    """A usage error (click's) in the run's language: its frame translated for German."""
    text = error.format_message()
    if lang != "de":
        return text
    for pattern, german in _USAGE_DE:
        found = re.match(pattern, text)
        if found is not None:
            return german(found)
    return text


def _language_of(args: list[str]) -> str:
    """The language a failed run speaks its one line in: `--lang` as given, else the
    system's locale (as every output)."""
    for index, arg in enumerate(args):
        value = args[index + 1] if arg == "--lang" and index + 1 < len(args) else ""
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else value
        if value in ("de", "en"):
            return value
    from netdiag.renderers.text import default_language

    return default_language()


@app.command(
    "verify",
    epilog=examples(
        "netdiag verify ticket.zip --ca vendor-client-ca.pem",
        "netdiag verify ticket.zip --ca vendor-client-ca.pem --lang de",
    ),
)
def verify_command(
    ctx: typer.Context,
    bundle: Annotated[
        Path, typer.Argument(metavar="BUNDLE.zip", help="The support bundle to check.")
    ],
    ca: Annotated[
        list[Path],
        typer.Option(
            "--ca",
            metavar="FILE",
            help="The vendor's client CA certificates (PEM or DER) the gateway's certificate "
            "is issued under (repeatable).",
        ),
    ],
    lang: LangOption = None,
) -> None:
    """Check a support bundle: its signature over the manifest, the signer's chain to the
    vendor's client CA, every file against the manifest (exit 0: all hold, 2: something
    does not, 3: nothing could be checked)."""
    from netdiag.renderers.verification import render_verification
    from netdiag.session.bundle_check import verify_bundle
    from netdiag.trust.identity import load_ca_certificates

    language = _language(lang)
    cas = [certificate for path in ca for certificate in load_ca_certificates(path)]
    result = verify_bundle(bundle, cas)
    console_of(ctx).out(render_verification(result, bundle.name, language))
    raise typer.Exit(0 if result.holds else 2)


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    """Entry point: every expected error becomes one line on stderr and exit code 3."""
    console = console or Console.system()
    # A server certificate with a non-positive serial is a fact about the peer (RFC 5280
    # forbids it; inspection products and test CAs issue them): no warning on the console.
    warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else argv
    try:
        code = command.main(
            args=args,
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
            console.error(usage_error_text(e, _language_of(args)))
        return EXIT_UNKNOWN
    except (typer.Abort, KeyboardInterrupt):
        console.error("interrupted")
        return EXIT_UNKNOWN
    except NetdiagError as e:
        console.error(e.text(_language_of(args)))
        return int(e.exit_code)
    except Exception as e:  # noqa: BLE001 - a bug: one line, the traceback only on request
        if os.environ.get("NETDIAG_DEBUG"):
            from netdiag.privacy.secret import scrub

            # A traceback may quote a value; never one of the run's secrets.
            sys.stderr.write(scrub(traceback.format_exc()))
        console.error(f"internal error: {type(e).__name__} (set NETDIAG_DEBUG=1 for the traceback)")
        return EXIT_UNKNOWN
    return code if isinstance(code, int) else 0


def entry_point() -> int:
    """The process's entry (the `netdiag` command, `python -m netdiag`, netdiag.exe): `main`,
    then everything it made frozen for the garbage collector, because the process ends now.
    The interpreter's final collection would otherwise walk every object of the run (the
    libraries, the report) to free memory that the exit frees anyway: ~0.1 s of each run
    here, ~0.01 s frozen. Objects of the run are already closed (files by `with`, sockets by
    their probes); what atexit holds (logging, temporary folders) still runs."""
    code = main()
    gc.freeze()
    return code


__all__ = ["UsageError", "app", "entry_point", "main"]
