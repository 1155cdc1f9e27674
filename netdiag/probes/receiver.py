"""Where to listen for the answers to netdiag's own packets, and a receiver (scapy's
sniffer) that starts or says in one line why it cannot.

Real gateways have disconnected NICs, disabled adapters, VPN and Hyper-V adapters: a sniffer
on every interface fails on the first that is down ("Network is down"). Traces listen on
the interfaces of the routes to their destinations — where every answer comes back — and
captures on the interfaces that are up. scapy is imported inside the functions only."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

# How often a starting receiver is looked at: it either says it listens or dies.
_POLL_S = 0.05


class ReceiverError(OSError):
    """The receiver cannot listen; the message says where and why (`german` in German)."""

    def __init__(self, message: str, german: str) -> None:
        super().__init__(message)
        self.german = german


def route_interfaces(addresses: Iterable[str]) -> tuple[str, ...]:
    """The interfaces of the routes to `addresses` (one each, in order, without repeats):
    what the kernel (or Windows' routing table, through Npcap) sends our probes out of, and
    what their answers come back on."""
    import scapy.layers.inet
    import scapy.layers.inet6  # noqa: F401 - both routing tables are filled on import
    from scapy.config import conf

    found: dict[str, None] = {}
    for address in addresses:
        table = conf.route6 if ipaddress.ip_address(address).version == 6 else conf.route
        interface = table.route(address)[0]
        found[str(interface)] = None
    return tuple(found)


def live_interfaces() -> tuple[str, ...]:
    """The interfaces scapy can listen on that the operating system reports up; one the
    system does not report on at all is kept (scapy knows it, nothing says it is down)."""
    import psutil
    from scapy.config import conf

    stats = psutil.net_if_stats()
    live = []
    for interface in conf.ifaces.values():
        state = stats.get(interface.name)
        if state is not None and not state.isup:
            continue
        live.append(str(interface.network_name))
    return tuple(live)


def start_receiver(
    interfaces: Iterable[str],
    bpf: str,
    on_packet: Callable[[Any], None],
    wait_s: float,
) -> Any:
    """A running sniffer on `interfaces` handing each packet to `on_packet`; returns when it
    listens. A receiver that cannot start raises ReceiverError with its own reason (the
    interface and the operating system's words), as soon as it fails."""
    from scapy.sendrecv import AsyncSniffer

    names = tuple(dict.fromkeys(interfaces))
    if not names:
        raise ReceiverError(
            "no network interface is up to listen on",
            "keine Netzwerkschnittstelle ist aktiv, um mitzuhören",
        )
    listening = threading.Event()
    try:
        sniffer = AsyncSniffer(
            iface=list(names),
            filter=bpf,
            prn=on_packet,
            store=False,
            started_callback=listening.set,
        )
        sniffer.start()
    except Exception as e:  # noqa: BLE001 - scapy raises many kinds; one line for the user
        raise ReceiverError(*_reason(names, e)) from None
    ends = time.monotonic() + wait_s
    while not listening.wait(_POLL_S):
        failure = getattr(sniffer, "exception", None)
        thread = getattr(sniffer, "thread", None)
        if failure is not None or (thread is not None and not thread.is_alive()):
            raise ReceiverError(*_reason(names, failure))
        if time.monotonic() > ends:
            stop_receiver(sniffer)
            raise ReceiverError(
                f"the receiver on {', '.join(names)} did not start within {wait_s:g} s",
                f"der Empfänger auf {', '.join(names)} startete nicht binnen {wait_s:g} s",
            )
    return sniffer


def stop_receiver(sniffer: Any) -> None:
    """Stop a receiver, whatever state it is in (one that failed has nothing to stop)."""
    try:
        sniffer.stop(join=True)
    except Exception:  # noqa: BLE001, S110 - a receiver that died re-raises its failure here
        pass


def _reason(names: tuple[str, ...], failure: BaseException | None) -> tuple[str, str]:
    """Why the receiver cannot listen, in English and German (the operating system's own
    words quoted as it said them)."""
    where = ", ".join(names)
    if failure is None:
        why_en, why_de = "the receiver stopped", "der Empfänger hielt an"
    elif isinstance(failure, OSError) and failure.strerror:
        why_en = why_de = failure.strerror
    else:
        why_en = why_de = f"{type(failure).__name__}: {failure}"
    return f"cannot listen on {where}: {why_en}", f"kein Mithören auf {where}: {why_de}"
