"""Bulk actions: assign an owner or team to a selection or a whole filter; export CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.choices import IdentityEventKind, LifecycleState, OwnerSource
from inventory.models import Identity, IdentityEvent
from inventory.services.owners import OwnerAssignmentError, owner_assign_filtered
from nhigov.models import AuditEvent
from tests.console.conftest import HOSTILE_NAME
from tests.factories import IdentityFactory

pytestmark = pytest.mark.django_db
BULK = reverse("inventory:identity-bulk")
EXPORT = reverse("inventory:identity-export")


def rows(response: Any) -> list[dict[str, str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_assign_owner_to_the_ticked_rows_records_who_and_why(
    security_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    orphan, secret = estate["orphan_admin"], estate["vanished_secret"]
    response = client_for(security_user).post(
        BULK,
        {
            "action": "assign",
            "scope": "selected",
            "ids": [orphan.pk, secret.pk],
            "owner": "raj@example.com",
            "team": estate["platform"].pk,
            "reason": "Raj runs the platform break-glass role",
            "filter": "account=111111111111",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("inventory:identity-list") + "?account=111111111111"
    orphan.refresh_from_db()
    assert (orphan.owner, orphan.owner_team) == (estate["raj"], estate["platform"])
    assert orphan.owner_source == OwnerSource.MANUAL and not orphan.is_orphaned
    assert orphan.lifecycle_state == LifecycleState.ACTIVE
    assert orphan.owner_evidence["manual"]["by"] == "sec"
    event = IdentityEvent.objects.get(identity=orphan, kind=IdentityEventKind.OWNER_CHANGED)
    assert event.actor == security_user and event.reason.startswith("Raj runs")
    audit = AuditEvent.objects.filter(verb="identity.owner_changed", object_id=str(orphan.pk))
    assert audit.get().details["reason"].startswith("Raj runs")
    assert IdentityEvent.objects.filter(kind=IdentityEventKind.OWNER_CHANGED).count() == 2


def test_assigning_to_a_whole_filter_asks_first_then_changes_exactly_those(
    analyst_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    c = client_for(analyst_user)
    data = {
        "action": "assign",
        "scope": "filter",
        "filter": "no_owner=true&present=true&after=xyz&ordering=-name",
        "team": estate["platform"].pk,
        "reason": "Triage: platform owns the unowned until reviewed",
    }
    confirm = c.post(BULK, data)
    assert confirm.status_code == 200 and confirm.context["confirm"]
    assert confirm.context["count"] == 2
    assert 'name="confirmed" value="yes"' in confirm.content.decode()
    assert Identity.objects.filter(owner_team=estate["platform"]).count() == 1  # unchanged yet
    done = c.post(BULK, {**data, "confirmed": "yes"})
    assert done.status_code == 302
    changed = set(
        Identity.objects.filter(owner_team=estate["platform"]).values_list("name", flat=True)
    )
    assert changed == {"platform-role", "orphan-admin", HOSTILE_NAME}
    assert Identity.objects.get(pk=estate["vanished_secret"].pk).owner_team is None


def test_bulk_assignment_of_a_filter_is_a_few_statements_not_one_per_identity(
    security_user: Any, estate: dict[str, Any]
) -> None:
    IdentityFactory.create_batch(150, account=estate["dev"])
    small_ids = Identity.objects.filter(owner__isnull=True, owner_team__isnull=True)
    with CaptureQueriesContext(connection) as queries:
        changed = owner_assign_filtered(
            queryset=small_ids,
            owner=estate["raj"],
            team=None,
            actor=security_user,
            reason="bulk",
        )
    assert changed == 153
    writes = [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1
    assert len(queries) < 20


def test_assignment_errors_are_shown_and_nothing_changes(
    security_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    c = client_for(security_user)
    base = {"action": "assign", "scope": "selected", "ids": [estate["orphan_admin"].pk]}
    no_reason = c.post(BULK, {**base, "owner": "raj"})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["form"].errors
    nobody = c.post(BULK, {**base, "owner": "ghost@example.com", "reason": "x"})
    assert nobody.status_code == 400 and "No person" in nobody.content.decode()
    neither = c.post(BULK, {**base, "reason": "x"})
    assert "Choose an owner, a team, or both." in neither.content.decode()
    estate["raj"].is_active = False
    estate["raj"].save()
    left = c.post(BULK, {**base, "owner": "raj", "reason": "x"})
    assert left.status_code == 400 and "has left" in left.content.decode()
    nothing_ticked = c.post(
        BULK, {"action": "assign", "scope": "selected", "owner": "sec", "reason": "x"}
    )
    assert nothing_ticked.status_code == 302
    estate["orphan_admin"].refresh_from_db()
    assert estate["orphan_admin"].owner is None
    assert not IdentityEvent.objects.exists()


def test_only_the_security_team_may_assign_even_with_a_crafted_request(
    owner_user: Any, auditor_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    data = {
        "action": "assign",
        "scope": "filter",
        "filter": "",
        "owner": owner_user.username,
        "reason": "mine now",
        "confirmed": "yes",
    }
    for user in (owner_user, auditor_user):
        assert client_for(user).post(BULK, data).status_code == 403
        assert client_for(user).post(
            reverse("inventory:identity-owner", args=[estate["orphan_admin"].pk]), data
        ).status_code in (403, 404)
    assert not Identity.objects.filter(owner_source=OwnerSource.MANUAL).exists()
    with pytest.raises(OwnerAssignmentError):
        owner_assign_filtered(
            queryset=Identity.objects.all(),
            owner=owner_user,
            team=None,
            actor=auditor_user,
            reason="x",
        )


def test_export_streams_the_filter_as_formula_safe_csv(
    security_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    response = client_for(security_user).get(f"{EXPORT}?account=222222222222&present=true")
    assert response["Content-Type"] == "text/csv"
    assert "attachment;" in response["Content-Disposition"]
    data = rows(response)
    assert {r["name"] for r in data} == {"stale-bot", "alice.person", HOSTILE_NAME}
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in data for v in r.values())


def test_export_of_a_formula_cell_is_neutralised(
    security_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    IdentityFactory(name='=HYPERLINK("http://evil","click")', account=estate["dev"])
    data = rows(client_for(security_user).get(f"{EXPORT}?q=evil"))
    assert [r["name"] for r in data] == ['\'=HYPERLINK("http://evil","click")']


def test_export_goes_through_the_same_gate(
    owner_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    c = client_for(owner_user)
    assert {r["name"] for r in rows(c.get(EXPORT))} == {"ci-deployer", "platform-role"}
    # A crafted selection of someone else's identity exports nothing of it.
    crafted = c.post(
        BULK,
        {
            "action": "export",
            "scope": "selected",
            "ids": [estate["stale_bot"].pk, estate["deployer"].pk],
        },
    )
    assert [r["name"] for r in rows(crafted)] == ["ci-deployer"]


def test_export_query_count_is_constant(
    security_user: Any, estate: dict[str, Any], client_for: Any
) -> None:
    c = client_for(security_user)
    with CaptureQueriesContext(connection) as small:
        rows(c.get(EXPORT))
    IdentityFactory.create_batch(40, account=estate["dev"])
    with CaptureQueriesContext(connection) as large:
        rows(c.get(EXPORT))
    assert len(small) == len(large)
