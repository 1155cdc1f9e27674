"""What is secret: proxy values in every form lose their credentials; the run's own
secrets are found in every form they could take in a file."""

from __future__ import annotations

import base64
import json

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from netdiag.privacy.audit import (
    KnownSecrets,
    has_userinfo,
    key_forms,
    proxy_credentials,
    strip_userinfo,
)
from netdiag.probes.environment import collect_environment

PASSWORD = "S3cr/et@pw:x"

PROXY_FORMS = [
    (f"http://user:{PASSWORD}@proxy.klinik.local:3128", "http://***@proxy.klinik.local:3128"),
    (f"user:{PASSWORD}@proxy.klinik.local:3128", "***@proxy.klinik.local:3128"),
    (f"http://user:{PASSWORD}@[2001:db8::3]:3128/", "http://***@[2001:db8::3]:3128/"),
    (f"user:{PASSWORD}@[2001:db8::3]:3128", "***@[2001:db8::3]:3128"),
    (
        f"http=user:{PASSWORD}@proxy:3128;https=proxy:3129",
        "http=***@proxy:3128;https=proxy:3129",
    ),
    (
        f"http://user:{PASSWORD}@proxy:3128 https://other:{PASSWORD}@proxy2:8080",
        "http://***@proxy:3128 https://***@proxy2:8080",
    ),
    (
        f"    Proxy Server(s) :  user:{PASSWORD}@proxy.klinik.local:8080\n"
        "    Bypass List     :  <local>",
        "    Proxy Server(s) :  ***@proxy.klinik.local:8080\n    Bypass List     :  <local>",
    ),
    ("http://proxy.klinik.local:3128", "http://proxy.klinik.local:3128"),
    ("proxy:3128;<local>", "proxy:3128;<local>"),
    ("", ""),
]


@pytest.mark.parametrize(("value", "expected"), PROXY_FORMS)
def test_proxy_values_lose_their_credentials(value: str, expected: str) -> None:
    stripped = strip_userinfo(value)
    assert stripped == expected
    for part in ("S3cr", "et@pw", PASSWORD):
        assert part not in stripped


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "https_proxy", "ALL_PROXY"])
@pytest.mark.parametrize(("value", "_"), PROXY_FORMS[:6])
def test_environment_json_holds_no_proxy_password(
    variable: str, value: str, _: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    dumped = json.dumps(collect_environment())
    assert "S3cr" not in dumped and "et@pw" not in dumped
    assert "***@" in dumped


def test_urls_with_credentials_are_recognised() -> None:
    assert has_userinfo("see http://admin:pw@10.0.0.1/ for details")
    assert has_userinfo("ftp://user@host/file")
    assert not has_userinfo("http://proxy.local:3128 and mail1@dicommail.com")
    assert not has_userinfo("http://***@proxy.local:3128")  # already stripped


def test_every_form_of_the_known_secrets_is_found() -> None:
    key = trustme.CA().issue_cert("gateway").private_key_pem.bytes()
    private = serialization.load_pem_private_key(key, None)
    known = KnownSecrets.of([("the POP3 password", PASSWORD.encode()), *key_forms(private)])
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for data, name in [
        (b"PASS " + PASSWORD.encode(), "the POP3 password"),
        (base64.b64encode(PASSWORD.encode()), "the POP3 password (base64)"),
        (PASSWORD.encode("utf-16-le"), "the POP3 password (UTF-16)"),
        (b"blob" + der + b"blob", "the private key"),
        (base64.b64encode(der), "the private key"),
        (pem, "the private key"),
    ]:
        assert known.found_in(data).startswith(name), data[:40]
    assert known.found_in(b"an ordinary report") == ""
    assert known.scrub(f"USER x PASS {PASSWORD}") == "USER x PASS ***"


def test_debug_output_is_scrubbed_of_every_part_of_a_live_secret() -> None:
    from netdiag.privacy.secret import Secret, scrub

    secret = Secret("Prüfwört-Ä€-17".encode())
    traceback_text = (
        "UnicodeEncodeError: 'ascii' codec can't encode 'Prüfwört-Ä€-17'\n  value = 'wört-Ä€'\n"
    )
    scrubbed = scrub(traceback_text)
    for part in ("Prüfwört", "wört-Ä€", "Ä€-17"):
        assert part not in scrubbed
    assert "UnicodeEncodeError" in scrubbed
    del secret


# Passwords as people type them: any printable character, ";" "@" "/" ":" "%" and blanks
# included (RFC 3986 says to encode them; nobody does).
PASSWORDS = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=4, max_size=24
).filter(lambda p: p.strip() == p and not p.startswith(("/", "[")))


@settings(max_examples=300, deadline=None)
@given(password=PASSWORDS, form=st.sampled_from(["url", "bare", "windows", "pac"]))
def test_a_proxy_password_of_any_characters_is_removed_by_parsing(password: str, form: str) -> None:
    if form == "bare":  # without a scheme, a blank ends the value (see strip_userinfo)
        password = password.replace(" ", "-")
    value = {
        "url": f"http://proxyuser:{password}@proxy.klinik.local:3128",
        "bare": f"proxyuser:{password}@proxy.klinik.local:3128",
        "windows": f"http=proxyuser:{password}@proxy:3128;https=proxy:3129",
        "pac": f"https://proxyuser:{password}@wpad.klinik.local/proxy.pac",
    }[form]
    stripped = strip_userinfo(value)
    # Exactly the value without its user part (a password such as "http" or "3128" is also
    # a part of the rest, so the comparison is whole).
    assert (
        stripped
        == {
            "url": "http://***@proxy.klinik.local:3128",
            "bare": "***@proxy.klinik.local:3128",
            "windows": "http=***@proxy:3128;https=proxy:3129",
            "pac": "https://***@wpad.klinik.local/proxy.pac",
        }[form]
    ), stripped
    found = dict(proxy_credentials(value))
    assert found["a proxy's password"] == password.encode()


def test_the_bundles_audit_knows_the_machines_proxy_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second line of defence checks the exact bytes: a file that held the password in
    any form stops the bundle, whatever its format made of the URL."""
    from netdiag.probes.proxies import proxy_credentials_here

    monkeypatch.setenv("HTTPS_PROXY", "http://proxyuser:Pa;ss-w0rd@proxy:3128")
    secrets = KnownSecrets().with_(proxy_credentials_here())
    assert secrets.found_in(b'{"HTTPS_PROXY": "proxyuser:Pa;***@proxy:3128"}') == ""
    assert secrets.found_in(b"leaked Pa;ss-w0rd here") == "a proxy's password"
    dumped = json.dumps(collect_environment()).encode()
    assert secrets.found_in(dumped) == "" and b"Pa;ss" not in dumped
