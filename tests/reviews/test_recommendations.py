"""The recommendation and its reason, from plain facts (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reviews.recommendations import IdentityFacts, recommend

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def facts(**kwargs: object) -> IdentityFacts:
    values: dict[str, object] = {
        "kind": "iam_user",
        "last_used_at": NOW - timedelta(days=1),
        "created_at": NOW - timedelta(days=400),
    }
    values.update(kwargs)
    return IdentityFacts(**values)  # type: ignore[arg-type]


def test_unused_for_120_days_is_deprovision_with_the_days_in_the_reason() -> None:
    advice = recommend(facts(last_used_at=NOW - timedelta(days=120)), now=NOW)
    assert (advice.action, advice.reason) == ("deprovision", "not used for 120 days: deprovision")


def test_used_yesterday_with_a_young_key_is_keep_saying_both() -> None:
    advice = recommend(facts(oldest_key_age_days=30, active_keys=1), now=NOW)
    assert (advice.action, advice.reason) == ("keep", "used yesterday, key 30 days old: keep")


def test_never_used_and_old_is_deprovision_counted_from_creation() -> None:
    advice = recommend(facts(kind="iam_role", last_used_at=None), now=NOW)
    assert advice.action == "deprovision"
    assert advice.reason == "never used in the 400 days since it was created: deprovision"


def test_never_used_and_young_is_keep() -> None:
    advice = recommend(
        facts(kind="iam_role", last_used_at=None, created_at=NOW - timedelta(days=20)), now=NOW
    )
    assert (advice.action, advice.reason) == ("keep", "never used, created 20 days ago: keep")


def test_orphaned_identities_are_handed_over() -> None:
    assert recommend(facts(has_owner=False), now=NOW).action == "handover"
    left = recommend(facts(owner_active=False), now=NOW)
    assert left.action == "handover" and "owner left" in left.reason


def test_an_unused_orphan_is_deprovisioned_rather_than_handed_over() -> None:
    advice = recommend(facts(has_owner=False, last_used_at=NOW - timedelta(days=200)), now=NOW)
    assert advice.action == "deprovision"


def test_a_leaked_key_is_deprovision_even_when_used_today() -> None:
    advice = recommend(facts(last_used_at=NOW, findings=(("LEAK-001", "critical"),)), now=NOW)
    assert advice.action == "deprovision" and "code repository" in advice.reason


def test_critical_findings_idle_a_month_are_deprovision() -> None:
    advice = recommend(
        facts(last_used_at=NOW - timedelta(days=45), findings=(("PRIV-001", "critical"),)),
        now=NOW,
    )
    assert advice.action == "deprovision"
    assert advice.reason == "critical findings (PRIV-001) and not used for 45 days: deprovision"


def test_critical_findings_in_use_are_keep_with_the_fix_named() -> None:
    advice = recommend(facts(kind="iam_role", findings=(("PRIV-001", "critical"),)), now=NOW)
    assert advice.action == "keep"
    assert advice.reason == "used yesterday: keep only with a justification, and fix PRIV-001"


def test_an_old_key_in_use_is_keep_and_rotate() -> None:
    advice = recommend(facts(oldest_key_age_days=400, active_keys=2), now=NOW)
    assert advice.reason == "used yesterday, 2 keys, oldest 400 days old: keep, and rotate the key"


def test_instance_profiles_are_not_deprovisioned_for_lack_of_usage_data() -> None:
    advice = recommend(facts(kind="instance_profile", last_used_at=None), now=NOW)
    assert advice.action == "keep" and "no use" in advice.reason


def test_the_unused_threshold_is_a_parameter() -> None:
    used = facts(last_used_at=NOW - timedelta(days=50))
    assert recommend(used, now=NOW).action == "keep"
    assert recommend(used, now=NOW, unused_days=45).action == "deprovision"
