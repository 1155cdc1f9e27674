"""The stable finding codes: each with its default severity, a title and the remedy.

The codes are the JSON contract with everyone who parses netdiag's output: they never
change meaning; new ones are added.
"""

from __future__ import annotations

from dataclasses import dataclass

from netdiag.report.model import Finding, Severity


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    severity: Severity
    title: str
    remedy: str
    # A verdict that explains the other findings of its endpoint (an interception explains
    # the missing certificate request and the closed session): shown first.
    explains_others: bool = False


_I, _W, _C = Severity.INFO, Severity.WARN, Severity.CRIT

CATALOGUE: dict[str, CatalogueEntry] = {
    # DNS
    "dns.nxdomain": CatalogueEntry(
        _C,
        "the name does not exist",
        "Check the resolver the gateway uses: it must resolve the vendor's public names. A split-horizon or filtering DNS (DNS firewall, RPZ) may be hiding them.",
    ),
    "dns.no_answer": CatalogueEntry(
        _C,
        "the name exists but has no address",
        "The resolver answers without an A/AAAA record: check DNS filtering or a local zone that overrides the vendor's domain.",
    ),
    "dns.servfail": CatalogueEntry(
        _C,
        "the resolver failed (SERVFAIL/REFUSED)",
        "The resolver cannot resolve the name: check its forwarders, DNSSEC validation and whether it may recurse for the gateway.",
    ),
    "dns.timeout": CatalogueEntry(
        _C,
        "the resolver did not answer",
        "Allow DNS (53/udp and 53/tcp) from the gateway to its resolver, or point the gateway at a resolver that answers.",
    ),
    "dns.mismatch": CatalogueEntry(
        _W,
        "resolvers give different addresses",
        "Resolvers disagree: find the one with the stale or overriding entry (hosts file, internal zone, DNS filter) and make it return the vendor's public addresses.",
    ),
    "dns.private_address": CatalogueEntry(
        _W,
        "the name resolves to a private or sinkhole address",
        "A public vendor name resolves to a loopback, private, CGNAT or sinkhole address: remove the override (hosts file, internal zone, DNS filter) or declare the network as expected in the profile if it is an intended relay.",
    ),
    # TCP
    "tcp.open": CatalogueEntry(_I, "the port is open", ""),
    "tcp.refused": CatalogueEntry(
        _C,
        "the connection is refused (TCP reset)",
        "Something answers the SYN with a reset: a firewall rule that rejects, or no service on that address. Allow the destination and port outbound on every firewall between the gateway and the Internet.",
    ),
    "tcp.unreachable": CatalogueEntry(
        _C,
        "the destination is unreachable",
        "The network reports the destination unreachable: check the gateway's route and default gateway, and firewall rules that reject with ICMP.",
    ),
    "tcp.prohibited": CatalogueEntry(
        _C,
        "a device prohibits the connection (ICMP administratively prohibited)",
        "A firewall or router rejects the connection by policy; it is the device named in the evidence. Allow the destination and port outbound there.",
    ),
    "tcp.filtered": CatalogueEntry(
        _C,
        "no answer: the SYN is silently dropped",
        "Nothing answers within the timeout: a firewall drops the traffic silently. Allow the destination and port outbound; `netdiag trace` shows where it is dropped.",
    ),
    # SMTP
    "smtp.banner_masked": CatalogueEntry(
        _W,
        "the SMTP banner is masked",
        "An SMTP inspection feature replaces the banner with asterisks: disable SMTP/ESMTP inspection for the vendor's mail servers.",
    ),
    "smtp.starttls_missing": CatalogueEntry(
        _C,
        "STARTTLS is not offered",
        "The EHLO reply has no STARTTLS: a device on the path removes it (an SMTP proxy, or ESMTP inspection) — disable SMTP/ESMTP inspection for the vendor's mail servers there — or the server does not offer it: send the quoted EHLO reply to the vendor. The summary says which netdiag could tell apart.",
    ),
    "smtp.starttls_stripped_locally": CatalogueEntry(
        _C,
        "software on this machine answers SMTP without STARTTLS",
        "Software on the gateway itself (mail scanning of security software, or a local mail proxy) answers the SMTP connection in the server's name and leaves STARTTLS out: set its own mail-scanning exclusion for the gateway's mail program and the vendor's hosts, or stop it. No firewall rule changes this.",
        explains_others=True,
    ),
    "smtp.starttls_masked": CatalogueEntry(
        _C,
        "STARTTLS is masked (XXXXXXXA)",
        "ESMTP inspection (Cisco ASA/PIX-style) masks STARTTLS: disable ESMTP inspection for the vendor's mail servers.",
    ),
    "smtp.starttls_refused": CatalogueEntry(
        _C,
        "STARTTLS is refused",
        "The STARTTLS command gets an error: check SMTP inspection and the reply quoted in the evidence.",
    ),
    "smtp.slow_banner": CatalogueEntry(
        _W,
        "the SMTP banner arrives late",
        "A tarpit or an inspecting proxy delays the banner: check SMTP inspection and anti-spam features on the firewall.",
    ),
    "smtp.greeting_pause": CatalogueEntry(
        _I,
        "the server holds the rest of its greeting back for a while (a pregreet test)",
        "",
    ),
    "smtp.throttled": CatalogueEntry(
        _W,
        "the server refuses temporarily",
        "The server answers with a temporary refusal (4xx): wait and retry; if it persists, send the quoted reply to the vendor.",
    ),
    "smtp.connection_limit": CatalogueEntry(
        _I,
        "the server limits connections per client: it refused a session for now (4xx) while netdiag's other sessions were connected, and took it alone",
        "Nothing to change on the path: the server's own limit of simultaneous connections per client met netdiag's parallel probes. Mail software that opens more sessions at once than the quoted limit allows meets it too.",
    ),
    "smtp.early_close": CatalogueEntry(
        _C,
        "the peer closes the SMTP session early",
        "A mail security appliance or proxy closes the connection: disable SMTP inspection for the vendor's mail servers.",
    ),
    "smtp.no_reply": CatalogueEntry(
        _C,
        "the server does not answer an SMTP command",
        "The connection stays open but a command (EHLO, STARTTLS) gets no answer within the timeout: an SMTP-inspecting firewall that holds the command, or a server that stalls. Check the firewall's SMTP/ESMTP inspection for the vendor's hosts.",
    ),
    "smtp.rejected": CatalogueEntry(
        _C,
        "the server refuses the session",
        "The server answers with a permanent refusal (5xx) at the greeting or EHLO: send the quoted reply to the vendor; a proxy in between may also answer like this.",
    ),
    "smtp.protocol_error": CatalogueEntry(
        _C,
        "the peer does not speak SMTP",
        "What answers on port 25 is not an SMTP server: check for a proxy or a port redirect.",
    ),
    # POP3
    "pop3.protocol_error": CatalogueEntry(
        _C,
        "the peer does not speak POP3",
        "What answers on port 995 is not a POP3 server after TLS: check for a proxy or a port redirect.",
    ),
    "pop3.login_failed": CatalogueEntry(
        _C,
        "the POP3 login fails",
        "The mailbox credentials are refused: check user name and password with the vendor.",
    ),
    # TLS
    "tls.established": CatalogueEntry(_I, "TLS works", ""),
    "tls.handshake_failed": CatalogueEntry(
        _C,
        "the TLS handshake failed",
        "The handshake ends with an alert or a reset: see the evidence; a firewall that inspects TLS is the usual cause.",
    ),
    "tls.handshake_stalled": CatalogueEntry(
        _C,
        "the TLS handshake stalls",
        "TCP is open but the handshake gets no answer: suspect an MTU problem (IPsec tunnel, PPPoE) or a DPI device; try `netdiag mtu`.",
    ),
    "tls.sni_filtered": CatalogueEntry(
        _C,
        "a device cuts handshakes by the server name (SNI)",
        "A web or URL filter on the path resets handshakes that name this host, while the same address answers another of the vendor's names or a handshake without a name: allow the vendor's host names in the filter (URL category or SNI list) of the firewall or proxy named by the trace, or exempt the gateway from URL filtering.",
    ),
    "tls.version_blocked": CatalogueEntry(
        _C,
        "a device blocks handshakes that offer TLS 1.3",
        "An inspection policy on the path cuts ClientHellos that offer TLS 1.3, while TLS 1.2 passes: allow TLS 1.3 for the vendor's hosts (or exempt them from TLS inspection) on that device. Windows 11 and Server 2022 offer TLS 1.3 (older Windows stays on 1.2 and is not affected), and the vendor's servers speak it.",
    ),
    "tls.version_outdated": CatalogueEntry(
        _C,
        "what answers speaks only TLS 1.0 or 1.1",
        "Whatever answers on this port offers only TLS 1.0 or 1.1, deprecated (RFC 8996) and refused by current TLS stacks: if it is the vendor's server, the vendor must enable TLS 1.2 or later on it; if an old TLS inspection or proxy on the path answers for it (a trace shows where), exempt the vendor's hosts from it or replace it. Do not lower the gateway's TLS settings to match.",
    ),
    "tls.hello_intolerant": CatalogueEntry(
        _C,
        "a device chokes on the full ClientHello",
        "A device on the path cuts the gateway's full ClientHello, while a small one passes: an inspection or IPS engine that cannot read a large hello or one of its extensions. Update the device's firmware, or exempt the vendor's hosts from TLS inspection and IPS on it.",
    ),
    "tls.downgraded": CatalogueEntry(
        _C,
        "a device removes TLS 1.3 from the handshake",
        "A device on the path rewrites the gateway's ClientHello to TLS 1.2 (an inspection policy that forces TLS 1.2), and the server's downgrade protection (RFC 8446) makes the handshake fail: exempt the vendor's hosts from that policy and from TLS inspection on the firewall or proxy.",
    ),
    "tls.intercepted": CatalogueEntry(
        _C,
        "TLS is intercepted",
        "Exempt the vendor's hosts and ports from TLS inspection on the firewall: client-certificate authentication cannot work through it.",
        explains_others=True,
    ),
    "tls.intercepted_locally": CatalogueEntry(
        _C,
        "security software on this machine intercepts TLS",
        "The chain is forged by software on the gateway itself (a product whose root is in this machine's own store, or the process that holds the other end of the connection): set its own SSL/TLS or mail-scanning exclusion for the gateway's mail program and the vendor's hosts, or stop it. No firewall rule changes this.",
        explains_others=True,
    ),
    "tls.pinned": CatalogueEntry(_I, "the chain is anchored in a pinned vendor issuer", ""),
    "tls.verified": CatalogueEntry(
        _I, "the chain verifies against the vendor's CA (--ca) or the public roots", ""
    ),
    "tls.unpinned": CatalogueEntry(
        _W,
        "the chain is not verified: no pins and no --ca for it",
        "Give the CA certificates that issue the vendor's server certificates (`--ca`, or `netdiag pins import` of the CA file the vendor delivers), or learn them on a clean path (`netdiag pins learn`). The CA certificates inside the client bundle issued the gateway's certificate; they are no proof for the servers' chains.",
    ),
    "tls.untrusted": CatalogueEntry(
        _C,
        "the server's chain does not verify against the given CA certificates",
        "The chain is not issued by the CAs given with --ca, is expired, or is not valid for the host name. Compare the presented issuer in the evidence with the vendor's server CA: if the server asked for the gateway's certificate and completed the protocol with it, --ca likely holds the wrong CA; otherwise something other than the vendor's server answers.",
    ),
    "tls.chain_unproven": CatalogueEntry(
        _I,
        "the chain was shown, but the handshake did not complete: it proves nothing",
        "A server proves a chain is its own only by completing the handshake with the chain's key. The endpoint's other finding says why it did not; a genuine chain shown by a server that could not complete (a replay) is no sign of the vendor.",
    ),
    "tls.not_the_server": CatalogueEntry(
        _C,
        "a certificate of the vendor's CA, but not this server's (name or purpose)",
        "The answer on this address presents a certificate the vendor's CA issued — but not for this server: another name, or a client certificate (another gateway's). Check that DNS and the path lead to the vendor (an impostor holding a gateway's certificate passes no other check), and send the evidence to the vendor: a server of theirs must present its own server certificate.",
        explains_others=True,
    ),
    "tls.server_cert_expired": CatalogueEntry(
        _C,
        "the server's certificate has expired (by both clocks)",
        "The vendor must renew the server certificate (the gateway's mail software rejects it as well). Where no server stated its time, first make sure this machine's clock is right.",
    ),
    "tls.server_cert_not_yet_valid": CatalogueEntry(
        _C,
        "the server's certificate is not valid yet (by both clocks)",
        "The vendor installed a certificate before its start date: the vendor must act. Where no server stated its time, first make sure this machine's clock is right.",
    ),
    "tls.pins_outdated": CatalogueEntry(
        _W,
        "the chain is the vendor's, but the pins do not reach it: the pins are out of date",
        "Another proof holds (--ca or the public roots with the host name), so the vendor changed its CA (a routine rotation). Learn the pins again on a clean path (`netdiag pins learn`) or import the vendor's current server CA file (`netdiag pins import`).",
    ),
    "tls.rotation_suspected": CatalogueEntry(
        _W,
        "not pinned, but issued under the pinned CA's own issuer: most likely the vendor's CA rotation",
        "The chain's CA is a new one under the root the pinned CA came from, and the server did the vendor's client-certificate dance. Prove it with the vendor's root (`--ca vendor-root.pem`, or `netdiag pins import` of the vendor's CA file), then learn the pins again (`netdiag pins learn`).",
    ),
    "tls.client_cert_not_requested": CatalogueEntry(
        _C,
        "the server does not ask for a client certificate",
        "The vendor's servers always ask for one: something else terminates TLS. Exempt the hosts from TLS inspection.",
    ),
    "tls.client_cert_required": CatalogueEntry(
        _W,
        "the server asks for the client certificate; none was given",
        "netdiag ran without the gateway's certificate, so the authentication was not checked: run it again with the vendor's client bundle (`--cert gateway.p12`).",
    ),
    "tls.client_cert_rejected": CatalogueEntry(
        _C,
        "the client certificate is rejected",
        "The server rejects the gateway's certificate: check that it is the one the vendor issued and that nothing re-signs the connection.",
    ),
    # client certificate
    "clock.offset": CatalogueEntry(
        _W,
        "this machine's clock is off the servers' time",
        "Set the clock right, from a time source the gateway can reach. Windows: `w32tm /query /status` shows the source; `w32tm /config /manualpeerlist:<time server> /syncfromflags:manual /update`, then `w32tm /resync` (in a domain, the domain controller is the source). Linux: `timedatectl status`, then chrony or systemd-timesyncd with a reachable NTP server. The gateway's mail software verifies every certificate with this clock.",
    ),
    "pop3.login_unanswered": CatalogueEntry(
        _C,
        "the POP3 server does not answer the login",
        "Servers answer a wrong password late on purpose, and later after each failure from the same address (Dovecot up to 15 s); one that has not answered in 20 s is refusing it or its authentication hangs. Check the mailbox password with the vendor; if it is right, the server's login is a case for the vendor.",
    ),
    "pop3.mailbox_in_use": CatalogueEntry(
        _W,
        "the mailbox is in use by another session",
        "The server took the user and password and answered that the mailbox is busy ([IN-USE], or [LOGIN-DELAY]: logged into too recently): usually the gateway's own mail software fetching mail at that moment. The login works; run again, and if it stays busy, look for a second client using the same mailbox.",
    ),
    "pop3.mailbox_unavailable": CatalogueEntry(
        _C,
        "the server cannot open the mailbox",
        "The server took the mailbox's login (or refused it for trouble of its own, RFC 3206 [SYS/…]) and cannot open the mailbox, or ends the session right after the login: the vendor's matter. Send the quoted answer to the vendor; nothing on the gateway or the firewall changes it.",
    ),
    "pop3.login_not_repeated": CatalogueEntry(
        _I,
        "the mailbox password was not sent again after a refusal",
        "Another of the vendor's servers refused the same user and password (its pop3.login_failed or pop3.login_unanswered): netdiag does not repeat a refused password, which would count against the mailbox's lockout and this gateway's address. Correct the password and run again.",
    ),
    "pop3.login_withheld": CatalogueEntry(
        _W,
        "the mailbox login was not tried: the server's chain is not proven",
        "netdiag sends the mailbox password only to a server proven to be the vendor's in the same run. Prove the chain (pins, --ca) and run again; until then, the login is not checked.",
    ),
    "cert.expired": CatalogueEntry(
        _C, "the client certificate has expired", "Ask the vendor for a new client certificate."
    ),
    "cert.not_yet_valid": CatalogueEntry(
        _C,
        "the client certificate is not yet valid",
        "Check the gateway's clock, or wait until the certificate's start date.",
    ),
    "cert.expires_soon": CatalogueEntry(
        _W, "the client certificate expires soon", "Ask the vendor for a renewal before it expires."
    ),
    "cert.key_mismatch": CatalogueEntry(
        _C,
        "the key does not belong to the certificate",
        "Use the key that belongs to the certificate (the vendor's PKCS#12 bundle holds both).",
    ),
    "cert.no_client_auth": CatalogueEntry(
        _C,
        "the certificate is not for client authentication",
        "The certificate lacks the clientAuth extended key usage: use the client certificate the vendor issued.",
    ),
    "cert.chain_incomplete": CatalogueEntry(
        _I,
        "the certificate file lacks part of its CA chain",
        "Usually harmless: the vendor's servers know their own CA. If a server rejects the certificate, ask the vendor for the bundle with the full chain.",
    ),
    "cert.issuer_not_accepted": CatalogueEntry(
        _C,
        "the server does not accept the certificate's issuer",
        "The server's list of acceptable CAs does not hold our issuer: either the wrong certificate, or a proxy answers instead of the vendor's server.",
    ),
    # path
    "trace.reached": CatalogueEntry(_I, "the trace reaches the destination", ""),
    "trace.dropped_after_hop": CatalogueEntry(
        _C,
        "traffic is dropped after a hop",
        "The device after the named hop drops the traffic: allow the port there.",
    ),
    "trace.rejected_at_hop": CatalogueEntry(
        _C,
        "traffic is rejected at a hop",
        "The named hop rejects the traffic: allow the port there.",
    ),
    "trace.forged_reset": CatalogueEntry(
        _C,
        "a middlebox forges resets",
        "A device on the path answers in the destination's name with a reset: find it at the named hop and allow the port.",
        explains_others=True,
    ),
    "trace.reset_suspect": CatalogueEntry(
        _C,
        "a reset in the server's name, most likely from a device on the way",
        "The reset's IP TTL matches a device on the path, not the destination: look at the device named (a firewall rule that rejects with a TCP reset) and allow the port there. A control trace to an open port of the same host (`netdiag trace … --control-port`) proves it.",
        explains_others=True,
    ),
    "trace.transparent_proxy": CatalogueEntry(
        _C,
        "a transparent proxy answers for the destination",
        "A device on the path answers in the destination's name: exempt the vendor's hosts from its proxying.",
        explains_others=True,
    ),
    # web proxies
    "proxy.only_way_out": CatalogueEntry(
        _C,
        "only the web proxy goes out, and the mail traffic cannot use it",
        "Nothing reaches the vendor's hosts directly; the only way out is a web proxy. SMTP and POP3 (and the gateway's software) do not use web proxies, and proxies refuse CONNECT to ports other than 443 by default: add a direct rule for TCP 25, 995 and 8140 from the gateway to the vendor's hosts.",
        explains_others=True,
    ),
    "proxy.connect_refused": CatalogueEntry(
        _C,
        "blocked directly, and the web proxy refuses to tunnel the port",
        "The direct path is blocked and the configured web proxy refuses CONNECT to this port (its answer is quoted). SMTP and POP3 do not use web proxies: add a direct rule for the port from the gateway to the vendor's hosts.",
        explains_others=True,
    ),
    "proxy.auth_required": CatalogueEntry(
        _C,
        "blocked directly, and the web proxy wants authentication",
        "The direct path is blocked and the configured web proxy answers CONNECT with 407 (netdiag never sends credentials). SMTP and POP3 do not use web proxies: add a direct rule for the port from the gateway to the vendor's hosts.",
        explains_others=True,
    ),
    "proxy.connect_allowed": CatalogueEntry(
        _C,
        "blocked directly, but the web proxy tunnels the port",
        "The path exists through the configured web proxy (it answered CONNECT with 200 and the protocol ran through it), but the gateway's mail software does not use web proxies: the direct rule for the port is still what it needs.",
        explains_others=True,
    ),
    "proxy.unreachable": CatalogueEntry(
        _W,
        "a configured web proxy does not answer",
        "The proxy this machine is configured with refuses or ignores connections: check the proxy setting (environment, WinHTTP, Internet Options) and the proxy itself. The gateway's mail traffic needs a direct rule either way.",
    ),
    "path.mtu_blackhole": CatalogueEntry(
        _C,
        "path MTU black hole",
        "Large packets are dropped without ICMP fragmentation-needed: allow ICMP type 3 code 4, or lower the MTU/MSS on the tunnel.",
        explains_others=True,
    ),
    "path.mtu_ok": CatalogueEntry(_I, "large packets pass, or the path says where they do not", ""),
    "path.mtu_untested": CatalogueEntry(
        _I,
        "no echo reply at any size: the path MTU cannot be measured",
        "ICMP echo is blocked on the way (or by the destination): nothing can be concluded about the path MTU from here.",
    ),
    # local host
    "local.inspection_root": CatalogueEntry(
        _W,
        "an inspection product's root is trusted locally",
        "A TLS-inspecting product on this machine or network installed its root: exempt the vendor's hosts from its inspection.",
    ),
    # host (netdiag host)
    "host.os_unsupported": CatalogueEntry(
        _C,
        "the operating system is not supported",
        "JiveX supports Windows 10/11 64-bit and Windows Server 2016/2019/2022 at the current patch level: plan an upgrade with the vendor.",
    ),
    "host.updates_stale": CatalogueEntry(
        _W,
        "Windows updates are not current",
        "The newest installed update is older than the profile allows: install the pending Windows updates and let them be monitored.",
    ),
    "host.updates_unmanaged": CatalogueEntry(
        _W,
        "Windows Update is switched off",
        "The Windows Update service is disabled or automatic updates are switched off by policy: enable them, or make sure another update management (WSUS, SCCM) covers the gateway.",
    ),
    "host.cpu_below": CatalogueEntry(
        _W,
        "fewer CPU cores than recommended",
        "The vendor recommends 8 CPU cores for intensive use: add cores to the (virtual) machine if the gateway is slow.",
    ),
    "host.memory_below": CatalogueEntry(
        _W,
        "less memory than recommended",
        "The vendor recommends 24 GB RAM for intensive use: add memory if the gateway is slow.",
    ),
    "host.drive_missing": CatalogueEntry(
        _C,
        "a drive JiveX needs is missing",
        "JiveX installs and stores only on D:\\ and E:\\: create the missing partition (D: 50 GB, E: 200 GB at least).",
    ),
    "host.drive_small": CatalogueEntry(
        _W,
        "a drive is smaller than required",
        "The drive is smaller than the vendor requires (D: 50 GB, E: 200 GB): enlarge it.",
    ),
    "host.backup_missing": CatalogueEntry(
        _C,
        "there is no backup",
        "The nightly backup of configuration and database tables (E:\\backup, by a scheduled task) is missing: ask the vendor to set up the scheduled task.",
    ),
    "host.backup_stale": CatalogueEntry(
        _C,
        "the newest backup is too old",
        "The nightly backup has not run: check the scheduled task and its last result.",
    ),
    "host.backup_incomplete": CatalogueEntry(
        _W,
        "backups are missing for some nights",
        "Not every one of the last nights has a backup: check the scheduled task's history.",
    ),
    "host.backup_task_missing": CatalogueEntry(
        _W,
        "no scheduled task for the nightly backup",
        "No scheduled task that runs the backup was found: ask the vendor to set it up.",
    ),
    "host.backup_offsite": CatalogueEntry(
        _I,
        "copy the backups off the machine",
        "The vendor asks that the backups be copied to other storage as well, so that the gateway can be restored after a server or disk failure.",
    ),
    "host.av_exclusion_missing": CatalogueEntry(
        _W,
        "antivirus exclusions for JiveX are missing",
        "Add the missing exclusions in Microsoft Defender (folders and processes, or else the DICOM file types) as the vendor's requirements list them.",
    ),
    "host.av_unknown": CatalogueEntry(
        _I,
        "another antivirus product: check its exclusions by hand",
        "netdiag reads Microsoft Defender's exclusions only: check in this product that the folders and processes of JiveX are excluded.",
    ),
    "host.share_present": CatalogueEntry(
        _W,
        "permanent drive shares on the gateway",
        "The vendor advises against permanent drive shares on the gateway: remove the shares named, unless they are needed.",
    ),
    "host.remote_maintenance": CatalogueEntry(
        _I,
        "remote maintenance access",
        "",
    ),
    "host.not_readable": CatalogueEntry(
        _I,
        "something could not be read",
        "Run netdiag as Administrator to read everything (Defender's exclusions, shares); what could not be read is not judged.",
    ),
    # run
    "endpoint.flapping": CatalogueEntry(
        _W,
        "the result changes between rounds",
        "The verdict differs between attempts: typical of firewalls that cache decryption exclusions or balance over several paths. Compare the rounds in the evidence.",
    ),
    "endpoint.intermittent": CatalogueEntry(
        _W,
        "the first attempt failed, a second one did not end the same way",
        "The connection failed once and then behaved differently: typical of a firewall with a session-rate limit or a TLS-inspecting device that restarts under load. Both attempts are in the evidence; compare them with the firewall's session log.",
    ),
    "probe.incomplete": CatalogueEntry(
        _C,
        "the endpoint could not be checked to the end",
        "A step of the check was not reached (see the evidence for which and why): the endpoint is not proven to work. Run again; if it persists, check the firewall's session and rate limits for this destination.",
    ),
    "probe.error": CatalogueEntry(
        _W,
        "netdiag could not check the endpoint (internal error)",
        "Something went wrong inside netdiag for this endpoint only; the others were checked. Please send the report (netdiag bundle) to the netdiag maintainers.",
    ),
    "run.incomplete": CatalogueEntry(
        _W,
        "the endpoint was not fully checked",
        "The run was interrupted or its deadline passed: run again with a longer --deadline.",
    ),
}


def finding(
    code: str,
    summary: str,
    evidence: tuple[str, ...] | list[str] = (),
    *,
    severity: Severity | None = None,
    remedy: str | None = None,
    subject: str = "",
    is_inferred: bool = False,
    detail: str = "",
    offset_s: float | None = None,
) -> Finding:
    """A finding for a catalogue code; unknown codes are a bug, not a runtime condition."""
    entry = CATALOGUE[code]
    return Finding(
        code=code,
        severity=severity or entry.severity,
        summary=summary,
        evidence=tuple(evidence),
        remedy=entry.remedy if remedy is None else remedy,
        title=entry.title,
        has_own_remedy=remedy is not None and remedy != entry.remedy,
        explains_others=entry.explains_others,
        subject=subject,
        is_inferred=is_inferred,
        detail=detail,
        offset_s=offset_s,
    )
