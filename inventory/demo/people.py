"""The demo's people and teams. Owner tags in the seeded organization name these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPerson:
    username: str
    email: str
    first_name: str
    last_name: str
    role: str  # nhigov.choices.Role value
    teams: tuple[str, ...] = ()
    manages: tuple[str, ...] = ()
    active: bool = True  # False: the person left the company
    login: bool = False  # a persona printed by `make demo`


DEMO_PASSWORD = "nhigov-demo"  # noqa: S105 - printed by `make demo`, demo only

PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "security",
        "sam.rivera@example.com",
        "Sam",
        "Rivera",
        "security_admin",
        teams=("security",),
        manages=("security",),
        login=True,
    ),
    DemoPerson(
        "owner",
        "olivia.park@example.com",
        "Olivia",
        "Park",
        "owner",
        teams=("platform",),
        login=True,
    ),
    DemoPerson("auditor", "aisha.khan@example.com", "Aisha", "Khan", "auditor", login=True),
    DemoPerson(
        "analyst",
        "leo.martin@example.com",
        "Leo",
        "Martin",
        "security_analyst",
        teams=("security",),
    ),
    DemoPerson(
        "raj.patel",
        "raj.patel@example.com",
        "Raj",
        "Patel",
        "owner",
        teams=("platform",),
        manages=("platform",),
    ),
    DemoPerson(
        "mei.chen",
        "mei.chen@example.com",
        "Mei",
        "Chen",
        "owner",
        teams=("data",),
        manages=("data",),
    ),
    DemoPerson(
        "diego.santos",
        "diego.santos@example.com",
        "Diego",
        "Santos",
        "owner",
        teams=("payments",),
        manages=("payments",),
    ),
    DemoPerson("nora.berg", "nora.berg@example.com", "Nora", "Berg", "owner", teams=("data",)),
    # Left the company: identities they own are orphaned.
    DemoPerson(
        "tom.weller",
        "tom.weller@example.com",
        "Tom",
        "Weller",
        "owner",
        teams=("payments",),
        active=False,
    ),
)

TEAMS: tuple[str, ...] = ("platform", "data", "payments", "security")

# Owner tag values the seed uses that match nobody: kept raw and flagged as unmatched.
UNKNOWN_OWNERS: tuple[str, ...] = ("j.doe@contractor.example", "old-ops-team")
