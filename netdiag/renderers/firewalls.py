"""The fix, in the firewall's own language: configuration snippets for the product in the
path, made from the report's remedy plan (never from a fixed list of hosts).

What each snippet is built from, and how sure each part is, follows the vendors' public
documentation as collected in the project's research notes: FortiOS CLI object, service,
policy and `ssl-exempt` fields from the FortiOS CLI reference; PAN-OS `set address … fqdn`
from Palo Alto's knowledge base, the service and decryption-rule lines in the form the
documented GUI fields take on the CLI (marked as such); Check Point's objects and rules
through `mgmt_cli` with the Management API's field names; Cisco ASA's ESMTP `allow-tls`
from the ASA configuration guide. Where no CLI could be confirmed (Sophos Firewall,
OPNsense, pfSense, the ASA access rules) the snippet is GUI steps in words. Every object
is named `netdiag-…`, every placeholder is `<…>`, and every snippet starts by saying that
it must be reviewed against the site's policy.

Every value is quoted for the syntax it lands in (FortiOS and PAN-OS strings, `mgmt_cli`
arguments as the shell reads them, comment lines): a host name from a profile can never
become a command of its own. Addresses become address objects, names FQDN objects. The
words around the commands are in the report's language.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from netdiag.renderers.escape import visible
from netdiag.report.model import RemedyPlan

Place = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Remedy:
    """One product's snippet: CLI lines as the product expects them, or GUI steps."""

    product: str  # the product's id ("fortigate")
    name: str
    kind: str  # "cli" or "steps"
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FirewallProduct:
    id: str
    name: str
    # Names of the inspection-product catalogue that mean this product.
    catalogue: tuple[str, ...]
    certainty: str
    comment: str  # how the product's own syntax writes a comment line
    build: Callable[[RemedyPlan, str], tuple[str, list[str]]]


# The words around the commands, in both languages; {fields} are filled in, quoted for the
# line they land in by the caller.
TEXT: dict[str, dict[str, str]] = {
    "forti.exempt": {
        "en": "ssl-exempt needs full (deep) inspection; in proxy-based policies an FQDN "
        "exemption applies to the IP address (other names on it are exempted too).",
        "de": "ssl-exempt braucht die volle (Deep-)Inspektion; in Proxy-basierten Richtlinien "
        "gilt eine FQDN-Ausnahme für die IP-Adresse (andere Namen darauf sind mit ausgenommen).",
    },
    "forti.smtp": {
        "en": "STARTTLS was stripped or masked on {places}: turn off SMTP inspection for these "
        "hosts in the policy's protocol options (no one-line CLI is documented for this: do it "
        "in the GUI).",
        "de": "STARTTLS wurde auf {places} entfernt oder maskiert: die SMTP-Inspektion für diese "
        "Hosts in den Protokolloptionen der Richtlinie ausschalten (dafür ist keine einzeilige "
        "CLI dokumentiert: in der GUI erledigen).",
    },
    "panos.source": {
        "en": "set address … fqdn: Palo Alto's knowledge base; the service, security-rule and "
        "decryption-rule lines are the CLI form of the documented GUI fields: check them in "
        "your PAN-OS version before the commit.",
        "de": "set address … fqdn: Knowledge Base von Palo Alto; die Dienst-, Sicherheits- und "
        "Entschlüsselungsregeln sind die CLI-Form der dokumentierten GUI-Felder: vor dem Commit "
        "in der eigenen PAN-OS-Version prüfen.",
    },
    "panos.exclusion": {
        "en": "And in the GUI: Device > Certificate Management > SSL Decryption Exclusion > "
        "Add: {hosts} (the technical exclusion for client-certificate authentication).",
        "de": "Und in der GUI: Device > Certificate Management > SSL Decryption Exclusion > "
        "Add: {hosts} (die technische Ausnahme für die Anmeldung mit Client-Zertifikat).",
    },
    "panos.smtp": {
        "en": "STARTTLS was stripped or masked: check the security profiles applied to smtp for "
        "{places}.",
        "de": "STARTTLS wurde entfernt oder maskiert: die Sicherheitsprofile für smtp zu "
        "{places} prüfen.",
    },
    "checkpoint.source": {
        "en": "Object and field names from Check Point's Management API (dns-domain, host, "
        "service-tcp, access-rule, https-rule); the layer names are your policy's.",
        "de": "Objekt- und Feldnamen aus der Management API von Check Point (dns-domain, host, "
        "service-tcp, access-rule, https-rule); die Layer-Namen sind die der eigenen Richtlinie.",
    },
    "checkpoint.probe": {
        "en": "Older gateways drop client-certificate connections even with a bypass rule "
        "unless Probe Bypass is on (sk104717).",
        "de": "Ältere Gateways verwerfen Verbindungen mit Client-Zertifikat trotz Bypass-Regel, "
        "solange Probe Bypass aus ist (sk104717).",
    },
    "checkpoint.smtp": {
        "en": "STARTTLS was stripped or masked on {places}: check SMTP inspection for these hosts.",
        "de": "STARTTLS wurde auf {places} entfernt oder maskiert: die SMTP-Inspektion für diese "
        "Hosts prüfen.",
    },
    "asa.smtp": {
        "en": "STARTTLS was masked on {places}: let TLS through the ESMTP inspection (or no "
        "inspect esmtp for them).",
        "de": "STARTTLS wurde auf {places} maskiert: TLS durch die ESMTP-Inspektion lassen (oder "
        "no inspect esmtp für sie).",
    },
    "asa.rule": {
        "en": "Access rule: permit TCP {port} from the gateway to network objects (FQDN, or host "
        "for an address) for {hosts} (ASDM: Configuration > Firewall > Access Rules).",
        "de": "Zugriffsregel: TCP {port} vom Gateway zu Netzwerkobjekten (FQDN, oder Host für "
        "eine Adresse) für {hosts} erlauben (ASDM: Configuration > Firewall > Access Rules).",
    },
    "steps.smtp": {
        "en": "Do not scan SMTP/SMTPS for {places} (STARTTLS was stripped or masked).",
        "de": "SMTP/SMTPS zu {places} nicht scannen (STARTTLS wurde entfernt oder maskiert).",
    },
    "sophos.objects": {
        "en": "Hosts and services > FQDN host (IP host for an address) > Add one per name, "
        "named netdiag-<name>: {hosts}.",
        "de": "Hosts and services > FQDN host (IP host für eine Adresse) > je Name einen "
        "hinzufügen, Name netdiag-<Name>: {hosts}.",
    },
    "sophos.rule": {
        "en": "Hosts and services > Services > Add netdiag-tcp-{port} (TCP {port}); Rules and "
        "policies > Firewall rules > Add: source the gateway, destination {hosts}, service "
        "netdiag-tcp-{port}, action Accept (no SMTP/SMTPS scanning).",
        "de": "Hosts and services > Services > netdiag-tcp-{port} (TCP {port}) hinzufügen; "
        "Rules and policies > Firewall rules > Add: Quelle das Gateway, Ziel {hosts}, Dienst "
        "netdiag-tcp-{port}, Aktion Accept (kein SMTP/SMTPS-Scan).",
    },
    "sophos.exempt": {
        "en": "Rules and policies > SSL/TLS inspection rules > Add: action Don't decrypt, "
        "destination {hosts} (or add the domains to the SSL/TLS exclusion list).",
        "de": "Rules and policies > SSL/TLS inspection rules > Add: Aktion Don't decrypt, Ziel "
        "{hosts} (oder die Domains in die SSL/TLS-Ausschlussliste eintragen).",
    },
    "opnsense.objects": {
        "en": "Firewall > Aliases > Add, type Host(s), name netdiag_vendor: {hosts}.",
        "de": "Firewall > Aliases > Add, Typ Host(s), Name netdiag_vendor: {hosts}.",
    },
    "opnsense.rule": {
        "en": "Firewall > Aliases > Add, type Port(s), name netdiag_tcp_{port}: {port}; "
        "Firewall > Rules > LAN > Add: Pass, TCP, source the gateway, destination {hosts} (an "
        "alias of them), port netdiag_tcp_{port}.",
        "de": "Firewall > Aliases > Add, Typ Port(s), Name netdiag_tcp_{port}: {port}; "
        "Firewall > Rules > LAN > Add: Pass, TCP, Quelle das Gateway, Ziel {hosts} (ein Alias "
        "davon), Port netdiag_tcp_{port}.",
    },
    "opnsense.exempt": {
        "en": "Only if the web proxy bumps TLS: splice these names (they need client "
        "certificates): {hosts}.",
        "de": "Nur wenn der Web-Proxy TLS aufbricht (bump): diese Namen durchreichen (splice), "
        "sie brauchen Client-Zertifikate: {hosts}.",
    },
    "pfsense.objects": {
        "en": "Firewall > Aliases > IP > Add, type Host(s), name netdiag_vendor: {hosts}.",
        "de": "Firewall > Aliases > IP > Add, Typ Host(s), Name netdiag_vendor: {hosts}.",
    },
    "pfsense.rule": {
        "en": "Firewall > Aliases > Ports > Add, name netdiag_tcp_{port}: {port}; Firewall > "
        "Rules > LAN > Add: Pass, TCP, source the gateway, destination {hosts} (an alias of "
        "them), port netdiag_tcp_{port}.",
        "de": "Firewall > Aliases > Ports > Add, Name netdiag_tcp_{port}: {port}; Firewall > "
        "Rules > LAN > Add: Pass, TCP, Quelle das Gateway, Ziel {hosts} (ein Alias davon), "
        "Port netdiag_tcp_{port}.",
    },
    "dns": {
        "en": "no rule for these names, they did not resolve (DNS): {hosts}",
        "de": "keine Regel für diese Namen, sie lösten nicht auf (DNS): {hosts}",
    },
    "placeholder.lan": {"en": "<LAN interface>", "de": "<LAN-Schnittstelle>"},
    "placeholder.wan": {"en": "<WAN interface>", "de": "<WAN-Schnittstelle>"},
    "placeholder.gateway": {
        "en": "<gateway address object>",
        "de": "<Adressobjekt des Gateways>",
    },
    "placeholder.profile": {
        "en": "<deep-inspection profile of the gateway policy>",
        "de": "<Deep-Inspection-Profil der Richtlinie des Gateways>",
    },
    "placeholder.trust": {"en": "<trust zone>", "de": "<Trust-Zone>"},
    "placeholder.untrust": {"en": "<untrust zone>", "de": "<Untrust-Zone>"},
    "placeholder.gateway_address": {
        "en": "<gateway address>",
        "de": "<Adresse des Gateways>",
    },
    "placeholder.layer": {"en": "<your access layer>", "de": "<eigener Access-Layer>"},
    "placeholder.https_layer": {
        "en": "<your HTTPS inspection layer>",
        "de": "<eigener HTTPS-Inspection-Layer>",
    },
    "placeholder.gateway_object": {
        "en": "<gateway object>",
        "de": "<Objekt des Gateways>",
    },
}


def _text(key: str, lang: str, **fields: str) -> str:
    template = TEXT[key]["de" if lang == "de" else "en"]
    return template.format(**fields) if fields else template


def forti(value: str) -> str:
    """A FortiOS CLI string: double quotes, `\\` and `"` escaped (FortiOS CLI reference,
    "Special characters"), control characters shown."""
    return '"' + visible(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def panos(value: str) -> str:
    """A PAN-OS CLI token: a name of safe characters as it is; anything else in double
    quotes with `"` escaped."""
    shown = visible(value)
    if re.fullmatch(r"[A-Za-z0-9._:/<>'-]+", shown) and "<" not in shown:
        return shown
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shell(value: str) -> str:
    """An argument of a command that is pasted into a shell (`mgmt_cli` in bash): single
    quotes, so that neither `$( )` nor a backquote nor a `;` is the shell's."""
    return shlex.quote(visible(value))


def comment(lead: str, text: str) -> str:
    """A comment line of the product's syntax, on one line whatever the text holds."""
    return f"{lead} {visible(text)}" if lead else visible(text)


def _by_port(places: Sequence[Place]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for host, port in places:
        hosts = found.setdefault(port, [])
        if host not in hosts:
            hosts.append(host)
    return found


def _hosts(places: Sequence[Place]) -> list[str]:
    return list(dict.fromkeys(host for host, _ in places))


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _object(host: str) -> str:
    """The object's name: `netdiag-` and the host, in the characters every product's
    object names allow (an IPv6 address's colons become dashes)."""
    return "netdiag-" + re.sub(r"[^A-Za-z0-9._-]", "-", host)


def _places(places: Sequence[Place]) -> str:
    return ", ".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in places)


def _fortigate(plan: RemedyPlan, lang: str) -> tuple[str, list[str]]:
    lines: list[str] = []
    hosts = _hosts([*plan.allow, *plan.exempt])
    names = [h for h in hosts if _address(h) is None]
    v4 = [h for h in hosts if isinstance(_address(h), ipaddress.IPv4Address)]
    v6 = [h for h in hosts if isinstance(_address(h), ipaddress.IPv6Address)]
    if names or v4:
        lines.append("config firewall address")
        for host in names:
            lines += [
                f"    edit {forti(_object(host))}",
                "        set type fqdn",
                f"        set fqdn {forti(host)}",
                "    next",
            ]
        for host in v4:
            lines += [
                f"    edit {forti(_object(host))}",
                "        set type ipmask",
                f"        set subnet {forti(host)} 255.255.255.255",
                "    next",
            ]
        lines.append("end")
    if v6:
        lines.append("config firewall address6")
        for host in v6:
            lines += [
                f"    edit {forti(_object(host))}",
                f"        set ip6 {forti(host + '/128')}",
                "    next",
            ]
        lines.append("end")
    if plan.allow:
        allow = _by_port(plan.allow)
        lines.append("config firewall service custom")
        for port in allow:
            lines += [
                f"    edit {forti(f'netdiag-tcp-{port}')}",
                f"        set tcp-portrange {port}",
                "    next",
            ]
        lines.append("end")
        lines.append("config firewall policy")
        for port, port_hosts in allow.items():
            four = [h for h in port_hosts if not isinstance(_address(h), ipaddress.IPv6Address)]
            six = [h for h in port_hosts if isinstance(_address(h), ipaddress.IPv6Address)]
            lines += [
                "    edit 0",
                f"        set name {forti(f'netdiag-allow-tcp-{port}')}",
                f"        set srcintf {forti(_text('placeholder.lan', lang))}",
                f"        set dstintf {forti(_text('placeholder.wan', lang))}",
                f"        set srcaddr {forti(_text('placeholder.gateway', lang))}",
            ]
            if four:
                lines.append("        set dstaddr " + " ".join(forti(_object(h)) for h in four))
            if six:
                lines.append("        set dstaddr6 " + " ".join(forti(_object(h)) for h in six))
            lines += [
                f"        set service {forti(f'netdiag-tcp-{port}')}",
                '        set schedule "always"',
                "        set action accept",
                "    next",
            ]
        lines.append("end")
    if plan.exempt:
        lines += [
            "config firewall ssl-ssh-profile",
            f"    edit {forti(_text('placeholder.profile', lang))}",
            "        config ssl-exempt",
        ]
        for host in _hosts(plan.exempt):
            lines += [
                "            edit 0",
                "                set type address",
                f"                set address {forti(_object(host))}",
                "            next",
            ]
        lines += ["        end", "    next", "end"]
    notes = []
    if plan.exempt:
        notes.append(_text("forti.exempt", lang))
    if plan.smtp_inspection:
        notes.append(_text("forti.smtp", lang, places=_places(plan.smtp_inspection)))
    return "cli", [*lines, *(comment("#", n) for n in notes)]


def _panos(plan: RemedyPlan, lang: str) -> tuple[str, list[str]]:
    lines: list[str] = []
    trust, untrust = (
        panos(_text("placeholder.trust", lang)),
        panos(_text("placeholder.untrust", lang)),
    )
    gateway = panos(_text("placeholder.gateway_address", lang))
    for host in _hosts([*plan.allow, *plan.exempt]):
        address = _address(host)
        if address is None:
            lines.append(f"set address {panos(_object(host))} fqdn {panos(host)}")
        else:
            prefix = 32 if address.version == 4 else 128
            lines.append(
                f"set address {panos(_object(host))} ip-netmask {panos(f'{host}/{prefix}')}"
            )
    for port, port_hosts in _by_port(plan.allow).items():
        members = " ".join(panos(_object(h)) for h in port_hosts)
        lines += [
            f"set address-group netdiag-dst-tcp-{port} static [ {members} ]",
            f"set service netdiag-tcp-{port} protocol tcp port {port}",
            f"set rulebase security rules netdiag-allow-tcp-{port} from {trust} to "
            f"{untrust} source {gateway} destination netdiag-dst-tcp-{port} "
            f"application any service netdiag-tcp-{port} action allow",
        ]
    if plan.exempt:
        members = " ".join(panos(_object(h)) for h in _hosts(plan.exempt))
        lines.append(
            f"set rulebase decryption rules netdiag-no-decrypt from {trust} to "
            f"{untrust} source {gateway} destination [ {members} ] "
            "service any action no-decrypt"
        )
    notes = [_text("panos.source", lang)]
    if plan.exempt:
        notes.append(_text("panos.exclusion", lang, hosts=", ".join(_hosts(plan.exempt))))
    if plan.smtp_inspection:
        notes.append(_text("panos.smtp", lang, places=_places(plan.smtp_inspection)))
    return "cli", [*lines, *(comment("#", n) for n in notes)]


def _checkpoint(plan: RemedyPlan, lang: str) -> tuple[str, list[str]]:
    lines: list[str] = []
    reference: dict[str, str] = {}
    for host in _hosts([*plan.allow, *plan.exempt]):
        if _address(host) is None:
            reference[host] = f".{host}"
            lines.append(
                f"mgmt_cli add dns-domain name {shell(reference[host])} is-sub-domain false"
            )
        else:
            reference[host] = _object(host)
            lines.append(
                f"mgmt_cli add host name {shell(reference[host])} ip-address {shell(host)}"
            )
    gateway = shell(_text("placeholder.gateway_object", lang))
    for port, port_hosts in _by_port(plan.allow).items():
        lines.append(f"mgmt_cli add service-tcp name {shell(f'netdiag-tcp-{port}')} port {port}")
        destinations = " ".join(
            f"destination.{n} {shell(reference[h])}" for n, h in enumerate(port_hosts, 1)
        )
        lines.append(
            f"mgmt_cli add access-rule layer {shell(_text('placeholder.layer', lang))} position "
            f"top name {shell(f'netdiag-allow-tcp-{port}')} source {gateway} {destinations} "
            f"service {shell(f'netdiag-tcp-{port}')} action Accept"
        )
    if plan.exempt:
        destinations = " ".join(
            f"destination.{n} {shell(reference[h])}" for n, h in enumerate(_hosts(plan.exempt), 1)
        )
        lines.append(
            f"mgmt_cli add https-rule layer {shell(_text('placeholder.https_layer', lang))} "
            f"position top name netdiag-bypass {destinations} action Bypass"
        )
    if lines:
        lines.append("mgmt_cli publish")
    notes = [_text("checkpoint.source", lang)]
    if plan.exempt:
        notes.append(_text("checkpoint.probe", lang))
    if plan.smtp_inspection:
        notes.append(_text("checkpoint.smtp", lang, places=_places(plan.smtp_inspection)))
    return "cli", [*lines, *(comment("#", n) for n in notes)]


def _asa(plan: RemedyPlan, lang: str) -> tuple[str, list[str]]:
    lines: list[str] = []
    if plan.smtp_inspection:
        lines += [
            comment("!", _text("asa.smtp", lang, places=_places(plan.smtp_inspection))),
            "policy-map type inspect esmtp netdiag-esmtp-allow-tls",
            " parameters",
            "  allow-tls",
            "policy-map global_policy",
            " class inspection_default",
            "  inspect esmtp netdiag-esmtp-allow-tls",
        ]
    steps = [
        _text("asa.rule", lang, port=str(port), hosts=", ".join(port_hosts))
        for port, port_hosts in _by_port([*plan.allow, *plan.exempt]).items()
    ]
    return "cli", [*lines, *(comment("!", s) for s in steps)]


def _steps(product: str) -> Callable[[RemedyPlan, str], tuple[str, list[str]]]:
    """GUI steps in words for a product without a confirmed CLI."""

    def build(plan: RemedyPlan, lang: str) -> tuple[str, list[str]]:
        steps = []
        hosts = _hosts([*plan.allow, *plan.exempt])
        if hosts:
            steps.append(_text(f"{product}.objects", lang, hosts=", ".join(hosts)))
        for port, port_hosts in _by_port(plan.allow).items():
            steps.append(
                _text(f"{product}.rule", lang, port=str(port), hosts=", ".join(port_hosts))
            )
        if plan.exempt and f"{product}.exempt" in TEXT:
            steps.append(_text(f"{product}.exempt", lang, hosts=", ".join(_hosts(plan.exempt))))
        if plan.smtp_inspection:
            steps.append(_text("steps.smtp", lang, places=_places(plan.smtp_inspection)))
        return "steps", [visible(f"{n}. {s}") for n, s in enumerate(steps, start=1)]

    return build


PRODUCTS: tuple[FirewallProduct, ...] = (
    FirewallProduct(
        "fortigate", "FortiGate (FortiOS CLI)", ("FortiGate",),
        "documented CLI (FortiOS CLI reference); interfaces and the gateway's address are "
        "placeholders", "#", _fortigate,
    ),
    FirewallProduct(
        "panos", "Palo Alto Networks (PAN-OS CLI, configure mode)", ("Palo Alto Networks",),
        "address objects documented; service, security and decryption rules in the CLI form of "
        "the documented GUI fields", "#", _panos,
    ),
    FirewallProduct(
        "checkpoint", "Check Point (mgmt_cli)", ("Check Point",),
        "Management API object and field names; layer names are placeholders", "#", _checkpoint,
    ),
    FirewallProduct(
        "sophos", "Sophos Firewall (GUI steps)", ("Sophos",),
        "GUI steps from Sophos' documentation (no documented CLI)", "", _steps("sophos"),
    ),
    FirewallProduct(
        "opnsense", "OPNsense (GUI steps)", (),
        "GUI steps from OPNsense's manual (aliases of type Host(s) resolve FQDNs)", "",
        _steps("opnsense"),
    ),
    FirewallProduct(
        "pfsense", "pfSense (GUI steps)", (),
        "GUI steps from Netgate's documentation (Host aliases resolve FQDNs every 5 minutes)", "",
        _steps("pfsense"),
    ),
    FirewallProduct(
        "asa", "Cisco ASA (CLI for ESMTP inspection; access rules as steps)", ("Cisco",),
        "ESMTP allow-tls from the ASA configuration guide; access rules in words", "!", _asa,
    ),
)  # fmt: skip
BY_ID = {p.id: p for p in PRODUCTS}


def product_named(name: str) -> str:
    """The id of the product an inspection product's catalogue name means, or ""."""
    return next((p.id for p in PRODUCTS if name in p.catalogue), "")


# How sure each snippet is, in German (the products' own words stay as they are).
CERTAINTY_DE = {
    "fortigate": "dokumentierte CLI (FortiOS CLI Reference); Schnittstellen und die Adresse des "
    "Gateways sind Platzhalter",
    "panos": "Adressobjekte dokumentiert; Dienst-, Sicherheits- und Entschlüsselungsregeln in der "
    "CLI-Form der dokumentierten GUI-Felder",
    "checkpoint": "Objekt- und Feldnamen der Management API; die Layer-Namen sind Platzhalter",
    "sophos": "GUI-Schritte nach der Sophos-Dokumentation (keine dokumentierte CLI)",
    "opnsense": "GUI-Schritte nach dem OPNsense-Handbuch (Aliase vom Typ Host(s) lösen FQDNs auf)",
    "pfsense": "GUI-Schritte nach der Netgate-Dokumentation (Host-Aliase lösen FQDNs alle 5 "
    "Minuten auf)",
    "asa": "ESMTP allow-tls nach dem ASA Configuration Guide; Zugriffsregeln in Worten",
}
HEADER = {
    "en": (
        "netdiag: what {name} needs for the gateway's traffic to the vendor ({what}). Review it "
        "against your site's policy before use; replace every <…>; objects are named netdiag-…. "
        "How sure: {certainty}."
    ),
    "de": (
        "netdiag: was {name} für den Verkehr des Gateways zum Hersteller braucht ({what}). Vor "
        "dem Einsatz gegen die eigene Richtlinie prüfen; jedes <…> ersetzen; Objekte heißen "
        "netdiag-…. Wie sicher: {certainty}."
    ),
}
WHAT = {
    "en": {"allow": "rules", "exempt": "inspection exemptions", "smtp": "SMTP inspection"},
    "de": {"allow": "Regeln", "exempt": "Ausnahmen von der Inspektion", "smtp": "SMTP-Inspektion"},
}


def remedy(plan: RemedyPlan, product_id: str, lang: str = "en") -> Remedy | None:
    """The snippet of one product for the plan; None when the plan asks for nothing."""
    if not (plan.allow or plan.exempt or plan.smtp_inspection):
        return None
    product = BY_ID[product_id]
    kind, body = product.build(plan, lang)
    words = WHAT["de" if lang == "de" else "en"]
    what = ", ".join(
        words[key]
        for key, wanted in (
            ("allow", plan.allow),
            ("exempt", plan.exempt),
            ("smtp", plan.smtp_inspection),
        )
        if wanted
    )
    certainty = CERTAINTY_DE[product.id] if lang == "de" else product.certainty
    header = HEADER["de" if lang == "de" else "en"].format(
        name=product.name, what=what, certainty=certainty
    )
    lines = [comment(product.comment, header), *body]
    if plan.dns:
        lines.append(comment(product.comment, _text("dns", lang, hosts=", ".join(plan.dns))))
    return Remedy(product.id, product.name, kind, tuple(lines))


def remedies(plan: RemedyPlan, chosen: str = "", lang: str = "en") -> list[Remedy]:
    """The chosen product's snippet, or the named one's (the evidence named the product),
    else every product's."""
    wanted = chosen or product_named(plan.product)
    ids = [wanted] if wanted else [p.id for p in PRODUCTS]
    found = [remedy(plan, i, lang) for i in ids]
    return [r for r in found if r is not None]
