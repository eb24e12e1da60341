"""Stale and orphaned: flags computed for one identity from plain values (no database)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from inventory.choices import Classification, IdentityKind


def last_activity(
    *,
    last_used_at: datetime | None,
    created_at: datetime | None,
    credential_uses: Iterable[datetime | None] = (),
) -> datetime | None:
    """The latest sign of life: last use of the identity or of any of its credentials, else its
    creation (a never-used identity counts from the day it was created)."""
    uses = [u for u in (last_used_at, *credential_uses) if u is not None]
    if uses:
        return max(uses)
    return created_at


def stale_since(
    *,
    kind: str,
    classification: str,
    activity: datetime | None,
    stale_after: timedelta,
    now: datetime,
) -> datetime | None:
    """When a machine identity became stale (last activity + threshold), or None if it is not.

    People are not flagged (their inactivity is an HR question); neither is the root account.
    """
    if classification == Classification.HUMAN or kind == IdentityKind.ROOT or activity is None:
        return None
    since = activity + stale_after
    return since if since <= now else None


def is_orphaned(
    *, owner_id: int | None, owner_active: bool, team_id: int | None, provider_managed: bool = False
) -> bool:
    """No owner at all, or an owner who left or was deactivated (as OWN-001 says).

    A team alone keeps an identity owned; a named owner who left orphans it even when a team is
    also set (someone must take it over, and the team's manager reviews it meanwhile).
    Identities the provider manages itself (AWS service-linked roles) are never orphans.
    """
    if provider_managed:
        return False
    if owner_id is not None:
        return not owner_active
    return team_id is None
