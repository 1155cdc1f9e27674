"""Every sentence and label netdiag writes for people, in English and German side by side.

A template is filled with `str.format` fields; both languages of a template use the same
fields (tests/unit/test_messages.py checks every key). Quoted server replies, certificate
names, addresses and host names go in as they are.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Sequence
from importlib import resources

from netdiag.report.model import SYN_RESET, Cause, Finding, Note, Severity, Status
from netdiag.settings.targets import COMMAND_LINE, Target

LANGUAGES = ("en", "de")

MESSAGES: dict[str, dict[str, str]] = {
    # Cause sentences, by code; `cause.default` for every other code.
    "cause.trace.dropped_after_hop": {
        "en": "The firewall at or right after {subject} drops TCP {ports} to {hosts}.",
        "de": "Die Firewall bei oder direkt hinter {subject} verwirft TCP {ports} zu {hosts}.",
    },
    "cause.trace.dropped_at_gateway": {
        "en": "TCP {ports} to {hosts} is dropped before even the first hop answers "
        "(a firewall on the gateway or its first router).",
        "de": "TCP {ports} zu {hosts} wird verworfen, bevor auch nur der erste Hop antwortet "
        "(eine Firewall auf dem Gateway oder dessen erstem Router).",
    },
    "cause.trace.rejected_at_hop": {
        "en": "{subject} rejects TCP {ports} to {hosts}.",
        "de": "{subject} weist TCP {ports} zu {hosts} ab.",
    },
    "cause.trace.forged_reset": {
        "en": "A device at {subject} answers TCP {ports} to {hosts} with resets in the "
        "servers' name.",
        "de": "Ein Gerät bei {subject} beantwortet TCP {ports} zu {hosts} mit Resets im Namen "
        "der Server.",
    },
    "cause.trace.forged_reset_hello": {
        "en": "A device on the path, before the servers, cuts every TLS handshake on TCP "
        "{ports} to {hosts} in their name: an intrusion-prevention or TLS policy on it.",
        "de": "Ein Gerät auf dem Weg, noch vor den Servern, bricht jeden TLS-Handshake auf "
        "TCP {ports} zu {hosts} in deren Namen ab: eine Intrusion-Prevention- oder TLS-Regel "
        "darauf.",
    },
    "cause.trace.forged_reset_hello_at_hop": {
        "en": "A device {detail} cuts every TLS handshake on TCP {ports} to {hosts} in the "
        "servers' name: an intrusion-prevention or TLS policy on it.",
        "de": "Ein Gerät {detail} bricht jeden TLS-Handshake auf TCP {ports} zu {hosts} im "
        "Namen der Server ab: eine Intrusion-Prevention- oder TLS-Regel darauf.",
    },
    "cause.trace.forged_reset_syn": {
        "en": "A firewall rule {detail}, short of the servers, rejects TCP {ports} to {hosts} "
        "with resets in their name.",
        "de": "Eine Firewall-Regel {detail}, noch vor den Servern, weist TCP {ports} zu {hosts} "
        "mit Resets in deren Namen ab.",
    },
    "cause.trace.reset_suspect": {
        "en": "A reset in the servers' name answers TCP {ports} to {hosts}, most likely from "
        "the device at {subject}: its TTL matches that hop, not the servers.",
        "de": "Ein Reset im Namen der Server beantwortet TCP {ports} zu {hosts}, sehr "
        "wahrscheinlich vom Gerät bei {subject}: seine TTL passt zu diesem Hop, nicht zu den "
        "Servern.",
    },
    "cause.trace.transparent_proxy": {
        "en": "A transparent proxy at {subject} answers TCP {ports} to {hosts} in the servers' "
        "name.",
        "de": "Ein transparenter Proxy bei {subject} antwortet auf TCP {ports} zu {hosts} im "
        "Namen der Server.",
    },
    "cause.trace.transparent_proxy_http": {
        "en": "A web proxy ({subject}) answers TCP {ports} to {hosts} in the servers' place, in "
        "HTTP: the connections are redirected to it.",
        "de": "Ein Web-Proxy ({subject}) antwortet auf TCP {ports} zu {hosts} anstelle der "
        "Server, in HTTP: die Verbindungen werden auf ihn umgeleitet.",
    },
    "cause.trace.transparent_proxy_http_unnamed": {
        "en": "A web proxy answers TCP {ports} to {hosts} in the servers' place, in HTTP: the "
        "connections are redirected to it.",
        "de": "Ein Web-Proxy antwortet auf TCP {ports} zu {hosts} anstelle der Server, in "
        "HTTP: die Verbindungen werden auf ihn umgeleitet.",
    },
    "cause.trace.transparent_proxy_http_at_hop": {
        "en": "A web proxy ({subject}) {detail} answers TCP {ports} to {hosts} in the servers' "
        "place, in HTTP: the connections are redirected to it.",
        "de": "Ein Web-Proxy ({subject}) {detail} antwortet auf TCP {ports} zu {hosts} anstelle "
        "der Server, in HTTP: die Verbindungen werden auf ihn umgeleitet.",
    },
    "cause.trace.transparent_proxy_http_unnamed_at_hop": {
        "en": "A web proxy {detail} answers TCP {ports} to {hosts} in the servers' place, in "
        "HTTP: the connections are redirected to it.",
        "de": "Ein Web-Proxy {detail} antwortet auf TCP {ports} zu {hosts} anstelle der Server, "
        "in HTTP: die Verbindungen werden auf ihn umgeleitet.",
    },
    "cause.tcp.filtered": {
        "en": "TCP {ports} to {hosts} is dropped silently on the way; `netdiag check --trace` "
        "names the device.",
        "de": "TCP {ports} zu {hosts} wird unterwegs stillschweigend verworfen; "
        "`netdiag check --trace` benennt das Gerät.",
    },
    "cause.tcp.refused": {
        "en": "TCP {ports} to {hosts} is refused with a reset.",
        "de": "TCP {ports} zu {hosts} wird mit einem Reset abgewiesen.",
    },
    "cause.tcp.prohibited": {
        "en": "{subject} prohibits TCP {ports} to {hosts} (ICMP administratively prohibited).",
        "de": "{subject} verbietet TCP {ports} zu {hosts} (ICMP administratively prohibited).",
    },
    "cause.tcp.unreachable": {
        "en": "TCP {ports} to {hosts} is unreachable.",
        "de": "TCP {ports} zu {hosts} ist nicht erreichbar.",
    },
    "cause.tls.intercepted": {
        "en": "A TLS-inspecting device ({subject}) intercepts TCP {ports} to {hosts}: the "
        "client certificate cannot pass it.",
        "de": "Ein TLS-inspizierendes Gerät ({subject}) bricht TCP {ports} zu {hosts} auf: "
        "das Client-Zertifikat kommt da nicht durch.",
    },
    "cause.tls.intercepted_at_hop": {
        "en": "A TLS-inspecting device ({subject}) {detail} intercepts TCP {ports} to {hosts}: "
        "the client certificate cannot pass it.",
        "de": "Ein TLS-inspizierendes Gerät ({subject}) {detail} bricht TCP {ports} zu {hosts} "
        "auf: das Client-Zertifikat kommt da nicht durch.",
    },
    "cause.tls.unpinned": {
        "en": "Not verified: the TLS chains of {hosts} (TCP {ports}) were compared with no CA "
        "of the vendor's servers (no pins, no --ca; `netdiag pins import` of the vendor's CA "
        "file).",
        "de": "Nicht geprüft: die TLS-Ketten von {hosts} (TCP {ports}) wurden mit keiner CA "
        "der Server des Herstellers verglichen (keine Pins, kein --ca; `netdiag pins import` "
        "der CA-Datei des Herstellers).",
    },
    "cause.tls.client_cert_required": {
        "en": "The gateway's client certificate is asked for by {hosts} (TCP {ports}); netdiag "
        "ran without one: run it again with --cert to check the authentication too.",
        "de": "Das Client-Zertifikat des Gateways wird von {hosts} (TCP {ports}) verlangt; "
        "netdiag lief ohne: mit --cert erneut ausführen, um auch die Anmeldung zu prüfen.",
    },
    "cause.proxy.only_way_out": {
        "en": "Only the web proxy {subject} goes out; it answers CONNECT to TCP {ports} with "
        '"{detail}". SMTP and POP3 do not use web proxies: the gateway needs a direct rule '
        "for TCP {ports} to {hosts}.",
        "de": "Nur der Web-Proxy {subject} kommt hinaus; er beantwortet CONNECT zu TCP {ports} "
        'mit "{detail}". SMTP und POP3 nutzen keine Web-Proxys: das Gateway braucht eine '
        "direkte Regel für TCP {ports} zu {hosts}.",
    },
    "cause.proxy.connect_refused": {
        "en": "TCP {ports} to {hosts} is blocked directly, and the web proxy {subject} refuses "
        'to tunnel it ("{detail}"); SMTP and POP3 do not use web proxies: the gateway needs '
        "a direct rule.",
        "de": "TCP {ports} zu {hosts} ist direkt gesperrt, und der Web-Proxy {subject} tunnelt "
        'es nicht ("{detail}"); SMTP und POP3 nutzen keine Web-Proxys: das Gateway braucht '
        "eine direkte Regel.",
    },
    "cause.proxy.auth_required": {
        "en": "TCP {ports} to {hosts} is blocked directly, and the web proxy {subject} wants "
        'authentication ("{detail}"); SMTP and POP3 do not use web proxies: the gateway '
        "needs a direct rule.",
        "de": "TCP {ports} zu {hosts} ist direkt gesperrt, und der Web-Proxy {subject} verlangt "
        'eine Anmeldung ("{detail}"); SMTP und POP3 nutzen keine Web-Proxys: das Gateway '
        "braucht eine direkte Regel.",
    },
    "cause.proxy.connect_allowed": {
        "en": "TCP {ports} to {hosts} is blocked directly; through the web proxy {subject} the "
        'path exists ("{detail}"), but the mail software does not use web proxies: the '
        "gateway still needs a direct rule.",
        "de": "TCP {ports} zu {hosts} ist direkt gesperrt; durch den Web-Proxy {subject} gibt es "
        'den Weg ("{detail}"), aber die Mail-Software nutzt keine Web-Proxys: das Gateway '
        "braucht weiterhin eine direkte Regel.",
    },
    "cause.proxy.unreachable": {
        "en": "The configured web proxy {subject} does not answer ({detail}).",
        "de": "Der eingerichtete Web-Proxy {subject} antwortet nicht ({detail}).",
    },
    "cause.clock.offset": {
        "en": "This machine's clock is {detail} the servers' time ({subject}): the gateway's "
        "software verifies certificates with it and rejects those of {hosts} (TCP {ports}).",
        "de": "Die Uhr dieses Rechners geht {detail} gegenüber der Zeit der Server ({subject}): "
        "die Software des Gateways prüft Zertifikate mit ihr und lehnt die von {hosts} "
        "(TCP {ports}) ab.",
    },
    "cause.tls.not_the_server": {
        "en": "The certificate presented by {hosts} (TCP {ports}) is of the vendor's CA but not "
        "a server certificate for the name ({subject}): another name or a client certificate.",
        "de": "Das von {hosts} (TCP {ports}) gezeigte Zertifikat stammt von der CA des "
        "Herstellers, ist aber kein Serverzertifikat für den Namen ({subject}): ein anderer "
        "Name oder ein Client-Zertifikat.",
    },
    "cause.tls.server_cert_expired": {
        "en": "The server certificate of {hosts} (TCP {ports}) has expired ({subject}), by this "
        "machine's clock and the servers': the vendor must renew it.",
        "de": "Das Serverzertifikat von {hosts} (TCP {ports}) ist abgelaufen ({subject}), nach "
        "der Uhr dieses Rechners und der der Server: der Hersteller muss es erneuern.",
    },
    "cause.tls.server_cert_not_yet_valid": {
        "en": "The server certificate of {hosts} (TCP {ports}) is not valid yet ({subject}), by "
        "this machine's clock and the servers': the vendor must fix it.",
        "de": "Das Serverzertifikat von {hosts} (TCP {ports}) ist noch nicht gültig ({subject}), "
        "nach der Uhr dieses Rechners und der der Server: der Hersteller muss es beheben.",
    },
    "cause.tls.pins_outdated": {
        "en": "Another proof shows {hosts} (TCP {ports}) to be the vendor's, but the pins do "
        "not reach the chains: the pins are out of date (a CA rotation).",
        "de": "Ein anderer Beweis belegt {hosts} (TCP {ports}) als die des Herstellers, aber "
        "die Pins erreichen die Ketten nicht: die Pins sind veraltet (eine CA-Rotation).",
    },
    "cause.tls.rotation_suspected": {
        "en": "The chains of {hosts} (TCP {ports}) are not pinned, but come from a new CA under "
        "the pinned CA's own issuer ({subject}): most likely the vendor rotated its CA.",
        "de": "Die Ketten von {hosts} (TCP {ports}) sind nicht gepinnt, stammen aber von einer "
        "neuen CA unter dem Aussteller der gepinnten CA ({subject}): höchstwahrscheinlich hat "
        "der Hersteller seine CA gewechselt.",
    },
    "cause.smtp.starttls_missing": {
        "en": "The EHLO replies of {hosts} (TCP {ports}) offer no STARTTLS: a device on the "
        "path removes it, or the servers do not offer it.",
        "de": "Die EHLO-Antworten von {hosts} (TCP {ports}) bieten kein STARTTLS an: ein Gerät "
        "auf dem Weg entfernt es, oder die Server bieten es nicht an.",
    },
    "cause.smtp.starttls_missing_at_server": {
        "en": "The EHLO replies of {hosts} (TCP {ports}) offer no STARTTLS, and they come from "
        "as far away as the servers themselves (no proxy on the path answers them): either "
        "the servers do not offer it (send the quoted EHLO reply to the vendor), or an ESMTP "
        "inspection that does not end the session removes it.",
        "de": "Die EHLO-Antworten von {hosts} (TCP {ports}) bieten kein STARTTLS an und kommen "
        "aus der Entfernung der Server selbst (kein Proxy auf dem Weg beantwortet sie): "
        "entweder bieten die Server es nicht an (die zitierte EHLO-Antwort an den Hersteller "
        "senden), oder eine ESMTP-Inspektion, die die Sitzung nicht beendet, entfernt es.",
    },
    "cause.smtp.starttls_missing_accepted": {
        "en": "A device on the path removes STARTTLS from the EHLO replies of {hosts} (TCP "
        "{ports}): the servers accept it when asked.",
        "de": "Ein Gerät auf dem Weg entfernt STARTTLS aus den EHLO-Antworten von {hosts} (TCP "
        "{ports}): die Server nehmen es an, wenn man es sendet.",
    },
    "cause.smtp.starttls_missing_at_hop": {
        "en": "A device {detail} answers SMTP to {hosts} (TCP {ports}) in the servers' name "
        "and leaves STARTTLS out: the gateway's mail cannot go encrypted with its client "
        "certificate.",
        "de": "Ein Gerät {detail} beantwortet SMTP zu {hosts} (TCP {ports}) anstelle der "
        "Server und lässt STARTTLS weg: die Mail des Gateways kann nicht verschlüsselt mit "
        "seinem Client-Zertifikat gehen.",
    },
    "cause.smtp.starttls_stripped_locally": {
        "en": "Software on this machine ({subject}) answers SMTP to {hosts} (TCP {ports}) and "
        "leaves STARTTLS out: the fix is its own exclusion, not the firewall.",
        "de": "Software auf diesem Rechner ({subject}) beantwortet SMTP zu {hosts} (TCP "
        "{ports}) und lässt STARTTLS weg: Abhilfe schafft ihre eigene Ausnahme, nicht die "
        "Firewall.",
    },
    "cause.tls.intercepted_locally": {
        "en": "Security software on this machine ({subject}) intercepts TLS to {hosts} (TCP "
        "{ports}): the fix is its own exclusion, not the firewall.",
        "de": "Sicherheitssoftware auf diesem Rechner ({subject}) bricht TLS zu {hosts} (TCP "
        "{ports}) auf: Abhilfe schafft ihre eigene Ausnahme, nicht die Firewall.",
    },
    "cause.tls.sni_filtered": {
        "en": "A device cuts the TLS handshakes of {hosts} (TCP {ports}) by the server name: "
        "the same address answers another of the vendor's names or a handshake without a name "
        "— a URL or SNI filter, not the server.",
        "de": "Ein Gerät bricht die TLS-Handshakes von {hosts} (TCP {ports}) nach dem "
        "Servernamen ab: dieselbe Adresse antwortet auf einen anderen Namen des Herstellers "
        "oder einen Handshake ohne Namen — ein URL- oder SNI-Filter, nicht der Server.",
    },
    "cause.path.mtu_blackhole_sent": {
        "en": "The gateway's large packets to {hosts} (TCP {ports}) are lost on the way and no "
        "ICMP 'fragmentation needed' comes back (a path MTU black hole): its certificate never "
        "arrives — lower the MTU/MSS on the tunnel, or let that ICMP through.",
        "de": "Die großen Pakete des Gateways an {hosts} (TCP {ports}) gehen unterwegs verloren, "
        "und kein ICMP 'fragmentation needed' kommt zurück (ein Path-MTU-Black-Hole): sein "
        "Zertifikat kommt nie an — MTU/MSS am Tunnel senken oder dieses ICMP durchlassen.",
    },
    "cause.path.mtu_blackhole_received": {
        "en": "The large packets of {hosts} (TCP {ports}) are lost on the way to the gateway and "
        "no ICMP 'fragmentation needed' reaches the servers (a path MTU black hole): their "
        "certificates never arrive — lower the MTU/MSS on the tunnel, or let that ICMP through.",
        "de": "Die großen Pakete von {hosts} (TCP {ports}) gehen auf dem Weg zum Gateway verloren, "
        "und kein ICMP 'fragmentation needed' erreicht die Server (ein "
        "Path-MTU-Black-Hole): ihre Zertifikate kommen nie an — MTU/MSS am Tunnel senken "
        "oder dieses ICMP durchlassen.",
    },
    "cause.tls.version_blocked": {
        "en": "A device cuts the TLS handshakes of {hosts} (TCP {ports}) that offer TLS 1.3; "
        "TLS 1.2 passes — an inspection policy, not the server.",
        "de": "Ein Gerät bricht die TLS-Handshakes von {hosts} (TCP {ports}) ab, die TLS 1.3 "
        "anbieten; TLS 1.2 geht durch — eine Inspektionsrichtlinie, nicht der Server.",
    },
    "cause.tls.version_outdated": {
        "en": "What answers the TLS handshakes of {hosts} (TCP {ports}) speaks only TLS 1.0 or "
        "1.1 and refuses every hello of TLS 1.2 or 1.3 — an outdated server, or an old TLS "
        "device answering for it.",
        "de": "Was auf die TLS-Handshakes von {hosts} (TCP {ports}) antwortet, spricht nur "
        "TLS 1.0 oder 1.1 und lehnt jedes Hello mit TLS 1.2 oder 1.3 ab — ein veralteter "
        "Server oder ein altes TLS-Gerät an seiner Stelle.",
    },
    "cause.tls.downgraded": {
        "en": "A device removes TLS 1.3 from the gateway's handshakes with {hosts} (TCP {ports}): "
        "the server answers with its downgrade marker and the handshake fails — a policy that "
        "forces TLS 1.2, not the server.",
        "de": "Ein Gerät entfernt TLS 1.3 aus den Handshakes des Gateways mit {hosts} (TCP "
        "{ports}): der Server antwortet mit seiner Downgrade-Markierung, und der Handshake "
        "scheitert — eine Richtlinie, die TLS 1.2 erzwingt, nicht der Server.",
    },
    "cause.tls.hello_intolerant": {
        "en": "A device cuts the full ClientHello to {hosts} (TCP {ports}); a small one passes "
        "— a device that chokes on the hello's size or extensions, not the server.",
        "de": "Ein Gerät bricht das vollständige ClientHello zu {hosts} (TCP {ports}) ab; ein "
        "kleines geht durch — ein Gerät, das an Größe oder Erweiterungen des Hellos "
        "scheitert, nicht der Server.",
    },
    "cause.dns.private_address": {
        "en": "DNS gives {hosts} an address that no public server has (private, loopback or "
        "a DNS filter's sinkhole; from {subject}).",
        "de": "DNS liefert für {hosts} eine Adresse, die kein öffentlicher Server hat (privat, "
        "Loopback oder die Sperradresse eines DNS-Filters; von {subject}).",
    },
    "cause.dns.mismatch": {
        "en": "The DNS servers {subject} give different addresses for {hosts}.",
        "de": "Die DNS-Server {subject} liefern verschiedene Adressen für {hosts}.",
    },
    "cause.dns": {
        "en": "No address for {hosts}: {title} (resolver {subject}).",
        "de": "Keine Adresse für {hosts}: {title} (Resolver {subject}).",
    },
    "cause.default": {
        "en": "{title}: {hosts} (TCP {ports}).",
        "de": "{title}: {hosts} (TCP {ports}).",
    },
    "cause.likely": {
        "en": "Most likely the same device: {hosts}, TCP {ports} (their sessions ended "
        "without a word).",
        "de": "Sehr wahrscheinlich dasselbe Gerät: {hosts}, TCP {ports} (ihre Sitzungen endeten "
        "wortlos).",
    },
    "cause.likely.login": {
        "en": "The same login, not tried again on {hosts} (TCP {ports}): most likely refused "
        "there too.",
        "de": "Dieselbe Anmeldung, an {hosts} (TCP {ports}) nicht erneut versucht: sehr "
        "wahrscheinlich auch dort abgelehnt.",
    },
    "works": {
        "en": "Working: {items}.",
        "de": "Funktioniert: {items}.",
    },
    "works.none": {
        "en": "Nothing answers directly: no endpoint accepted a connection.",
        "de": "Nichts antwortet direkt: kein Endpunkt nahm eine Verbindung an.",
    },
    "works.unverified": {
        "en": "Answering, but the TLS chain is not verified (no pins, no --ca): {items}.",
        "de": "Antworten, aber die TLS-Kette ist nicht geprüft (keine Pins, kein --ca): {items}.",
    },
    "works.all_unverified": {
        "en": "All {count} endpoints answer (connection, TLS and protocol); the TLS chains "
        "are not verified (no pins, no --ca).",
        "de": "Alle {count} Endpunkte antworten (Verbindung, TLS und Protokoll); die "
        "TLS-Ketten sind nicht geprüft (keine Pins, kein --ca).",
    },
    "works.answering": {
        "en": "Answering (every step done), with a warning: {items}.",
        "de": "Antworten (jeder Schritt erledigt), mit einer Warnung: {items}.",
    },
    "works.connected": {
        "en": "Reachable (TCP open), but not working: {items}.",
        "de": "Erreichbar (TCP offen), aber nicht funktionsfähig: {items}.",
    },
    "all.fine": {
        "en": "Every endpoint works: nothing to change.",
        "de": "Alle Endpunkte funktionieren: nichts zu ändern.",
    },
    "and": {"en": "and", "de": "und"},
    # Labels
    "label.causes": {"en": "Causes", "de": "Ursachen"},
    "label.matrix": {"en": "Endpoints (host × port)", "de": "Endpunkte (Host × Port)"},
    "label.host": {"en": "host", "de": "Host"},
    "label.status": {"en": "status", "de": "Status"},
    "label.port": {"en": "port", "de": "Port"},
    "label.service": {"en": "service", "de": "Dienst"},
    "label.address": {"en": "address", "de": "Adresse"},
    "label.finding": {"en": "finding", "de": "Befund"},
    "label.affects": {"en": "Affects", "de": "Betrifft"},
    "label.likely": {"en": "Likely also", "de": "Wahrscheinlich auch"},
    "label.evidence": {"en": "Evidence", "de": "Belege"},
    "label.evidence_measured": {
        "en": "Evidence (as measured)",
        "de": "Belege (im Wortlaut der Messung)",
    },
    "label.remedy": {"en": "What to do", "de": "Abhilfe"},
    "label.details": {"en": "Endpoint details", "de": "Einzelheiten je Endpunkt"},
    "label.path": {"en": "Path", "de": "Pfad"},
    "label.gateway": {"en": "this gateway", "de": "dieses Gateway"},
    "label.silent": {"en": "silence", "de": "Stille"},
    "label.overall": {"en": "overall", "de": "gesamt"},
    "label.endpoints_in": {
        "en": "{endpoints} in {seconds} s",
        "de": "{endpoints} in {seconds} s",
    },
    "cli.bundle_written": {
        "en": "support bundle written to {path}",
        "de": "Support-Paket geschrieben: {path}",
    },
    "cli.bundle_unsigned": {
        "en": "the bundle is not signed ({why}): support cannot tell which gateway made it",
        "de": "das Support-Paket ist nicht signiert ({why}): der Support kann nicht prüfen, "
        "welches Gateway es erstellt hat",
    },
    "verify.title": {"en": "netdiag verify {bundle}", "de": "netdiag verify {bundle}"},
    "verify.holds": {"en": "OK", "de": "OK"},
    "verify.fails": {"en": "FAILED", "de": "FEHLER"},
    "verify.step.names": {"en": "names in the zip", "de": "Namen im Zip"},
    "verify.step.signature": {"en": "signature", "de": "Signatur"},
    "verify.step.chain": {"en": "signer", "de": "Unterzeichner"},
    "verify.step.files": {"en": "files", "de": "Dateien"},
    "verify.gateway": {
        "en": "gateway: {subject} (serial {serial}), issued by {issuer}",
        "de": "Gateway: {subject} (Seriennummer {serial}), ausgestellt von {issuer}",
    },
    "verify.signed_at": {
        "en": "signed at: {time} (the gateway's own clock, self-asserted)",
        "de": "signiert am: {time} (die eigene Uhr des Gateways, nicht unabhängig belegt)",
    },
    "verify.made_by": {"en": "made by: netdiag {version}", "de": "erstellt von: netdiag {version}"},
    "verify.redacted": {"en": "redacted: {what}", "de": "geschwärzt: {what}"},
    "verify.verified": {
        "en": "VERIFIED: signed by the gateway below, unchanged since",
        "de": "GEPRÜFT: vom unten genannten Gateway signiert, seither unverändert",
    },
    "verify.not_verified": {
        "en": "NOT VERIFIED: {step}: {why}",
        "de": "NICHT GEPRÜFT: {step}: {why}",
    },
    "verify.nothing_checked": {
        "en": "NOT VERIFIED: nothing in the bundle could be checked",
        "de": "NICHT GEPRÜFT: im Paket ließ sich nichts prüfen",
    },
    "word.endpoint": {"en": "{count} endpoint", "de": "{count} Endpunkt"},
    "word.endpoints": {"en": "{count} endpoints", "de": "{count} Endpunkte"},
    "text.command_line": {"en": "command line", "de": "Befehlszeile"},
    "label.evidence_elsewhere": {
        "en": "",
        "de": "Die Belege im Wortlaut der Messung stehen in report.json und, im Support-Paket, "
        "in report_en.txt.",
    },
    # The firewall team's section
    "fw.title": {"en": "What to tell the firewall team", "de": "Was das Firewall-Team wissen muss"},
    "fw.allow": {
        "en": "At {where}: allow TCP {ports} from the gateway to {hosts}{addresses}.",
        "de": "Bei {where}: TCP {ports} vom Gateway zu {hosts}{addresses} erlauben.",
    },
    "fw.where_unknown": {"en": "the firewall", "de": "der Firewall"},
    "fw.allow_direct": {
        "en": "Allow TCP {ports} from the gateway directly to {hosts}{addresses}: the mail "
        "traffic cannot use the web proxy {subject}.",
        "de": "TCP {ports} vom Gateway direkt zu {hosts}{addresses} erlauben: der Mail-Verkehr "
        "kann den Web-Proxy {subject} nicht nutzen.",
    },
    "fw.exempt": {
        "en": "Exempt from TLS/SSL and SMTP/ESMTP inspection ({subject}): {hosts}, TCP {ports}.",
        "de": "Von der TLS/SSL- und SMTP/ESMTP-Inspektion ausnehmen ({subject}): {hosts}, "
        "TCP {ports}.",
    },
    "fw.dns": {
        "en": "Make the gateway's resolver ({subject}) answer {hosts} with the vendor's public "
        "addresses.",
        "de": "Den Resolver des Gateways ({subject}) die öffentlichen Adressen des Herstellers "
        "für {hosts} liefern lassen.",
    },
    "fw.snippet_offer": {
        "en": "The fix as configuration of your firewall: --firewall {products} (the support "
        "bundle holds all of them).",
        "de": "Die Abhilfe als Konfiguration Ihrer Firewall: --firewall {products} (das "
        "Support-Bündel enthält alle).",
    },
    "fw.snippet_for": {
        "en": "The fix as {name} configuration:",
        "de": "Die Abhilfe als Konfiguration für {name}:",
    },
    "fw.keep": {
        "en": "Already works, keep as it is: {items}.",
        "de": "Funktioniert bereits, so lassen: {items}.",
    },
    "fw.nothing": {
        "en": "Nothing to change on the firewall for the endpoints checked.",
        "de": "An der Firewall ist für die geprüften Endpunkte nichts zu ändern.",
    },
    "fw.why": {
        "en": "Every connection authenticates with the gateway's client certificate issued by "
        "the vendor: a firewall that intercepts TLS breaks it.",
        "de": "Jede Verbindung authentifiziert sich mit dem vom Hersteller ausgestellten "
        "Client-Zertifikat des Gateways: eine Firewall, die TLS aufbricht, zerstört sie.",
    },
    "addresses": {"en": " ({addresses})", "de": " ({addresses})"},
    # report.txt
    "text.title": {"en": "netdiag report", "de": "netdiag-Bericht"},
    "text.when": {"en": "When", "de": "Zeitpunkt"},
    "text.duration": {"en": "duration", "de": "Dauer"},
    "text.from": {"en": "From", "de": "Von"},
    "text.host": {"en": "host", "de": "Rechner"},
    "text.profile": {"en": "Profile", "de": "Profil"},
    "text.overall": {"en": "Overall", "de": "Gesamt"},
    "text.local": {"en": "This machine", "de": "Dieser Rechner"},
    "text.gateway": {
        "en": "Gateway (system requirements)",
        "de": "Gateway (Systemvoraussetzungen)",
    },
    "text.no_findings": {"en": "No problem found.", "de": "Kein Problem gefunden."},
    "text.problems": {"en": "The causes in detail", "de": "Die Ursachen im Einzelnen"},
    "text.notes": {"en": "Notes", "de": "Hinweise"},
    # The terminal
    "label.note": {"en": "note", "de": "Hinweis"},
    "label.more": {"en": "(+{count} more)", "de": "(+{count} weitere)"},
    "label.details_json": {"en": "details: --json", "de": "Einzelheiten: --json"},
    "label.interrupted": {"en": " (interrupted)", "de": " (abgebrochen)"},
    "label.client_certificate": {
        "en": "client certificate: {subject} (issuer {issuer}, until {until})",
        "de": "Client-Zertifikat: {subject} (Aussteller {issuer}, gültig bis {until})",
    },
    "label.this_machine": {"en": "this machine", "de": "dieser Rechner"},
    "label.host_os": {"en": "host: {os}", "de": "Rechner: {os}"},
    "label.trace_to": {
        "en": "trace to {label} ({address}):",
        "de": "Route zu {label} ({address}):",
    },
    "label.control_trace": {
        "en": "control trace to port {port}:",
        "de": "Kontroll-Route zu Port {port}:",
    },
    "label.mtu_to": {"en": "path MTU to {address}:", "de": "Pfad-MTU zu {address}:"},
    "label.capture": {"en": "capture: {path}", "de": "Mitschnitt: {path}"},
    # Notes about the run (`Note`), by key.
    "note.no_resolver": {
        "en": "The system has no DNS resolver configured.",
        "de": "Auf dem System ist kein DNS-Resolver eingetragen.",
    },
    "note.resolver_config_unreadable": {
        "en": "The system's resolver configuration cannot be read ({error}).",
        "de": "Die Resolver-Konfiguration des Systems lässt sich nicht lesen ({error}).",
    },
    "note.store_entry_unreadable": {
        "en": "Trust store {store}: entry {entry} {subject}cannot be read and is left out "
        "({reason}).",
        "de": "Zertifikatsspeicher {store}: Eintrag {entry} {subject}ist nicht lesbar und "
        "bleibt außen vor ({reason}).",
    },
    "note.pins_given": {
        "en": "Pins: {count} from {path} (given with --pins).",
        "de": "Pins: {count} aus {path} (mit --pins angegeben).",
    },
    "note.pins_profile": {
        "en": "Pins: {count} from {path} (certs/pins.toml next to the profile).",
        "de": "Pins: {count} aus {path} (certs/pins.toml neben dem Profil).",
    },
    "note.pins_cwd": {
        "en": "Pins: {count} from {path} (certs/pins.toml in the current folder).",
        "de": "Pins: {count} aus {path} (certs/pins.toml im aktuellen Ordner).",
    },
    "note.pins_user": {
        "en": "Pins: {count} from {path} (the user's pin file).",
        "de": "Pins: {count} aus {path} (die Pin-Datei des Benutzers).",
    },
    "note.no_trace": {
        "en": "No trace: {problem}; the connect() results stand.",
        "de": "Keine Routenverfolgung: {problem}; die connect()-Ergebnisse gelten.",
    },
    "note.no_trace_single": {
        "en": "No trace: {problem}; what one connect() tells instead.",
        "de": "Keine Routenverfolgung: {problem}; stattdessen, was ein connect() zeigt.",
    },
    "note.trace_error": {"en": "Trace: {error}", "de": "Routenverfolgung: {error}"},
    "note.capture": {
        "en": "Capture {file}: kept {kept} packets of netdiag's own flows, dropped {dropped} of "
        "other processes.",
        "de": "Mitschnitt {file}: {kept} Pakete von netdiags eigenen Verbindungen behalten, "
        "{dropped} anderer Prozesse verworfen.",
    },
    "note.no_capture": {
        "en": "No capture: {problem}; the check ran without one.",
        "de": "Kein Mitschnitt: {problem}; die Prüfung lief ohne ihn.",
    },
    "note.windows_only": {
        "en": "The Windows requirements (OS and patch level, Windows Update, antivirus "
        "exclusions, shares, remote maintenance, drives D: and E:, the nightly backup) do not "
        "apply on {platform}: not checked.",
        "de": "Die Windows-Anforderungen (Betriebssystem und Patchstand, Windows Update, "
        "Virenschutz-Ausnahmen, Freigaben, Fernwartung, Laufwerke D: und E:, nächtliche "
        "Sicherung) gelten auf {platform} nicht: nicht geprüft.",
    },
    "note.step_failed": {
        "en": "The step '{step}' could not be done ({error}); the rest of the report stands.",
        "de": "Der Schritt „{step}“ ließ sich nicht ausführen ({error}); der Rest des Berichts "
        "gilt.",
    },
}

# Phrases of netdiag's own that reach a note as a field (why there is no trace), German.
PHRASES_DE = {
    "the path MTU probe is IPv4 only": "die Pfad-MTU-Messung kann nur IPv4",
    "tracing and capture need scapy": "Routenverfolgung und Mitschnitt brauchen scapy",
    "tracing and capture need Npcap (https://npcap.com) and an administrator shell": (
        "Routenverfolgung und Mitschnitt brauchen Npcap (https://npcap.com) und eine "
        "Administrator-Konsole"
    ),
    "tracing and capture need raw sockets: run as root (or with CAP_NET_RAW)": (
        "Routenverfolgung und Mitschnitt brauchen Raw-Sockets: als root (oder mit "
        "CAP_NET_RAW) ausführen"
    ),
}

# Short names of causes for the matrix cells.
SHORT: dict[str, dict[str, str]] = {
    "ok": {"en": "OK", "de": "OK"},
    "unknown": {"en": "not checked", "de": "nicht geprüft"},
    "trace.dropped_after_hop": {"en": "dropped", "de": "verworfen"},
    "tcp.filtered": {"en": "dropped", "de": "verworfen"},
    "tcp.refused": {"en": "refused", "de": "abgewiesen"},
    "tcp.prohibited": {"en": "prohibited", "de": "verboten"},
    "tcp.unreachable": {"en": "unreachable", "de": "unerreichbar"},
    "trace.rejected_at_hop": {"en": "rejected", "de": "abgewiesen"},
    "trace.forged_reset": {"en": "forged reset", "de": "gefälschter Reset"},
    "trace.reset_suspect": {"en": "forged reset?", "de": "gefälschter Reset?"},
    "trace.transparent_proxy": {"en": "proxy", "de": "Proxy"},
    "tls.intercepted": {"en": "intercepted", "de": "aufgebrochen"},
    "tls.intercepted_locally": {"en": "intercepted here", "de": "hier aufgebrochen"},
    "smtp.starttls_missing": {"en": "no STARTTLS", "de": "kein STARTTLS"},
    "smtp.starttls_stripped_locally": {"en": "no STARTTLS here", "de": "hier kein STARTTLS"},
    "tls.unpinned": {"en": "unpinned", "de": "ohne Pin"},
    "tls.handshake_failed": {"en": "TLS failed", "de": "TLS-Fehler"},
    "tls.sni_filtered": {"en": "SNI filter", "de": "SNI-Filter"},
    "tls.version_blocked": {"en": "TLS 1.3 blocked", "de": "TLS 1.3 gesperrt"},
    "tls.version_outdated": {"en": "TLS 1.0/1.1 only", "de": "nur TLS 1.0/1.1"},
    "tls.hello_intolerant": {"en": "hello too large", "de": "Hello zu groß"},
    "tls.downgraded": {"en": "TLS 1.3 removed", "de": "TLS 1.3 entfernt"},
    "tls.untrusted": {"en": "untrusted", "de": "nicht vertraut"},
    "tls.client_cert_rejected": {"en": "cert rejected", "de": "Zert. abgelehnt"},
    "tls.client_cert_required": {"en": "no --cert", "de": "ohne --cert"},
    "proxy.only_way_out": {"en": "proxy only", "de": "nur Proxy"},
    "proxy.connect_refused": {"en": "proxy refuses", "de": "Proxy lehnt ab"},
    "proxy.auth_required": {"en": "proxy 407", "de": "Proxy 407"},
    "proxy.connect_allowed": {"en": "proxy only", "de": "nur Proxy"},
    "dns": {"en": "DNS", "de": "DNS"},
    "smtp": {"en": "SMTP", "de": "SMTP"},
    "pop3": {"en": "POP3", "de": "POP3"},
}


def message(key: str, lang: str, **fields: object) -> str:
    template = MESSAGES[key]["de" if lang == "de" else "en"]
    return template.format(**fields) if fields else template


def note_text(note: Note, lang: str) -> str:
    """A note in the language; our own phrases among its fields translated too."""
    fields = dict(note.fields)
    if lang == "de":
        fields = {
            name: fields.get(f"{name}@de") or PHRASES_DE.get(value, value)
            for name, value in fields.items()
        }
    plain = {name: value for name, value in fields.items() if "@" not in name}
    return message(f"note.{note.key}", lang, **plain)


def short_name(code: str, lang: str) -> str:
    """The matrix cell's name for a cause: by code, else by its family, else the code."""
    entry = SHORT.get(code) or SHORT.get(code.split(".", 1)[0])
    return entry["de" if lang == "de" else "en"] if entry else code


def join_words(items: Sequence[str], lang: str) -> str:
    """ "25", "25 and 995", "25, 995 and 8140"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {message('and', lang)} {items[-1]}"


_NUMBERED = re.compile(r"^(?P<prefix>[^\d]*?)(?P<number>\d+)(?P<suffix>\..*)$")


def host_list(hosts: Sequence[str], lang: str) -> str:
    """Host names, with runs like mail1 … mail6 of one domain as "mail1–mail6.dicommail.com"."""
    unique = list(dict.fromkeys(hosts))
    runs: list[list[tuple[str, int, str]]] = []
    rest: list[str] = []
    for host in unique:
        match = _NUMBERED.match(host)
        if match is None:
            rest.append(host)
            continue
        item = (match["prefix"], int(match["number"]), match["suffix"])
        last = runs[-1][-1] if runs else None
        if last is not None and (last[0], last[2]) == (item[0], item[2]) and item[1] == last[1] + 1:
            runs[-1].append(item)
        else:
            runs.append([item])
    names: list[str] = []
    for run in runs:
        if len(run) > 2:
            names.append(f"{run[0][0]}{run[0][1]}–{run[-1][0]}{run[-1][1]}{run[0][2]}")
        else:
            names += [f"{prefix}{number}{suffix}" for prefix, number, suffix in run]
    return join_words([*names, *rest], lang)


def port_list(targets: Sequence[Target], lang: str) -> str:
    return join_words([str(p) for p in dict.fromkeys(t.port for t in targets)], lang)


@functools.cache
def _german_catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("netdiag").joinpath("data", "catalogue_de.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def _german_exclusions() -> dict[str, str]:
    """The endpoint products' own exclusion paths in German, by product name (the data of
    the product catalogue, read here as the German catalogue is: words, not rules)."""
    text = (
        resources.files("netdiag").joinpath("data", "inspection_products.toml").read_text("utf-8")
    )
    return {
        entry["name"]: entry["exclusion_de"]
        for entry in tomllib.loads(text)["products"]
        if entry.get("exclusion_de")
    }


def catalogue_text(
    code: str, lang: str, *, title: str, remedy: str, has_own_remedy: bool, subject: str = ""
) -> tuple[str, str]:
    """A code's title and remedy in the language; a remedy made for this run (the
    destinations to exempt) is translated by its own template, not replaced."""
    entry = _german_catalogue().get(code) if lang == "de" else None
    if entry is None:
        return title or code, remedy
    if code == "tls.intercepted_locally" and subject in _german_exclusions():
        # The product's own exclusion path, as its German documentation names it.
        return entry["title"], f"{entry['remedy']} {_german_exclusions()[subject]}"
    # A remedy made for this run names its destinations in English; in German the
    # catalogue's remedy stands, and the firewall section names the destinations.
    return entry["title"], entry["remedy"]


def catalogue_text_of(item: Finding | Cause, lang: str) -> tuple[str, str]:
    """A finding's or a cause's title and remedy in the language (see `catalogue_text`)."""
    return catalogue_text(
        item.code,
        lang,
        title=item.title,
        remedy=item.remedy,
        has_own_remedy=item.has_own_remedy,
        subject=item.subject,
    )


def _title(cause: Cause, lang: str) -> str:
    return catalogue_text(cause.code, lang, title=cause.title, remedy="", has_own_remedy=False)[0]


def cause_sentence(cause: Cause, lang: str) -> str:
    """The cause in one sentence (and one more for the endpoints it likely explains)."""
    key = f"cause.{cause.code}"
    if cause.code == "trace.dropped_after_hop" and not cause.subject:
        key = "cause.trace.dropped_at_gateway"
    elif cause.code.startswith("dns.") and key not in MESSAGES:
        key = "cause.dns"
    elif key not in MESSAGES or ("{subject}" in MESSAGES[key]["en"] and not cause.subject):
        key = "cause.default"
    detail = cause.detail
    if cause.code == "clock.offset":
        detail = offset_words(cause.offset_s or 0.0, lang)
    elif cause.code in ("tls.intercepted", "smtp.starttls_missing") and cause.place is not None:
        key = f"cause.{cause.code}_at_hop"
        detail = hop_words(cause.place.hop, lang, cause.place.address)
    elif cause.code == "trace.transparent_proxy" and cause.detail == "http":
        # Found by the answer to a hello (HTTP), not by a trace: a product, or no name;
        # where the hop-limited hellos placed it, its hop.
        key = f"cause.trace.transparent_proxy_http{'' if cause.subject else '_unnamed'}"
        if cause.place is not None:
            key += "_at_hop"
            detail = hop_words(cause.place.hop, lang, cause.place.address)
    elif cause.code == "trace.forged_reset" and cause.detail == "hello":
        # Found by hop-limited hellos, not by a trace: the subject is how near the device is.
        key = "cause.trace.forged_reset_hello"
        if cause.place is not None:
            key += "_at_hop"
            detail = hop_words(cause.place.hop, lang, cause.place.address)
    elif cause.code == "trace.forged_reset" and cause.detail == SYN_RESET:
        # Found by hop-limited connects, not by a trace: the subject is how near the rule is.
        key = "cause.trace.forged_reset_syn"
        detail = _syn_reset_place(cause.subject, lang, "sentence")
    elif cause.code == "smtp.starttls_missing" and f"{key}_{cause.detail}" in MESSAGES:
        # Answered as far as the server (both causes), or accepted when sent anyway.
        key = f"{key}_{cause.detail}"
    elif cause.code == "path.mtu_blackhole" and f"cause.{cause.code}_{cause.detail}" in MESSAGES:
        # Found by the check's own hellos: which way the large packets are lost.
        key = f"cause.{cause.code}_{cause.detail}"
    sentence = message(
        key,
        lang,
        detail=detail,
        subject=cause.subject,
        ports=port_list(cause.endpoints, lang),
        hosts=host_list([t.host for t in cause.endpoints], lang),
        title=_title(cause, lang),
    )
    if cause.likely:
        likely = host_list([t.host for t in cause.likely], lang)
        ports = port_list(cause.likely, lang)
        # Likely members of a login's refusal were spared the password (login_gate); of
        # anything else, their sessions ended as the proven ones' did.
        key = "cause.likely.login" if cause.code.startswith("pop3.login") else "cause.likely"
        sentence += " " + message(key, lang, hosts=likely, ports=ports)
    return sentence


def works_sentences(
    proven: Sequence[Target],
    unverified: Sequence[Target],
    answering: Sequence[Target],
    connected: Sequence[Target],
    lang: str,
) -> list[str]:
    """What works, counted by what was proven: working, answering with the chain not
    verified, answering with another warning, reachable only — each by port:
    "TCP 995 (mail1–mail6.dicommail.com), TCP 8140 (…)"."""
    if unverified and not (proven or answering or connected):
        return [message("works.all_unverified", lang, count=len(unverified))]
    sentences = []
    for key, targets in (
        ("works", proven),
        ("works.unverified", unverified),
        ("works.answering", answering),
        ("works.connected", connected),
    ):
        if targets:
            sentences.append(message(key, lang, items=working_items(targets, lang)))
    return sentences or [message("works.none", lang)]


def working_items(working: Sequence[Target], lang: str) -> str:
    items = []
    for port in dict.fromkeys(t.port for t in working):
        hosts = [t.host for t in working if t.port == port]
        items.append(f"TCP {port} ({host_list(hosts, lang)})")
    return ", ".join(items)


# One state vocabulary per language, for every output: table, report, HTML, check_mk's
# summary, the causes' severities.
_STATES = {
    "en": {"OK": "OK", "WARN": "WARN", "CRIT": "CRIT", "UNKNOWN": "UNKNOWN", "INFO": "INFO"},
    "de": {"OK": "OK", "WARN": "WARN", "CRIT": "KRIT", "UNKNOWN": "UNBEKANNT", "INFO": "INFO"},
}


def status_name(status: Status, lang: str) -> str:
    """A state as the language says it (`KRIT` in German, `CRIT` in English)."""
    return _STATES["de" if lang == "de" else "en"][status.name]


def number(value: float, lang: str, digits: int = 1) -> str:
    """A measured number as the language writes it: `0.3` in English, `0,3` in German."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "de" else text


# Where a rule that resets the SYNs is (`netdiag.diagnosis.place.forged_syn`'s subject:
# "within N hops", or "this machine or the first hop"), per use and language: the words for
# N hops, and those for this machine or the first hop.
_SYN_RESET_PLACES = {
    "sentence": {
        "en": (
            "no farther than {hops} hops away",
            "on this machine or at the first hop (this gateway's router or firewall)",
        ),
        "de": (
            "höchstens {hops} Hops entfernt",
            "auf diesem Rechner oder am ersten Hop (Router oder Firewall dieses Gateways)",
        ),
    },
    "firewall": {
        "en": (
            "a firewall no farther than {hops} hops away",
            "this machine's own firewall or the first hop (this gateway's router or firewall)",
        ),
        "de": (
            "einer Firewall höchstens {hops} Hops entfernt",
            "der eigenen Firewall dieses Rechners oder dem ersten Hop (Router oder Firewall "
            "dieses Gateways)",
        ),
    },
}


def _syn_reset_place(subject: str, lang: str, use: str) -> str:
    hops = subject.removeprefix("within ").removesuffix(" hops")
    near, first = _SYN_RESET_PLACES[use][lang if lang in LANGUAGES else "en"]
    return near.format(hops=hops) if hops.isdigit() else first


def syn_reset_where(subject: str, lang: str) -> str:
    """The firewall whose rule resets the SYNs, for the firewall team's line ("At …:")."""
    return _syn_reset_place(subject, lang, "firewall")


def hop_words(hop: int, lang: str, address: str = "") -> str:
    """Where a device is, in hops from the gateway (and at which address, where a trace
    named it), as the language says it."""
    at = f"{address}, " if address else ""
    if lang == "de":
        if hop == 1:
            return f"am ersten Hop ({at}Router oder Firewall dieses Gateways)"
        return f"{hop} Hops entfernt ({address})" if address else f"{hop} Hops entfernt"
    if hop == 1:
        return f"at the first hop ({at}this gateway's router or firewall)"
    return f"{hop} hops away ({address})" if address else f"{hop} hops away"


def offset_words(seconds: float, lang: str) -> str:
    """How far a clock is off, as the language says it: `3 days 4 hours ahead of`,
    `3 Tage 4 Stunden vor`; `12 minutes behind`, `12 Minuten nach`."""
    left = abs(round(seconds))
    units = (
        (86400, ("day", "days"), ("Tag", "Tage")),
        (3600, ("hour", "hours"), ("Stunde", "Stunden")),
        (60, ("minute", "minutes"), ("Minute", "Minuten")),
        (1, ("second", "seconds"), ("Sekunde", "Sekunden")),
    )
    words: list[str] = []
    first = None
    for index, (size, english, german) in enumerate(units):
        count, left = divmod(left, size)
        if count and first is None:
            first = index
        # The largest unit and the one below it: "400 days 3 hours", never "400 days 1 s".
        if count and first is not None and index <= first + 1:
            names = german if lang == "de" else english
            words.append(f"{count} {names[0] if count == 1 else names[1]}")
    said = " ".join(words) or ("0 Sekunden" if lang == "de" else "0 seconds")
    if lang == "de":
        return f"{said} {'vor' if seconds > 0 else 'nach'}"
    return f"{said} {'ahead of' if seconds > 0 else 'behind'}"


def endpoint_count(count: int, lang: str) -> str:
    """`1 endpoint`, `13 endpoints`; `1 Endpunkt`, `13 Endpunkte`."""
    return message("word.endpoint" if count == 1 else "word.endpoints", lang, count=count)


def profile_name(profile: str, lang: str) -> str:
    """The profile's name; the command line's targets named in the language."""
    return message("text.command_line", lang) if profile == COMMAND_LINE else profile


def severity_name(severity: Severity, lang: str) -> str:
    return _STATES["de" if lang == "de" else "en"][severity.name]
