"""Orphaned flag: the same definition as OWN-001."""

from __future__ import annotations

import pytest

from inventory.flags import is_orphaned


@pytest.mark.parametrize(
    ("owner_id", "owner_active", "team_id", "provider_managed", "orphaned"),
    [
        (None, True, None, False, True),  # nobody
        (7, True, None, False, False),  # a person
        (None, True, 3, False, False),  # a team alone keeps it owned
        (7, False, None, False, True),  # the person left
        (7, False, 3, False, True),  # the person left: someone must take it over
        (None, True, None, True, False),  # service-linked: AWS owns it
        (7, False, None, True, False),
    ],
)
def test_orphaned(
    owner_id: int | None,
    owner_active: bool,
    team_id: int | None,
    provider_managed: bool,
    orphaned: bool,
) -> None:
    assert (
        is_orphaned(
            owner_id=owner_id,
            owner_active=owner_active,
            team_id=team_id,
            provider_managed=provider_managed,
        )
        is orphaned
    )
