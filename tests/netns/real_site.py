"""The vendor's site in the real software of its kind, in the server namespace: dnsmasq for
DNS, Postfix (SMTP with STARTTLS on 25), Dovecot (POP3S on 995) and nginx (TLS on 8140),
each asking for the client certificate of the vendor's CA, on one address per vendor host.
What a hand-made server imitates — a banner's timing, a login's delay, an HTTP error page —
these do as deployed. Every daemon runs from a directory of its own (Postfix with its own
queue), so that nothing of the machine's own configuration takes part or is changed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from tests.integration.tls_fixtures import vendor_pins
from tests.netns.topology import Topology, stop
from tests.netns.vendor import DNS, HOSTS, SiteFiles
from tests.servers.pki import make_pki

# The Debian packages, by the command each provides.
PACKAGES = {
    "dnsmasq": "dnsmasq-base",
    "postfix": "postfix",
    "dovecot": "dovecot-pop3d",
    "nginx": "nginx-light",
}
PASSWORD = "Mailbox-Pw-3f9"  # the mailbox's (Dovecot's static passdb)
STARTED_S = 15  # how long the daemons may take to listen


# master.cf's services that postscreen needs, commented out in Debian's file.
POSTSCREEN_SERVICES = ("#smtpd     pass", "#dnsblog   unix", "#tlsproxy  unix")


def configure_postfix(
    conf: Path, directory: Path, settings: str, port: int = 25, postscreen: bool = False
) -> None:
    """A Postfix instance of its own in `conf` (its queue below it, its log and data in
    `directory`), listening on `port`, with these `main.cf` settings added; with
    `postscreen`, in front of smtpd as Postfix documents it (POSTSCREEN_README)."""
    (conf / "spool").mkdir(parents=True)
    (directory / "postfix-data").mkdir()
    shutil.chown(directory / "postfix-data", "postfix")
    # Debian's services, not chrooted: a chroot would need copies of /etc in the queue.
    master = []
    for line in Path("/etc/postfix/master.cf").read_text().splitlines():
        if postscreen and line.startswith(POSTSCREEN_SERVICES):
            line = line[1:]
        fields = line.split()
        if len(fields) >= 8 and not line[:1].isspace() and not line.startswith("#"):
            fields[4] = "n"
            if fields[:2] == ["smtp", "inet"]:
                fields[0] = str(port) if port != 25 else "smtp"
                if postscreen:
                    fields[6:] = ["1", "postscreen"]
            line = "  ".join(fields)
        master.append(line)
    (conf / "master.cf").write_text("\n".join(master) + "\n")
    (conf / "main.cf").write_text(
        "compatibility_level = 3.6\n"
        "inet_interfaces = all\ninet_protocols = ipv4\nmydestination =\n"
        "smtpd_banner = $myhostname ESMTP\n"
        # No reverse look-up of the client: the namespace's resolver is the machine's,
        # unreachable from it, and the banner would wait for it (as a real one would).
        "smtpd_peername_lookup = no\n"
        f"maillog_file = {directory}/postfix.log\nmaillog_file_prefixes = {directory}\n"
        f"queue_directory = {conf}/spool\ndata_directory = {directory}/postfix-data\n"
        f"{settings}\n"
    )


class PostfixProxy:
    """Postfix as the SMTP proxy of a firewall or of security software: in `namespace`, on
    `port`, answering whatever nftables redirects to it in its own name, without TLS — so
    its EHLO reply has no STARTTLS. It accepts no mail for anyone (nothing is relayed)."""

    def __init__(self, topology: Topology, namespace: str, port: int) -> None:
        self.topology, self.namespace, self.port = topology, namespace, port
        self.directory = Path(tempfile.mkdtemp(prefix="netdiag-proxy-"))
        self.directory.chmod(0o755)
        self._conf = self.directory / "postfix"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def __enter__(self) -> PostfixProxy:
        try:
            configure_postfix(
                self._conf, self.directory, "myhostname = smtp-gw.klinikum.example", self.port
            )
            self.topology.ns(self.namespace, "postfix", "-c", str(self._conf), "check")
            self._log = (self.directory / "postfix.out").open("wb")
            self._process = subprocess.Popen(
                ["ip", "netns", "exec", self.namespace,
                 "postfix", "-c", str(self._conf), "start-fg"],
                stdout=self._log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            for _ in range(STARTED_S * 10):  # bounded
                if f":{self.port} " in self.topology.ns(self.namespace, "ss", "-ltnH").stdout:
                    return self
                if self._process.poll() is not None:
                    break
                time.sleep(0.1)
            log = self.directory / "postfix.log"
            raise RuntimeError(f"the Postfix proxy did not start: {log.read_text()[-300:]}")
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc: object) -> None:
        if self._conf.exists():
            self.topology.ns(self.namespace, "postfix", "-c", str(self._conf), "stop", check=False)
        if self._process is not None:
            stop(self._process)
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class RealVendorSite(SiteFiles):
    """The four daemons; `postfix` and `dovecot` add lines to their configurations, `nginx`
    to its server block; `nginx_tls=False` makes 8140 a plain HTTP port (a misconfigured
    server)."""

    def __init__(
        self,
        topology: Topology,
        postfix: str = "",
        dovecot: str = "",
        postscreen: bool = False,
        nginx: str = "",
        nginx_tls: bool = True,
    ) -> None:
        self.topology = topology
        self.extra_postfix, self.extra_dovecot, self.extra_nginx = postfix, dovecot, nginx
        self.nginx_tls = nginx_tls
        self.postscreen = postscreen
        # Not below pytest's own directory (mode 0700): the daemons' users read from here.
        self.directory = Path(tempfile.mkdtemp(prefix="netdiag-site-"))
        self.directory.chmod(0o755)
        self._processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[BinaryIO] = []
        self._postfix = self.directory / "postfix"

    def log(self, name: str) -> str:
        """A daemon's log (`postfix.log`, `dovecot.log`, `nginx.err`)."""
        path = self.directory / name
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def __enter__(self) -> RealVendorSite:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        d = self.directory
        pki = make_pki()
        pki.client_pem(d)
        vendor_pins(pki, d)
        ca = pki.ca_pem(d)
        (d / "server.pem").write_bytes(
            pki.server.cert_chain_pems[0].bytes() + pki.issuing.cert_pem.bytes()
        )
        key = d / "server.key"
        key.write_bytes(pki.server.private_key_pem.bytes())
        key.chmod(0o644)  # Postfix's smtpd reads it as its own user
        server_if = f"l{len(self.topology.nodes) - 1}b"
        for address in HOSTS.values():
            self.topology.ns(
                self.topology.server, "ip", "addr", "add", f"{address}/24", "dev", server_if
            )
        records = [f"--host-record={host},{address}" for host, address in HOSTS.items()]
        self._run(
            "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--pid-file",
            f"--listen-address={DNS}", "--bind-interfaces", "--user=root", *records,
        )  # fmt: skip
        # The mail store, the mailbox's user's to write (Dovecot's static userdb: nobody).
        (d / "mail").mkdir()
        shutil.chown(d / "mail", "nobody", "nogroup")
        self._configure_postfix(ca)
        self.topology.ns(self.topology.server, "postfix", "-c", str(self._postfix), "check")
        self._run("postfix", "-c", str(self._postfix), "start-fg")
        self._run("dovecot", "-F", "-c", str(self._dovecot_conf(ca)))
        self._run("nginx", "-c", str(self._nginx_conf(ca)))
        for _ in range(STARTED_S * 10):  # bounded
            listening = self.topology.ns(self.topology.server, "ss", "-ltnH").stdout
            if all(f":{port} " in listening for port in (25, 995, 8140)):
                return
            if any(p.poll() is not None for p in self._processes):
                break
            time.sleep(0.1)
        raise RuntimeError(
            "the vendor's site did not start: "
            + " | ".join(self.log(n)[-300:] for n in ("postfix.log", "dovecot.log", "nginx.err"))
        )

    def _run(self, *command: str) -> None:
        log = (self.directory / f"{command[0]}.out").open("wb")
        self._logs.append(log)
        self._processes.append(
            subprocess.Popen(
                ["ip", "netns", "exec", self.topology.server, *command],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )

    def _configure_postfix(self, ca: Path) -> None:
        d = self.directory
        configure_postfix(
            self._postfix,
            d,
            "myhostname = mail1.dicommail.com\n"
            f"smtpd_tls_cert_file = {d}/server.pem\nsmtpd_tls_key_file = {d}/server.key\n"
            f"smtpd_tls_CAfile = {ca}\n"
            "smtpd_tls_security_level = encrypt\n"
            "smtpd_tls_ask_ccert = yes\nsmtpd_tls_req_ccert = yes\n"
            f"{self.extra_postfix}\n",
            postscreen=self.postscreen,
        )

    def _dovecot_conf(self, ca: Path) -> Path:
        d = self.directory
        (d / "dovecot-run").mkdir()
        conf = d / "dovecot.conf"
        conf.write_text(
            f"protocols = pop3\nlisten = *\nbase_dir = {d}/dovecot-run\n"
            f"log_path = {d}/dovecot.log\n"
            f"ssl = required\nssl_cert = <{d}/server.pem\nssl_key = <{d}/server.key\n"
            f"ssl_ca = <{ca}\nssl_verify_client_cert = yes\nssl_require_crl = no\n"
            "auth_ssl_require_client_cert = yes\nauth_mechanisms = plain\n"
            f"mail_location = maildir:{d}/mail/%u\n"
            f"passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n"
            f"userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}/mail/%u\n}}\n"
            "service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n"
            "  inet_listener pop3s {\n    port = 995\n    ssl = yes\n  }\n}\n"
            f"{self.extra_dovecot}\n"
        )
        return conf

    def _nginx_conf(self, ca: Path) -> Path:
        d = self.directory
        conf = d / "nginx.conf"
        conf.write_text(
            f"daemon off; pid {d}/nginx.pid; error_log {d}/nginx.err; user root;\n"
            "events {}\n"
            "http {\n"
            f"  access_log off; client_body_temp_path {d}; proxy_temp_path {d};\n"
            f"  fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n"
            "  server {\n"
            f"    listen 8140{' ssl' if self.nginx_tls else ''};\n"
            f"    ssl_certificate {d}/server.pem; ssl_certificate_key {d}/server.key;\n"
            f"    ssl_client_certificate {ca}; ssl_verify_client on;\n"
            '    location / { return 200 "ok\\n"; }\n'
            f"    {self.extra_nginx}\n"
            "  }\n"
            "}\n"
        )
        return conf

    def __exit__(self, *exc: object) -> None:
        if self._postfix.exists():
            self.topology.ns(
                self.topology.server, "postfix", "-c", str(self._postfix), "stop", check=False
            )
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for log in self._logs:
            log.close()
        shutil.rmtree(self.directory, ignore_errors=True)
