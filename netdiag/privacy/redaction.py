"""--redact: replace internal addresses and host names with stable placeholders, the same
placeholder for the same value in every file of a bundle."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

BASE64_BLOB = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def is_internal(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified
    )


class Redactor:
    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = sorted({n for n in names if n}, key=len, reverse=True)
        self.mapping: dict[str, str] = {}

    def _placeholder(self, value: str, kind: str) -> str:
        if value not in self.mapping:
            count = sum(1 for v in self.mapping.values() if v.startswith(kind)) + 1
            self.mapping[value] = f"{kind}-{count}"
        return self.mapping[value]

    def text(self, text: str) -> str:
        """`text` with internal names and addresses replaced; base64 blobs (certificates
        in DER) are left as they are: a name found inside one is chance, not a leak."""
        parts = BASE64_BLOB.split(text)
        blobs = BASE64_BLOB.findall(text)
        redacted = [self._redact(part) for part in parts]
        return "".join(p + (blobs[i] if i < len(blobs) else "") for i, p in enumerate(redacted))

    def _redact(self, text: str) -> str:
        for name in self.names:
            # Whole names only: a host called "vm" must not eat the "vm" of other words.
            pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", re.IGNORECASE)
            if pattern.search(text):
                text = pattern.sub(self._placeholder(name, "internal-host"), text)

        def address(match: re.Match[str]) -> str:
            value = match.group(0)
            return self._placeholder(value, "internal-address") if is_internal(value) else value

        text = _IPV4.sub(address, text)
        return _IPV6.sub(address, text)
