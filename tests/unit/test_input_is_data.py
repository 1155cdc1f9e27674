"""Input is data, never code: whatever a profile, a pin file or a server says, it never
becomes a command of PowerShell, a control sequence of a terminal, a line of its own in a
report or a second service in check_mk. Property tests feed arbitrary text through each
entry point and check the structure of what comes out."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netdiag.diagnosis.catalogue import finding
from netdiag.errors import ProfileError, UsageError
from netdiag.renderers import render
from netdiag.renderers.text import render_text
from netdiag.report.model import EndpointResult, Note, Report
from netdiag.settings.host_requirements import HostRequirements, parse_host_requirements
from netdiag.settings.targets import Service, Target, parse_target, valid_host

HOSTILE = st.text(min_size=1, max_size=60)
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TERMINAL_ATTACK = "\x1b[2J\x1b[H OK: all 13 endpoints answer \x1b]0;pwned\x07\nforged line\u202e"


# --- PowerShell ----------------------------------------------------------------------


class PowerShellCalls:
    """What netdiag hands to `subprocess.run` for PowerShell, recorded; PowerShell itself
    does not exist here, so each call answers with the envelope of one service."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def run(self, args: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls.append(list(args))
        items = '[{"Name":"AnyDeskSvc","DisplayName":"AnyDesk Service"}]'
        out = ('{"netdiag":1,"items":' + items + "}").encode()
        return subprocess.CompletedProcess(args, 0, out, b"")


def _powershell_calls(
    monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]
) -> tuple[list[list[str]], tuple[str, ...]]:
    from netdiag.probes import host, windows

    calls = PowerShellCalls()
    monkeypatch.setattr(windows.subprocess, "run", calls.run)
    facts = host.observe_windows(HostRequirements(remote_maintenance=names))
    return calls.calls, facts.remote_services


@settings(max_examples=40, deadline=None)
@given(names=st.lists(HOSTILE, min_size=1, max_size=3))
def test_no_profile_value_changes_a_powershell_command(names: list[str]) -> None:
    """A name like `AnyDesk' -or $(Start-Process calc.exe) -or 'x` is matched as text in
    Python; every PowerShell call is the same fixed script whatever the profile says."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        hostile, _ = _powershell_calls(monkeypatch, tuple(names))
        plain, found = _powershell_calls(monkeypatch, ("AnyDesk",))
    assert hostile == plain
    assert found == ("AnyDesk Service",)


def test_the_remote_maintenance_name_is_matched_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    _, found = _powershell_calls(monkeypatch, ("anydesk",))
    assert found == ("AnyDesk Service",)
    _, none = _powershell_calls(monkeypatch, ("AnyDesk' -or $(Start-Process calc.exe) -or 'x",))
    assert none == ()
    _, regex = _powershell_calls(monkeypatch, (".*",))
    assert regex == ()  # no pattern syntax: ".*" is two characters, not everything


@pytest.mark.parametrize(
    "name",
    [
        "AnyDesk' -or $(Start-Process calc.exe) -or 'x",
        "x`nStart-Process calc",
        "a;b",
        "a|b",
        'say "hi"',
        "line\nbreak",
        "",
    ],
)
def test_a_profile_refuses_a_name_that_is_no_name(name: str) -> None:
    with pytest.raises(ProfileError) as raised:
        parse_host_requirements({"remote_maintenance": [name]}, "p.toml")
    assert "remote_maintenance" in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("name", ["SecureLink", "CGM AnyDesk", "TeamViewer (x64)", "Fernwartung Ä"])
def test_a_profile_takes_a_service_name(name: str) -> None:
    parsed = parse_host_requirements({"remote_maintenance": [name]}, "p.toml")
    assert parsed.remote_maintenance == (name,)


# --- hosts ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(text=HOSTILE)
def test_a_host_is_a_name_or_an_address_or_one_line_of_refusal(text: str) -> None:
    try:
        host = valid_host(text, "--target")
    except UsageError as e:
        assert "\n" not in str(e) and "\n" not in e.text("de")
        assert not CONTROL.search(str(e))
        return
    assert re.fullmatch(r"[A-Za-z0-9_.:%-]+", host), host


@pytest.mark.parametrize(
    "target",
    [
        "[::1%x\r\nProxy-Authorization: Basic eA==]:25/tcp",
        "[fe80::1%eth0;id]:25/tcp",
        "[fe80::1%$(id)]:25/tcp",
        "mail1.example\r\nX: y:25/tcp",
    ],
)
def test_a_zone_or_a_name_that_carries_more_than_a_name_is_refused(target: str) -> None:
    with pytest.raises(UsageError):
        parse_target(target)


def test_an_interface_zone_is_kept() -> None:
    assert parse_target("[fe80::1%eth0]:25/tcp").host == "fe80::1%eth0"


# --- terminals, reports, check_mk ------------------------------------------------------


def _report(text: str) -> Report:
    target = Target(host="mail1.dicommail.com", port=25, service=Service.SMTP_STARTTLS)
    found = finding(
        "smtp.protocol_error",
        f"SMTP on mail1.dicommail.com:25: the banner is {text}",
        [f"S: 554 {text}", f"certificate 0: CN={text}"],
    )
    endpoint = EndpointResult(target=target, findings=(found,))
    return Report(
        started=datetime(2026, 12, 2, tzinfo=UTC),
        duration_s=1.0,
        endpoints=(endpoint,),
        profile=text,
        notes=(Note.of("trace_error", error=text),),
    )


def _texts(report: Report) -> dict[str, str]:
    return {
        "table": render(report, "table", "en"),
        "checkmk": render(report, "checkmk", "en"),
        "html": render(report, "html", "de"),
        "report.txt": render_text(dataclasses.replace(report), {}, "en"),
    }


@settings(max_examples=60, deadline=None)
@given(text=HOSTILE)
def test_no_output_carries_a_control_character_it_did_not_write(text: str) -> None:
    from netdiag.renderers.escape import visible_report

    outputs = _texts(visible_report(_report(text)))
    outputs["table"] = render(_report(text), "table", "en")
    outputs["checkmk"] = render(_report(text), "checkmk", "en")
    for name, output in outputs.items():
        assert not CONTROL.search(output), (name, output)
    for line in outputs["checkmk"].splitlines():
        assert re.match(r'^[0-3] "', line), line


def test_a_fake_verdict_in_a_banner_stays_one_quoted_field() -> None:
    table = render(_report(TERMINAL_ATTACK), "table", "en")
    assert "\x1b" not in table and "\\x1b[2J" in table
    assert "forged line" not in table.split("\n")[0]
    checkmk = render(_report(TERMINAL_ATTACK), "checkmk", "en")
    assert all(re.match(r'^[0-3] "netdiag ', line) for line in checkmk.splitlines())
    # JSON keeps the measured text exactly (its own escaping is exact).
    assert "\\u001b[2J" in render(_report(TERMINAL_ATTACK), "json", "en")


@settings(max_examples=200, deadline=None)
@given(host=HOSTILE, port=st.integers(min_value=-1, max_value=70000))
def test_a_connect_request_is_four_lines_or_none(host: str, port: int) -> None:
    """`--target '[::1%x\\r\\nProxy-Authorization: …]:25/tcp'` never writes a header."""
    from netdiag.probes.proxies import connect_request

    try:
        request = connect_request(host, port, "1.0")
    except (ValueError, UnicodeEncodeError):
        return
    lines = request.split(b"\r\n")
    assert lines[0].startswith(b"CONNECT ") and lines[1].startswith(b"Host: ")
    assert lines[2].startswith(b"User-Agent: ") and lines[3:] == [b"", b""]


def test_a_proxy_url_with_a_host_that_is_no_host_is_not_used() -> None:
    from netdiag.probes.proxies import parse_proxy_url

    said = parse_proxy_url("http://[::1%25x%0d%0aX:y]:3128", "HTTPS_PROXY")
    assert isinstance(said, str) and "HTTPS_PROXY" in said


# --- A bundle handed to `netdiag verify` ----------------------------------------------

JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | HOSTILE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(["created", "netdiag", "redactions", "signature", "format"]),
        JSON_VALUE | st.lists(HOSTILE, max_size=3),
    ),
    files=st.dictionaries(
        st.text(alphabet=st.characters(blacklist_characters="/\\\x00"), min_size=1, max_size=20),
        JSON_VALUE,
        max_size=3,
    ),
    lang=st.sampled_from(["en", "de"]),
)
def test_a_forged_manifest_is_answered_in_lines_of_its_own(
    fields: dict[str, Any], files: dict[str, Any], lang: str, tmp_path_factory: Any
) -> None:
    """Whatever a forged manifest holds (any JSON in any field, any file name), `verify`
    answers NOT VERIFIED in its fixed lines: no traceback, no control character, no line
    a field could add."""
    import io
    import json
    import zipfile

    from netdiag.renderers.verification import render_verification
    from netdiag.session.bundle_check import verify_bundle

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({**fields, "files": files}))
        archive.writestr("report.txt", TERMINAL_ATTACK)
    bundle = tmp_path_factory.mktemp("forged") / "ticket.zip"
    bundle.write_bytes(buffer.getvalue())
    result = verify_bundle(bundle, [])
    said = render_verification(result, TERMINAL_ATTACK, lang)
    assert not result.holds
    assert not CONTROL.search(said.replace("\n", ""))
    lines = said.split("\n")
    # title, answer, at most made-by, signed-at, redacted, and one line per step
    assert len(lines) <= 2 + 3 + len(result.steps)
    assert lines[1].startswith(("NOT VERIFIED", "NICHT GEPRÜFT"))
