"""Import secret-scanner reports (gitleaks, trufflehog) and correlate leaked access keys.

The whole report is parsed and validated before anything is written: a malformed report is refused
with the line (or entry) at fault and nothing is imported. Only the access key *id* and where it
was found are kept; secret values (``Secret``, ``Match``, ``Raw``, ``RawV2``...) are dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from inventory.models import Credential, LeakedKey, LeakReport
from nhigov.audit import audit_record
from nhigov.models import User

ACCESS_KEY_ID_RE = re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b")
MAX_REPORT_BYTES = 50 * 1024 * 1024


class LeakReportError(ValueError):
    """The report cannot be imported; the message names the entry or line at fault."""


@dataclass(frozen=True)
class LeakEntry:
    access_key_id: str
    repository: str = ""
    file: str = ""
    commit: str = ""
    author: str = ""
    line: int | None = None
    found_at: str = ""
    detector: str = ""


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _key_ids(*values: Any) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            found.extend(m for m in ACCESS_KEY_ID_RE.findall(value) if m not in found)
    return found


def _gitleaks(items: list[Any], repository: str) -> list[LeakEntry]:
    entries: list[LeakEntry] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise LeakReportError(f"Entry {index} is not a JSON object.")
        if "RuleID" not in item and "File" not in item:
            raise LeakReportError(f"Entry {index} is not a gitleaks finding (no RuleID or File).")
        for key_id in _key_ids(item.get("Secret"), item.get("Match")):
            entries.append(
                LeakEntry(
                    access_key_id=key_id,
                    repository=_text(item.get("Link"), 1024) or repository,
                    file=_text(item.get("File"), 1024),
                    commit=_text(item.get("Commit"), 128),
                    author=_text(item.get("Email") or item.get("Author"), 512),
                    line=_int(item.get("StartLine")),
                    found_at=_text(item.get("Date"), 64),
                    detector=_text(item.get("RuleID"), 128),
                )
            )
    return entries


def _trufflehog_source(item: dict[str, Any]) -> dict[str, Any]:
    data = item.get("SourceMetadata", {})
    data = data.get("Data", {}) if isinstance(data, dict) else {}
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, dict):
                return value
    return {}


def _trufflehog(items: list[tuple[int, Any]], repository: str) -> list[LeakEntry]:
    entries: list[LeakEntry] = []
    for line_no, item in items:
        if not isinstance(item, dict):
            raise LeakReportError(f"Line {line_no} is not a JSON object.")
        if "DetectorName" not in item and "SourceMetadata" not in item:
            raise LeakReportError(
                f"Line {line_no} is not a trufflehog finding (no DetectorName or SourceMetadata)."
            )
        source = _trufflehog_source(item)
        for key_id in _key_ids(item.get("Raw"), item.get("Redacted"), item.get("RawV2")):
            entries.append(
                LeakEntry(
                    access_key_id=key_id,
                    repository=_text(source.get("repository") or source.get("link"), 1024)
                    or repository,
                    file=_text(source.get("file"), 1024),
                    commit=_text(source.get("commit"), 128),
                    author=_text(source.get("email"), 512),
                    line=_int(source.get("line")),
                    found_at=_text(source.get("timestamp"), 64),
                    detector=_text(item.get("DetectorName"), 128),
                )
            )
    return entries


def parse_report(content: bytes, *, repository: str = "") -> tuple[str, list[LeakEntry], int]:
    """(tool, entries with an access key id, number of findings in the report)."""
    if len(content) > MAX_REPORT_BYTES:
        raise LeakReportError("The report is larger than 50 MB.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LeakReportError("The report is not UTF-8 text.") from exc
    stripped = text.strip()
    if not stripped:
        raise LeakReportError("The report is empty.")
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise LeakReportError(
                f"Not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
            ) from exc
        if items and isinstance(items[0], dict) and "DetectorName" in items[0]:
            return "trufflehog", _trufflehog(list(enumerate(items, 1)), repository), len(items)
        return "gitleaks", _gitleaks(items, repository), len(items)
    lines: list[tuple[int, Any]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append((line_no, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise LeakReportError(f"Line {line_no} is not valid JSON: {exc.msg}.") from exc
    return "trufflehog", _trufflehog(lines, repository), len(lines)


def leaks_import(
    *, content: bytes, filename: str = "", repository: str = "", actor: User | None = None
) -> LeakReport:
    """Import a report atomically and re-evaluate the identities whose keys leaked."""
    from inventory.services.risk import risk_evaluate

    tool, entries, total = parse_report(content, repository=repository)
    key_ids = sorted({e.access_key_id for e in entries})
    with transaction.atomic():
        report = LeakReport.objects.create(
            tool=tool,
            filename=filename[:255],
            sha256=hashlib.sha256(content).hexdigest(),
            imported_by=actor,
            entries=total,
            key_ids=len(key_ids),
        )
        LeakedKey.objects.bulk_create(LeakedKey(report=report, **vars(entry)) for entry in entries)
        identity_ids = _identities_with_keys(key_ids)
        report.matched_key_ids = len(
            set(
                Credential.objects.filter(native_id__in=key_ids).values_list("native_id", flat=True)
            )
        )
        report.save(update_fields=["matched_key_ids"])
        audit_record(
            verb="leaks.imported",
            actor=actor if actor is not None else "command line",
            obj=report,
            details={
                "tool": tool,
                "sha256": report.sha256,
                "entries": total,
                "access_key_ids": key_ids,
                "matched": report.matched_key_ids,
            },
        )
    if identity_ids:
        risk_evaluate(identity_ids=identity_ids)
    return report


def _identities_with_keys(key_ids: Iterable[str]) -> list[int]:
    return list(
        Credential.objects.filter(native_id__in=list(key_ids))
        .values_list("identity_id", flat=True)
        .distinct()
    )
