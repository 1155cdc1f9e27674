"""What is secret, decided in one place: credentials in proxy settings and URLs, and the
run's own secrets (the certificate's password, the POP3 password, the private key in PEM
and DER, and the base64 of each). The environment, the renderers' output in a bundle and
debug output pass through here."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

HIDDEN = "***"
# scheme://userinfo@host — the userinfo is everything up to the last "@" of the authority
# (passwords may hold "@" and "/"; RFC 3986 says to encode them, people do not).
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s;\"'<>]*@)")
# Windows proxy lists: "http=proxy:3128;https=proxy:3129", or separated by blanks.
_LIST_SEPARATOR = re.compile(r"[;\s]+")


def strip_userinfo(value: str) -> str:
    """A proxy value (or list of them) with any user name and password replaced by ***:
    with or without a scheme, IPv6 hosts, `;`- or blank-separated Windows lists,
    `proto=` prefixes. The rest stays as it was."""
    parts = re.split(r"([;\s]+)", value)
    return "".join(
        part if _LIST_SEPARATOR.fullmatch(part) or not part else _strip_one(part) for part in parts
    )


def _strip_one(item: str) -> str:
    prefix, equals, rest = item.partition("=")
    if not equals or "@" in prefix or "/" in prefix or ":" in prefix:
        prefix, equals, rest = "", "", item
    scheme, separator, authority = rest.partition("://")
    if not separator:
        scheme, authority = "", rest
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return item
    head = f"{scheme}://" if separator else ""
    return f"{prefix}{equals}{head}{HIDDEN}@{host}" if userinfo else item


def has_userinfo(text: str) -> bool:
    """Whether `text` holds a URL with a user name or password in it."""
    return any(m.group("userinfo") not in ("@", f"{HIDDEN}@") for m in _URL_USERINFO.finditer(text))


@dataclass(frozen=True, slots=True)
class KnownSecrets:
    """The run's own secrets in every form they could appear in a file. `forms` pairs a
    name for the error message (never the secret) with the bytes to look for."""

    forms: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, named: Iterable[tuple[str, bytes]]) -> KnownSecrets:
        forms: list[tuple[str, bytes]] = []
        for name, value in named:
            # Short values would match by chance (a 2-character password is in every file).
            if len(value) < 4:
                continue
            forms.append((name, value))
            forms.append((f"{name} (base64)", base64.b64encode(value)))
            try:
                forms.append((f"{name} (UTF-16)", value.decode("utf-8").encode("utf-16-le")))
            except UnicodeDecodeError:
                pass
        return cls(tuple(forms))

    def found_in(self, data: bytes) -> str:
        """The name of the first secret form found in `data`, or ""."""
        return next((name for name, value in self.forms if value in data), "")

    def scrub(self, text: str) -> str:
        """`text` with every known secret form replaced by ***."""
        for _, value in self.forms:
            try:
                text = text.replace(value.decode("utf-8"), HIDDEN)
            except UnicodeDecodeError:
                continue
        return text


def key_forms(key: object) -> list[tuple[str, bytes]]:
    """The private key as PEM (PKCS#8 and traditional) and DER, for the audit."""
    from cryptography.hazmat.primitives import serialization

    forms: list[tuple[str, bytes]] = []
    for name, encoding, fmt in (
        ("the private key (PEM)", serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
        ("the private key (DER)", serialization.Encoding.DER, serialization.PrivateFormat.PKCS8),
        (
            "the private key (PEM, traditional)",
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
        ),
    ):
        try:
            data = key.private_bytes(encoding, fmt, serialization.NoEncryption())  # type: ignore[attr-defined]
        except (AttributeError, ValueError, TypeError):
            continue
        if encoding is serialization.Encoding.PEM:
            # A line of the PEM body that is all key material (the first begins with the
            # algorithm's header, the same for every key of a kind).
            lines = [line for line in data.splitlines() if not line.startswith(b"-----")]
            forms.append((name, lines[1] if len(lines) > 2 else b"".join(lines)))
        else:
            forms.append((name, data))
    return forms
