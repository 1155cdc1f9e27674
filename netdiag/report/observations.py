"""What the probes saw, recorded raw: frozen facts that diagnosis reads and renderers show."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from netdiag.settings.config import LoginKind


class DnsOutcome(StrEnum):
    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no_answer"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"
    # Never asked: the run's deadline passed (or Ctrl-C) before the query could be made or
    # answered. Not the resolver's fault, so no DNS verdict may rest on it.
    SKIPPED = "skipped"
    # The query broke inside netdiag (a bug): nothing about the resolver either.
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsAnswer:
    """One query (one record type) to one resolver and what came back."""

    resolver: str
    qtype: str
    outcome: DnsOutcome
    addresses: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    answered_by: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsObservation:
    """Every answer for one host name, from every resolver asked."""

    host: str
    answers: tuple[DnsAnswer, ...] = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address any resolver gave, in the order first seen."""
        return tuple(dict.fromkeys(a for ans in self.answers for a in ans.addresses))

    @property
    def resolvers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.resolver for a in self.answers))

    def addresses_from(self, resolver: str) -> frozenset[str]:
        return frozenset(
            a for ans in self.answers if ans.resolver == resolver for a in ans.addresses
        )


class TcpOutcome(StrEnum):
    OPEN = "open"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True, kw_only=True)
class IcmpReport:
    """An ICMP error that came back for our SYN: who sent it, type and code."""

    sender: str
    type: int
    code: int
    family: int = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpObservation:
    """One connect() to one address."""

    address: str
    port: int
    family: int
    outcome: TcpOutcome
    elapsed_ms: float = 0.0
    timeout_s: float = 0.0
    errno: int | None = None
    errno_name: str = ""
    detail: str = ""
    icmp: IcmpReport | None = None
    # The connect before this one to the same address, when that one was refused and this
    # is the one retry (an interceptor restarting refuses for a moment): "" otherwise.
    earlier: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateFacts:
    """The fields of one certificate that diagnosis and people read; no key material."""

    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    sha256: str
    spki_sha256: str
    san: tuple[str, ...] = ()
    ext_key_usage: tuple[str, ...] | None = None
    is_ca: bool = False
    is_self_signed: bool = False
    # Why cryptography refused the certificate ("" when it parsed).
    parse_error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCertificateObservation:
    """The client identity as loaded: the leaf, the CA certificates that came with it."""

    source: str
    leaf: CertificateFacts
    # DER of every issuer name up our chain (the leaf's issuer first): a server's list of
    # acceptable CAs may name the issuing CA or any CA above it.
    issuer_names_der: tuple[bytes, ...] = ()
    chain: tuple[CertificateFacts, ...] = ()
    is_chain_complete: bool = False
    missing_issuer: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptLine:
    """One line of a protocol dialogue: C client, S server, or `-` an event (TLS, close)."""

    direction: str
    text: str
    at_ms: float


class TlsOutcome(StrEnum):
    ESTABLISHED = "established"
    FAILED = "failed"
    RESET = "reset"
    CLOSED = "closed"
    STALLED = "stalled"
    NOT_TLS = "not_tls"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainVerification:
    """The presented chain checked against the trust anchors we were given, with the name."""

    is_trusted: bool
    anchors: str
    name: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorCheck:
    """Which trust store anchors the presented chain: the machine's own, the public one."""

    local_anchor: str = ""
    public_anchor: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsObservation:
    """One TLS handshake with what the server sent and what we sent."""

    outcome: TlsOutcome
    server_name: str = ""
    version: str = ""
    cipher: str = ""
    chain_der: tuple[bytes, ...] = ()
    chain: tuple[CertificateFacts, ...] = ()
    was_client_cert_requested: bool | None = None
    client_ca_names: tuple[str, ...] = ()
    client_ca_der: tuple[bytes, ...] = ()
    was_client_cert_sent: bool = False
    alert: str = ""
    post_handshake_alert: str = ""
    error: str = ""
    handshake_ms: float = 0.0
    timeout_s: float = 0.0
    group: str = ""
    ja3s: str = ""

    @property
    def has_peer_alert(self) -> bool:
        """Whether the peer sent an alert (ours, sent while failing, do not count): a peer
        that says why it ends the handshake means it."""
        return "received" in self.alert

    @property
    def fingerprint(self) -> str:
        """What the server chose for our (always the same) ClientHello: JA3S (version,
        cipher and extension list of its ServerHello) when it was seen, else the negotiated
        version, cipher and group. A different TLS stack answering shows here."""
        if self.ja3s:
            return self.ja3s
        return "/".join((self.version, self.cipher, self.group)) if self.version else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A complete SMTP reply (code and lines), or an HTTP status line and headers."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " / ".join(self.lines)

    @property
    def as_sent(self) -> str:
        return f"{self.code} {self.text}"


class Pop3Status(StrEnum):
    """A POP3 status indicator (RFC 1939 3)."""

    OK = "+OK"
    ERR = "-ERR"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pop3Reply:
    """A POP3 answer: its status indicator, the rest of the status line, a body if any."""

    status: Pop3Status
    lines: tuple[str, ...]

    @property
    def is_ok(self) -> bool:
        return self.status is Pop3Status.OK

    @property
    def text(self) -> str:
        return " / ".join(self.lines)

    @property
    def as_sent(self) -> str:
        return f"{self.status.value} {self.text}"

    @property
    def response_code(self) -> str:
        """The extended response code of the status line (RFC 2449 8), upper case without
        its brackets: "IN-USE", "SYS/TEMP", "AUTH"; "" when there is none."""
        first = self.lines[0] if self.lines else ""
        if not first.startswith("[") or "]" not in first:
            return ""
        return first[1 : first.index("]")].upper()[:40]

    @property
    def is_mailbox_busy(self) -> bool:
        """A refusal that says the credentials were good and the mailbox is not free now:
        in use by another session, or logged into too recently (RFC 2449 8.1)."""
        return not self.is_ok and self.response_code in ("IN-USE", "LOGIN-DELAY")

    @property
    def is_server_trouble(self) -> bool:
        """A refusal for the server's own trouble, not the credentials (RFC 3206 4)."""
        return not self.is_ok and self.response_code.startswith("SYS/")


class ProtocolStage(StrEnum):
    """Where a dialogue ended, if it ended early."""

    CONNECT = "connect"
    BANNER = "banner"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    TLS = "tls"
    EHLO_TLS = "ehlo_after_tls"
    GREETING = "greeting"
    CAPA = "capa"
    LOGIN = "login"
    MAILBOX = "mailbox"  # STAT after an accepted login: the mailbox opens
    REQUEST = "request"
    QUIT = "quit"
    DONE = "done"


class StageFailure(StrEnum):
    NONE = "none"
    CLOSED = "closed"
    TIMEOUT = "timeout"
    GARBAGE = "garbage"
    TOO_LONG = "too_long"
    REFUSED = "refused"
    TLS_ALERT = "tls_alert"
    TLS_FAILED = "tls_failed"
    # The run's deadline (not the step's timeout, not the peer) ended the dialogue.
    DEADLINE = "deadline"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerClock:
    """What a server said the time was (an HTTP `Date`, a date in an SMTP banner), and when
    it said it by this machine's clock: the second clock a certificate is judged by."""

    source: str  # "HTTP Date", "SMTP banner"
    said: str  # the server's own words, cut short
    server_time: str  # ISO 8601, UTC
    seen_at: str  # ISO 8601, UTC, this machine's clock when the words arrived

    @property
    def offset_s(self) -> float:
        """How far this machine's clock is ahead of the server's (negative: behind)."""
        from datetime import datetime

        return round(
            (
                datetime.fromisoformat(self.seen_at) - datetime.fromisoformat(self.server_time)
            ).total_seconds(),
            1,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolObservation:
    """What every protocol dialogue on one address records: where and why it stopped, the
    transcript, the TLS handshake, the server's clock where it stated it. Each protocol's
    own observation adds what its server said; this base stands alone only for a dialogue
    that never started."""

    service: str
    address: str
    port: int
    transcript: tuple[TranscriptLine, ...] = ()
    stopped_at: ProtocolStage = ProtocolStage.DONE
    failure: StageFailure = StageFailure.NONE
    failure_detail: str = ""
    tls: TlsObservation | None = None
    server_clock: ServerClock | None = None

    @property
    def got_no_reply(self) -> bool:
        """Whether the dialogue stopped before the peer answered the step it stopped at."""
        return self.stopped_at is ProtocolStage.CONNECT

    @property
    def was_answered_after_tls(self) -> bool:
        """Whether the peer said anything of the protocol once TLS was up."""
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpObservation(ProtocolObservation):
    """An SMTP dialogue up to and past STARTTLS."""

    banner: Reply | None = None
    banner_ms: float = 0.0
    # When the greeting's first line came: a pregreet test (Postfix's postscreen) sends
    # "220-" at once and the rest seconds later; a delay on the path delays it all.
    banner_first_ms: float = 0.0
    ehlo: Reply | None = None
    is_starttls_advertised: bool = False
    starttls_mask: str = ""
    starttls_reply: Reply | None = None
    # The answer to EHLO inside TLS, where servers state a rejected client certificate.
    after_tls: Reply | None = None

    @property
    def got_no_reply(self) -> bool:
        """(The connect itself, the banner, EHLO, STARTTLS.)"""
        unanswered = {
            ProtocolStage.CONNECT: True,
            ProtocolStage.BANNER: self.banner is None,
            ProtocolStage.EHLO: self.ehlo is None,
            ProtocolStage.STARTTLS: self.starttls_reply is None,
        }
        return unanswered.get(self.stopped_at, False)

    @property
    def was_answered_after_tls(self) -> bool:
        return self.after_tls is not None

    @property
    def took_unoffered_starttls(self) -> bool:
        """The EHLO reply offered no STARTTLS, and STARTTLS, sent anyway, was answered 220:
        the server does offer it, and the offer was removed on the way."""
        return (
            not self.is_starttls_advertised
            and not self.starttls_mask
            and self.starttls_reply is not None
            and self.starttls_reply.code == 220
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Pop3Observation(ProtocolObservation):
    """A POP3S dialogue: greeting, CAPA, and a login when one was asked for."""

    greeting: Pop3Reply | None = None
    capa: Pop3Reply | None = None
    login: Pop3Reply | None = None
    login_kind: LoginKind | None = None
    # Why the mailbox's password was not sent ("" when it was, or none was to be): the
    # chain of this connection was not proven the vendor's.
    login_withheld: str = ""
    # Why it was not sent to this proven server: another refused it, or had not answered
    # it (`netdiag.probes.login_gate`); the latter also as a flag.
    login_not_repeated: str = ""
    login_not_repeated_unanswered: bool = False
    # The answer to STAT after an accepted login of the mailbox (RFC 1939 5): whether the
    # server can open the mailbox it let the gateway into. None where it was not asked, or
    # the session ended before an answer (`stopped_at` is then MAILBOX).
    mailbox: Pop3Reply | None = None

    @property
    def got_no_reply(self) -> bool:
        """(The connect itself, the greeting.)"""
        return self.stopped_at is ProtocolStage.CONNECT or (
            self.stopped_at is ProtocolStage.GREETING and self.greeting is None
        )

    @property
    def was_answered_after_tls(self) -> bool:
        return self.greeting is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsPortObservation(ProtocolObservation):
    """TLS on a port of its own (8140): what the server sent first, or answered to GET."""

    first_bytes: str = ""
    # The HTTP status line and headers, when the answer was HTTP.
    response: Reply | None = None
    server_date: str = ""

    @property
    def was_answered_after_tls(self) -> bool:
        return bool(self.first_bytes)


class ProbeStep(StrEnum):
    """How far the probe of one endpoint got: each step needs the one before."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    PROTOCOL = "protocol"
    DONE = "done"


class Experiment(StrEnum):
    """One more handshake that splits the hypotheses of a failed one (see
    `netdiag.diagnosis.hypotheses`): the same address and port, one thing changed."""

    SAME_HELLO = "same_hello"  # the failed hello once more: the control
    OTHER_NAME = "other_name"  # another of the profile's names in the SNI
    NO_NAME = "no_name"  # no SNI at all
    TLS12_ONLY = "tls12_only"  # a ClientHello that offers TLS 1.2 only
    TLS13_ONLY = "tls13_only"  # a ClientHello that offers TLS 1.3 only
    SMALL_HELLO = "small_hello"  # TLS 1.2 and 1.3, one cipher each, one key share
    # TLS 1.0 and 1.1 only: what a peer that refuses every hello of 1.2 and later speaks.
    OLD_TLS = "old_tls"
    # The full hello padded past what one full-size packet holds (RFC 7685's padding
    # extension): whether this machine's large packets arrive, where the session went
    # silent once its certificate (the first large flight it sends) was on the way.
    BIG_HELLO = "big_hello"
    # The same big hello in segments smaller than any path's MTU: what the big hello's
    # silence was about — its packets (these arrive) or the hello's size (these do not).
    BIG_HELLO_SPLIT = "big_hello_split"
    # The failed hello again on a connection that asks the server for small segments (its
    # SYN announces an MSS of 500 bytes): whether the server's large packets were what got
    # lost on the way back, where every hello went unanswered.
    SMALL_SEGMENTS = "small_segments"
    # The full hello with a small TTL (hop limit), after a normal connect: how far away the
    # TLS answer is produced (`netdiag.diagnosis.place`).
    HOP_LIMITED = "hop_limited"
    # The EHLO with a small TTL, after a normal connect and banner: how far away the SMTP
    # session that left STARTTLS out is answered (a proxy before the server, or not).
    EHLO_HOP_LIMITED = "ehlo_hop_limited"
    # The failed hello with a small TTL where every hello is cut (a reset or a close): how
    # far away the cut comes from. What cuts a hello that cannot reach the server (a TTL
    # short of the server's hop) is a device on the path.
    CUT_HOP_LIMITED = "cut_hop_limited"
    # The connect itself (its SYN) with a small TTL where every connect was refused with a
    # reset: how far away the reset comes from. What resets a SYN that cannot reach the
    # server (a TTL short of the server's hop) is a device on the path.
    SYN_HOP_LIMITED = "syn_hop_limited"


class HelloAnswer(StrEnum):
    """What came back to an experiment's ClientHello (for `EHLO_HOP_LIMITED` its EHLO, for
    `SYN_HOP_LIMITED` its SYN)."""

    SERVER_HELLO = "server_hello"  # the server (or what answers for it) speaks TLS
    # A ServerHello in a version the hello did not offer (a TLS 1.1 answer to TLS 1.2 only):
    # the peer speaks TLS, but not the versions asked for.
    OTHER_VERSION = "other_version"
    ALERT = "alert"  # a TLS alert: a stated refusal
    SMTP_REPLY = "smtp_reply"  # an SMTP reply to the EHLO, whatever its code
    RESET = "reset"
    CLOSED = "closed"
    SILENCE = "silence"  # nothing within the timeout
    # An ICMP error came back (host or network unreachable, the TTL exceeded on the way):
    # something on the path stopped the hello, not the peer.
    UNREACHABLE = "unreachable"
    # An HTTP response to the hello: a web proxy (or web server) answers on the port.
    HTTP_REPLY = "http_reply"
    # A SYN/ACK to a hop-limited SYN (`SYN_HOP_LIMITED`): the connection opened.
    CONNECTED = "connected"
    NOT_TLS = "not_tls"
    NOT_RUN = "not_run"  # the connection or the STARTTLS prelude failed, or no time left

    @property
    def is_cut(self) -> bool:
        """Ended without a word: what a filter does, and a server that means it does not."""
        return self in (
            HelloAnswer.RESET,
            HelloAnswer.CLOSED,
            HelloAnswer.SILENCE,
            HelloAnswer.UNREACHABLE,
        )

    @property
    def is_tls(self) -> bool:
        """A TLS answer: a ServerHello (in a version offered or not) or an alert."""
        return self in (HelloAnswer.SERVER_HELLO, HelloAnswer.OTHER_VERSION, HelloAnswer.ALERT)

    @property
    def is_answer(self) -> bool:
        """What the experiment asks for came back: a TLS answer to a hello, an SMTP reply to
        an EHLO, a SYN/ACK to a SYN; or an HTTP answer to a hello (what answers in place of
        the server)."""
        return self.is_tls or self in (
            HelloAnswer.SMTP_REPLY,
            HelloAnswer.HTTP_REPLY,
            HelloAnswer.CONNECTED,
        )

    @property
    def is_cut_by_peer(self) -> bool:
        """A peer held the connection and cut it (reset, closed): not an expired hello,
        which gets silence or an ICMP error."""
        return self in (HelloAnswer.RESET, HelloAnswer.CLOSED)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentResult:
    """One experiment: what was sent (the name, the versions, the hello's size), what came
    back, and how long it took."""

    kind: Experiment
    address: str
    port: int
    server_name: str = ""
    versions: str = ""  # "TLS 1.2-1.3", "TLS 1.2", "TLS 1.3"
    hello_bytes: int = 0
    answer: HelloAnswer = HelloAnswer.NOT_RUN
    # The server's choice (ServerHello), the alert's description, or why it did not run.
    detail: str = ""
    elapsed_ms: float = 0.0
    # The TTL (IPv6: hop limit) the hello was sent with; 0: the system's own.
    hop_limit: int = 0
    # The MSS the connection's SYN announced (`SMALL_SEGMENTS`); 0: the system's own.
    max_segment: int = 0

    @property
    def sent(self) -> str:
        ttl = f", TTL {self.hop_limit}" if self.hop_limit else ""
        if self.kind is Experiment.EHLO_HOP_LIMITED:
            return f"EHLO (after the banner{ttl})"
        if self.kind is Experiment.SYN_HOP_LIMITED:
            return f"SYN ({ttl.removeprefix(', ')})" if ttl else "SYN"
        name = f"SNI {self.server_name}" if self.server_name else "no SNI"
        padded = {
            Experiment.BIG_HELLO: ", padded",
            Experiment.BIG_HELLO_SPLIT: ", padded, in small segments",
        }.get(self.kind, "")
        if self.max_segment:
            padded += f", asking for segments of at most {self.max_segment} bytes"
        return f"ClientHello ({name}, {self.versions}, {self.hello_bytes} bytes{padded}{ttl})"


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalPeer:
    """A socket of this machine at the other end of netdiag's connection to a remote
    address: what answered was produced here (a local proxy or security software)."""

    # "sslsplit (pid 4711)", "pid 4711", or "" where the owner cannot be read.
    process: str = ""
    local_address: str = ""  # where that socket listens or was accepted: "127.0.0.1:8443"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceObservation:
    """Where the TLS answer of an intercepted endpoint comes from, or the EHLO answer of one
    whose STARTTLS is missing (`netdiag.diagnosis.place`): whether the other end of a new
    connection is a socket of this machine, and the smallest TTL at which its hello (its
    EHLO) is answered, beside a clean port of the same address."""

    address: str
    port: int
    # The address is this machine's own: a local peer is then the server, and no place
    # can be told apart.
    is_own_address: bool = False
    # Why this machine's socket table could not be read ("" when it was).
    socket_table_problem: str = ""
    local_peer: LocalPeer | None = None
    hops: tuple[ExperimentResult, ...] = ()
    control_port: int | None = None
    control_hops: tuple[ExperimentResult, ...] = ()
    # Why the hop-limited hellos did not run ("" when they did).
    hops_problem: str = ""
    # The endpoint measured, when this one shares its place (one per port is measured).
    measured_on: str = ""
    # What was sent hop-limited: the ClientHello (an interception), or the EHLO (a missing
    # STARTTLS: who answers the SMTP session).
    experiment: Experiment = Experiment.HOP_LIMITED


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointObservation:
    """Everything one round saw of one endpoint, and how far its probe got.

    `reached` is the first step that did not complete (DONE when all did): an endpoint is
    OK only if it is DONE. `attempts` holds the protocol dialogue on the reachability
    probe's own connection and, when that failed in a way a retry can change, the retry.
    """

    dns: DnsObservation | None = None
    tcp: tuple[TcpObservation, ...] = ()
    attempts: tuple[ProtocolObservation, ...] = ()
    reached: ProbeStep = ProbeStep.RESOLVE
    # Why the probe stopped short by our own doing: the deadline or Ctrl-C ("" otherwise).
    cut_short: str = ""
    # An unexpected error inside this endpoint's probe: the exception's class and message.
    error: str = ""
    # The experiments its failed handshake called for (none on a healthy path).
    experiments: tuple[ExperimentResult, ...] = ()
    # Where its interception takes place (only for an endpoint proven intercepted).
    place: PlaceObservation | None = None
    # On an SMTP port that sent no banner at all: a TLS handshake started at once on a new
    # connection. A device that inspects TLS on the port waits for the client's hello and
    # so holds the server's banner back; the chain it answers with names it.
    hello_at_once: ProtocolObservation | None = None
    # Whether the last of `attempts` was made after the round, with no other connection of
    # netdiag open: the first was refused "for now" (an SMTP 4xx) while the run's other
    # probes were connected, as a server's limit of connections per client refuses.
    retried_alone: bool = False

    @property
    def is_done(self) -> bool:
        return self.reached is ProbeStep.DONE

    @property
    def protocol(self) -> ProtocolObservation | None:
        """The attempt that tells most (see `most_telling`)."""
        return most_telling(self.attempts)

    @property
    def chain_shown_in(self) -> ProtocolObservation | None:
        """The dialogue whose certificate chain is judged: the attempt that tells most, or,
        where no attempt got a chain, the hello at once when it got one; None without."""
        for protocol in (self.protocol, self.hello_at_once):
            if protocol is not None and protocol.tls is not None and protocol.tls.chain:
                return protocol
        return None


def most_telling(attempts: tuple[ProtocolObservation, ...]) -> ProtocolObservation | None:
    """The attempt to judge an endpoint by: one that completed, else one whose server
    showed its chain, else one that got to TLS, else one that got past the connect, else
    the first."""

    def rank(item: tuple[int, ProtocolObservation]) -> tuple[bool, bool, bool, bool, int]:
        index, attempt = item
        tls = attempt.tls
        return (
            attempt.stopped_at is not ProtocolStage.DONE,
            not (tls is not None and tls.chain),
            tls is None,
            attempt.stopped_at is ProtocolStage.CONNECT,
            index,
        )

    return min(enumerate(attempts), key=rank)[1] if attempts else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfiguredProxy:
    """A web proxy this machine is configured with, and where that came from. Never the
    credentials: only whether some were configured."""

    source: str  # "HTTPS_PROXY", "WinHTTP", "WinINET (https=)", …
    host: str
    port: int
    has_credentials: bool = False
    bypass: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxySettings:
    """Every web proxy the machine is configured with (duplicates kept, each with its
    source), the proxy auto-config URLs (reported, never evaluated: no kept library runs a
    PAC script under a time bound), and what could not be read or used, one line each."""

    proxies: tuple[ConfiguredProxy, ...] = ()
    pac_urls: tuple[tuple[str, str], ...] = ()  # (source, URL without credentials)
    remarks: tuple[str, ...] = ()


class ProxyOutcome(StrEnum):
    ANSWERED = "answered"  # the proxy answered the CONNECT with a status line
    REFUSED = "refused"  # the proxy's port refused the connection
    TIMEOUT = "timeout"  # no connection or no answer within the timeout
    ERROR = "error"  # anything else (a name that does not resolve, garbage)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyAttempt:
    """One `CONNECT host:port` through a configured proxy, and — when the proxy opened the
    tunnel — the endpoint's protocol run through it."""

    proxy: ConfiguredProxy
    outcome: ProxyOutcome
    status: int = 0
    status_line: str = ""
    detail: str = ""
    elapsed_ms: float = 0.0
    through_tunnel: ProtocolObservation | None = None
