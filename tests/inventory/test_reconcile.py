"""Reconcile: bulk upsert, idempotence, vanish semantics, ownership, history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inventory.choices import IdentityEventKind, LifecycleState, OwnerSource
from inventory.connectors.base import AccountInventory
from inventory.models import Account, Credential, Identity, IdentityEvent
from inventory.services.owners import owner_assign
from inventory.services.reconcile import reconcile_account
from tests.factories import TeamFactory, UserFactory
from tests.inventory.records import ACCOUNT, ADMIN_POLICY, NOW, access_key, role, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def account() -> Account:
    return Account.objects.create(account_id=ACCOUNT, name="prod")


def inventory(*identities, complete=True, errors=None) -> AccountInventory:  # type: ignore[no-untyped-def]
    return AccountInventory(
        account_id=ACCOUNT, identities=list(identities), complete=complete, errors=errors or []
    )


def base_records():  # type: ignore[no-untyped-def]
    return [
        user(
            "ci-deployer",
            keys=[access_key("AKIAAAAAAAAAAAAAAAA1")],
            tags={"owner": "olivia.park@example.com"},
            policies=[ADMIN_POLICY],
        ),
        user("olivia.park", password=True, mfa=True),
        role("app-role", tags={"team": "platform"}),
        role("legacy-role", used=None, created=400),
    ]


def test_first_run_creates_identities_with_credentials_and_owners(account: Account) -> None:
    olivia = UserFactory(username="olivia", email="olivia.park@example.com")
    platform = TeamFactory(name="platform")
    result = reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    assert (result.new, result.updated, result.unchanged, result.vanished) == (4, 0, 0, 0)
    deployer = Identity.objects.get(name="ci-deployer")
    assert deployer.owner == olivia and deployer.owner_source == OwnerSource.TAG
    assert deployer.lifecycle_state == LifecycleState.ACTIVE
    assert deployer.is_privileged and deployer.permissions_summary["admin"] is True
    assert list(deployer.credentials.values_list("native_id", flat=True)) == [
        "AKIAAAAAAAAAAAAAAAA1"
    ]
    assert Identity.objects.get(name="app-role").owner_team == platform
    legacy = Identity.objects.get(name="legacy-role")
    assert legacy.lifecycle_state == LifecycleState.DISCOVERED
    assert legacy.is_orphaned and legacy.orphaned_since == NOW
    assert legacy.is_stale
    assert Identity.objects.get(name="olivia.park").classification == "human"


def test_second_run_with_no_change_writes_nothing(account: Account) -> None:
    reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    before = dict(Identity.objects.values_list("name", "updated_at"))
    later = NOW + timedelta(hours=6)
    result = reconcile_account(account=account, inventory=inventory(*base_records()), now=later)
    assert (result.new, result.updated, result.unchanged, result.vanished) == (0, 0, 4, 0)
    assert dict(Identity.objects.values_list("name", "updated_at")) == before
    assert not IdentityEvent.objects.exists()


def test_changed_identity_is_updated_and_its_history_says_what_changed(account: Account) -> None:
    reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    records = base_records()
    records[2] = role("app-role", tags={"team": "platform", "env": "prod"})
    result = reconcile_account(account=account, inventory=inventory(*records), now=NOW)
    assert (result.updated, result.unchanged) == (1, 3)
    event = IdentityEvent.objects.get(identity__name="app-role")
    assert event.kind == IdentityEventKind.CHANGED and event.details == {"fields": ["tags"]}


def test_identity_missing_from_complete_run_is_vanished(account: Account) -> None:
    reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    result = reconcile_account(account=account, inventory=inventory(*base_records()[:3]), now=NOW)
    assert result.vanished == 1 and result.vanish_applied
    legacy = Identity.objects.get(name="legacy-role")
    assert legacy.lifecycle_state == LifecycleState.VANISHED and legacy.vanished_at == NOW
    event = legacy.events.get()
    assert (event.kind, event.from_state, event.to_state) == ("vanished", "discovered", "vanished")


def test_partial_run_marks_nothing_vanished(account: Account) -> None:
    reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    partial = inventory(
        *base_records()[:1],
        complete=False,
        errors=[{"operation": "ListSecrets", "code": "AccessDenied"}],
    )
    result = reconcile_account(account=account, inventory=partial, now=NOW)
    assert result.vanished == 0 and not result.vanish_applied
    assert not Identity.objects.filter(lifecycle_state=LifecycleState.VANISHED).exists()


def test_vanished_identity_that_returns_reappears(account: Account) -> None:
    reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    reconcile_account(account=account, inventory=inventory(*base_records()[:3]), now=NOW)
    result = reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    assert result.reappeared == 1
    legacy = Identity.objects.get(name="legacy-role")
    assert legacy.lifecycle_state == LifecycleState.DISCOVERED and legacy.vanished_at is None
    assert legacy.events.filter(kind=IdentityEventKind.REAPPEARED).exists()


def test_deleted_access_key_is_removed_and_new_key_added(account: Account) -> None:
    reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    records = base_records()
    records[0] = user(
        "ci-deployer",
        keys=[access_key("AKIABBBBBBBBBBBBBBB2")],
        tags={"owner": "olivia.park@example.com"},
        policies=[ADMIN_POLICY],
    )
    reconcile_account(account=account, inventory=inventory(*records), now=NOW)
    assert list(
        Credential.objects.filter(identity__name="ci-deployer").values_list("native_id", flat=True)
    ) == ["AKIABBBBBBBBBBBBBBB2"]


def test_owner_set_by_hand_survives_rediscovery(account: Account) -> None:
    security = UserFactory(username="sec", role="security_admin")
    nora = UserFactory(username="nora", email="nora@example.com")
    reconcile_account(account=account, inventory=inventory(*base_records()), now=NOW)
    legacy = Identity.objects.get(name="legacy-role")
    owner_assign(identities=[legacy], owner=nora, team=None, actor=security, reason="Nora runs it")
    records = base_records()
    records[3] = role("legacy-role", used=None, created=400, tags={"owner": "someone@else.example"})
    reconcile_account(account=account, inventory=inventory(*records), now=NOW)
    legacy.refresh_from_db()
    assert legacy.owner == nora and legacy.owner_source == OwnerSource.MANUAL
    assert not legacy.is_orphaned and legacy.lifecycle_state == LifecycleState.ACTIVE


def test_identity_owned_by_a_person_who_left_is_orphaned(account: Account) -> None:
    UserFactory(username="tom", email="tom.weller@example.com", is_active=False)
    reconcile_account(
        account=account,
        inventory=inventory(role("payments-batch", tags={"owner": "tom.weller@example.com"})),
        now=NOW,
    )
    identity = Identity.objects.get()
    assert identity.owner is not None and identity.is_orphaned


def test_unmatched_owner_tag_is_kept_and_flagged(account: Account) -> None:
    reconcile_account(
        account=account,
        inventory=inventory(role("vendor", tags={"owner": "j.doe@contractor.example"})),
        now=NOW,
    )
    identity = Identity.objects.get()
    assert identity.owner_unmatched and identity.owner_raw == "j.doe@contractor.example"
    assert identity.is_orphaned


def test_same_native_id_in_two_accounts_are_two_identities() -> None:
    a = Account.objects.create(account_id="111111111111")
    b = Account.objects.create(account_id="222222222222")
    rec = role("shared-name")
    reconcile_account(
        account=a, inventory=AccountInventory(account_id=a.account_id, identities=[rec]), now=NOW
    )
    reconcile_account(
        account=b, inventory=AccountInventory(account_id=b.account_id, identities=[rec]), now=NOW
    )
    assert Identity.objects.count() == 2


def test_large_batch_is_reconciled_in_one_go(account: Account) -> None:
    records = [role(f"role-{i:04d}", used=i % 300) for i in range(1200)]
    result = reconcile_account(account=account, inventory=inventory(*records), now=NOW)
    assert result.new == 1200
    again = reconcile_account(account=account, inventory=inventory(*records), now=NOW)
    assert again.unchanged == 1200
