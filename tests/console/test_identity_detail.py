"""One identity: credentials, readable permissions, trust, owner evidence, change owner, history."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.choices import IdentityEventKind
from inventory.models import IdentityEvent, RiskPass
from inventory.policy_display import policy_views, trust_views
from tests.console.conftest import ADMIN_POLICY, add_key

pytestmark = pytest.mark.django_db


def detail(identity: Any) -> str:
    return reverse("inventory:identity-detail", args=[identity.pk])


def test_the_page_shows_credentials_with_age_and_last_use(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    body = client_for(security_user).get(detail(estate["deployer"])).content.decode()
    assert "AKIAPRODKEY000000001" in body
    assert "400 days old" in body
    assert "s3" in body and "eu-west-1" in body
    assert 'datetime="' in body and "title=" in body  # relative date with the absolute one


def test_admin_and_wildcard_grants_are_highlighted(
    security_user: Any, estate: Any, client_for: Any
) -> None:
    body = client_for(security_user).get(detail(estate["orphan_admin"])).content.decode()
    assert "admin: every action on every resource" in body
    assert 'class="mono flag-admin"' in body


def test_statement_flags() -> None:
    views = policy_views(
        [
            ADMIN_POLICY,
            {
                "name": "reads",
                "source": "inline",
                "document": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["ec2:Describe*", "s3:GetObject"],
                            "Resource": "*",
                        }
                    ]
                },
            },
            {
                "name": "s3-all",
                "source": "inline",
                "document": {
                    "Statement": [
                        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
                    ]
                },
            },
            {
                "name": "conditional",
                "source": "inline",
                "document": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "*",
                            "Resource": "*",
                            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                        }
                    ]
                },
            },
            {"name": "broken", "document": "not a policy"},
        ]
    )
    flags = {v.name: v.flag for v in views}
    assert flags == {
        "AdministratorAccess": "admin",
        "reads": "",
        "s3-all": "wildcard",
        "conditional": "wildcard",
        "broken": "",
    }
    assert [v.name for v in views][:1] == ["AdministratorAccess"]  # the broadest first
    conditional = next(v for v in views if v.name == "conditional").statements[0]
    assert conditional.conditions == ["Bool aws:MultiFactorAuthPresent = true"]


def test_trust_policy_explains_who_can_assume_the_role() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {
                    "AWS": ["arn:aws:iam::111111111111:root", "999988887777", "*"],
                    "Service": "lambda.amazonaws.com",
                },
            },
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {
                    "Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"
                },
            },
        ]
    }
    views = trust_views(document, {"111111111111": "prod"})
    principals = [(p.value, p.flag) for p in views[0].principals]
    assert principals == [
        ("arn:aws:iam::111111111111:root", ""),
        ("999988887777", "external"),
        ("*", "anyone"),
        ("lambda.amazonaws.com", ""),
    ]
    assert "known to nhigov" in views[0].principals[0].note
    assert "GitHub Actions" in views[1].principals[0].note


def test_owner_evidence_is_readable(security_user: Any, estate: Any, client_for: Any) -> None:
    identity = estate["deployer"]
    identity.owner_evidence = {"owner": {"tag": "owner", "value": "olivia", "matched": "user"}}
    identity.save()
    body = client_for(security_user).get(detail(identity)).content.decode()
    assert "matched a user" in body


def test_change_owner_from_the_page(
    analyst_user: Any, estate: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    identity = estate["orphan_admin"]
    url = reverse("inventory:identity-owner", args=[identity.pk])
    c = client_for(analyst_user)
    bad = c.post(url, {"owner": "raj", "reason": ""})
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ok = c.post(url, {"owner": "raj", "reason": "Raj took it over"})
    assert ok.status_code == 302 and ok.url.endswith("#owner")
    identity.refresh_from_db()
    assert identity.owner == estate["raj"]
    page = c.get(detail(identity)).content.decode()
    assert "Raj took it over" in page and "Set by hand by" in page
    assert IdentityEvent.objects.filter(
        identity=identity, kind=IdentityEventKind.OWNER_CHANGED
    ).exists()
    # The findings that depend on the owner follow the change at once.
    assert RiskPass.objects.filter(full=False).exists()


def test_owners_and_auditors_get_no_change_owner_form(
    owner_user: Any, auditor_user: Any, estate: Any, client_for: Any
) -> None:
    for user in (owner_user, auditor_user):
        body = client_for(user).get(detail(estate["deployer"])).content.decode()
        assert "Change owner" not in body


def test_an_owner_cannot_open_someone_elses_identity(
    owner_user: Any, estate: Any, client_for: Any
) -> None:
    c = client_for(owner_user)
    assert c.get(detail(estate["deployer"])).status_code == 200
    assert c.get(detail(estate["platform_role"])).status_code == 200
    assert c.get(detail(estate["stale_bot"])).status_code == 404


def test_detail_query_count_is_constant(security_user: Any, estate: Any, client_for: Any) -> None:
    identity = estate["deployer"]
    c = client_for(security_user)
    with CaptureQueriesContext(connection) as one:
        c.get(detail(identity))
    for n in range(10):
        add_key(identity, f"AKIAEXTRA{n:011d}", age_days=n)
    with CaptureQueriesContext(connection) as many:
        c.get(detail(identity))
    assert len(one) == len(many)
