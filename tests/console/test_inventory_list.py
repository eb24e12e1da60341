"""The inventory list: every filter, search, sorts, keyset pages, the URL as the state, htmx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.choices import FindingStatus, Severity
from inventory.models import Finding, Identity
from inventory.views import pagination
from tests.console.conftest import HOSTILE_NAME
from tests.factories import IdentityFactory

pytestmark = pytest.mark.django_db
LIST = reverse("inventory:identity-list")


def names(response: Any) -> set[str]:
    return {i.name for i in response.context["page"].object_list}


def listed(client: Any, query: str) -> set[str]:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    return names(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=iam_user", {"ci-deployer", "stale-bot", "alice.person"}),
        ("kind=secret&kind=iam_user", {"ci-deployer", "stale-bot", "alice.person", "db-secret"}),
        ("account=222222222222", {"stale-bot", "db-secret", "alice.person", HOSTILE_NAME}),
        ("classification=human", {"alice.person"}),
        ("lifecycle_state=vanished", {"db-secret"}),
        ("present=false", {"db-secret"}),
        ("stale=true", {"stale-bot"}),
        ("orphaned=true", {"orphan-admin"}),
        ("privileged=true", {"orphan-admin"}),
        ("risk_tier=critical", {"orphan-admin", HOSTILE_NAME}),
        ("owner=raj@example.com", {"stale-bot", "alice.person"}),
        ("owner=RAJ", {"stale-bot", "alice.person"}),
        ("team=Platform", {"platform-role"}),
        ("no_owner=true", {"orphan-admin", "db-secret", HOSTILE_NAME}),
        ("no_owner=true&privileged=true&account=111111111111", {"orphan-admin"}),
        ("owner_unmatched=true", {HOSTILE_NAME}),
        ("tag=env=prod", {"ci-deployer", "platform-role", "orphan-admin"}),
        ("tag=cost-center", {"orphan-admin"}),
        ("tag=env=nope", set()),
        ("never_used=true&present=true", {"orphan-admin", "alice.person", HOSTILE_NAME}),
        ("key_older_than=365", {"ci-deployer"}),
        ("key_older_than=10", {"ci-deployer", "stale-bot"}),
    ],
)
def test_each_filter_narrows_the_list(
    security_user: Any, estate: dict[str, Any], client_for: Any, query: str, expected: set[str]
) -> None:
    assert listed(client_for(security_user), query) == expected


def test_last_used_before_and_after(security_user: Any, estate: Any, client_for: Any) -> None:
    c = client_for(security_user)
    cutoff = (timezone.now() - timedelta(days=30)).date().isoformat()
    assert listed(c, f"last_used_before={cutoff}") == {"stale-bot"}
    assert listed(c, f"last_used_after={cutoff}") == {"ci-deployer", "platform-role"}


def test_rule_filter_lists_identities_with_that_open_finding(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    now = timezone.now()
    for identity, status in (
        (estate["deployer"], FindingStatus.OPEN),
        (estate["stale_bot"], FindingStatus.RESOLVED),
    ):
        Finding.objects.create(
            identity=identity,
            rule_id="AK-001",
            severity=Severity.HIGH,
            status=status,
            message="m",
            first_seen_at=now,
            last_seen_at=now,
        )
    assert listed(client_for(security_user), "rule=ak-001") == {"ci-deployer"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("deployer", {"ci-deployer"}),
        ("DEPLOYER", {"ci-deployer"}),
        ("arn:aws:iam::111111111111:role/platform", {"platform-role"}),
        ("billing", {"ci-deployer"}),  # a tag value
        ("cost-center", set()),  # tag keys are not searched
        ("AKIADEVKEY0000000002", {"stale-bot"}),  # "who owns this key?"
        ("%", set()),  # LIKE wildcards are literal
    ],
)
def test_search_covers_name_arn_tag_values_and_access_key_ids(
    security_user: Any, estate: Any, client_for: Any, q: str, expected: set[str]
) -> None:
    from urllib.parse import quote

    assert listed(client_for(security_user), f"q={quote(q)}") == expected


SORTS = [
    "name",
    "kind",
    "account",
    "classification",
    "owner",
    "lifecycle_state",
    "risk_tier",
    "last_used",
    "flags",
]


def walk(client: Any, query: str) -> tuple[list[int], list[int]]:
    """Every page forwards from the first, then backwards from the last: the ids in order."""
    forward: list[int] = []
    url = f"{LIST}?{query}&per_page=25"
    pages = 0
    while url:
        response = client.get(url)
        forward += [i.pk for i in response.context["page"].object_list]
        url = response.context["next_url"]
        pages += 1
        assert pages < 50
    backward: list[int] = []
    url = f"{LIST}?{query}&per_page=25&last=1"
    pages = 0
    while url:
        response = client.get(url)
        backward = [i.pk for i in response.context["page"].object_list] + backward
        url = response.context["previous_url"]
        pages += 1
        assert pages < 50
    return forward, backward


@pytest.mark.parametrize("sort", SORTS + [f"-{s}" for s in SORTS])
def test_every_sort_pages_through_every_row_once_forwards_and_backwards(
    security_user: Any, estate: Any, client_for: Any, sort: str
) -> None:
    """Keyset pages with ties and NULLs (owners, last use) lose and repeat nothing."""
    for n in range(60):
        IdentityFactory(
            name=f"bulk-{n % 7}",  # ties on the name
            last_used_at=None if n % 3 else timezone.now() - timedelta(days=n),
            owner=estate["raj"] if n % 4 == 0 else None,
            is_stale=n % 5 == 0,
        )
    forward, backward = walk(client_for(security_user), f"ordering={sort}")
    assert len(forward) == Identity.objects.count() == len(set(forward))
    assert backward == forward
    # And the order is the database's own ORDER BY of the same sort.
    response = client_for(security_user).get(f"{LIST}?ordering={sort}&per_page=200")
    assert [i.pk for i in response.context["page"].object_list] == forward


def test_sort_headers_toggle_and_report_aria_sort(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    response = client_for(security_user).get(f"{LIST}?ordering=-last_used&stale=true")
    columns = {c["key"]: c for c in response.context["columns"]}
    assert columns["last_used"]["aria_sort"] == "descending"
    assert "ordering=last_used" in columns["last_used"]["url"]
    assert "stale=true" in columns["name"]["url"]
    assert columns["name"]["aria_sort"] == ""
    risky = client_for(security_user).get(f"{LIST}?ordering=risk_tier")
    assert [i.risk_tier for i in risky.context["page"].object_list][:2] == ["critical", "critical"]


def test_a_tampered_or_stale_cursor_falls_back_to_the_first_page(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    c = client_for(security_user)
    first = names(c.get(LIST))
    assert names(c.get(f"{LIST}?after=not-base64!!")) == first
    cursor = c.get(f"{LIST}?ordering=kind&per_page=25").context["page"].next_cursor
    assert names(c.get(f"{LIST}?ordering=name&after={cursor}")) == first


def test_count_is_capped_and_says_so(
    security_user: Any, estate: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "inventory.views.identity_listing.capped_count",
        lambda qs: pagination.capped_count(qs, cap=3),
    )
    response = client_for(security_user).get(LIST)
    assert response.context["count"].capped
    assert "More than 3 identities" in response.content.decode()
    exact = client_for(security_user).get(f"{LIST}?stale=true")
    assert not exact.context["count"].capped and exact.context["count"].value == 1


def test_the_url_holds_the_state_and_links_keep_it(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    for n in range(30):
        IdentityFactory(name=f"prod-extra-{n:02}", account=estate["prod"])
    response = client_for(security_user).get(f"{LIST}?account=111111111111&per_page=25")
    next_query = parse_qs(urlparse(response.context["next_url"]).query)
    assert next_query["account"] == ["111111111111"] and next_query["per_page"] == ["25"]
    assert "after" in next_query
    chips = response.context["chips"]
    assert [(c.label, c.value) for c in chips] == [("Account id", "111111111111")]
    assert "account" not in parse_qs(urlparse(chips[0].remove_url).query)


def test_htmx_gets_only_the_results_and_the_page_works_without_it(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    c = client_for(security_user)
    partial = c.get(f"{LIST}?q=deployer", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "ci-deployer" in partial and "stale-bot" not in partial
    full = c.get(f"{LIST}?q=deployer").content.decode()
    assert "<html" in full and 'hx-get="/inventory/identities/"' in full
    restore = c.get(
        f"{LIST}?q=deployer", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in restore.content.decode()


def test_my_identities_shows_what_the_user_or_their_teams_own(
    security_user: Any, owner_user: Any, estate: Any, client_for: Any
) -> None:
    mine = reverse("inventory:my-identities")
    assert names(client_for(owner_user).get(mine)) == {"ci-deployer", "platform-role"}
    assert names(client_for(security_user).get(mine)) == set()
    estate["platform"].members.add(security_user)
    assert names(client_for(security_user).get(mine)) == {"platform-role"}


@pytest.mark.parametrize("persona", ["security_user", "owner_user", "auditor_user"])
def test_query_count_does_not_grow_with_the_page_size(
    request: Any, persona: str, estate: Any, client_for: Any, owner_user: Any
) -> None:
    user = request.getfixturevalue(persona)
    c = client_for(user)
    IdentityFactory.create_batch(210, owner=owner_user, account=estate["prod"])
    counts = {}
    for per_page in (25, 200):
        for query in ("", "&q=role&stale=false", "&ordering=owner", "&ordering=-last_used"):
            with CaptureQueriesContext(connection) as queries:
                response = c.get(f"{LIST}?per_page={per_page}{query}")
            assert len(response.context["page"].object_list) >= 25
            counts[(per_page, query)] = len(queries)
    for query in ("", "&q=role&stale=false", "&ordering=owner", "&ordering=-last_used"):
        assert counts[(25, query)] == counts[(200, query)]
    # session, user, keys, page, three option lists, the header's count of reviews waiting; on
    # PostgreSQL the key read and the page read each run in a short transaction with their SET
    # LOCAL plan settings (the owner sort walks owner keys in one more).
    assert max(counts.values()) <= 19


def test_a_deep_page_is_one_indexed_range_not_an_offset(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    IdentityFactory.create_batch(60)
    c = client_for(security_user)
    cursor = c.get(f"{LIST}?per_page=25").context["page"].next_cursor
    with CaptureQueriesContext(connection) as queries:
        c.get(f"{LIST}?per_page=25&after={cursor}")
    sql = " ".join(q["sql"] for q in queries).upper()
    assert "OFFSET" not in sql


def test_multi_value_filters_add_no_distinct(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    """A DISTINCT over whole rows makes PostgreSQL sort every match before the first page."""
    with CaptureQueriesContext(connection) as queries:
        client_for(security_user).get(
            f"{LIST}?kind=iam_user&kind=iam_role&risk_tier=high&classification=machine"
            "&lifecycle_state=active"
        )
    assert not any("DISTINCT" in q["sql"].upper() for q in queries)


def test_the_forms_offer_accounts_teams_and_people(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    body = client_for(security_user).get(f"{LIST}?account=111111111111&team=PLATFORM").content
    html = body.decode()
    assert '<option value="111111111111" selected>111111111111 · prod</option>' in html
    assert '<option value="platform" selected>platform</option>' in html
    assert f'<option value="{estate["platform"].pk}">platform</option>' in html  # bulk team
    assert '<option value="raj@example.com">raj</option>' in html  # owner suggestions
