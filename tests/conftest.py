"""Shared fixtures: the three personas, and a fake connector for discovery tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from inventory.connectors.base import AccountInfo, AccountInventory, ConnectorError
from tests.factories import UserFactory


@pytest.fixture
def security_user(db: Any) -> Any:
    return UserFactory(username="sec", email="sec@example.com", role="security_admin")


@pytest.fixture
def analyst_user(db: Any) -> Any:
    return UserFactory(username="ana", email="ana@example.com", role="security_analyst")


@pytest.fixture
def owner_user(db: Any) -> Any:
    return UserFactory(username="olivia", email="olivia.park@example.com", role="owner")


@pytest.fixture
def auditor_user(db: Any) -> Any:
    return UserFactory(username="aud", email="aud@example.com", role="auditor")


@dataclass
class FakeConnector:
    """Stands in for AwsConnector: returns prepared inventories, or raises prepared errors."""

    accounts: list[AccountInfo] = field(default_factory=list)
    inventories: dict[str, AccountInventory | ConnectorError] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def list_accounts(self) -> list[AccountInfo]:
        return list(self.accounts)

    def discover_account(
        self, account_id: str, *, role_name: str = "", external_id: str = "", regions: Any = ()
    ) -> AccountInventory:
        self.calls.append((account_id, role_name, external_id))
        result = self.inventories.get(account_id, AccountInventory(account_id=account_id))
        if isinstance(result, ConnectorError):
            raise result
        return result


@pytest.fixture
def fake_connector(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnector]:
    fake = FakeConnector()
    monkeypatch.setattr("inventory.services.discovery.connector_for", lambda source: fake)
    yield fake


@pytest.fixture
def make_inventory() -> Callable[..., AccountInventory]:
    def make(account_id: str, identities: list[Any], **kwargs: Any) -> AccountInventory:
        return AccountInventory(account_id=account_id, identities=identities, **kwargs)

    return make
