"""``manage.py evidence_verify PATH``: check a downloaded evidence bundle as an auditor would."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nhigov.evidence import load_public_key, verify_bundle


class Command(BaseCommand):
    help = (
        "Verify an evidence bundle (a folder or its zip): file hashes against manifest.json, the "
        "manifest's signature, and that its audit chain head is in this database's trail. "
        "Exits 1 when anything does not match."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the bundle: a folder or a .zip")
        parser.add_argument(
            "--public-key",
            help="the Ed25519 public key (PEM) the manifest must be signed with",
        )
        parser.add_argument(
            "--no-chain",
            action="store_true",
            help="do not look the chain head up (no access to this nhigov's database)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        trusted = None
        if options["public_key"]:
            try:
                trusted = load_public_key(Path(options["public_key"]).read_bytes())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--public-key: {exc}") from exc
        path = Path(options["path"])
        if path.is_dir():
            result = verify_bundle(path, trusted_key=trusted, check_chain=not options["no_chain"])
        elif zipfile.is_zipfile(path):
            with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(path) as archive:
                for member in archive.infolist():  # flat bundles only: no paths, no traversal
                    name = Path(member.filename).name
                    if member.is_dir() or name != member.filename:
                        raise CommandError(f"{path}: unexpected entry {member.filename!r}.")
                    with archive.open(member) as src, (Path(scratch) / name).open("wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                result = verify_bundle(
                    Path(scratch), trusted_key=trusted, check_chain=not options["no_chain"]
                )
        else:
            raise CommandError(f"{path} is neither a folder nor a zip file.")
        if options["json"]:
            payload = {"ok": result.ok, "checks": result.checks, "problems": result.problems}
            self.stdout.write(json.dumps(payload, indent=2))
        else:
            for line in result.checks:
                self.stdout.write(f"ok    {line}")
            for line in result.problems:
                self.stdout.write(self.style.ERROR(f"FAIL  {line}"))
        if not result.ok:
            raise SystemExit(1)
