"""Sorting by account and by owner: what the column shows, in order, however the page is read.

The account column shows the account number, the owner column the owner's e-mail (or the team's
name): sorting them orders by that, not by internal keys. On PostgreSQL, when more rows match
than the count reads, the page is read group by group (``pagination.GroupWalk``); these tests
force that path with a tiny count cap and check it gives exactly the database's own order.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import Identity
from inventory.views import pagination
from tests.factories import AccountFactory, IdentityFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("inventory:identity-list")


@pytest.fixture
def mixed(estate: dict[str, Any], owner_user: Any) -> dict[str, Any]:
    """Accounts and owners created in the reverse of their alphabetical order, with ties."""
    zed = AccountFactory(account_id="999999999999", name="aaa-first-by-name")
    mid = AccountFactory(account_id="555555555555", name="mid")
    low = AccountFactory(account_id="000000000001", name="zzz-last-by-name")
    zoe = UserFactory(username="zoe", email="zoe@example.com")
    adam = UserFactory(username="adam", email="")  # shown (and sorted) by username
    bea = UserFactory(username="bea", email="bea@example.com")
    ops = TeamFactory(name="ops")
    apps = TeamFactory(name="apps")
    for n in range(27):
        account, unique = (zed, mid, low)[n % 3], {"native_id": f"arn:aws:iam::x:role/n{n}"}
        person = (zoe, adam, bea)[n % 3]
        # Ties on the name within an account and an owner: the id orders them.
        IdentityFactory(account=account, name=f"svc-{n % 2}", owner=person, **unique)
        unique = {"native_id": f"arn:aws:iam::x:role/t{n}"}
        IdentityFactory(
            account=account, name=f"team-{n % 2}", owner_team=(ops, apps)[n % 2], **unique
        )
        unique = {"native_id": f"arn:aws:iam::x:role/x{n}"}
        IdentityFactory(account=account, name=f"nobody-{n % 2}", **unique)
    IdentityFactory(account=low, name="zoe-and-apps", owner=zoe, owner_team=apps)
    return {"accounts": [low, mid, zed], "people": [adam, bea, zoe], "teams": [apps, ops]}


def page_rows(client: Any, query: str) -> list[Identity]:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def every_page(client: Any, query: str) -> tuple[list[int], list[int]]:
    forward: list[int] = []
    url = f"{LIST}?{query}&per_page=25"
    while url:
        response = client.get(url)
        forward += [i.pk for i in response.context["page"].object_list]
        url = response.context["next_url"]
        assert len(forward) < 500
    backward: list[int] = []
    url = f"{LIST}?{query}&per_page=25&last=1"
    while url:
        response = client.get(url)
        backward = [i.pk for i in response.context["page"].object_list] + backward
        url = response.context["previous_url"]
        assert len(backward) < 500
    return forward, backward


def many_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """As at a million rows: the count gives up, the page walks the sort's index."""
    monkeypatch.setattr(
        "inventory.views.identity_listing.capped_count",
        lambda qs: pagination.capped_count(qs, cap=3),
    )
    monkeypatch.setattr(
        "inventory.views.identity_listing.read_plan", lambda count: pagination.PLAN_INDEX_ORDER
    )


def owner_shown(identity: Identity) -> tuple[str, str]:
    person = identity.owner.email or identity.owner.username if identity.owner else ""
    team = identity.owner_team.name if identity.owner_team and not identity.owner else ""
    return person, team


def test_account_sort_orders_by_the_account_number(
    security_user: Any, mixed: Any, client_for: Any
) -> None:
    rows = page_rows(client_for(security_user), "ordering=account&per_page=200")
    numbers = [i.account.account_id for i in rows]
    assert numbers == sorted(numbers)
    assert numbers[0] == "000000000001"
    within = [i.name for i in rows if i.account.account_id == "555555555555"]
    assert within == sorted(within)
    backwards = page_rows(client_for(security_user), "ordering=-account&per_page=200")
    assert [i.pk for i in backwards] == [i.pk for i in reversed(rows)]


def test_owner_sort_orders_by_what_the_owner_column_shows(
    security_user: Any, mixed: Any, client_for: Any
) -> None:
    rows = page_rows(client_for(security_user), "ordering=owner&per_page=200")
    shown = [owner_shown(i) for i in rows]
    assert shown == sorted(shown)
    assert shown[0] == ("", "")  # nobody first
    people = [p for p, _ in shown if p]
    assert people[0] == "adam"  # no e-mail: the username, as the column shows it
    assert people[-1] == "zoe@example.com"
    teams = [t for p, t in shown if t]
    assert teams[0] == "apps" and teams[-1] == "platform"  # the estate's team
    backwards = page_rows(client_for(security_user), "ordering=-owner&per_page=200")
    assert [i.pk for i in backwards] == [i.pk for i in reversed(rows)]


@pytest.mark.parametrize(
    "case",
    [
        (sort, query)
        for sort in ("account", "-account", "owner", "-owner")
        for query in ("", "q=svc", "stale=false&kind=iam_role")
    ],
)
def test_many_matches_are_read_group_by_group_in_exactly_the_same_order(
    security_user: Any,
    mixed: Any,
    client_for: Any,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str],
) -> None:
    """With the count capped (as at a million rows), the pages walk the groups: every row once,
    forwards and backwards, in the order the database gives for the whole sort."""
    sort, query = case
    c = client_for(security_user)
    expected = [i.pk for i in page_rows(c, f"ordering={sort}&per_page=200&{query}")]
    assert 25 < len(expected) < 200  # more than one page
    many_match(monkeypatch)
    monkeypatch.setattr(pagination, "WALK_GROUPS", 2)  # several batches, some of empty groups
    with CaptureQueriesContext(connection) as queries:
        forward, backward = every_page(c, f"ordering={sort}&{query}")
    assert forward == expected
    assert backward == expected
    if connection.vendor == "postgresql":
        assert any("UNION ALL" in q["sql"] for q in queries)


def test_a_group_walk_page_is_a_constant_number_of_queries(
    security_user: Any, mixed: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    many_match(monkeypatch)
    c = client_for(security_user)
    counts = {}
    for sort in ("account", "owner"):
        for per_page in (25, 100):
            with CaptureQueriesContext(connection) as queries:
                c.get(f"{LIST}?ordering={sort}&per_page={per_page}")
            counts[(sort, per_page)] = len(queries)
        assert counts[(sort, 25)] == counts[(sort, 100)]


@pytest.mark.parametrize("sort", ["account", "owner"])
def test_a_tampered_grouped_cursor_falls_back_to_the_first_page(
    security_user: Any, mixed: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    many_match(monkeypatch)
    c = client_for(security_user)
    first = [i.pk for i in page_rows(c, f"ordering={sort}")]
    width = 3 if sort == "account" else 5
    for values in ([None] * width, ["x", "y", "z", "w", "v"][:width]):
        cursor = pagination._encode({"s": sort, "v": values, "id": 1})
        assert [i.pk for i in page_rows(c, f"ordering={sort}&after={cursor}")] == first


def test_an_owner_s_few_identities_are_sorted_not_walked(
    owner_user: Any, mixed: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An owner's identities sit in a few accounts: reading every account and owner of the
    estate for them would cost more than sorting them."""
    IdentityFactory.create_batch(30, owner=owner_user, account=mixed["accounts"][1])
    c = client_for(owner_user)
    expected = [i.pk for i in page_rows(c, "ordering=account&per_page=200")]
    many_match(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        forward, backward = every_page(c, "ordering=account")
    assert forward == backward == expected
    assert not any("UNION ALL" in q["sql"] for q in queries)
