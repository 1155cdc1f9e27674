"""What the commands share: the console they write to, and the check configuration their
options describe."""

# No `from __future__ import annotations` in the command line: typer reads every
# command's annotations at start-up, and as strings each would be compiled first.

from typing import TYPE_CHECKING

import typer

from netdiag.cli.groups import Checking, ClientCertificate, Dialogue, Endpoints, Rounds, Trust
from netdiag.console import Console
from netdiag.settings.defaults import DEFAULT_DEADLINE_S

if TYPE_CHECKING:
    from netdiag.session.config import CheckConfig


def examples(*commands: str) -> str:
    """A command's help epilog: its examples, each on a line of its own as typed (click's
    `\\b` keeps the paragraph from being re-wrapped)."""
    return "\b\nExamples:\n" + "\n".join(f"  {command}" for command in commands)


def language_of(lang: str | None) -> str:
    """`--lang` as given (de or en), else the locale's."""
    from netdiag.errors import UsageError
    from netdiag.renderers.text import default_language

    if lang not in (None, "de", "en"):
        raise UsageError(f"--lang {lang!r}: de or en", de=f"--lang {lang!r}: de oder en")
    return lang or default_language()


def console_of(ctx: typer.Context) -> Console:
    return ctx.obj if isinstance(ctx.obj, Console) else Console.system()


def check_config(
    endpoints: Endpoints,
    client: ClientCertificate,
    trust: Trust | None = None,
    checking: Checking | None = None,
    rounds: Rounds | None = None,
    dialogue: Dialogue | None = None,
) -> "CheckConfig":
    """The configuration the options describe; commands without `check`'s tuning get a
    round long enough for their timeout, one round, and the dialogue's defaults."""
    from netdiag.session.setup import Credentials, build_check_config

    trust = trust or Trust()
    checking = checking or Checking(deadline=max(DEFAULT_DEADLINE_S, 4 * endpoints.timeout))
    rounds = rounds or Rounds()
    dialogue = dialogue or Dialogue()
    return build_check_config(
        profile_path=endpoints.profile,
        targets=endpoints.target or [],
        only=endpoints.only or [],
        resolvers=endpoints.resolver or [],
        uses_system_resolver=not endpoints.no_system_resolver,
        expected_networks=endpoints.expect_network or [],
        timeout_s=endpoints.timeout,
        deadline_s=checking.deadline,
        repeat=rounds.repeat,
        interval_s=rounds.interval,
        credentials=Credentials(
            cert=client.cert,
            key=client.key,
            cert_password_file=client.cert_password_file,
            ca_files=tuple(checking.ca or ()),
            pop3_user=dialogue.pop3_user,
            pop3_password_file=dialogue.pop3_password_file,
            probe_login=dialogue.probe_login,
        ),
        cert_warn_days=checking.cert_warn_days,
        slow_banner_s=dialogue.slow_banner,
        pin_files=trust.pins,
        trust_store=trust.trust_store,
    )
