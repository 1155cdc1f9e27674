"""The command line: parse options, build a configuration, call the library, render, exit."""

from __future__ import annotations

import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from netdiag import __version__
from netdiag.config import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S
from netdiag.console import Console
from netdiag.errors import NetdiagError, UsageError
from netdiag.report import Status

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
    resolver: Annotated[
        list[str] | None,
        typer.Option("--resolver", help="Also ask this DNS server, IP[:PORT] (repeatable)."),
    ] = None,
    no_system_resolver: Annotated[
        bool,
        typer.Option(
            "--no-system-resolver", help="Ask only the --resolver servers, not the system's."
        ),
    ] = False,
    expect_network: Annotated[
        list[str] | None,
        typer.Option(
            "--expect-network", help="A private network that is an expected answer (repeatable)."
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds for each network step.", min=0.05, max=300)
    ] = DEFAULT_TIMEOUT_S,
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
    cert: Annotated[
        Path | None,
        typer.Option("--cert", help="Client certificate: PEM (with key, or --key) or PKCS#12."),
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="PEM private key for --cert.")] = None,
    cert_password_file: Annotated[
        Path | None,
        typer.Option(
            "--cert-password-file",
            help="File holding the password of --cert (else NETDIAG_CERT_PASSWORD, else a prompt).",
        ),
    ] = None,
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
    json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or checkmk.")
    ] = OutputFormat.TABLE,
) -> None:
    """Resolve and connect to every endpoint and say what is wrong."""
    from netdiag.options import Credentials, build_check_config
    from netdiag.render import render
    from netdiag.run import run_check

    console = _console(ctx)
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
    )
    report = run_check(config, console)
    console.out(render(report, OutputFormat.JSON if json_output else output_format))
    raise typer.Exit(int(report.status))


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


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    """Entry point: every expected error becomes one line on stderr and exit code 3."""
    console = console or Console.system()
    try:
        code = app(args=argv, prog_name="netdiag", standalone_mode=False, obj=console)
    except typer.TyperException as e:
        context = getattr(e, "ctx", None)
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
            traceback.print_exc(file=sys.stderr)
        console.error(f"internal error: {type(e).__name__} (set NETDIAG_DEBUG=1 for the traceback)")
        return int(Status.UNKNOWN)
    return code if isinstance(code, int) else 0


__all__ = ["UsageError", "app", "main"]
