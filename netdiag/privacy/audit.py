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
# scheme://userinfo@host — for the audit's second line of defence: any URL in a file whose
# authority carries a user name or password.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s\"'<>]*@)")
# Where one proxy item ends and the next begins: a separator (";" or blanks) followed by
# a Windows "proto=" or a URL's scheme. A ";" inside a password is followed by neither, and
# does not cut the password in two.
_ITEM_BOUNDARY = re.compile(
    r"[;\s]+(?=(?:(?:https?|ftp|socks[45]?|gopher)=|[A-Za-z][A-Za-z0-9+.-]*://))", re.IGNORECASE
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# The protocols of a Windows proxy list ("http=…;https=…;socks=…").
_PROTO = re.compile(r"(?:https?|ftp|socks[45]?|gopher)=", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ProxyValue:
    """One proxy item parsed as a URL: what comes before the userinfo (a Windows
    `proto=`, a scheme), the userinfo ("" when there is none) and the rest (host, port,
    path). The userinfo is everything up to the last "@" of the item: passwords may hold
    "@", "/", ";" and ":" (RFC 3986 says to encode them; people do not)."""

    head: str
    userinfo: str
    rest: str

    @classmethod
    def parse(cls, item: str) -> ProxyValue:
        head = ""
        proto = _PROTO.match(item)
        if proto and "://" not in item[: proto.end()]:
            head, item = item[: proto.end()], item[proto.end() :]
        scheme = _SCHEME.match(item)
        if scheme:
            head, item = head + scheme.group(0), item[scheme.end() :]
        userinfo, at, rest = item.rpartition("@")
        return cls(head, userinfo, rest) if at else cls(head, "", item)

    @property
    def without_userinfo(self) -> str:
        return f"{self.head}{HIDDEN}@{self.rest}" if self.userinfo else f"{self.head}{self.rest}"


def _items(value: str) -> list[tuple[str, str]]:
    """A proxy value cut into (separator before it, item): one URL, a Windows list
    ("http=a:3128;https=b:3129"), several URLs, or a tool's text around them (netsh's
    "Proxy Server(s) :  user:pw@proxy:8080"). Items are found where a separator is followed
    by "proto=" or a scheme; within what is left, by blanks."""
    parts: list[tuple[str, str]] = []
    position = 0
    text = value
    for match in _ITEM_BOUNDARY.finditer(text):
        parts.append((text[position : match.start()], match.group(0)))
        position = match.end()
    parts.append((text[position:], ""))
    found: list[tuple[str, str]] = []
    before = ""
    for chunk, after in parts:
        # Inside one chunk: a single URL (its password may hold blanks and "@") when it
        # starts with a scheme or "proto="; otherwise words split by blanks (a bare
        # "user:pass@host" inside a tool's text cannot tell a blank in a password from
        # the text around it).
        stripped = chunk.strip()
        if _SCHEME.match(stripped) or _PROTO.match(stripped):
            lead = chunk[: len(chunk) - len(chunk.lstrip())]
            tail = chunk[len(chunk.rstrip()) :]
            found.append((before + lead, stripped))
            before = tail + after
            continue
        for word in re.split(r"(\s+)", chunk):
            if not word:
                continue
            if word.isspace():
                before += word
            else:
                found.append((before, word))
                before = ""
        before += after
    if before:
        found.append((before, ""))
    return found


def strip_userinfo(value: str) -> str:
    """A proxy value (a URL, a Windows list, a tool's text holding them) with any user name
    and password replaced by ***, found by parsing each item as a URL, whatever characters
    the password holds: with or without a scheme, IPv6 hosts, `proto=` prefixes."""
    if "@" not in value:
        return value
    return "".join(
        separator + (ProxyValue.parse(item).without_userinfo if "@" in item else item)
        for separator, item in _items(value)
    )


def proxy_credentials(value: str) -> list[tuple[str, bytes]]:
    """The user names and passwords a proxy value carries, named for the audit: what must
    never appear in a file of a bundle, checked as the exact bytes."""
    found: list[tuple[str, bytes]] = []
    for _, item in _items(value):
        userinfo = ProxyValue.parse(item).userinfo if "@" in item else ""
        if not userinfo:
            continue
        user, colon, password = userinfo.partition(":")
        found.append(("a proxy's credentials", userinfo.encode("utf-8")))
        if colon and password:
            found.append(("a proxy's password", password.encode("utf-8")))
    return found


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

    def with_(self, named: Iterable[tuple[str, bytes]]) -> KnownSecrets:
        """These secrets and those of `named` (each in its every form)."""
        return KnownSecrets((*self.forms, *KnownSecrets.of(named).forms))

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
