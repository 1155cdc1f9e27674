"""Whether raw sockets (for scapy) can be had here, said in one line when they cannot."""

from __future__ import annotations

import logging
import os
import socket
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
    quiet_scapy()
    needed = "tracing and capture need raw sockets: run as root (or with CAP_NET_RAW)"
    if sys.platform == "linux":
        # Ask the kernel rather than guess from the user id: capabilities can be dropped.
        try:
            socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
        except PermissionError:
            return needed
        except OSError:
            pass  # another reason (no AF_PACKET): let the probe itself say what fails
        return ""
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return needed
    return ""


def quiet_scapy() -> None:
    """scapy logs warnings to stderr; netdiag says what matters itself, in one line."""
    logging.getLogger("scapy").setLevel(logging.ERROR)
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
