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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
    build: Callable[[RemedyPlan], tuple[str, list[str]]]


def _by_port(places: Sequence[Place]) -> dict[int, list[str]]:
    ports: dict[int, list[str]] = {}
    for host, port in places:
        ports.setdefault(port, [])
        if host not in ports[port]:
            ports[port].append(host)
    return dict(sorted(ports.items()))


def _hosts(places: Sequence[Place]) -> list[str]:
    return list(dict.fromkeys(host for host, _ in places))


def _object(host: str) -> str:
    return f"netdiag-{host}"


def _fortigate(plan: RemedyPlan) -> tuple[str, list[str]]:
    lines: list[str] = []
    hosts = _hosts([*plan.allow, *plan.exempt])
    if hosts:
        lines.append("config firewall address")
        for host in hosts:
            lines += [
                f'    edit "{_object(host)}"',
                "        set type fqdn",
                f'        set fqdn "{host}"',
                "    next",
            ]
        lines.append("end")
    if plan.allow:
        allow = _by_port(plan.allow)
        lines.append("config firewall service custom")
        for port in allow:
            lines += [
                f'    edit "netdiag-tcp-{port}"',
                f"        set tcp-portrange {port}",
                "    next",
            ]
        lines.append("end")
        lines.append("config firewall policy")
        for port, port_hosts in allow.items():
            destinations = " ".join(f'"{_object(h)}"' for h in port_hosts)
            lines += [
                "    edit 0",
                f'        set name "netdiag-allow-tcp-{port}"',
                '        set srcintf "<LAN interface>"',
                '        set dstintf "<WAN interface>"',
                '        set srcaddr "<the gateway\'s address object>"',
                f"        set dstaddr {destinations}",
                f'        set service "netdiag-tcp-{port}"',
                '        set schedule "always"',
                "        set action accept",
                "    next",
            ]
        lines.append("end")
    if plan.exempt:
        lines += [
            "config firewall ssl-ssh-profile",
            '    edit "<the deep-inspection profile of the gateway\'s policy>"',
            "        config ssl-exempt",
        ]
        for host in _hosts(plan.exempt):
            lines += [
                "            edit 0",
                "                set type address",
                f'                set address "{_object(host)}"',
                "            next",
            ]
        lines += ["        end", "    next", "end"]
    notes = []
    if plan.exempt:
        notes.append(
            "ssl-exempt needs full (deep) inspection; in proxy-based policies an FQDN exemption "
            "applies to the IP address (other names on it are exempted too)."
        )
    if plan.smtp_inspection:
        notes.append(
            "STARTTLS was stripped or masked on "
            + ", ".join(f"{h}:{p}" for h, p in plan.smtp_inspection)
            + ": turn off SMTP inspection for these hosts in the policy's protocol options "
            "(no one-line CLI is documented for this: do it in the GUI)."
        )
    return "cli", [*lines, *(f"# {n}" for n in notes)]


def _panos(plan: RemedyPlan) -> tuple[str, list[str]]:
    lines: list[str] = []
    for host in _hosts([*plan.allow, *plan.exempt]):
        lines.append(f"set address {_object(host)} fqdn {host}")
    for port, port_hosts in _by_port(plan.allow).items():
        members = " ".join(_object(h) for h in port_hosts)
        lines += [
            f"set address-group netdiag-dst-tcp-{port} static [ {members} ]",
            f"set service netdiag-tcp-{port} protocol tcp port {port}",
            f"set rulebase security rules netdiag-allow-tcp-{port} from <trust zone> to "
            f"<untrust zone> source <the gateway's address> destination netdiag-dst-tcp-{port} "
            f"application any service netdiag-tcp-{port} action allow",
        ]
    if plan.exempt:
        members = " ".join(_object(h) for h in _hosts(plan.exempt))
        lines.append(
            "set rulebase decryption rules netdiag-no-decrypt from <trust zone> to "
            f"<untrust zone> source <the gateway's address> destination [ {members} ] "
            "service any action no-decrypt"
        )
    notes = [
        "set address … fqdn: Palo Alto's knowledge base; the service, security-rule and "
        "decryption-rule lines are the CLI form of the documented GUI fields: check them in "
        "your PAN-OS version before the commit."
    ]
    if plan.exempt:
        notes.append(
            "And in the GUI: Device > Certificate Management > SSL Decryption Exclusion > Add: "
            + ", ".join(_hosts(plan.exempt))
            + " (the technical exclusion for client-certificate authentication)."
        )
    if plan.smtp_inspection:
        notes.append(
            "STARTTLS was stripped or masked: check the security profiles applied to smtp for "
            + ", ".join(f"{h}:{p}" for h, p in plan.smtp_inspection)
            + "."
        )
    return "cli", [*lines, *(f"# {n}" for n in notes)]


def _checkpoint(plan: RemedyPlan) -> tuple[str, list[str]]:
    lines: list[str] = []
    for host in _hosts([*plan.allow, *plan.exempt]):
        lines.append(f'mgmt_cli add dns-domain name ".{host}" is-sub-domain false')
    for port, port_hosts in _by_port(plan.allow).items():
        lines.append(f'mgmt_cli add service-tcp name "netdiag-tcp-{port}" port {port}')
        destinations = " ".join(f'destination.{n} ".{h}"' for n, h in enumerate(port_hosts, 1))
        lines.append(
            f'mgmt_cli add access-rule layer "<your access layer>" position top name '
            f'"netdiag-allow-tcp-{port}" source "<the gateway\'s object>" {destinations} '
            f'service "netdiag-tcp-{port}" action "Accept"'
        )
    if plan.exempt:
        destinations = " ".join(
            f'destination.{n} ".{h}"' for n, h in enumerate(_hosts(plan.exempt), 1)
        )
        lines.append(
            f'mgmt_cli add https-rule layer "<your HTTPS inspection layer>" position top name '
            f'"netdiag-bypass" {destinations} action "Bypass"'
        )
    if lines:
        lines.append("mgmt_cli publish")
    notes = [
        "Object and field names from Check Point's Management API (dns-domain, service-tcp, "
        "access-rule, https-rule); the layer names are your policy's.",
    ]
    if plan.exempt:
        notes.append(
            "Older gateways drop client-certificate connections even with a bypass rule unless "
            "Probe Bypass is on (sk104717)."
        )
    if plan.smtp_inspection:
        notes.append(
            "STARTTLS was stripped or masked on "
            + ", ".join(f"{h}:{p}" for h, p in plan.smtp_inspection)
            + ": check SMTP inspection for these hosts."
        )
    return "cli", [*lines, *(f"# {n}" for n in notes)]


def _asa(plan: RemedyPlan) -> tuple[str, list[str]]:
    lines: list[str] = []
    if plan.smtp_inspection:
        lines += [
            "! STARTTLS was masked on "
            + ", ".join(f"{h}:{p}" for h, p in plan.smtp_inspection)
            + ": let TLS through the ESMTP inspection (or no inspect esmtp for them).",
            "policy-map type inspect esmtp netdiag-esmtp-allow-tls",
            " parameters",
            "  allow-tls",
            "policy-map global_policy",
            " class inspection_default",
            "  inspect esmtp netdiag-esmtp-allow-tls",
        ]
    steps = []
    for port, port_hosts in _by_port([*plan.allow, *plan.exempt]).items():
        steps.append(
            f"Access rule: permit TCP {port} from the gateway to FQDN network objects for "
            + ", ".join(port_hosts)
            + " (ASDM: Configuration > Firewall > Access Rules)."
        )
    return "cli", [*lines, *(f"! {s}" for s in steps)]


def _steps(objects: str, rule: str, exempt: str) -> Callable[[RemedyPlan], tuple[str, list[str]]]:
    """GUI steps in words for a product without a confirmed CLI."""

    def build(plan: RemedyPlan) -> tuple[str, list[str]]:
        steps = []
        hosts = _hosts([*plan.allow, *plan.exempt])
        if hosts:
            steps.append(objects.format(hosts=", ".join(hosts)))
        for port, port_hosts in _by_port(plan.allow).items():
            steps.append(rule.format(port=port, hosts=", ".join(port_hosts)))
        if plan.exempt and exempt:
            steps.append(exempt.format(hosts=", ".join(_hosts(plan.exempt))))
        if plan.smtp_inspection:
            steps.append(
                "Do not scan SMTP/SMTPS for "
                + ", ".join(f"{h}:{p}" for h, p in plan.smtp_inspection)
                + " (STARTTLS was stripped or masked)."
            )
        return "steps", [f"{n}. {s}" for n, s in enumerate(steps, start=1)]

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
        "GUI steps from Sophos' documentation (no documented CLI)", "",
        _steps(
            "Hosts and services > FQDN host > Add one per name, named netdiag-<name>: {hosts}.",
            "Hosts and services > Services > Add netdiag-tcp-{port} (TCP {port}); Rules and "
            "policies > Firewall rules > Add: source the gateway, destination {hosts}, service "
            "netdiag-tcp-{port}, action Accept (no SMTP/SMTPS scanning).",
            "Rules and policies > SSL/TLS inspection rules > Add: action Don't decrypt, "
            "destination {hosts} (or add the domains to the SSL/TLS exclusion list).",
        ),
    ),
    FirewallProduct(
        "opnsense", "OPNsense (GUI steps)", (),
        "GUI steps from OPNsense's manual (aliases of type Host(s) resolve FQDNs)", "",
        _steps(
            "Firewall > Aliases > Add, type Host(s), name netdiag_vendor: {hosts}.",
            "Firewall > Aliases > Add, type Port(s), name netdiag_tcp_{port}: {port}; Firewall > "
            "Rules > LAN > Add: Pass, TCP, source the gateway, destination {hosts} (an alias of "
            "them), port netdiag_tcp_{port}.",
            "Only if the web proxy bumps TLS: splice these names (they need client "
            "certificates): {hosts}.",
        ),
    ),
    FirewallProduct(
        "pfsense", "pfSense (GUI steps)", (),
        "GUI steps from Netgate's documentation (Host aliases resolve FQDNs every 5 minutes)", "",
        _steps(
            "Firewall > Aliases > IP > Add, type Host(s), name netdiag_vendor: {hosts}.",
            "Firewall > Aliases > Ports > Add, name netdiag_tcp_{port}: {port}; Firewall > Rules "
            "> LAN > Add: Pass, TCP, source the gateway, destination {hosts} (an alias of them), "
            "port netdiag_tcp_{port}.",
            "",
        ),
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
    kind, body = product.build(plan)
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
    lead = f"{product.comment} " if product.comment else ""
    lines = [f"{lead}{header}", *body]
    if plan.dns:
        remark = (
            "keine Regel für diese Namen, sie lösten nicht auf (DNS): "
            if lang == "de"
            else "no rule for these names, they did not resolve (DNS): "
        )
        lines.append(f"{lead}{remark}{', '.join(plan.dns)}")
    return Remedy(product.id, product.name, kind, tuple(lines))


def remedies(plan: RemedyPlan, chosen: str = "", lang: str = "en") -> list[Remedy]:
    """The chosen product's snippet, or the named one's (the evidence named the product),
    else every product's."""
    wanted = chosen or product_named(plan.product)
    ids = [wanted] if wanted else [p.id for p in PRODUCTS]
    found = [remedy(plan, i, lang) for i in ids]
    return [r for r in found if r is not None]
