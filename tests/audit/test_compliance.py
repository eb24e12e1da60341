"""The compliance page: each control's live status from the database, weaker configurations
flagged, statements with real figures, who may read it, escaping, a constant number of queries;
and the audit-event links (and filters) of the identity and campaign pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from inventory.models import Account, Finding, LeakReport, RiskPass, RiskSettings
from inventory.services.findings import finding_suppress
from nhigov.audit import audit_record
from nhigov.compliance import (
    ATTENTION,
    CONTROLS,
    MET,
    NO_EVIDENCE,
    NOT_MET,
    Assessment,
    gather_facts,
)
from nhigov.models import AuditEvent
from reviews.choices import CampaignStatus, Outcome
from reviews.models import Campaign, RemediationRequest
from reviews.services.campaigns import (
    campaign_launch,
    campaign_sign_off,
    campaign_start_closing,
)
from reviews.services.decisions import item_decide
from tests.reviews.factories import client_for, item_of, launch, make_estate, make_identity

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def assess(control_id: str, framework: str | None = None) -> Assessment:
    facts = gather_facts(fresh=True)
    for control in CONTROLS:
        if control.id == control_id and (framework is None or control.framework == framework):
            return control.evaluate(facts)
    raise AssertionError(f"no control {control_id}")


def inventoried(*, evaluated: bool = True) -> None:
    """Every account completely discovered just now, and a finished risk pass."""
    now = timezone.now()
    Account.objects.update(last_complete_at=now)
    if evaluated:
        RiskPass.objects.create(full=True, started_at=now, finished_at=now, identities=10)


def closed_review(security_user: Any, owner_user: Any, *, decide_by_person: int = 3) -> Campaign:
    """The review estate, a campaign over it, some items decided by people, the rest by the
    no-response policy, signed off."""
    estate = make_estate(owner_user)
    campaign = launch(security_user)
    people = [estate.ci, estate.bobs, estate.orphan][:decide_by_person]
    for identity in people:
        item = item_of(campaign, identity)
        item_decide(
            item=item,
            actor=security_user,
            outcome=Outcome.KEEP,
            justification="Still needed by the nightly job.",
            on_behalf_of_id=item.reviewer_id,
        )
    campaign_start_closing(campaign=campaign, actor=security_user)
    campaign_sign_off(campaign=campaign, actor=security_user, confirm=True, comment="Done.")
    campaign.refresh_from_db()
    return campaign


# --- Statuses ---------------------------------------------------------------------------------


def test_nothing_collected_yet_is_no_evidence() -> None:
    for control_id in ("7.2.4", "7.2.5.1", "8.2.6", "8.6.2", "8.6.3", "A.5.16", "CC6.1"):
        assert assess(control_id).status == NO_EVIDENCE, control_id


def test_review_controls_met_with_figures_and_sign_off(security_user, owner_user) -> None:  # type: ignore[no-untyped-def]
    campaign = closed_review(security_user, owner_user)
    inventoried()
    a = assess("7.2.5.1")
    today = timezone.localtime(campaign.closed_at).strftime("%Y-%m-%d")
    assert a.statement.startswith(f"Last review of system accounts closed on {today}")
    items = campaign.population_count
    assert f"{items} items, {round(100 * 3 / items)}% decided by people" in a.statement
    assert "0 remediations overdue" in a.statement
    assert campaign.signed_off_name in a.statement
    assert a.status == MET and not a.weaker
    urls = [link.url for link in a.links]
    assert reverse("reviews:campaign-detail", args=[campaign.pk]) in urls
    assert f"{reverse('audit-log')}?object_type=reviews.campaign&object_id={campaign.pk}" in urls
    assert assess("7.2.4").status == MET
    assert assess("AC-2(j)").status == MET


def test_overdue_remediation_needs_attention(security_user, owner_user) -> None:  # type: ignore[no-untyped-def]
    campaign = closed_review(security_user, owner_user)
    inventoried()
    requests = RemediationRequest.objects.filter(item__campaign=campaign)
    assert requests.exists()  # the policy deprovisioned the unused identity
    requests.update(due_at=timezone.now() - timedelta(days=1))
    a = assess("7.2.5.1")
    n = requests.count()
    assert f"{n} remediation{'s' if n > 1 else ''} overdue" in a.statement
    assert a.status == ATTENTION


def test_review_too_long_ago_is_not_met(security_user, owner_user) -> None:  # type: ignore[no-untyped-def]
    campaign = closed_review(security_user, owner_user)
    inventoried()
    Campaign.objects.filter(pk=campaign.pk).update(
        activated_at=timezone.now() - timedelta(days=220)
    )
    a = assess("7.2.4")
    assert a.status == NOT_MET and "not reviewed within the required interval" in a.statement


def test_cadence_longer_than_six_months_is_flagged(security_user, owner_user, settings) -> None:  # type: ignore[no-untyped-def]
    closed_review(security_user, owner_user)
    inventoried()
    settings.NHIGOV_REVIEW_CADENCE_DAYS = {"critical": 30, "high": 90, "medium": 365, "low": 365}
    for control_id in ("7.2.4", "7.2.5.1", "A.5.18", "AC-2(j)", "PR.AA-05"):
        a = assess(control_id)
        assert a.weaker and "medium every 365 days" in a.weaker[0], control_id
        assert a.status != MET
    settings.NHIGOV_REVIEW_CADENCE_DAYS = {"critical": 30, "high": 90, "medium": 180, "low": 180}
    assert not assess("7.2.4").weaker


def test_inactive_identities_still_enabled(owner_user, settings) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    make_identity("old-1", stale=True, stale_since=now - timedelta(days=30), used_days=120)
    make_identity("old-2", stale=True, stale_since=now - timedelta(days=5), used_days=95)
    make_identity("leaving", stale=True, used_days=200, lifecycle="pending_deprovision")
    make_identity("fresh", used_days=1)
    inventoried()
    a = assess("8.2.6")
    assert a.status == NOT_MET
    since = timezone.localtime(now - timedelta(days=30)).strftime("%Y-%m-%d")
    assert a.statement.startswith("3 machine identities inactive for more than 90 days")
    assert f"2 still enabled (the longest stale since {since})" in a.statement
    assert "1 pending deprovision, 0 disabled" in a.statement
    assert assess("AC-2(3)").status == NOT_MET
    # The list behind the link shows exactly those two.
    c = client_for(make_auditor())
    link = next(link.url for link in a.links if link.label == "Stale and still enabled")
    page = c.get(link)
    assert {i.name for i in page.context["page"].object_list} == {"old-1", "old-2"}


def make_auditor() -> Any:
    from tests.factories import UserFactory

    return UserFactory(username="aud2", role="auditor")


def test_inactivity_met_and_loose_thresholds_flagged(owner_user, settings) -> None:  # type: ignore[no-untyped-def]
    make_identity("leaving", stale=True, used_days=200, lifecycle="disabled")
    inventoried()
    assert assess("8.2.6").status == MET and not assess("8.2.6").weaker
    settings.NHIGOV_STALE_DAYS = 120
    RiskSettings.objects.update_or_create(pk=1, defaults={"thresholds": {"role_unused_days": 180}})
    a = assess("8.2.6")
    assert a.status == ATTENTION
    assert "stale after 120 days (NHIGOV_STALE_DAYS)" in a.weaker[0]
    assert "ROLE-001 after 180 days" in a.weaker[0]


def test_rotation_threshold_weaker_than_ninety_days(owner_user) -> None:  # type: ignore[no-untyped-def]
    make_identity("ci", kind="iam_user", key_days=30)
    inventoried()
    assert assess("8.6.3").status == MET
    RiskSettings.objects.update_or_create(pk=1, defaults={"thresholds": {"key_max_age_days": 365}})
    a = assess("8.6.3")
    assert a.status == ATTENTION and "access keys 365 days (key_max_age_days)" in a.weaker[0]
    assert "older than 365 days" in a.statement


def test_old_keys_and_leaked_keys(owner_user) -> None:  # type: ignore[no-untyped-def]
    make_identity("ci", kind="iam_user", findings=(("AK-002", "medium"), ("LEAK-001", "critical")))
    make_identity("ci2", kind="iam_user", findings=(("AK-002", "medium"),))
    inventoried()
    a = assess("8.6.3")
    assert a.status == NOT_MET
    assert "2 access keys older than 90 days" in a.statement
    assert "1 key suspected compromised" in a.statement
    # 8.6.2 has no evidence until a scanner report is imported, then it is not met.
    assert assess("8.6.2").status == NO_EVIDENCE
    LeakReport.objects.create(tool="gitleaks", sha256="0" * 64, entries=1, key_ids=1)
    a = assess("8.6.2")
    assert a.status == NOT_MET and "1 access key found in code and still open" in a.statement
    assert any("rule=LEAK-001&status=open" in link.url for link in a.links)


def test_interactive_use_and_approved_exceptions(owner_user, security_user) -> None:  # type: ignore[no-untyped-def]
    make_identity("deploy", kind="iam_user", findings=(("USR-001", "medium"),))
    inventoried()
    a = assess("8.6.1")
    assert a.status == NOT_MET and a.statement.startswith("1 machine user with a console password")
    finding = Finding.objects.get(rule_id="USR-001")
    finding_suppress(
        finding=finding,
        actor=security_user,
        reason="Break-glass console access approved by CISO until the migration ends.",
        until=timezone.now() + timedelta(days=30),
    )
    cache.clear()
    a = assess("8.6.1")
    assert a.status == MET and "1 finding suppressed as approved interactive use" in a.statement
    # An exception past its end date, or with none, is not a clean pass.
    Finding.objects.update(suppressed_until=timezone.now() - timedelta(days=1))
    assert assess("8.6.1").status == ATTENTION
    Finding.objects.update(suppressed_until=None)
    a = assess("8.6.1")
    assert a.status == ATTENTION and "no end date" in a.weaker[0]


def test_privilege_and_orphans(owner_user) -> None:  # type: ignore[no-untyped-def]
    make_identity("admin", owner=owner_user, privileged=True, findings=(("PRIV-001", "critical"),))
    make_identity("lost", orphaned=True, privileged=True)
    inventoried()
    a = assess("CC6.3")
    assert a.status == NOT_MET  # a privileged identity nobody owns
    assert "2 privileged identities, 1 with no owner" in a.statement
    assert "PRIV-001 1" in a.statement
    b = assess("CC6.2")
    assert b.status == ATTENTION and "1 identity orphaned" in b.statement


def test_every_control_of_the_issue_is_in_the_catalogue() -> None:
    ids = {(c.framework, c.id) for c in CONTROLS}
    expected = {
        *(("pci", x) for x in ("7.2.4", "7.2.5.1", "8.2.6", "8.6.1", "8.6.2", "8.6.3")),
        *(("iso", x) for x in ("A.5.15", "A.5.16", "A.5.17", "A.5.18")),
        *(("soc2", x) for x in ("CC6.1", "CC6.2", "CC6.3")),
        ("csf", "PR.AA-01"),
        ("csf", "PR.AA-05"),
        ("sp80053", "AC-2(j)"),
        ("sp80053", "AC-2(3)"),
    }
    assert ids == expected


# --- The page ---------------------------------------------------------------------------------


def test_auditor_and_security_read_owner_gets_403(
    auditor_user, analyst_user, security_user, owner_user
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("compliance")
    for user in (auditor_user, analyst_user, security_user):
        response = client_for(user).get(url)
        assert response.status_code == 200
        body = response.content.decode()
        for control in CONTROLS:
            assert control.id in body
        assert "<form" not in body.split("<main", 1)[1]  # read-only: nothing to submit
    assert client_for(owner_user).get(url).status_code == 403
    # The nav links show for those who may read.
    assert (
        reverse("compliance") in client_for(auditor_user).get(reverse("audit-log")).content.decode()
    )


def test_page_escapes_names(auditor_user, security_user) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    Campaign.objects.create(
        name=XSS,
        status=CampaignStatus.CLOSED,
        created_at=now,
        activated_at=now,
        closed_at=now,
        signed_off_name=XSS,
        signed_off_role="Security admin",
        scope={},
    )
    body = client_for(auditor_user).get(reverse("compliance")).content.decode()
    assert XSS not in body and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


def test_weaker_configuration_is_shown(auditor_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.NHIGOV_STALE_DAYS = 180
    body = client_for(auditor_user).get(reverse("compliance")).content.decode()
    assert "Weaker than required" in body and "stale after 180 days" in body


def test_query_count_does_not_grow(
    auditor_user, security_user, owner_user, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    c = client_for(auditor_user)
    url = reverse("compliance") + "?fresh=1"
    closed_review(security_user, owner_user)
    inventoried()
    with django_assert_max_num_queries(24) as small:
        assert c.get(url).status_code == 200
    for n in range(30):
        make_identity(f"more-{n}", stale=bool(n % 2), findings=(("AK-002", "medium"),))
    campaign_launch(name="second", scope={}, actor=security_user)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert c.get(url).status_code == 200


# --- Audit links and filters --------------------------------------------------------------------


def test_identity_page_links_its_audit_events(security_user, owner_user, auditor_user) -> None:  # type: ignore[no-untyped-def]
    identity = make_identity("mine", owner=owner_user)
    href = f"{reverse('audit-log')}?identity={identity.pk}"
    page = reverse("inventory:identity-detail", args=[identity.pk])
    for user in (security_user, auditor_user):
        assert href in client_for(user).get(page).content.decode()
    response = client_for(owner_user).get(page)
    assert response.status_code == 200 and href not in response.content.decode()


def test_campaign_page_links_its_audit_events(security_user, owner_user) -> None:  # type: ignore[no-untyped-def]
    make_estate(owner_user)
    campaign = launch(security_user)
    href = f"{reverse('audit-log')}?campaign={campaign.pk}"
    page = reverse("reviews:campaign-detail", args=[campaign.pk])
    assert href in client_for(security_user).get(page).content.decode()
    response = client_for(owner_user).get(page, follow=True)
    assert response.status_code == 200 and href not in response.content.decode()


def test_identity_filter_covers_its_findings_reviews_and_remediation(
    security_user, owner_user
) -> None:  # type: ignore[no-untyped-def]
    estate = make_estate(owner_user)
    campaign = launch(security_user)
    target, other = estate.old, estate.ci
    item = item_of(campaign, target)
    item_decide(
        item=item,
        actor=security_user,
        outcome=Outcome.DEPROVISION,
        justification="Unused for 200 days.",
        on_behalf_of_id=item.reviewer_id,
    )
    other_item = item_of(campaign, other)
    item_decide(
        item=other_item,
        actor=security_user,
        outcome=Outcome.KEEP,
        justification="Used daily.",
        on_behalf_of_id=other_item.reviewer_id,
    )
    finding = Finding.objects.create(
        identity=target,
        rule_id="ROLE-001",
        severity="medium",
        message="unused",
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    finding_suppress(finding=finding, actor=security_user, reason="Decommissioning next week.")
    audit_record(verb="identity.changed", object_type="inventory.identity", object_id=target.pk)
    audit_record(verb="identity.changed", object_type="inventory.identity", object_id=other.pk)
    c = client_for(security_user)
    events = c.get(f"{reverse('audit-log')}?identity={target.pk}").context["events"]
    verbs = {e.verb for e in events}
    assert {
        "identity.changed",
        "finding.suppressed",
        "review.decided",
        "remediation.requested",
    } <= verbs
    related = {str(target.pk), str(item.pk), str(finding.pk)}
    assert all(
        e.object_id in related or e.object_type == "reviews.remediationrequest" for e in events
    )
    assert str(other_item.pk) not in {
        e.object_id for e in events if e.object_type == "reviews.reviewitem"
    }
    # Campaign filter: the campaign's own events and its items', no other campaign's.
    second = campaign_launch(name="second", scope={"team": "platform"}, actor=security_user)
    events = c.get(f"{reverse('audit-log')}?campaign={campaign.pk}").context["events"]
    assert {"campaign.activated", "review.decided"} <= {e.verb for e in events}
    assert str(second.pk) not in {
        e.object_id for e in events if e.object_type == "reviews.campaign"
    }
    assert AuditEvent.objects.filter(
        object_type="reviews.campaign", object_id=str(second.pk)
    ).exists()


def test_api_gives_the_same_assessments(auditor_user, owner_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.NHIGOV_STALE_DAYS = 120
    response = client_for(auditor_user).get(reverse("api-compliance"))
    assert response.status_code == 200
    data = response.json()
    assert len(data["controls"]) == len(CONTROLS)
    by_id = {c["id"]: c for c in data["controls"]}
    assert by_id["8.2.6"]["status"] == NO_EVIDENCE
    assert "NHIGOV_STALE_DAYS" in by_id["8.2.6"]["weaker_than_required"][0]
    assert sum(data["summary"].values()) == len(CONTROLS)
    assert client_for(owner_user).get(reverse("api-compliance")).status_code == 403
    from django.test import Client

    assert Client().get(reverse("api-compliance")).status_code in (401, 403)
