"""The tamper-evident audit trail: record an event, verify the chain, read its head.

Every state change in nhigov calls :func:`audit_record` inside the transaction that makes the
change, so the event exists exactly when the change does. Rows are chained:
``hash = sha256(prev_hash + canonical_json(row))``, written under a lock (a PostgreSQL advisory
transaction lock; a process lock on SQLite, whose writers are serialised anyway) so concurrent
writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from nhigov.models import AuditEvent, AuditVerification

GENESIS = "0" * 64
_AUDIT_LOCK_KEY = 0x4E48_4741  # "NHGA"
_sqlite_lock = threading.Lock()
_HASHED_FIELDS = (
    "seq",
    "at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "verb",
    "object_type",
    "object_id",
    "object_label",
    "before",
    "after",
    "details",
    "ip",
    "user_agent",
    "request_id",
    "task_id",
    "prev_hash",
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | models.Model):
        return str(value.pk if isinstance(value, models.Model) else value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str)
    return str(value)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default)


def _normalise(value: Any) -> Any:
    """What the JSON columns will give back, so the hash recomputes identically later."""
    if value is None:
        return None
    return json.loads(canonical_json(value))


def event_hash(fields: Mapping[str, Any]) -> str:
    payload = {name: fields[name] for name in _HASHED_FIELDS}
    payload["at"] = fields["at"].isoformat() if isinstance(fields["at"], datetime) else fields["at"]
    return hashlib.sha256((fields["prev_hash"] + canonical_json(payload)).encode()).hexdigest()


def _actor(actor: Any) -> tuple[str, int | None, str]:
    if actor is None:
        return "system", None, "system"
    if isinstance(actor, str):
        return "system", None, actor[:255]
    if not getattr(actor, "is_authenticated", False):
        return "anonymous", None, ""
    return "user", int(actor.pk), str(actor.get_username())[:255]


def _request_context(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    meta = getattr(request, "META", {})
    return {
        "ip": str(meta.get("REMOTE_ADDR", ""))[:64],
        "user_agent": str(meta.get("HTTP_USER_AGENT", ""))[:512],
        "request_id": str(meta.get("HTTP_X_REQUEST_ID", ""))[:64],
    }


def audit_record(
    *,
    verb: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_label: str = "",
    before: Any = None,
    after: Any = None,
    details: Mapping[str, Any] | None = None,
    request: Any = None,
    task_id: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event. ``actor``: a user, a label for a system task, or None (system).

    ``verb`` names what happened (``identity.owner_changed``, ``campaign.activated``); ``obj`` (or
    ``object_type`` + ``object_id``) what it happened to; ``before``/``after`` the values changed.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:512]
    actor_kind, actor_id, actor_label = _actor(actor)
    fields: dict[str, Any] = {
        "at": (at or timezone.now()).astimezone(UTC),
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "verb": verb[:64],
        "object_type": object_type[:64],
        "object_id": str(object_id)[:64],
        "object_label": object_label[:512],
        "before": _normalise(before),
        "after": _normalise(after),
        "details": _normalise(dict(details or {})),
        "ip": "",
        "user_agent": "",
        "request_id": "",
        "task_id": task_id[:64],
        **_request_context(request),
    }
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
            return _append(fields)
        with _sqlite_lock:
            return _append(fields)


def audit_record_many(entries: list[dict[str, Any]], *, actor: Any = None) -> int:
    """Append many events in one locked write (a discovery's diff, a risk pass's findings).

    Each entry takes the keyword arguments of :func:`audit_record` except ``actor`` (shared).
    """
    if not entries:
        return 0
    actor_kind, actor_id, actor_label = _actor(actor)
    now = timezone.now().astimezone(UTC)
    rows: list[dict[str, Any]] = []
    for entry in entries:
        obj = entry.get("obj")
        rows.append(
            {
                "at": (entry.get("at") or now).astimezone(UTC),
                "actor_kind": actor_kind,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "verb": str(entry["verb"])[:64],
                "object_type": (entry.get("object_type") or (obj._meta.label_lower if obj else ""))[
                    :64
                ],
                "object_id": str(entry.get("object_id") or (obj.pk if obj else ""))[:64],
                "object_label": str(entry.get("object_label") or (obj or ""))[:512],
                "before": _normalise(entry.get("before")),
                "after": _normalise(entry.get("after")),
                "details": _normalise(dict(entry.get("details") or {})),
                "ip": "",
                "user_agent": "",
                "request_id": "",
                "task_id": str(entry.get("task_id", ""))[:64],
            }
        )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
            return _append_many(rows)
        with _sqlite_lock:
            return _append_many(rows)


def _append_many(rows: list[dict[str, Any]]) -> int:
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    events = []
    for fields in rows:
        seq += 1
        fields["seq"] = seq
        fields["prev_hash"] = prev
        fields["hash"] = prev = event_hash(fields)
        events.append(AuditEvent(**fields))
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)


def _append(fields: dict[str, Any]) -> AuditEvent:
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    fields["seq"] = (last[0] + 1) if last else 1
    fields["prev_hash"] = last[1] if last else GENESIS
    fields["hash"] = event_hash(fields)
    event = AuditEvent(**fields)
    event.save()
    return event


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    head_seq: int | None
    head_hash: str
    first_broken_seq: int | None = None
    message: str = ""


def chain_head() -> tuple[int | None, str]:
    """(seq, hash) of the newest event, printed in every exported report."""
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (last[0], last[1]) if last else (None, GENESIS)


def audit_verify(*, record: bool = True) -> ChainStatus:
    """Recompute the whole chain; name the first row whose hash, link or sequence is wrong."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    status: ChainStatus | None = None
    columns = (*_HASHED_FIELDS, "hash")
    for row in AuditEvent.objects.order_by("seq").values(*columns).iterator(chunk_size=5000):
        checked += 1
        seq = row["seq"]
        if seq != expected_seq:
            status = _broken(checked, seq, f"Row {seq}: sequence gap, expected {expected_seq}.")
            break
        if row["prev_hash"] != prev_hash:
            status = _broken(
                checked, seq, f"Row {seq}: prev_hash does not match row {seq - 1}'s hash."
            )
            break
        if event_hash(row) != row["hash"]:
            status = _broken(checked, seq, f"Row {seq}: content does not match its hash.")
            break
        prev_hash = row["hash"]
        expected_seq += 1
    if status is None:
        head_seq, head_hash = chain_head()
        status = ChainStatus(
            ok=True,
            checked=checked,
            head_seq=head_seq,
            head_hash=head_hash,
            message=f"{checked} events verified.",
        )
    if record:
        AuditVerification.objects.create(
            at=timezone.now(),
            ok=status.ok,
            checked=status.checked,
            head_seq=status.head_seq,
            head_hash=status.head_hash,
            first_broken_seq=status.first_broken_seq,
            message=status.message,
        )
    return status


def _broken(checked: int, seq: int, message: str) -> ChainStatus:
    head_seq, head_hash = chain_head()
    return ChainStatus(
        ok=False,
        checked=checked,
        head_seq=head_seq,
        head_hash=head_hash,
        first_broken_seq=seq,
        message=message,
    )
