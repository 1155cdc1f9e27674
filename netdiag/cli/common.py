"""What the commands share: the console they write to, and the check configuration their
options describe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from netdiag.cli.groups import Checking, ClientCertificate, Endpoints, Trust
from netdiag.console import Console
from netdiag.settings.defaults import DEFAULT_DEADLINE_S

if TYPE_CHECKING:
    from netdiag.session.config import CheckConfig


def console_of(ctx: typer.Context) -> Console:
    return ctx.obj if isinstance(ctx.obj, Console) else Console.system()


def check_config(
    endpoints: Endpoints,
    client: ClientCertificate,
    trust: Trust | None = None,
    checking: Checking | None = None,
) -> CheckConfig:
    """The configuration the options describe; commands without `check`'s tuning get a
    round long enough for their timeout."""
    from netdiag.session.setup import Credentials, build_check_config

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
