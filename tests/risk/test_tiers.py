"""Risk tiers from findings and privilege."""

from __future__ import annotations

import pytest

from inventory.risk.rules import FindingResult, assess
from inventory.risk.tiers import REVIEW_CADENCE_DAYS, risk_tier
from tests.risk.builders import allow, ctx, policies, role, root, user


def f(severity: str) -> FindingResult:
    return FindingResult("X-1", severity, "", "m.", {})


@pytest.mark.parametrize(
    ("severities", "privileged", "tier"),
    [
        (["critical", "low"], False, "critical"),
        (["high"], False, "high"),
        (["medium"], True, "high"),
        (["medium", "low"], False, "medium"),
        ([], True, "medium"),
        (["low"], True, "medium"),
        (["low"], False, "low"),
        ([], False, "low"),
    ],
)
def test_risk_tier(severities: list[str], privileged: bool, tier: str) -> None:
    assert risk_tier([f(s) for s in severities], privileged=privileged) == tier


def test_review_cadence_is_at_most_six_months() -> None:
    assert REVIEW_CADENCE_DAYS["critical"] == 30 and REVIEW_CADENCE_DAYS["high"] == 90
    assert max(REVIEW_CADENCE_DAYS.values()) <= 183


def test_assess_combines_findings_privilege_and_tier() -> None:
    assert assess(user(), ctx()).tier == "low"
    privileged = assess(role(policies=policies(allow("sts:*"))), ctx())
    assert privileged.privileged and privileged.tier == "high"
    assert assess(root(), ctx()).privileged


def test_severities_and_tiers_are_the_models_choices() -> None:
    from inventory.choices import RiskTier, Severity
    from inventory.risk.rules import RULES, SEVERITIES
    from inventory.risk.tiers import TIERS

    assert set(SEVERITIES) == set(Severity.values)
    assert {r.severity for r in RULES.values()} <= set(Severity.values)
    assert set(TIERS) == set(RiskTier.values) == set(REVIEW_CADENCE_DAYS)
