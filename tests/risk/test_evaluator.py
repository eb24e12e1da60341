"""The policy evaluator: IAM semantics of Allow/Deny, (Not)Action, (Not)Resource, conditions."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from inventory.risk.evaluator import (
    PolicySet,
    analyze_policies,
    canonical_json,
    clear_caches,
    wildcard_match,
)
from tests.risk.builders import allow, deny, doc, policies, policy


def ps(*statements: dict) -> PolicySet:
    return PolicySet.from_policies(policies(*statements))


# --- Allow and Deny --------------------------------------------------------------------------


def test_nothing_is_allowed_without_an_allow() -> None:
    assert not PolicySet.from_policies([]).is_allowed("s3:GetObject")
    assert not ps(deny("*")).is_allowed("s3:GetObject")


def test_an_allow_grants_exactly_its_action() -> None:
    p = ps(allow("s3:GetObject"))
    assert p.is_allowed("s3:GetObject")
    assert not p.is_allowed("s3:PutObject")


def test_an_explicit_deny_wins_over_an_allow_in_another_policy() -> None:
    p = ps(allow("s3:*"), deny("s3:DeleteObject"))
    assert p.is_allowed("s3:GetObject")
    assert not p.is_allowed("s3:DeleteObject")


def test_a_conditional_deny_does_not_cancel_an_allow() -> None:
    p = ps(allow("s3:*"), deny("s3:*", condition={"Bool": {"aws:SecureTransport": "false"}}))
    assert p.is_allowed("s3:GetObject")


def test_a_conditional_allow_counts_only_when_asked_for() -> None:
    p = ps(allow("s3:GetObject", condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert not p.is_allowed("s3:GetObject")
    assert p.is_allowed("s3:GetObject", unconditional_only=False)


def test_an_empty_condition_is_unconditional() -> None:
    assert ps(allow("s3:GetObject", condition={})).is_allowed("s3:GetObject")


# --- wildcards and case ----------------------------------------------------------------------


def test_star_wildcards_in_actions() -> None:
    p = ps(allow("s3:Get*"))
    assert p.is_allowed("s3:GetObject") and p.is_allowed("s3:GetBucketPolicy")
    assert not p.is_allowed("s3:PutObject")
    assert ps(allow("iam:*")).is_allowed("iam:CreateUser")
    assert ps(allow("*")).is_allowed("anything:AtAll")


def test_question_mark_matches_exactly_one_character() -> None:
    p = ps(allow("s3:?etObject"))
    assert p.is_allowed("s3:GetObject")
    assert not p.is_allowed("s3:GGetObject")


def test_service_and_action_names_are_case_insensitive() -> None:
    p = ps(allow("S3:getobject"))
    assert p.is_allowed("s3:GetObject") and p.is_allowed("S3:GETOBJECT")
    assert ps(allow("IAM:*")).is_allowed("iam:passrole")


def test_resource_arns_match_with_wildcards_and_case() -> None:
    p = ps(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))
    assert p.is_allowed("s3:GetObject", "arn:aws:s3:::bucket/a/b.txt")
    assert not p.is_allowed("s3:GetObject", "arn:aws:s3:::other/a")
    assert not p.is_allowed("s3:GetObject", "arn:aws:s3:::BUCKET/a")
    assert not p.is_allowed("s3:GetObject")  # not on every resource


def test_hostile_wildcard_patterns_stay_fast() -> None:
    pattern = "*a" * 40 + "*b"
    start = time.perf_counter()
    assert not wildcard_match(pattern, "a" * 2000)
    assert not ps(allow(pattern.replace("b", "iam:b"))).is_allowed("a" * 500)
    assert time.perf_counter() - start < 1.0


# --- NotAction and NotResource ---------------------------------------------------------------


def test_allow_notaction_grants_everything_but_the_exclusions() -> None:
    p = ps(allow(not_action=["iam:*", "organizations:*"]))
    assert p.is_allowed("s3:GetObject") and p.is_allowed("ec2:RunInstances")
    assert not p.is_allowed("iam:CreateUser")


def test_deny_notaction_denies_everything_but_the_exclusions() -> None:
    p = ps(allow("*"), deny(not_action=["s3:Get*"]))
    assert p.is_allowed("s3:GetObject")
    assert not p.is_allowed("s3:PutObject") and not p.is_allowed("iam:CreateUser")


def test_allow_notresource_excludes_resources() -> None:
    p = ps(allow("s3:*", not_resource="arn:aws:s3:::secrets/*"))
    assert p.is_allowed("s3:GetObject", "arn:aws:s3:::public/x")
    assert not p.is_allowed("s3:GetObject", "arn:aws:s3:::secrets/x")
    # The exclusion touches S3, so S3 is not granted on every resource...
    assert not p.is_allowed("s3:GetObject")
    # ...but an exclusion of S3 resources leaves IAM whole.
    assert ps(allow("iam:PassRole", not_resource="arn:aws:s3:::x")).is_allowed("iam:PassRole")


def test_deny_on_part_of_the_resources_does_not_cancel_on_every_resource() -> None:
    p = ps(allow("s3:*"), deny("s3:*", "arn:aws:s3:::secrets/*"))
    assert p.is_allowed("s3:GetObject")
    assert not p.is_allowed("s3:GetObject", "arn:aws:s3:::secrets/key")


def test_service_wide_resource_patterns_count_as_every_resource() -> None:
    assert ps(allow("iam:PassRole", "arn:aws:iam::*:*")).is_allowed("iam:PassRole")
    assert ps(allow("s3:GetObject", "arn:aws:s3:::*")).is_allowed("s3:GetObject")
    assert not ps(allow("iam:PassRole", "arn:aws:iam::*:role/app-*")).is_allowed("iam:PassRole")
    assert not ps(allow("iam:PassRole", "arn:aws:s3:::*")).is_allowed("iam:PassRole")


# --- document shapes -------------------------------------------------------------------------


def test_single_statement_dict_and_string_fields_are_accepted() -> None:
    single = {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    listed = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}
    for document in (single, listed):
        assert PolicySet.from_policies([policy(document)]).is_allowed("s3:GetObject")


def test_documents_given_as_json_or_url_encoded_strings_are_read() -> None:
    text = json.dumps(doc(allow("s3:GetObject")))
    for document in (text, quote(text)):
        assert PolicySet.from_policies([policy(document)]).is_allowed("s3:GetObject")


@pytest.mark.parametrize(
    "bad",
    [
        {"Effect": "Maybe", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": "*"},
        {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": [1, 2], "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": "always"},
        "not a statement",
    ],
)
def test_malformed_statements_are_skipped_and_counted(bad: object) -> None:
    p = PolicySet.from_policies([policy({"Statement": [bad, allow("s3:GetObject")]})])
    assert p.malformed == 1
    assert p.is_allowed("s3:GetObject") and not p.is_allowed("iam:CreateUser")


def test_malformed_documents_and_entries_are_counted() -> None:
    p = PolicySet.from_policies([policy(None), policy({"Statement": 3}), "junk", policy("{")])
    assert p.malformed == 4 and not p.entries


def test_non_list_policies_give_an_empty_set() -> None:
    assert PolicySet.from_policies(None).entries == ()
    assert PolicySet.from_policies({"a": 1}).entries == ()


# --- evidence and privilege questions ---------------------------------------------------------


def test_matching_statements_shows_allows_and_denies_with_their_policy() -> None:
    p = PolicySet.from_policies(
        [
            policy(doc(allow("s3:*")), source="managed", name="S3Full", arn="arn:aws:iam::aws:x"),
            policy(doc(deny("s3:DeleteObject")), source="group-inline", name="g", group="ops"),
        ]
    )
    found = p.matching_statements("s3:deleteobject")
    assert [(e["policy"], e["effect"]) for e in found] == [("S3Full", "Allow"), ("g", "Deny")]
    assert found[0]["arn"] == "arn:aws:iam::aws:x" and found[1]["group"] == "ops"
    assert found[1]["statement"] == deny("s3:DeleteObject")


def test_allows_everything_needs_star_on_star_without_deny_all() -> None:
    admin, evidence = ps(allow("*")).allows_everything()
    assert admin and evidence[0]["statement"] == allow("*")
    assert not ps(allow("*"), deny("*"))._grants("x:y", "*", True)
    assert not ps(allow("*"), deny("*")).allows_everything()[0]
    assert not ps(allow(["s3:*", "ec2:*", "iam:*"])).allows_everything()[0]
    # A partial Deny does not make it less than admin.
    assert ps(allow("*"), deny("iam:DeleteRole")).allows_everything()[0]


def test_notaction_with_a_long_exclusion_list_is_not_admin() -> None:
    exclusions = [f"svc{i}:*" for i in range(20)]
    assert not ps(allow(not_action=exclusions)).allows_everything()[0]


def test_allow_star_except_a_few_resources_is_admin_like() -> None:
    admin, evidence = ps(allow("*", not_resource="arn:aws:s3:::vault/*")).allows_everything()
    assert admin and "NotResource" in evidence[0]["note"]


def test_service_wildcards_see_through_notaction_and_deny() -> None:
    assert set(ps(allow(not_action="s3:*")).service_wildcards()) == {
        "iam",
        "sts",
        "kms",
        "secretsmanager",
    }
    assert set(ps(allow("*"), deny("kms:*")).service_wildcards()) == {
        "iam",
        "sts",
        "secretsmanager",
    }
    assert ps(allow(["iam:Get*", "iam:List*"])).service_wildcards() == {}


def test_analysis_is_cached_on_the_canonical_documents() -> None:
    clear_caches()
    first = analyze_policies(policies(allow("iam:*")))
    again = analyze_policies(policies(allow("iam:*")))
    assert first is again
    assert canonical_json({"b": 1, "a": [1]}) == canonical_json({"a": [1], "b": 1})
    assert canonical_json({1: "x", "a": "y"}) is None


def test_uncacheable_documents_are_still_evaluated() -> None:
    weird = policy({"Statement": [allow("iam:*")], 1: {"mixed": "keys"}})
    assert analyze_policies([weird]).service_wildcards.keys() == {"iam"}


def test_huge_lists_are_cut_in_evidence() -> None:
    many = [f"s3:Get{i}" for i in range(500)]
    [evidence] = ps(allow([*many, "iam:*"])).matching_statements("iam:CreateUser")
    assert len(evidence["statement"]["Action"]) == 51
