"""`netdiag proxies`: the web proxies this machine is configured with, where each came
from, and the proxy auto-config URLs (reported, never run)."""

from __future__ import annotations

import json

from netdiag.renderers.json import plain
from netdiag.report.observations import ProxySettings


def settings_lines(settings: ProxySettings) -> list[str]:
    """What was found, for people: each proxy with its source, each PAC URL, each remark."""
    lines = [
        f"{p.label} from {p.source}"
        + (f", not for {', '.join(p.bypass)}" if p.bypass else "")
        + (", credentials configured (never sent)" if p.has_credentials else "")
        for p in settings.proxies
    ]
    lines += [f"PAC {url} from {source}: not evaluated" for source, url in settings.pac_urls]
    lines += list(settings.remarks)
    return lines or ["no web proxy configured (environment, WinHTTP, Internet Options)"]


def render_proxies(settings: ProxySettings, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(plain(settings), indent=2, ensure_ascii=False)
    return "\n".join(settings_lines(settings))
