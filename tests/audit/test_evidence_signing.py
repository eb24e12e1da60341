"""Signed evidence manifests, and `evidence_verify` checking a bundle as an auditor would."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from nhigov.audit import audit_record, chain_head
from nhigov.evidence import EvidenceBundle, load_public_key, verify_bundle

pytestmark = pytest.mark.django_db


def _key(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / f"{name}.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = tmp_path / f"{name}.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _bundle(directory: Path) -> dict[str, Any]:
    audit_record(verb="test.exported", actor="test", object_type="test", object_id=1)
    directory.mkdir()
    bundle = EvidenceBundle(directory, subject={"campaign": 7})
    bundle.add_text("items.csv", lambda out: out.write("id,decision\n1,keep\n"))
    return bundle.finish()


@pytest.fixture
def signing(tmp_path: Path, settings: Any) -> Path:
    private, public = _key(tmp_path, "nhigov")
    settings.NHIGOV_EVIDENCE_SIGNING_KEY_FILE = str(private)
    return public


def test_a_signed_bundle_verifies_against_the_published_key(tmp_path: Path, signing: Path) -> None:
    manifest = _bundle(tmp_path / "b")
    assert manifest["signature"]["algorithm"] == "Ed25519"
    assert manifest["audit_chain_head"]["seq"] == chain_head()[0]
    result = verify_bundle(tmp_path / "b", trusted_key=load_public_key(signing.read_bytes()))
    assert result.ok, result.problems
    assert any("Signature valid" in c for c in result.checks)
    assert any("chain head" in c for c in result.checks)


def test_an_altered_file_or_manifest_is_named(tmp_path: Path, signing: Path) -> None:
    trusted = load_public_key(signing.read_bytes())
    _bundle(tmp_path / "b")
    (tmp_path / "b" / "items.csv").write_text("id,decision\n1,deprovision\n")
    assert verify_bundle(tmp_path / "b", trusted_key=trusted).problems == [
        "items.csv: SHA-256 differs from the manifest (altered)."
    ]
    # Fix the hash in the manifest to match: now the signature gives it away.
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    altered = (tmp_path / "b" / "items.csv").read_bytes()
    manifest["files"]["items.csv"]["sha256"] = hashlib.sha256(altered).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    problems = verify_bundle(tmp_path / "b", trusted_key=trusted).problems
    assert problems == ["The manifest's signature is invalid (manifest altered)."]


def test_a_signature_by_another_key_or_none_is_refused(
    tmp_path: Path, signing: Path, settings: Any
) -> None:
    _other_private, other_public = _key(tmp_path, "other")
    _bundle(tmp_path / "b")
    problems = verify_bundle(
        tmp_path / "b", trusted_key=load_public_key(other_public.read_bytes())
    ).problems
    assert len(problems) == 1 and "not by the trusted key" in problems[0]
    settings.NHIGOV_EVIDENCE_SIGNING_KEY_FILE = ""
    _bundle(tmp_path / "unsigned")
    unsigned = verify_bundle(
        tmp_path / "unsigned", trusted_key=load_public_key(signing.read_bytes())
    )
    assert unsigned.problems == ["The manifest is not signed."]
    assert verify_bundle(tmp_path / "unsigned").ok  # nothing promised, nothing broken


def test_a_chain_head_missing_from_the_trail_is_named(tmp_path: Path) -> None:
    _bundle(tmp_path / "b")
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["audit_chain_head"]["seq"] = 999_999
    manifest_path.write_text(json.dumps(manifest))
    assert verify_bundle(tmp_path / "b").problems == [
        "Audit event 999999 named by the manifest is not in this trail."
    ]
    assert verify_bundle(tmp_path / "b", check_chain=False).ok


def test_a_missing_or_extra_file_is_named(tmp_path: Path) -> None:
    _bundle(tmp_path / "b")
    (tmp_path / "b" / "items.csv").unlink()
    (tmp_path / "b" / "extra.csv").write_text("x")
    assert verify_bundle(tmp_path / "b").problems == [
        "extra.csv is not listed in the manifest.",
        "items.csv is listed in the manifest but missing.",
    ]


def test_the_command_checks_a_zip_and_exits_1_on_a_problem(
    tmp_path: Path, signing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bundle(tmp_path / "b")
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted((tmp_path / "b").iterdir()):
            out.write(path, arcname=path.name)
    call_command("evidence_verify", str(archive), "--public-key", str(signing))
    assert "Signature valid" in capsys.readouterr().out
    (tmp_path / "b" / "items.csv").write_text("tampered")
    with pytest.raises(SystemExit) as exit_info:
        call_command("evidence_verify", str(tmp_path / "b"), "--json")
    assert exit_info.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["problems"]


def test_a_bad_signing_key_is_a_configuration_error(tmp_path: Path, settings: Any) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    settings.NHIGOV_EVIDENCE_SIGNING_KEY_FILE = str(bad)
    with pytest.raises(ImproperlyConfigured, match="NHIGOV_EVIDENCE_SIGNING_KEY_FILE"):
        _bundle(tmp_path / "b")
