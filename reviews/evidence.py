"""A campaign's evidence bundle: ``items.csv``, ``summary.pdf`` and ``manifest.json``.

``items.csv`` has one row per review item: the identity as snapshotted, its snapshot hash, the
owner at the snapshot, the reviewer chain and who acted, the decision with its source and
justification, the context shown (last use, key age, findings, recommendation), the timestamps,
the remediation request and the discovery run that verified it. It is written in one pass over
the items by keyset (chunks of :data:`CHUNK` ids, each chunk's decisions, assignments and
remediation requests read in a few queries), so memory stays constant at any campaign size.
Cells are made formula-safe with :func:`inventory.exports.csv_safe`.

``summary.pdf`` (for the sign-off) is built from counters collected *while writing the CSV*, so
its figures are exactly the CSV's; its item table holds the first :data:`PDF_TABLE_ROWS` items
(the note under it says the full table is in ``items.csv``). Every provider-originated string is
XML-escaped before reportlab's Paragraph parser sees it.

``manifest.json`` (:class:`nhigov.evidence.EvidenceBundle`) holds each file's SHA-256, the
campaign's snapshot hash and sealed summary hash, and the audit chain head at export time.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any
from xml.sax.saxutils import escape

from django.utils import timezone

from inventory.exports import csv_safe
from nhigov.evidence import EvidenceBundle
from nhigov.models import User
from reviews.choices import (
    DECIDED_STATUSES,
    CampaignStatus,
    DecisionSource,
    ItemStatus,
    Outcome,
    RemediationStatus,
)
from reviews.models import (
    Campaign,
    RemediationRequest,
    ReviewAssignment,
    ReviewDecision,
    ReviewItem,
)

ITEMS_CSV = "items.csv"
SUMMARY_PDF = "summary.pdf"
CHUNK = 2000
PDF_TABLE_ROWS = 500
PDF_EXCEPTION_ROWS = 200

ITEM_FIELDS: tuple[str, ...] = (
    "campaign_id",
    "campaign_name",
    "item_id",
    "identity_id",
    "identity_type",
    "provider",
    "account_id",
    "account_name",
    "name",
    "arn",
    "native_id",
    "classification",
    "snapshot_sha256",
    "snapshot_at",
    "owner_at_snapshot",
    "owner_team_at_snapshot",
    "risk_tier_at_snapshot",
    "first_reviewer",
    "reviewer",
    "assigned_reason",
    "reassignments",
    "status",
    "decision",
    "decision_source",
    "decided_by",
    "on_behalf_of",
    "justification",
    "exception_until",
    "bulk_decision",
    "confirmed_by",
    "handover_to",
    "handover_response",
    "earlier_decisions",
    "recommendation_shown",
    "recommendation_reason",
    "last_used_at",
    "last_used_service",
    "oldest_key_age_days",
    "access_keys",
    "findings",
    "flags",
    "policies",
    "assigned_at",
    "decided_at",
    "seconds_to_decide",
    "remediation_id",
    "remediation_action",
    "remediation_status",
    "remediation_dry_run",
    "remediation_requested_at",
    "remediation_due_at",
    "remediated_at",
    "remediation_note",
    "verified_by_run",
    "verified_at",
    "verification",
)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _parse(text: str) -> dict[str, Any]:
    value = json.loads(text) if text else {}
    return value if isinstance(value, dict) else {}


_RISKY_FIRST = frozenset("=+-@\t\r")


def _cell(value: Any) -> str:
    """A CSV cell; formula-like text goes through :func:`inventory.exports.csv_safe`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else str(value)
    return csv_safe(text) if text and text[0] in _RISKY_FIRST else text


@dataclass
class EvidenceTotals:
    """What the PDF reports, counted from the rows written to the CSV."""

    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_decision: Counter[tuple[str, str]] = field(default_factory=Counter)
    decided: int = 0
    exceptions: list[dict[str, str]] = field(default_factory=list)
    exception_count: int = 0
    remediation: Counter[str] = field(default_factory=Counter)
    remediation_on_time: int = 0
    remediation_late: int = 0
    remediation_open_overdue: int = 0
    remediation_verified: Counter[str] = field(default_factory=Counter)
    table: list[dict[str, str]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.rows) if self.rows else 100


class _Users:
    """User labels by id, read once per chunk for the ids not seen yet."""

    def __init__(self) -> None:
        self.labels: dict[int, str] = {}

    def load(self, ids: set[int | None]) -> None:
        missing = {i for i in ids if i is not None and i not in self.labels}
        if missing:
            for pk, email, username in User.objects.filter(pk__in=missing).values_list(
                "pk", "email", "username"
            ):
                self.labels[pk] = email or username

    def __call__(self, pk: int | None, empty: str = "") -> str:
        return self.labels.get(pk, f"user {pk}") if pk is not None else empty


_ITEM_COLUMNS = (
    "id",
    "identity_id",
    "name",
    "kind",
    "tier",
    "status",
    "reviewer_id",
    "first_reviewer_id",
    "assigned_reason",
    "assigned_at",
    "decided_at",
    "snapshot_json",
    "snapshot_hash",
    "recommendation",
    "recommendation_reason",
    "decision_id",
)
_DECISION_COLUMNS = (
    "outcome",
    "source",
    "decided_by_id",
    "on_behalf_of_id",
    "justification",
    "exception_until",
    "bulk",
    "confirmed_by_id",
    "handover_to_user_id",
    "handover_to_team__name",
    "handover_response",
    "seconds_to_decide",
)
_REQUEST_COLUMNS = (
    "id",
    "item_id",
    "action",
    "status",
    "dry_run",
    "requested_at",
    "due_at",
    "finished_at",
    "note",
    "verified_by_run_id",
    "verified_by_run__account_id",
    "verified_by_run__finished_at",
    "verified_at",
    "verification",
)


def _chunks(campaign: Campaign) -> Iterator[list[SimpleNamespace]]:
    """The campaign's items in id order, ``CHUNK`` at a time (keyset: no OFFSET), as plain
    rows (no model instances: a million of them cost more than the CSV itself)."""
    last = 0
    columns = (*_ITEM_COLUMNS, *(f"decision__{c}" for c in _DECISION_COLUMNS))
    base = ReviewItem.objects.filter(campaign=campaign).values_list(*columns)
    width = len(_ITEM_COLUMNS)
    while True:
        rows = list(base.filter(id__gt=last).order_by("id")[:CHUNK])
        if not rows:
            return
        chunk = []
        for row in rows:
            item = SimpleNamespace(**dict(zip(_ITEM_COLUMNS, row[:width], strict=True)))
            item.pk = item.id
            item.decision = (
                SimpleNamespace(**dict(zip(_DECISION_COLUMNS, row[width:], strict=True)))
                if item.decision_id is not None
                else None
            )
            chunk.append(item)
        yield chunk
        last = chunk[-1].pk


def _owner_label(snapshot: dict[str, Any]) -> str:
    owner = snapshot.get("owner")
    if isinstance(owner, dict):
        return str(owner.get("email") or owner.get("username") or "")
    return ""


def item_rows(campaign: Campaign, totals: EvidenceTotals, now: datetime) -> Iterator[list[Any]]:
    """One list of values per item (in :data:`ITEM_FIELDS` order), counting as it goes."""
    users = _Users()
    for chunk in _chunks(campaign):
        ids = [i.pk for i in chunk]
        assignments: dict[int, list[SimpleNamespace]] = {}
        for values in (
            ReviewAssignment.objects.filter(item_id__in=ids)
            .order_by("item_id", "at", "id")
            .values(
                "item_id", "from_reviewer_id", "to_reviewer_id", "reason", "note", "by_id", "at"
            )
        ):
            assignments.setdefault(values["item_id"], []).append(SimpleNamespace(**values))
        requests: dict[int, SimpleNamespace] = {}
        for values in (
            RemediationRequest.objects.filter(item_id__in=ids)
            .order_by("item_id", "requested_at", "id")
            .values(*_REQUEST_COLUMNS)
        ):
            r = SimpleNamespace(**values)
            # The latest request that was not canceled, else the latest.
            held = requests.get(r.item_id)
            if held is None or r.status != RemediationStatus.CANCELED:
                requests[r.item_id] = r
        superseded: Counter[int] = Counter()
        for item_id in ReviewDecision.objects.filter(
            item_id__in=ids, superseded_at__isnull=False
        ).values_list("item_id", flat=True):
            superseded[item_id] += 1
        user_ids: set[int | None] = set()
        for item in chunk:
            user_ids.update((item.reviewer_id, item.first_reviewer_id))
            d = item.decision
            if d is not None:
                user_ids.update(
                    (d.decided_by_id, d.on_behalf_of_id, d.confirmed_by_id, d.handover_to_user_id)
                )
            item.snapshot = _parse(item.snapshot_json)
            for a in assignments.get(item.pk, ()):
                user_ids.update((a.from_reviewer_id, a.to_reviewer_id, a.by_id))
        users.load(user_ids)
        for item in chunk:
            yield _row(
                campaign,
                item,
                assignments=assignments,
                requests=requests,
                superseded=superseded,
                users=users,
                totals=totals,
                now=now,
            )


def _row(
    campaign: Campaign,
    item: SimpleNamespace,
    *,
    assignments: dict[int, list[SimpleNamespace]],
    requests: dict[int, SimpleNamespace],
    superseded: Counter[int],
    users: _Users,
    totals: EvidenceTotals,
    now: datetime,
) -> list[Any]:
    snap = item.snapshot
    d = item.decision
    r = requests.get(item.pk)
    chain = "; ".join(
        f"{_iso(a.at)} {users(a.from_reviewer_id, 'security queue')} -> "
        f"{users(a.to_reviewer_id, 'security queue')} ({a.reason}"
        + (f", by {users(a.by_id)}" if a.by_id else ", by the system")
        + (f": {a.note}" if a.note else "")
        + ")"
        for a in assignments.get(item.pk, ())
    )
    findings = [
        str(f.get("rule_id", "")) for f in snap.get("findings") or [] if isinstance(f, dict)
    ]
    flags = [k for k, v in (snap.get("flags") or {}).items() if v]
    keys = [
        f"{k.get('id', '')}:{k.get('status', '')}:{k.get('age_days', '')}d"
        for k in snap.get("access_keys") or []
        if isinstance(k, dict)
    ]
    recommendation = snap.get("recommendation") or {}
    handover_to = ""
    if d is not None:
        if d.handover_to_user_id:
            handover_to = users(d.handover_to_user_id)
        elif d.handover_to_team__name:
            handover_to = f"team:{d.handover_to_team__name}"

    # Totals for the PDF, from exactly what goes into the row.
    totals.rows += 1
    totals.by_status[item.status] += 1
    if item.status in DECIDED_STATUSES:
        totals.decided += 1
    if d is not None:
        totals.by_decision[(d.outcome, d.source)] += 1
        if d.exception_until is not None:
            totals.exception_count += 1
            if len(totals.exceptions) < PDF_EXCEPTION_ROWS:
                totals.exceptions.append(
                    {
                        "item": str(item.pk),
                        "name": item.name,
                        "until": d.exception_until.isoformat(),
                        "by": users(d.decided_by_id, "no-response policy"),
                        "why": d.justification,
                    }
                )
    if r is not None:
        totals.remediation[r.status] += 1
        if r.status == RemediationStatus.SUCCEEDED and r.finished_at is not None:
            if r.finished_at <= r.due_at:
                totals.remediation_on_time += 1
            else:
                totals.remediation_late += 1
        if r.status == RemediationStatus.REQUESTED and r.due_at < now:
            totals.remediation_open_overdue += 1
        if r.verified_at is not None:
            totals.remediation_verified[r.verification or "verified"] += 1
    if len(totals.table) < PDF_TABLE_ROWS:
        totals.table.append(
            {
                "item": str(item.pk),
                "name": item.name,
                "account": str(snap.get("account_id") or ""),
                "reviewer": users(d.decided_by_id, "policy") if d else users(item.reviewer_id),
                "decision": f"{d.outcome} ({d.source})" if d else "",
                "status": item.status,
                "remediation": (
                    r.status
                    + (f", verified by run {r.verified_by_run_id}" if r.verified_at else "")
                )
                if r
                else "",
            }
        )

    return [
        campaign.pk,
        campaign.name,
        item.pk,
        item.identity_id,
        snap.get("kind", item.kind),
        snap.get("provider", ""),
        snap.get("account_id", ""),
        snap.get("account_name", ""),
        snap.get("name", item.name),
        snap.get("arn", ""),
        snap.get("native_id", ""),
        snap.get("classification", ""),
        item.snapshot_hash,
        snap.get("snapshot_at", ""),
        _owner_label(snap),
        snap.get("owner_team") or "",
        snap.get("risk_tier", item.tier),
        users(item.first_reviewer_id, "security queue"),
        users(item.reviewer_id, "security queue"),
        item.assigned_reason,
        chain,
        item.status,
        d.outcome if d else "",
        d.source if d else "",
        (users(d.decided_by_id) if d.decided_by_id else "no-response policy") if d else "",
        users(d.on_behalf_of_id) if d else "",
        d.justification if d else "",
        d.exception_until.isoformat() if d and d.exception_until else "",
        d.bulk if d else "",
        users(d.confirmed_by_id) if d else "",
        handover_to,
        d.handover_response if d else "",
        superseded.get(item.pk, 0),
        recommendation.get("action", item.recommendation),
        recommendation.get("reason", item.recommendation_reason),
        snap.get("last_used_at") or "",
        snap.get("last_used_service") or "",
        snap.get("oldest_key_age_days"),
        ";".join(keys),
        ";".join(findings),
        ";".join(flags),
        ";".join(str(p) for p in snap.get("policies") or []),
        _iso(item.assigned_at),
        _iso(item.decided_at),
        d.seconds_to_decide if d and d.seconds_to_decide is not None else "",
        r.id if r else "",
        r.action if r else "",
        r.status if r else "",
        r.dry_run if r else "",
        _iso(r.requested_at) if r else "",
        _iso(r.due_at) if r else "",
        _iso(r.finished_at) if r else "",
        r.note if r else "",
        (
            f"{r.verified_by_run_id} ({r.verified_by_run__account_id or 'source run'}, "
            f"{_iso(r.verified_by_run__finished_at)})"
        )
        if r and r.verified_by_run_id
        else "",
        _iso(r.verified_at) if r else "",
        r.verification if r else "",
    ]


def write_items_csv(campaign: Campaign, out: IO[str], totals: EvidenceTotals, now: datetime) -> int:
    writer = csv.writer(out)
    writer.writerow(ITEM_FIELDS)
    for values in item_rows(campaign, totals, now):
        writer.writerow([_cell(v) for v in values])
    return totals.rows


# --- The PDF --------------------------------------------------------------------------------


def _p(text: Any, style: Any) -> Any:
    """A Paragraph of plain text: escaped, so provider data can never become markup."""
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)), style)


def summary_pdf(campaign: Campaign, totals: EvidenceTotals, *, now: datetime) -> bytes:
    """The sign-off document: scope, reconciliation, counts, no-response, exceptions,
    remediation against its deadline, the named sign-off and the item table."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Title"], styles["Heading2"]
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Access review evidence: campaign {campaign.pk}",
        author="nhigov",
        invariant=1,
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf2")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
        ]
    )

    def table(rows: list[list[Any]], widths: list[float] | None = None) -> Any:
        cells = [[_p(c, small) for c in row] for row in rows]
        t = Table(cells, colWidths=widths, repeatRows=1)
        t.setStyle(grid)
        return t

    def kv(pairs: list[tuple[str, Any]]) -> Any:
        t = Table(
            [[_p(k, small), _p(v, small)] for k, v in pairs],
            colWidths=[70 * mm, 190 * mm],
        )
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    reconciled = (
        campaign.population_count == campaign.inventory_count - campaign.excluded_count
        and totals.rows == campaign.population_count
    )
    story: list[Any] = [
        _p(f"Access review evidence: {campaign.name}", h1),
        _p(
            f"Campaign {campaign.pk} ({campaign.get_kind_display()}), status "
            f"{campaign.get_status_display()}. Exported {_iso(now)} by nhigov.",
            body,
        ),
        Spacer(1, 4 * mm),
        _p("Scope and population", h2),
        kv(
            [
                ("Scope (inventory filter)", json.dumps(campaign.scope, sort_keys=True) or "{}"),
                ("Snapshot taken", _iso(campaign.activated_at) or "not activated"),
                ("Inventory count for the scope at start", campaign.inventory_count),
                ("Excluded (vanished or deprovisioned)", campaign.excluded_count),
                ("Population (items created)", campaign.population_count),
                ("Items in this export (items.csv rows)", totals.rows),
                (
                    "Reconciliation",
                    f"{campaign.inventory_count} - {campaign.excluded_count} = "
                    f"{campaign.inventory_count - campaign.excluded_count}; "
                    + ("reconciled" if reconciled else "DOES NOT RECONCILE"),
                ),
                ("Snapshot SHA-256", campaign.snapshot_hash or "-"),
                ("Deadline", _iso(campaign.due_at) or "-"),
            ]
        ),
        _p("Decisions", h2),
        kv(
            [
                ("Items", totals.rows),
                ("Decided", totals.decided),
                ("Complete", f"{totals.percent}%"),
            ]
        ),
        Spacer(1, 2 * mm),
        table(
            [["Status", "Items"]]
            + [[s.label, totals.by_status.get(s.value, 0)] for s in ItemStatus]
        ),
        Spacer(1, 2 * mm),
        table(
            [["Decision", "By a person", "By the no-response policy", "Total"]]
            + [
                [
                    o.label,
                    totals.by_decision.get((o.value, DecisionSource.HUMAN), 0),
                    totals.by_decision.get((o.value, DecisionSource.AUTO), 0),
                    totals.by_decision.get((o.value, DecisionSource.HUMAN), 0)
                    + totals.by_decision.get((o.value, DecisionSource.AUTO), 0),
                ]
                for o in Outcome
            ]
        ),
        _p("No-response items", h2),
    ]
    summary = campaign.no_response_summary or {}
    auto = sum(n for (_, source), n in totals.by_decision.items() if source == "auto")
    story.append(
        kv(
            [
                ("Policy", campaign.get_no_response_policy_display()),
                ("Applied at", _iso(campaign.closing_at) or "not yet (campaign still open)"),
                ("Undecided when applied", summary.get("undecided", 0)),
                (
                    "Left as they were (expired, no attestation)",
                    totals.by_status.get(ItemStatus.EXPIRED, 0),
                ),
                ("Decided by the policy (items.csv decision_source=auto)", auto),
                (
                    "Used in the last 30 days and deprovisioned by the policy",
                    summary.get("cutoff_warning", 0),
                ),
            ]
        )
    )
    story.append(_p(f"Exceptions (keeps with an end date): {totals.exception_count}", h2))
    if totals.exceptions:
        story.append(
            table(
                [["Item", "Identity", "Until", "Decided by", "Justification"]]
                + [
                    [e["item"], e["name"], e["until"], e["by"], e["why"]] for e in totals.exceptions
                ],
                [15 * mm, 60 * mm, 22 * mm, 50 * mm, 125 * mm],
            )
        )
        if totals.exception_count > len(totals.exceptions):
            story.append(_p("More exceptions: see items.csv (exception_until).", body))
    requested = sum(totals.remediation.values())
    verified = sum(totals.remediation_verified.values())
    story += [
        _p("Remediation", h2),
        kv(
            [
                ("Deprovision requests", requested),
                ("Done", totals.remediation.get(RemediationStatus.SUCCEEDED, 0)),
                ("  of which by their deadline", totals.remediation_on_time),
                ("  of which after their deadline", totals.remediation_late),
                ("Open", totals.remediation.get(RemediationStatus.REQUESTED, 0)),
                ("  of which past their deadline", totals.remediation_open_overdue),
                ("Failed", totals.remediation.get(RemediationStatus.FAILED, 0)),
                ("Canceled (decision changed)", totals.remediation.get("canceled", 0)),
                (
                    "Verified by a later discovery run",
                    f"{verified} ("
                    + ", ".join(f"{k}: {v}" for k, v in sorted(totals.remediation_verified.items()))
                    + ")"
                    if verified
                    else "0",
                ),
            ]
        ),
        _p("Sign-off", h2),
    ]
    if campaign.status == CampaignStatus.CLOSED:
        story.append(
            kv(
                [
                    ("Signed off by", campaign.signed_off_name),
                    ("Role", campaign.signed_off_role),
                    ("At", _iso(campaign.closed_at)),
                    ("Statement", campaign.sign_off_comment or "-"),
                    ("Sealed summary SHA-256", campaign.close_summary_hash),
                    (
                        "Audit chain head at sign-off",
                        f"#{campaign.audit_head_seq} {campaign.audit_head_hash}",
                    ),
                ]
            )
        )
    else:
        story.append(
            _p(f"NOT SIGNED OFF: the campaign is {campaign.get_status_display().lower()}.", body)
        )
    story += [
        PageBreak(),
        _p("Items", h2),
    ]
    header = ["Item", "Identity", "Account", "Decided by", "Decision", "Status", "Remediation"]
    widths = [15 * mm, 75 * mm, 28 * mm, 50 * mm, 32 * mm, 28 * mm, 45 * mm]
    keys = ("item", "name", "account", "reviewer", "decision", "status", "remediation")
    rows = [[row[k] for k in keys] for row in totals.table]
    # Tables of 50 rows: reportlab splits a long table across pages in quadratic time.
    for start in range(0, len(rows), 50):
        story.append(table([header, *rows[start : start + 50]], widths))
    if totals.rows > len(rows):
        story.append(
            _p(
                f"The first {len(rows)} of {totals.rows} items are shown; the full table "
                f"(every item, every column) is in items.csv.",
                body,
            )
        )
    doc.build(story)
    return buffer.getvalue()


# --- The bundle -----------------------------------------------------------------------------


def campaign_evidence_bundle(directory: Path, campaign: Campaign) -> dict[str, Any]:
    """Write items.csv, summary.pdf and manifest.json into ``directory``; return the manifest."""
    now = timezone.now()
    totals = EvidenceTotals()
    bundle = EvidenceBundle(
        directory=directory,
        subject={
            "kind": "review_campaign",
            "campaign_id": campaign.pk,
            "campaign_name": campaign.name,
            "status": campaign.status,
            "scope": campaign.scope,
            "snapshot_hash": campaign.snapshot_hash,
            "close_summary_hash": campaign.close_summary_hash,
            "population_count": campaign.population_count,
            "signed_off_name": campaign.signed_off_name,
            "signed_off_role": campaign.signed_off_role,
            "closed_at": _iso(campaign.closed_at),
            "exported_at": now.isoformat(),
        },
    )
    bundle.add_text(ITEMS_CSV, lambda handle: write_items_csv(campaign, handle, totals, now))
    bundle.add_bytes(SUMMARY_PDF, summary_pdf(campaign, totals, now=now))
    bundle.subject.update(
        items=totals.rows,
        decided=totals.decided,
        percent_complete=totals.percent,
        by_status=dict(sorted(totals.by_status.items())),
        by_decision={f"{o}/{s}": n for (o, s), n in sorted(totals.by_decision.items())},
        exceptions=totals.exception_count,
        remediation=dict(sorted(totals.remediation.items())),
        remediation_verified=dict(sorted(totals.remediation_verified.items())),
    )
    return bundle.finish()
