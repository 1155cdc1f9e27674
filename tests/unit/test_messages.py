"""Both languages for every template, the same fields in each; the German report holds no
English sentence of netdiag's own; report.txt against golden files in both languages; the
HTML path picture; progress only after a second."""

from __future__ import annotations

import dataclasses
import io
import re
import string
from datetime import UTC, datetime

import pytest

from netdiag.console import Console
from netdiag.diagnosis.catalogue import CATALOGUE, finding
from netdiag.diagnosis.causes import find_causes
from netdiag.renderers.html import render_html
from netdiag.renderers.text import render_text
from netdiag.report.messages import LANGUAGES, MESSAGES, SHORT
from netdiag.report.model import EndpointResult, Note, Report
from netdiag.report.trace_observations import HopKind, HopReply, TraceObservation
from netdiag.settings.targets import Service, Target
from tests.golden import GOLDEN, compare
from tests.unit.test_causes import AGENT, POP3, SMTP, died, dropped_at_hop, intercepted, ok

ENVIRONMENT = {
    "host": {"name": "gateway01"},
    "os": {"system": "Windows", "release": "2019", "version": "10.0.17763"},
    "versions": {"netdiag": "0.1.0"},
}


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_template_in_both_languages_with_the_same_fields(key: str) -> None:
    entry = MESSAGES[key]
    assert set(entry) == set(LANGUAGES)
    assert fields(entry["en"]) == fields(entry["de"])
    if key != "label.evidence_elsewhere":  # a German-only hint
        assert all(entry[lang].strip() for lang in LANGUAGES)


def test_every_short_name_in_both_languages() -> None:
    assert all(set(entry) == set(LANGUAGES) and all(entry.values()) for entry in SHORT.values())


def mixed_report() -> Report:
    """Port 25 dropped at a firewall on three hosts and intercepted on the others (two
    proven, one likely), POP3S fine, the agent port refused."""
    refused = EndpointResult(
        target=AGENT, findings=(finding("tcp.refused", "atlas79.mydhp.de:8140 refused"),)
    )
    endpoints = [
        *(dropped_at_hop(t) for t in SMTP[:3]),
        *(intercepted(t) for t in SMTP[3:5]),
        died(SMTP[5]),
        *(ok(t) for t in POP3),
        refused,
    ]
    return Report(
        started=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        duration_s=6.2,
        endpoints=tuple(endpoints),
        profile="connectMT",
        causes=find_causes(endpoints),
    )


def report_text(lang: str) -> str:
    return render_text(mixed_report(), ENVIRONMENT, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_report_txt_matches_its_golden_file(lang: str) -> None:
    compare(GOLDEN / f"report_{lang}.txt", report_text(lang))


def _english_fragments() -> set[str]:
    """Pieces of netdiag's own English that a German output must not hold: the templates'
    literal text and the catalogue's titles and remedies."""
    pieces = set()
    for entry in MESSAGES.values():
        for literal, *_ in string.Formatter().parse(entry["en"]):
            pieces.update(p.strip() for p in re.split(r"[.:;()`]", literal) if len(p.strip()) > 14)
    for entry in CATALOGUE.values():
        pieces.update(p for p in (entry.title, entry.remedy) if len(p) > 14)
    return pieces


def test_no_english_sentence_of_ours_in_the_german_report() -> None:
    report = mixed_report()
    outputs = [render_text(report, ENVIRONMENT, "de"), render_html(report, "de")]
    summaries = {f.summary for e in report.endpoints for f in e.findings if len(f.summary) > 14}
    for output in outputs:
        found = [p for p in _english_fragments() | summaries if p in output]
        assert found == []


def _german_fragments() -> set[str]:
    """Pieces of netdiag's own German that an English output must not hold."""
    from netdiag.report.messages import _german_catalogue

    pieces = set()
    for entry in MESSAGES.values():
        if entry["de"] == entry["en"]:
            continue
        for literal, *_ in string.Formatter().parse(entry["de"]):
            pieces.update(p.strip() for p in re.split(r"[.:;()`]", literal) if len(p.strip()) > 14)
    for entry in _german_catalogue().values():
        pieces.update(p for p in entry.values() if isinstance(p, str) and len(p) > 14)
    return pieces


def _without_measured_evidence(output: str) -> str:
    """What a reader sees of the output (no markup, no style sheet), without the evidence
    quoted as measured (a server's words, addresses)."""
    text = re.sub(r"<pre>.*?</pre>|<style>.*?</style>", "", output, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


@pytest.mark.parametrize("renderer", ["table", "text", "html"])
def test_one_language_per_output(renderer: str) -> None:
    """Every renderer, both languages: no sentence of the other language of ours, one
    state vocabulary (KRIT in German, CRIT in English), German decimal commas."""
    from netdiag.renderers import render

    report = dataclasses.replace(mixed_report(), notes=(Note.of("windows_only", platform="Linux"),))

    def rendered(lang: str) -> str:
        if renderer == "text":
            return render_text(report, ENVIRONMENT, lang)
        return render(report, renderer, lang)

    german = _without_measured_evidence(rendered("de"))
    english = _without_measured_evidence(rendered("en"))
    summaries = {f.summary for e in report.endpoints for f in e.findings if len(f.summary) > 14}
    assert [p for p in _english_fragments() | summaries if p in german] == []
    assert [p for p in _german_fragments() if p in english] == []
    assert not re.search(r"\bCRIT\b|\bUNKNOWN\b", german) and re.search(r"\bKRIT\b", german)
    assert not re.search(r"\bKRIT\b|\bUNBEKANNT\b", english) and re.search(r"\bCRIT\b", english)
    assert "6,2 s" in german and "6.2 s" in english


def traced(replies: list[HopReply]) -> EndpointResult:
    target = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
    trace = TraceObservation(
        destination="203.0.113.25",
        port=25,
        max_hops=6,
        probes_per_hop=2,
        timeout_s=1.5,
        replies=tuple(replies),
    )
    return EndpointResult(target=target, findings=(), trace=trace)


def alone(endpoint: EndpointResult) -> Report:
    return Report(started=datetime.now(UTC), duration_s=1, endpoints=(endpoint,))


def hop(ttl: int, sender: str) -> HopReply:
    return HopReply(ttl=ttl, sender=sender, kind=HopKind.TIME_EXCEEDED)


def path_boxes(report_html: str) -> list[str]:
    path = re.search(r'<div class="path">(.*?)</div>\s*(?=<|$)', report_html, re.S)
    assert path is not None
    return re.findall(r'<div class="hop (\w+)"', report_html)


def test_the_path_picture_marks_the_silence_after_the_last_hop() -> None:
    endpoint = traced([hop(1, "192.0.2.1"), hop(2, "192.0.2.6")])
    report_html = render_html(
        Report(started=datetime.now(UTC), duration_s=1, endpoints=(endpoint,))
    )
    assert path_boxes(report_html) == ["ok", "ok", "ok", "stop", "unreached"]
    assert 'data-stop="silent"' in report_html and "2: 192.0.2.6" in report_html
    assert "<script" not in report_html and "http://" not in report_html.split("<style>")[1]


def test_the_path_picture_of_a_path_that_reaches_the_server_has_no_stop() -> None:
    reached = HopReply(ttl=3, sender="203.0.113.25", kind=HopKind.SYN_ACK)
    endpoint = traced([hop(1, "192.0.2.1"), hop(2, "192.0.2.6"), reached])
    report_html = render_html(
        Report(started=datetime.now(UTC), duration_s=1, endpoints=(endpoint,))
    )
    assert path_boxes(report_html) == ["ok", "ok", "ok", "ok"]
    assert "data-stop" not in report_html


def test_the_path_picture_names_the_icmp_sender() -> None:
    rejected = HopReply(
        ttl=2, sender="192.0.2.6", kind=HopKind.UNREACHABLE, icmp_type=3, icmp_code=13
    )
    endpoint = traced([hop(1, "192.0.2.1"), rejected])
    report_html = render_html(
        Report(started=datetime.now(UTC), duration_s=1, endpoints=(endpoint,))
    )
    assert 'data-stop="icmp"' in report_html and "ICMP 3/13" in report_html


def test_progress_shows_only_once_a_run_takes_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 100.5, 101.2])
    monkeypatch.setattr("netdiag.console.time.monotonic", lambda: next(clock))
    err = io.StringIO()
    console = Console(io.StringIO(), err, shows_progress=True)
    console.progress("endpoints 1/13")
    console.progress("endpoints 2/13")
    assert err.getvalue() == ""  # under a second: nothing
    console.progress("endpoints 3/13")
    assert err.getvalue() == "\rendpoints 3/13"
