"""Privilege-escalation combinations on the identity's effective permissions."""

from __future__ import annotations

import pytest

from inventory.risk.escalation import ESCALATION_BY_ID, ESCALATION_PATHS, EscalationPath
from inventory.risk.evaluator import PolicySet, escalation_paths
from tests.risk.builders import allow, deny, policies


def paths(*statements: dict) -> set[str]:
    return {p["id"] for p in escalation_paths(PolicySet.from_policies(policies(*statements)))}


def test_the_catalogue_has_at_least_twenty_well_formed_paths() -> None:
    assert len(ESCALATION_PATHS) >= 20
    assert len(ESCALATION_BY_ID) == len(ESCALATION_PATHS)
    for path in ESCALATION_PATHS:
        assert path.name and path.description and path.actions
        assert all(a.count(":") == 1 for a in path.actions), path.id


@pytest.mark.parametrize("path", ESCALATION_PATHS, ids=lambda p: p.id)
def test_each_path_fires_with_all_its_actions_and_not_with_one_missing(
    path: EscalationPath,
) -> None:
    assert path.id in paths(allow(list(path.actions)))
    if len(path.actions) > 1:
        assert path.id not in paths(allow(list(path.actions[1:])))
    assert path.id not in paths(allow(list(path.actions)), deny(path.actions[-1]))


def test_a_combination_spread_over_policies_is_found() -> None:
    found = paths(
        allow("iam:PassRole"), allow("lambda:CreateFunction"), allow("lambda:InvokeFunction")
    )
    assert "lambda-create-and-invoke" in found


def test_wildcards_grant_the_actions_of_a_path() -> None:
    assert "ec2-run-instances" in paths(allow(["iam:Pass*", "ec2:Run*"]))
    assert "iam-create-policy-version" in paths(allow("iam:*"))


def test_a_deny_on_one_action_cancels_the_combination() -> None:
    found = paths(allow(["iam:PassRole", "ec2:RunInstances"]), deny("ec2:*"))
    assert "ec2-run-instances" not in found


def test_a_conditional_or_scoped_grant_does_not_make_a_path() -> None:
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert "iam-create-access-key" not in paths(allow("iam:CreateAccessKey", condition=mfa))
    scoped = allow("iam:CreateAccessKey", "arn:aws:iam::111111111111:user/${aws:username}")
    assert "iam-create-access-key" not in paths(scoped)


def test_each_found_path_names_the_statements_granting_each_action() -> None:
    ps = PolicySet.from_policies(policies(allow("iam:PassRole"), allow("ec2:*")))
    [path] = [p for p in escalation_paths(ps) if p["id"] == "ec2-run-instances"]
    assert path["grants"]["iam:PassRole"][0]["policy"] == "p0"
    assert path["grants"]["ec2:RunInstances"][0]["statement"]["Action"] == "ec2:*"
