"""Every rule of the catalogue: a case where it fires and near-misses where it must not."""

from __future__ import annotations

import json

import pytest

from inventory.choices import IdentityKind
from inventory.risk.rules import DEFAULT_THRESHOLDS, RULES, evaluate
from inventory.risk.view import CredentialView
from tests.risk.builders import (
    GITHUB,
    KEY_A,
    KEY_B,
    ORG_ACCOUNT,
    VENDOR_ACCOUNT,
    access_key,
    allow,
    console_password,
    ctx,
    deny,
    doc,
    findings,
    identity,
    policies,
    policy,
    role,
    root,
    rule_ids,
    secret,
    secret_credential,
    trust,
    trust_stmt,
    user,
    with_,
)

CATALOGUE = {
    "AK-001": ("high", ("NHI1", "NHI7"), "1.11"),
    "AK-002": ("medium", ("NHI7",), "1.13"),
    "AK-003": ("medium", ("NHI7", "NHI9"), "1.12"),
    "AK-004": ("critical", ("NHI5", "NHI7"), "1.3"),
    "USR-001": ("medium", ("NHI10",), None),
    "USR-002": ("low", ("NHI5",), "1.14"),
    "OWN-001": ("medium", ("NHI1",), None),
    "ROLE-001": ("medium", ("NHI1",), None),
    "ROLE-002": ("critical", ("NHI6",), None),
    "ROLE-003": ("high", ("NHI3",), None),
    "ROLE-004": ("high", ("NHI3",), None),
    "ROLE-005": ("critical", ("NHI6",), None),
    "PRIV-001": ("critical", ("NHI5",), "1.16"),
    "PRIV-002": ("high", ("NHI5",), None),
    "PRIV-003": ("critical", ("NHI5",), None),
    "PRIV-004": ("high", ("NHI5",), None),
    "SEC-001": ("medium", ("NHI7",), None),
    "LEAK-001": ("critical", ("NHI2",), None),
}


# --- the catalogue itself --------------------------------------------------------------------


def test_catalogue_has_every_rule_with_its_severity_owasp_and_cis() -> None:
    assert set(RULES) == set(CATALOGUE)
    for rule_id, (severity, owasp, cis) in CATALOGUE.items():
        rule = RULES[rule_id]
        assert (rule.severity, rule.owasp, rule.cis) == (severity, owasp, cis), rule_id
        assert rule.title and rule.explanation and rule.fix


def test_rules_apply_only_to_known_identity_kinds() -> None:
    kinds = set(IdentityKind.values)
    for rule in RULES.values():
        assert rule.applies_to and set(rule.applies_to) <= kinds, rule.id


def test_thresholds_are_day_counts_with_catalogue_defaults() -> None:
    assert DEFAULT_THRESHOLDS["key_unused_days"] == 45
    assert DEFAULT_THRESHOLDS["key_max_age_days"] == 90
    assert DEFAULT_THRESHOLDS["role_unused_days"] == 90
    assert DEFAULT_THRESHOLDS["secret_rotation_days"] == 90
    assert all(isinstance(v, int) and 1 <= v <= 3650 for v in DEFAULT_THRESHOLDS.values())


def test_clean_baseline_identities_have_no_findings() -> None:
    assert rule_ids(user()) == set()
    assert rule_ids(role()) == set()


# --- AK-001 ----------------------------------------------------------------------------------


def test_ak001_fires_for_a_key_unused_past_the_threshold_with_the_numbers() -> None:
    view = user(credentials=[access_key(created_days=500, used_days=412)])
    [finding] = findings(view, "AK-001")
    assert finding.key == KEY_A
    assert finding.severity == "high"
    assert "AKIA…WXYZ" in finding.message
    assert "412 days" in finding.message and "threshold 45" in finding.message
    assert finding.evidence["days_unused"] == 412
    assert finding.evidence["last_used_at"].startswith("2025-")


def test_ak001_counts_a_never_used_key_from_its_creation() -> None:
    [finding] = findings(user(credentials=[access_key(created_days=60)]), "AK-001")
    assert finding.evidence["never_used"] is True
    assert "never been used" in finding.message and "60 days" in finding.message


def test_ak001_does_not_fire_for_a_key_created_3_days_ago_and_never_used() -> None:
    assert findings(user(credentials=[access_key(created_days=3)]), "AK-001") == []


def test_ak001_grace_period_protects_new_keys_even_with_a_tiny_threshold() -> None:
    context = ctx(thresholds={"key_unused_days": 1})
    assert findings(user(credentials=[access_key(created_days=3)]), "AK-001", context) == []
    assert findings(user(credentials=[access_key(created_days=8)]), "AK-001", context)


def test_ak001_does_not_fire_for_recently_used_or_inactive_keys() -> None:
    used = access_key(created_days=500, used_days=44)
    inactive = access_key(KEY_B, status="inactive", created_days=900, used_days=800)
    assert findings(user(credentials=[used, inactive]), "AK-001") == []


def test_ak001_reports_each_stale_key_separately() -> None:
    keys = [access_key(KEY_A, created_days=300), access_key(KEY_B, created_days=200)]
    assert {f.key for f in findings(user(credentials=keys), "AK-001")} == {KEY_A, KEY_B}


def test_ak001_follows_the_admin_threshold() -> None:
    view = user(credentials=[access_key(created_days=100, used_days=40)])
    assert findings(view, "AK-001") == []
    assert findings(view, "AK-001", ctx(thresholds={"key_unused_days": 30}))


# --- AK-002 ----------------------------------------------------------------------------------


def test_ak002_fires_for_an_active_key_older_than_90_days() -> None:
    [finding] = findings(user(credentials=[access_key(created_days=200, used_days=1)]), "AK-002")
    assert finding.key == KEY_A
    assert "200 days old" in finding.message and "threshold 90" in finding.message


def test_ak002_does_not_fire_at_90_days_nor_for_inactive_keys() -> None:
    keys = [
        access_key(KEY_A, created_days=90, used_days=1),
        access_key(KEY_B, status="inactive", created_days=900),
    ]
    assert findings(user(credentials=keys), "AK-002") == []


# --- AK-003 ----------------------------------------------------------------------------------


def test_ak003_fires_for_two_active_keys() -> None:
    keys = [access_key(KEY_A, used_days=1), access_key(KEY_B, used_days=1)]
    [finding] = findings(user(credentials=keys), "AK-003")
    assert finding.key == "" and finding.evidence["count"] == 2
    assert "2 active access keys" in finding.message


def test_ak003_does_not_fire_when_the_second_key_is_inactive() -> None:
    keys = [access_key(KEY_A, used_days=1), access_key(KEY_B, status="inactive")]
    assert findings(user(credentials=keys), "AK-003") == []


# --- AK-004 ----------------------------------------------------------------------------------


def test_ak004_fires_when_root_has_an_active_key() -> None:
    [finding] = findings(root(credentials=[access_key(used_days=2)]), "AK-004")
    assert finding.severity == "critical"
    assert finding.evidence["access_keys"][0]["access_key_id"] == KEY_A


def test_ak004_does_not_fire_for_root_without_active_keys_or_for_users() -> None:
    assert findings(root(), "AK-004") == []
    assert findings(root(credentials=[access_key(status="inactive")]), "AK-004") == []
    assert findings(user(credentials=[access_key(used_days=1)]), "AK-004") == []


def test_root_keys_are_reported_once_as_ak004_not_as_user_key_rules() -> None:
    ids = rule_ids(root(credentials=[access_key(created_days=400)]))
    assert "AK-004" in ids and not ids & {"AK-001", "AK-002", "AK-003"}


# --- USR-001 ---------------------------------------------------------------------------------


def test_usr001_fires_for_a_machine_user_with_a_console_password() -> None:
    view = user(
        credentials=[access_key(used_days=1), console_password(used_days=3)],
        attributes={"password_enabled": True},
    )
    [finding] = findings(view, "USR-001")
    assert finding.evidence["access_key_ids"] == [KEY_A]
    assert "3 days ago" in finding.message


def test_usr001_fires_on_the_classification_alone() -> None:
    assert findings(user(classification="machine_used_by_person"), "USR-001")


def test_usr001_does_not_fire_for_a_person_without_keys_or_a_machine_without_password() -> None:
    person = user(
        classification="human",
        credentials=[console_password()],
        attributes={"password_enabled": True},
    )
    machine = user(credentials=[access_key(used_days=1)], attributes={"password_enabled": False})
    assert findings(person, "USR-001") == []
    assert findings(machine, "USR-001") == []


# --- USR-002 ---------------------------------------------------------------------------------


def test_usr002_fires_for_inline_and_directly_attached_policies() -> None:
    view = user(
        policies=[
            policy(doc(allow("s3:GetObject")), source="inline", name="uploads"),
            policy(doc(allow("s3:GetObject")), source="managed", name="S3Read", arn="arn:x"),
        ]
    )
    [finding] = findings(view, "USR-002")
    assert finding.severity == "low"
    assert finding.evidence["inline_policies"] == ["uploads"]
    assert "uploads" in finding.message and "S3Read" in finding.message


def test_usr002_does_not_fire_for_group_policies_or_for_roles() -> None:
    grouped = user(policies=[policy(doc(allow("s3:GetObject")), source="group-managed")])
    assert findings(grouped, "USR-002") == []
    assert findings(role(policies=policies(allow("s3:GetObject"))), "USR-002") == []


# --- OWN-001 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "reason"),
    [
        ({"has_owner": False}, "none"),
        ({"has_owner": True, "owner_active": False, "owner_raw": "bob@corp"}, "owner_left"),
        ({"has_owner": False, "owner_unmatched": True, "owner_raw": "ghost@x"}, "unmatched"),
    ],
)
def test_own001_fires_for_orphans(owner: dict, reason: str) -> None:
    [finding] = findings(user(**owner), "OWN-001")
    assert finding.severity == "medium"
    assert finding.evidence["reason"] == reason


def test_own001_is_high_when_the_orphan_is_privileged() -> None:
    view = role(has_owner=False, policies=policies(allow("iam:*")))
    [finding] = findings(view, "OWN-001")
    assert finding.severity == "high" and finding.evidence["privileged"] is True


def test_own001_does_not_fire_for_owned_human_or_service_linked_identities() -> None:
    assert findings(user(), "OWN-001") == []
    assert findings(user(has_owner=False, classification="human"), "OWN-001") == []
    linked = role(has_owner=False, path="/aws-service-role/rds.amazonaws.com/")
    assert findings(linked, "OWN-001") == []


# --- ROLE-001 --------------------------------------------------------------------------------


def test_role001_fires_for_a_role_unused_for_90_days() -> None:
    [finding] = findings(role(used_days=120), "ROLE-001")
    assert "120 days" in finding.message and finding.evidence["days_unused"] == 120


def test_role001_fires_for_a_role_never_used_and_created_long_ago() -> None:
    [finding] = findings(role(used_days=None, created_days=100), "ROLE-001")
    assert finding.evidence["never_used"] is True


def test_role001_does_not_fire_for_recent_use_or_a_young_never_used_role() -> None:
    assert findings(role(used_days=89), "ROLE-001") == []
    assert findings(role(used_days=None, created_days=30), "ROLE-001") == []


def test_role001_skips_service_linked_roles() -> None:
    by_path = role(used_days=None, created_days=900, path="/aws-service-role/ecs.amazonaws.com/")
    by_attribute = role(used_days=500, attributes={"service_linked": True})
    assert findings(by_path, "ROLE-001") == []
    assert findings(by_attribute, "ROLE-001") == []


# --- ROLE-002 --------------------------------------------------------------------------------


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_role002_fires_for_a_public_trust_without_condition(principal: object) -> None:
    [finding] = findings(role(trust_policy=trust(trust_stmt(principal))), "ROLE-002")
    assert finding.severity == "critical"
    assert finding.evidence["statements"][0]["statement"]["Principal"] == principal


def test_role002_does_not_fire_when_an_org_condition_restricts_the_public_principal() -> None:
    condition = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    view = role(trust_policy=trust(trust_stmt({"AWS": "*"}, condition=condition)))
    assert findings(view, "ROLE-002") == []


def test_role002_fires_when_the_condition_restricts_nothing() -> None:
    condition = {"StringLike": {"aws:PrincipalOrgID": "*"}}
    view = role(trust_policy=trust(trust_stmt("*", condition=condition)))
    assert findings(view, "ROLE-002")


# --- ROLE-003 / ROLE-004 ---------------------------------------------------------------------


def _vendor_trust(account: str, external_id: bool) -> dict:
    condition = {"StringEquals": {"sts:ExternalId": "ext-123"}} if external_id else None
    return trust(trust_stmt({"AWS": f"arn:aws:iam::{account}:root"}, condition=condition))


def test_role003_fires_for_an_account_outside_org_and_allow_list() -> None:
    [finding] = findings(role(trust_policy=_vendor_trust(VENDOR_ACCOUNT, True)), "ROLE-003")
    assert finding.key == VENDOR_ACCOUNT and finding.evidence["external_id_required"] is True


def test_role003_does_not_fire_for_organization_or_allow_listed_accounts() -> None:
    assert findings(role(trust_policy=_vendor_trust(ORG_ACCOUNT, False)), "ROLE-003") == []
    allow_listed = ctx(trusted_account_ids=frozenset({VENDOR_ACCOUNT}))
    view = role(trust_policy=_vendor_trust(VENDOR_ACCOUNT, True))
    assert findings(view, "ROLE-003", allow_listed) == []


def test_role004_fires_for_a_third_party_trust_without_external_id() -> None:
    allow_listed = ctx(trusted_account_ids=frozenset({VENDOR_ACCOUNT}))
    view = role(trust_policy=_vendor_trust(VENDOR_ACCOUNT, False))
    [finding] = findings(view, "ROLE-004", allow_listed)
    assert finding.key == VENDOR_ACCOUNT and finding.evidence["relation"] == "allow-listed"


def test_role004_does_not_fire_for_a_third_party_trust_with_an_external_id() -> None:
    assert findings(role(trust_policy=_vendor_trust(VENDOR_ACCOUNT, True)), "ROLE-004") == []


def test_role004_does_not_fire_inside_the_organization() -> None:
    assert findings(role(trust_policy=_vendor_trust(ORG_ACCOUNT, False)), "ROLE-004") == []


# --- ROLE-005 --------------------------------------------------------------------------------


def _github_trust(condition: dict | None) -> dict:
    return trust(
        trust_stmt({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", condition=condition)
    )


def test_role005_fires_for_github_oidc_trust_without_any_condition() -> None:
    [finding] = findings(role(trust_policy=_github_trust(None)), "ROLE-005")
    assert finding.key == "token.actions.githubusercontent.com"
    assert "sub and aud" in finding.message


def test_role005_fires_for_a_sub_of_any_repository() -> None:
    condition = {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"},
    }
    [finding] = findings(role(trust_policy=_github_trust(condition)), "ROLE-005")
    assert (
        finding.evidence["aud_restricted"] is True and finding.evidence["sub_restricted"] is False
    )


def test_role005_does_not_fire_for_a_role_with_a_scoped_oidc_sub() -> None:
    condition = {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/payments:ref:*"},
    }
    assert findings(role(trust_policy=_github_trust(condition)), "ROLE-005") == []


# --- PRIV-001 .. PRIV-004 --------------------------------------------------------------------


def test_priv001_fires_for_allow_everything_and_hides_the_implied_priv_rules() -> None:
    view = role(policies=[policy(doc(allow("*")), source="managed", name="AdministratorAccess")])
    ids = rule_ids(view)
    assert "PRIV-001" in ids and not ids & {"PRIV-002", "PRIV-003", "PRIV-004"}
    [finding] = findings(view, "PRIV-001")
    assert "AdministratorAccess" in finding.message


def test_priv001_fires_for_notaction_with_a_small_exclusion() -> None:
    view = role(policies=policies(allow(not_action=["iam:*", "organizations:*", "account:*"])))
    [finding] = findings(view, "PRIV-001")
    assert "NotAction" in finding.evidence["statements"][0]["note"]


def test_priv001_does_not_fire_when_a_deny_cancels_the_allow() -> None:
    view = role(policies=policies(allow("*"), deny("*")))
    assert findings(view, "PRIV-001") == []


def test_priv001_does_not_fire_for_a_conditional_allow_or_a_scoped_resource() -> None:
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert findings(role(policies=policies(allow("*", condition=mfa))), "PRIV-001") == []
    scoped = role(policies=policies(allow("*", "arn:aws:s3:::bucket/*")))
    assert findings(scoped, "PRIV-001") == []


def test_priv002_fires_per_sensitive_service_wildcard() -> None:
    view = role(policies=policies(allow(["iam:*", "kms:*"]), allow("s3:*")))
    assert {f.key for f in findings(view, "PRIV-002")} == {"iam", "kms"}


def test_priv002_does_not_fire_for_read_only_wildcards_or_when_denied() -> None:
    assert findings(role(policies=policies(allow(["iam:Get*", "iam:List*"]))), "PRIV-002") == []
    denied = role(policies=policies(allow("iam:*"), deny("iam:*")))
    assert findings(denied, "PRIV-002") == []


def test_priv003_fires_for_a_combination_spread_over_two_policies() -> None:
    view = role(
        policies=policies(
            allow("iam:PassRole"), allow(["lambda:CreateFunction", "lambda:InvokeFunction"])
        )
    )
    [finding] = findings(view, "PRIV-003")
    assert "lambda-create-and-invoke" in finding.evidence["path_ids"]
    path = finding.evidence["paths"][0]
    assert path["grants"]["iam:PassRole"][0]["policy"] == "p0"
    assert path["grants"]["lambda:CreateFunction"][0]["policy"] == "p1"


def test_priv003_does_not_fire_when_a_deny_cancels_one_action_of_the_combination() -> None:
    view = role(
        policies=policies(
            allow("iam:PassRole", "arn:aws:iam::111111111111:role/app"),
            allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
        )
    )
    assert findings(view, "PRIV-003") == []
    cancelled = role(
        policies=policies(
            allow("iam:PassRole"),
            allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
            deny("lambda:InvokeFunction"),
        )
    )
    assert "lambda-create-and-invoke" not in str(findings(cancelled, "PRIV-003"))


def test_priv004_fires_for_passrole_on_every_role() -> None:
    [finding] = findings(role(policies=policies(allow("iam:PassRole"))), "PRIV-004")
    assert finding.evidence["statements"][0]["statement"]["Action"] == "iam:PassRole"


def test_priv004_does_not_fire_for_passrole_on_named_roles() -> None:
    scoped = allow("iam:PassRole", "arn:aws:iam::111111111111:role/app-*")
    assert findings(role(policies=policies(scoped)), "PRIV-004") == []


def test_instance_profiles_are_judged_on_their_roles_policies() -> None:
    view = identity(
        "instance_profile",
        name="web-profile",
        policies=[policy(doc(allow("*")), source="role", name="Admin", role="web-role")],
    )
    [finding] = findings(view, "PRIV-001")
    assert finding.evidence["statements"][0]["role"] == "web-role"


# --- SEC-001 ---------------------------------------------------------------------------------


def test_sec001_fires_when_rotation_is_disabled() -> None:
    view = secret(attributes={"rotation_enabled": False}, credentials=[secret_credential()])
    [finding] = findings(view, "SEC-001")
    assert finding.evidence["reason"] == "rotation_disabled"
    assert "turned off" in finding.message


def test_sec001_fires_when_rotation_is_on_but_stalled() -> None:
    view = secret(
        attributes={"rotation_enabled": True, "last_rotated_at": "2025-09-01T00:00:00+00:00"},
    )
    [finding] = findings(view, "SEC-001")
    assert finding.evidence["reason"] == "not_rotated"
    assert finding.evidence["days_since_rotation"] > 90


def test_sec001_does_not_fire_for_a_secret_rotated_recently() -> None:
    view = secret(
        attributes={"rotation_enabled": True},
        credentials=[secret_credential(rotation_enabled=True, rotated_days=10)],
    )
    assert findings(view, "SEC-001") == []


# --- LEAK-001 --------------------------------------------------------------------------------

REPORT = {
    "tool": "gitleaks",
    "repository": "acme/payments",
    "file": "deploy/env.sh",
    "commit": "abc123",
    "author": "dev@acme.example",
    "line": 12,
    "date": "2026-05-01T10:00:00Z",
    "rule": "aws-access-token",
}


def test_leak001_fires_for_a_leaked_key_with_where_it_was_found() -> None:
    context = ctx(leaked_keys={KEY_A: [REPORT]})
    [finding] = findings(user(credentials=[access_key(used_days=1)]), "LEAK-001", context)
    assert finding.severity == "critical" and finding.key == KEY_A
    report = finding.evidence["reports"][0]
    assert (report["repository"], report["file"], report["commit"], report["author"]) == (
        "acme/payments",
        "deploy/env.sh",
        "abc123",
        "dev@acme.example",
    )


def test_leak001_does_not_fire_for_keys_not_reported() -> None:
    context = ctx(leaked_keys={KEY_B: [REPORT]})
    assert findings(user(credentials=[access_key(used_days=1)]), "LEAK-001", context) == []


# --- cross-cutting ---------------------------------------------------------------------------


def test_every_finding_is_json_serialisable_and_plain_language() -> None:
    context = ctx(leaked_keys={KEY_A: [REPORT]})
    views = [
        user(
            has_owner=False,
            classification="machine_used_by_person",
            credentials=[access_key(created_days=400), access_key(KEY_B, created_days=300)],
            policies=policies(allow("iam:PassRole"), allow("iam:CreatePolicyVersion")),
        ),
        role(
            used_days=None,
            created_days=400,
            trust_policy=trust(trust_stmt("*"), trust_stmt({"Federated": GITHUB})),
            policies=policies(allow("*")),
        ),
        secret(credentials=[secret_credential()]),
        root(credentials=[access_key()]),
    ]
    seen: set[str] = set()
    for view in views:
        for finding in evaluate(view, context):
            seen.add(finding.rule_id)
            json.dumps(finding.evidence)
            assert finding.message.endswith(".")
            assert finding.severity in ("critical", "high", "medium", "low")
    assert len(seen) >= 14


def test_naive_datetimes_are_read_as_utc() -> None:
    naive_key = access_key(created_days=400)
    naive_key = type(naive_key)(
        kind="access_key",
        native_id=KEY_A,
        status="active",
        created_at=naive_key.created_at.replace(tzinfo=None) if naive_key.created_at else None,
    )
    assert findings(user(credentials=[naive_key]), "AK-002")


def test_stored_values_of_the_wrong_shape_do_not_break_evaluation() -> None:
    odd_secret = CredentialView(kind="secret", native_id="s", status="active", attributes=[1])  # type: ignore[arg-type]
    for kind in ("iam_user", "iam_role", "secret"):
        view = with_(
            identity(kind, has_owner=False, credentials=[odd_secret, access_key()]),
            attributes=["not", "a", "dict"],
            policies="junk",
            trust_policy=["junk"],
        )
        evaluate(view, ctx(leaked_keys={KEY_A: ["not a report", {"repository": ["x"]}]}))
