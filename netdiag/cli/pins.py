"""`netdiag pins`: show, import, learn and verify the pinned vendor issuers."""

# No `from __future__ import annotations` in the command line: typer reads every
# command's annotations at start-up, and as strings each would be compiled first.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netdiag.cli.common import check_config, console_of, examples, language_of
from netdiag.cli.groups import (
    BundlePasswordFileOption,
    Checking,
    ClientCertificate,
    Endpoints,
    LangOption,
    PinsOption,
    ProfileOption,
    Trust,
    TrustStoreOption,
    with_groups,
)
from netdiag.console import Console
from netdiag.errors import UsageError

if TYPE_CHECKING:
    from netdiag.trust.pins import PinSet

pins_app = typer.Typer(
    help="Pinned vendor issuers: show, learn, import, verify.", no_args_is_help=True
)


PinsOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="FILE",
        help="Pin file to write (default: pins.toml in the user's configuration folder).",
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", help="Write without asking.")]


def _write_pins(
    console: Console, learned: "PinSet", out: Path | None, yes: bool, lang: str = "en"
) -> None:
    from netdiag.trust.pins import PIN_FILE, PinSet, config_dir, load_pins, save_pins

    path = out if out is not None else config_dir() / PIN_FILE
    count = len(learned.pins)
    german = lang == "de"
    if not yes:
        if not console.can_ask:
            raise UsageError(
                f"not writing {count} pins to {path} without confirmation: add --yes",
                de=f"{count} Pins werden ohne Bestätigung nicht nach {path} geschrieben: --yes "
                "angeben",
            )
        asked = (
            f"{count} Pins nach {path} schreiben?" if german else f"Write {count} pins to {path}?"
        )
        if not console.confirm(asked):
            console.out("nichts geschrieben" if german else "nothing written")
            return
    existing = load_pins([path]) if path.is_file() else PinSet()
    save_pins(path, existing.merged(learned))
    console.out(
        f"{count} Pins nach {path} geschrieben" if german else f"wrote {count} pins to {path}"
    )


@pins_app.command(
    "show", epilog=examples("netdiag pins show", "netdiag pins show --pins certs/pins.toml")
)
def pins_show(
    ctx: typer.Context,
    pins: PinsOption = None,
    profile: ProfileOption = None,
    lang: LangOption = None,
) -> None:
    """The pins in use and how many endpoints of the profile each covers."""
    from netdiag.renderers.pins import pin_files_view
    from netdiag.report.model import Status
    from netdiag.settings.targets import load_profile
    from netdiag.trust.pins import default_pin_files, load_pins

    language = language_of(lang)
    console = console_of(ctx)
    files = pins or default_pin_files(profile)
    pin_set = load_pins(files)
    if not pin_set.pins:
        if language == "de":
            looked_at = ", ".join(map(str, files)) or "keine gefunden"
            console.out(f"keine Pins (angesehene Dateien: {looked_at})")
        else:
            looked_at = ", ".join(map(str, files)) or "none found"
            console.out(f"no pins (files looked at: {looked_at})")
        raise typer.Exit(int(Status.WARN))
    console.out(pin_files_view(pin_set, load_profile(profile).targets, language))


@pins_app.command(
    "import",
    epilog=examples(
        "netdiag pins import vendor-server-ca.pem",
        "netdiag pins import vendor-server-ca.pem --applies-to mail1.dicommail.com --yes",
    ),
)
def pins_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="The CA file the vendor delivers for its servers (PEM/DER), or the client "
            "bundle (PKCS#12, PEM with key): its CAs only with --issues-servers or when "
            "confirmed one by one."
        ),
    ],
    cert_password_file: BundlePasswordFileOption = None,
    applies_to: Annotated[
        list[str] | None,
        typer.Option(
            "--applies-to",
            metavar="GROUP|HOST|HOST:PORT",
            help="Target group, host or HOST:PORT the pins cover (repeatable; default all).",
        ),
    ] = None,
    issues_servers: Annotated[
        bool,
        typer.Option(
            "--issues-servers",
            help="Confirm that the CA certificates of a client bundle also issue the vendor's "
            "server certificates (they always issued the gateway's own).",
        ),
    ] = False,
    out: PinsOutOption = None,
    yes: YesOption = False,
    profile: ProfileOption = None,
    lang: LangOption = None,
) -> None:
    """Pin the CA certificates that issue the vendor's server certificates."""
    from datetime import UTC, datetime

    from netdiag.privacy.secret import read_secret
    from netdiag.renderers.pins import pins_table
    from netdiag.session.setup import CERT_PASSWORD_ENV
    from netdiag.settings.targets import load_profile
    from netdiag.trust.pin_commands import import_candidates, import_pins

    language = language_of(lang)
    german = language == "de"
    console = console_of(ctx)
    password = read_secret(
        file=cert_password_file, env_var=CERT_PASSWORD_ENV, prompt="", may_prompt=False
    )
    candidates = import_candidates(file, password)
    chosen = list(candidates.cas)
    if candidates.is_client_bundle and not issues_servers:
        names = "; ".join(c.subject.rfc4514_string() for c in candidates.cas)
        if not console.can_ask:
            raise UsageError(
                f"{file.name} is a client bundle: its CA certificates ({names}) issued the "
                "gateway's certificate, not necessarily the servers'. Pin them only if they "
                "issue the servers' certificates too (--issues-servers); else import the CA "
                "file the vendor delivers for its servers, or `netdiag pins learn` on a clean path",
                de=f"{file.name} ist ein Client-Bündel: seine CA-Zertifikate ({names}) haben das "
                "Zertifikat des Gateways ausgestellt, nicht unbedingt die der Server. Nur pinnen, "
                "wenn sie auch die Serverzertifikate ausstellen (--issues-servers); sonst die "
                "CA-Datei importieren, die der Hersteller für seine Server liefert, oder "
                "`netdiag pins learn` auf einem sauberen Weg",
            )
        console.warn(
            f"{file.name} ist ein Client-Bündel: seine CA-Zertifikate haben das Zertifikat des "
            "Gateways ausgestellt; die Server des Herstellers können eine andere CA nutzen."
            if german
            else f"{file.name} is a client bundle: its CA certificates issued the gateway's "
            "certificate; the vendor's servers may use another CA."
        )
        chosen = [
            c
            for c in candidates.cas
            if console.confirm(
                f"Stellt {c.subject.rfc4514_string()} die SERVER-Zertifikate des Herstellers aus?"
                if german
                else f"Does {c.subject.rfc4514_string()} issue the vendor's SERVER certificates?"
            )
        ]
        if not chosen:
            console.out(
                "nichts gepinnt: kein CA-Zertifikat als Aussteller der Server bestätigt"
                if german
                else "nothing pinned: no CA certificate confirmed as an issuer of the servers"
            )
            return
    imported = import_pins(
        file,
        chosen,
        is_client_bundle=candidates.is_client_bundle,
        applies_to=applies_to or [],
        now=datetime.now(UTC),
    )
    # The endpoints each pin covers, counted as `pins show` counts them: of the profile.
    console.out(pins_table(imported, load_profile(profile).targets, language))
    _write_pins(console, imported, out, yes, language)


@pins_app.command(
    "learn",
    epilog=examples("netdiag pins learn --cert gateway.p12", "netdiag pins learn --only 995"),
)
@with_groups
def pins_learn(
    ctx: typer.Context,
    *,
    endpoints: Endpoints,
    client: ClientCertificate,
    checking: Checking,
    trust_store: TrustStoreOption = None,
    out: PinsOutOption = None,
    yes: YesOption = False,
    lang: LangOption = None,
) -> None:
    """Pin the issuers presented now: run this on a path known to be clean (a mobile
    hotspot outside the hospital), check the table, then confirm. (No --pins: what is
    learned is what is presented, compared with nothing.)"""
    from datetime import UTC, datetime

    from netdiag.renderers.pins import pins_table
    from netdiag.session.check import run_check
    from netdiag.trust.pin_commands import learn_pins

    language = language_of(lang)
    console = console_of(ctx)
    config = check_config(endpoints, client, Trust(pins=[], trust_store=trust_store), checking)
    report = run_check(config, console)
    learned = learn_pins(report, datetime.now(UTC))
    for line in learned.skipped_de if language == "de" else learned.skipped:
        console.warn(line)
    if not learned.pins.pins:
        raise UsageError(
            "no issuer to pin: no endpoint presented a CA certificate",
            de="kein Aussteller zum Pinnen: kein Endpunkt zeigte ein CA-Zertifikat",
        )
    console.out(pins_table(learned.pins, [e.target for e in report.endpoints], language))
    _write_pins(console, learned.pins, out, yes, language)


@pins_app.command(
    "verify", epilog=examples("netdiag pins verify", "netdiag pins verify --cert gateway.p12")
)
@with_groups
def pins_verify(
    ctx: typer.Context,
    *,
    trust: Trust,
    endpoints: Endpoints,
    client: ClientCertificate,
    checking: Checking,
    lang: LangOption = None,
) -> None:
    """Check the pins against the chains presented now (exit 0 all pinned, 1 endpoints
    without pins, 2 a chain the pins do not anchor)."""
    from netdiag.renderers.pins import verdicts_table
    from netdiag.report.model import worst
    from netdiag.session.check import run_check
    from netdiag.trust.pin_commands import verify_pins

    language = language_of(lang)
    console = console_of(ctx)
    config = check_config(endpoints, client, trust, checking)
    verdicts = verify_pins(run_check(config, console), config.pins)
    console.out(verdicts_table(verdicts, language))
    raise typer.Exit(int(worst(v.verdict.status for v in verdicts)))
