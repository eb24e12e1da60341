"""Trust policy analysis: who may assume a role, and what restricts them."""

from __future__ import annotations

from typing import Any

import pytest

from inventory.risk.evaluator import analyze_trust
from tests.risk.builders import GITHUB, ORG_ACCOUNT, OWN_ACCOUNT, VENDOR_ACCOUNT, trust, trust_stmt

GH = "token.actions.githubusercontent.com"


def analyze(*statements: dict[str, Any], trusted: frozenset[str] = frozenset()) -> Any:
    return analyze_trust(
        trust(*statements),
        own_account_id=OWN_ACCOUNT,
        organization_account_ids=frozenset({OWN_ACCOUNT, ORG_ACCOUNT}),
        trusted_account_ids=trusted,
    )


def test_service_principals_are_listed_and_not_flagged() -> None:
    result = analyze(trust_stmt({"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}))
    assert result.services == ("lambda.amazonaws.com", "ec2.amazonaws.com")
    assert not (result.public or result.accounts or result.federated)


def test_no_trust_policy_means_nobody() -> None:
    assert analyze_trust(None) == analyze_trust({"Statement": []})


# --- public principals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "*"}, {"aws": ["*"]}, {"AWS": "arn:aws:iam::*:root"}],
)
def test_public_principals_are_detected(principal: Any) -> None:
    result = analyze(trust_stmt(principal))
    assert len(result.unrestricted_public) == 1


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"StringEquals": {"AWS:SOURCEACCOUNT": ["111111111111"]}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/ci-*"}},
        {"StringEquals": {"sts:ExternalId": "x-1"}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc/r-1/ou-1/*"}},
    ],
)
def test_restricting_conditions_confine_a_public_principal(condition: dict) -> None:
    result = analyze(trust_stmt({"AWS": "*"}, condition=condition))
    assert result.public and not result.unrestricted_public


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}},
        {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"StringLike": {"aws:PrincipalOrgID": ["o-abc123", "*"]}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
    ],
)
def test_conditions_that_restrict_nothing_leave_it_public(condition: dict) -> None:
    assert analyze(trust_stmt("*", condition=condition)).unrestricted_public


def test_allow_with_notprincipal_is_public() -> None:
    statement = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
        "Action": "sts:AssumeRole",
    }
    assert analyze(statement).unrestricted_public[0].principal == "NotPrincipal"


def test_an_unconditional_deny_of_everyone_cancels_every_grant() -> None:
    result = analyze(trust_stmt("*"), trust_stmt("*", effect="Deny"))
    assert not result.public


def test_statements_without_an_assume_action_are_ignored() -> None:
    assert not analyze(trust_stmt("*", action="sts:GetCallerIdentity")).public
    assert analyze(trust_stmt("*", action="sts:*")).public
    assert analyze(trust_stmt("*", action="STS:ASSUMEROLE")).public


# --- AWS accounts ----------------------------------------------------------------------------


def test_account_relations_are_own_organization_allow_listed_or_external() -> None:
    result = analyze(
        trust_stmt(
            {
                "AWS": [
                    OWN_ACCOUNT,
                    f"arn:aws:iam::{ORG_ACCOUNT}:role/deployer",
                    "333333333333",
                    f"arn:aws:iam::{VENDOR_ACCOUNT}:root",
                ]
            }
        ),
        trusted=frozenset({"333333333333"}),
    )
    relations = {g.account_id: g.relation for g in result.accounts}
    assert relations == {
        OWN_ACCOUNT: "own",
        ORG_ACCOUNT: "organization",
        "333333333333": "allow-listed",
        VENDOR_ACCOUNT: "external",
    }
    assert [g.account_id for g in result.outside_accounts] == [VENDOR_ACCOUNT]
    assert {g.account_id for g in result.third_party_without_external_id} == {
        "333333333333",
        VENDOR_ACCOUNT,
    }


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"sts:ExternalId": "abc"}},
        {"stringequals": {"STS:EXTERNALID": ["abc", "def"]}},
        {"StringLike": {"sts:ExternalId": "acme-*"}},
    ],
)
def test_external_id_is_recognised_whatever_the_case_or_shape(condition: dict) -> None:
    result = analyze(trust_stmt({"AWS": VENDOR_ACCOUNT}, condition=condition))
    assert result.accounts[0].external_id_required
    assert not result.third_party_without_external_id


def test_an_external_id_of_any_value_is_not_required() -> None:
    condition = {"StringLike": {"sts:ExternalId": "*"}}
    result = analyze(trust_stmt({"AWS": VENDOR_ACCOUNT}, condition=condition))
    assert result.third_party_without_external_id


def test_unresolvable_principals_are_kept_aside() -> None:
    result = analyze(trust_stmt({"AWS": "AROAEXAMPLEDELETEDROLE", "CanonicalUser": "abc"}))
    assert set(result.unresolved) == {"AROAEXAMPLEDELETEDROLE", "CanonicalUser:abc"}


# --- federated -------------------------------------------------------------------------------


def github(condition: dict | None) -> Any:
    return analyze(
        trust_stmt({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", condition=condition)
    )


def test_github_oidc_without_conditions_is_unrestricted() -> None:
    [grant] = github(None).unrestricted_oidc
    assert grant.provider == GH and not grant.sub_restricted and not grant.aud_restricted


@pytest.mark.parametrize(
    "sub",
    ["repo:acme/app:ref:refs/heads/main", "repo:acme/*", ["repo:acme/a:*", "repo:acme/b:*"]],
)
def test_github_oidc_with_a_scoped_sub_is_restricted(sub: Any) -> None:
    result = github({"StringLike": {f"{GH}:sub": sub}})
    assert result.federated[0].sub_restricted and not result.unrestricted_oidc


@pytest.mark.parametrize("sub", ["*", "repo:*", "repo:*/*:*", ["repo:acme/a:*", "*"]])
def test_github_oidc_with_a_sub_of_anything_is_unrestricted(sub: Any) -> None:
    assert github({"StringLike": {f"{GH}:sub": sub}}).unrestricted_oidc


def test_github_aud_alone_does_not_restrict() -> None:
    result = github({"StringEquals": {f"{GH}:aud": "sts.amazonaws.com"}})
    [grant] = result.unrestricted_oidc
    assert grant.aud_restricted and grant.aud_values == ("sts.amazonaws.com",)


def test_condition_keys_for_the_provider_are_case_insensitive() -> None:
    result = github({"StringEquals": {f"{GH.upper()}:SUB": "repo:acme/app:environment:prod"}})
    assert not result.unrestricted_oidc


def test_a_deny_unless_sub_pins_the_sub() -> None:
    result = analyze(
        trust_stmt({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity"),
        trust_stmt(
            "*",
            "sts:AssumeRoleWithWebIdentity",
            effect="Deny",
            condition={"StringNotLike": {f"{GH}:sub": "repo:acme/*"}},
        ),
    )
    assert not result.unrestricted_oidc


def test_eks_oidc_needs_its_sub() -> None:
    provider = "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"
    fed = f"arn:aws:iam::{OWN_ACCOUNT}:oidc-provider/{provider}"
    open_ = analyze(trust_stmt({"Federated": fed}, "sts:AssumeRoleWithWebIdentity"))
    pinned = analyze(
        trust_stmt(
            {"Federated": fed},
            "sts:AssumeRoleWithWebIdentity",
            condition={"StringEquals": {f"{provider}:sub": "system:serviceaccount:pay:api"}},
        )
    )
    assert open_.unrestricted_oidc and not pinned.unrestricted_oidc


def test_cognito_is_restricted_by_its_audience() -> None:
    statement = trust_stmt(
        {"Federated": "cognito-identity.amazonaws.com"},
        "sts:AssumeRoleWithWebIdentity",
        condition={"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool-id"}},
    )
    assert not analyze(statement).unrestricted_oidc
    open_statement = trust_stmt(
        {"Federated": "cognito-identity.amazonaws.com"}, "sts:AssumeRoleWithWebIdentity"
    )
    assert analyze(open_statement).unrestricted_oidc


def test_saml_providers_are_listed_and_not_flagged() -> None:
    saml = f"arn:aws:iam::{OWN_ACCOUNT}:saml-provider/Okta"
    result = analyze(trust_stmt({"Federated": saml}, "sts:AssumeRoleWithSAML"))
    assert result.federated[0].kind == "saml" and not result.unrestricted_oidc


# --- hostile shapes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "garbage",
        '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}',
        {"Statement": [None, 1, "x", []]},
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": [1, None]}, "Action": "*"}]},
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": 5}]},
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {"X": 5}}
            ]
        },
        {"Statement": [{"Effect": ["Allow"], "Principal": "*", "Action": "*"}]},
        [1, 2, 3],
    ],
)
def test_hostile_trust_documents_never_raise(document: Any) -> None:
    analyze_trust(document, own_account_id=OWN_ACCOUNT)


def test_a_json_string_trust_policy_is_read() -> None:
    result = analyze_trust(
        '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}'
    )
    assert result.unrestricted_public
