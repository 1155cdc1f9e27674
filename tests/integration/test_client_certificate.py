"""Client certificate inputs (PEM, PKCS#12, passwords) and the local certificate checks."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import CliResult, run_cli
from tests.servers.pki import SERVER_AUTH_ONLY, Pki, custom_client_cert, make_pki
from tests.servers.tcp import OpenPort

PASSWORD = "Correct-Horse-Battery-42"


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with OpenPort() as open_port:
        yield open_port.port


def check_with(port: int, *args: str) -> CliResult:
    return run_cli("check", "--json", "--timeout", "1", "--target", f"127.0.0.1:{port}/tcp", *args)


def local_codes(result: CliResult) -> set[str]:
    return {f["code"] for f in result.json()["local"]["findings"]}


def test_pem_with_key_and_chain(pki: Pki, port: int, tmp_path: Path) -> None:
    result = check_with(port, "--cert", str(pki.client_pem(tmp_path)))
    assert result.exit_code == 0, result.stderr
    certificate = result.json()["local"]["client_certificate"]
    assert "gateway.hospital.example" in certificate["leaf"]["subject"]
    assert certificate["is_chain_complete"] is True and len(certificate["chain"]) == 2
    assert local_codes(result) == set()


def test_pem_with_separate_key_and_no_chain(pki: Pki, port: int, tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_bytes(pki.client.cert_chain_pems[0].bytes())
    key = tmp_path / "key.pem"
    key.write_bytes(pki.client.private_key_pem.bytes())
    result = check_with(port, "--cert", str(cert), "--key", str(key))
    assert result.exit_code == 0, result.stderr
    assert local_codes(result) == {"cert.chain_incomplete"}


def test_encrypted_pem_key_with_password_file(pki: Pki, port: int, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(pki.client.private_key_pem.bytes(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    cert = tmp_path / "client.pem"
    cert.write_bytes(pki.client.cert_chain_pems[0].bytes() + encrypted)
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n", "utf-8")
    assert (
        check_with(port, "--cert", str(cert), "--cert-password-file", str(password_file)).exit_code
        == 0
    )
    missing = check_with(port, "--cert", str(cert))
    assert missing.exit_code == 3 and "is encrypted" in missing.stderr


def test_pkcs12_without_password(pki: Pki, port: int, tmp_path: Path) -> None:
    result = check_with(port, "--cert", str(pki.client_p12(tmp_path, None)))
    assert result.exit_code == 0, result.stderr
    assert len(result.json()["local"]["client_certificate"]["chain"]) == 2


def test_pkcs12_with_password_from_file_and_from_environment(
    pki: Pki, port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = pki.client_p12(tmp_path, PASSWORD.encode())
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD, "utf-8")
    assert (
        check_with(
            port, "--cert", str(bundle), "--cert-password-file", str(password_file)
        ).exit_code
        == 0
    )
    monkeypatch.setenv("NETDIAG_CERT_PASSWORD", PASSWORD)
    assert check_with(port, "--cert", str(bundle)).exit_code == 0
    # The variable, set for the PKCS#12 file, does not stand in the way of a PEM key or a
    # bundle without a password: it is simply not needed there.
    assert check_with(port, "--cert", str(pki.client_pem(tmp_path))).exit_code == 0
    assert (
        check_with(port, "--cert", str(pki.client_p12(tmp_path, None, "open.p12"))).exit_code == 0
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda pki, d: pki.client_p12(d, PASSWORD.encode()), "protected by a password"),
        (
            lambda pki, d: _with_password_file(d, "wrong", pki.client_p12(d, PASSWORD.encode())),
            "wrong password",
        ),
        (lambda pki, d: _write(d / "random.p12", bytes(range(256)) * 8), "neither PEM nor PKCS#12"),
        # A DER SEQUENCE of five bytes is no PKCS#12 that wants a password.
        (lambda pki, d: _write(d / "tiny.der", b"\x30\x03\x02\x01\x00"), "neither PEM nor PKCS#12"),
        (
            lambda pki, d: _write(
                d / "cut.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
            ),
            "damaged",
        ),
        (lambda pki, d: _write(d / "empty.pem", b""), "is empty"),
        (lambda pki, d: d / "missing.pem", "cannot read"),
        (
            lambda pki, d: _write(d / "nokey.pem", pki.client.cert_chain_pems[0].bytes()),
            "no private key",
        ),
        (lambda pki, d: _mismatched(pki, d), "cert.key_mismatch"),
        (
            lambda pki, d: _with_password_file(d, PASSWORD, pki.client_p12(d, None)),
            "is not protected by a password, but one was given",
        ),
        (
            lambda pki, d: _with_password_file(d, PASSWORD, pki.client_pem(d)),
            "is not encrypted, but a password was given",
        ),
    ],
    ids=[
        "p12-no-password",
        "p12-wrong-password",
        "garbage",
        "five-byte-der",
        "damaged-pem",
        "empty",
        "missing",
        "no-key",
        "key-mismatch",
        "p12-unprotected-with-password-file",
        "pem-unencrypted-with-password-file",
    ],
)
def test_unusable_certificate_input_is_one_line_and_exit_code_3(
    pki: Pki, port: int, tmp_path: Path, make: object, message: str
) -> None:
    path = make(pki, tmp_path)  # type: ignore[operator]
    args = ["--cert", str(path)]
    password_file = tmp_path / "password"
    if password_file.exists():
        args += ["--cert-password-file", str(password_file)]
    result = check_with(port, *args)
    assert result.exit_code == 3
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert PASSWORD not in result.stderr and "wrong" not in result.stderr.replace(
        "wrong password", ""
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _with_password_file(directory: Path, password: str, bundle: Path) -> Path:
    (directory / "password").write_text(password, "utf-8")
    return bundle


def _mismatched(pki: Pki, directory: Path) -> Path:
    other = make_pki("Other")
    return _write(
        directory / "mismatch.pem",
        pki.client.cert_chain_pems[0].bytes() + other.client.private_key_pem.bytes(),
    )


NOW = dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("not_before", "not_after", "usages", "code", "exit_code"),
    [
        (NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=10), None, "cert.expired", 2),
        (NOW + dt.timedelta(days=10), NOW + dt.timedelta(days=400), None, "cert.not_yet_valid", 2),
        (NOW - dt.timedelta(days=300), NOW + dt.timedelta(days=10), None, "cert.expires_soon", 1),
        (
            NOW - dt.timedelta(days=1),
            NOW + dt.timedelta(days=400),
            SERVER_AUTH_ONLY,
            "cert.no_client_auth",
            2,
        ),
    ],
)
def test_local_certificate_checks(
    pki: Pki,
    port: int,
    tmp_path: Path,
    not_before: dt.datetime,
    not_after: dt.datetime,
    usages: list[object] | None,
    code: str,
    exit_code: int,
) -> None:
    pem = custom_client_cert(pki.issuing, not_before=not_before, not_after=not_after, usages=usages)  # type: ignore[arg-type]
    path = _write(
        tmp_path / "odd.pem", pem + pki.issuing.cert_pem.bytes() + pki.root.cert_pem.bytes()
    )
    result = check_with(port, "--cert", str(path))
    assert local_codes(result) == {code}
    assert result.exit_code == exit_code
    table = run_cli(
        "check", "--timeout", "1", "--target", f"127.0.0.1:{port}/tcp", "--cert", str(path)
    )
    assert code in table.stdout


def test_expires_soon_follows_the_configured_days(pki: Pki, port: int, tmp_path: Path) -> None:
    pem = custom_client_cert(
        pki.issuing, not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=60)
    )
    path = _write(
        tmp_path / "soon.pem", pem + pki.issuing.cert_pem.bytes() + pki.root.cert_pem.bytes()
    )
    assert local_codes(check_with(port, "--cert", str(path))) == set()
    assert local_codes(check_with(port, "--cert", str(path), "--cert-warn-days", "90")) == {
        "cert.expires_soon"
    }


def key_fragments(pem: bytes) -> list[str]:
    """What of a private key could leak: PEM body lines, the DER in base64 and hex."""
    key = serialization.load_pem_private_key(pem, None)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    return [*body, base64.b64encode(der).decode()[:40], der.hex()[:40]]
