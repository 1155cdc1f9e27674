"""Whether raw sockets (for scapy) can be had here, said in one line when they cannot."""

from __future__ import annotations

import os
import sys


def raw_socket_problem() -> str:
    """ "" when raw sockets are available; else what is needed, in one sentence."""
    if sys.platform == "win32":
        try:
            from scapy.config import conf
        except ImportError:  # pragma: no cover - scapy is a dependency
            return "tracing and capture need scapy"
        if not getattr(conf, "use_pcap", False):
            return "tracing and capture need Npcap (https://npcap.com) and an administrator shell"
        return ""
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "tracing and capture need raw sockets: run as root (or with CAP_NET_RAW)"
    return ""
