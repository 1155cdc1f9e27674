"""A bundle support can trust: signed with the gateway's own vendor-issued key, verified by
`netdiag verify` and by stock OpenSSL — and every way to tamper with it named."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives.asymmetric import rsa

from netdiag.privacy.audit import KnownSecrets, key_forms
from tests.conftest import IN_CI, run_cli
from tests.readme import blocks
from tests.servers.pki import to_pkcs12
from tests.servers.tcp import closed_port

PASSWORD = "Gateway-P12-Pass-31"


class Vendor:
    """The vendor's client PKI (root, issuing CA) and gateways' certificates under it."""

    def __init__(self, key_type: trustme.KeyType) -> None:
        self.key_type = key_type
        self.root = trustme.CA(organization_name="Vendor Client Root CA", key_type=key_type)
        self.issuing = trustme.CA(
            parent_cert=self.root, organization_name="Vendor Client Issuing CA", key_type=key_type
        )

    def gateway(self, name: str, directory: Path) -> Path:
        leaf = self.issuing.issue_cert(name, common_name=name, key_type=self.key_type)
        path = directory / f"{name}.p12"
        path.write_bytes(to_pkcs12(leaf, [self.issuing, self.root], PASSWORD.encode()))
        return path

    def ca_file(self, directory: Path) -> Path:
        path = directory / "vendor-client-ca.pem"
        path.write_bytes(self.root.cert_pem.bytes())
        return path


@pytest.fixture(
    scope="module", params=[trustme.KeyType.RSA, trustme.KeyType.ECDSA], ids=["RSA", "EC"]
)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return Vendor(request.param)


def make_bundle(directory: Path, cert: Path | None, *extra: str) -> tuple[Path, str]:
    out = directory / "ticket.zip"
    (directory / "pw").write_text(PASSWORD, "utf-8")
    args = [
        "bundle",
        "--out",
        str(out),
        "--target",
        f"127.0.0.1:{closed_port()}/tcp",
        "--lang",
        "en",
    ]
    if cert is not None:
        args += ["--cert", str(cert), "--cert-password-file", str(directory / "pw")]
    result = run_cli(*args, *extra)
    assert out.is_file(), result.stderr
    return out, result.stdout + result.stderr


def verify(bundle: Path, ca: Path, lang: str = "en") -> tuple[int, str]:
    result = run_cli("verify", str(bundle), "--ca", str(ca), "--lang", lang)
    return result.exit_code, result.stdout + result.stderr


def rewritten(bundle: Path, out: Path, change: dict[str, bytes | None]) -> Path:
    """The bundle re-zipped with files replaced (bytes), added (new names) or removed
    (None): what someone editing it on the way would do."""
    with zipfile.ZipFile(bundle) as source:
        files = {name: source.read(name) for name in source.namelist()}
    for name, data in change.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    with zipfile.ZipFile(out, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    return out


@pytest.fixture(scope="module")
def signed(vendor: Vendor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """One genuine bundle per key kind: tests read it and tamper only with copies."""
    directory = tmp_path_factory.mktemp("signed")
    bundle, said = make_bundle(directory, vendor.gateway("dicom-gw-01.hospital.example", directory))
    assert "not signed" not in said
    yield bundle, vendor.ca_file(directory)


def test_a_signed_bundle_verifies_and_names_its_gateway(signed: tuple[Path, Path]) -> None:
    bundle, ca = signed
    code, said = verify(bundle, ca)
    assert code == 0, said
    assert "VERIFIED" in said and "NOT VERIFIED" not in said
    assert "gateway: CN=dicom-gw-01.hospital.example" in said and "(serial " in said
    assert "signed at: " in said and "self-asserted" in said and "made by: netdiag " in said
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["signature"]["signed"] is True
    assert manifest["signature"]["signer"]["subject"].startswith("CN=dicom-gw-01")
    assert manifest["created_by"] == "this machine's clock (self-asserted)"


def test_german_like_every_output(signed: tuple[Path, Path]) -> None:
    bundle, ca = signed
    code, said = verify(bundle, ca, "de")
    assert code == 0 and "GEPRÜFT" in said and "Gateway: CN=dicom-gw-01" in said


def _require_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if IN_CI:
            pytest.fail(f"needs {name} (Debian package {name}), and CI=true must run every test")
        pytest.skip(f"needs {name}")
    return found


def _stock_commands() -> str:
    """The README's ```shell block: the support desk's check without netdiag."""
    [block] = blocks("shell")
    return "set -e\n" + "\n".join(command.text for command in block)


def _at_the_desk(folder: Path) -> subprocess.CompletedProcess[str]:
    """The README's stock commands run in `folder` (ticket.zip and the client CA in it)."""
    return subprocess.run(
        ["bash", "-c", _stock_commands()], cwd=folder, capture_output=True, text=True, timeout=60
    )


def test_stock_openssl_and_sha256sum_verify_it_too(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The README's commands for a support desk without netdiag, as written there."""
    bundle, ca = signed
    _require_tool("openssl")
    _require_tool("jq")
    _require_tool("unzip")
    desk = tmp_path / "desk"
    desk.mkdir()
    shutil.copy(bundle, desk / "ticket.zip")
    shutil.copy(ca, desk / "vendor-client-ca.pem")
    done = _at_the_desk(desk)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Verification successful" in done.stderr
    assert "report.json: OK" in done.stdout


def test_stock_tools_fail_a_changed_file_and_a_foreign_signer(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The twins: the same stock commands fail for a file changed after signing, and for a
    genuine signature checked against another CA."""
    bundle, ca = signed
    _require_tool("openssl")
    _require_tool("jq")
    _require_tool("unzip")
    changed = tmp_path / "changed"
    changed.mkdir()
    with zipfile.ZipFile(bundle) as archive:
        report = archive.read("report.json")
    rewritten(bundle, changed / "ticket.zip", {"report.json": report.replace(b"{", b"{ ", 1)})
    shutil.copy(ca, changed / "vendor-client-ca.pem")
    failed = _at_the_desk(changed)
    assert failed.returncode != 0 and "report.json: FAILED" in failed.stdout
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    shutil.copy(bundle, foreign / "ticket.zip")
    (foreign / "vendor-client-ca.pem").write_bytes(trustme.CA().cert_pem.bytes())
    refused = _at_the_desk(foreign)
    assert refused.returncode != 0 and "Verification successful" not in refused.stderr


def test_one_byte_changed_in_a_file_is_named(signed: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, ca = signed
    with zipfile.ZipFile(bundle) as archive:
        report = bytearray(archive.read("report.json"))
    report[10] ^= 0x01
    code, said = verify(rewritten(bundle, tmp_path / "x.zip", {"report.json": bytes(report)}), ca)
    assert code == 2 and "changed: report.json" in said and "NOT VERIFIED" in said


def test_a_file_added_or_removed_is_named(signed: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, ca = signed
    code, said = verify(rewritten(bundle, tmp_path / "a.zip", {"extra/notes.txt": b"mine"}), ca)
    assert code == 2 and "added: extra/notes.txt" in said
    code, said = verify(rewritten(bundle, tmp_path / "r.zip", {"report.html": None}), ca)
    assert code == 2 and "removed: report.html" in said


def test_a_manifest_rewritten_without_the_key_fails_the_signature(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    """Someone edits report.json and its hash in the manifest, but cannot sign."""
    bundle, ca = signed
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    forged_report = b'{"status": "ok"}'
    manifest["files"]["report.json"]["sha256"] = hashlib.sha256(forged_report).hexdigest()
    changed = {"report.json": forged_report, "manifest.json": json.dumps(manifest).encode()}
    code, said = verify(rewritten(bundle, tmp_path / "m.zip", changed), ca)
    assert code == 2 and "the manifest was changed" in said


def test_another_gateways_genuine_bundle_verifies_as_the_other_gateway(
    vendor: Vendor, tmp_path: Path
) -> None:
    """Re-signed by another gateway's key of the same vendor: a genuine bundle of that
    gateway — which is what the identity printed must say."""
    other, _ = make_bundle(tmp_path, vendor.gateway("dicom-gw-77.other-hospital.example", tmp_path))
    code, said = verify(other, vendor.ca_file(tmp_path))
    assert code == 0 and "gateway: CN=dicom-gw-77.other-hospital.example" in said


def test_a_manifest_rewritten_and_re_signed_by_another_gateway_is_that_gateways(
    vendor: Vendor, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    """This gateway's bundle, a report edited, the manifest's hash rewritten and re-signed
    with another gateway's genuine key: the signature and chain hold — so the identity
    printed first must be the other gateway, never this one."""
    from netdiag.privacy.secret import Secret
    from netdiag.trust.cms import sign_detached
    from netdiag.trust.identity import load_identity

    bundle, ca = signed
    other = load_identity(
        vendor.gateway("dicom-gw-77.other-hospital.example", tmp_path),
        password=Secret(PASSWORD.encode()),
    )
    with zipfile.ZipFile(bundle) as archive:
        report = archive.read("report.json").replace(b"{", b"{ ", 1)
        manifest = json.loads(archive.read("manifest.json"))
    manifest["files"]["report.json"]["sha256"] = hashlib.sha256(report).hexdigest()
    manifest_bytes = json.dumps(manifest).encode()
    forged = rewritten(
        bundle,
        tmp_path / "forged.zip",
        {
            "report.json": report,
            "manifest.json": manifest_bytes,
            "manifest.json.p7s": sign_detached(manifest_bytes, other),
        },
    )
    code, said = verify(forged, ca)
    assert code == 0, said
    lines = said.splitlines()
    assert lines[1].startswith("VERIFIED") and lines[2].startswith(
        "gateway: CN=dicom-gw-77.other-hospital.example"
    )
    assert "dicom-gw-01" not in said


def test_a_signer_from_an_unknown_ca_fails_the_chain(vendor: Vendor, tmp_path: Path) -> None:
    stranger = Vendor(vendor.key_type)
    bundle, _ = make_bundle(tmp_path, stranger.gateway("gw.elsewhere.example", tmp_path))
    code, said = verify(bundle, vendor.ca_file(tmp_path))
    assert code == 2 and "does not chain to the client CA" in said
    assert "OK     signature" in said  # the signature itself holds: only the signer is foreign


def test_a_signature_over_another_manifest_fails(
    vendor: Vendor, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The same gateway's genuine signature, but of another run's manifest."""
    one, ca = signed
    two, _ = make_bundle(tmp_path, vendor.gateway("dicom-gw-01.hospital.example", tmp_path))
    with zipfile.ZipFile(two) as archive:
        other_signature = archive.read("manifest.json.p7s")
    swapped = rewritten(one, tmp_path / "s.zip", {"manifest.json.p7s": other_signature})
    code, said = verify(swapped, ca)
    assert code == 2 and "the manifest was changed" in said


def test_a_truncated_signature_is_no_signature(signed: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, ca = signed
    with zipfile.ZipFile(bundle) as archive:
        signature = archive.read("manifest.json.p7s")
    cut = rewritten(
        bundle, tmp_path / "t.zip", {"manifest.json.p7s": signature[: len(signature) // 2]}
    )
    code, said = verify(cut, ca)
    assert code == 2 and "not a CMS signature" in said


@pytest.mark.parametrize("name", ["../../etc/cron.d/x", "/etc/passwd", "C:/Windows/x", "a\\..\\b"])
def test_a_zip_with_names_outside_the_bundle_is_refused_before_reading(
    signed: tuple[Path, Path], tmp_path: Path, name: str
) -> None:
    bundle, ca = signed
    evil = tmp_path / "evil.zip"
    buffer = io.BytesIO(bundle.read_bytes())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), b"payload")
    evil.write_bytes(buffer.getvalue())
    code, said = verify(evil, ca)
    assert code == 2 and "refused before reading" in said
    assert not (tmp_path / "etc").exists()


def test_an_unsigned_bundle_says_so_and_does_not_verify(vendor: Vendor, tmp_path: Path) -> None:
    bundle, said = make_bundle(tmp_path, None)
    assert "the bundle is not signed (no --cert)" in said
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert "manifest.json.p7s" not in archive.namelist()
    assert manifest["signature"] == {
        "signed": False,
        "reason": "no --cert: no gateway key to sign with",
    }
    code, answer = verify(bundle, vendor.ca_file(tmp_path))
    assert code == 2 and "not signed" in answer


def test_a_redacted_bundle_is_signed_and_says_what_was_redacted(
    vendor: Vendor, tmp_path: Path
) -> None:
    bundle, _ = make_bundle(
        tmp_path, vendor.gateway("dicom-gw-01.hospital.example", tmp_path), "--redact"
    )
    code, said = verify(bundle, vendor.ca_file(tmp_path))
    assert code == 0 and "redacted: internal addresses" in said


def test_no_key_material_or_password_in_the_bundle(signed: tuple[Path, Path]) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    bundle, _ = signed
    cert = bundle.parent / "dicom-gw-01.hospital.example.p12"
    key, _, _ = pkcs12.load_key_and_certificates(cert.read_bytes(), PASSWORD.encode())
    assert key is not None
    # The private value itself (RSA's d, EC's scalar) and the key in its every file form;
    # the public key is in the certificate and may appear.
    private = (
        key.private_numbers().d
        if isinstance(key, rsa.RSAPrivateKey)
        else key.private_numbers().private_value  # type: ignore[union-attr]
    )
    secrets = KnownSecrets.of(
        [
            ("private value", private.to_bytes((private.bit_length() + 7) // 8, "big")),
            *key_forms(key),
            ("password", PASSWORD.encode()),
        ]
    )
    with zipfile.ZipFile(bundle) as archive:
        for name in archive.namelist():
            assert secrets.found_in(archive.read(name)) == "", name


def test_a_ca_file_that_cannot_be_read_is_one_line_and_exit_3(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle, _ = signed
    result = run_cli("verify", str(bundle), "--ca", str(tmp_path / "missing.pem"))
    assert result.exit_code == 3 and result.stderr.count("\n") == 1
    not_a_zip = tmp_path / "x.zip"
    not_a_zip.write_bytes(b"PK but not a zip")
    result = run_cli("verify", str(not_a_zip), "--ca", str(signed[1]))
    assert result.exit_code == 3 and "is not a zip" in result.stderr
