"""The audit trail is append-only and tamper-evident."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from nhigov.audit import GENESIS, audit_record, audit_verify, chain_head, event_hash
from nhigov.models import AuditEvent, AuditVerification
from tests.factories import UserFactory


@pytest.mark.django_db
def test_events_are_chained_from_genesis() -> None:
    user = UserFactory(username="sec")
    first = audit_record(
        verb="identity.owner_changed",
        actor=user,
        object_type="inventory.identity",
        object_id=7,
        before={"owner": None},
        after={"owner": "sec"},
    )
    second = audit_record(
        verb="discovery.finished", actor="discover_source task", details={"new": 3}
    )
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert first.actor_label == "sec" and second.actor_kind == "system"
    assert chain_head() == (2, second.hash)
    status = audit_verify()
    assert status.ok and status.checked == 2 and status.head_hash == second.hash
    assert AuditVerification.objects.get().ok


@pytest.mark.django_db
def test_the_code_refuses_updates_and_deletes() -> None:
    event = audit_record(verb="login")
    event.verb = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", ["UPDATE nhigov_auditevent SET verb = 'x'", "DELETE FROM nhigov_auditevent"]
)
def test_the_database_refuses_updates_and_deletes(statement: str) -> None:
    audit_record(verb="login")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.get().verb == "login"


def _tamper(sql: str, params: list[object]) -> None:
    """Change a row behind the application's back (the triggers are dropped and restored)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE nhigov_auditevent DISABLE TRIGGER nhigov_auditevent_append_only"
            )
            cursor.execute(sql, params)
            cursor.execute(
                "ALTER TABLE nhigov_auditevent ENABLE TRIGGER nhigov_auditevent_append_only"
            )
        else:
            cursor.execute("DROP TRIGGER nhigov_auditevent_no_update")
            cursor.execute("DROP TRIGGER nhigov_auditevent_no_delete")
            cursor.execute(sql, params)


@pytest.mark.django_db
def test_a_row_altered_behind_the_apps_back_is_detected_and_named() -> None:
    for n in range(5):
        audit_record(verb="finding.opened", object_id=n, details={"n": n})
    _tamper("UPDATE nhigov_auditevent SET details = %s WHERE seq = 3", ['{"n": 99}'])
    status = audit_verify()
    assert not status.ok and status.first_broken_seq == 3
    assert "Row 3" in status.message
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify", stderr=err, stdout=io.StringIO())
    assert exit_info.value.code == 1 and "Row 3" in err.getvalue()


@pytest.mark.django_db
def test_a_deleted_row_is_detected() -> None:
    for n in range(4):
        audit_record(verb="finding.opened", object_id=n)
    _tamper("DELETE FROM nhigov_auditevent WHERE seq = 2", [])
    status = audit_verify(record=False)
    assert not status.ok and status.first_broken_seq == 3


@pytest.mark.django_db
def test_a_rehashed_row_still_breaks_the_link_to_the_next() -> None:
    for n in range(3):
        audit_record(verb="x", object_id=n)
    row = AuditEvent.objects.values().get(seq=2)
    row["verb"] = "forged"
    new_hash = event_hash(row)
    _tamper("UPDATE nhigov_auditevent SET verb = 'forged', hash = %s WHERE seq = 2", [new_hash])
    status = audit_verify(record=False)
    assert not status.ok and status.first_broken_seq == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                audit_record(verb="concurrent", object_id=f"{n}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditEvent.objects.count() == 60
    assert audit_verify(record=False).ok


@pytest.mark.django_db
def test_periodic_verification_alerts_security_admins(mailoutbox) -> None:  # type: ignore[no-untyped-def]
    from nhigov.tasks import verify_audit_trail

    UserFactory(username="sec", email="sec@example.com", role="security_admin")
    for n in range(3):
        audit_record(verb="x", object_id=n)
    assert verify_audit_trail() is True and not mailoutbox
    _tamper("UPDATE nhigov_auditevent SET verb = 'y' WHERE seq = 2", [])
    assert verify_audit_trail() is False
    assert mailoutbox[0].to == ["sec@example.com"] and "Row 2" in mailoutbox[0].body
