"""Turn the command line's raw values into a validated CheckConfig."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from netdiag.errors import UsageError
from netdiag.session.config import CheckConfig
from netdiag.settings.config import LoginKind, Pop3Login, parse_resolver
from netdiag.settings.targets import (
    COMMAND_LINE,
    Network,
    Service,
    Target,
    load_profile,
    parse_target,
    select_targets,
)

if TYPE_CHECKING:
    from cryptography import x509

    from netdiag.privacy.audit import KnownSecrets
    from netdiag.session.stores import StoresReading
    from netdiag.trust.identity import ClientIdentity
    from netdiag.trust.pins import PinSet


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """Where the client certificate, the CA files and the mailbox login come from."""

    cert: Path | None = None
    key: Path | None = None
    cert_password_file: Path | None = None
    ca_files: tuple[Path, ...] = ()
    pop3_user: str | None = None
    pop3_password_file: Path | None = None
    probe_login: bool = False


# Names of environment variables, not secrets.
CERT_PASSWORD_ENV = "NETDIAG_CERT_PASSWORD"  # noqa: S105
POP3_PASSWORD_ENV = "NETDIAG_POP3_PASSWORD"  # noqa: S105


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedCredentials:
    """The identity, trust anchors and POP3 login, loaded, with every form of the secrets."""

    identity: ClientIdentity | None
    # The servers' CA certificates the user gave (`--ca`): a proof.
    given_cas: tuple[x509.Certificate, ...]
    given_name: str
    # The CA certificates that came with the client certificate: they issued the gateway's
    # certificate, and are context for the servers' chains, never their anchors.
    client_cas: tuple[x509.Certificate, ...]
    client_name: str
    pop3_login: Pop3Login | None
    known_secrets: KnownSecrets


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedTrust:
    """The pins, and the trust stores the TLS endpoints are judged against as they are
    being read (None when no endpoint speaks TLS)."""

    pins: PinSet
    stores: StoresReading | None = None


def load_credentials(credentials: Credentials) -> LoadedCredentials:
    """The identity, trust anchors and POP3 login the options name."""
    from netdiag.errors import CertificateError
    from netdiag.privacy.audit import KnownSecrets, key_forms
    from netdiag.privacy.secret import Secret, read_secret
    from netdiag.trust.identity import (
        PasswordNeeded,
        PasswordNotNeeded,
        load_ca_certificates,
        load_identity,
    )

    identity: ClientIdentity | None = None
    pop3_login: Pop3Login | None = None
    given: list[x509.Certificate] = []
    names: list[str] = []
    named_secrets: list[tuple[str, bytes]] = []
    if credentials.cert is not None:
        password = read_secret(
            file=credentials.cert_password_file,
            env_var=CERT_PASSWORD_ENV,
            prompt="",
            may_prompt=False,
        )
        try:
            identity = load_identity(credentials.cert, credentials.key, password)
        except PasswordNotNeeded:
            # NETDIAG_CERT_PASSWORD is set for the PKCS#12 file a user usually gives; a PEM
            # key without a password is then simply not in need of it. A password given in
            # --cert-password-file for such a file is a mistake worth one line.
            if credentials.cert_password_file is not None:
                raise
            password = None
            identity = load_identity(credentials.cert, credentials.key, None)
        except PasswordNeeded:
            password = read_secret(
                file=None,
                env_var=CERT_PASSWORD_ENV,
                prompt=f"Password for {credentials.cert.name}: ",
                may_prompt=True,
            )
            if password is None:
                raise
            identity = load_identity(credentials.cert, credentials.key, password)
        named_secrets += key_forms(identity.key)
        if password is not None:
            named_secrets.append(("the certificate's password", password.reveal()))
    for path in credentials.ca_files:
        given.extend(load_ca_certificates(path))
        names.append(str(path))
    if credentials.pop3_user is not None:
        secret = read_secret(
            file=credentials.pop3_password_file,
            env_var=POP3_PASSWORD_ENV,
            prompt=f"POP3 password for {credentials.pop3_user}: ",
            may_prompt=True,
        )
        if secret is None:
            raise CertificateError(
                "--pop3-user needs a password: --pop3-password-file or NETDIAG_POP3_PASSWORD",
                de="--pop3-user braucht ein Passwort: --pop3-password-file oder "
                "NETDIAG_POP3_PASSWORD",
            )
        pop3_login = Pop3Login(user=credentials.pop3_user, password=secret, kind=LoginKind.MAILBOX)
        named_secrets.append(("the POP3 password", secret.reveal()))
    elif credentials.probe_login:
        user = f"netdiag-probe-{secrets.token_hex(4)}"
        password = Secret(secrets.token_hex(8).encode())
        pop3_login = Pop3Login(user=user, password=password, kind=LoginKind.PROBE)
    return LoadedCredentials(
        identity=identity,
        given_cas=tuple(given),
        given_name=" + ".join(names),
        client_cas=identity.chain if identity is not None else (),
        client_name=identity.source if identity is not None else "",
        pop3_login=pop3_login,
        known_secrets=KnownSecrets.of(named_secrets),
    )


def build_check_config(
    *,
    profile_path: Path | None,
    targets: Sequence[str],
    only: Sequence[str],
    resolvers: Sequence[str],
    uses_system_resolver: bool,
    expected_networks: Sequence[str],
    timeout_s: float,
    deadline_s: float,
    repeat: int,
    interval_s: float = 1.0,
    credentials: Credentials | None = None,
    cert_warn_days: int = 30,
    slow_banner_s: float = 3.0,
    pin_files: Sequence[Path] | None = None,
    trust_store: Path | None = None,
) -> CheckConfig:
    """Load the profile (or the --target endpoints), filter, and check every value."""
    if targets:
        chosen = tuple(dict.fromkeys(parse_target(t) for t in targets))
        name, networks = COMMAND_LINE, tuple[Network, ...]()
    else:
        profile = load_profile(profile_path)
        chosen, name, networks = profile.targets, profile.name, profile.expected_networks
    chosen = select_targets(chosen, only)
    if not chosen:
        raise UsageError(
            f"--only {', '.join(only)}: no endpoint matches",
            de=f"--only {', '.join(only)}: kein Endpunkt passt",
        )
    parsed_resolvers = tuple(parse_resolver(r) for r in resolvers)
    if (
        not uses_system_resolver
        and not parsed_resolvers
        and any(not t.is_address_literal for t in chosen)
    ):
        raise UsageError(
            "--no-system-resolver needs at least one --resolver to resolve names",
            de="--no-system-resolver braucht mindestens einen --resolver, um Namen aufzulösen",
        )
    try:
        extra = tuple(ipaddress.ip_network(n, strict=False) for n in expected_networks)
    except ValueError as e:
        raise UsageError(f"--expect-network: {e}", de=f"--expect-network: {e}") from None
    from netdiag.trust.model import TrustContext

    loaded = load_credentials(credentials or Credentials())
    trust = load_trust(chosen, profile_path, pin_files, trust_store)
    return CheckConfig(
        targets=chosen,
        resolvers=parsed_resolvers,
        uses_system_resolver=uses_system_resolver,
        expected_networks=networks + extra,
        timeout_s=timeout_s,
        deadline_s=max(deadline_s, timeout_s),
        repeat=repeat,
        interval_s=interval_s,
        profile_name=name,
        cert_warn_days=cert_warn_days,
        slow_banner_s=slow_banner_s,
        identity=loaded.identity,
        pop3_login=loaded.pop3_login,
        known_secrets=loaded.known_secrets,
        pins=trust.pins,
        trust=TrustContext(
            given_cas=loaded.given_cas,
            given_name=loaded.given_name,
            client_cas=loaded.client_cas,
            client_name=loaded.client_name,
        ),
        stores=trust.stores,
    )


def load_trust(
    targets: Sequence[Target],
    profile_path: Path | None,
    pin_files: Sequence[Path] | None,
    trust_store: Path | None,
) -> LoadedTrust:
    """Pins, and the machine's and the public trust stores for the TLS endpoints (read
    from now on, beside what comes next: see `netdiag.session.stores`)."""
    from netdiag.session.stores import StoresReading, read_stores
    from netdiag.trust.pins import load_pins, pin_file_reasons

    if pin_files is None:
        found = pin_file_reasons(profile_path)
        pins = load_pins(found, found)
    else:
        pins = load_pins(pin_files)
    if not any(t.service is not Service.TCP for t in targets):
        return LoadedTrust(pins=pins)
    return LoadedTrust(pins=pins, stores=StoresReading(partial(read_stores, trust_store)))
