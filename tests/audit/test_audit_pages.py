"""The audit log page: who may read it, filters, paging, verify now, escaping."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from nhigov.audit import audit_record
from nhigov.models import AuditEvent, AuditVerification

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def trail(db):  # type: ignore[no-untyped-def]
    for n in range(130):
        audit_record(
            verb="finding.opened" if n % 2 else "identity.changed",
            actor="risk engine",
            object_type="inventory.identity",
            object_id=n,
            object_label='<img src=x onerror="alert(1)">',
        )


def test_auditor_reads_the_trail_owner_cannot(auditor_user, owner_user, trail) -> None:  # type: ignore[no-untyped-def]
    response = client_for(auditor_user).get(reverse("audit-log"))
    assert response.status_code == 200
    assert len(response.context["events"]) == 100 and response.context["next_before"] is not None
    assert client_for(owner_user).get(reverse("audit-log")).status_code == 403


def test_filter_by_verb_prefix_and_object(security_user, trail) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    events = c.get(reverse("audit-log") + "?verb=finding.").context["events"]
    assert events and all(e.verb == "finding.opened" for e in events)
    events = c.get(reverse("audit-log") + "?object_type=inventory.identity&object_id=7").context[
        "events"
    ]
    assert [e.object_id for e in events] == ["7"]


def test_paging_back_with_before(security_user, trail) -> None:  # type: ignore[no-untyped-def]
    c = client_for(security_user)
    first = c.get(reverse("audit-log")).context
    older = c.get(reverse("audit-log") + f"?before={first['next_before']}").context["events"]
    assert [e.seq for e in older] == list(range(first["next_before"] - 1, 0, -1))
    assert len(first["events"]) + len(older) == AuditEvent.objects.count()


def test_provider_strings_in_the_trail_are_escaped(security_user, trail) -> None:  # type: ignore[no-untyped-def]
    body = client_for(security_user).get(reverse("audit-log")).content.decode()
    assert '<img src=x onerror="alert(1)">' not in body and "&lt;img src=x" in body


def test_verify_now_records_a_verification(auditor_user, trail) -> None:  # type: ignore[no-untyped-def]
    response = client_for(auditor_user).post(reverse("audit-verify"), follow=True)
    assert "Audit trail intact" in response.content.decode()
    assert AuditVerification.objects.get().checked == AuditEvent.objects.count()
