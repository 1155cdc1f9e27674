"""What `netdiag verify` says, answer first: the word that decides (with the first step
that failed), who made the bundle (the gateway's identity), when (its own clock) and with
which netdiag, then each step in order with its verdict — in the run's language."""

from __future__ import annotations

from netdiag.console import visible
from netdiag.report.messages import message
from netdiag.trust.cms import BundleVerification


def render_verification(result: BundleVerification, name: str, lang: str) -> str:
    lines = [message("verify.title", lang, bundle=name), _answer(result, lang)]
    if result.signer is not None:
        signer = result.signer
        lines.append(
            message(
                "verify.gateway", lang, subject=signer.subject, serial=signer.serial,
                issuer=signer.issuer,
            )
        )  # fmt: skip
    if result.signing_time:
        lines.append(message("verify.signed_at", lang, time=result.signing_time))
    if result.version:
        lines.append(message("verify.made_by", lang, version=result.version))
    if result.redactions:
        lines.append(message("verify.redacted", lang, what=", ".join(result.redactions)))
    for step in result.steps:
        verdict = message("verify.holds" if step.holds else "verify.fails", lang)
        label = message(f"verify.step.{step.name}", lang)
        lines.append(f"  {verdict:<6} {label}: {step.said(lang)}")
    # The manifest is the bundle's data, not ours: its words reach the terminal escaped,
    # one line each, whatever a forged bundle puts in them.
    return "\n".join(visible(line) for line in lines)


def _answer(result: BundleVerification, lang: str) -> str:
    if result.holds:
        return message("verify.verified", lang)
    failed = next((step for step in result.steps if not step.holds), None)
    if failed is None:
        return message("verify.nothing_checked", lang)
    step = message(f"verify.step.{failed.name}", lang)
    return message("verify.not_verified", lang, step=step, why=failed.said(lang))
