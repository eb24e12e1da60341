"""Who owns an identity, inferred from its tags. Pure: the directory of people and teams is given.

Tag keys are read in the configured priority order. A value matches a user by e-mail or username
and a team by name, case-insensitively. A value that matches nobody is kept verbatim and flagged,
so the security team can see "owner: j.doe@contractor.example (unknown)" instead of nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inventory.choices import OwnerSource


@dataclass(frozen=True, slots=True)
class OwnerMatch:
    owner_id: int | None = None
    team_id: int | None = None
    source: str = OwnerSource.NONE
    raw: str = ""
    unmatched: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class OwnerDirectory:
    """Lookup tables of people and teams, built once per reconcile."""

    users_by_key: dict[str, int] = field(default_factory=dict)  # lower(email) / lower(username)
    teams_by_name: dict[str, int] = field(default_factory=dict)  # lower(name)
    inactive_user_ids: frozenset[int] = frozenset()  # deactivated people: their identities orphan
    owner_keys: tuple[str, ...] = ()
    team_keys: frozenset[str] = frozenset()
    creator_keys: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        users: Iterable[tuple[int, str, str, bool]],
        teams: Iterable[tuple[int, str]],
        owner_keys: Iterable[str],
        team_keys: Iterable[str],
        creator_keys: Iterable[str],
    ) -> OwnerDirectory:
        """``users`` are (id, username, email, is_active); ``teams`` are (id, name)."""
        by_key: dict[str, int] = {}
        inactive: set[int] = set()
        for user_id, username, email, is_active in users:
            if not is_active:
                inactive.add(user_id)
            if username:
                by_key.setdefault(username.strip().lower(), user_id)
            if email:
                # An e-mail wins over a username that happens to look like it.
                by_key[email.strip().lower()] = user_id
        return cls(
            users_by_key=by_key,
            teams_by_name={name.strip().lower(): team_id for team_id, name in teams},
            inactive_user_ids=frozenset(inactive),
            owner_keys=tuple(dict.fromkeys(k.lower() for k in owner_keys)),
            team_keys=frozenset(k.lower() for k in team_keys),
            creator_keys=frozenset(k.lower() for k in creator_keys),
        )

    def resolve(self, tags: Mapping[str, str]) -> OwnerMatch:
        """The owner user and/or team named by the tags, with the evidence."""
        lowered: dict[str, tuple[str, str]] = {}
        for key, value in tags.items():
            if isinstance(key, str) and isinstance(value, str) and value.strip():
                lowered.setdefault(key.lower(), (key, value.strip()))
        owner_id: int | None = None
        team_id: int | None = None
        source = OwnerSource.NONE
        evidence: dict[str, Any] = {}
        unmatched: list[tuple[str, str]] = []
        for key in self.owner_keys:
            if key not in lowered:
                continue
            tag_key, value = lowered[key]
            needle = value.lower()
            is_team_key = key in self.team_keys
            user = None if is_team_key else self.users_by_key.get(needle)
            team = self.teams_by_name.get(needle)
            if is_team_key and team is None:
                user = self.users_by_key.get(needle)
            if user is not None and owner_id is None:
                owner_id = user
                evidence["owner"] = {"tag": tag_key, "value": value, "matched": "user"}
                source = OwnerSource.CREATOR if key in self.creator_keys else OwnerSource.TAG
            elif team is not None and team_id is None:
                team_id = team
                evidence["team"] = {"tag": tag_key, "value": value, "matched": "team"}
                if source == OwnerSource.NONE:
                    source = OwnerSource.CREATOR if key in self.creator_keys else OwnerSource.TAG
            elif user is None and team is None:
                unmatched.append((tag_key, value))
        if unmatched:
            evidence["unmatched"] = [{"tag": k, "value": v} for k, v in unmatched]
        if owner_id is None and team_id is None and unmatched:
            value = unmatched[0][1]
            return OwnerMatch(
                source=OwnerSource.NONE, raw=value[:512], unmatched=True, evidence=evidence
            )
        if owner_id is None and team_id is None:
            return OwnerMatch(evidence={"reason": "No owner tag."})
        return OwnerMatch(owner_id=owner_id, team_id=team_id, source=source, evidence=evidence)
