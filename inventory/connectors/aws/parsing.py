"""Parsers of the AWS connector: time, tag and report-cell helpers, policy documents
(:func:`parse_document`) and the credential report (:func:`parse_credential_report`, its
rows and access key columns).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ROOT_ROW = "<root_account>"
# Credential report cells that mean "no value".
_NO_VALUE = frozenset({"", "N/A", "n/a", "no_information", "not_supported"})


# --- small parsers -----------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _latest(*values: datetime | None) -> datetime | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _tags(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(tag.get("Key", "")): str(tag.get("Value", "")) for tag in items or ()}


def parse_document(value: object) -> dict[str, Any]:
    """A policy document as a dict: it may arrive as a dict, JSON text or URL-encoded JSON.

    Unparseable text is kept as ``{"_unparsed": text}`` rather than failing the discovery.
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    for candidate in (text, urllib.parse.unquote(text)):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {"_unparsed": text}


def _report_time(value: str | None) -> datetime | None:
    if value is None or value.strip() in _NO_VALUE:
        return None
    try:
        return _utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def _report_bool(value: str | None) -> bool | None:
    if value is None or value.strip() in _NO_VALUE:
        return None
    return value.strip().lower() == "true"


def _report_text(value: str | None) -> str:
    if value is None or value.strip() in _NO_VALUE:
        return ""
    return value.strip()


def _decode_report(content: bytes | str) -> str:
    """The report CSV as text; the content may be raw bytes, text or base64 (some stubs)."""
    raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    text = raw.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("user,"):
        return text
    try:
        decoded = base64.b64decode(b"".join(raw.split()), validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return text
    return decoded if decoded.lstrip().startswith("user,") else text


# --- credential report -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ReportKey:
    slot: int
    active: bool
    last_rotated: datetime | None
    last_used_at: datetime | None
    last_used_region: str
    last_used_service: str


@dataclass(frozen=True, slots=True)
class _ReportRow:
    user: str
    arn: str
    created_at: datetime | None
    password_enabled: bool | None
    password_last_used: datetime | None
    password_last_changed: datetime | None
    mfa_active: bool | None
    keys: tuple[_ReportKey, ...]


def _parse_report_row(row: Mapping[str, str | None]) -> _ReportRow:
    keys = []
    for slot in (1, 2):
        prefix = f"access_key_{slot}_"
        last_rotated = _report_time(row.get(prefix + "last_rotated"))
        active = bool(_report_bool(row.get(prefix + "active")))
        if last_rotated is None and not active:
            continue  # no key in this slot
        keys.append(
            _ReportKey(
                slot=slot,
                active=active,
                last_rotated=last_rotated,
                last_used_at=_report_time(row.get(prefix + "last_used_date")),
                last_used_region=_report_text(row.get(prefix + "last_used_region")),
                last_used_service=_report_text(row.get(prefix + "last_used_service")),
            )
        )
    return _ReportRow(
        user=(row.get("user") or "").strip(),
        arn=(row.get("arn") or "").strip(),
        created_at=_report_time(row.get("user_creation_time")),
        password_enabled=_report_bool(row.get("password_enabled")),
        password_last_used=_report_time(row.get("password_last_used")),
        password_last_changed=_report_time(row.get("password_last_changed")),
        mfa_active=_report_bool(row.get("mfa_active")),
        keys=tuple(keys),
    )


def parse_credential_report(content: bytes | str) -> dict[str, _ReportRow]:
    """Rows of a credential report CSV by user name (the root row under ``<root_account>``)."""
    reader = csv.DictReader(io.StringIO(_decode_report(content)))
    if not reader.fieldnames or "user" not in reader.fieldnames:
        raise ValueError("the credential report has no 'user' column")
    rows = (_parse_report_row(row) for row in reader)
    return {row.user: row for row in rows if row.user}
