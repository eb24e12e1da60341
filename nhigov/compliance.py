"""The compliance view: each control an auditor asks about, the evidence nhigov holds for it, and
its live status.

:data:`CONTROLS` is the catalogue (PCI DSS 4.0.1, ISO/IEC 27001:2022 Annex A, SOC 2, NIST CSF 2.0,
NIST SP 800-53), one entry per control: the requirement in one line, what nhigov evidence covers
it, and a function from :class:`Facts` to an :class:`Assessment` (status, one sentence with the
figures and dates, links to the evidence, and whether the configuration is weaker than the
requirement).

:func:`gather_facts` reads everything every control needs in a constant number of aggregate
queries (no query per row, per control or per campaign). The two passes over the big tables (one
over identities, one over findings) are kept :data:`CACHE_SECONDS` like the dashboard's counts;
everything else is read live.

Figures assumed where a framework leaves the number to the organization (each is named in the
explanation shown when a configuration is flagged):

* review cadence: at most every 6 months (183 days) for every risk tier (PCI DSS 7.2.4; also taken
  as the ceiling of 7.2.5.1's targeted risk analysis, ISO A.5.18, NIST AC-2(j), CSF PR.AA-05);
* inactivity: 90 days (PCI DSS 8.2.6, taken for NIST AC-2(3) as well);
* key and secret rotation: 90 days (the usual targeted-risk-analysis figure for PCI DSS 8.6.3 and
  CIS AWS 1.13).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from inventory.choices import Classification, FindingStatus, LifecycleState
from inventory.counts import GONE_STATES, MACHINE_CLASSES, inventory_url
from inventory.models import (
    Account,
    Finding,
    Identity,
    InventorySnapshot,
    LeakReport,
    RiskPass,
    RiskSettings,
    RiskSettingsChange,
)
from inventory.risk.rules import DEFAULT_THRESHOLDS, RULES
from nhigov.audit import chain_head
from nhigov.models import AuditVerification
from reviews.choices import CampaignKind, CampaignStatus, DecisionSource, RemediationStatus
from reviews.models import Campaign, RemediationRequest, ReviewItem

CACHE_KEY: Final = "compliance:counts"
CACHE_SECONDS: Final = 60

REVIEW_MAX_DAYS: Final = 183  # 6 months (PCI DSS 7.2.4)
INACTIVE_MAX_DAYS: Final = 90  # PCI DSS 8.2.6
ROTATION_MAX_DAYS: Final = 90  # PCI DSS 8.6.3 (targeted risk analysis; CIS AWS 1.13)
RISK_PASS_MAX_AGE: Final = timedelta(days=2)
DISCOVERY_MAX_AGE: Final = timedelta(days=2)
RECENT_CLOSED: Final = 50

MET: Final = "met"
ATTENTION: Final = "attention"
NOT_MET: Final = "not_met"
NO_EVIDENCE: Final = "no_evidence"
STATUS_LABELS: Final[dict[str, str]] = {
    MET: "Met",
    ATTENTION: "Needs attention",
    NOT_MET: "Not met",
    NO_EVIDENCE: "No evidence yet",
}
_RANK: Final[dict[str, int]] = {MET: 0, ATTENTION: 1, NOT_MET: 2, NO_EVIDENCE: 3}

# The lifecycle states in which an identity can still be used (it has not been disabled, is not
# being deprovisioned and is still at the provider).
ENABLED_STATES: Final = (LifecycleState.DISCOVERED, LifecycleState.ACTIVE, LifecycleState.EXCEPTED)

FRAMEWORKS: Final[dict[str, str]] = {
    "pci": "PCI DSS 4.0.1",
    "iso": "ISO/IEC 27001:2022 Annex A",
    "soc2": "SOC 2 (Trust Services Criteria)",
    "csf": "NIST CSF 2.0",
    "sp80053": "NIST SP 800-53 Rev. 5",
}

PRIVILEGE_RULES: Final = ("PRIV-001", "PRIV-002", "PRIV-003", "PRIV-004")
TRUST_RULES: Final = ("ROLE-002", "ROLE-003", "ROLE-004", "ROLE-005")
ROTATION_RULES: Final = ("AK-002", "SEC-001")
CREDENTIAL_RULES: Final = ("AK-001", "AK-002", "AK-003", "AK-004", "SEC-001", "LEAK-001", "USR-001")
UNUSED_RULES: Final = ("AK-001", "ROLE-001")


# --------------------------------------------------------------------------------------------
# Facts: everything the controls read, in a constant number of queries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFacts:
    """The latest closed full review (scheduled, or by hand over the machine identities)."""

    pk: int
    name: str
    activated_at: datetime | None
    closed_at: datetime | None
    signed_off_name: str
    signed_off_role: str
    population: int
    reconciled: bool
    tiers: frozenset[str]
    items: int = 0
    decided: int = 0
    by_people: int = 0
    by_policy: int = 0
    remediation_open: int = 0
    remediation_overdue: int = 0

    @property
    def people_percent(self) -> int:
        decided = self.by_people + self.by_policy
        return round(100 * self.by_people / decided) if decided else 0


@dataclass
class Facts:
    now: datetime
    counted_at: datetime
    identities: dict[str, Any]
    open_findings: dict[str, int]
    suppressed: dict[str, int]
    suppressed_expired: dict[str, int]
    suppressed_forever: dict[str, int]
    thresholds: dict[str, int]
    stale_days: int
    cadence: dict[str, int]
    no_response_policy: str
    event_triggers: bool
    last_review: ReviewFacts | None
    tier_last_closed: dict[str, datetime | None]
    open_campaigns: int
    overdue_campaigns: int
    remediation_overdue: int
    remediation_open: int
    remediation_failed: int
    risk_pass: dict[str, Any] | None
    leak_reports: int
    last_leak_report: datetime | None
    verification: AuditVerification | None
    head_seq: int | None
    snapshot_date: Any
    accounts: dict[str, Any]
    settings_changed_at: datetime | None

    def open(self, *rules: str) -> int:
        return sum(self.open_findings.get(r, 0) for r in rules)

    def suppressed_of(self, *rules: str) -> int:
        return sum(self.suppressed.get(r, 0) for r in rules)

    def expired_of(self, *rules: str) -> int:
        return sum(self.suppressed_expired.get(r, 0) for r in rules)

    def forever_of(self, *rules: str) -> int:
        return sum(self.suppressed_forever.get(r, 0) for r in rules)

    @property
    def inventoried(self) -> bool:
        return bool(self.accounts.get("complete"))

    @property
    def evaluated(self) -> bool:
        return self.risk_pass is not None and self.risk_pass.get("finished_at") is not None


def _identity_counts() -> dict[str, Any]:
    """One pass over the identities: every count the controls use (cached with the findings)."""
    present = ~Q(lifecycle_state__in=GONE_STATES)
    machine = Q(classification__in=MACHINE_CLASSES) & present
    stale = Q(is_stale=True) & present
    enabled = Q(lifecycle_state__in=ENABLED_STATES)
    unowned = Q(owner__isnull=True, owner_team__isnull=True)
    row = Identity.objects.order_by().aggregate(
        present=Count("pk", filter=present),
        machine=Count("pk", filter=machine),
        used_by_person=Count(
            "pk", filter=present & Q(classification=Classification.MACHINE_USED_BY_PERSON)
        ),
        stale=Count("pk", filter=stale),
        stale_enabled=Count("pk", filter=stale & enabled),
        stale_pending=Count(
            "pk", filter=stale & Q(lifecycle_state=LifecycleState.PENDING_DEPROVISION)
        ),
        stale_disabled=Count("pk", filter=stale & Q(lifecycle_state=LifecycleState.DISABLED)),
        oldest_stale=Min("stale_since", filter=stale & enabled),
        orphaned=Count("pk", filter=Q(is_orphaned=True) & present),
        orphaned_enabled=Count("pk", filter=Q(is_orphaned=True) & present & enabled),
        oldest_orphan=Min("orphaned_since", filter=Q(is_orphaned=True) & present & enabled),
        unowned_machine=Count("pk", filter=machine & unowned),
        owner_unmatched=Count("pk", filter=Q(owner_unmatched=True) & present),
        privileged=Count("pk", filter=Q(is_privileged=True) & present),
        privileged_unowned=Count("pk", filter=Q(is_privileged=True) & present & unowned),
        pending_deprovision=Count(
            "pk", filter=Q(lifecycle_state=LifecycleState.PENDING_DEPROVISION)
        ),
        excepted=Count("pk", filter=Q(lifecycle_state=LifecycleState.EXCEPTED)),
        **{
            f"tier_{tier}": Count("pk", filter=machine & Q(risk_tier=tier))
            for tier in settings.NHIGOV_REVIEW_CADENCE_DAYS
        },
    )
    return {
        k: (v or 0) if k not in ("oldest_stale", "oldest_orphan") else v for k, v in row.items()
    }


def _finding_counts(now: datetime) -> dict[str, dict[str, int]]:
    """Open and suppressed findings per rule, in one grouped query (resolved ones skipped)."""
    suppressed = Q(status=FindingStatus.SUPPRESSED)
    rows = (
        Finding.objects.order_by()
        .filter(status__in=(FindingStatus.OPEN, FindingStatus.SUPPRESSED))
        .values("rule_id")
        .annotate(
            open=Count("pk", filter=Q(status=FindingStatus.OPEN)),
            suppressed=Count("pk", filter=suppressed),
            expired=Count("pk", filter=suppressed & Q(suppressed_until__lt=now)),
            forever=Count("pk", filter=suppressed & Q(suppressed_until__isnull=True)),
        )
    )
    out: dict[str, dict[str, int]] = {"open": {}, "suppressed": {}, "expired": {}, "forever": {}}
    for row in rows:
        for key, per_rule in out.items():
            if row[key]:
                per_rule[row["rule_id"]] = int(row[key])
    return out


def _counts(now: datetime, *, fresh: bool) -> dict[str, Any]:
    cached = None if fresh else cache.get(CACHE_KEY)
    if cached is None:
        cached = {"identities": _identity_counts(), "findings": _finding_counts(now), "at": now}
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return dict(cached)


def _campaign_tiers(scope: Any) -> frozenset[str] | None:
    """The risk tiers a campaign's scope covers whole, or None when it is narrower than that.

    A full review scopes on nothing but the machine classifications (and the risk tier, for a
    series reviewing some tiers more often); a team's or an account's campaign does not count.
    """
    if not isinstance(scope, dict):
        return None
    allowed = {"classification", "risk_tier", "present"}
    if set(scope) - allowed:
        return None
    classes = scope.get("classification")
    if classes:
        given = {str(c) for c in (classes if isinstance(classes, list) else [classes])}
        if not {str(c) for c in MACHINE_CLASSES} <= given:
            return None
    tiers = scope.get("risk_tier")
    all_tiers = frozenset(settings.NHIGOV_REVIEW_CADENCE_DAYS)
    if not tiers:
        return all_tiers
    return frozenset(str(t) for t in (tiers if isinstance(tiers, list) else [tiers])) & all_tiers


def _decision_figures(campaign_id: int, sealed: Any) -> dict[str, int]:
    """Items, decided, by people, by the policy: from the summary sealed at sign-off (what the
    signer attested, and no pass over a campaign's 100k items), else counted."""
    if isinstance(sealed, dict) and isinstance(sealed.get("by_decision"), dict):
        by_source: dict[str, int] = {}
        for per_source in sealed["by_decision"].values():
            for source, n in (per_source or {}).items():
                by_source[source] = by_source.get(source, 0) + int(n or 0)
        return {
            "items": int(sealed.get("items") or 0),
            "decided": int(sealed.get("decided") or 0),
            "by_people": by_source.get(DecisionSource.HUMAN, 0),
            "by_policy": by_source.get(DecisionSource.AUTO, 0),
        }
    row = ReviewItem.objects.filter(campaign_id=campaign_id).aggregate(
        items=Count("pk"),
        decided=Count("pk", filter=Q(decision__isnull=False)),
        by_people=Count("pk", filter=Q(decision__source=DecisionSource.HUMAN)),
        by_policy=Count("pk", filter=Q(decision__source=DecisionSource.AUTO)),
    )
    return {k: int(v or 0) for k, v in row.items()}


def _reviews(now: datetime) -> tuple[ReviewFacts | None, dict[str, datetime | None]]:
    """The latest closed full review with its decision figures, and each tier's last close."""
    closed = list(
        Campaign.objects.filter(status=CampaignStatus.CLOSED)
        .exclude(kind=CampaignKind.EVENT)
        .order_by("-closed_at", "-id")
        .values(
            "pk",
            "name",
            "scope",
            "activated_at",
            "closed_at",
            "signed_off_name",
            "signed_off_role",
            "population_count",
            "inventory_count",
            "excluded_count",
            "close_summary",
        )[:RECENT_CLOSED]
    )
    tier_last: dict[str, datetime | None] = dict.fromkeys(settings.NHIGOV_REVIEW_CADENCE_DAYS)
    latest: Any = None
    latest_tiers: frozenset[str] = frozenset()
    for row in closed:
        tiers = _campaign_tiers(row["scope"])
        if not tiers:
            continue
        if latest is None:
            latest, latest_tiers = row, tiers
        for tier in tiers:
            if tier_last.get(tier) is None:
                tier_last[tier] = row["activated_at"]
    if latest is None:
        return None, tier_last
    items = _decision_figures(latest["pk"], latest["close_summary"])
    remediation = RemediationRequest.objects.filter(item__campaign_id=latest["pk"]).aggregate(
        open=Count("pk", filter=Q(status=RemediationStatus.REQUESTED)),
        overdue=Count("pk", filter=Q(status=RemediationStatus.REQUESTED, due_at__lt=now)),
    )
    review = ReviewFacts(
        pk=latest["pk"],
        name=latest["name"],
        activated_at=latest["activated_at"],
        closed_at=latest["closed_at"],
        signed_off_name=latest["signed_off_name"],
        signed_off_role=latest["signed_off_role"],
        population=latest["population_count"],
        reconciled=latest["population_count"]
        == latest["inventory_count"] - latest["excluded_count"],
        tiers=latest_tiers,
        items=items["items"] or 0,
        decided=items["decided"] or 0,
        by_people=items["by_people"] or 0,
        by_policy=items["by_policy"] or 0,
        remediation_open=remediation["open"] or 0,
        remediation_overdue=remediation["overdue"] or 0,
    )
    return review, tier_last


def gather_facts(*, now: datetime | None = None, fresh: bool = False) -> Facts:
    """Everything the catalogue reads: a fixed number of queries whatever the estate's size."""
    now = now or timezone.now()
    counts = _counts(now, fresh=fresh)
    risk_settings = RiskSettings.objects.filter(pk=1).values_list("thresholds", flat=True).first()
    thresholds = {
        **DEFAULT_THRESHOLDS,
        **{
            k: int(v)
            for k, v in (risk_settings or {}).items()
            if k in DEFAULT_THRESHOLDS and isinstance(v, int | float | str) and str(v).isdigit()
        },
    }
    review, tier_last = _reviews(now)
    campaigns = Campaign.objects.filter(
        status__in=(CampaignStatus.ACTIVE, CampaignStatus.CLOSING)
    ).aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(status=CampaignStatus.ACTIVE, due_at__lt=now)),
    )
    remediation = RemediationRequest.objects.filter(
        status__in=(RemediationStatus.REQUESTED, RemediationStatus.FAILED)
    ).aggregate(
        open=Count("pk", filter=Q(status=RemediationStatus.REQUESTED)),
        overdue=Count("pk", filter=Q(status=RemediationStatus.REQUESTED, due_at__lt=now)),
        failed=Count("pk", filter=Q(status=RemediationStatus.FAILED)),
    )
    last_pass = (
        RiskPass.objects.filter(finished_at__isnull=False)
        .order_by("-finished_at", "-id")
        .values("finished_at", "error", "identities", "full")
        .first()
    )
    risk_pass = dict(last_pass) if last_pass else None
    leaks = LeakReport.objects.aggregate(n=Count("pk"), last=Max("imported_at"))
    accounts = Account.objects.aggregate(
        total=Count("pk"),
        complete=Count("pk", filter=Q(last_complete_at__isnull=False)),
        oldest=Min("last_complete_at"),
        newest=Max("last_complete_at"),
    )
    head_seq, _ = chain_head()
    return Facts(
        now=now,
        counted_at=counts["at"],
        identities=counts["identities"],
        open_findings=counts["findings"]["open"],
        suppressed=counts["findings"]["suppressed"],
        suppressed_expired=counts["findings"]["expired"],
        suppressed_forever=counts["findings"]["forever"],
        thresholds=thresholds,
        stale_days=int(settings.NHIGOV_STALE_DAYS),
        cadence=dict(settings.NHIGOV_REVIEW_CADENCE_DAYS),
        no_response_policy=str(settings.NHIGOV_REVIEW_NO_RESPONSE_POLICY),
        event_triggers=bool(settings.NHIGOV_REVIEW_EVENT_TRIGGERS),
        last_review=review,
        tier_last_closed=tier_last,
        open_campaigns=campaigns["open"] or 0,
        overdue_campaigns=campaigns["overdue"] or 0,
        remediation_overdue=remediation["overdue"] or 0,
        remediation_open=remediation["open"] or 0,
        remediation_failed=remediation["failed"] or 0,
        risk_pass=risk_pass,
        leak_reports=leaks["n"] or 0,
        last_leak_report=leaks["last"],
        verification=AuditVerification.objects.order_by("-at", "-id").first(),
        head_seq=head_seq,
        snapshot_date=InventorySnapshot.objects.order_by("-date")
        .values_list("date", flat=True)
        .first(),
        accounts=accounts,
        settings_changed_at=RiskSettingsChange.objects.order_by("-changed_at")
        .values_list("changed_at", flat=True)
        .first(),
    )


# --------------------------------------------------------------------------------------------
# Assessments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class Assessment:
    status: str
    statement: str
    links: list[Link] = field(default_factory=list)
    weaker: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    requirement: str
    evidence: str
    evaluate: Callable[[Facts], Assessment]
    rules: tuple[str, ...] = ()

    @property
    def framework_label(self) -> str:
        return FRAMEWORKS[self.framework]


def worst(*statuses: str) -> str:
    return max(statuses, key=lambda s: _RANK[s]) if statuses else MET


def _date(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else "never"


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def _sentence(parts: Iterable[str]) -> str:
    text = "; ".join(p for p in parts if p)
    return (text[:1].upper() + text[1:] + ".") if text else ""


def _query(name: str, params: Iterable[tuple[str, str]] = (), **kwargs: Any) -> str:
    url = reverse(name, kwargs=kwargs or None)
    query = urlencode(list(params))
    return f"{url}?{query}" if query else url


def _findings_link(rules: Iterable[str], label: str | None = None, status: str = "open") -> Link:
    rules = list(rules)
    params = [("rule", r) for r in rules] + [("status", status)]
    return Link(
        label or f"{status.capitalize()} findings: {', '.join(rules)}",
        _query("inventory:finding-list", params),
    )


def _audit_link(label: str, **params: str) -> Link:
    return Link(label, _query("audit-log", list(params.items())))


def _campaign_links(review: ReviewFacts | None) -> list[Link]:
    links = [Link("Review campaigns", reverse("reviews:campaign-list"))]
    if review is not None:
        links.insert(
            0,
            Link(f"Campaign: {review.name}", reverse("reviews:campaign-detail", args=[review.pk])),
        )
        try:
            bundle = reverse("reviews:campaign-evidence", args=[review.pk])
        except NoReverseMatch:  # the evidence export is not installed
            pass
        else:
            links.insert(1, Link("Evidence bundle of that campaign (zip)", bundle))
        links.append(
            _audit_link(
                "Audit events of that campaign",
                object_type="reviews.campaign",
                object_id=str(review.pk),
            )
        )
    return links


def _snapshot_link() -> Link:
    return Link(
        "Inventory snapshot (zip, with SHA-256 manifest)", reverse("inventory:inventory-snapshot")
    )


def _suppression_notes(facts: Facts, rules: tuple[str, ...]) -> tuple[list[str], list[str], str]:
    """(statement parts, weaker-than-required notes, status) about suppressed findings."""
    parts: list[str] = []
    weaker: list[str] = []
    status = MET
    suppressed = facts.suppressed_of(*rules)
    if suppressed:
        parts.append(f"{_n(suppressed, 'finding')} suppressed as accepted exceptions")
    expired = facts.expired_of(*rules)
    if expired:
        parts.append(f"{_n(expired, 'suppression')} past its end date and not yet re-opened")
        status = ATTENTION
    forever = facts.forever_of(*rules)
    if forever:
        weaker.append(
            f"{_n(forever, 'suppressed finding')} "
            f"({', '.join(r for r in rules if facts.suppressed_forever.get(r))}) "
            "have no end date: an exception should expire and be decided again."
        )
    return parts, weaker, status


def _no_inventory(weaker: list[str] | None = None) -> Assessment:
    return Assessment(
        NO_EVIDENCE,
        "No complete discovery run yet: nhigov holds no inventory to judge this control by.",
        [Link("Sources", reverse("inventory:source-list"))],
        list(weaker or []),
    )


def _no_risk_pass(weaker: list[str] | None = None) -> Assessment:
    return Assessment(
        NO_EVIDENCE,
        "The risk engine has not evaluated the inventory yet.",
        [Link("Rule catalogue", reverse("inventory:rule-list"))],
        list(weaker or []),
    )


# --- Reviews (PCI 7.2.4, 7.2.5.1, ISO A.5.18, NIST AC-2(j), CSF PR.AA-05) ---------------------


def _cadence_weaker(facts: Facts) -> list[str]:
    notes: list[str] = []
    loose = {t: d for t, d in facts.cadence.items() if d > REVIEW_MAX_DAYS}
    if loose:
        listing = ", ".join(f"{t} every {d} days" for t, d in sorted(loose.items()))
        notes.append(
            f"Review cadence ({listing}; NHIGOV_REVIEW_CADENCE_DAYS) is longer than the "
            f"6 months ({REVIEW_MAX_DAYS} days) required."
        )
    if facts.no_response_policy == "keep":
        notes.append(
            "The default no-response policy is keep (NHIGOV_REVIEW_NO_RESPONSE_POLICY): access "
            "nobody reviewed stays without anyone attesting to it."
        )
    return notes


def _review_status(facts: Facts, *, what: str) -> Assessment:
    review = facts.last_review
    links = _campaign_links(review)
    weaker = _cadence_weaker(facts)
    if review is None:
        if facts.open_campaigns:
            return Assessment(
                ATTENTION,
                _sentence(
                    [
                        f"No review of {what} has closed yet",
                        f"{_n(facts.open_campaigns, 'campaign')} open"
                        + (
                            f", {facts.overdue_campaigns:,} overdue"
                            if facts.overdue_campaigns
                            else ""
                        ),
                    ]
                ),
                links,
                weaker,
            )
        return Assessment(NO_EVIDENCE, f"No review of {what} has been run yet.", links, weaker)
    parts = [
        f"last review of {what} closed on {_date(review.closed_at)}"
        + (
            f", signed off by {review.signed_off_name} ({review.signed_off_role})"
            if review.signed_off_name
            else ""
        ),
        f"{_n(review.items, 'item')}, {review.people_percent}% decided by people",
        f"{_n(review.remediation_overdue, 'remediation')} overdue"
        + (f" ({review.remediation_open:,} open)" if review.remediation_open else ""),
    ]
    status = MET
    # Each tier must have been reviewed within its cadence (plus the time a campaign runs).
    run_days = int(settings.NHIGOV_REVIEW_DUE_DAYS) + int(settings.NHIGOV_REVIEW_GRACE_DAYS)
    late = []
    for tier, days in sorted(facts.cadence.items()):
        if not facts.identities.get(f"tier_{tier}"):
            continue  # no machine identity in this tier: nothing to review
        last = facts.tier_last_closed.get(tier)
        allowed = min(days, REVIEW_MAX_DAYS) + run_days
        if last is None or last < facts.now - timedelta(days=allowed):
            late.append(tier)
    if late:
        status = NOT_MET
        parts.append(
            f"tier{'s' if len(late) > 1 else ''} {', '.join(late)} not reviewed within the "
            "required interval"
        )
    if review.remediation_overdue or facts.overdue_campaigns or not review.reconciled:
        status = worst(status, ATTENTION)
    if not review.reconciled:
        parts.append("its population does not reconcile with the inventory")
    if facts.overdue_campaigns:
        parts.append(f"{_n(facts.overdue_campaigns, 'open campaign')} past the deadline")
    if weaker:
        status = worst(status, ATTENTION)
    return Assessment(status, _sentence(parts), links, weaker)


def _pci_724(facts: Facts) -> Assessment:
    a = _review_status(facts, what="machine identities")
    a.links.append(
        Link(
            "Identities pending deprovision",
            inventory_url([("lifecycle_state", LifecycleState.PENDING_DEPROVISION)]),
        )
    )
    if facts.last_review is not None:
        a.statement = a.statement[:-1] + (
            "; people's own accounts are reviewed through the HR process, outside nhigov."
        )
    return a


def _pci_7251(facts: Facts) -> Assessment:
    a = _review_status(facts, what="system accounts")
    cadence = ", ".join(
        f"{t} {d} days" for t, d in sorted(facts.cadence.items(), key=lambda x: x[1])
    )
    a.statement = (
        a.statement[:-1] + f" (cadence per risk tier: {cadence})." if a.statement else a.statement
    )
    a.links.append(
        Link(
            "Machine identities",
            inventory_url(
                [("present", "true"), *[("classification", str(c)) for c in MACHINE_CLASSES]]
            ),
        )
    )
    return a


def _iso_518(facts: Facts) -> Assessment:
    a = _review_status(facts, what="access rights")
    if facts.remediation_failed:
        a.status = worst(a.status, ATTENTION)
        a.statement = a.statement[:-1] + f"; {_n(facts.remediation_failed, 'removal')} failed."
    a.links.append(_audit_link("Owner changes (audit)", verb="identity.owner_changed"))
    a.links.append(_audit_link("Remediation events (audit)", verb="remediation."))
    return a


def _ac_2j(facts: Facts) -> Assessment:
    a = _review_status(facts, what="accounts")
    a.links.append(_audit_link("Review decisions (audit)", verb="review."))
    return a


def _privilege_clause(facts: Facts) -> str:
    priv = facts.open(*PRIVILEGE_RULES)
    detail = ", ".join(f"{r} {facts.open(r):,}" for r in PRIVILEGE_RULES if facts.open(r))
    return f"{_n(priv, 'open privilege finding')}" + (f" ({detail})" if detail else "")


def _csf_aa05(facts: Facts) -> Assessment:
    a = _review_status(facts, what="permissions")
    if not facts.evaluated:
        return a
    priv = facts.open(*PRIVILEGE_RULES)
    extra = _privilege_clause(facts)
    if a.statement:
        a.statement = a.statement[:-1] + f"; {extra}."
    if priv and a.status == MET:
        a.status = ATTENTION
    a.links.append(_findings_link(PRIVILEGE_RULES, "Open privilege findings"))
    return a


# --- Inactivity (PCI 8.2.6, NIST AC-2(3)) ---------------------------------------------------


def _inactivity(facts: Facts) -> Assessment:
    ident = facts.identities
    weaker: list[str] = []
    loose = (
        [f"stale after {facts.stale_days} days (NHIGOV_STALE_DAYS)"]
        if facts.stale_days > INACTIVE_MAX_DAYS
        else []
    )
    for name, label in (("role_unused_days", "ROLE-001"), ("key_unused_days", "AK-001")):
        if facts.thresholds[name] > INACTIVE_MAX_DAYS:
            loose.append(f"{label} after {facts.thresholds[name]} days ({name})")
    if loose:
        weaker.append(
            f"Inactivity thresholds ({'; '.join(loose)}) are longer than the {INACTIVE_MAX_DAYS} "
            "days required."
        )
    if not facts.inventoried:
        return _no_inventory(weaker)
    parts = [
        f"{_n(ident['stale'], 'machine identity', 'machine identities')} inactive for more than "
        f"{facts.stale_days} days",
        f"{ident['stale_enabled']:,} still enabled"
        + (
            f" (the longest stale since {_date(ident['oldest_stale'])})"
            if ident["stale_enabled"] and ident["oldest_stale"]
            else ""
        ),
        f"{ident['stale_pending']:,} pending deprovision, {ident['stale_disabled']:,} disabled",
        f"{_n(facts.open(*UNUSED_RULES), 'open finding')} for unused keys and roles",
    ]
    if not facts.event_triggers:
        weaker.append(
            "Event-triggered reviews are off (NHIGOV_REVIEW_EVENT_TRIGGERS): an identity turning "
            "stale waits for the next scheduled review."
        )
    status = NOT_MET if ident["stale_enabled"] else MET
    sup_parts, sup_weaker, sup_status = _suppression_notes(facts, UNUSED_RULES)
    parts += sup_parts
    weaker += sup_weaker
    status = worst(status, sup_status, ATTENTION if weaker else MET)
    links = [
        Link(
            "Stale and still enabled",
            inventory_url(
                [("stale", "true"), *[("lifecycle_state", str(s)) for s in ENABLED_STATES]]
            ),
        ),
        Link("All stale identities", inventory_url([("present", "true"), ("stale", "true")])),
        _findings_link(UNUSED_RULES),
        Link("Risk settings (thresholds)", reverse("inventory:risk-settings")),
        _audit_link("Lifecycle changes (audit)", verb="identity.lifecycle_changed"),
    ]
    return Assessment(status, _sentence(parts), links, weaker)


# --- Credentials (PCI 8.6.1-8.6.3, ISO A.5.17) ------------------------------------------------


def _rotation_weaker(facts: Facts) -> list[str]:
    loose = [
        f"{label} {facts.thresholds[name]} days ({name})"
        for name, label in (
            ("key_max_age_days", "access keys"),
            ("secret_rotation_days", "secrets"),
        )
        if facts.thresholds[name] > ROTATION_MAX_DAYS
    ]
    if not loose:
        return []
    return [
        f"Rotation thresholds ({'; '.join(loose)}) are longer than the {ROTATION_MAX_DAYS} days "
        "assumed by nhigov's targeted risk analysis."
    ]


def _pci_861(facts: Facts) -> Assessment:
    if not facts.evaluated:
        return _no_risk_pass()
    rules = ("USR-001",)
    interactive = facts.open(*rules)
    parts = [
        f"{_n(interactive, 'machine user')} with a console password and no approved exception",
        f"{_n(facts.identities['used_by_person'], 'machine identity', 'machine identities')} "
        "classified as used by a person",
    ]
    sup_parts, weaker, sup_status = _suppression_notes(facts, rules)
    parts += [p.replace("as accepted exceptions", "as approved interactive use") for p in sup_parts]
    status = worst(NOT_MET if interactive else MET, sup_status, ATTENTION if weaker else MET)
    links = [
        _findings_link(rules),
        _findings_link(rules, "Approved exceptions (suppressed)", status="suppressed"),
        Link(
            "Machine identities used by a person",
            inventory_url(
                [("present", "true"), ("classification", Classification.MACHINE_USED_BY_PERSON)]
            ),
        ),
        _audit_link("Suppressions (audit)", verb="finding.suppressed"),
    ]
    return Assessment(status, _sentence(parts), links, weaker)


def _pci_862(facts: Facts) -> Assessment:
    links = [
        _findings_link(("LEAK-001",)),
        Link("Leak reports", reverse("inventory:leak-list")),
        _audit_link("Leak imports (audit)", verb="leaks.imported"),
    ]
    if not facts.leak_reports:
        return Assessment(
            NO_EVIDENCE,
            "No secret-scanner report (gitleaks or trufflehog) has been imported: nhigov cannot "
            "tell whether keys are hard-coded in code.",
            links,
        )
    leaked = facts.open("LEAK-001")
    parts = [
        f"{_n(facts.leak_reports, 'scanner report')} imported, the last on "
        f"{_date(facts.last_leak_report)}",
        f"{_n(leaked, 'access key')} found in code and still open",
    ]
    sup_parts, weaker, sup_status = _suppression_notes(facts, ("LEAK-001",))
    parts += sup_parts
    status = worst(NOT_MET if leaked else MET, sup_status, ATTENTION if weaker else MET)
    return Assessment(status, _sentence(parts), links, weaker)


def _pci_863(facts: Facts) -> Assessment:
    weaker = _rotation_weaker(facts)
    if not facts.evaluated:
        return _no_risk_pass(weaker)
    old = facts.open("AK-002")
    secrets = facts.open("SEC-001")
    leaked = facts.open("LEAK-001")
    parts = [
        f"{_n(old, 'access key')} older than {facts.thresholds['key_max_age_days']} days",
        f"{_n(secrets, 'secret')} not rotated within {facts.thresholds['secret_rotation_days']} "
        "days",
        f"{_n(leaked, 'key')} suspected compromised (found in code) and not yet rotated",
    ]
    sup_parts, sup_weaker, sup_status = _suppression_notes(facts, (*ROTATION_RULES, "LEAK-001"))
    parts += sup_parts
    weaker += sup_weaker
    status = worst(
        NOT_MET if leaked else MET,
        ATTENTION if old or secrets or weaker else MET,
        sup_status,
    )
    links = [
        _findings_link(ROTATION_RULES),
        _findings_link(("LEAK-001",), "Keys found in code"),
        Link(
            "Access keys older than 90 days",
            inventory_url([("present", "true"), ("key_older_than", str(ROTATION_MAX_DAYS))]),
        ),
        Link("Risk settings (thresholds)", reverse("inventory:risk-settings")),
    ]
    return Assessment(status, _sentence(parts), links, weaker)


def _iso_517(facts: Facts) -> Assessment:
    weaker = _rotation_weaker(facts)
    if not facts.evaluated:
        return _no_risk_pass(weaker)
    counts = {r: facts.open(r) for r in CREDENTIAL_RULES}
    parts = [
        f"{_n(sum(counts.values()), 'open credential finding')}: "
        + ", ".join(f"{r} {n:,}" for r, n in counts.items() if n)
        if any(counts.values())
        else "no open credential finding",
        f"root access keys: {counts['AK-004']:,}",
    ]
    sup_parts, sup_weaker, sup_status = _suppression_notes(facts, CREDENTIAL_RULES)
    parts += sup_parts
    weaker += sup_weaker
    status = worst(
        NOT_MET if counts["AK-004"] or counts["LEAK-001"] else MET,
        ATTENTION if any(counts.values()) or weaker else MET,
        sup_status,
    )
    links = [_findings_link(CREDENTIAL_RULES, "Open credential findings"), _snapshot_link()]
    return Assessment(status, _sentence(parts), links, weaker)


# --- Identity lifecycle and ownership (ISO A.5.16, SOC 2 CC6.2, CSF PR.AA-01) -----------------


def _ownership_parts(facts: Facts) -> list[str]:
    ident = facts.identities
    return [
        f"{_n(ident['orphaned'], 'identity', 'identities')} orphaned"
        + (
            f", {ident['orphaned_enabled']:,} still enabled"
            + (
                f" (the longest orphaned since {_date(ident['oldest_orphan'])})"
                if ident["oldest_orphan"]
                else ""
            )
            if ident["orphaned_enabled"]
            else ""
        ),
        f"{_n(ident['unowned_machine'], 'machine identity', 'machine identities')} without an "
        "owner",
        f"{ident['owner_unmatched']:,} with an owner tag matching nobody",
    ]


def _ownership_links() -> list[Link]:
    return [
        Link("Orphaned", inventory_url([("present", "true"), ("orphaned", "true")])),
        Link(
            "Machine identities without an owner",
            inventory_url(
                [
                    ("present", "true"),
                    *[("classification", str(c)) for c in MACHINE_CLASSES],
                    ("no_owner", "true"),
                ]
            ),
        ),
        _findings_link(("OWN-001",)),
        _audit_link("Owner changes (audit)", verb="identity.owner_changed"),
    ]


def _iso_516(facts: Facts) -> Assessment:
    if not facts.inventoried:
        return _no_inventory()
    ident = facts.identities
    parts = [
        f"{_n(ident['present'], 'identity', 'identities')} inventoried across "
        f"{_n(facts.accounts['complete'], 'account')}, last discovered "
        f"{_date(facts.accounts['newest'])}",
        *_ownership_parts(facts),
        f"{ident['pending_deprovision']:,} pending deprovision",
    ]
    status = ATTENTION if ident["orphaned_enabled"] or ident["unowned_machine"] else MET
    if facts.remediation_overdue:
        parts.append(f"{_n(facts.remediation_overdue, 'deprovision request')} overdue")
        status = worst(status, ATTENTION)
    links = [
        Link("Dashboard", reverse("inventory:dashboard")),
        *_ownership_links(),
        _snapshot_link(),
    ]
    return Assessment(status, _sentence(parts), links)


def _cc62(facts: Facts) -> Assessment:
    if not facts.inventoried:
        return _no_inventory()
    ident = facts.identities
    parts = [
        *_ownership_parts(facts),
        f"{_n(facts.remediation_open, 'deprovision request')} open, {facts.remediation_overdue:,} "
        f"overdue, {facts.remediation_failed:,} failed",
    ]
    status = worst(
        NOT_MET if ident["orphaned_enabled"] and facts.remediation_overdue else MET,
        ATTENTION
        if ident["orphaned_enabled"]
        or ident["unowned_machine"]
        or facts.remediation_overdue
        or facts.remediation_failed
        else MET,
    )
    links = [
        *_ownership_links(),
        Link(
            "Identities pending deprovision",
            inventory_url([("lifecycle_state", LifecycleState.PENDING_DEPROVISION)]),
        ),
        _audit_link("Remediation events (audit)", verb="remediation."),
    ]
    return Assessment(status, _sentence(parts), links)


def _csf_aa01(facts: Facts) -> Assessment:
    if not facts.inventoried:
        return _no_inventory()
    ident = facts.identities
    owned = ident["machine"] - ident["unowned_machine"]
    pct = round(100 * owned / ident["machine"]) if ident["machine"] else 100
    parts = [
        f"{_n(ident['machine'], 'machine identity', 'machine identities')} inventoried, {pct}% "
        "with an owner",
        f"{_n(facts.open(*ROTATION_RULES), 'credential')} past rotation",
        f"{_n(ident['orphaned_enabled'], 'orphaned identity', 'orphaned identities')} still "
        "enabled",
    ]
    weaker = _rotation_weaker(facts)
    status = (
        ATTENTION
        if pct < 100 or ident["orphaned_enabled"] or facts.open(*ROTATION_RULES) or weaker
        else MET
    )
    links = [
        Link("Dashboard", reverse("inventory:dashboard")),
        *_ownership_links()[:2],
        _findings_link(ROTATION_RULES),
        _snapshot_link(),
    ]
    return Assessment(status, _sentence(parts), links, weaker)


# --- Access rules, logical access, least privilege (ISO A.5.15, SOC 2 CC6.1, CC6.3) ----------


def _iso_515(facts: Facts) -> Assessment:
    if not facts.evaluated:
        return _no_risk_pass()
    assert facts.risk_pass is not None
    last = facts.risk_pass
    parts = [
        f"{len(RULES)} access rules for non-human identities in force, "
        + (
            f"thresholds last changed {_date(facts.settings_changed_at)}"
            if facts.settings_changed_at
            else "thresholds at their defaults"
        ),
        f"last risk evaluation {_date(last['finished_at'])} "
        f"({_n(last['identities'], 'identity', 'identities')})",
        f"{_n(sum(facts.open_findings.values()), 'open finding')}",
    ]
    status = MET
    if last["error"]:
        parts.append("that evaluation failed")
        status = NOT_MET
    elif last["finished_at"] < facts.now - RISK_PASS_MAX_AGE:
        parts.append("older than two days")
        status = ATTENTION
    links = [
        Link("Rule catalogue (OWASP NHI and CIS mapping)", reverse("inventory:rule-list")),
        Link("Risk settings and their history", reverse("inventory:risk-settings")),
        _audit_link("Settings changes (audit)", verb="settings.risk_changed"),
    ]
    return Assessment(status, _sentence(parts), links)


def _cc61(facts: Facts) -> Assessment:
    if not facts.inventoried:
        return _no_inventory()
    accounts = facts.accounts
    trust = facts.open(*TRUST_RULES)
    parts = [
        f"{accounts['complete']:,} of {_n(accounts['total'], 'account')} fully discovered, the "
        f"oldest on {_date(accounts['oldest'])}",
        f"{_n(trust, 'open trust-policy finding')} ({', '.join(TRUST_RULES)})",
    ]
    status = MET
    if accounts["complete"] < accounts["total"] or (
        accounts["oldest"] and accounts["oldest"] < facts.now - DISCOVERY_MAX_AGE
    ):
        status = ATTENTION
    if trust:
        status = worst(status, ATTENTION)
    wide_open = facts.open("ROLE-002", "AK-004")
    if wide_open:
        status = NOT_MET
        parts.append(f"{wide_open:,} open ROLE-002 (trusts everyone) or AK-004 (root key) findings")
    verification = facts.verification
    if verification is None:
        parts.append("audit trail never verified")
        status = worst(status, ATTENTION)
    elif not verification.ok:
        parts.append(f"audit trail BROKEN at the last check ({_date(verification.at)})")
        status = NOT_MET
    else:
        parts.append(
            f"audit trail verified intact on {_date(verification.at)} ({verification.checked:,} "
            "events)"
        )
    links = [
        Link("Discovery runs", reverse("inventory:run-list")),
        _findings_link(TRUST_RULES, "Open trust-policy findings"),
        Link("Audit trail and chain status", reverse("audit-log")),
    ]
    return Assessment(status, _sentence(parts), links)


def _cc63(facts: Facts) -> Assessment:
    if not facts.evaluated:
        return _no_risk_pass()
    review = _review_status(facts, what="access")
    ident = facts.identities
    priv = facts.open(*PRIVILEGE_RULES)
    parts = [
        f"{_n(ident['privileged'], 'privileged identity', 'privileged identities')}, "
        f"{ident['privileged_unowned']:,} with no owner",
        _privilege_clause(facts),
    ]
    status = worst(
        review.status if review.status != NO_EVIDENCE else ATTENTION, ATTENTION if priv else MET
    )
    if ident["privileged_unowned"]:
        status = NOT_MET
    sup_parts, weaker, sup_status = _suppression_notes(facts, PRIVILEGE_RULES)
    parts += sup_parts
    status = worst(status, sup_status)
    parts.append(review.statement.rstrip(".")[:1].lower() + review.statement.rstrip(".")[1:])
    links = [
        _findings_link(PRIVILEGE_RULES, "Open privilege findings"),
        Link(
            "Privileged and nobody owns",
            inventory_url([("present", "true"), ("privileged", "true"), ("no_owner", "true")]),
        ),
        *review.links[:2],
    ]
    return Assessment(status, _sentence(parts), links, [*review.weaker, *weaker])


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------

_REVIEWS = (
    "Review campaigns (snapshot, decisions by person or policy, sign-off), remediation requests "
    "against their deadline, the review cadence per risk tier."
)

CONTROLS: Final[tuple[Control, ...]] = (
    Control(
        "pci",
        "7.2.4",
        "User accounts and access privileges reviewed",
        "Review all user accounts and their access at least once every 6 months, fix what is "
        "inappropriate; management acknowledges the results.",
        _REVIEWS,
        _pci_724,
    ),
    Control(
        "pci",
        "7.2.5.1",
        "System and application accounts reviewed",
        "Review all access by system and application accounts at the frequency set by the "
        "targeted risk analysis.",
        _REVIEWS + " Scheduled reviews cover every machine identity.",
        _pci_7251,
    ),
    Control(
        "pci",
        "8.2.6",
        "Inactive accounts removed or disabled",
        "Remove or disable inactive user accounts within 90 days of inactivity.",
        "The stale flag (last use of the identity or its credentials), lifecycle states, AK-001 "
        "and ROLE-001 findings.",
        _inactivity,
        UNUSED_RULES,
    ),
    Control(
        "pci",
        "8.6.1",
        "Interactive use of system accounts",
        "System and application accounts that can be used interactively are prevented from it "
        "unless approved, for a limited time, with a business justification.",
        "USR-001 findings (machine user with a console password), their suppressions as approved "
        "exceptions, classification 'machine used by a person'.",
        _pci_861,
        ("USR-001",),
    ),
    Control(
        "pci",
        "8.6.2",
        "No hard-coded passwords or keys",
        "Passwords and keys of system and application accounts are not hard-coded in scripts, "
        "files or source code.",
        "Imported secret-scanner reports (gitleaks, trufflehog) matched to access keys: LEAK-001 "
        "findings.",
        _pci_862,
        ("LEAK-001",),
    ),
    Control(
        "pci",
        "8.6.3",
        "Credentials of system accounts rotated",
        "Protect system-account credentials: change them periodically (per the targeted risk "
        "analysis) and on suspicion of compromise.",
        "Access key ages (AK-002), secret rotation (SEC-001), keys found in code (LEAK-001), the "
        "rotation thresholds.",
        _pci_863,
        (*ROTATION_RULES, "LEAK-001"),
    ),
    Control(
        "iso",
        "A.5.15",
        "Access control",
        "Rules controlling access are established, implemented and reviewed, and cover non-human "
        "entities.",
        "The risk rule catalogue (OWASP NHI Top 10 and CIS mapping), its thresholds and their "
        "change history, the risk engine's passes.",
        _iso_515,
    ),
    Control(
        "iso",
        "A.5.16",
        "Identity management",
        "The full life cycle of identities is managed: registered, owned, changed, removed.",
        "The inventory (discovery per account), owners with their evidence, orphaned and unowned "
        "flags, lifecycle states, deprovision requests.",
        _iso_516,
        ("OWN-001",),
    ),
    Control(
        "iso",
        "A.5.17",
        "Authentication information",
        "Allocation and management of authentication information is controlled: issued, rotated, "
        "protected, revoked.",
        "Access keys, console passwords and secrets per identity: AK-001..004, SEC-001, LEAK-001 "
        "and USR-001 findings.",
        _iso_517,
        CREDENTIAL_RULES,
    ),
    Control(
        "iso",
        "A.5.18",
        "Access rights",
        "Access rights are provisioned, reviewed at planned intervals, modified and removed.",
        _REVIEWS + " Owner changes and removals in the audit trail.",
        _iso_518,
    ),
    Control(
        "soc2",
        "CC6.1",
        "Logical access security",
        "Logical access security software, infrastructure and architectures protect information "
        "assets.",
        "Discovery coverage of every account, trust-policy findings (ROLE-002..005), root keys "
        "(AK-004), the verified audit trail.",
        _cc61,
        (*TRUST_RULES, "AK-004"),
    ),
    Control(
        "soc2",
        "CC6.2",
        "Credentials registered, authorized and removed",
        "Credentials are issued only to registered, authorized identities and removed when no "
        "longer authorized.",
        "Owners and orphaned identities (OWN-001), deprovision requests and their results.",
        _cc62,
        ("OWN-001",),
    ),
    Control(
        "soc2",
        "CC6.3",
        "Least privilege",
        "Access is authorized, modified and removed based on roles and least privilege, and "
        "reviewed.",
        "Privilege findings (PRIV-001..004), privileged identities without an owner, review "
        "campaigns.",
        _cc63,
        PRIVILEGE_RULES,
    ),
    Control(
        "csf",
        "PR.AA-01",
        "Identities and credentials managed",
        "Identities and credentials of authorized users, services and hardware are managed.",
        "The inventory with owners, credential ages and rotation findings.",
        _csf_aa01,
        ROTATION_RULES,
    ),
    Control(
        "csf",
        "PR.AA-05",
        "Access permissions reviewed",
        "Access permissions are defined, managed, enforced and reviewed, with least privilege.",
        _REVIEWS + " Privilege findings.",
        _csf_aa05,
        PRIVILEGE_RULES,
    ),
    Control(
        "sp80053",
        "AC-2(j)",
        "Account review",
        "Review accounts for compliance with account management requirements at an "
        "organization-defined frequency.",
        _REVIEWS,
        _ac_2j,
    ),
    Control(
        "sp80053",
        "AC-2(3)",
        "Disable accounts",
        "Disable accounts when inactive for an organization-defined period (nhigov takes 90 days).",
        "The stale flag, lifecycle states, AK-001 and ROLE-001 findings.",
        _inactivity,
        UNUSED_RULES,
    ),
)


@dataclass(frozen=True)
class Row:
    control: Control
    assessment: Assessment


def assess_all(facts: Facts) -> list[tuple[str, list[Row]]]:
    """Every control assessed, grouped by framework in catalogue order."""
    groups: dict[str, list[Row]] = {key: [] for key in FRAMEWORKS}
    for control in CONTROLS:
        groups[control.framework].append(Row(control, control.evaluate(facts)))
    return [(FRAMEWORKS[key], rows) for key, rows in groups.items() if rows]


def summary(groups: list[tuple[str, list[Row]]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for _, rows in groups:
        for row in rows:
            counts[row.assessment.status] += 1
    return counts
