"""Evidence bundles auditors can trust without trusting us.

A bundle is a folder (or a zip of it) of files plus ``manifest.json``, which holds each file's
SHA-256, what the bundle is about and the audit chain head at export time. Files are written one
row at a time and hashed while written, so a million-row CSV needs constant memory.
"""

from __future__ import annotations

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
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
        (self.directory / MANIFEST).write_text(text + "\n", encoding="utf-8")
        return manifest


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
