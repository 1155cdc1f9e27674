"""Where proxies are configured, parsed from real-shaped values (environment variables,
WinINET's per-protocol lists and overrides, WinHTTP, an AutoConfigURL), never keeping a
credential; and the proxy rules, table-driven."""

from __future__ import annotations

import pytest

from netdiag.diagnosis.proxy import diagnose_proxy
from netdiag.probes.proxies import (
    is_bypassed,
    parse_winhttp,
    parse_wininet,
    proxies_from_environment,
)
from netdiag.report.observations import ConfiguredProxy, ProxyAttempt, ProxyOutcome
from netdiag.settings.targets import Service, Target


def test_environment_in_either_case_without_credentials() -> None:
    proxies, remarks = proxies_from_environment(
        {
            "https_proxy": "http://svc-netdiag:S3cr3t%2F@proxy.klinik.local:3128/",
            "HTTP_PROXY": "10.1.2.3:8080",
            "ALL_PROXY": "socks5://10.1.2.4:1080",
            "no_proxy": "localhost,.klinik.local, 10.0.0.0/8",
        }
    )
    assert [(p.source, p.host, p.port, p.has_credentials) for p in proxies] == [
        ("HTTPS_PROXY", "proxy.klinik.local", 3128, True),
        ("HTTP_PROXY", "10.1.2.3", 8080, False),
    ]
    assert proxies[0].bypass == ("localhost", ".klinik.local", "10.0.0.0/8")
    assert remarks == ["ALL_PROXY: a socks5 proxy, not tried (netdiag speaks to HTTP proxies)"]
    assert "S3cr3t" not in repr(proxies) + repr(remarks)


@pytest.mark.parametrize(
    ("values", "expected", "pac"),
    [
        (
            {
                "ProxyEnable": 1,
                "ProxyServer": "proxy.klinik.local:8080",
                "ProxyOverride": "<local>;*.klinik.local",
            },
            [("WinINET", "proxy.klinik.local", 8080)],
            (),
        ),
        (
            {
                "ProxyEnable": 1,
                "ProxyServer": "http=10.1.2.3:3128;https=10.1.2.4:3129;ftp=10.1.2.5:21;"
                "socks=10.1.2.6:1080",
            },
            [("WinINET (http=)", "10.1.2.3", 3128), ("WinINET (https=)", "10.1.2.4", 3129)],
            (),
        ),
        ({"ProxyEnable": 0, "ProxyServer": "proxy:8080"}, [], ()),
        (
            {"AutoConfigURL": "http://wpad.klinik.local/proxy.pac"},
            [],
            (("WinINET AutoConfigURL", "http://wpad.klinik.local/proxy.pac"),),
        ),
    ],
    ids=["one for all", "per protocol", "switched off", "PAC only"],
)
def test_wininet_from_its_registry_values(
    values: dict[str, object],
    expected: list[tuple[str, str, int]],
    pac: tuple[tuple[str, str], ...],
) -> None:
    found = parse_wininet(values)
    assert [(p.source, p.host, p.port) for p in found.proxies] == expected
    assert found.pac_urls == pac


def test_wininet_override_and_switched_off_are_said() -> None:
    found = parse_wininet(
        {"ProxyEnable": 1, "ProxyServer": "p:8080", "ProxyOverride": "<local>;*.klinik.local"}
    )
    assert found.proxies[0].bypass == ("<local>", "*.klinik.local")
    off = parse_wininet({"ProxyEnable": 0, "ProxyServer": "p:8080"})
    assert off.proxies == () and "switched off" in off.remarks[0]


def test_winhttp_as_its_blob_reads() -> None:
    found = parse_winhttp({"mode": "proxy", "proxy": "10.1.2.3:3128", "bypass": "<local>"})
    assert [(p.source, p.label, p.bypass) for p in found.proxies] == [
        ("WinHTTP", "10.1.2.3:3128", ("<local>",))
    ]
    assert parse_winhttp({"mode": "direct", "proxy": "", "bypass": ""}).proxies == ()


@pytest.mark.parametrize(
    ("host", "bypass", "is_bypassed_"),
    [
        ("mail1.dicommail.com", (".klinik.local", "<local>"), False),
        ("relay.klinik.local", ("*.klinik.local",), True),
        ("klinik.local", (".klinik.local",), True),
        ("gateway", ("<local>",), True),
        ("mail1.dicommail.com", ("*",), True),
        ("notklinik.local", (".klinik.local",), False),
        # Networks, as curl and Python's requests read NO_PROXY.
        ("127.0.0.1", ("127.0.0.0/8",), True),
        ("10.1.2.3", ("10.0.0.0/8", ".klinik.local"), True),
        ("192.0.2.7", ("10.0.0.0/8",), False),
        ("2001:db8::7", ("2001:db8::/32",), True),
        ("2001:db8::7", ("10.0.0.0/8",), False),
        ("10.1.2.3", ("10.1.2.3",), True),
        ("mail1.dicommail.com", ("127.0.0.0/8",), False),
    ],
)
def test_bypass_lists(host: str, bypass: tuple[str, ...], is_bypassed_: bool) -> None:
    assert is_bypassed(host, bypass) is is_bypassed_


def test_a_network_in_the_bypass_list_applies_to_the_address_a_name_resolved_to() -> None:
    assert is_bypassed("relay.example", ("10.0.0.0/8",), address="10.4.5.6")
    assert not is_bypassed("relay.example", ("10.0.0.0/8",), address="192.0.2.7")


PROXY = ConfiguredProxy(source="HTTPS_PROXY", host="10.1.2.3", port=3128)
SMTP = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)


def answered(status: int, line: str) -> ProxyAttempt:
    return ProxyAttempt(
        proxy=PROXY, outcome=ProxyOutcome.ANSWERED, status=status, status_line=f"HTTP/1.1 {line}"
    )


ROWS = [
    (
        "only the proxy goes out, 403",
        answered(403, "403 Forbidden"),
        True,
        "proxy.only_way_out",
        "403 Forbidden",
    ),
    (
        "only the proxy goes out, 200",
        answered(200, "200 Connection established"),
        True,
        "proxy.only_way_out",
        "200 Connection established",
    ),
    (
        "blocked, the proxy refuses",
        answered(403, "403 Forbidden"),
        False,
        "proxy.connect_refused",
        "403 Forbidden",
    ),
    (
        "blocked, the proxy wants a login",
        answered(407, "407 Proxy Authentication Required"),
        False,
        "proxy.auth_required",
        "407 Proxy Authentication Required",
    ),
    (
        "blocked, the proxy tunnels",
        answered(200, "200 Connection established"),
        False,
        "proxy.connect_allowed",
        "200 Connection established",
    ),
    (
        "the proxy is down",
        ProxyAttempt(proxy=PROXY, outcome=ProxyOutcome.REFUSED, detail="connection refused"),
        True,
        "proxy.unreachable",
        "refused",
    ),
]


@pytest.mark.parametrize(
    ("attempt", "is_everything_blocked", "code", "detail"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_proxy_rules(
    attempt: ProxyAttempt, is_everything_blocked: bool, code: str, detail: str
) -> None:
    (found,) = diagnose_proxy(SMTP, [attempt], is_everything_blocked=is_everything_blocked)
    assert (found.code, found.subject, found.detail) == (code, "10.1.2.3:3128", detail)


def test_no_attempt_no_finding() -> None:
    assert diagnose_proxy(SMTP, [], is_everything_blocked=True) == []


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        ("en", ["proxy.example:3128 from HTTPS_PROXY, not for .clinic.local, credentials "
                "configured (never sent)",
                "PAC http://wpad/wpad.dat from WinINET: not evaluated"]),
        ("de", ["proxy.example:3128 aus HTTPS_PROXY, nicht für .clinic.local, Anmeldedaten "
                "eingerichtet (nie gesendet)",
                "PAC http://wpad/wpad.dat aus WinINET: nicht ausgewertet"]),
    ],
)  # fmt: skip
def test_the_configured_proxies_in_both_languages(lang: str, lines: list[str]) -> None:
    from netdiag.renderers.proxies import settings_lines
    from netdiag.report.observations import ConfiguredProxy, ProxySettings

    settings = ProxySettings(
        proxies=(
            ConfiguredProxy(
                source="HTTPS_PROXY",
                host="proxy.example",
                port=3128,
                has_credentials=True,
                bypass=(".clinic.local",),
            ),
        ),
        pac_urls=(("WinINET", "http://wpad/wpad.dat"),),
    )
    assert settings_lines(settings, lang) == lines
    assert settings_lines(ProxySettings(), lang) == [
        "kein Web-Proxy eingerichtet (Umgebung, WinHTTP, Internetoptionen)"
        if lang == "de"
        else "no web proxy configured (environment, WinHTTP, Internet Options)"
    ]
