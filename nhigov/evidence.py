"""Evidence bundles auditors can trust without trusting us.

A bundle is a folder (or a zip of it) of files plus ``manifest.json``, which holds each file's
SHA-256, what the bundle is about and the audit chain head at export time. Files are written one
row at a time and hashed while written, so a million-row CSV needs constant memory.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from nhigov.audit import audit_verify, chain_head

MANIFEST = "manifest.json"


class _HashingWriter(io.RawIOBase):
    """A binary sink that hashes and counts what passes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.digest.update(chunk)
        self.size += len(chunk)
        self.target.write(chunk)
        return len(chunk)


@dataclass
class EvidenceBundle:
    """Files written into ``directory``; :meth:`finish` adds the manifest."""

    directory: Path
    subject: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_text(self, name: str, write: Callable[[IO[str]], Any]) -> dict[str, Any]:
        """Write a text file (UTF-8) through ``write(handle)``; returns its manifest entry."""
        path = self.directory / name
        with path.open("wb") as raw:
            sink = _HashingWriter(raw)
            with io.TextIOWrapper(
                io.BufferedWriter(sink, buffer_size=1 << 16),
                encoding="utf-8",
                newline="",
            ) as handle:
                result = write(handle)
        entry = {"sha256": sink.digest.hexdigest(), "bytes": sink.size}
        if isinstance(result, int):
            entry["rows"] = result
        self.files[name] = entry
        return entry

    def add_bytes(self, name: str, data: bytes) -> dict[str, Any]:
        (self.directory / name).write_bytes(data)
        entry = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        self.files[name] = entry
        return entry

    def finish(self, *, verify: bool = True) -> dict[str, Any]:
        """Write ``manifest.json``: file hashes, subject, chain head (verified if asked)."""
        head_seq, head_hash = chain_head()
        manifest: dict[str, Any] = {
            "generated_at": datetime.now(UTC).isoformat(),
            "generator": "nhigov",
            "subject": self.subject,
            "files": self.files,
            "audit_chain_head": {"seq": head_seq, "hash": head_hash},
        }
        if verify:
            status = audit_verify()
            manifest["audit_chain_verified"] = {"ok": status.ok, "message": status.message}
        manifest = json.loads(json.dumps(manifest, default=str))  # as a reader will load it
        signature = sign_manifest(manifest)
        if signature is not None:
            manifest[SIGNATURE] = signature
        text = json.dumps(manifest, indent=2, sort_keys=True)
        (self.directory / MANIFEST).write_text(text + "\n", encoding="utf-8")
        return manifest


# --- Signing and verifying --------------------------------------------------------------------

SIGNATURE = "signature"
SIGNED_TEXT = "the manifest without 'signature' as JSON with sorted keys and no spaces, UTF-8"


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != SIGNATURE}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signing_key() -> Ed25519PrivateKey | None:
    key_file = settings.NHIGOV_EVIDENCE_SIGNING_KEY_FILE
    if not key_file:
        return None
    try:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"NHIGOV_EVIDENCE_SIGNING_KEY_FILE: cannot read an unencrypted PEM key ({exc})."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("NHIGOV_EVIDENCE_SIGNING_KEY_FILE must hold an Ed25519 key.")
    return key


def public_key_id(raw: bytes) -> str:
    """A short fingerprint of a raw Ed25519 public key (what to publish and compare)."""
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_manifest(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest's signature block, or None when no signing key is configured."""
    key = _signing_key()
    if key is None:
        return None
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "algorithm": "Ed25519",
        "public_key": base64.b64encode(public).decode(),
        "key_id": public_key_id(public),
        "signed": SIGNED_TEXT,
        "value": base64.b64encode(key.sign(_canonical(manifest))).decode(),
    }


def load_public_key(pem: bytes) -> bytes:
    """The raw Ed25519 public key of a PEM file (``openssl pkey -pubout``)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass
class BundleCheck:
    """What :func:`verify_bundle` found: every check made, and the problems."""

    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(
    directory: Path, *, trusted_key: bytes | None = None, check_chain: bool = True
) -> BundleCheck:
    """Check a bundle as an auditor would: every file's size and SHA-256 against the manifest,
    no file missing or extra, the signature (against ``trusted_key`` when given: a signature by
    a key the auditor does not trust proves nothing), and that the chain head it names is still
    in this database's audit trail with the same hash."""
    result = BundleCheck()
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        result.problems.append(f"{MANIFEST} cannot be read: {exc}")
        return result
    files = manifest.get("files") or {}
    present = {p.name for p in directory.iterdir() if p.is_file() and p.name != MANIFEST}
    for name in sorted(present - set(files)):
        result.problems.append(f"{name} is not listed in the manifest.")
    for name, entry in sorted(files.items()):
        path = directory / name
        if name not in present:
            result.problems.append(f"{name} is listed in the manifest but missing.")
            continue
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != entry.get("sha256"):
            result.problems.append(f"{name}: SHA-256 differs from the manifest (altered).")
        else:
            result.checks.append(f"{name}: SHA-256 matches.")
    _check_signature(manifest, trusted_key, result)
    if check_chain:
        _check_chain_head(manifest.get("audit_chain_head") or {}, result)
    return result


def _check_signature(
    manifest: dict[str, Any], trusted_key: bytes | None, result: BundleCheck
) -> None:
    block = manifest.get(SIGNATURE)
    if not block:
        if trusted_key is not None:
            result.problems.append("The manifest is not signed.")
        else:
            result.checks.append("The manifest is not signed (no signing key was configured).")
        return
    try:
        public = base64.b64decode(block["public_key"])
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(block["value"]), _canonical(manifest)
        )
    except (KeyError, ValueError, TypeError, InvalidSignature):
        result.problems.append("The manifest's signature is invalid (manifest altered).")
        return
    if trusted_key is not None and public != trusted_key:
        result.problems.append(
            f"Signed by key {public_key_id(public)}, not by the trusted key "
            f"{public_key_id(trusted_key)}."
        )
        return
    trust = "the trusted key" if trusted_key is not None else "the key it names"
    result.checks.append(f"Signature valid (Ed25519, key {public_key_id(public)}, {trust}).")


def _check_chain_head(head: dict[str, Any], result: BundleCheck) -> None:
    from nhigov.models import AuditEvent

    seq, expected = head.get("seq"), head.get("hash")
    if seq is None:
        result.checks.append("The audit trail was empty at export time.")
        return
    stored = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if stored is None:
        result.problems.append(f"Audit event {seq} named by the manifest is not in this trail.")
    elif stored != expected:
        result.problems.append(f"Audit event {seq} has another hash in this trail than exported.")
    else:
        result.checks.append(f"Audit chain head {seq} is in this trail with the same hash.")


def zip_directory(directory: Path) -> IO[bytes]:
    """A temporary zip of the bundle (spooled to disk past 8 MB), positioned at its start."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - returned
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.iterdir()):
            archive.write(path, arcname=path.name)
    spool.seek(0)
    return spool


def iter_file(handle: IO[bytes], chunk: int = 1 << 16) -> Iterator[bytes]:
    try:
        while data := handle.read(chunk):
            yield data
    finally:
        handle.close()


def prepare_output(directory: str) -> Path:
    """Create the output folder (refusing a non-empty one, so nothing is mixed or overwritten)."""
    path = Path(directory)
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(f"{path} is not empty: give an empty or new folder.")
    os.makedirs(path, exist_ok=True)
    return path
