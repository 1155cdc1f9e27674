"""`netdiag proxies`: the web proxies this machine is configured with, where each came
from, and the proxy auto-config URLs (reported, never run)."""

from __future__ import annotations

import json

from netdiag.renderers.json import plain
from netdiag.report.observations import ProxySettings

_WORDS = {
    "en": {
        "from": "{label} from {source}",
        "bypass": ", not for {hosts}",
        "credentials": ", credentials configured (never sent)",
        "pac": "PAC {url} from {source}: not evaluated",
        "none": "no web proxy configured (environment, WinHTTP, Internet Options)",
    },
    "de": {
        "from": "{label} aus {source}",
        "bypass": ", nicht für {hosts}",
        "credentials": ", Anmeldedaten eingerichtet (nie gesendet)",
        "pac": "PAC {url} aus {source}: nicht ausgewertet",
        "none": "kein Web-Proxy eingerichtet (Umgebung, WinHTTP, Internetoptionen)",
    },
}


def settings_lines(settings: ProxySettings, lang: str = "en") -> list[str]:
    """What was found, for people: each proxy with its source, each PAC URL, each remark."""
    words = _WORDS["de" if lang == "de" else "en"]
    lines = [
        words["from"].format(label=p.label, source=p.source)
        + (words["bypass"].format(hosts=", ".join(p.bypass)) if p.bypass else "")
        + (words["credentials"] if p.has_credentials else "")
        for p in settings.proxies
    ]
    lines += [words["pac"].format(url=url, source=source) for source, url in settings.pac_urls]
    lines += list(settings.remarks)
    return lines or [words["none"]]


def render_proxies(settings: ProxySettings, as_json: bool = False, lang: str = "en") -> str:
    if as_json:
        return json.dumps(plain(settings), indent=2, ensure_ascii=False)
    return "\n".join(settings_lines(settings, lang))
