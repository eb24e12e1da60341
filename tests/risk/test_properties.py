"""Property-based tests of the policy evaluator, the trust analysis and the rules (hypothesis)."""

from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.risk.escalation import ESCALATION_PATHS
from inventory.risk.evaluator import (
    PolicySet,
    analyze_policies,
    analyze_trust,
    escalation_paths,
    wildcard_match,
)
from inventory.risk.rules import evaluate
from tests.risk.builders import ctx, identity, policy

ACTION_PATTERNS = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:GetObject",
    "s3:?etObject",
    "iam:*",
    "iam:PassRole",
    "iam:Create*",
    "lambda:*",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "ec2:RunInstances",
    "sts:AssumeRole",
    "*:Get*",
    "kms:*",
    "ssm:Send*",
]
ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "iam:PassRole",
    "iam:CreateUser",
    "iam:CreatePolicyVersion",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "ec2:RunInstances",
    "sts:AssumeRole",
    "kms:Decrypt",
    "dynamodb:GetItem",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::*",
    "arn:aws:iam::*:*",
    "arn:aws:iam::123456789012:role/app-*",
]
RESOURCES = [
    "*",
    "arn:aws:s3:::bucket/key",
    "arn:aws:s3:::other/key",
    "arn:aws:iam::123456789012:role/app-api",
    "arn:aws:iam::123456789012:user/bob",
]


def _case(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.lower(), text.swapcase()])


def _field(pool: list[str], *, case: bool) -> st.SearchStrategy[Any]:
    item = st.sampled_from(pool).flatmap(_case) if case else st.sampled_from(pool)
    return st.one_of(item, st.lists(item, min_size=1, max_size=4))


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    action_key = draw(st.sampled_from(["Action", "Action", "NotAction"]))
    out[action_key] = draw(_field(ACTION_PATTERNS, case=True))
    resource_key = draw(st.sampled_from(["Resource", "Resource", "NotResource"]))
    out[resource_key] = draw(_field(RESOURCE_PATTERNS, case=False))
    if draw(st.integers(0, 4)) == 0:
        out["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return out


statement_lists = st.lists(statements(), max_size=6)

# No per-example deadline: the suite runs on shared, sometimes loaded, machines.
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(stmts: list[dict[str, Any]], *, split: bool = False) -> PolicySet:
    if split:
        docs = [policy({"Statement": s}, name=f"p{i}") for i, s in enumerate(stmts)]
    else:
        docs = [policy({"Statement": stmts})]
    return PolicySet.from_policies(docs)


def allowed_set(ps: PolicySet) -> set[tuple[str, str]]:
    return {(a, r) for a in ACTIONS for r in RESOURCES if ps.is_allowed(a, r)}


# --- the evaluator ---------------------------------------------------------------------------


@SETTINGS
@given(statement_lists, st.sampled_from(ACTIONS), st.sampled_from(RESOURCES))
def test_an_unconditional_deny_all_denies_everything(
    stmts: list[dict[str, Any]], action: str, resource: str
) -> None:
    ps = build([*stmts, {"Effect": "Deny", "Action": "*", "Resource": "*"}])
    assert not ps.is_allowed(action, resource)
    assert not ps.is_allowed(action, resource, unconditional_only=False)
    assert not ps.allows_everything()[0]
    assert escalation_paths(ps) == []


@SETTINGS
@given(statement_lists, statements(effect="Allow"))
def test_adding_an_allow_never_removes_an_allowed_action(
    stmts: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    before = build(stmts)
    after = build([*stmts, extra])
    assert allowed_set(before) <= allowed_set(after)
    assert {p["id"] for p in escalation_paths(before)} <= {p["id"] for p in escalation_paths(after)}


@SETTINGS
@given(statement_lists, statements(effect="Deny"))
def test_adding_a_deny_never_adds_an_allowed_action(
    stmts: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    assert allowed_set(build([*stmts, extra])) <= allowed_set(build(stmts))


@SETTINGS
@given(statement_lists, st.randoms(use_true_random=False))
def test_order_and_split_into_policies_do_not_matter(stmts: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(stmts)
    rnd.shuffle(shuffled)
    expected = allowed_set(build(stmts))
    assert allowed_set(build(shuffled)) == expected
    assert allowed_set(build(stmts, split=True)) == expected


@SETTINGS
@given(statement_lists, st.sampled_from(ACTIONS).flatmap(_case), st.sampled_from(RESOURCES))
def test_action_case_does_not_matter(
    stmts: list[dict[str, Any]], action: str, resource: str
) -> None:
    ps = build(stmts)
    assert ps.is_allowed(action, resource) == ps.is_allowed(action.lower(), resource)


def _reference_applies(stmt: dict[str, Any], action: str, resource: str) -> bool:
    """A direct reading of IAM's rules for one concrete resource (fnmatch has the same * and ?)."""

    def as_list(value: Any) -> list[str]:
        return [value] if isinstance(value, str) else list(value)

    if "Action" in stmt:
        hit = any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in as_list(stmt["Action"]))
    else:
        hit = not any(
            fnmatch.fnmatchcase(action.lower(), p.lower()) for p in as_list(stmt["NotAction"])
        )
    if "Resource" in stmt:
        on = any(fnmatch.fnmatchcase(resource, p) for p in as_list(stmt["Resource"]))
    else:
        on = not any(fnmatch.fnmatchcase(resource, p) for p in as_list(stmt["NotResource"]))
    return hit and on and "Condition" not in stmt


@SETTINGS
@given(
    statement_lists,
    st.sampled_from(ACTIONS),
    st.sampled_from([r for r in RESOURCES if r != "*"]),
)
def test_concrete_resources_agree_with_a_reference_reading(
    stmts: list[dict[str, Any]], action: str, resource: str
) -> None:
    applying = [s for s in stmts if _reference_applies(s, action, resource)]
    expected = any(s["Effect"] == "Allow" for s in applying) and not any(
        s["Effect"] == "Deny" for s in applying
    )
    assert build(stmts).is_allowed(action, resource) == expected


glob_text = st.text(alphabet="ab:*?", max_size=12)


@SETTINGS
@given(glob_text, st.text(alphabet="ab:", max_size=12))
def test_wildcard_match_agrees_with_fnmatch(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) == fnmatch.fnmatchcase(text, pattern)


# --- hostile input ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Statement",
                    "Effect",
                    "Action",
                    "NotAction",
                    "Resource",
                    "NotResource",
                    "Condition",
                    "Principal",
                    "NotPrincipal",
                    "AWS",
                    "Federated",
                    "Service",
                    "StringEquals",
                    "StringLike",
                    "sts:ExternalId",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
semi_valid_statement = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny", "allow", 3])},
    optional={
        "Action": json_values,
        "NotAction": json_values,
        "Resource": json_values,
        "NotResource": json_values,
        "Principal": st.one_of(st.just("*"), json_values),
        "Condition": json_values,
    },
)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"Statement": st.one_of(semi_valid_statement, st.lists(semi_valid_statement, max_size=4))}
    ),
)


@settings(SETTINGS, max_examples=200)
@given(st.lists(st.one_of(json_values, st.builds(policy, documents)), max_size=4), documents)
def test_arbitrary_json_never_raises(policies: list[Any], trust_policy: Any) -> None:
    ps = PolicySet.from_policies(policies)
    ps.is_allowed("iam:PassRole")
    ps.allows_everything()
    ps.service_wildcards()
    ps.matching_statements("s3:GetObject")
    escalation_paths(ps)
    analyze_policies(policies)
    analyze_trust(trust_policy, own_account_id="111111111111")
    analyze_trust(policies)


@settings(SETTINGS, max_examples=150)
@given(
    st.lists(st.builds(policy, documents), max_size=3),
    documents,
    st.dictionaries(st.text(max_size=20), json_values, max_size=5),
    st.sampled_from(["iam_user", "iam_role", "instance_profile", "secret", "root", "bot"]),
)
def test_rules_never_raise_on_hostile_views(
    policies: list[Any], trust_policy: Any, attributes: dict[str, Any], kind: str
) -> None:
    view = identity(kind, policies=policies, attributes=attributes, has_owner=False)
    view = replace(view, trust_policy=trust_policy)
    for finding in evaluate(view, ctx()):
        assert finding.severity in ("critical", "high", "medium", "low")


INTERESTING = [
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "ec2:RunInstances",
    "ssm:SendCommand",
]


@SETTINGS
@given(statement_lists)
def test_precomputed_privilege_answers_match_the_generic_evaluator(
    stmts: list[dict[str, Any]],
) -> None:
    ps = build(stmts, split=True)
    generic = build(stmts, split=True)
    for action in INTERESTING:
        assert ps.is_allowed(action) == bool(generic._grants(action.lower(), "*", True))
    found = {p["id"] for p in escalation_paths(ps)}
    expected = {
        path.id
        for path in ESCALATION_PATHS
        if all(generic._grants(a.lower(), "*", True) for a in path.actions)
    }
    assert found == expected
